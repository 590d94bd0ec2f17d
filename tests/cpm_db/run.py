#!/usr/bin/env python3
"""End-to-end tests of cpm-db: runs the built tool against temporary databases and checks its
output, its JSON and its exit codes. Python 3 standard library only.

    run.py --cpm-db PATH [--build-dir DIR] CASE   run one case (CTest runs each as cpm.cpm_db.CASE)
    run.py --cpm-db PATH all       run every case
    run.py --list                  list the cases

Conventions checked everywhere: success is exit code 0; a failure is exit code 1 (2 for a
usage error) with exactly one line "cpm-db: <message>" on stderr and nothing on stdout, in the
tool's own words (none of CLI11's messages, listed in CLI11_WORDS); with --json, the line is
{"error": {"kind", "message", "exit_code"}}.
"""
import argparse
import base64
import datetime
import json
import os
import pty
import re
import select
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time

TOOL = None
BUILD_DIR = None  # the CMake build tree (--build-dir), for the install case
CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


# A case that cannot run on this machine: reported to CTest as skipped (SKIP_RETURN_CODE).
SKIP_CODE = 77


class Skipped(Exception):
    pass


class Failed(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise Failed(message)


# ---- running the tool -----------------------------------------------------------------------

class Result:
    def __init__(self, args, proc):
        self.args = args
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def __repr__(self):
        return f"cpm-db {' '.join(self.args)}\n  exit {self.rc}\n  stdout: {self.out!r}\n  stderr: {self.err!r}"

    def json(self):
        try:
            return json.loads(self.out)
        except json.JSONDecodeError as e:
            raise Failed(f"--json output does not parse ({e}):\n{self!r}")


class Tool:
    """cpm-db bound to one database file (passed with --db unless use_db is False)."""

    def __init__(self, workdir, db="cpm.db"):
        self.dir = workdir
        self.db = os.path.join(workdir, db)
        self.env = dict(os.environ)
        self.env.pop("CPMDB_PATH", None)
        self.env["HOME"] = os.path.join(workdir, "home")

    def run(self, *args, use_db=True, env=None, stderr_tty=False):
        argv = [TOOL, *args] + (["--db", self.db] if use_db else [])
        if stderr_tty:
            return self._run_with_tty_stderr(args, argv, env)
        proc = subprocess.run(argv, capture_output=True, text=True, env=env or self.env, cwd=self.dir, timeout=60)
        return Result(list(args), proc)

    def _run_with_tty_stderr(self, args, argv, env):
        master, slave = pty.openpty()
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=slave, env=env or self.env, cwd=self.dir)
        os.close(slave)
        err = b""
        while True:
            ready, _, _ = select.select([master], [], [], 30)
            if not ready:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed its end
                break
            if not chunk:
                break
            err += chunk
        out = proc.stdout.read().decode()
        proc.wait(timeout=30)
        os.close(master)

        class Done:
            returncode = proc.returncode
            stdout = out
            stderr = err.decode(errors="replace")
        return Result(list(args), Done)

    def ok(self, *args, **kw):
        r = self.run(*args, **kw)
        expect(r.rc == 0, f"expected success:\n{r!r}")
        return r

    def json(self, *args, **kw):
        return self.ok(*args, "--json", **kw).json()

    def fails(self, *args, contains, rc=1, **kw):
        """The command fails with exit code `rc` and one line naming the problem."""
        r = self.run(*args, **kw)
        expect(r.rc == rc, f"expected exit code {rc}:\n{r!r}")
        lines = r.err.splitlines()
        expect(len(lines) == 1 and r.err.endswith("\n"), f"expected exactly one line on stderr:\n{r!r}")
        expect(lines[0].startswith("cpm-db: "), f"expected 'cpm-db: ' first:\n{r!r}")
        for text in [contains] if isinstance(contains, str) else contains:
            expect(text.lower() in lines[0].lower(), f"expected {text!r} in the message:\n{r!r}")
        expect(r.out == "" or "--json" in args or args[:1] == ("check",), f"expected nothing on stdout:\n{r!r}")
        no_cli11_words(r)
        return r

    def json_fails(self, *args, kind, contains, rc=1, **kw):
        """With --json, the failure is one line of JSON on stderr: {"error": {"kind", "message", "exit_code"}}."""
        r = self.run(*args, "--json", **kw)
        expect(r.rc == rc, f"expected exit code {rc}:\n{r!r}")
        lines = r.err.splitlines()
        expect(len(lines) == 1 and r.err.endswith("\n"), f"expected exactly one line on stderr:\n{r!r}")
        try:
            doc = json.loads(lines[0])
        except json.JSONDecodeError as e:
            raise Failed(f"the error is not JSON ({e}):\n{r!r}")
        error = doc.get("error") if isinstance(doc, dict) else None
        expect(isinstance(error, dict) and list(doc) == ["error"], f"expected {{\"error\": {{...}}}}:\n{r!r}")
        expect(error.get("kind") == kind and error.get("exit_code") == rc, f"expected kind {kind!r}, exit_code {rc}:\n{r!r}")
        for text in [contains] if isinstance(contains, str) else contains:
            expect(text.lower() in error.get("message", "").lower(), f"expected {text!r} in the message:\n{r!r}")
        expect(r.out == "" or args[:1] == ("check",), f"expected nothing on stdout:\n{r!r}")
        no_cli11_words(r)
        return error


# What CLI11 says in its own messages; none of it may reach the user.
CLI11_WORDS = ["Could not convert", "At Most", "required but received", "not expected", "not in {", "not in range",
               "required TEXT missing", "required INT missing", "A subcommand", "Should be true/false",
               "disallowed flag override", "Expected exactly", "was not readable", "Too many positional"]


def no_cli11_words(r):
    for words in CLI11_WORDS:
        expect(words not in r.err, f"CLI11's own words {words!r} reached the user:\n{r!r}")


def ssh_key(seed, comment="test"):
    kind = b"ssh-ed25519"
    blob = struct.pack(">I", len(kind)) + kind + struct.pack(">I", 32) + bytes((seed + i) % 256 for i in range(32))
    return f"ssh-ed25519 {base64.b64encode(blob).decode()} {comment}"


def sql(path, *statements, fetch=None):
    """Runs statements on the file with Python's sqlite3 (foreign keys off, as it defaults)."""
    con = sqlite3.connect(path, isolation_level=None)
    try:
        for s in statements:
            con.execute(s)
        return con.execute(fetch).fetchall() if fetch else None
    finally:
        con.close()


def scalar(path, query):
    return sql(path, fetch=query)[0][0]


def file_bytes(path):
    with open(path, "rb") as f:
        return f.read()


# The original system's schema (seed/database-architecture.txt), as its initSchema made it:
# no version recorded.
ORIGINAL_SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL UNIQUE, email TEXT NOT NULL,
  public_key TEXT, created_at DATETIME DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE organizations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, description TEXT,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE repositories (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, org_id INTEGER NOT NULL,
  path TEXT NOT NULL, description TEXT, created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  FOREIGN KEY (org_id) REFERENCES organizations(id) ON DELETE CASCADE, UNIQUE(org_id, name));
