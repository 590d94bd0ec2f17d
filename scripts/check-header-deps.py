#!/usr/bin/env python3
"""The layer headers stand alone: what each one includes, by the compiler's own account (-M).

    scripts/check-header-deps.py --cxx=g++ [--include-dirs=DIR:DIR...]

Each public umbrella header is preprocessed alone (`CXX -std=c++20 -M`) and the headers it
pulls in, directly or not, are matched against the rules below; exits 1 on the first header
that includes what its layer must not. A control checks that the list is read at all:
<cpm/cpm.hpp> must be found to include the store and the POSIX headers that the rules forbid
elsewhere. (unistd.h is not in the rules: libstdc++'s <memory> includes it itself.)
"""
import argparse
import re
import subprocess
import sys

POSIX_NET = [r"/sys/socket\.h$", r"/netinet/", r"/arpa/", r"/netdb\.h$"]
POSIX_FS = [r"/sys/stat\.h$", r"/fcntl\.h$", r"/dirent\.h$", r"/c\+\+/[^/]+/filesystem$", r"/bits/fs_"]
RANGE_V3 = [r"/range/v3/"]

# header: (forbidden patterns, why)
RULES = {
    "cpm/sqlite.hpp": (POSIX_NET + POSIX_FS + RANGE_V3, "the sqlite layer: no POSIX networking or file system, no range-v3"),
    "cpm/query.hpp": (POSIX_NET + POSIX_FS + RANGE_V3 + [r"/cpm/store/", r"/cpm/sqlite/backup\.hpp$", r"/cpm/schema/migration\.hpp$"],
                      "the query layer: no store, backup or migrations"),
    "cpm/reflect.hpp": (POSIX_NET + POSIX_FS + RANGE_V3 + [r"/cpm/store/", r"/cpm/sqlite/backup\.hpp$"], "models alone"),
    "cpm/schema.hpp": (POSIX_NET + POSIX_FS + RANGE_V3 + [r"/cpm/store/", r"/cpm/sqlite/backup\.hpp$"], "schema: no store, no backup"),
    "cpm/cpm.hpp": (RANGE_V3, "range-v3 is opt-in (<cpm/ranges_v3.hpp>)"),
}
# The control: what <cpm/cpm.hpp> does include, so that an empty dependency list cannot pass.
CONTROL = ("cpm/cpm.hpp", [r"/cpm/store/store\.hpp$", r"/cpm/sqlite/backup\.hpp$", r"/sys/stat\.h$", r"/sqlite3\.h$"])


def dependencies(cxx, include_dirs, header):
    cmd = [cxx, "-std=c++20", "-M", "-x", "c++", "-"] + [f"-I{d}" for d in include_dirs]
    out = subprocess.run(cmd, input=f"#include <{header}>\n", check=True, capture_output=True, text=True).stdout
    return [p for p in out.replace("\\\n", " ").split()[1:] if p != "-"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cxx", default="g++")
    parser.add_argument("--include-dirs", default="include")
    args = parser.parse_args()
    dirs = [d for d in re.split(r"[:;]", args.include_dirs) if d]
    failed = False
    header, needed = CONTROL
    deps = dependencies(args.cxx, dirs, header)
    for pattern in needed:
        if not any(re.search(pattern, d) for d in deps):
            print(f"control failed: <{header}> should include a header matching {pattern}; the dependency list is not read right", file=sys.stderr)
            failed = True
    for header, (forbidden, why) in RULES.items():
        deps = dependencies(args.cxx, dirs, header)
        bad = sorted({d for d in deps for p in forbidden if re.search(p, d)})
        status = "ok" if not bad else "FAIL"
        print(f"{status}  <{header}>: {len(deps)} headers ({why})")
        for d in bad:
            print(f"      includes {d}", file=sys.stderr)
        failed = failed or bool(bad)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
