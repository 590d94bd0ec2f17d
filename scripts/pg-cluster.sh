#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for cpm's tests, from Debian's postgresql-15 binaries.
#
#   scripts/pg-cluster.sh start DIR   initdb into DIR, start the server, print its libpq
#                                     connection string on stdout (also written to DIR/conninfo)
#   scripts/pg-cluster.sh stop DIR    stop the server and remove DIR
#
# The server listens on a Unix socket in DIR and on 127.0.0.1, on a free port; trust
# authentication for local connections only (the socket and 127.0.0.1); fsync off (the data is
# thrown away). As root, the server runs as the system user cpm-pg (created on first use, no
# login, no home); otherwise as the calling user. The superuser of the cluster is "cpm".
# DIR must not exist, or be empty, or hold an earlier cluster of this script (which `start`
# stops and replaces); as root, every directory above DIR must be searchable by cpm-pg (a DIR
# under /tmp is).
set -euo pipefail

bin=/usr/lib/postgresql/15/bin
marker=.cpm-pg-cluster
cluster_user=cpm-pg

usage() {
  echo "usage: $0 start DIR | stop DIR" >&2
  exit 2
}
die() {
  echo "pg-cluster: $*" >&2
  exit 1
}

[ $# -eq 2 ] || usage
command=$1
dir=$2
[ -n "$dir" ] || usage
case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac

# Runs a command as the user the server runs as.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$cluster_user" -- "$@"
  else
    "$@"
  fi
}

stop_cluster() {
  if [ ! -e "$dir" ]; then
    echo "pg-cluster: $dir does not exist; nothing to stop" >&2
    return 0
  fi
  [ -e "$dir/$marker" ] || die "$dir holds no cluster of this script (no $marker); not touching it"
  if [ -f "$dir/data/postmaster.pid" ]; then
    # -m fast: end the sessions, no checkpoint wait worth having for data thrown away.
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
      as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 ||
      echo "pg-cluster: pg_ctl stop failed (see $dir/log); removing $dir anyway" >&2
  fi
  rm -rf "$dir"
}

# True when something answers on 127.0.0.1:$1.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start_cluster() {
  [ -x "$bin/initdb" ] || die "$bin/initdb not found: install Debian's postgresql-15 (scripts/install-deps.sh test)"
  if [ -e "$dir/$marker" ]; then
    echo "pg-cluster: $dir holds an earlier cluster; stopping and replacing it" >&2
    stop_cluster
  elif [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
    die "$dir exists and is not empty; give a new or empty directory"
  fi

  if [ "$(id -u)" -eq 0 ]; then
    if ! id -u "$cluster_user" >/dev/null 2>&1; then
      useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$cluster_user" ||
        die "cannot create the system user $cluster_user"
    fi
  fi

  mkdir -p "$dir"
  touch "$dir/$marker"
  chmod 755 "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    chown "$cluster_user:" "$dir"
    as_owner test -w "$dir" ||
      die "the user $cluster_user cannot write to $dir (a directory above it is not searchable by others); use a DIR under /tmp"
  fi

  as_owner "$bin/initdb" -D "$dir/data" --username=cpm --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
    --no-sync >"$dir/initdb.log" 2>&1 || die "initdb failed: $(tail -n 20 "$dir/initdb.log")"

  # Local connections only: the socket, and 127.0.0.1 (listen_addresses below).
  as_owner tee "$dir/data/pg_hba.conf" >/dev/null <<EOF
local all all trust
host  all all 127.0.0.1/32 trust
EOF

  local tries=0 port
  while :; do
    tries=$((tries + 1))
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    port_in_use "$port" && continue
    # Settings on the command line (-o), so that a retry on another port rewrites nothing.
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
      -o "-c port=$port -c listen_addresses=127.0.0.1 -c unix_socket_directories='$dir'" \
      -o "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60" \
      start >/dev/null 2>&1; then
      break
    fi
    # Lost a race for the port (or a real failure): a few tries, then say why.
    [ "$tries" -lt 5 ] || die "the server did not start; its log: $(tail -n 20 "$dir/log" 2>/dev/null)"
  done

  local conninfo="host=$dir port=$port dbname=postgres user=cpm"
  printf '%s\n' "$conninfo" >"$dir/conninfo"
  printf '%s\n' "$port" >"$dir/port"
  # Check that a client gets in, as the tests will.
  if command -v "$bin/psql" >/dev/null; then
    "$bin/psql" "$conninfo" -XAtqc 'SELECT 1' >/dev/null 2>&1 ||
      die "the server started but psql cannot connect with: $conninfo"
  fi
  printf '%s\n' "$conninfo"
}

case "$command" in
  start) start_cluster ;;
  stop) stop_cluster ;;
  *) usage ;;
esac