CREATE TABLE ssh_keys (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, public_key TEXT NOT NULL,
  private_key_path TEXT NOT NULL, created_at DATETIME DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE servers (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, host TEXT NOT NULL,
  port INTEGER NOT NULL DEFAULT 22, is_neighbor BOOLEAN NOT NULL DEFAULT 0, ssh_key_id INTEGER,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP, FOREIGN KEY (ssh_key_id) REFERENCES ssh_keys(id) ON DELETE SET NULL);
CREATE TABLE repo_access (id INTEGER PRIMARY KEY AUTOINCREMENT, repo_id INTEGER NOT NULL, user_id INTEGER NOT NULL,
  access_level TEXT NOT NULL CHECK(access_level IN ('read', 'write', 'admin')),
  FOREIGN KEY (repo_id) REFERENCES repositories(id) ON DELETE CASCADE,
  FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE, UNIQUE(repo_id, user_id));
CREATE TABLE org_members (id INTEGER PRIMARY KEY AUTOINCREMENT, org_id INTEGER NOT NULL, user_id INTEGER NOT NULL,
  role TEXT NOT NULL CHECK(role IN ('owner', 'admin', 'member')), joined_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  FOREIGN KEY (org_id) REFERENCES organizations(id) ON DELETE CASCADE,
  FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE, UNIQUE(org_id, user_id));
INSERT INTO users(username, email) VALUES ('legacy', 'legacy@example.org');
"""


def fill(path, users, start=0):
    """Adds `users` users, each owning an organization of their own, in one transaction."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("BEGIN")
    for i in range(start, start + users):
        uid = con.execute("INSERT INTO users(username, email) VALUES (?, ?)", (f"u{i}", f"u{i}@example.org")).lastrowid
        oid = con.execute("INSERT INTO organizations(name, description) VALUES (?, ?)", (f"o{i}", "d" * 150)).lastrowid
        con.execute("INSERT INTO org_members(org_id, user_id, role) VALUES (?, ?, 'owner')", (oid, uid))
    con.execute("COMMIT")
    con.close()


def scribble(path, first_page, pages, page_size=4096):
    """Overwrites `pages` pages from `first_page` (1-based) with garbage, as a failing disk might."""
    with open(path, "r+b") as f:
        f.seek((first_page - 1) * page_size)
        f.write(b"\xa5\x5a" * (pages * page_size // 2))


def new_tool(tmp, populated=False):
    t = Tool(tmp)
    t.ok("init")
    if populated:
        t.ok("user", "add", "alice", "--email", "alice@example.org", "--key", ssh_key(1))
        t.ok("user", "add", "bob", "--email", "bob@example.org")
        t.ok("org", "add", "acme", "--owner", "alice", "--description", "the company")
        t.ok("repo", "add", "acme/tools", "--path", "/srv/git/acme/tools.git")
        t.ok("access", "grant", "acme/tools", "bob", "write")
    return t


def backups_in(directory):
    return sorted(n for n in os.listdir(directory) if re.fullmatch(r"cpm-\d{8}-\d{6}\.db", n))


# ---- cases ---------------------------------------------------------------------------------

@case
def help(tmp):
    t = Tool(tmp)
    commands = [[], ["init"], ["migrate"], ["status"], ["backup"], ["restore"], ["check"],
                ["user"], ["user", "add"], ["user", "list"], ["user", "show"], ["user", "update"], ["user", "remove"],
                ["user", "key"], ["user", "key", "add"], ["user", "key", "list"], ["user", "key", "remove"],
                ["org"], ["org", "add"], ["org", "list"], ["org", "update"], ["org", "remove"],
                ["org", "member"], ["org", "member", "add"], ["org", "member", "update"], ["org", "member", "remove"],
                ["org", "member", "list"],
                ["repo"], ["repo", "add"], ["repo", "list"], ["repo", "update"], ["repo", "remove"],
                ["access"], ["access", "grant"], ["access", "revoke"], ["access", "show"],
                ["key"], ["key", "add"], ["key", "list"], ["key", "update"], ["key", "remove"],
                ["server"], ["server", "add"], ["server", "list"], ["server", "update"], ["server", "remove"]]
    for command in commands:
        r = t.run(*command, "--help", use_db=False)
        expect(r.rc == 0 and "Usage: cpm-db" in r.out and r.err == "", f"--help:\n{r!r}")
        expect(" ".join(["cpm-db", *command]) in r.out, f"--help names the command:\n{r!r}")
    expect("--json" in t.run("user", "list", "--help", use_db=False).out, "leaf help lists --json")
    expect("--neighbor" in t.run("server", "add", "--help", use_db=False).out, "server add help lists --neighbor")
    t.fails(contains=["'cpm-db' needs a command", "init, migrate, status, backup, restore, check, user"], rc=2,
            use_db=False)
    t.fails("user", contains="'cpm-db user' needs a command: add, list, show, update, remove", rc=2, use_db=False)
    t.fails("org", "member", contains="'cpm-db org member' needs a command: add, update, remove, list", rc=2,
            use_db=False)
    t.fails("frobnicate", contains="'frobnicate' is not a command of 'cpm-db'", rc=2, use_db=False)
    t.fails("user", "frob", contains="'frob' is not a command of 'cpm-db user'", rc=2, use_db=False)
    t.fails("user", "list", "--bogus", contains="--bogus", rc=2)
    r = t.ok("--version", use_db=False)
    expect(re.fullmatch(r"\d+\.\d+\.\d+\n", r.out), f"--version:\n{r!r}")


@case
def database_path(tmp):
    t = Tool(tmp)
    # --db
    t.ok("init")
    expect(os.path.isfile(t.db), "--db made the database")
    # $CPMDB_PATH when there is no --db
    env = dict(t.env, CPMDB_PATH=os.path.join(tmp, "env.db"))
    r = t.run("init", use_db=False, env=env)
    expect(r.rc == 0 and os.path.isfile(os.path.join(tmp, "env.db")), f"$CPMDB_PATH:\n{r!r}")
    # --db wins over $CPMDB_PATH
    r = t.run("status", "--json", env=env)
    expect(r.rc == 0 and r.json()["path"] == t.db, f"--db before $CPMDB_PATH:\n{r!r}")
    # else ~/.cpm/cpm.db, the directory made private
    r = t.run("init", use_db=False)
    home_db = os.path.join(tmp, "home", ".cpm", "cpm.db")
    expect(r.rc == 0 and os.path.isfile(home_db), f"default path:\n{r!r}")
    expect(os.stat(os.path.dirname(home_db)).st_mode & 0o777 == 0o700, "~/.cpm is 0700")
    expect(os.stat(home_db).st_mode & 0o777 == 0o600, "cpm.db is 0600")
    # --db also before the command
    r = t.run("--db", os.path.join(tmp, "env.db"), "status", "--json", use_db=False)
    expect(r.rc == 0 and r.json()["path"] == os.path.join(tmp, "env.db"), f"--db first:\n{r!r}")


@case
def init_migrate_status(tmp):
    t = Tool(tmp)
    t.fails("status", contains=["no database at", "cpm-db init"])
    t.fails("migrate", contains="no database at")
    t.fails("user", "list", contains="no database at")
    doc = t.json("init")
    expect(doc["created"] is True and doc["from"] == 0 and doc["to"] == doc["target"] >= 2, f"init --json: {doc}")
    expect([s["version"] for s in doc["applied"]] == list(range(1, doc["target"] + 1)), f"init applied: {doc}")
    target = doc["target"]
    t.fails("init", contains="already exists")
    r = t.ok("migrate")
    expect(f"schema version {target}, target version {target}" in r.out and "nothing to do" in r.out, f"migrate:\n{r!r}")
    expect(t.json("migrate")["applied"] == [], "migrate --json on a current database")
    r = t.ok("status")
    for text in ["database:", t.db, "journal mode:   wal", f"schema version: {target}", "current", "users", "cpm_schema_history"]:
        expect(text in r.out, f"status shows {text!r}:\n{r!r}")
    doc = t.json("status")
    expect(doc["schema"] == "current" and doc["tables"]["users"] == 0 and doc["tables"]["cpm_schema_history"] == target,
           f"status --json: {doc}")

    # A database the original system made (no version): status reads it without changing it,
    # the other commands ask for a migration, and migrate adopts it.
    legacy = Tool(tmp, "legacy.db")
    con = sqlite3.connect(legacy.db)
    con.executescript(ORIGINAL_SCHEMA)
    con.close()
    before = file_bytes(legacy.db)
    doc = legacy.json("status")
    expect(doc["schema_version"] == 0 and doc["schema"] == "behind" and doc["tables"]["users"] == 1, f"legacy status: {doc}")
    expect("cpm_schema_history" not in doc["tables"], "status created nothing")
    expect(file_bytes(legacy.db) == before, "status changed nothing in the file")
    expect("run 'cpm-db migrate'" in legacy.ok("status").out, "status tells to migrate")
    legacy.fails("user", "list", contains=["schema version 0", "cpm-db migrate"])
    r = legacy.ok("migrate")
    expect("schema version 0, target version" in r.out and "applied 1:" in r.out and f"applied {target}:" in r.out,
           f"migrate:\n{r!r}")
    expect([u["username"] for u in legacy.json("user", "list")] == ["legacy"], "the adopted data is kept")

    # A database newer than this cpm-db: refused by migrate, described by status.
    sql(t.db, "INSERT INTO cpm_schema_history(component, version, name, checksum) "
              f"VALUES ('cpm.store', {target + 5}, 'from newer code', '')")
    t.fails("migrate", contains=["schema version", "newer"])
    t.fails("user", "list", contains="newer")
    expect(t.json("status")["schema"] == "newer", "status on a newer database")
    expect(scalar(t.db, "SELECT max(version) FROM cpm_schema_history WHERE component = 'cpm.store'") == target + 5,
           "left untouched")

    # Not a database at all.
    with open(os.path.join(tmp, "text.db"), "w") as f:
        f.write("hello " * 1000)
    Tool(tmp, "text.db").fails("status", contains="not a database")


@case
def users(tmp):
    t = new_tool(tmp)
    doc = t.json("user", "add", "alice", "--email", "alice@example.org", "--key", ssh_key(1, "alice@laptop"))
    expect(doc["username"] == "alice" and doc["id"] == 1 and doc["public_key"].startswith("ssh-ed25519 "), f"{doc}")
    expect(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", doc["created_at"]), f"created_at: {doc}")
    r = t.ok("user", "add", "bob", "--email", "bob@example.org")
    expect(r.out == "created user bob (id 2)\n", f"user add:\n{r!r}")
    r = t.ok("user", "list")
    expect(r.out.splitlines()[0].split() == ["ID", "USERNAME", "EMAIL", "PUBLIC", "KEY"] and "alice" in r.out
           and "bob@example.org" in r.out, f"user list:\n{r!r}")
    expect([u["username"] for u in t.json("user", "list")] == ["alice", "bob"], "user list --json")
    t.ok("org", "add", "acme", "--owner", "alice")
    t.ok("repo", "add", "acme/tools", "--path", "/srv/git/acme/tools.git")
    r = t.ok("user", "show", "alice")
    for text in ["user alice (id 1)", "alice@example.org", "acme (owner)", "acme/tools (admin)"]:
        expect(text in r.out, f"user show has {text!r}:\n{r!r}")
    doc = t.json("user", "show", "alice")
    expect(doc["user"]["email"] == "alice@example.org" and doc["organizations"] == [{"name": "acme", "role": "owner"}]
           and doc["repositories"][0]["name"] == "acme/tools" and doc["repositories"][0]["access"] == "admin",
           f"user show --json: {doc}")
    expect(t.json("user", "remove", "bob")["removed"] == "user", "user remove --json")
    t.fails("user", "remove", "alice", contains="last owner of organization 'acme'")
    t.ok("org", "remove", "acme")
    r = t.ok("user", "remove", "alice")
    expect("removed user alice" in r.out, f"user remove:\n{r!r}")
    expect(t.ok("user", "list").out == "no users\n", "empty list")
    expect(t.json("user", "list") == [], "empty list --json")

    t.fails("user", "add", "b c", "--email", "x@example.org", contains=["user.username", "'b c'"])
    t.fails("user", "add", "-x", "--email", "x@example.org", contains="USERNAME is required", rc=2)  # an option
    t.fails("user", "add", "carol", "--email", "not-an-address", contains=["user.email", "not-an-address"])
    t.fails("user", "add", "carol", "--email", "c@example.org", "--key", "ssh-ed25519 !!!", contains="user.public_key")
    t.fails("user", "add", "carol", contains="--email is required", rc=2)
    t.fails("user", "add", "--email", "c@example.org", contains="USERNAME is required", rc=2)
    t.ok("user", "add", "carol", "--email", "c@example.org", "--key", ssh_key(3))
    t.fails("user", "add", "carol", "--email", "c2@example.org", contains=["username", "'carol'", "already exists"])
    t.fails("user", "add", "dave", "--email", "d@example.org", "--key", ssh_key(3, "other comment"),
            contains=["public_key", "already exists"])
    t.fails("user", "show", "nobody", contains="user 'nobody' not found")
    t.fails("user", "remove", "nobody", contains="user 'nobody' not found")
    t.fails("user", "show", contains="USER is required", rc=2)
    t.fails("user", "list", "extra", contains="extra", rc=2)


@case
def orgs(tmp):
    t = new_tool(tmp)
    t.ok("user", "add", "alice", "--email", "alice@example.org")
    t.ok("user", "add", "bob", "--email", "bob@example.org")
    doc = t.json("org", "add", "acme", "--owner", "alice", "--description", "the company")
    expect(doc["name"] == "acme" and doc["description"] == "the company" and doc["owner"] == "alice", f"{doc}")
    r = t.ok("org", "add", "initech")
    expect(r.out == "created organization initech (id 2)\n", f"org add:\n{r!r}")
    expect([o["name"] for o in t.json("org", "list")] == ["acme", "initech"], "org list --json")
    expect("the company" in t.ok("org", "list").out, "org list")

    r = t.ok("org", "member", "add", "acme", "bob")
    expect(r.out == "added bob to acme as member\n", f"member add:\n{r!r}")
    doc = t.json("org", "member", "add", "initech", "bob", "--role", "admin")
    expect(doc == {"organization": "initech", "user": "bob", "role": "admin", "joined_at": doc["joined_at"]}, f"{doc}")
    members = t.json("org", "member", "list", "acme")
    expect([(m["user"], m["role"]) for m in members] == [("alice", "owner"), ("bob", "member")], f"{members}")
    r = t.ok("org", "member", "list", "acme")
    expect(r.out.splitlines()[0].split() == ["USER", "ROLE", "EMAIL", "JOINED"] and "bob" in r.out, f"{r!r}")
    expect(t.json("org", "member", "remove", "acme", "bob")["removed"] == "member", "member remove --json")
    expect(t.ok("org", "member", "remove", "initech", "bob").out == "removed bob from initech\n", "member remove")
    expect(t.ok("org", "member", "list", "initech").out == "initech has no members\n", "no members")
    expect(t.json("org", "remove", "initech")["removed"] == "organization", "org remove --json")
    expect("removed organization acme" in t.ok("org", "remove", "acme").out, "org remove")
    expect(t.ok("org", "list").out == "no organizations\n", "no organizations")

    t.ok("org", "add", "acme")
    t.fails("org", "add", "acme", contains=["organization", "'acme'", "already exists"])
    t.fails("org", "add", "bad/name", contains=["organization.name", "bad/name"])
    t.fails("org", "add", "x" * 101, contains="organization.name")
    t.fails("org", "add", "globex", "--owner", "nobody", contains="user 'nobody' not found")
    expect([o["name"] for o in t.json("org", "list")] == ["acme"], "a refused org add changed nothing")
    t.fails("org", "remove", "nowhere", contains="organization 'nowhere' not found")
    t.fails("org", "member", "add", "acme", "bob", "--role", "boss", contains="boss", rc=2)
    t.fails("org", "member", "add", "acme", "nobody", contains="user 'nobody' not found")
    t.fails("org", "member", "add", "nowhere", "bob", contains="organization 'nowhere' not found")
    t.fails("org", "member", "add", "acme", contains="USER is required", rc=2)
    t.ok("org", "member", "add", "acme", "bob")
    t.fails("org", "member", "add", "acme", "bob", contains="bob is already a member of acme")
    t.fails("org", "member", "remove", "acme", "alice", contains="alice is not a member of acme")
    t.fails("org", "member", "list", "nowhere", contains="organization 'nowhere' not found")


@case
def repos(tmp):
    t = new_tool(tmp)
    t.ok("user", "add", "alice", "--email", "alice@example.org")
    t.ok("user", "add", "bob", "--email", "bob@example.org")
    t.ok("org", "add", "acme", "--owner", "alice")
    t.ok("org", "add", "initech")
    r = t.ok("repo", "add", "acme/tools", "--path", "/srv/git/acme/tools.git")
    expect(r.out == "created repository acme/tools (id 1) at /srv/git/acme/tools.git\n", f"repo add:\n{r!r}")
    doc = t.json("repo", "add", "initech/tps", "--path", "/srv/git/initech/tps.git", "--description", "reports",
                 "--admin", "bob")
    expect(doc["name"] == "initech/tps" and doc["organization"] == "initech" and doc["description"] == "reports", f"{doc}")
    expect(t.json("access", "show", "initech/tps", "bob")["access"] == "admin", "--admin grants admin")
    expect([x["name"] for x in t.json("repo", "list")] == ["acme/tools", "initech/tps"], "repo list --json")
    expect([x["name"] for x in t.json("repo", "list", "--org", "acme")] == ["acme/tools"], "repo list --org")
    expect([x["name"] for x in t.json("repo", "list", "--user", "alice")] == ["acme/tools"], "repo list --user")
    r = t.ok("repo", "list")
    expect(r.out.splitlines()[0].split() == ["ID", "REPOSITORY", "PATH", "DESCRIPTION"] and "initech/tps" in r.out, f"{r!r}")
    expect(t.json("repo", "remove", "initech/tps")["removed"] == "repository", "repo remove --json")
    expect("removed repository acme/tools" in t.ok("repo", "remove", "acme/tools").out, "repo remove")
    expect(t.ok("repo", "list").out == "no repositories\n", "no repositories")

    t.ok("repo", "add", "acme/tools", "--path", "/srv/git/acme/tools.git")
    t.fails("repo", "add", "tools", "--path", "/srv/git/tools.git", contains="ORG/NAME", rc=2)
    t.fails("repo", "add", "acme/a/b", "--path", "/srv/git/x.git", contains="ORG/NAME", rc=2)
    t.fails("repo", "add", "acme/site", "--path", "relative/site.git", contains=["repository.path", "absolute"])
    t.fails("repo", "add", "acme/site", "--path", "/srv/../etc", contains=["repository.path", "normalised"])
    t.fails("repo", "add", "acme/si te", "--path", "/srv/git/site.git", contains="repository.name")
    t.fails("repo", "add", "nowhere/site", "--path", "/srv/git/site.git", contains="organization 'nowhere' not found")
    t.fails("repo", "add", "acme/tools", "--path", "/srv/git/other.git", contains=["'tools'", "already exists"])
    t.fails("repo", "add", "acme/site", contains="--path is required", rc=2)
    t.fails("repo", "add", "acme/site", "--path", "/srv/git/site.git", "--admin", "nobody", contains="user 'nobody' not found")
    expect([x["name"] for x in t.json("repo", "list")] == ["acme/tools"], "refused repo adds changed nothing")
    t.fails("repo", "list", "--org", "nowhere", contains="organization 'nowhere' not found")
    t.fails("repo", "list", "--user", "nobody", contains="user 'nobody' not found")
    t.fails("repo", "list", "--org", "acme", "--user", "alice", contains="not both", rc=2)
    t.fails("repo", "remove", "acme/nothing", contains="repository 'acme/nothing' not found")
    t.fails("repo", "remove", "nothing", contains="ORG/NAME", rc=2)


@case
def access(tmp):
    t = new_tool(tmp, populated=True)  # alice owns acme, bob has write on acme/tools
    r = t.ok("access", "show", "acme/tools")
    expect("alice  admin   acme owner" in r.out and "bob    write   direct grant write" in r.out, f"access show:\n{r!r}")
    doc = t.json("access", "show", "acme/tools")
    expect(doc["repository"] == "acme/tools" and
           [(a["user"], a["access"], a["grant"], a["org_role"]) for a in doc["access"]] ==
           [("alice", "admin", None, "owner"), ("bob", "write", "write", None)], f"access show --json: {doc}")
    doc = t.json("access", "grant", "acme/tools", "bob", "admin")
    expect(doc == {"repository": "acme/tools", "user": "bob", "access": "admin"}, f"grant --json: {doc}")
    expect(t.ok("access", "grant", "acme/tools", "bob", "read").out == "granted bob read access to acme/tools\n", "grant")
    expect(t.json("access", "show", "acme/tools", "bob")["access"] == "read", "the grant replaced the old one")
    expect(t.json("access", "revoke", "acme/tools", "bob") == {"revoked": "acme/tools", "user": "bob"}, "revoke --json")
    expect(t.ok("access", "show", "acme/tools", "bob").out == "bob has no access to acme/tools\n", "no access")
    doc = t.json("access", "show", "acme/tools", "bob")
    expect(doc["access"] is None and doc["grant"] is None and doc["org_role"] is None, f"no access --json: {doc}")
    t.ok("access", "grant", "acme/tools", "bob", "write")
    expect("revoked the direct grant of bob" in t.ok("access", "revoke", "acme/tools", "bob").out, "revoke")

    t.fails("access", "grant", "acme/tools", "bob", "owner", contains="owner", rc=2)
    t.fails("access", "grant", "acme/tools", "bob", contains="LEVEL is required", rc=2)
    t.fails("access", "grant", "acme/nothing", "bob", "read", contains="repository 'acme/nothing' not found")
    t.fails("access", "grant", "acme/tools", "nobody", "read", contains="user 'nobody' not found")
    t.fails("access", "grant", "tools", "bob", "read", contains="ORG/NAME", rc=2)
    t.fails("access", "revoke", "acme/tools", "bob", contains="bob has no direct grant on acme/tools")
    t.fails("access", "show", "nowhere/tools", contains="organization 'nowhere' not found")
    t.fails("access", "show", "acme/tools", "nobody", contains="user 'nobody' not found")


@case
def keys(tmp):
    t = new_tool(tmp)
    doc = t.json("key", "add", "deploy", "--public-key", ssh_key(7, "deploy"), "--private-key-path", "/home/git/.ssh/deploy")
    expect(doc["name"] == "deploy" and doc["private_key_path"] == "/home/git/.ssh/deploy", f"key add --json: {doc}")
    r = t.ok("key", "add", "backup", "--public-key", ssh_key(8), "--private-key-path", "/home/git/.ssh/backup")
    expect(r.out == "added SSH key backup (id 2)\n", f"key add:\n{r!r}")
    expect([k["name"] for k in t.json("key", "list")] == ["deploy", "backup"], "key list --json")
    r = t.ok("key", "list")
    expect(r.out.splitlines()[0].split()[:2] == ["ID", "NAME"] and "/home/git/.ssh/backup" in r.out, f"key list:\n{r!r}")
    expect(t.json("key", "remove", "backup")["removed"] == "ssh_key", "key remove --json")
    expect("removed SSH key deploy" in t.ok("key", "remove", "deploy").out, "key remove")
    expect(t.ok("key", "list").out == "no SSH keys\n", "no keys")

    t.ok("key", "add", "deploy", "--public-key", ssh_key(7), "--private-key-path", "/home/git/.ssh/deploy")
    t.fails("key", "add", "other", "--public-key", "ssh-foo AAAA", "--private-key-path", "/k",
            contains=["ssh_key.public_key", "unknown key type"])
    t.fails("key", "add", "other", "--public-key", ssh_key(9), "--private-key-path", "keys/other",
            contains="ssh_key.private_key_path")
    t.fails("key", "add", "deploy", "--public-key", ssh_key(9), "--private-key-path", "/k",
            contains=["'deploy'", "already exists"])
    t.fails("key", "add", "other", "--private-key-path", "/k", contains="--public-key is required", rc=2)
    t.fails("key", "remove", "nothing", contains="SSH key 'nothing' not found")


@case
def servers(tmp):
    t = new_tool(tmp)
    t.ok("key", "add", "deploy", "--public-key", ssh_key(7), "--private-key-path", "/home/git/.ssh/deploy")
    doc = t.json("server", "add", "peer1", "--host", "peer1.example.org", "--neighbor", "--key", "deploy")
    expect(doc["name"] == "peer1" and doc["port"] == 22 and doc["is_neighbor"] is True and doc["ssh_key"] == "deploy",
           f"server add --json: {doc}")
    r = t.ok("server", "add", "mirror", "--host", "10.0.0.7", "--port", "2222")
    expect(r.out == "added server mirror (10.0.0.7:2222, id 2)\n", f"server add:\n{r!r}")
    t.ok("server", "add", "peer2", "--host", "2001:db8::1", "--neighbor")
    expect([s["name"] for s in t.json("server", "list")] == ["peer1", "mirror", "peer2"], "server list --json")
    expect([s["name"] for s in t.json("server", "list", "--neighbor")] == ["peer1", "peer2"], "server list --neighbor")
    r = t.ok("server", "list")
    expect(r.out.splitlines()[0].split() == ["ID", "NAME", "HOST", "PORT", "NEIGHBOR", "SSH", "KEY"], f"{r!r}")
    expect(re.search(r"peer1\s+peer1\.example\.org\s+22\s+yes\s+deploy", r.out), f"server list row:\n{r!r}")
    t.ok("key", "remove", "deploy")
    expect(t.json("server", "list", "--neighbor")[0]["ssh_key"] is None, "removing the key left the server keyless")
    expect(t.json("server", "remove", "peer2")["removed"] == "server", "server remove --json")
    expect(t.ok("server", "remove", "peer1").out == "removed server peer1\n", "server remove")
    expect(t.ok("server", "list", "--neighbor").out == "no neighbor servers\n", "no neighbors")

    t.fails("server", "add", "x", "--host", "bad_host!", contains=["server.host", "bad_host!"])
    t.fails("server", "add", "x", "--host", "h.example.org", "--port", "0", contains=["server.port", "'0'"])
    t.fails("server", "add", "x", "--host", "h.example.org", "--port", "99999", contains="server.port")
    t.fails("server", "add", "x", "--host", "h.example.org", "--port", "ssh", contains="port", rc=2)
    t.fails("server", "add", "x", "--host", "h.example.org", "--key", "nothing", contains="SSH key 'nothing' not found")
    t.fails("server", "add", "mirror", "--host", "h.example.org", contains=["'mirror'", "already exists"])
    t.fails("server", "add", "x", contains="--host is required", rc=2)
    t.fails("server", "remove", "nothing", contains="server 'nothing' not found")
    t.fails("server", "list", "--neighbor=maybe", contains="maybe", rc=2)


@case
def backup(tmp):
    t = new_tool(tmp, populated=True)
    out = os.path.join(tmp, "backups")
    r = t.ok("backup", "--output", out, "--pages", "2")
    files = backups_in(out)
    expect(len(files) == 1, f"one backup named cpm-YYYYMMDD-HHMMSS.db: {os.listdir(out)}")
    path = os.path.join(out, files[0])
    expect(r.out == f"wrote {path} ({os.path.getsize(path) // 4096} pages, {os.path.getsize(path)} bytes); "
                    "integrity_check: ok\n", f"backup:\n{r!r}")
    progress = r.err.splitlines()
    expect(len(progress) >= 3 and all(re.fullmatch(r"backup: \d+% \(\d+/\d+ pages\)", p) for p in progress)
           and progress[-1].startswith("backup: 100% "), f"plain progress lines when stderr is no terminal:\n{r!r}")
    stamp = datetime.datetime.strptime(files[0], "cpm-%Y%m%d-%H%M%S.db").replace(tzinfo=datetime.timezone.utc)
    age = datetime.datetime.now(datetime.timezone.utc) - stamp
    expect(datetime.timedelta(0) <= age < datetime.timedelta(seconds=60), f"the name is the UTC time: {files[0]}")
    expect(os.stat(out).st_mode & 0o777 == 0o700 and os.stat(path).st_mode & 0o777 == 0o600, "private modes")
    expect(scalar(path, "PRAGMA integrity_check") == "ok", "the backup passes integrity_check")
    expect(sql(path, fetch="SELECT username FROM users ORDER BY id") == [("alice",), ("bob",)], "the backup's rows")
    expect(Tool(tmp, os.path.relpath(path, tmp)).json("user", "list")[1]["username"] == "bob", "cpm-db reads the backup")

    time.sleep(1.1)  # a new second, a new name
    doc = t.json("backup", "--output", out)
    expect(doc["integrity_check"] == "ok" and doc["path"].startswith(out) and doc["pages"] * doc["page_size"] == doc["bytes"]
           and doc["snapshot"] is True, f"backup --json: {doc}")
    expect(len(backups_in(out)) == 2, "a second backup")

    # A name that is taken is never overwritten: take every name of the next few seconds.
    now = datetime.datetime.now(datetime.timezone.utc)
    taken = [os.path.join(out, (now + datetime.timedelta(seconds=s)).strftime("cpm-%Y%m%d-%H%M%S.db")) for s in range(0, 6)]
    taken = [name for name in taken if not os.path.exists(name)]
    for name in taken:
        with open(name, "w") as f:
            f.write("not to be replaced")
    before = sorted(os.listdir(out))
    t.fails("backup", "--output", out, contains=["already exists", "never replaces"])
    expect(sorted(os.listdir(out)) == before, "nothing written, no temporary file left")
    expect(all(file_bytes(name) == b"not to be replaced" for name in taken), "the taken files are as they were")

    with open(os.path.join(tmp, "a-file"), "w") as f:
        f.write("x")
    t.fails("backup", "--output", os.path.join(tmp, "a-file"), contains="a-file")
    t.fails("backup", contains="--output is required", rc=2)
    t.fails("backup", "--output", out, "--pages", "0x", contains="--pages", rc=2)
    Tool(tmp, "missing.db").fails("backup", "--output", out, contains="no database at")


@case
def backup_progress_bar(tmp):
    try:  # a terminal to draw on: a machine without /dev/pts (a bare chroot) has none
        os.close(os.openpty()[0])
    except OSError as e:
        raise Skipped(f"no pseudo-terminal to draw the bar on ({e})")
    t = new_tool(tmp, populated=True)
    r = t.run("backup", "--output", os.path.join(tmp, "b"), "--pages", "3", stderr_tty=True)
    expect(r.rc == 0, f"backup on a terminal:\n{r!r}")
    expect("\rbackup [" in r.err and "] 100%" in r.err and "#" * 30 in r.err, f"a bar redrawn in place:\n{r!r}")
    expect("backup: " not in r.err, f"no plain lines on a terminal:\n{r!r}")
    r = t.run("backup", "--output", os.path.join(tmp, "c"), "--quiet", stderr_tty=True)
    expect(r.rc == 0 and "backup [" not in r.err, f"--quiet:\n{r!r}")


# The writer of backup_while_writing: another process committing users, each with an
# organization it owns, one transaction each, until told to stop.
WRITER = r"""
import os, sqlite3, sys, time
db, stop, started = sys.argv[1:4]
con = sqlite3.connect(db, timeout=30, isolation_level=None)
con.execute("PRAGMA foreign_keys=ON")
n, deadline = 0, time.time() + 30
while not os.path.exists(stop) and time.time() < deadline:
    con.execute("BEGIN IMMEDIATE")
    uid = con.execute("INSERT INTO users(username, email) VALUES (?, ?)", (f"w{n}", f"w{n}@example.org")).lastrowid
    oid = con.execute("INSERT INTO organizations(name, description) VALUES (?, ?)", (f"wo{n}", "w" * 150)).lastrowid
    con.execute("INSERT INTO org_members(org_id, user_id, role) VALUES (?, ?, 'owner')", (oid, uid))
    con.execute("COMMIT")
    n += 1
    if n == 1:
        open(started, "w").close()
print(n)
"""


@case
def backup_while_writing(tmp):
    t = new_tool(tmp)
    fill(t.db, 4000)
    written = lambda: scalar(t.db, "SELECT count(*) FROM users WHERE username LIKE 'w%'")
    stop, started = os.path.join(tmp, "stop"), os.path.join(tmp, "started")
    writer = subprocess.Popen([sys.executable, "-c", WRITER, t.db, stop, started], stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 20
        while not os.path.exists(started):
            expect(writer.poll() is None and time.time() < deadline, "the writer process did not start")
            time.sleep(0.01)
        before = written()
        r = t.run("backup", "--output", os.path.join(tmp, "b"), "--pages", "4", "--pause", "2", "--json")
        after = written()
    finally:
        open(stop, "w").close()
        total = int(writer.communicate(timeout=30)[0])
    expect(r.rc == 0, f"the backup completes while another process writes:\n{r!r}")
    doc = r.json()
    expect(doc["integrity_check"] == "ok" and doc["snapshot"] and doc["steps"] > 50, f"backup: {doc}")
    expect(after > before, f"the writer committed during the backup ({before} -> {after})")
    path = doc["path"]
    expect(scalar(path, "PRAGMA integrity_check") == "ok", "the backup passes integrity_check")
    expect(sql(path, fetch="PRAGMA foreign_key_check") == [], "the backup passes foreign_key_check")
    users = scalar(path, "SELECT count(*) FROM users WHERE username LIKE 'w%'")
    orgs = scalar(path, "SELECT count(*) FROM organizations WHERE name LIKE 'wo%'")
    owners = scalar(path, "SELECT count(*) FROM org_members m JOIN users u ON u.id = m.user_id WHERE u.username LIKE 'w%'")
    expect(users == orgs == owners, f"a consistent snapshot: whole transactions only ({users}, {orgs}, {owners})")
    expect(before <= users <= after, f"the snapshot lies within the backup's run ({before} <= {users} <= {after})")
    expect(scalar(path, "SELECT count(*) FROM users WHERE username LIKE 'u%'") == 4000, "the older rows are all there")
    Tool(tmp, os.path.relpath(path, tmp)).ok("check")
    expect(written() == total, "the writer's rows all reached the database")


@case
def restore(tmp):
    t = new_tool(tmp, populated=True)
    doc = t.json("backup", "--output", os.path.join(tmp, "b"))
    good = doc["path"]
    t.ok("user", "add", "mallory", "--email", "m@example.org")
    r = t.ok("restore", good)
    lines = r.out.splitlines()
    expect(lines[0].startswith(f"restored {t.db} from {good} (schema version ") and
           lines[1].startswith(f"the database it replaced is kept as {t.db}.replaced-"), f"restore:\n{r!r}")
    side = lines[1].rsplit(" ", 1)[1]
    expect(re.fullmatch(re.escape(t.db) + r"\.replaced-\d{8}-\d{6}", side), f"side copy name: {side}")
    expect([u["username"] for u in t.json("user", "list")] == ["alice", "bob"], "the backup's rows are back")
    expect(sql(side, fetch="SELECT username FROM users ORDER BY id")[-1] == ("mallory",), "the side copy has the replaced rows")
    expect(os.stat(t.db).st_mode & 0o777 == 0o600, "the restored file is 0600")
    t.ok("check")

    doc = t.json("restore", good)
    expect(doc["target"] == t.db and doc["source"] == good and doc["replaced"].startswith(t.db + ".replaced-")
           and doc["schema_version"] == doc["code_version"], f"restore --json: {doc}")

    # Into a path with no database yet.
    fresh = Tool(tmp, "fresh/cpm.db")
    r = fresh.ok("restore", good)
    expect("there was no database at" in r.out and fresh.json("user", "list")[0]["username"] == "alice", f"{r!r}")


def _refused_and_unchanged(t, file, contains):
    names = sorted(os.listdir(t.dir))
    users = [u["username"] for u in t.json("user", "list")]
    t.fails("restore", file, contains=contains)
    expect(sorted(os.listdir(t.dir)) == names, "no side copy, no temporary file")
    expect([u["username"] for u in t.json("user", "list")] == users, "the database is as it was")


@case
def restore_refused(tmp):
    t = new_tool(tmp, populated=True)
    fill(t.db, 1500)
    good = t.json("backup", "--output", os.path.join(tmp, "b"))["path"]
    pages = os.path.getsize(good) // 4096
    expect(pages > 40, f"a backup of many pages ({pages})")

    corrupt = os.path.join(tmp, "b", "corrupt.db")
    shutil.copy(good, corrupt)
    scribble(corrupt, pages // 2, 4)
    _refused_and_unchanged(t, corrupt, ["refusing to restore", "corrupt.db", "integrity_check"])

    text = os.path.join(tmp, "b", "notes.txt")
    with open(text, "w") as f:
        f.write("these are not the pages you are looking for\n" * 500)
    _refused_and_unchanged(t, text, ["notes.txt", "not an sqlite database"])

    newer = os.path.join(tmp, "b", "newer.db")
    shutil.copy(good, newer)
    sql(newer, "INSERT INTO cpm_schema_history(component, version, name, checksum) "
               "VALUES ('cpm.store', 99, 'from newer code', '')")
    _refused_and_unchanged(t, newer, ["schema version 99", "newer"])

    dangling = os.path.join(tmp, "b", "dangling.db")
    shutil.copy(good, dangling)
    sql(dangling, "INSERT INTO org_members(org_id, user_id, role) VALUES (1, 424242, 'member')")
    _refused_and_unchanged(t, dangling, ["dangling.db", "foreign_key_check", "org_members"])

    other = os.path.join(tmp, "b", "other.db")
    sql(other, "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT)")
    _refused_and_unchanged(t, other, ["other.db", "not a cpm database"])

    _refused_and_unchanged(t, os.path.join(tmp, "b", "missing.db"), ["missing.db", "cannot read"])
    _refused_and_unchanged(t, t.db, "the database to be replaced")
    t.fails("restore", contains="FILE is required", rc=2)

    # While another process has the database open, restore refuses to pull it away.
    holder = subprocess.Popen([sys.executable, "-c", "import sqlite3, sys, time\n"
                               "c = sqlite3.connect(sys.argv[1]); c.execute('SELECT count(*) FROM users').fetchall()\n"
                               "print('open', flush=True); time.sleep(30)", t.db], stdout=subprocess.PIPE, text=True)
    try:
        expect(holder.stdout.readline() == "open\n", "the holder opened the database")
        _refused_and_unchanged(t, good, ["is open in another process"])
    finally:
        holder.kill()
        holder.wait()


@case
def check(tmp):
    t = new_tool(tmp, populated=True)
    r = t.ok("check")
    expect("integrity_check:   ok" in r.out and "foreign_key_check: ok" in r.out and r.err == "", f"check:\n{r!r}")
    doc = t.json("check")
    expect(doc["ok"] is True and doc["integrity_check"] == [] and doc["foreign_key_check"] == [], f"check --json: {doc}")

    # A dangling foreign key, made with foreign keys off (Python's sqlite3 leaves them off).
    sql(t.db, "INSERT INTO org_members(org_id, user_id, role) VALUES (1, 999, 'member')",
        "INSERT INTO repositories(name, org_id, path) VALUES ('ghost', 77, '/srv/git/ghost.git')")
    r = t.run("check")
    expect(r.rc == 1, f"check exits non-zero:\n{r!r}")
    expect("foreign_key_check: 2 row(s) pointing nowhere" in r.out, f"check says what it found:\n{r!r}")
    expect(re.search(r"foreign_key_check: org_members row \d+ refers to a row of users that does not exist", r.out)
           and re.search(r"foreign_key_check: repositories row \d+ refers to a row of organizations", r.out), f"{r!r}")
    expect(r.err == f"cpm-db: check found 2 problem(s) in '{t.db}'\n", f"one line on stderr:\n{r!r}")
    r = t.run("check", "--json")
    doc = r.json()
    expect(r.rc == 1 and doc["ok"] is False and
           sorted((v["table"], v["parent"]) for v in doc["foreign_key_check"]) ==
           [("org_members", "users"), ("repositories", "organizations")], f"check --json:\n{r!r}")

    # A damaged file.
    os.makedirs(os.path.join(tmp, "d"))
    damaged = new_tool(os.path.join(tmp, "d"))
    fill(damaged.db, 1500)
    sql(damaged.db, "PRAGMA wal_checkpoint(TRUNCATE)")
    scribble(damaged.db, os.path.getsize(damaged.db) // 4096 // 2, 3)
    r = damaged.run("check")
    expect(r.rc == 1 and "integrity_check:   " in r.out and "problem(s)" in r.out and
           re.search(r"^  integrity_check: ", r.out, re.M), f"check on a damaged file:\n{r!r}")
    expect(re.fullmatch(r"cpm-db: check found \d+ problem\(s\) in '.*'\n", r.err), f"one line on stderr:\n{r!r}")

    Tool(tmp, "missing.db").fails("check", contains="no database at")
    t.fails("check", "extra", contains="extra", rc=2)


@case
def application_tables(tmp):
    """A file that holds an application's own versioned tables beside the store's."""
    t = new_tool(tmp, populated=True)
    sql(t.db,
        "CREATE TABLE builds(id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL REFERENCES repositories(id) "
        "ON DELETE CASCADE, status TEXT NOT NULL)",
        "INSERT INTO builds(repo_id, status) VALUES (1, 'ok'), (1, 'failed')",
        "INSERT INTO cpm_schema_history(component, version, name, checksum) VALUES ('ci', 1, 'builds', 'x')")
    doc = t.json("status")
    expect(doc["schema"] == "current" and doc["tables"]["builds"] == 2, f"status: {doc}")
    t.ok("migrate")
    t.ok("check")
    expect([u["username"] for u in t.json("user", "list")] == ["alice", "bob"], "the store's rows read as before")
    backup = t.json("backup", "--output", os.path.join(tmp, "b"))["path"]
    expect(scalar(backup, "SELECT count(*) FROM builds") == 2, "the backup holds the application's rows")
    sql(t.db, "DELETE FROM builds")
    t.ok("restore", backup)
    expect(scalar(t.db, "SELECT count(*) FROM builds") == 2, "restore brings the application's rows back")
    expect(scalar(t.db, "SELECT version FROM cpm_schema_history WHERE component = 'ci'") == 1,
           "and the application's history")
    t.ok("check")


@case
def records_by_id(tmp):
    """Every record argument takes a name or an id: 'id:N' always an id, a bare number an id or a name."""
    t = new_tool(tmp, populated=True)  # alice (1), bob (2), acme (1), acme/tools (1)
    t.ok("key", "add", "deploy", "--public-key", ssh_key(7), "--private-key-path", "/home/git/.ssh/deploy")
    t.ok("server", "add", "peer1", "--host", "peer1.example.org")
    r = t.ok("user", "show", "1")
    expect(r.out.startswith("user alice (id 1)\n"), f"a bare number is an id:\n{r!r}")
    expect(t.json("user", "show", "id:2")["user"]["username"] == "bob", "id:2")
    t.fails("user", "show", "id:9", contains="user id:9 not found")
    t.fails("user", "show", "9", contains=["user '9' not found", "no user has that id or name"])
    t.fails("user", "show", "id:x", contains=["'id:x' is not a user id", "id:3"], rc=2)
    t.fails("user", "show", "id:", contains="is not a user id", rc=2)
    # A username that is a number: found by name when no other record has it as id ...
    t.ok("user", "add", "7", "--email", "seven@example.org")  # id 3
    expect(t.json("user", "show", "7")["user"]["id"] == 3, "the user named 7")
    # ... and refused as ambiguous when it is another record's id; id: settles it.
    t.ok("user", "add", "1", "--email", "one@example.org")  # id 4
    t.fails("user", "show", "1", contains=["'1' is both the id of user alice and the name of user 1 (id 4)",
                                           "'id:1'", "'id:4'"])
    t.json_fails("user", "show", "1", kind="ambiguous", contains="both the id")
    expect(t.json("user", "show", "id:4")["user"]["username"] == "1", "id:4 is the user named 1")
    expect(t.json("user", "show", "id:1")["user"]["username"] == "alice", "id:1 is alice")

    # Organizations, members, repositories, access, keys, servers.
    expect([m["user"] for m in t.json("org", "member", "list", "1")] == ["alice"], "org by id")
    t.ok("org", "member", "add", "id:1", "2", "--role", "admin")
    expect(t.json("access", "show", "acme/tools", "id:2")["org_role"] == "admin", "member add by ids")
    expect(t.json("repo", "list", "--org", "id:1")[0]["name"] == "acme/tools", "repo list --org id:1")
    expect([x["name"] for x in t.json("repo", "list", "--user", "id:2")] == ["acme/tools"], "repo list --user id:2")
    expect(t.json("access", "show", "1")["repository"] == "acme/tools", "a repository by bare id")
    expect(t.json("access", "show", "id:1")["repository"] == "acme/tools", "a repository by id:1")
    expect(t.json("access", "show", "id:1/tools")["repository"] == "acme/tools", "ORG/NAME with the org by id")
    t.ok("access", "grant", "1", "id:2", "read")
    t.fails("access", "show", "id:9", contains="repository id:9 not found")
    t.fails("access", "show", "id:1/nothing", contains="repository 'acme/nothing' not found")
    doc = t.json("repo", "add", "id:1/site", "--path", "/srv/git/acme/site.git", "--admin", "id:2")
    expect(doc["name"] == "acme/site", f"repo add with the org by id: {doc}")
    doc = t.json("org", "add", "globex", "--owner", "id:2")
    expect(doc["owner"] == "bob", f"--owner by id names the owner: {doc}")
    expect("owned by bob" in t.ok("org", "add", "initech", "--owner", "2").out, "owner named in the text too")
    doc = t.json("server", "add", "peer2", "--host", "peer2.example.org", "--key", "id:1")
    expect(doc["ssh_key"] == "deploy", f"server add --key by id: {doc}")
    expect(t.json("server", "remove", "id:1")["name"] == "peer1", "server remove by id")
    expect(t.json("key", "remove", "1")["name"] == "deploy", "key remove by bare id")
    t.fails("server", "remove", "id:77", contains="server id:77 not found")
    t.fails("key", "remove", "77", contains="SSH key '77' not found")
    expect(t.json("repo", "remove", "id:2")["name"] == "acme/site", "repo remove by id")
    expect(t.json("user", "remove", "id:4")["username"] == "1", "user remove by id")
    expect(t.json("org", "remove", "id:1")["name"] == "acme", "org remove by id")


@case
def updates(tmp):
    t = new_tool(tmp, populated=True)  # alice owns acme, bob has write on acme/tools
    # users
    r = t.ok("user", "update", "alice", "--name", "alicia", "--email", "alicia@example.org")
    expect(r.out == "updated user alicia (id 1): username alice -> alicia, email alice@example.org -> alicia@example.org\n",
           f"user update:\n{r!r}")
    doc = t.json("user", "update", "id:2", "--email", "robert@example.org")
    expect(doc["username"] == "bob" and doc["email"] == "robert@example.org", f"user update --json: {doc}")
    expect(t.ok("user", "update", "bob", "--email", "robert@example.org").out.endswith(": nothing changed\n"), "no change")
    t.fails("user", "update", "bob", contains=["'cpm-db user update' needs something to change", "--name or --email"], rc=2)
    t.fails("user", "update", "bob", "--name", "alicia", contains=["username", "'alicia'", "already exists"])
    t.fails("user", "update", "bob", "--name", "b c", contains=["user.username", "'b c'"])
    t.fails("user", "update", "bob", "--email", "nope", contains=["user.email", "nope"])
    t.fails("user", "update", "nobody", "--email", "n@example.org", contains="user 'nobody' not found")
    expect([u["username"] for u in t.json("user", "list")] == ["alicia", "bob"], "refused updates changed nothing")

    # organizations
    t.ok("org", "add", "initech")
    r = t.ok("org", "update", "acme", "--name", "acme-corp", "--description", "the corporation")
    expect(r.out == "updated organization acme-corp (id 1): name acme -> acme-corp, description 'the company' -> "
                    "'the corporation'\n", f"org update:\n{r!r}")
    doc = t.json("org", "update", "acme-corp", "--no-description")
    expect(doc["name"] == "acme-corp" and doc["description"] is None, f"--no-description: {doc}")
    t.fails("org", "update", "acme-corp", "--description", "x", "--no-description",
            contains="give --description or --no-description, not both", rc=2)
    t.fails("org", "update", "acme-corp", contains="needs something to change", rc=2)
    t.fails("org", "update", "acme-corp", "--name", "initech", contains=["'initech'", "already exists"])
    t.fails("org", "update", "acme-corp", "--name", "bad/name", contains=["organization.name", "bad/name"])
    t.fails("org", "update", "nowhere", "--name", "x", contains="organization 'nowhere' not found")

    # members' roles
    t.ok("org", "member", "add", "acme-corp", "bob")
    r = t.ok("org", "member", "update", "acme-corp", "bob", "--role", "admin")
    expect(r.out == "bob is now admin of acme-corp (was member)\n", f"member update:\n{r!r}")
    expect(t.json("access", "show", "acme-corp/tools", "bob")["org_role"] == "admin", "the role changed")
    doc = t.json("org", "member", "update", "acme-corp", "bob", "--role", "owner")
    expect(doc["role"] == "owner" and doc["user"] == "bob" and doc["organization"] == "acme-corp", f"{doc}")
    expect("nothing changed" in t.ok("org", "member", "update", "acme-corp", "bob", "--role", "owner").out, "same role")
    t.fails("org", "member", "update", "initech", "bob", "--role", "admin", contains="bob is not a member of initech")
    t.fails("org", "member", "update", "acme-corp", "bob", "--role", "boss",
            contains="role 'boss' is not one of owner, admin, member", rc=2)
    t.fails("org", "member", "update", "acme-corp", "bob", contains="--role is required", rc=2)

    # repositories: rename, move, path, description
    t.ok("repo", "add", "initech/tools", "--path", "/srv/git/initech/tools.git")
    r = t.ok("repo", "update", "acme-corp/tools", "--name", "toolbox", "--description", "shared tools")
    expect(r.out == "updated repository acme-corp/toolbox (id 1): name acme-corp/tools -> acme-corp/toolbox, "
                    "description none -> 'shared tools'\n", f"repo update:\n{r!r}")
    doc = t.json("repo", "update", "acme-corp/toolbox", "--org", "initech", "--path", "/srv/git/initech/toolbox.git")
    expect(doc["name"] == "initech/toolbox" and doc["organization"] == "initech" and
           doc["path"] == "/srv/git/initech/toolbox.git", f"repo moved: {doc}")
    expect(sorted(x["name"] for x in t.json("repo", "list", "--org", "initech")) == ["initech/toolbox", "initech/tools"],
           "the moved repository is initech's")
    expect(t.json("access", "show", "initech/toolbox", "bob")["grant"] == "write", "its grants moved with it")
    t.fails("repo", "update", "initech/toolbox", "--name", "tools", contains=["'tools'", "already exists"])
    t.ok("repo", "add", "acme-corp/tools", "--path", "/srv/git/acme/tools.git")
    t.fails("repo", "update", "initech/tools", "--org", "acme-corp", contains=["'tools'", "already exists"])
    t.fails("repo", "update", "initech/tools", "--org", "nowhere", contains="organization 'nowhere' not found")
    t.fails("repo", "update", "initech/tools", "--path", "relative", contains=["repository.path", "absolute"])
    t.fails("repo", "update", "initech/tools", "--name", "a b", contains="repository.name")
    t.fails("repo", "update", "initech/tools", contains="needs something to change", rc=2)
    t.fails("repo", "update", "initech/nothing", "--name", "x", contains="repository 'initech/nothing' not found")
    expect(t.json("repo", "update", "initech/toolbox", "--no-description")["description"] is None, "--no-description")

    # SSH keys
    t.ok("key", "add", "deploy", "--public-key", ssh_key(7), "--private-key-path", "/home/git/.ssh/deploy")
    t.ok("key", "add", "spare", "--public-key", ssh_key(8), "--private-key-path", "/home/git/.ssh/spare")
    r = t.ok("key", "update", "deploy", "--name", "deploy2", "--private-key-path", "/home/git/.ssh/deploy2")
    expect(r.out == "updated SSH key deploy2 (id 1): name deploy -> deploy2, private key path /home/git/.ssh/deploy -> "
                    "/home/git/.ssh/deploy2\n", f"key update:\n{r!r}")
    doc = t.json("key", "update", "deploy2", "--public-key", ssh_key(9, "new"))
    expect(doc["public_key"] == ssh_key(9, "new"), f"key update --public-key: {doc}")
    t.fails("key", "update", "deploy2", "--public-key", "ssh-foo AAAA", contains=["ssh_key.public_key", "unknown key type"])
    t.fails("key", "update", "deploy2", "--private-key-path", "keys/x", contains="ssh_key.private_key_path")
    t.fails("key", "update", "deploy2", "--name", "spare", contains=["'spare'", "already exists"])
    t.fails("key", "update", "deploy2", contains="needs something to change", rc=2)

    # servers
    t.ok("server", "add", "peer1", "--host", "peer1.example.org")
    r = t.ok("server", "update", "peer1", "--host", "10.0.0.9", "--port", "2222", "--neighbor", "--key", "deploy2")
    expect(r.out == "updated server peer1 (id 1): host peer1.example.org -> 10.0.0.9, port 22 -> 2222, neighbor no -> yes, "
                    "SSH key none -> 'deploy2'\n", f"server update:\n{r!r}")
    expect([x["name"] for x in t.json("server", "list", "--neighbor")] == ["peer1"], "now a neighbor")
    doc = t.json("server", "update", "peer1", "--no-neighbor", "--no-key", "--name", "mirror")
    expect(doc["name"] == "mirror" and doc["is_neighbor"] is False and doc["ssh_key"] is None and doc["port"] == 2222,
           f"server update --json: {doc}")
    t.fails("server", "update", "mirror", "--port", "0", contains=["server.port", "'0'"])
    t.fails("server", "update", "mirror", "--port", "ssh", contains=["--port takes a port number", "'ssh'"], rc=2)
    t.fails("server", "update", "mirror", "--host", "bad_host!", contains=["server.host", "bad_host!"])
    t.fails("server", "update", "mirror", "--key", "nothing", contains="SSH key 'nothing' not found")
    t.fails("server", "update", "mirror", "--neighbor", "--no-neighbor", contains="not both", rc=2)
    t.fails("server", "update", "mirror", "--key", "spare", "--no-key", contains="give --key or --no-key, not both", rc=2)
    t.fails("server", "update", "mirror", contains="needs something to change", rc=2)
    t.fails("server", "update", "nothing", "--port", "22", contains="server 'nothing' not found")
    expect(t.json("server", "list")[0]["port"] == 2222, "refused updates changed nothing")


@case
def json_errors(tmp):
    """With --json a failure is one line {"error": {"kind", "message", "exit_code", ...}} on stderr."""
    t = Tool(tmp)
    t.json_fails("status", kind="no_database", contains="no database at")
    t.ok("init")
    t.ok("user", "add", "alice", "--email", "alice@example.org")
    t.json_fails("user", "show", "nobody", kind="not_found", contains="user 'nobody' not found")
    error = t.json_fails("user", "add", "b c", "--email", "x@example.org", kind="invalid", contains="may hold only")
    expect(error["field"] == "user.username" and error["value"] == "b c", f"the field and value: {error}")
    error = t.json_fails("user", "add", "alice", "--email", "a2@example.org", kind="already_exists", contains="already exists")
    expect(error["field"] == "user.username" and error["value"] == "alice", f"the field and value: {error}")
    t.json_fails("user", "list", "extra", kind="usage", contains="takes no arguments", rc=2)
    t.json_fails("user", "add", "carol", kind="usage", contains="--email is required", rc=2)
    t.json_fails("server", "add", "x", "--host", "h.example.org", "--port", "ssh", kind="usage", contains="--port", rc=2)
    t.json_fails("frobnicate", kind="usage", contains="not a command", rc=2, use_db=False)
    t.json_fails("user", "show", "id:x", kind="usage", contains="not a user id", rc=2)
    t.json_fails("status", "--db", "", kind="usage", contains="--db is empty", rc=2, use_db=False)
    # --json before the command, as with --db
    r = t.run("--json", "user", "show", "nobody")
    expect(r.rc == 1 and json.loads(r.err)["error"]["kind"] == "not_found", f"--json first:\n{r!r}")
    # check: the report on stdout, the error on stderr
    sql(t.db, "INSERT INTO org_members(org_id, user_id, role) VALUES (5, 999, 'member')")
    t.json_fails("check", kind="check_failed", contains="check found 2 problem(s)")
    # a schema this cpm-db does not know
    sql(t.db, "INSERT INTO cpm_schema_history(component, version, name, checksum) VALUES ('cpm.store', 99, 'x', '')")
    t.json_fails("user", "list", kind="schema", contains="newer")
    with open(os.path.join(tmp, "text.db"), "w") as f:
        f.write("hello " * 1000)
    t.json_fails("restore", os.path.join(tmp, "text.db"), kind="refused", contains="not an sqlite database")
    # without --json, the same failure is text
    t.fails("user", "list", contains="newer")


@case
def parse_errors(tmp):
    """Each kind of command-line mistake is described in the tool's words: which option, what was given,
    what it takes. (Tool.fails also checks that none of CLI11's own words reach the user.)"""
    t = new_tool(tmp)
    # a required argument or option missing
    t.fails("user", "show", contains="USER is required: a username, or id:N", rc=2)
    t.fails("user", "add", "carol", contains="--email is required: the user's email address", rc=2)
    # an option without its value, at the end or before another option
    t.fails("user", "add", "carol", "--email", contains="--email needs a value: the user's email address", rc=2,
            use_db=False)
    t.fails("repo", "list", "--org", "--user", "alice", contains="--org needs a value", rc=2)
    t.fails("repo", "add", "acme/x", "--path", "--description", "d",
            contains="--path needs a value: the absolute path of the bare git repository (it was followed by --description)",
            rc=2)
    t.fails("status", "--db", contains="--db needs a value", rc=2, use_db=False)
    t.fails("--db", contains="--db needs a value", rc=2, use_db=False)
    # an option given twice
    t.fails("user", "add", "carol", "--email", "a@example.org", "--email", "b@example.org",
            contains="--email was given 2 times ('a@example.org', 'b@example.org'): give it once", rc=2)
    t.fails("status", "--db", "a.db", contains="--db was given 2 times", rc=2)  # with run()'s own --db
    t.fails("--db", "a.db", "--db", "b.db", "status", contains="--db was given 2 times ('a.db', 'b.db')", rc=2,
            use_db=False)
    # words too many, options unknown, words that are not commands
    t.fails("user", "list", "extra", contains="'cpm-db user list' takes no arguments, but was given 'extra'", rc=2)
    t.fails("user", "add", "a", "b", "c", "--email", "x@example.org",
            contains="'cpm-db user add' takes 1 argument (USERNAME); 'b', 'c' are one too many", rc=2)
    t.fails("user", "list", "--bogus", contains="'cpm-db user list' has no option '--bogus'", rc=2)
    t.fails("--bogus", contains="'cpm-db' has no option '--bogus'", rc=2, use_db=False)
    t.fails("user", "--bogus", contains="'cpm-db user' has no option '--bogus'", rc=2, use_db=False)
    t.fails("user", "frob", contains="'frob' is not a command of 'cpm-db user'", rc=2, use_db=False)
    # a flag given a value
    t.fails("server", "list", "--neighbor=maybe",
            contains="--neighbor is a flag: give it alone (or as --neighbor=true, --neighbor=false), not 'maybe'", rc=2)
    t.fails("user", "list", "--json=perhaps", contains="--json is a flag", rc=2)
    # numbers
    t.fails("server", "add", "x", "--host", "h.example.org", "--port", "ssh",
            contains="--port takes a port number, 1 to 65535, not 'ssh'", rc=2)
    t.fails("server", "add", "x", "--host", "h.example.org", "--port", "99999999999",
            contains="--port takes a port number, 1 to 65535, not '99999999999'", rc=2)
    t.fails("server", "add", "x", "--host", "h.example.org", "--port", "22x", contains="not '22x'", rc=2)
    t.fails("backup", "--output", "b", "--pages", "0x", contains="--pages takes a whole number of pages", rc=2)
    t.fails("backup", "--output", "b", "--pages", "-2", contains="--pages takes", rc=2)
    t.fails("backup", "--output", "b", "--pause", "70000",
            contains="--pause takes a whole number of milliseconds, 0 to 60000, not '70000'", rc=2)
    # choices
    t.fails("access", "grant", "acme/tools", "bob", "owner", contains="access level 'owner' is not one of read, write, admin",
            rc=2)
    t.fails("org", "member", "add", "acme", "bob", "--role", "boss", contains="role 'boss' is not one of owner, admin, member",
            rc=2)
    expect(t.ok("backup", "--output", os.path.join(tmp, "b"), "--pages", "-1", "--quiet").rc == 0, "--pages -1 is accepted")


def _as_other_user():
    """How to run the tool as a user for whom file modes count: setpriv to nobody when this is root."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if not setpriv:
        raise Skipped("running as root without setpriv: file modes cannot stop root")
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]


@case
def paths(tmp):
    t = Tool(tmp)
    # init refuses what is not a database file, and says what it is
    text = os.path.join(tmp, "notadb.txt")
    with open(text, "w") as f:
        f.write("my notes\n")
    Tool(tmp, "notadb.txt").fails("init", contains=["'" + text + "' is a file of 9 bytes that is not an SQLite database",
                                                    "never overwrites"])
    expect(file_bytes(text) == b"my notes\n", "the file is untouched")
    os.makedirs(os.path.join(tmp, "adir"))
    Tool(tmp, "adir").fails("init", contains="is a directory, not a database file")
    Tool(tmp, "adir").fails("status", contains="is a directory, not a database file")
    Tool(tmp, "adir").fails("user", "list", contains="is a directory, not a database file")
    Tool(tmp, "adir").json_fails("check", kind="not_a_database", contains="is a directory")
    os.mkfifo(os.path.join(tmp, "fifo"))
    Tool(tmp, "fifo").fails("init", contains="is a named pipe")
    t.ok("init")
    t.fails("init", contains="a database already exists at")
    # an empty file is made a database (as before: what SQLite itself does)
    open(os.path.join(tmp, "empty.db"), "w").close()
    Tool(tmp, "empty.db").ok("init")
    # --db "" is an error, not the default path; an empty $CPMDB_PATH is as if unset
    t.fails("init", "--db", "", contains="--db is empty", rc=2, use_db=False)
    t.fails("status", "--db=", contains="--db needs a value", rc=2, use_db=False)
    expect(not os.path.exists(os.path.join(tmp, "home", ".cpm")), "nothing made at the default path")
    r = t.run("init", use_db=False, env=dict(t.env, CPMDB_PATH=""))
    expect(r.rc == 0 and os.path.isfile(os.path.join(tmp, "home", ".cpm", "cpm.db")), f"empty $CPMDB_PATH:\n{r!r}")


@case
def read_only(tmp):
    """status, check and backup on a database this user cannot write: as another user (nobody, through
    setpriv, when the tests run as root), a file of mode 0444 in a directory of mode 0555 (what a
    read-only mount gives too), and a file of mode 0444 in a writable directory."""
    prefix = _as_other_user()
    os.chmod(tmp, 0o755)
    t = new_tool(tmp, populated=True)  # WAL mode, closed cleanly: no -wal, no -shm
    ro_dir = os.path.join(tmp, "ro")
    os.makedirs(ro_dir)
    shutil.copy(t.db, os.path.join(ro_dir, "cpm.db"))
    db = os.path.join(ro_dir, "cpm.db")
    os.chmod(db, 0o444)
    os.chmod(ro_dir, 0o555)
    out = os.path.join(tmp, "out")
    os.makedirs(out)
    os.chmod(out, 0o777)

    def tool(*args):
        proc = subprocess.run(prefix + [TOOL, *args, "--db", db], capture_output=True, text=True, cwd=tmp, timeout=60)
        return Result(list(args), proc)

    # the read-write open fails for this user; as it was before, status said "attempt to write a readonly database"
    r = tool("status")
    expect(r.rc == 0 and "journal mode:   wal" in r.out and "opened:         immutable" in r.out, f"status:\n{r!r}")
    doc = tool("status", "--json").json()
    expect(doc["opened"] == "immutable" and doc["tables"]["users"] == 2 and doc["schema"] == "current", f"{doc}")
    r = tool("check")
    expect(r.rc == 0 and "integrity_check:   ok" in r.out, f"check:\n{r!r}")
    r = tool("backup", "--output", os.path.join(out, "b"), "--quiet", "--json")
    expect(r.rc == 0, f"backup:\n{r!r}")
    expect(sql(r.json()["path"], fetch="SELECT username FROM users ORDER BY id") == [("alice",), ("bob",)], "backup rows")
    r = tool("user", "add", "carol", "--email", "c@example.org")
    expect(r.rc == 1 and r.err.startswith("cpm-db: ") and "readonly" in r.err.replace("-", "").lower(),
           f"a write says it cannot write:\n{r!r}")
    expect(sorted(os.listdir(ro_dir)) == ["cpm.db"], "nothing made beside it")

    # A writable directory: opened read-only (SQLite makes its -shm there).
    os.chmod(ro_dir, 0o777)
    doc = tool("status", "--json").json()
    expect(doc["opened"] == "read-only" and doc["tables"]["users"] == 2, f"read-only file, writable directory: {doc}")
    expect("opened:         read-only" in tool("status").out, "status says so")

    # A write-ahead log holding committed changes, beside a file in a read-only directory (a
    # writer that died, copied as it was): read as immutable it would miss them, so refused.
    os.chmod(ro_dir, 0o755)
    os.chmod(db, 0o644)
    os.remove(db)
    for name in os.listdir(ro_dir):
        os.remove(os.path.join(ro_dir, name))
    holder = sqlite3.connect(t.db, isolation_level=None)
    try:
        holder.execute("PRAGMA wal_autocheckpoint=0")
        holder.execute("INSERT INTO users(username, email) VALUES ('walrus', 'w@example.org')")
        shutil.copy(t.db, db)
        shutil.copy(t.db + "-wal", db + "-wal")
    finally:
        holder.close()
    os.chmod(db, 0o444)
    os.chmod(db + "-wal", 0o444)
    os.chmod(ro_dir, 0o555)
    r = tool("status")
    expect(r.rc == 1 and "write-ahead log" in r.err and "-wal" in r.err and len(r.err.splitlines()) == 1,
           f"a WAL it cannot read is refused, not skipped:\n{r!r}")
    r = tool("check", "--json")
    expect(r.rc == 1 and json.loads(r.err)["error"]["kind"] == "read_only", f"check --json:\n{r!r}")
    os.chmod(ro_dir, 0o755)


@case
def install(tmp):
    """cmake --install: cpm-db and its manual page are the component cpm-db, the library cpm-dev."""
    if not BUILD_DIR:
        raise Skipped("no --build-dir to install from")
    cmake = shutil.which("cmake")
    if not cmake:
        raise Skipped("no cmake")

    def install_into(prefix, *component):
        proc = subprocess.run([cmake, "--install", BUILD_DIR, "--prefix", prefix, *component], capture_output=True,
                              text=True, timeout=120)
        expect(proc.returncode == 0, f"cmake --install {' '.join(component)} failed:\n{proc.stdout}{proc.stderr}")
        return prefix

    def files(prefix):
        return sorted(os.path.relpath(os.path.join(d, f), prefix) for d, _, names in os.walk(prefix) for f in names)

    tool_only = install_into(os.path.join(tmp, "tool"), "--component", "cpm-db")
    expect(files(tool_only) == ["bin/cpm-db", "share/man/man1/cpm-db.1"], f"the cpm-db component: {files(tool_only)}")
    proc = subprocess.run([os.path.join(tool_only, "bin", "cpm-db"), "--version"], capture_output=True, text=True)
    expect(proc.returncode == 0 and re.fullmatch(r"\d+\.\d+\.\d+\n", proc.stdout), f"the installed tool runs: {proc}")
    with open(os.path.join(tool_only, "share", "man", "man1", "cpm-db.1")) as f:
        page = f.read()
    expect(page.startswith(".\\\" ") and "\n.TH CPM\\-DB 1 " in page and "\n.SH SYNOPSIS\n" in page, "a manual page")
    # written from the tool's own help: every command, and each command's options, are on it
    for command in [["user", "update"], ["org", "member", "update"], ["repo", "update"], ["server", "update"],
                    ["key", "update"], ["backup"], ["access", "grant"]]:
        expect("\\fBcpm\\-db " + " ".join(command) + "\\fR" in page, f"the page has {command}")
        help_text = subprocess.run([TOOL, *command, "--help"], capture_output=True, text=True).stdout
        for option in re.findall(r"^\s+(--[a-z-]+)", help_text, re.M):
            if option not in ("--help", "--db", "--json"):
                expect(option.replace("-", "\\-") in page, f"the page has {' '.join(command)} {option}")

    library_only = install_into(os.path.join(tmp, "lib"), "--component", "cpm-dev")
    installed = files(library_only)
    expect("include/cpm/cpm.hpp" in installed and "share/cpm/cmake/cpm-config.cmake" in installed, f"the library: {installed}")
    expect(not any(p.startswith("bin/") or "man1" in p for p in installed), f"cpm-dev leaves cpm-db out: {installed}")

    everything = files(install_into(os.path.join(tmp, "all")))
    expect("bin/cpm-db" in everything and "include/cpm/cpm.hpp" in everything, f"a full install has both: {everything}")


@case
def user_keys_and_rules(tmp):
    t = Tool(tmp)
    t.ok("init")
    t.ok("user", "add", "alice", "--email", "alice@example.org", "--key", ssh_key(1, "alice@laptop"))
    t.ok("user", "add", "bob", "--email", "bob@example.org")
    doc = t.json("user", "key", "add", "alice", "desktop", ssh_key(2, "alice@desktop"))
    expect(doc["name"] == "desktop" and doc["comment"] == "alice@desktop", f"key add --json:\n{doc!r}")
    expect(re.fullmatch(r"SHA256:[A-Za-z0-9+/]{43}", doc["fingerprint"]), f"fingerprint:\n{doc!r}")
    keys = t.json("user", "key", "list", "alice")
    expect([k["name"] for k in keys] == ["default", "desktop"], f"key list:\n{keys!r}")
    expect(keys[0]["comment"] == "alice@laptop", f"the comment of the key given to user add is kept:\n{keys!r}")
    r = t.ok("user", "key", "list", "alice")
    expect(doc["fingerprint"] in r.out and "alice@desktop" in r.out, f"key list:\n{r!r}")
    t.fails("user", "key", "add", "bob", "stolen", ssh_key(2, "bob@x"), contains="already exists")
    t.json_fails("user", "key", "add", "bob", "stolen", ssh_key(2), kind="already_exists", contains="public_key")
    t.fails("user", "key", "add", "bob", "bad", "ssh-ed25519 nope!", contains="base64")
    t.fails("user", "key", "remove", "alice", "nosuch", contains="not found")
    t.ok("user", "key", "remove", "alice", "desktop")
    expect([k["name"] for k in t.json("user", "key", "list", "alice")] == ["default"], "key removed")
    # Names unique regardless of case; a repository path once.
    t.fails("user", "add", "ALICE", "--email", "a2@example.org", contains="already exists")
    t.ok("org", "add", "acme", "--owner", "alice")
    t.fails("org", "add", "Acme", contains="already exists")
    t.ok("repo", "add", "acme/tools", "--path", "/srv/git/acme/tools.git")
    t.fails("repo", "add", "acme/tools2", "--path", "/srv/git/acme/tools.git", contains="path")
    # The last owner stays.
    t.fails("org", "member", "remove", "acme", "alice", contains="last owner of organization 'acme'")
    t.json_fails("org", "member", "update", "acme", "alice", "--role", "member", kind="last_owner", contains="acme")
    t.fails("user", "remove", "alice", contains="last owner")
    t.ok("org", "member", "add", "acme", "bob", "--role", "owner")
    t.ok("org", "member", "remove", "acme", "alice")
    t.ok("user", "remove", "alice")


def main():
    global TOOL
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cpm-db", help="the cpm-db executable")
    parser.add_argument("--build-dir", help="the CMake build tree that made it (for the install case)")
    parser.add_argument("--list", action="store_true", help="list the cases")
    parser.add_argument("case", nargs="?", default="all")
    args = parser.parse_args()
    if args.list:
        print("\n".join(CASES))
        return 0
    if not args.cpm_db:
        parser.error("--cpm-db is required")
    TOOL = os.path.abspath(args.cpm_db)
    global BUILD_DIR
    BUILD_DIR = args.build_dir
    names = list(CASES) if args.case == "all" else [args.case]
    failed = 0
    skipped = 0
    for name in names:
        if name not in CASES:
            print(f"run.py: no case '{name}' (see --list)", file=sys.stderr)
            return 2
        start = time.time()
        with tempfile.TemporaryDirectory(prefix=f"cpm-db-{name}-") as tmp:
            try:
                CASES[name](tmp)
                print(f"ok    {name} ({time.time() - start:.1f} s)")
            except Failed as e:
                failed += 1
                print(f"FAIL  {name}: {e}")
            except Skipped as e:
                skipped += 1
                print(f"skip  {name}: {e}")
    print(f"{len(names) - failed - skipped} passed, {failed} failed, {skipped} skipped")
    if failed:
        return 1
    return SKIP_CODE if skipped == len(names) else 0


if __name__ == "__main__":
    sys.exit(main())
