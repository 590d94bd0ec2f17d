#!/usr/bin/env python3
"""Summarises bench_pool's JSON output as the tables of docs/performance.md (many threads, one
database): throughput, CPU per operation, read and write latency, and the pool's targets.

    build/bench/benchmarks/bench_pool ... --benchmark_repetitions=3 \\
        --benchmark_out=pool.json --benchmark_out_format=json
    benchmarks/pool_report.py pool.json

Benchmark names are pool/<mix>/<impl>/threads:<n>; each cell is the median over repetitions
(Google Benchmark's "median" aggregate, or the median of the runs when there is none).
Python standard library only.
"""

import json
import statistics
import sys
from collections import defaultdict

MIXES = ["read100", "read95", "read50"]
IMPLS = ["pool", "pool_latest", "store_thread", "store_mutex", "raw_thread"]


def benchmarks(paths):
    """Every benchmark entry of the JSON files, with its name split at '/'."""
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        for b in data["benchmarks"]:
            yield b["name"].split("/"), b


def load(paths):
    runs = defaultdict(list)  # (mix, impl, threads) -> [counters]
    medians = {}
    for parts, b in benchmarks(paths):
        if len(parts) < 4 or parts[0] != "pool":
            continue
        threads = int(parts[3].split(":")[1])
        key = (parts[1], parts[2], threads)
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                medians[key] = b
        else:
            runs[key].append(b)
    cells = {}
    for key in set(runs) | set(medians):
        if key in medians:
            cells[key] = medians[key]
        else:
            rs = runs[key]
            cells[key] = {c: statistics.median(r[c] for r in rs) for c in rs[0] if isinstance(rs[0][c], (int, float))}
    return cells


def load_checkouts(paths):
    """pool_checkout/<read|read_latest>/real_time/threads:<n> -> median ns per checkout in each thread."""
    times = defaultdict(list)
    medians = {}
    for parts, b in benchmarks(paths):
        if parts[0] != "pool_checkout" or not parts[-1].startswith("threads:"):
            continue
        threads = int(parts[-1].split(":")[1].split("_")[0])  # "threads:2", or "threads:2_median"
        key = (parts[1], threads)
        # Google Benchmark's real time of a threaded run is wall time over every thread's
        # iterations: times the threads, the time each thread spends per checkout.
        ns = b["real_time"] * threads * {"ns": 1, "us": 1e3, "ms": 1e6}[b.get("time_unit", "ns")]
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                medians[key] = ns
        else:
            times[key].append(ns)
    return {k: medians.get(k, statistics.median(times[k]) if times[k] else 0) for k in set(times) | set(medians)}


def table(cells, title, value, mixes, impls, threads):
    print(f"\n{title}\n")
    print("| mix, variant | " + " | ".join(f"{t} thread{'s' if t > 1 else ''}" for t in threads) + " |")
    print("|---|" + "---:|" * len(threads))
    for mix in mixes:
        for impl in impls:
            row = [value(cells[(mix, impl, t)]) if (mix, impl, t) in cells else "" for t in threads]
            if any(row):
                print(f"| {mix} `{impl}` | " + " | ".join(row) + " |")


def report_mixes(cells):
    threads = sorted({k[2] for k in cells})
    mixes = [m for m in MIXES if any(k[0] == m for k in cells)]
    impls = [i for i in IMPLS if any(k[1] == i for k in cells)]
    table(cells, "Throughput, thousands of operations per second:", lambda c: f"{c['ops_per_s'] / 1000:.0f}", mixes, impls,
          threads)
    table(cells, "CPU time of the benchmark's threads per operation, µs:", lambda c: f"{c['cpu_us_per_op']:.2f}", mixes,
          impls, threads)
    table(cells, "Latency of a point read, p50 / p99 in µs:",
          lambda c: f"{c['read_p50_us']:.1f} / {c['read_p99_us']:.0f}" if "read_p50_us" in c else "", mixes, impls, threads)
    table(cells, "Latency of a write, p50 in µs / p99 in ms:",
          lambda c: f"{c['write_p50_us']:.0f} / {c['write_p99_us'] / 1000:.1f}" if "write_p50_us" in c else "",
          [m for m in mixes if m != "read100"], impls, threads)

    def ratios(mix, impl, base):
        out = []
        for t in threads:
            a, b = cells.get((mix, impl, t)), cells.get((mix, base, t))
            out.append(f"{a['ops_per_s'] / b['ops_per_s']:.2f}" if a and b else "-")
        return ", ".join(out)

    print("\nThroughput ratios, threads " + ", ".join(map(str, threads)) + ":\n")
    for mix in mixes:
        for impl in ("pool", "pool_latest"):
            if (mix, impl, threads[0]) in cells:
                print(f"- {mix} `{impl}` / `store_thread`: {ratios(mix, impl, 'store_thread')}; "
                      f"/ `raw_thread`: {ratios(mix, impl, 'raw_thread')}")
    worst = []
    for t in threads:
        c = cells.get(("read50", "pool", t))
        if c and "read_p50_us" in c:
            worst.append(f"{c['read_p99_us'] / c['read_p50_us']:.1f}")
    print("\nread50 `pool`: point-read p99 / p50, threads " + ", ".join(map(str, threads)) + ": " + ", ".join(worst))


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cells = load(sys.argv[1:])
    if cells:
        report_mixes(cells)
    checkouts = load_checkouts(sys.argv[1:])
    if checkouts:
        print("\nA checkout and its give-back alone (pool_checkout), ns per checkout per thread, median:\n")
        for (kind, t), ns in sorted(checkouts.items()):
            print(f"- `{kind}()`, {t} thread{'s' if t > 1 else ''}: {ns:.0f}")
    errors = sum(c.get("errors", 0) for c in cells.values())
    busy = sum(c.get("busy", 0) for c in cells.values())
    print(f"\nerrors: {errors:g}, busy: {busy:g} (over every median cell)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
