#!/usr/bin/env python3
"""Writes the seed corpus of the store fuzzer (tests/fuzz/corpus/), in the input format that
tests/fuzz/store_fuzzer.cpp decodes. Each seed is a short, meaningful sequence of operations
the fuzzer mutates from. Run from the repository root: python3 tests/fuzz/make_seeds.py"""
import os

# operation numbers (store_fuzzer.cpp, harness::step)
CREATE_USER, UPDATE_USER, DELETE_USER = 0, 1, 2
CREATE_ORG, UPDATE_ORG, DELETE_ORG = 3, 4, 5
ADD_MEMBER, SET_ROLE, REMOVE_MEMBER = 6, 7, 8
CREATE_REPO, UPDATE_REPO, DELETE_REPO = 9, 10, 11
GRANT, REVOKE = 12, 13
CREATE_KEY, UPDATE_KEY, DELETE_KEY = 14, 15, 16
CREATE_SERVER, UPDATE_SERVER, DELETE_SERVER = 17, 18, 19
LOOKUP, USER_REPOS, ACCESS = 20, 21, 22
BEGIN, COMMIT, ROLLBACK = 23, 24, 25
CREATE_USERS, CREATE_REPOS, CHECK, READS = 26, 27, 28, 29
ADD_USER_KEY, REMOVE_USER_KEY, MARK_KEY_USED = 30, 31, 32

OWNER, ADMIN, MEMBER = 0, 1, 2


def valid(n, comment=False):
    """A valid value numbered n (0..63); for keys, with a comment when asked."""
    return bytes([(n & 0x3F) | (0x40 if comment else 0)])


