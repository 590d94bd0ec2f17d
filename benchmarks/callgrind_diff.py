#!/usr/bin/env python3
"""Per-function instruction counts of two callgrind files, side by side, largest differences
first (exclusive counts, per call):  benchmarks/callgrind_diff.py A.callgrind B.callgrind CALLS"""
import re
import subprocess
import sys


def functions(path):
    out = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", path],
                         capture_output=True, text=True, check=True).stdout
    counts = {}
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\([^)]*\)\s+(.*)$", line)
        if not m or "PROGRAM TOTALS" in line:
            continue
        name = re.sub(r"\s*\[[^\]]*\]$", "", m.group(2))
        name = re.sub(r"^\S*:(?=[^:])", "", name, count=1) if name.startswith(("???:", "./")) else name
        counts[name] = counts.get(name, 0) + int(m.group(1).replace(",", ""))
    return counts


a, b, calls = functions(sys.argv[1]), functions(sys.argv[2]), float(sys.argv[3])
rows = [(b.get(k, 0) - a.get(k, 0), k) for k in set(a) | set(b)]
rows.sort(key=lambda r: -abs(r[0]))
print(f"{'A/call':>10} {'B/call':>10} {'B-A':>9}  function")
for diff, k in rows[:int(sys.argv[4]) if len(sys.argv) > 4 else 25]:
    if diff == 0:
        continue
    print(f"{a.get(k, 0) / calls:10.1f} {b.get(k, 0) / calls:10.1f} {diff / calls:9.1f}  {k[:150]}")
print(f"{sum(a.values()) / calls:10.1f} {sum(b.values()) / calls:10.1f} {(sum(b.values()) - sum(a.values())) / calls:9.1f}  TOTAL")
