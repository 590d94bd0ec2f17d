#!/usr/bin/env python3
"""The original system can still read the files cpm writes, and cpm reads what it writes.

Runs the original system's Go models and queries (tests/go_compat/original, built here with
the Debian packages golang-go and golang-github-mattn-go-sqlite3-dev, -tags libsqlite3, no
network) against databases cpm wrote, and cpm (cpm_go_compat, tests/go_compat/cpm_side.cpp)
against rows the original wrote. Python 3 standard library only.

    run.py --cpm-side PATH [--cpm-db PATH] --work DIR CASE

CASE (CTest runs each as cpm.go_compat.CASE):
  original_reads_cpm_files   cpm::store (and cpm-db, when given) write a database; the original
                             scans every table and runs its two query patterns on it, and what it
                             reads must be what cpm reads; it then writes rows as its CreateUser,
                             CreateOrganization, ... do ('' for no key or description), which cpm
                             must read as its own (none), and the original reads the whole again
  adopted_file_stays_readable
                             the original makes a database (its initSchema) and writes to it; cpm
                             opens (adopts) it; the original must still read every row, cpm must
                             read the original's rows as its own, and nothing the original stored
                             is lost (the comment of a user's SSH key)

A missing Go toolchain or driver source is a failure, not a skip: scripts/install-deps.sh test
installs them.
"""
import argparse
import base64
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
GOPATH = "/usr/share/gocode"  # where golang-github-mattn-go-sqlite3-dev installs the driver's source
DRIVER = os.path.join(GOPATH, "src", "github.com", "mattn", "go-sqlite3")


class Failed(Exception):
    pass


def step(title):
    print(f"== {title}", flush=True)


# Failed checks of steps that later steps do not depend on (the reads): reported at the end.
FAILED_STEPS = []


def run(args, env=None, what=None, cwd=None, fatal=True):
    """Runs a step; a failing write (fatal) stops the case, a failing read is recorded and the
    case goes on, so that one run shows every way the file fails."""
    proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=cwd)
    sys.stdout.write(proc.stdout)
    sys.stdout.flush()
    if proc.returncode != 0:
        message = f"{what or args[0]} failed (exit {proc.returncode}): {' '.join(args)}"
        if fatal:
            raise Failed(message)
        FAILED_STEPS.append(message)
    return proc.stdout


def build_original(work, name):
    go = shutil.which("go")
    if go is None:
        raise Failed("no Go toolchain: `go` is not on PATH. This test runs the original system's Go code; "
                     "scripts/install-deps.sh test installs golang-go and golang-github-mattn-go-sqlite3-dev")
    if not os.path.isfile(os.path.join(DRIVER, "sqlite3.go")):
        raise Failed(f"no mattn/go-sqlite3 source in {DRIVER}: scripts/install-deps.sh test installs "
                     "golang-github-mattn-go-sqlite3-dev")
    env = dict(os.environ)
    env.update({
        "GOPATH": GOPATH,             # GOPATH mode: the driver from the Debian package, nothing fetched
        "GO111MODULE": "off",
        "GOFLAGS": "",
        "GOPROXY": "off",
        "CGO_ENABLED": "1",
        "GOCACHE": os.path.join(work, "gocache"),
    })
    out = os.path.join(work, f"original-{name}")
    step(f"building the original system's program ({go}, -tags libsqlite3)")
    run([go, "build", "-tags", "libsqlite3", "-o", out, "."], env=env, what="go build", cwd=os.path.join(HERE, "original"))
    return out


def ssh_key(seed, comment):
    """An ed25519 public key line as OpenSSH writes it (a well-formed blob from seed)."""
    kind = b"ssh-ed25519"
    blob = struct.pack(">I", len(kind)) + kind + struct.pack(">I", 32) + bytes((seed + 3 * i) % 256 for i in range(32))
    return f"ssh-ed25519 {base64.b64encode(blob).decode()} {comment}"


def ids_args(printed):
    """The original's `write` prints one JSON line: {"ids": {NAME: ID}, "olivia_key": KEY}."""
    line = [l for l in printed.splitlines() if l.startswith("{")]
    if len(line) != 1:
        raise Failed(f"the original's write printed no ids:\n{printed}")
    doc = json.loads(line[0])
    return [f"{name}={value}" for name, value in sorted(doc["ids"].items())] + [f"olivia_key={doc['olivia_key']}"]