def raw(data, frame=0):
    """Raw bytes; frame 1 puts them in a valid frame (email: +@example.org, path: /srv/+...),
    frame 2 makes them the comment of a valid key."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    head = bytes([0x80 | frame])
    if len(data) < 0xFF:
        return head + bytes([len(data)]) + data
    return head + bytes([0xFF, len(data) >> 8, len(data) & 0xFF]) + data


def pick(i):
    return bytes([i])


MISSING = bytes([0xF3])

seeds = {
    "basic": b"".join([
        bytes([CREATE_USER]), valid(1), valid(1), bytes([1]), valid(1, True),
        bytes([CREATE_USER]), valid(2), valid(2), bytes([0]),
        bytes([CREATE_ORG]), valid(1), bytes([3]), valid(2), pick(0),
        bytes([CREATE_REPO]), valid(1), pick(0), valid(1), bytes([2]), pick(1),
        bytes([GRANT]), pick(0), pick(1), bytes([1]),
        bytes([ADD_MEMBER]), pick(0), pick(1), bytes([2]),
        bytes([ACCESS]), pick(0), pick(1),
        bytes([USER_REPOS]), pick(1),
        bytes([SET_ROLE]), pick(0), pick(1), bytes([1]),
        bytes([REVOKE]), pick(0), pick(1),
        bytes([CHECK]),
    ]),
    "cascade": b"".join([
        bytes([CREATE_USER]), valid(1), valid(1), bytes([0]),
        bytes([CREATE_USER]), valid(2), valid(2), bytes([0]),
        bytes([CREATE_ORG]), valid(1), bytes([2]), pick(0),
        bytes([CREATE_ORG]), valid(2), bytes([2]), pick(1),
        bytes([CREATE_REPO]), valid(1), pick(0), valid(1), bytes([2]), pick(1),
        bytes([CREATE_REPO]), valid(2), pick(1), valid(2), bytes([2]), pick(0),
        bytes([ADD_MEMBER]), pick(0), pick(1), bytes([2]),
        bytes([GRANT]), pick(1), pick(1), bytes([0]),
        bytes([UPDATE_REPO]), pick(0), bytes([2]), pick(1),
        bytes([CHECK]),
        bytes([DELETE_ORG]), pick(1),
        bytes([ACCESS]), pick(0), pick(0),
        bytes([DELETE_USER]), pick(0),
        bytes([USER_REPOS]), pick(1),
        bytes([DELETE_REPO]), pick(0),
        bytes([DELETE_REPO]), MISSING,
        bytes([CHECK]),
    ]),
    "transactions": b"".join([
        bytes([CREATE_USER]), valid(1), valid(1), bytes([0]),
        bytes([BEGIN]),
        bytes([CREATE_ORG]), valid(1), bytes([2]), pick(0),
        bytes([CREATE_USER]), valid(1), valid(3), bytes([0]),   # taken: the savepoint rolls back alone
        bytes([CREATE_REPO]), valid(1), pick(0), valid(1), bytes([0]),
        bytes([ROLLBACK]),
        bytes([BEGIN]),
        bytes([CREATE_ORG]), valid(2), bytes([2]), pick(0),
        bytes([CREATE_REPO]), valid(2), pick(1), valid(2), bytes([2]), pick(0),
        bytes([COMMIT]),
        bytes([BEGIN]),
        bytes([DELETE_USER]), pick(0),
        bytes([CHECK]),
    ]),
    "hostile": b"".join([
        bytes([CREATE_USER]), raw("'; DROP TABLE users; --"), valid(1), bytes([0]),
        bytes([CREATE_USER]), valid(1), raw("a\x00b", 1), bytes([0]),
        bytes([CREATE_USER]), valid(2), valid(2), bytes([1]), raw("x\x1b[31m", 2),
        bytes([CREATE_ORG]), valid(1), bytes([1]), raw(b"\xff\xfe invalid utf-8"),
        bytes([CREATE_ORG]), valid(2), bytes([1]), raw("\u202eevil \U0001F600 \u200b"),
        bytes([CREATE_REPO]), valid(1), pick(0), raw("../../etc/passwd", 1), bytes([0]),
        bytes([CREATE_REPO]), valid(1), pick(0), raw("/srv/git/../x"), bytes([0]),
        bytes([LOOKUP]), bytes([0]), raw("' OR '1'='1"), pick(0),
        bytes([LOOKUP]), bytes([4]), raw("ssh-ed25519 AAAA"), pick(0),
        bytes([UPDATE_ORG]), pick(0), bytes([3]), raw("%s%n"), raw("d" * 5000),
        bytes([CHECK]),
    ]),
    "keys_and_servers": b"".join([
        bytes([CREATE_KEY]), valid(1), valid(1, True), valid(1),
        bytes([CREATE_KEY]), valid(2), valid(2), valid(2),
        bytes([CREATE_SERVER]), valid(1), valid(1), bytes([7]), bytes([0x00, 0x16]), pick(0),
        bytes([CREATE_SERVER]), valid(2), raw("::1"), bytes([4]), pick(1),
        bytes([UPDATE_SERVER]), pick(1), bytes([0x20 | 0x40 | 0x04]), bytes([0xFF, 0xFF]), pick(0),
        bytes([DELETE_KEY]), pick(0),
        bytes([UPDATE_KEY]), pick(1), bytes([7]), valid(3), valid(3), valid(3),
        bytes([CREATE_USER]), valid(1), valid(1), bytes([1]), valid(1),
        bytes([CREATE_USER]), valid(2), valid(2), bytes([1]), valid(1, True),  # same key, other comment: taken
        bytes([LOOKUP]), bytes([4]), valid(1, True), pick(0),
        bytes([DELETE_SERVER]), pick(0),
        bytes([CHECK]),
    ]),
    "conflicts": b"".join([
        bytes([CREATE_USER]), valid(1), valid(1), bytes([0]),
        bytes([CREATE_USER]), valid(1), valid(2), bytes([0]),
        bytes([CREATE_USER]), valid(2), valid(2), bytes([0]),
        bytes([UPDATE_USER]), pick(1), bytes([1]), valid(1),
        bytes([CREATE_ORG]), valid(1), bytes([0]),
        bytes([CREATE_ORG]), valid(1), bytes([0]),
        bytes([CREATE_ORG]), valid(2), bytes([0]),
        bytes([UPDATE_ORG]), pick(1), bytes([1]), valid(1),
        bytes([ADD_MEMBER]), pick(0), pick(0), bytes([0]),
        bytes([ADD_MEMBER]), pick(0), pick(0), bytes([1]),
        bytes([REMOVE_MEMBER]), pick(0), pick(1),
        bytes([SET_ROLE]), MISSING, pick(0), bytes([0]),
        bytes([CREATE_REPO]), valid(5), pick(0), valid(5), bytes([0]),
        bytes([CREATE_REPO]), valid(5), pick(1), valid(5), bytes([0]),
        bytes([UPDATE_REPO]), pick(1), bytes([2]), pick(0),
        bytes([REVOKE]), pick(0), pick(0),
        bytes([CHECK]),
    ]),
    "bulk": b"".join([
        bytes([CREATE_USERS]), bytes([2]), valid(1), valid(1), valid(2), valid(2), valid(1), valid(3),
        bytes([CREATE_USERS]), bytes([1]), valid(4), valid(4), valid(5), valid(5),
        bytes([CREATE_ORG]), valid(1), bytes([2]), pick(0),
        bytes([CREATE_REPOS]), bytes([2]), valid(1), pick(0), valid(1), valid(2), pick(0), valid(2),
            valid(1), pick(0), valid(3),
        bytes([CREATE_REPOS]), bytes([1]), valid(1), pick(0), valid(1), valid(2), MISSING, valid(2),
        bytes([USER_REPOS]), pick(0),
        bytes([CHECK]),
    ]),
    # Each role and each grant level alone, then changed: access_level over every pair after
    # each step (CHECK), so a wrong level for any role or grant is caught by the seeds alone.
    "roles": b"".join([
        bytes([CREATE_USER]), valid(1), valid(1), bytes([0]),
        bytes([CREATE_USER]), valid(2), valid(2), bytes([0]),
        bytes([CREATE_USER]), valid(3), valid(3), bytes([0]),
        bytes([CREATE_USER]), valid(4), valid(4), bytes([0]),
        bytes([CREATE_USER]), valid(5), valid(5), bytes([0]),
        bytes([CREATE_ORG]), valid(1), bytes([2]), pick(0),            # u1 owner
        bytes([CREATE_REPO]), valid(1), pick(0), valid(1), bytes([0]),
        bytes([ADD_MEMBER]), pick(0), pick(1), bytes([2]),             # u2 member
        bytes([ADD_MEMBER]), pick(0), pick(2), bytes([1]),             # u3 admin
        bytes([GRANT]), pick(0), pick(3), bytes([0]),                  # u4 read
        bytes([CHECK]),
        bytes([GRANT]), pick(0), pick(3), bytes([1]),                  # u4 write
        bytes([GRANT]), pick(0), pick(1), bytes([1]),                  # u2 member + write
        bytes([CHECK]),
        bytes([GRANT]), pick(0), pick(3), bytes([2]),                  # u4 admin
        bytes([SET_ROLE]), pick(0), pick(1), bytes([1]),               # u2 admin
        bytes([REMOVE_MEMBER]), pick(0), pick(2),                      # u3 out
        bytes([CHECK]),
        bytes([REVOKE]), pick(0), pick(1),
        bytes([SET_ROLE]), pick(0), pick(1), bytes([2]),               # u2 member again
        bytes([USER_REPOS]), pick(1),
        bytes([USER_REPOS]), pick(4),                                  # u5: nothing
        bytes([CHECK]),
    ]),
    # The service's rules: names taken regardless of case (found only as written), unique
    # paths, '' descriptions stored as none, an organization's only owner neither removed,
    # demoted nor deleted (an organization with no owner at all is fine, and so is deleting
    # one with its owner).
    "rules": b"".join([
        bytes([CREATE_USER]), valid(1), valid(1), bytes([0]),
        bytes([CREATE_USER]), raw("U1"), valid(2), bytes([0]),            # taken: u1
        bytes([CREATE_USER]), valid(2), valid(2), bytes([0]),
        bytes([CREATE_ORG]), valid(1), bytes([2]), pick(0),               # n1, u1 its only owner
        bytes([CREATE_ORG]), raw("N1"), bytes([0]),                       # taken: n1
        bytes([CREATE_ORG]), valid(2), bytes([1]), raw(""),               # n2: no owner, description none
        bytes([REMOVE_MEMBER]), pick(0), pick(0),                         # last owner
        bytes([SET_ROLE]), pick(0), pick(0), bytes([MEMBER]),             # last owner
        bytes([DELETE_USER]), pick(0),                                    # last owner
        bytes([ADD_MEMBER]), pick(0), pick(1), bytes([OWNER]),
        bytes([SET_ROLE]), pick(0), pick(0), bytes([MEMBER]),             # u2 owns n1 now
        bytes([REMOVE_MEMBER]), pick(0), pick(1),                         # last owner
        bytes([ADD_MEMBER]), pick(1), pick(0), bytes([ADMIN]),
        bytes([SET_ROLE]), pick(1), pick(0), bytes([MEMBER]),
        bytes([REMOVE_MEMBER]), pick(1), pick(0),                         # n2 has no owner to keep
        bytes([CREATE_REPO]), valid(1), pick(0), valid(1), bytes([1]), raw(""),
        bytes([CREATE_REPO]), valid(2), pick(0), valid(1), bytes([0]),    # taken: the path
        bytes([CREATE_REPO]), valid(2), pick(1), valid(2), bytes([0]),
        bytes([UPDATE_REPO]), pick(1), bytes([4]), valid(1),              # taken: the path
        bytes([UPDATE_REPO]), pick(1), bytes([8 | 16]), raw(""),
        bytes([CREATE_REPOS]), bytes([1]), valid(3), pick(1), valid(3), valid(4), pick(1), valid(3),
        bytes([UPDATE_ORG]), pick(1), bytes([1]), raw("N1"),              # taken: n1
        bytes([UPDATE_ORG]), pick(0), bytes([1 | 2 | 4]), raw("N1"), raw(""),  # its own name, recased
        bytes([UPDATE_USER]), pick(1), bytes([1]), raw("U1"),             # taken: u1
        bytes([UPDATE_USER]), pick(0), bytes([1]), raw("U1"),
        bytes([CREATE_USERS]), bytes([1]), valid(7), valid(7), raw("U7"), valid(8),  # taken within the batch
        bytes([LOOKUP]), bytes([1]), valid(1), pick(0),                   # 'u1' is 'U1' now: not found
        bytes([LOOKUP]), bytes([0]), raw("N1"), pick(0),
        bytes([LOOKUP]), bytes([3]), valid(2), pick(1),                   # by path
        bytes([CHECK]),
        bytes([DELETE_ORG]), pick(0),                                     # with its owner: fine
        bytes([DELETE_USER]), pick(1),
        bytes([CHECK]),
    ]),
    # A user's keys: the first one is users.public_key, each key is held by one user only
    # (whatever its comment), names are unique per user.
    "user_keys": b"".join([
        bytes([CREATE_USER]), valid(1), valid(1), bytes([1]), valid(1, True),
        bytes([CREATE_USER]), valid(2), valid(2), bytes([1]), valid(1),  # taken: u1's key
        bytes([CREATE_USER]), valid(2), valid(2), bytes([0]),
        bytes([ADD_USER_KEY]), pick(0), valid(2), valid(2, True),
        bytes([ADD_USER_KEY]), pick(0), valid(2), valid(3),              # taken: the name
        bytes([ADD_USER_KEY]), pick(1), valid(1), valid(2),              # taken: u1's second key
        bytes([ADD_USER_KEY]), pick(1), valid(1), raw("laptop key", 2),
        bytes([ADD_USER_KEY]), MISSING, valid(1), valid(9),
        bytes([MARK_KEY_USED]), pick(0), bytes([0x12, 0x34]),
        bytes([MARK_KEY_USED]), MISSING, bytes([0, 0]),
        bytes([LOOKUP]), bytes([4]), valid(2), pick(0),
        bytes([LOOKUP]), bytes([4]), raw(" \t" + "ssh-ed25519 AAAA"), pick(0),
        bytes([UPDATE_USER]), pick(0), bytes([4 | 8]), valid(1),          # the same first key, no comment
        bytes([UPDATE_USER]), pick(1), bytes([4 | 8]), valid(2),          # taken: u1's
        bytes([UPDATE_USER]), pick(1), bytes([4 | 8]), valid(4),          # replaces u2's first key
        bytes([UPDATE_USER]), pick(0), bytes([4]),                        # removes u1's first key
        bytes([CHECK]),
        bytes([REMOVE_USER_KEY]), pick(1),
        bytes([REMOVE_USER_KEY]), pick(1),                                # gone
        bytes([UPDATE_USER]), pick(0), bytes([4 | 8]), valid(5),          # u1 has none: a "default"
        bytes([BEGIN]),
        bytes([ADD_USER_KEY]), pick(1), valid(7), valid(7),
        bytes([DELETE_USER]), pick(1),
        bytes([ROLLBACK]),
        bytes([CHECK]),
        bytes([DELETE_USER]), pick(1),
        bytes([CHECK]),
    ]),
}

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "corpus")
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
    print(f"{name}: {len(data)} bytes")
