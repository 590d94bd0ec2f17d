// The original system's side of tests/go_compat: its models, its queries and its writes, as
// seed/database-architecture.txt gives them, through its driver (mattn/go-sqlite3, built with
// -tags libsqlite3 against Debian's libsqlite3). Standard library and that driver only, built
// in GOPATH mode (no network): tests/go_compat/run.py builds and runs it.
//
//	original read DB EXPECTED.json   scan every row of every table into the original's structs,
//	                                 run GetUserRepositories for each user and GetOrgMembers for
//	                                 each organization, and compare all of it with what cpm read
//	                                 from the same file (EXPECTED.json, written by cpm_side)
//	original write DB                write rows as the original's CreateUser, CreateOrganization,
//	                                 CreateRepository, AddOrgMember do; print their ids (JSON)
//	original init-write DB           create the file as the original's Open does (initSchema with
//	                                 its DDL), then write as `write` does
//
// Exit status 0: everything read and matched; 1: something failed (every failure is printed,
// one "FAIL  " line each); 2: usage.
package main

import (
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

// ---- the original's data models (internal/db/models.go), verbatim --------------------------

type User struct {
	ID        int64     `json:"id"`
	Username  string    `json:"username"`
	Email     string    `json:"email"`
	PublicKey string    `json:"public_key,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

type Organization struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
}

type Repository struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	OrgID       int64     `json:"org_id"`
	Path        string    `json:"path"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
}

type SSHKey struct {
	ID             int64     `json:"id"`
	Name           string    `json:"name"`
	PublicKey      string    `json:"public_key"`
	PrivateKeyPath string    `json:"private_key_path"`
	CreatedAt      time.Time `json:"created_at"`
}

type Server struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	Host       string    `json:"host"`
	Port       int       `json:"port"`
	IsNeighbor bool      `json:"is_neighbor"`
	SSHKeyID   *int64    `json:"ssh_key_id,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// The seed gives no struct for these two tables nor for GetOrgMembers' rows: these hold their
// columns with the same Go types the seed's structs use for such columns.
type RepoAccess struct {
	ID          int64
	RepoID      int64
	UserID      int64
	AccessLevel string
}

type OrgMembership struct {
	ID       int64
	OrgID    int64
	UserID   int64
	Role     string
	JoinedAt time.Time
}

type OrgMember struct {
	UserID   int64
	Username string
	Email    string
	Role     string
	JoinedAt time.Time
}

// ---- the original's schema (initSchema) and queries, verbatim ------------------------------

const schema = `
CREATE TABLE IF NOT EXISTS users (
id INTEGER PRIMARY KEY AUTOINCREMENT,
username TEXT NOT NULL UNIQUE,
email TEXT NOT NULL,
public_key TEXT,
created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS organizations (
id INTEGER PRIMARY KEY AUTOINCREMENT,
name TEXT NOT NULL UNIQUE,
description TEXT,
created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS repositories (
id INTEGER PRIMARY KEY AUTOINCREMENT,
name TEXT NOT NULL,
org_id INTEGER NOT NULL,
path TEXT NOT NULL,
description TEXT,
created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
FOREIGN KEY (org_id) REFERENCES organizations(id) ON DELETE CASCADE,
UNIQUE(org_id, name)
);
CREATE TABLE IF NOT EXISTS ssh_keys (
id INTEGER PRIMARY KEY AUTOINCREMENT,
name TEXT NOT NULL UNIQUE,
public_key TEXT NOT NULL,
private_key_path TEXT NOT NULL,
created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS servers (
id INTEGER PRIMARY KEY AUTOINCREMENT,
name TEXT NOT NULL UNIQUE,
host TEXT NOT NULL,
port INTEGER NOT NULL DEFAULT 22,
is_neighbor BOOLEAN NOT NULL DEFAULT 0,
ssh_key_id INTEGER,
created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
FOREIGN KEY (ssh_key_id) REFERENCES ssh_keys(id) ON DELETE SET NULL
);
CREATE TABLE IF NOT EXISTS repo_access (
id INTEGER PRIMARY KEY AUTOINCREMENT,
repo_id INTEGER NOT NULL,
user_id INTEGER NOT NULL,
access_level TEXT NOT NULL CHECK(access_level IN ('read', 'write', 'admin')),
FOREIGN KEY (repo_id) REFERENCES repositories(id) ON DELETE CASCADE,
FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE,
UNIQUE(repo_id, user_id)
);
CREATE TABLE IF NOT EXISTS org_members (
id INTEGER PRIMARY KEY AUTOINCREMENT,
org_id INTEGER NOT NULL,
user_id INTEGER NOT NULL,
role TEXT NOT NULL CHECK(role IN ('owner', 'admin', 'member')),
joined_at DATETIME DEFAULT CURRENT_TIMESTAMP,
FOREIGN KEY (org_id) REFERENCES organizations(id) ON DELETE CASCADE,
FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE,
UNIQUE(org_id, user_id)
);
CREATE INDEX IF NOT EXISTS idx_repositories_org_id
ON repositories(org_id);
CREATE INDEX IF NOT EXISTS idx_repo_access_repo_id
ON repo_access(repo_id);
CREATE INDEX IF NOT EXISTS idx_repo_access_user_id
ON repo_access(user_id);
CREATE INDEX IF NOT EXISTS idx_servers_is_neighbor
ON servers(is_neighbor);
`

type DB struct {
	conn *sql.DB
}

// Open, as internal/db/db.go: sql.Open("sqlite3", path) and initSchema. The read side opens
// without initSchema (openExisting): it must read the file exactly as cpm left it.
func Open(dbPath string) (*DB, error) {
	conn, err := sql.Open("sqlite3", dbPath)
	if err != nil {
		return nil, err
	}
	if err := initSchema(conn); err != nil {
		return nil, err
	}
	return &DB{conn: conn}, nil
}

func initSchema(db *sql.DB) error {
	_, err := db.Exec(schema)
	return err
}

func openExisting(dbPath string) (*DB, error) {
	if _, err := os.Stat(dbPath); err != nil {
		return nil, err
	}
	conn, err := sql.Open("sqlite3", dbPath)
	if err != nil {
		return nil, err
	}
	return &DB{conn: conn}, nil
}

func (db *DB) GetUserRepositories(userID int64) ([]Repository, error) {
	query := `
SELECT DISTINCT r.*
FROM repositories r
LEFT JOIN org_members om ON r.org_id = om.org_id
LEFT JOIN repo_access ra ON r.id = ra.repo_id
WHERE om.user_id = ? OR ra.user_id = ?
`
	rows, err := db.conn.Query(query, userID, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var repos []Repository
	for rows.Next() {
		var r Repository
		if err := rows.Scan(&r.ID, &r.Name, &r.OrgID, &r.Path, &r.Description, &r.CreatedAt); err != nil {
			return nil, err
		}
		repos = append(repos, r)
	}
	return repos, rows.Err()
}

func (db *DB) GetOrgMembers(orgID int64) ([]OrgMember, error) {
	query := `
SELECT u.id, u.username, u.email, om.role, om.joined_at
FROM users u
JOIN org_members om ON u.id = om.user_id
WHERE om.org_id = ?
ORDER BY om.role, u.username
`
	rows, err := db.conn.Query(query, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var members []OrgMember
	for rows.Next() {
		var m OrgMember
		if err := rows.Scan(&m.UserID, &m.Username, &m.Email, &m.Role, &m.JoinedAt); err != nil {
			return nil, err
		}
		members = append(members, m)
	}
	return members, rows.Err()
}

// The writes. The seed gives their signatures (CreateUser(username, email, publicKey string),
// CreateOrganization(name, description string), CreateRepository(name, path string, orgID
// int64), AddOrgMember(orgID, userID int64, role string)): Go strings, so "no key" and "no
// description" reach the file as ”. CreateRepository takes no description, and the original
// scans repositories.description into a string, so its rows hold ” there, not NULL.
func (db *DB) CreateUser(username, email, publicKey string) (int64, error) {
	res, err := db.conn.Exec(`INSERT INTO users (username, email, public_key) VALUES (?, ?, ?)`,
		username, email, publicKey)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

func (db *DB) CreateOrganization(name, description string) (int64, error) {
	res, err := db.conn.Exec(`INSERT INTO organizations (name, description) VALUES (?, ?)`, name, description)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

func (db *DB) CreateRepository(name, path string, orgID int64) (int64, error) {
	res, err := db.conn.Exec(`INSERT INTO repositories (name, org_id, path, description) VALUES (?, ?, ?, '')`,
		name, orgID, path)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

func (db *DB) AddOrgMember(orgID, userID int64, role string) error {
	_, err := db.conn.Exec(`INSERT INTO org_members (org_id, user_id, role) VALUES (?, ?, ?)`, orgID, userID, role)
	return err
}

// The seed lists no grant operation; repo_access rows are written with the table's own columns.
func (db *DB) GrantAccess(repoID, userID int64, level string) error {
	_, err := db.conn.Exec(`INSERT INTO repo_access (repo_id, user_id, access_level) VALUES (?, ?, ?)`,
		repoID, userID, level)
	return err
}

// ---- reading every table -------------------------------------------------------------------

var failures []string

func fail(format string, args ...interface{}) {
	msg := fmt.Sprintf(format, args...)
	failures = append(failures, msg)
	fmt.Printf("FAIL  %s\n", msg)
}

// scanAll runs `query` and scans each row with scan; a failing row is reported with its id
// (the first column) when it can be read, and reading goes on with the next row.
func scanAll(db *DB, table, query string, scan func(*sql.Rows) (int64, error)) int {
	rows, err := db.conn.Query(query)
	if err != nil {
		fail("%s: %s: %v", table, query, err)
		return 0
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
		if id, err := scan(rows); err != nil {
			fail("%s: scanning row %d (id %d) into the original's struct: %v", table, n, id, err)
		}
	}
	if err := rows.Err(); err != nil {
		fail("%s: %v", table, err)
	}
	return n
}

// What cpm read from the same file (cpm_side report), to compare with.
type expected struct {
	Users []struct {
		ID        int64   `json:"id"`
		Username  string  `json:"username"`
		Email     string  `json:"email"`
		PublicKey *string `json:"public_key"`
		CreatedAt string  `json:"created_at"`
	} `json:"users"`
	Organizations []struct {
		ID          int64   `json:"id"`
		Name        string  `json:"name"`
		Description *string `json:"description"`
		CreatedAt   string  `json:"created_at"`
	} `json:"organizations"`
	Repositories []struct {
		ID          int64   `json:"id"`
		Name        string  `json:"name"`
		OrgID       int64   `json:"org_id"`
		Path        string  `json:"path"`
		Description *string `json:"description"`
		CreatedAt   string  `json:"created_at"`
	} `json:"repositories"`
	SSHKeys []struct {
		ID             int64  `json:"id"`
		Name           string `json:"name"`
		PublicKey      string `json:"public_key"`
		PrivateKeyPath string `json:"private_key_path"`
		CreatedAt      string `json:"created_at"`
	} `json:"ssh_keys"`
	Servers []struct {
		ID         int64  `json:"id"`
		Name       string `json:"name"`
		Host       string `json:"host"`
		Port       int    `json:"port"`
		IsNeighbor bool   `json:"is_neighbor"`
		SSHKeyID   *int64 `json:"ssh_key_id"`
		CreatedAt  string `json:"created_at"`
	} `json:"servers"`
	RepoAccess []struct {
		ID          int64  `json:"id"`
		RepoID      int64  `json:"repo_id"`
		UserID      int64  `json:"user_id"`
		AccessLevel string `json:"access_level"`
	} `json:"repo_access"`
	OrgMembers []struct {
		ID       int64  `json:"id"`
		OrgID    int64  `json:"org_id"`
		UserID   int64  `json:"user_id"`
		Role     string `json:"role"`
		JoinedAt string `json:"joined_at"`
	} `json:"org_members"`
	// user id -> ids of the repositories cpm's user_repositories returns
	UserRepositories map[string][]int64 `json:"user_repositories"`
	// organization id -> "user_id:role" of each member cpm's org_members returns
	OrgMembersOf map[string][]string `json:"org_members_of"`
}

// cpm's "none" is the original's ”; anything else must read the same.
func optionalText(cpm *string) string {
	if cpm == nil {
		return ""
	}
	return *cpm
}

// "type base64" of an SSH public key line (the comment, if any, left out).
func keyMaterial(key string) string {
	fields := strings.Fields(key)
	if len(fields) > 2 {
		fields = fields[:2]
	}
	return strings.Join(fields, " ")
}

// The original's time.Time as cpm prints a timestamp; a value the driver could not parse reads
// as the zero time (mattn/go-sqlite3 does that silently), which is a failure here.
func checkTime(what string, got time.Time, want string) {
	if got.IsZero() {
		fail("%s: the original reads the zero time (the stored text is no layout its driver parses); cpm reads %q", what, want)
		return
	}
	if s := got.UTC().Format("2006-01-02 15:04:05"); s != want {
		fail("%s: the original reads %s, cpm reads %s", what, s, want)
	}
}

func sortedInts(v []int64) []int64 {
	out := append([]int64(nil), v...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func read(dbPath, expectedPath string) {
	raw, err := os.ReadFile(expectedPath)
	if err != nil {
		fail("reading %s: %v", expectedPath, err)
		return
	}
	var want expected
	if err := json.Unmarshal(raw, &want); err != nil {
		fail("parsing %s: %v", expectedPath, err)
		return
	}
	db, err := openExisting(dbPath)
	if err != nil {
		fail("opening %s: %v", dbPath, err)
		return
	}
	defer db.conn.Close()

	var users []User
	scanAll(db, "users", `SELECT id, username, email, public_key, created_at FROM users ORDER BY id`,
		func(rows *sql.Rows) (int64, error) {
			var u User
			err := rows.Scan(&u.ID, &u.Username, &u.Email, &u.PublicKey, &u.CreatedAt)
			if err == nil {
				users = append(users, u)
			}
			return u.ID, err
		})
	var orgs []Organization
	scanAll(db, "organizations", `SELECT id, name, description, created_at FROM organizations ORDER BY id`,
		func(rows *sql.Rows) (int64, error) {
			var o Organization
			err := rows.Scan(&o.ID, &o.Name, &o.Description, &o.CreatedAt)
			if err == nil {
				orgs = append(orgs, o)
			}
			return o.ID, err
		})
	var repos []Repository
	scanAll(db, "repositories", `SELECT id, name, org_id, path, description, created_at FROM repositories ORDER BY id`,
		func(rows *sql.Rows) (int64, error) {
			var r Repository
			err := rows.Scan(&r.ID, &r.Name, &r.OrgID, &r.Path, &r.Description, &r.CreatedAt)
			if err == nil {
				repos = append(repos, r)
			}
			return r.ID, err
		})
	var keys []SSHKey
	scanAll(db, "ssh_keys", `SELECT id, name, public_key, private_key_path, created_at FROM ssh_keys ORDER BY id`,
		func(rows *sql.Rows) (int64, error) {
			var k SSHKey
			err := rows.Scan(&k.ID, &k.Name, &k.PublicKey, &k.PrivateKeyPath, &k.CreatedAt)
			if err == nil {
				keys = append(keys, k)
			}
			return k.ID, err
		})
	var servers []Server
	scanAll(db, "servers", `SELECT id, name, host, port, is_neighbor, ssh_key_id, created_at FROM servers ORDER BY id`,
		func(rows *sql.Rows) (int64, error) {
			var s Server
			err := rows.Scan(&s.ID, &s.Name, &s.Host, &s.Port, &s.IsNeighbor, &s.SSHKeyID, &s.CreatedAt)
			if err == nil {
				servers = append(servers, s)
			}
			return s.ID, err
		})
	var grants []RepoAccess
	scanAll(db, "repo_access", `SELECT id, repo_id, user_id, access_level FROM repo_access ORDER BY id`,
		func(rows *sql.Rows) (int64, error) {
			var a RepoAccess
			err := rows.Scan(&a.ID, &a.RepoID, &a.UserID, &a.AccessLevel)
			if err == nil {
				grants = append(grants, a)
			}
			return a.ID, err
		})
	var members []OrgMembership
	scanAll(db, "org_members", `SELECT id, org_id, user_id, role, joined_at FROM org_members ORDER BY id`,
		func(rows *sql.Rows) (int64, error) {
			var m OrgMembership
			err := rows.Scan(&m.ID, &m.OrgID, &m.UserID, &m.Role, &m.JoinedAt)
			if err == nil {
				members = append(members, m)
			}
			return m.ID, err
		})

	// Every row, field by field, against what cpm read.
	if len(users) == len(want.Users) {
		for i, u := range users {
			w := want.Users[i]
			if u.ID != w.ID || u.Username != w.Username || u.Email != w.Email {
				fail("users: the original reads %d %q %q, cpm reads %d %q %q", u.ID, u.Username, u.Email, w.ID, w.Username, w.Email)
			}
			if keyMaterial(u.PublicKey) != keyMaterial(optionalText(w.PublicKey)) {
				fail("users: %s's public_key: the original reads %q, cpm reads %v", u.Username, u.PublicKey, describe(w.PublicKey))
			}
			checkTime("users: "+u.Username+"'s created_at", u.CreatedAt, w.CreatedAt)
		}
	} else {
		fail("users: the original reads %d rows, cpm reads %d", len(users), len(want.Users))
	}
	if len(orgs) == len(want.Organizations) {
		for i, o := range orgs {
			w := want.Organizations[i]
			if o.ID != w.ID || o.Name != w.Name || o.Description != optionalText(w.Description) {
				fail("organizations: the original reads %d %q description %q, cpm reads %d %q description %v",
					o.ID, o.Name, o.Description, w.ID, w.Name, describe(w.Description))
			}
			checkTime("organizations: "+o.Name+"'s created_at", o.CreatedAt, w.CreatedAt)
		}
	} else {
		fail("organizations: the original reads %d rows, cpm reads %d", len(orgs), len(want.Organizations))
	}
	if len(repos) == len(want.Repositories) {
		for i, r := range repos {
			w := want.Repositories[i]
			if r.ID != w.ID || r.Name != w.Name || r.OrgID != w.OrgID || r.Path != w.Path || r.Description != optionalText(w.Description) {
				fail("repositories: the original reads %+v, cpm reads %d %q org %d %q description %v",
					r, w.ID, w.Name, w.OrgID, w.Path, describe(w.Description))
			}
			checkTime("repositories: "+r.Name+"'s created_at", r.CreatedAt, w.CreatedAt)
		}
	} else {
		fail("repositories: the original reads %d rows, cpm reads %d", len(repos), len(want.Repositories))
	}
	if len(keys) == len(want.SSHKeys) {
		for i, k := range keys {
			w := want.SSHKeys[i]
			if k.ID != w.ID || k.Name != w.Name || keyMaterial(k.PublicKey) != keyMaterial(w.PublicKey) || k.PrivateKeyPath != w.PrivateKeyPath {
				fail("ssh_keys: the original reads %d %q %q %q, cpm reads %d %q %q %q",
					k.ID, k.Name, k.PublicKey, k.PrivateKeyPath, w.ID, w.Name, w.PublicKey, w.PrivateKeyPath)
			}
			checkTime("ssh_keys: "+k.Name+"'s created_at", k.CreatedAt, w.CreatedAt)
		}
	} else {
		fail("ssh_keys: the original reads %d rows, cpm reads %d", len(keys), len(want.SSHKeys))
	}
	if len(servers) == len(want.Servers) {
		for i, s := range servers {
			w := want.Servers[i]
			sameKey := (s.SSHKeyID == nil) == (w.SSHKeyID == nil) && (s.SSHKeyID == nil || *s.SSHKeyID == *w.SSHKeyID)
			if s.ID != w.ID || s.Name != w.Name || s.Host != w.Host || s.Port != w.Port || s.IsNeighbor != w.IsNeighbor || !sameKey {
				fail("servers: the original reads %d %q %q:%d neighbor %v key %v, cpm reads %d %q %q:%d neighbor %v key %v",
					s.ID, s.Name, s.Host, s.Port, s.IsNeighbor, describeID(s.SSHKeyID),
					w.ID, w.Name, w.Host, w.Port, w.IsNeighbor, describeID(w.SSHKeyID))
			}
			checkTime("servers: "+s.Name+"'s created_at", s.CreatedAt, w.CreatedAt)
		}
	} else {
		fail("servers: the original reads %d rows, cpm reads %d", len(servers), len(want.Servers))
	}
	if len(grants) == len(want.RepoAccess) {
		for i, a := range grants {
			w := want.RepoAccess[i]
			if a.ID != w.ID || a.RepoID != w.RepoID || a.UserID != w.UserID || a.AccessLevel != w.AccessLevel {
				fail("repo_access: the original reads %+v, cpm reads %+v", a, w)
			}
		}
	} else {
		fail("repo_access: the original reads %d rows, cpm reads %d", len(grants), len(want.RepoAccess))
	}
	if len(members) == len(want.OrgMembers) {
		for i, m := range members {
			w := want.OrgMembers[i]
			if m.ID != w.ID || m.OrgID != w.OrgID || m.UserID != w.UserID || m.Role != w.Role {
				fail("org_members: the original reads %d org %d user %d %s, cpm reads %d org %d user %d %s",
					m.ID, m.OrgID, m.UserID, m.Role, w.ID, w.OrgID, w.UserID, w.Role)
			}
			checkTime(fmt.Sprintf("org_members: row %d's joined_at", m.ID), m.JoinedAt, w.JoinedAt)
		}
	} else {
		fail("org_members: the original reads %d rows, cpm reads %d", len(members), len(want.OrgMembers))
	}

	// The seed's two query patterns, for every user and every organization cpm knows.
	for _, w := range want.Users {
		got, err := db.GetUserRepositories(w.ID)
		if err != nil {
			fail("GetUserRepositories(%d) (%s): %v", w.ID, w.Username, err)
			continue
		}
		var ids []int64
		for _, r := range got {
			ids = append(ids, r.ID)
			if r.CreatedAt.IsZero() {
				fail("GetUserRepositories(%d): repository %q reads the zero created_at", w.ID, r.Name)
			}
		}
		wantIDs := want.UserRepositories[fmt.Sprint(w.ID)]
		if fmt.Sprint(sortedInts(ids)) != fmt.Sprint(sortedInts(wantIDs)) {
			fail("GetUserRepositories(%d) (%s): the original finds repositories %v, cpm's user_repositories %v",
				w.ID, w.Username, sortedInts(ids), sortedInts(wantIDs))
		}
	}
	for _, w := range want.Organizations {
		got, err := db.GetOrgMembers(w.ID)
		if err != nil {
			fail("GetOrgMembers(%d) (%s): %v", w.ID, w.Name, err)
			continue
		}
		var pairs []string
		for i, m := range got {
			pairs = append(pairs, fmt.Sprintf("%d:%s", m.UserID, m.Role))
			if i > 0 && (got[i-1].Role > m.Role || got[i-1].Role == m.Role && got[i-1].Username > m.Username) {
				fail("GetOrgMembers(%d): not in the order it asks for (role, username): %v", w.ID, got)
			}
			if m.JoinedAt.IsZero() {
				fail("GetOrgMembers(%d): member %q reads the zero joined_at", w.ID, m.Username)
			}
		}
		wantPairs := append([]string(nil), want.OrgMembersOf[fmt.Sprint(w.ID)]...)
		sort.Strings(pairs)
		sort.Strings(wantPairs)
		if strings.Join(pairs, ",") != strings.Join(wantPairs, ",") {
			fail("GetOrgMembers(%d) (%s): the original finds %v, cpm's org_members %v", w.ID, w.Name, pairs, wantPairs)
		}
	}
	fmt.Printf("the original read %d users, %d organizations, %d repositories, %d SSH keys, %d servers, "+
		"%d grants, %d memberships; ran GetUserRepositories for %d users and GetOrgMembers for %d organizations\n",
		len(users), len(orgs), len(repos), len(keys), len(servers), len(grants), len(members),
		len(want.Users), len(want.Organizations))
}

func describe(s *string) string {
	if s == nil {
		return "none"
	}
	return fmt.Sprintf("%q", *s)
}

func describeID(id *int64) string {
	if id == nil {
		return "none"
	}
	return fmt.Sprint(*id)
}

// ---- writing as the original does ----------------------------------------------------------

// An ed25519 public key line as OpenSSH writes it (a well-formed blob of 32 bytes from seed).
func sshKey(seed byte, comment string) string {
	kind := []byte("ssh-ed25519")
	blob := make([]byte, 0, 4+len(kind)+4+32)
	blob = binary.BigEndian.AppendUint32(blob, uint32(len(kind)))
	blob = append(blob, kind...)
	blob = binary.BigEndian.AppendUint32(blob, 32)
	for i := 0; i < 32; i++ {
		blob = append(blob, seed+byte(i)*7)
	}
	return "ssh-ed25519 " + base64.StdEncoding.EncodeToString(blob) + " " + comment
}

// The names written here are the ones cpm_side check-original looks for.
func write(db *DB) {
	ids := map[string]int64{}
	must := func(what string) func(int64, error) int64 {
		return func(id int64, err error) int64 {
			if err != nil {
				fail("%s: %v", what, err)
			}
			ids[what] = id
			return id
		}
	}
	key := sshKey(200, "olivia@desk")
	nokey := must("user:oscar")(db.CreateUser("oscar", "oscar@example.org", ""))
	withkey := must("user:olivia")(db.CreateUser("olivia", "olivia@example.org", key))
	bare := must("organization:oldco")(db.CreateOrganization("oldco", ""))
	must("organization:olddocs")(db.CreateOrganization("olddocs", "kept by the original"))
	repo := must("repository:oldco/legacy")(db.CreateRepository("legacy", "/srv/git/oldco/legacy.git", bare))
	if err := db.AddOrgMember(bare, nokey, "owner"); err != nil {
		fail("AddOrgMember: %v", err)
	}
	if err := db.GrantAccess(repo, withkey, "write"); err != nil {
		fail("grant: %v", err)
	}
	out, _ := json.Marshal(map[string]interface{}{"ids": ids, "olivia_key": key})
	fmt.Println(string(out))
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: original read DB EXPECTED.json | original write DB | original init-write DB")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "read":
		if len(os.Args) != 4 {
			fmt.Fprintln(os.Stderr, "usage: original read DB EXPECTED.json")
			os.Exit(2)
		}
		read(os.Args[2], os.Args[3])
	case "write", "init-write":
		var db *DB
		var err error
		if os.Args[1] == "init-write" {
			db, err = Open(os.Args[2])
		} else {
			db, err = openExisting(os.Args[2])
		}
		if err != nil {
			fail("opening %s: %v", os.Args[2], err)
			break
		}
		write(db)
		db.conn.Close()
	default:
		fmt.Fprintf(os.Stderr, "original: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
	if len(failures) > 0 {
		fmt.Printf("the original system could not use this file: %d failure(s)\n", len(failures))
		os.Exit(1)
	}
}
