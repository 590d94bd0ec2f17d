#!/usr/bin/env python3
"""End-to-end tests of cpm-db on PostgreSQL: the record commands and init/migrate/status with
--db naming a PostgreSQL database, backup/restore/check refused there, and `copy` between
SQLite and PostgreSQL. Python 3 standard library only, plus psql to make a schema per case.

    postgres.py --cpm-db PATH CASE   run one case (CTest runs each as cpm.cpm_db.pg_CASE; the case
                                     unsupported, for a cpm-db built without libpq, alone)
    postgres.py --cpm-db PATH all    run every case
    postgres.py --list               list the cases

The server: the libpq connection string in $CPM_PG_CONNINFO, else in the file
$CPM_PG_CONNINFO_FILE (the ctest fixture cpm_pg_cluster, scripts/pg-cluster.sh, writes it).
Each case works in a schema of its own (dropped at the end), reached by adding
options='-c search_path=SCHEMA' to the connection string. Without a server the cases are
skipped (exit code 77). The helpers and conventions are those of run.py.
"""
import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the SQLite cases' helpers: Tool, expect, ssh_key, sql, ...)
from run import Failed, Skipped, Tool, expect, ssh_key, sql, scalar  # noqa: E402

CASES = {}

# The store's tables, in the order of their foreign keys.
TABLES = ["users", "user_keys", "organizations", "org_members", "repositories", "repo_access", "ssh_keys", "servers"]


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def conninfo():
    text = os.environ.get("CPM_PG_CONNINFO")
    if not text:
        path = os.environ.get("CPM_PG_CONNINFO_FILE")
        if not path or not os.path.exists(path):
            raise Skipped("no PostgreSQL server: set CPM_PG_CONNINFO or CPM_PG_CONNINFO_FILE (ctest sets the latter)")
        with open(path) as f:
            text = f.read().strip()
    return text


def psql():
    for candidate in [shutil.which("psql"), "/usr/lib/postgresql/15/bin/psql"]:
        if candidate and os.path.exists(candidate):
            return candidate
    raise Skipped("psql not found")


class Schema:
    """A schema of its own on the test server, and connection strings that point at it."""

    counter = 0

    def __init__(self):
        Schema.counter += 1
        self.base = conninfo()
        self.name = f"cpmdb_{os.getpid()}_{Schema.counter}"
        self.admin(f"DROP SCHEMA IF EXISTS {self.name} CASCADE; CREATE SCHEMA {self.name}")

    def admin(self, statement):
        r = subprocess.run([psql(), self.base, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", statement], capture_output=True,
                           text=True, timeout=60)
        expect(r.returncode == 0, f"psql failed: {statement}\n{r.stderr}")
        return r.stdout

    def keywords(self):
        """The libpq key=value form: host=... port=... dbname=... user=... options='-c search_path=S'."""
        return f"{self.base} options='-c search_path={self.name}'"

    def uri(self):
        """The URI form: postgresql://user@/dbname?host=...&port=...&options=-c%20search_path%3DS"""
        fields = dict(part.split("=", 1) for part in self.base.split())
        query = {"host": fields["host"], "port": fields["port"], "options": f"-c search_path={self.name}"}
        return (f"postgresql://{urllib.parse.quote(fields.get('user', ''))}@/{urllib.parse.quote(fields['dbname'])}?"
                + urllib.parse.urlencode(query, quote_via=urllib.parse.quote))

    def query(self, statement):
        return self.admin(f"SET search_path TO {self.name}; {statement}").strip()

    def drop(self):
        try:
            self.admin(f"DROP SCHEMA IF EXISTS {self.name} CASCADE")
        except Failed:
            pass


def pg_tool(tmp, schema, form="keywords"):
    t = Tool(tmp)
    t.db = schema.uri() if form == "uri" else schema.keywords()
    return t


def rows_of(path):
    """Every row of every store table of the SQLite file, by table, in id order, as stored."""
    con = sqlite3.connect(path)
    try:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in TABLES}
    finally:
        con.close()


def without_times(doc):
    """A JSON document with the times (which differ between two databases) left out."""
    if isinstance(doc, dict):
        return {k: without_times(v) for k, v in doc.items() if k not in ("created_at", "joined_at", "last_used_at")}
    if isinstance(doc, list):
        return [without_times(v) for v in doc]
    return doc


# ---- cases ---------------------------------------------------------------------------------