def both_read(original, cpm_side, db, tmp, label):
    expected = os.path.join(tmp, f"cpm-read-{len(os.listdir(tmp))}.json")
    step(f"cpm reads the file ({label})")
    run([cpm_side, "report", db, expected], what="cpm_go_compat report")
    step(f"the original reads the file ({label}): every table into its structs, GetUserRepositories, GetOrgMembers")
    run([original, "read", db, expected], what="the original system's read", fatal=False)


def original_reads_cpm_files(opts, original, tmp):
    db = os.path.join(tmp, "cpm.db")
    step("cpm::store writes the database")
    run([opts.cpm_side, "write", db], what="cpm_go_compat write")
    if opts.cpm_db:
        step("cpm-db adds to it")
        tool = [opts.cpm_db, "--db", db]
        for args in (["user", "add", "dave", "--email", "dave@example.org"],
                     ["org", "add", "globex", "--owner", "dave"],
                     ["org", "member", "add", "globex", "bob", "--role", "admin"],
                     ["repo", "add", "globex/site", "--path", "/srv/git/globex/site.git"],
                     ["repo", "add", "globex/docs", "--path", "/srv/git/globex/docs.git", "--description", "manuals"],
                     ["access", "grant", "globex/site", "carol", "read"],
                     ["user", "add", "erin", "--email", "erin@example.org", "--key", ssh_key(40, "erin@laptop")],
                     ["key", "add", "backup", "--public-key", ssh_key(41, "backup@host"),
                      "--private-key-path", "/home/git/.ssh/backup"],
                     ["server", "add", "peer2", "--host", "peer2.example.org", "--neighbor", "--key", "backup"],
                     ["server", "add", "mirror2", "--host", "10.0.0.8"]):
            run(tool + args, what="cpm-db " + " ".join(args[:2]))
    both_read(original, opts.cpm_side, db, tmp, "as cpm wrote it")

    step("the original writes rows as its CreateUser, CreateOrganization, CreateRepository, AddOrgMember do")
    given = ids_args(run([original, "write", db], what="the original system's write"))
    step("cpm reads the original's rows")
    run([opts.cpm_side, "check-original", db] + given, what="cpm_go_compat check-original", fatal=False)
    both_read(original, opts.cpm_side, db, tmp, "with the original's rows")


def adopted_file_stays_readable(opts, original, tmp):
    db = os.path.join(tmp, "original.db")
    step("the original makes the database (its initSchema) and writes to it")
    given = ids_args(run([original, "init-write", db], what="the original system's init-write"))
    comment = "olivia@desk"
    step("cpm opens (adopts) it and reads the original's rows")
    run([opts.cpm_side, "check-original", db] + given, what="cpm_go_compat check-original", fatal=False)
    step(f"nothing the original stored is lost: the comment of olivia's key ({comment!r}) is still in the file")
    con = sqlite3.connect(db)
    try:
        holders = []
        for (table,) in con.execute("SELECT name FROM sqlite_schema WHERE type = 'table'"):
            for column in [row[1] for row in con.execute("SELECT * FROM pragma_table_info(?)", (table,))]:
                q = f'SELECT count(*) FROM "{table}" WHERE instr(CAST("{column}" AS TEXT), ?) > 0'
                if con.execute(q, (comment,)).fetchone()[0]:
                    holders.append(f"{table}.{column}")
    finally:
        con.close()
    if holders:
        print(f"kept in {', '.join(holders)}")
    else:
        message = (f"adoption lost the comment {comment!r} of the key the original stored for olivia: "
                   "no column of any table holds it any more")
        print(f"FAIL  {message}")
        FAILED_STEPS.append(message)
    both_read(original, opts.cpm_side, db, tmp, "adopted by cpm")


CASES = {f.__name__: f for f in (original_reads_cpm_files, adopted_file_stays_readable)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cpm-side", required=True, help="the built cpm_go_compat")
    parser.add_argument("--cpm-db", help="the built cpm-db (its writes are read by the original too)")
    parser.add_argument("--work", required=True, help="a directory for the Go build and its cache")
    parser.add_argument("case", choices=sorted(CASES))
    opts = parser.parse_args()
    os.makedirs(opts.work, exist_ok=True)
    try:
        original = build_original(os.path.abspath(opts.work), opts.case)
        with tempfile.TemporaryDirectory(prefix="cpm-go-compat-") as tmp:
            CASES[opts.case](opts, original, tmp)
    except Failed as e:
        FAILED_STEPS.append(str(e))
    if FAILED_STEPS:
        for message in FAILED_STEPS:
            print(f"FAIL  {opts.case}: {message}")
        return 1
    print(f"PASS  {opts.case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
