#!/usr/bin/env python3
"""Mangled symbol names of programs built with cpm: the longest, their total and their count.

    scripts/check-symbols.py [--nm=nm] [--max-length=N] BINARY...

Prints one line per binary. With --max-length, exits 1 when a binary has a symbol (its
mangled name, as `nm` prints it without -C) longer than N characters, and prints the first
300 characters of each such name. Symbols of the entities of other libraries (those whose
outermost scope is namespace std, ranges, boost, fmt or Catch: range-v3's adaptor
pipelines nest the types of every view they compose) are counted and reported, not bounded. cpm keys compile-time SQL by the constant that holds it,
not by its characters, so that no statement's text is mangled into symbol names; the test
cpm.symbols.length runs this on the test programs with --max-length=512
(docs/performance.md#compile-time).
"""
import argparse
import re
import subprocess
import sys


# Mangled prefixes of the entities of other libraries: N<len>name (nested), K (const member),
# Z (local entity), GVZ (guard variable of a local static), TV/TI/TS (vtable, typeinfo).
THIRD_PARTY = re.compile(r"^_Z(?:GV|T[VIS])?(?:Z)?(?:N[KVr]*)?(?:St|6ranges|5boost|3fmt|5Catch)")


def symbols(nm, binary):
    out = subprocess.run([nm, binary], check=True, capture_output=True, text=True).stdout
    names = []
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 2:  # "[address] type name"
            names.append(fields[-1])
    return names


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nm", default="nm")
    parser.add_argument("--max-length", type=int)
    parser.add_argument("binaries", nargs="+")
    args = parser.parse_args()
    failed = False
    for binary in args.binaries:
        names = symbols(args.nm, binary)
        if not names:
            print(f"{binary}: no symbols (stripped?)", file=sys.stderr)
            failed = True
            continue
        longest = max(names, key=len)
        own = [n for n in names if not THIRD_PARTY.match(n)]
        longest_own = max(own, key=len) if own else ""
        print(f"{binary}: longest {len(longest)} (outside std, range-v3, Boost, fmt, Catch: {len(longest_own)}), "
              f"total {sum(map(len, names))} bytes of names, {len(names)} symbols")
        if args.max_length is not None:
            over = sorted({n for n in own if len(n) > args.max_length}, key=len, reverse=True)
            for name in over[:10]:
                print(f"  over {args.max_length}: {len(name)} {name[:300]}...", file=sys.stderr)
            if over:
                print(f"{binary}: {len(over)} symbol(s) longer than {args.max_length} characters", file=sys.stderr)
                failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