# The same commands on an SQLite file and on PostgreSQL: each one's JSON is the same on both
# (times aside), and so are the failures.
SCRIPT = [
    ["user", "add", "alice", "--email", "alice@example.org", "--key", ssh_key(1, "alice@laptop")],
    ["user", "add", "bob", "--email", "bob@example.org"],
    ["user", "add", "carol", "--email", "carol@example.org"],
    ["user", "update", "carol", "--email", "carol@example.net"],
    ["user", "key", "add", "bob", "work", ssh_key(2, "bob@work")],
    ["user", "key", "list", "bob"],
    ["org", "add", "acme", "--owner", "alice", "--description", "the company"],
    ["org", "add", "tiny"],
    ["org", "update", "tiny", "--description", "small"],
    ["org", "member", "add", "acme", "bob", "--role", "admin"],
    ["org", "member", "update", "acme", "bob", "--role", "member"],
    ["org", "member", "list", "acme"],
    ["repo", "add", "acme/tools", "--path", "/srv/git/acme/tools.git", "--admin", "carol"],
    ["repo", "add", "acme/site", "--path", "/srv/git/acme/site.git", "--description", "web"],
    ["repo", "update", "acme/site", "--org", "tiny", "--no-description"],
    ["repo", "list"],
    ["repo", "list", "--user", "bob"],
    ["access", "grant", "acme/tools", "bob", "write"],
    ["access", "show", "acme/tools"],
    ["access", "revoke", "acme/tools", "bob"],
    ["access", "show", "acme/tools", "bob"],
    ["key", "add", "deploy", "--public-key", ssh_key(3, "deploy"), "--private-key-path", "/etc/cpm/deploy"],
    ["key", "update", "deploy", "--private-key-path", "/etc/cpm/deploy2"],
    ["key", "list"],
    ["server", "add", "mirror", "--host", "10.0.0.7", "--port", "2222", "--key", "deploy", "--neighbor"],
    ["server", "add", "backup", "--host", "10.0.0.8"],
    ["server", "update", "backup", "--port", "2200", "--key", "deploy"],
    ["server", "list", "--neighbor"],
    ["server", "remove", "backup"],
    ["server", "list"],
    ["user", "show", "alice"],
    ["user", "show", "id:2"],
    ["user", "key", "remove", "bob", "work"],
    ["org", "member", "remove", "acme", "bob"],
    ["repo", "remove", "tiny/site"],
    ["org", "remove", "tiny"],
    ["user", "remove", "carol"],
    ["user", "list"],
]

FAILURES = [
    # (command, kind, exit code, words of the message)
    (["user", "show", "nobody"], "not_found", 1, "user 'nobody' not found"),
    (["user", "add", "alice", "--email", "x@example.org"], "already_exists", 1, "already exists"),
    (["user", "add", "b c", "--email", "x@example.org"], "invalid", 1, "user.username"),
    (["org", "member", "update", "acme", "alice", "--role", "member"], "last_owner", 1, "owner"),
    (["org", "member", "add", "acme", "alice", "--role", "boss"], "usage", 2, "role 'boss'"),
    (["repo", "show", "acme/tools"], "usage", 2, "not a command"),
]


@case
def records(tmp):
    schema = Schema()
    try:
        lite = Tool(tmp)
        pg = pg_tool(tmp, schema)
        # Before init: no cpm tables there.
        pg.json_fails("user", "list", kind="no_database", contains="cpm-db init")
        created = pg.json("init")
        expect(created["created"] is True and created["to"] == created["target"] and "database" in created,
               f"init --json: {created}")
        pg.fails("init", contains="already exists")
        expect(pg.json("migrate")["applied"] == [], "migrate on a current database applies nothing")
        lite.ok("init")
        for command in SCRIPT:
            a = without_times(lite.json(*command))
            b = without_times(pg.json(*command))
            expect(a == b, f"{' '.join(command)}: SQLite and PostgreSQL differ:\n  SQLite:     {a}\n  PostgreSQL: {b}")
        for command in [["user", "list"], ["org", "list"], ["repo", "list"], ["key", "list"], ["server", "list"],
                        ["access", "show", "acme/tools"]]:
            ta, tb = lite.ok(*command).out, pg.ok(*command).out
            expect(ta == tb, f"{' '.join(command)}: the text differs:\n{ta}\n---\n{tb}")
        for command, kind, rc, words in FAILURES:
            pg.json_fails(*command, kind=kind, contains=words, rc=rc)
            lite.json_fails(*command, kind=kind, contains=words, rc=rc)
            pg.fails(*command, contains=words, rc=rc)
        # The rows are where the tool says.
        expect(schema.query("SELECT string_agg(username, ',' ORDER BY id) FROM users") == "alice,bob",
               "the users in PostgreSQL")
        # status, by key=value and by URI.
        status = pg.json("status")
        expect(status["backend"] == "postgresql" and status["schema"] == "current"
               and status["tables"]["users"] == 2 and status["schema_name"] == schema.name, f"status: {status}")
        by_uri = pg_tool(tmp, schema, form="uri")
        expect(by_uri.json("user", "list") == pg.json("user", "list"), "the URI reaches the same database")
        text = pg.ok("status").out
        expect("schema version: 3" in text and "users" in text, f"status:\n{text}")
        # A server that is not there.
        down = Tool(tmp)
        down.db = f"host={tmp}/nowhere port=1 dbname=cpm user=cpm"
        down.json_fails("user", "list", kind="connect", contains="connect")
        down.fails("status", contains="connect")
        # A password is never printed back.
        secret = Tool(tmp)
        secret.db = schema.keywords() + " password=hunter2"
        r = secret.run("status", "--json")
        expect("hunter2" not in r.out + r.err, f"the password was printed:\n{r!r}")
    finally:
        schema.drop()


