#!/usr/bin/env bash
# Instructions per call of each workload, per implementation, counted by callgrind: a measure
# of the library's own CPU work that the noise of a shared machine cannot disturb.
#   benchmarks/profile.sh [--hot] [--scale=10k] [--calls=N] [--generic] [--pool] [workload ...]
# --generic adds cpm_generic (cpm::find_one / cpm::all / query(...).first() instead of the
# store's methods) for the workloads it has.
# --pool adds the same store operation through a cpm::pool (one thread): each call a
# pool.read_latest() checkout (cpm_pool) and a pool.read() checkout (cpm_pool_snapshot), with
# the ratio to cpm on a connection of its own.
# Needs build/bench (scripts/bench.sh --quick builds it) and valgrind.
# Prints, per workload: instructions per call of raw, cpm, SQLiteCpp and the ratios to raw.
# The callgrind files stay in build/bench/profile/ (callgrind_annotate them for the functions).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/bench/benchmarks/bench_profile
[ -x "$bin" ] || { echo "profile.sh: build $bin first (scripts/bench.sh --build-only)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "profile.sh: needs valgrind (apt-get install valgrind)" >&2; exit 1; }

hot=() ; scale=10k ; calls=2000 ; workloads=() ; generic=0 ; pool=0
for arg in "$@"; do
  case "$arg" in
    --hot) hot=(--hot) ;;
    --scale=*) scale=${arg#--scale=} ;;
    --calls=*) calls=${arg#--calls=} ;;
    --generic) generic=1 ;;
    --pool) pool=1 ;;
    *) workloads+=("$arg") ;;
  esac
done
[ ${#workloads[@]} -gt 0 ] || workloads=(user_by_username user_by_id user_by_public_key user_by_fingerprint
  repository_by_path access_level
  user_by_username_snapshot32 user_by_id_snapshot32 org_repositories user_repositories org_members
  neighbor_servers all_users insert_10k_users)

out=build/bench/profile
mkdir -p "$out"
tag=$([ ${#hot[@]} -gt 0 ] && echo hot || echo default)
printf '%-28s %14s %14s %14s %9s %9s\n' "workload ($tag, $scale)" raw cpm sqlitecpp cpm/raw cpp/raw
# Instructions per call of workload $w through implementation $1, $n calls.
per_call() {
  local file="$out/$w.$tag.$scale.$1.callgrind" total
  valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$file" \
    "$bin" --workload="$w" --impl="$1" --calls="$n" --scale="$scale" "${hot[@]}" >/dev/null 2>"$file.log"
  total=$(awk '/^(summary|totals):/ {print $2; exit}' "$file")
  echo $((total / n))
}
for w in "${workloads[@]}"; do
  n=$calls
  case "$w" in all_users) n=20 ;; insert_10k_users) n=3 ;; org_members|user_repositories) n=$((calls / 4)) ;; esac
  declare -A ir=()
  for impl in raw cpm sqlitecpp; do ir[$impl]=$(per_call "$impl"); done
  awk -v w="$w" -v r="${ir[raw]}" -v c="${ir[cpm]}" -v s="${ir[sqlitecpp]}" \
    'BEGIN { printf "%-28s %14d %14d %14d %8.3fx %8.3fx\n", w, r, c, s, c / r, s / r }'
  if [ "$pool" = 1 ] && [ "$w" != insert_10k_users ]; then
    for impl in cpm_pool cpm_pool_snapshot; do
      awk -v w="$w" -v c="${ir[cpm]}" -v p="$(per_call "$impl")" -v i="$impl" \
        'BEGIN { printf "  %-26s %14s %14d %14s %8.3fx   (%s, ÷ cpm)\n", w, "", p, "", p / c, i }'
    done
  fi
  case "$w" in user_by_username|user_by_public_key|access_level|all_users) ;; *) continue ;; esac
  [ "$generic" = 1 ] || continue
  awk -v w="$w" -v r="${ir[raw]}" -v g="$(per_call cpm_generic)" \
    'BEGIN { printf "  %-26s %14s %14d %14s %8.3fx   (cpm_generic)\n", w, "", g, "", g / r }'
done
