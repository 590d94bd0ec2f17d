#!/usr/bin/env bash
# Installs the Debian 12 packages a part of cpm needs, and nothing when they are present.
#   scripts/install-deps.sh GROUP...   GROUP: core | test | bench | ci
# core  : compiler, cmake and the library's own dependencies (enough for the examples)
# test  : core + Catch2 and what the test suite builds (cpm-db: CLI11, nlohmann-json)
# bench : core + Google Benchmark, SQLiteCpp, gnuplot, and PostgreSQL 15 with libpq and libpqxx
# ci    : test + clang (second compiler, sanitizers, libFuzzer)
set -euo pipefail

core=(g++ make cmake pkg-config libsqlite3-dev libboost1.81-dev libfmt-dev librange-v3-dev)
test=("${core[@]}" catch2 libcli11-dev nlohmann-json3-dev sqlite3 python3 golang-go golang-github-mattn-go-sqlite3-dev libpq-dev postgresql-15)
bench=("${core[@]}" libbenchmark-dev libsqlitecpp-dev gnuplot-nox python3 time libpq-dev libpqxx-dev postgresql-15)
ci=("${test[@]}" clang libclang-rt-14-dev python3)

wanted=()
for group in "${@:-core}"; do
  case "$group" in
    core) wanted+=("${core[@]}") ;;
    test) wanted+=("${test[@]}") ;;
    bench) wanted+=("${bench[@]}") ;;
    ci) wanted+=("${ci[@]}") ;;
    *) echo "install-deps: unknown group '$group' (core, test, bench, ci)" >&2; exit 2 ;;
  esac
done

missing=()
for pkg in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

# de-duplicate, keep order
readarray -t missing < <(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++')
echo "install-deps: installing ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive

# Another apt or dpkg (unattended-upgrades, a second install) may hold the package manager's
# lock: wait for it, up to lock_wait seconds, rather than fail at once with "Could not get
# lock". apt-get install waits by itself with DPkg::Lock::Timeout (apt >= 1.9.11) and says
# "Waiting for cache lock"; apt-get update takes the lists lock, which that option does not
# cover, so it is retried here while apt says the lock is held.
lock_wait=${INSTALL_DEPS_LOCK_WAIT:-600}
apt_get() {
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout="$lock_wait" "$@"
}
apt_get_update() {
  local waited=0 out
  while true; do
    if out=$(apt_get update -qq 2>&1); then
      [ -n "$out" ] && printf '%s\n' "$out" >&2
      return 0
    fi
    if ! grep -q 'Could not get lock' <<<"$out" || [ "$waited" -ge "$lock_wait" ]; then
      printf '%s\n' "$out" >&2
      return 1
    fi
    [ "$waited" -eq 0 ] && echo "install-deps: another package manager holds the lock; waiting up to ${lock_wait}s for it" >&2
    sleep 5
    waited=$((waited + 5))
  done
}
apt_get_update
apt_get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