@case
def maintenance_refused(tmp):
    schema = Schema()
    try:
        pg = pg_tool(tmp, schema)
        pg.ok("init")
        pg.ok("user", "add", "alice", "--email", "alice@example.org")
        for command, tool in [(["backup", "--output", os.path.join(tmp, "b")], "pg_dump --format=custom"),
                              (["restore", os.path.join(tmp, "x.db")], "pg_restore"),
                              (["check"], "pg_amcheck")]:
            pg.json_fails(*command, kind="not_applicable", contains=[tool, "PostgreSQL"])
            r = pg.fails(*command, contains=[tool, f"search_path={schema.name}"])
            expect(r.out == "", f"nothing on stdout:\n{r!r}")
        expect(not os.path.exists(os.path.join(tmp, "b")), "backup made nothing")
        expect(pg.json("user", "list")[0]["username"] == "alice", "the database is untouched")
    finally:
        schema.drop()


def populate(tmp, name="source.db"):
    """An SQLite database with a row in every table, ids with gaps, and the values a copy could
    get wrong: missing times, missing comments, a last use, a server without a key, non-ASCII."""
    t = Tool(tmp, name)
    t.ok("init")
    for n, user in enumerate(["alice", "bob", "gone", "carol"]):
        t.ok("user", "add", user, "--email", f"{user}@example.org", *(["--key", ssh_key(n, f"{user}@laptop")] if n < 2 else []))
    t.ok("user", "remove", "gone")
    t.ok("user", "key", "add", "alice", "work", ssh_key(9).rsplit(" ", 1)[0])  # no comment
    t.ok("org", "add", "acme", "--owner", "alice", "--description", "Zoë's company, naïve café ✓")
    t.ok("org", "add", "plain", "--owner", "bob")
    t.ok("org", "member", "add", "acme", "carol", "--role", "admin")
    t.ok("repo", "add", "acme/tools", "--path", "/srv/git/acme/tools.git", "--admin", "bob")
    t.ok("repo", "add", "acme/old", "--path", "/srv/git/acme/old.git")
    t.ok("repo", "add", "plain/site", "--path", "/srv/git/plain/site.git", "--description", "")
    t.ok("repo", "remove", "acme/old")
    t.ok("access", "grant", "acme/tools", "carol", "read")
    t.ok("key", "add", "deploy", "--public-key", ssh_key(20, "deploy"), "--private-key-path", "/etc/cpm/deploy")
    t.ok("server", "add", "mirror", "--host", "10.0.0.7", "--port", "2222", "--key", "deploy", "--neighbor")
    t.ok("server", "add", "lone", "--host", "lone.example.org")
    sql(t.db,
        "UPDATE users SET created_at = NULL WHERE username = 'carol'",
        "UPDATE org_members SET joined_at = NULL WHERE user_id = (SELECT id FROM users WHERE username = 'carol')",
        "UPDATE servers SET created_at = NULL WHERE name = 'lone'",
        "UPDATE user_keys SET last_used_at = '2024-01-15 10:30:05' WHERE name = 'work'")
    return t


