#!/usr/bin/env python3
"""The tables of docs/performance.md#postgresql from a bench_pg JSON file.

    benchmarks/pg_report.py build/bench/results/pg.json

Per workload: the median wall-clock time per call of cpm, raw libpq and libpqxx (aggregates of
--benchmark_repetitions), and the ratios cpm/raw and cpm/libpqxx; then the bulk inserts.
"""
import json
import sys


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        data = json.load(f)
    medians = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        name = b["run_name"].removesuffix("/real_time")
        parts = name.split("/")  # pg/<workload>/<impl>
        unit = {"ns": 1e-3, "us": 1.0, "ms": 1e3}[b["time_unit"]]
        medians[(parts[1], parts[2])] = b["real_time"] * unit  # microseconds
    workloads = [w for w in ["user_by_id", "user_by_name", "org_repositories", "user_repositories", "access_level"]
                 if (w, "cpm") in medians]
    print("| workload | cpm | raw libpq | libpqxx | cpm / raw | cpm / libpqxx |")
    print("|---|---:|---:|---:|---:|---:|")
    for w in workloads:
        c, r, p = medians[(w, "cpm")], medians[(w, "raw")], medians[(w, "pqxx")]
        print(f"| {w} | {c:.1f} µs | {r:.1f} µs | {p:.1f} µs | {c / r:.2f} | {c / p:.2f} |")
    inserts = [i for i in ["cpm_pipeline", "cpm_rows", "raw_pipeline", "raw_rows"] if ("insert_1000", i) in medians]
    if inserts:
        print()
        print("| 1,000 inserts in one transaction | time | rows/s |")
        print("|---|---:|---:|")
        for i in inserts:
            t = medians[("insert_1000", i)]
            print(f"| {i} | {t / 1000:.2f} ms | {1000 / (t / 1e6):,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
