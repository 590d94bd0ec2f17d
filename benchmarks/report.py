#!/usr/bin/env python3
"""Summarises bench_lookups' JSON output: medians, ratios to raw sqlite3, the index tables,
the targets, and the data (and gnuplot run) for the plots.

    benchmarks/report.py RESULTS.json [MORE.json ...] [--metric real|cpu] [--markdown OUT.md]
                         [--plot-dir DIR --img-dir docs/img]

Benchmark names are <set>/<workload>/<variant>/<scale> (see bench_lookups.cpp). Times are
the median over repetitions (Google Benchmark's "median" aggregate; the median of the
iterations' runs when there is no aggregate), per call; workloads with a "batch" counter
(lookups inside one read snapshot) are also shown per lookup. Python standard library only.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections import defaultdict

UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}

POINT = ["user_by_username", "user_by_id", "user_by_public_key", "user_by_fingerprint", "repository_by_path", "access_level",
         "user_by_username_snapshot32", "user_by_id_snapshot32"]
RANGES = ["org_repositories", "user_repositories", "org_members", "neighbor_servers"]
BULK = ["all_users"]
LIB_ORDER = POINT + RANGES + BULK

# index -> the table whose inserts maintain it (the "writes" set)
INDEX_TABLE = {
    "idx_org_members_user_id": "org_members",
    "idx_users_public_key": "users",
    "idx_repositories_org_id": "repositories",
    "idx_repo_access_user_id": "repo_access",
    "idx_repo_access_repo_id": "repo_access",
    "idx_repositories_path": "repositories",
    "unique_user_keys_fingerprint": "user_keys",
    "unique_user_keys_public_key": "user_keys",
}

# index -> workloads it can change (as bench_lookups registers them)
INDEX_WORKLOADS = {
    "idx_org_members_user_id": ["user_repositories", "access_level"],
    "idx_users_public_key": ["user_by_public_key"],
    "idx_repositories_org_id": ["org_repositories", "user_repositories"],
    "idx_repo_access_user_id": ["user_repositories"],
    "idx_repo_access_repo_id": ["repository_grants", "access_level"],
    "idx_servers_is_neighbor": ["neighbor_servers"],
    "idx_repositories_path": ["repository_by_path"],
    "unique_user_keys_fingerprint": ["user_by_fingerprint"],
    "unique_user_keys_public_key": ["user_by_public_key"],
}


def scale_users(name):
    name = name.lower()
    if name.endswith("k"):
        return int(name[:-1]) * 1000
    if name.endswith("m"):
        return int(name[:-1]) * 1000000
    return int(name)


def fmt_ns(ns):
    if ns is None:
        return "—"
    if ns >= 1e9:
        return f"{ns / 1e9:,.2f} s"
    if ns >= 1e6:
        return f"{ns / 1e6:,.2f} ms"
    if ns >= 1e4:
        return f"{ns / 1e3:,.1f} µs"
    return f"{ns:,.0f} ns"


def fmt_ratio(r):
    return "—" if r is None else f"{r:.2f}×"


class Results:
    def __init__(self, files, metric):
        self.metric = metric
        self.files = files
        key = "real_time" if metric == "real" else "cpu_time"
        runs = defaultdict(list)      # name -> per-repetition times (ns)
        medians = {}                  # name -> median aggregate (ns)
        cvs = {}
        self.batch = {}
        self.context = {}
        for path in files:
            with open(path) as f:
                data = json.load(f)
            self.context.update(data.get("context", {}))
            for b in data.get("benchmarks", []):
                name = b.get("run_name", b["name"])
                name = "/".join(name.split("/")[:4])  # drop "/iterations:1/repeats:1" and the like
                unit = UNIT_NS[b.get("time_unit", "ns")]
                if "batch" in b:
                    self.batch[name] = b["batch"]
                if b.get("run_type") == "aggregate":
                    if b.get("aggregate_name") == "median":
                        medians[name] = b[key] * unit
                    elif b.get("aggregate_name") == "cv":
                        cvs[name] = b[key]  # a fraction, unitless
                elif not b.get("error_occurred"):
                    runs[name].append(b[key] * unit)
        self.time = {}
        self.cv = {}
        self.reps = {}
        for name in set(runs) | set(medians):
            self.time[name] = medians.get(name, statistics.median(runs[name]) if runs[name] else None)
            self.reps[name] = len(runs[name])
            if name in cvs:
                self.cv[name] = cvs[name]
            elif len(runs[name]) > 1:
                self.cv[name] = statistics.stdev(runs[name]) / statistics.mean(runs[name])

    def get(self, set_, workload, variant, scale):
        return self.time.get(f"{set_}/{workload}/{variant}/{scale}")

    def other(self):
        """The same results under the other metric (real <-> cpu), for a cross-check column."""
        if not hasattr(self, "_other"):
            self._other = Results(self.files, "cpu" if self.metric == "real" else "real")
        return self._other

    def names(self):
        return sorted(self.time)

    def scales(self, set_):
        found = {n.split("/")[3] for n in self.time if n.startswith(set_ + "/")}
        return sorted(found, key=scale_users)

    def cv_of(self, set_, workload, variant, scale):
        return self.cv.get(f"{set_}/{workload}/{variant}/{scale}")


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def md_table(header, rows, align=None):
    out = ["| " + " | ".join(header) + " |"]
    align = align or ["---"] + ["---:"] * (len(header) - 1)
    out.append("|" + "|".join(align) + "|")
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def lib_section(res, set_, lines, targets):
    for scale in res.scales(set_):
        lines.append(f"\n### {set_} configuration, {scale} users\n")
        rows = []
        for w in LIB_ORDER:
            raw = res.get(set_, w, "raw", scale)
            if raw is None:
                continue
            cpm = res.get(set_, w, "cpm", scale)
            cpp = res.get(set_, w, "sqlitecpp", scale)
            batch = res.batch.get(f"{set_}/{w}/raw/{scale}")
            label = w if not batch else f"{w} (per lookup)"
            div = batch or 1
            cvs = [res.cv_of(set_, w, v, scale) for v in ("raw", "cpm", "sqlitecpp")]
            cv = max((c for c in cvs if c is not None), default=None)
            o = res.other()
            cross = ratio(o.get(set_, w, "cpm", scale), o.get(set_, w, "raw", scale))
            rows.append([label, fmt_ns(raw / div), fmt_ns(cpm / div if cpm else None), fmt_ns(cpp / div if cpp else None),
                         f"**{fmt_ratio(ratio(cpm, raw))}**", fmt_ratio(ratio(cpp, raw)), fmt_ratio(cross),
                         "—" if cv is None else f"{cv * 100:.0f}%"])
            if set_ == "hot":
                limit = 1.05 if w in POINT + RANGES else 1.10
                targets.append((f"hot {w} cpm/raw ≤ {limit:.2f}", ratio(cpm, raw), lambda r, l=limit: r is not None and r <= l,
                                fmt_ratio(ratio(cpm, raw))))
            targets.append((f"{set_} {w}: cpm faster than SQLiteCpp", ratio(cpm, cpp), lambda r: r is not None and r < 1.0,
                            f"cpm/SQLiteCpp {fmt_ratio(ratio(cpm, cpp))}"))
        other_name = "real" if res.metric == "cpu" else "CPU"
        lines.append(md_table(["workload", "raw sqlite3", "cpm", "SQLiteCpp", "cpm / raw", "SQLiteCpp / raw",
                               f"cpm / raw ({other_name} time)", "max CV"], rows))

        extra = []
        for name in res.names():
            parts = name.split("/")
            if parts[0] != set_ or parts[3] != scale or parts[2] in ("raw", "cpm", "sqlitecpp"):
                continue
            w, impl = parts[1], parts[2]
            t = res.time[name]
            batch = res.batch.get(name) or 1
            base = "raw_serialized" if impl == "cpm_serialized" else "raw"
            ref_label = "raw (FULLMUTEX)" if base == "raw_serialized" else "raw"
            extra.append([w, impl, fmt_ns(t / batch), fmt_ratio(ratio(t, res.get(set_, w, base, scale))) + f" of {ref_label}",
                          fmt_ratio(ratio(t, res.get(set_, w, "cpm", scale))) + " of cpm"])
        if extra:
            lines.append("\nOther variants (cpm_generic: cpm::find_one / cpm::all instead of the store's methods; "
                         "*_serialized: SQLITE_OPEN_FULLMUTEX):\n")
            lines.append(md_table(["workload", "variant", "time", "ratio", "ratio to cpm (NOMUTEX)"], extra))

        snap = []
        for w, single in (("user_by_username_snapshot32", "user_by_username"), ("user_by_id_snapshot32", "user_by_id")):
            for impl in ("raw", "cpm", "sqlitecpp", "cpm_serialized", "raw_serialized"):
                t = res.get(set_, w, impl, scale)
                s = res.get(set_, single, impl, scale)
                b = res.batch.get(f"{set_}/{w}/{impl}/{scale}") or 32
                if t is None or s is None:
                    continue
                snap.append([single, impl, fmt_ns(s), fmt_ns(t / b), fmt_ratio(ratio(t / b, s))])
        if snap:
            lines.append(f"\nPoint lookups one by one (autocommit) against {32} per read snapshot "
                         "(cpm::read_snapshot; raw BEGIN/COMMIT; SQLite::Transaction):\n")
            lines.append(md_table(["lookup", "variant", "autocommit", "in a snapshot, per lookup", "snapshot / autocommit"], snap))


def memory_section(res, lines, targets):
    rows = []
    raw = res.get("memory", "insert_10k_users", "raw", "10k")
    if raw is None:
        return
    for impl in ("raw", "cpm", "sqlitecpp", "cpm_validated"):
        t = res.get("memory", "insert_10k_users", impl, "10k")
        if t is None:
            continue
        rows.append([impl, fmt_ns(t), fmt_ns(t / 10000), fmt_ratio(ratio(t, raw))])
    lines.append("\n### Insert 10,000 users in one transaction (in-memory database, cpm's schema)\n")
    lines.append(md_table(["variant", "per 10k batch", "per row", "ratio to raw"], rows))
    cpm = res.get("memory", "insert_10k_users", "cpm", "10k")
    cpp = res.get("memory", "insert_10k_users", "sqlitecpp", "10k")
    targets.append(("insert_10k_users cpm/raw ≤ 1.10", ratio(cpm, raw), lambda r: r is not None and r <= 1.10, fmt_ratio(ratio(cpm, raw))))
    targets.append(("insert_10k_users: cpm faster than SQLiteCpp", ratio(cpm, cpp), lambda r: r is not None and r < 1.0,
                    f"cpm/SQLiteCpp {fmt_ratio(ratio(cpm, cpp))}"))


def index_section(res, lines, targets, plot_dir):
    scales = res.scales("index")
    if not scales:
        return []
    lines.append("\n### Lookups by scale (cpm, default configuration, the schema as cpm ships it)\n")
    workloads = ["user_by_username", "user_by_id", "user_by_public_key", "user_by_fingerprint", "repository_by_path",
                 "access_level", "org_repositories",
                 "user_repositories", "org_members", "neighbor_servers", "repository_grants", "user_repositories_seed_sql"]
    rows = []
    for w in workloads:
        cells = [res.get("index", w, "shipped", s) for s in scales]
        if all(c is None for c in cells):
            continue
        rows.append([w] + [fmt_ns(c) for c in cells])
    lines.append(md_table(["workload"] + [f"{s} users" for s in scales], rows))

    small, big = scales[0], scales[-1]
    a = res.get("index", "user_by_username", "shipped", small)
    b = res.get("index", "user_by_username", "shipped", big)
    if a and b and small != big:
        targets.append((f"user_by_username at {big} within 2× of {small} (default)", ratio(b, a),
                        lambda r: r is not None and r <= 2.0, fmt_ratio(ratio(b, a))))
    for s in scales:
        if scale_users(s) == 100000:
            t = res.get("index", "user_repositories", "shipped", s) or res.get("default", "user_repositories", "cpm", s)
            targets.append(("user_repositories at 100k users < 1 ms (default)", t, lambda v: v is not None and v < 1e6, fmt_ns(t)))

    # seed SQL against cpm's UNION
    rows = []
    for s in scales:
        seed = res.get("index", "user_repositories_seed_sql", "shipped", s)
        ours = res.get("index", "user_repositories", "shipped", s)
        if seed is None:
            continue
        rows.append([f"{s} users", fmt_ns(seed), fmt_ns(ours), fmt_ratio(ratio(seed, ours))])
    if rows:
        lines.append("\n### The original GetUserRepositories SQL against cpm's UNION form (cpm, default configuration)\n")
        lines.append(md_table(["scale", "seed SQL", "cpm user_repositories", "seed / cpm"], rows))

    # one table per index
    panels = []
    lines.append("\n### Index by index (cpm, default configuration): the affected lookups with and without each index\n")
    for index, wls in INDEX_WORKLOADS.items():
        variant = None
        for name in res.names():
            parts = name.split("/")
            if parts[0] == "index" and parts[2] in ("-" + index, "+" + index):
                variant = parts[2]
                break
        if variant is None:
            continue
        shipped_has = variant.startswith("-")
        rows = []
        for w in wls:
            series = []
            for s in scales:
                base = res.get("index", w, "shipped", s)
                other = res.get("index", w, variant, s)
                if base is None or other is None:
                    continue
                with_, without = (base, other) if shipped_has else (other, base)
                rows.append([w, f"{s}", fmt_ns(with_), fmt_ns(without), fmt_ratio(ratio(without, with_))])
                series.append((scale_users(s), with_, without))
            if series:
                panels.append((f"{w}, {index}", series, f"{w}__{index}"))
        table = INDEX_TABLE.get(index)
        if table:
            base = res.get("writes", f"insert_10k_{table}", "shipped", "10k")
            other = res.get("writes", f"insert_10k_{table}", variant, "10k")
            if base is not None and other is not None:
                with_, without = (base, other) if shipped_has else (other, base)
                rows.append([f"insert 10,000 {table} rows (one transaction, in memory)", "—", fmt_ns(with_), fmt_ns(without),
                             fmt_ratio(ratio(without, with_))])
        if index.startswith("unique_"):
            lines.append(f"\n**{index}** (a UNIQUE constraint of cpm's schema, whose automatic index cannot be "
                         f"dropped; the variant `{variant}` rebuilds the table without it):\n")
        else:
            state = "cpm ships it" if shipped_has else "cpm does not ship it"
            lines.append(f"\n**{index}** ({state}; the shipped schema {'with' if shipped_has else 'without'} it, "
                         f"the variant `{variant}`):\n")
        lines.append(md_table(["workload", "users", "with the index", "without it", "without / with"], rows))

    if plot_dir:
        os.makedirs(plot_dir, exist_ok=True)
        for title, series, stem in panels:
            with open(os.path.join(plot_dir, stem + ".dat"), "w") as f:
                f.write(f"# {title}\n# users with_us without_us\n")
                for users, with_, without in series:
                    f.write(f"{users} {with_ / 1e3:.4f} {without / 1e3:.4f}\n")
        seed_rows = []
        for s in scales:
            seed = res.get("index", "user_repositories_seed_sql", "shipped", s)
            ours = res.get("index", "user_repositories", "shipped", s)
            if ours is not None:
                seed_rows.append((scale_users(s), ours, seed))
        if seed_rows:
            with open(os.path.join(plot_dir, "seed.dat"), "w") as f:
                f.write("# users cpm_union_us seed_sql_us\n")
                for users, ours, seed in seed_rows:
                    f.write(f"{users} {ours / 1e3:.4f} {(seed / 1e3) if seed else float('nan'):.4f}\n")
    return panels


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json", nargs="+")
    ap.add_argument("--metric", choices=["real", "cpu"], default="cpu",
                    help="cpu (default): the thread's CPU time, steadier on a shared machine; real: wall clock")
    ap.add_argument("--markdown", help="also write the report to this file")
    ap.add_argument("--plot-dir", help="write the plot data here and run gnuplot")
    ap.add_argument("--img-dir", default="docs/img", help="where the PNG plots go (with --plot-dir)")
    args = ap.parse_args()

    res = Results(args.json, args.metric)
    lines = [f"Times: median over repetitions of {'CPU' if args.metric == 'cpu' else 'real'} time per call. "
             f"Ratios: median of the variant / median of raw sqlite3 in the same run. "
             f"Max CV: the largest coefficient of variation of the three variants' repetitions."]
    targets = []
    for set_ in ("hot", "default"):
        lib_section(res, set_, lines, targets)
    memory_section(res, lines, targets)
    panels = index_section(res, lines, targets, args.plot_dir)

    lines.append("\n### Targets\n")
    rows = []
    for label, value, ok, shown in targets:
        rows.append([label, shown, "met" if ok(value) else "**missed**"])
    lines.append(md_table(["target", "measured", ""], rows, ["---", "---:", "---"]))

    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)

    if args.plot_dir and panels:
        here = os.path.dirname(os.path.abspath(__file__))
        os.makedirs(args.img_dir, exist_ok=True)
        stems = " ".join(stem for _, _, stem in panels)
        users = [u for _, series, _ in panels for u, _, _ in series]
        xmin, xmax = min(users) / 2, max(users) * 2
        cmd = ["gnuplot", "-e", f"datadir='{args.plot_dir}'; outdir='{args.img_dir}'; panels='{stems}'; xmin={xmin}; xmax={xmax}",
               os.path.join(here, "plot.gp")]
        subprocess.run(cmd, check=True)
        print(f"plots: {args.img_dir}/index-scaling.png, {args.img_dir}/user-repositories-seed.png", file=sys.stderr)


if __name__ == "__main__":
    main()