@case
def copy_round_trip(tmp):
    schema = Schema()
    try:
        source = populate(tmp)
        before = rows_of(source.db)
        expect(all(before[t] for t in TABLES), f"the source has rows in every table: {before}")
        pg = pg_tool(tmp, schema)
        # SQLite -> PostgreSQL (the target schema has no tables yet: copy makes them).
        doc = source.json("copy", "--to", pg.db)
        counts = {t: len(before[t]) for t in TABLES}
        expect(doc["tables"] == counts and list(doc["tables"]) == TABLES and doc["rows"] == sum(counts.values())
               and doc["schema_version"] == 3 and doc["source"] == source.db, f"copy --json: {doc}")
        for t in TABLES:
            ids = schema.query(f"SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM {t}")
            expect(ids == ",".join(str(r[0]) for r in before[t]), f"{t}: the ids in PostgreSQL are {ids}")
        expect(schema.query("SELECT count(*) FROM users WHERE created_at IS NULL") == "1", "a missing time stays missing")
        # The sequences follow the largest id: the next user gets the next id.
        largest = max(r[0] for r in before["users"])
        expect(pg.json("user", "add", "dave", "--email", "dave@example.org")["id"] == largest + 1, "the next id")
        pg.ok("user", "remove", "dave")
        for t in TABLES:
            nxt = schema.query(f"SELECT nextval(pg_get_serial_sequence('{t}', 'id'))")
            expect(int(nxt) > max([0] + [r[0] for r in before[t]]), f"{t}: the sequence is at {nxt}")
        # PostgreSQL -> SQLite: every row of every table as the source held it.
        back = os.path.join(tmp, "back.db")
        r = pg.ok("copy", "--to", back)
        expect(r.out.startswith(f"copied {sum(counts.values())} row(s) from ") and "users          3" in r.out,
               f"copy's text:\n{r!r}")
        after = rows_of(back)
        for t in TABLES:
            expect(after[t] == before[t], f"{t} differs after SQLite -> PostgreSQL -> SQLite:\n  {before[t]}\n  {after[t]}")
        expect(scalar(back, "PRAGMA integrity_check") == "ok", "the copy passes integrity_check")
        Tool(tmp, "back.db").ok("check")
        # The copy is a working database: the next id follows the largest.
        expect(Tool(tmp, "back.db").json("user", "add", "erin", "--email", "erin@example.org")["id"] == largest + 1,
               "the next id in the SQLite copy")
        # SQLite -> SQLite falls out of the same code.
        other = os.path.join(tmp, "other.db")
        source.ok("copy", "--to", other, "--quiet")
        expect(rows_of(other) == before, "SQLite -> SQLite copies every row")
    finally:
        schema.drop()


@case
def copy_progress_bar(tmp):
    try:  # a terminal to draw on: a machine without /dev/pts (a bare chroot) has none
        os.close(os.openpty()[0])
    except OSError as e:
        raise Skipped(f"no pseudo-terminal to draw the bar on ({e})")
    source = populate(tmp)
    # Progress: on a terminal a bar on stderr; --quiet none.
    r = source.run("copy", "--to", os.path.join(tmp, "third.db"), stderr_tty=True)
    expect(r.rc == 0 and "\rcopy [" in r.err and "100%" in r.err, f"a progress bar on the terminal:\n{r!r}")
    r = source.run("copy", "--to", os.path.join(tmp, "fourth.db"), "--quiet", stderr_tty=True)
    expect(r.rc == 0 and r.err == "", f"--quiet: no progress:\n{r!r}")


@case
def copy_refuses_non_empty(tmp):
    schema = Schema()
    try:
        source = populate(tmp)
        pg = pg_tool(tmp, schema)
        pg.ok("init")
        pg.ok("user", "add", "squatter", "--email", "s@example.org")
        source.json_fails("copy", "--to", pg.db, kind="not_empty", contains=["not empty", "users 1"])
        source.fails("copy", "--to", pg.db, contains="not empty")
        expect(schema.query("SELECT string_agg(username, ',') FROM users") == "squatter", "the target is untouched")
        expect(schema.query("SELECT count(*) FROM organizations") == "0", "nothing was copied")
        # A row in any table counts, not only users.
        pg.ok("user", "remove", "squatter")
        pg.ok("key", "add", "k", "--public-key", ssh_key(40), "--private-key-path", "/k")
        source.json_fails("copy", "--to", pg.db, kind="not_empty", contains="ssh_keys 1")
        # An SQLite target likewise; and the source itself.
        target = Tool(tmp, "target.db")
        target.ok("init")
        target.ok("server", "add", "s", "--host", "h")
        pg.json_fails("copy", "--to", target.db, kind="not_empty", contains="servers 1")
        expect(scalar(target.db, "SELECT count(*) FROM users") == 0, "the SQLite target is untouched")
        source.fails("copy", "--to", source.db, contains="the source database itself", rc=2)
        # A file that is not a database is never overwritten.
        junk = os.path.join(tmp, "notes.txt")
        with open(junk, "w") as f:
            f.write("not a database\n")
        source.json_fails("copy", "--to", junk, kind="not_a_database", contains="not an SQLite database")
    finally:
        schema.drop()


@case
def copy_atomic(tmp):
    schema = Schema()
    try:
        source = populate(tmp)
        # The last table holds a value PostgreSQL refuses (text that is not UTF-8): by then every
        # other table has been written in the target's transaction.
        sql(source.db, "INSERT INTO servers (name, host) VALUES ('bad', CAST(X'61ff62' AS TEXT))")
        pg = pg_tool(tmp, schema)
        error = source.json_fails("copy", "--to", pg.db, kind="database", contains="UTF8")
        expect("servers row id 3" in error["message"], f"the failure names the table and row: {error}")
        for t in TABLES:
            expect(schema.query(f"SELECT count(*) FROM {t}") == "0", f"{t} holds rows after a failed copy")
        # Text with a NUL byte, which PostgreSQL text cannot hold: refused by the client, the same way.
        sql(source.db, "UPDATE servers SET host = CAST(X'610062' AS TEXT) WHERE name = 'bad'")
        source.json_fails("copy", "--to", pg.db, kind="database", contains=["servers row id 3", "NUL byte"])
        for t in TABLES:
            expect(schema.query(f"SELECT count(*) FROM {t}") == "0", f"{t} holds rows after a failed copy")
        # The target is left migrated and empty: a good source copies into it afterwards.
        sql(source.db, "DELETE FROM servers WHERE name = 'bad'")
        source.ok("copy", "--to", pg.db, "--quiet")
        expect(schema.query("SELECT count(*) FROM servers") == "2", "the copy after the fix")
        # An SQLite target: a row of the source that points nowhere (the source's foreign keys
        # were off when it was written) fails the copy of that table; nothing stays.
        broken = Tool(tmp, "broken.db")
        shutil.copy(source.db, broken.db)
        sql(broken.db, "INSERT INTO repo_access (repo_id, user_id, access_level) VALUES (1, 999, 'read')")
        target = os.path.join(tmp, "target.db")
        broken.json_fails("copy", "--to", target, kind="database", contains="FOREIGN KEY")
        expect(all(scalar(target, f"SELECT count(*) FROM {t}") == 0 for t in TABLES), "the SQLite target stays empty")
    finally:
        schema.drop()


@case
def unsupported(tmp):
    """For a cpm-db built without libpq (no server needed): a connection string is refused, exit 2."""
    t = Tool(tmp)
    for db in ["postgresql://cpm@db.internal/cpm", "postgres://db.internal/cpm", "host=/run/postgresql dbname=cpm"]:
        t.db = db
        for command in [["user", "list"], ["init"], ["status"], ["backup", "--output", os.path.join(tmp, "b")],
                        ["copy", "--to", os.path.join(tmp, "x.db")]]:
            t.json_fails(*command, kind="unsupported", contains="without PostgreSQL support", rc=2)
    t.db = os.path.join(tmp, "cpm.db")
    t.ok("init")
    t.json_fails("copy", "--to", "dbname=cpm", kind="unsupported", contains="without PostgreSQL support", rc=2)
    expect(not os.path.exists(os.path.join(tmp, "x.db")), "nothing was made")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cpm-db", help="the cpm-db executable")
    parser.add_argument("--list", action="store_true", help="list the cases")
    parser.add_argument("case", nargs="?", default="all")
    args = parser.parse_args()
    if args.list:
        print("\n".join(CASES))
        return 0
    if not args.cpm_db:
        parser.error("--cpm-db is required")
    run.TOOL = os.path.abspath(args.cpm_db)
    names = list(CASES) if args.case == "all" else [args.case]
    failed = skipped = 0
    for name in names:
        if name not in CASES:
            print(f"postgres.py: no case '{name}' (see --list)", file=sys.stderr)
            return 2
        start = time.time()
        with tempfile.TemporaryDirectory(prefix=f"cpm-db-pg-{name}-") as tmp:
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
    return run.SKIP_CODE if skipped == len(names) else 0


if __name__ == "__main__":
    sys.exit(main())
