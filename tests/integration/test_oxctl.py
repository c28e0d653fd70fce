"""oxctl against a real store: round trips, exit codes, and that every
refused command leaves the store exactly as it was.

Each test works on its own data directory; the bad-input cases share one
tenant, which is the point: none of them may change it.
"""
import json
import os
import signal
import stat
import subprocess
import time

import pytest
import requests

from conftest import OXCTL, OXD

FAST = ["--set", "auth.argon2_ops=1", "--set", "auth.argon2_memory=64k"]

EXIT_CONFIG, EXIT_USAGE, EXIT_INVALID, EXIT_NOT_FOUND = 1, 2, 3, 4
EXIT_EXISTS, EXIT_PERM, EXIT_TEMP = 5, 6, 7


def ctl(data, *args, input=None):
    return subprocess.run([OXCTL, "--data", str(data), *FAST, *args], input=input,
                          capture_output=True, text=True, timeout=30)


def ok(data, *args, input=None):
    r = ctl(data, *args, input=input)
    assert r.returncode == 0, f"oxctl {' '.join(args)} -> {r.returncode}: {r.stderr}"
    assert r.stderr == ""
    return r.stdout


def js(data, *args):
    return json.loads(ok(data, *args, "--json"))


def add_user(data, login, name, password="secret-pw"):
    ok(data, "user", "create", login, "--name", name, "--password-stdin",
       input=password + "\n")


def folder_id(data, login, name):
    return next(f["id"] for f in js(data, "folder", "list", login) if f["name"] == name)


def snapshot(data):
    """Everything oxctl can list, for before/after comparisons."""
    snap = {"contexts": js(data, "context", "list"), "users": js(data, "user", "list")}
    for c in snap["contexts"]:
        snap["groups " + c["name"]] = js(data, "group", "list", c["name"])
        snap["resources " + c["name"]] = js(data, "resource", "list", c["name"])
    for u in snap["users"]:
        snap["folders " + u["login"]] = js(data, "folder", "list", u["login"])
        snap["app-passwords " + u["login"]] = js(data, "app-password", "list", u["login"])
    return snap


def make_tenant(data):
    """acme.example: alice, bob, carol; team = alice + bob; alice's
    "Project" calendar shared with the team (editor) and carol (viewer)."""
    ok(data, "context", "create", "acme", "--domain", "acme.example")
    add_user(data, "alice@acme.example", "Alice")
    add_user(data, "bob@acme.example", "Bob")
    add_user(data, "carol@acme.example", "Carol")
    ok(data, "group", "create", "acme", "team")
    ok(data, "group", "add", "acme", "team", "alice@acme.example")
    ok(data, "group", "add", "acme", "team", "bob@acme.example")
    ok(data, "folder", "create", "alice@acme.example", "--module", "calendar",
       "--name", "Project")
    project = folder_id(data, "alice@acme.example", "Project")
    ok(data, "folder", "create", "alice@acme.example", "--module", "calendar",
       "--name", "Sub", "--parent", str(project))
    ok(data, "folder", "share", "alice@acme.example", str(project), "group:team", "editor")
    ok(data, "folder", "share", "alice@acme.example", str(project), "user:carol@acme.example",
       "viewer")
    ok(data, "app-password", "add", "alice@acme.example", "phone")
    return project


@pytest.fixture(scope="module")
def tenant(tmp_path_factory):
    data = tmp_path_factory.mktemp("oxctl-tenant")
    project = make_tenant(data)
    return data, project, snapshot(data)


# --- round trips ---

def test_context_round_trip(tmp_path):
    assert js(tmp_path, "context", "list") == []
    assert "created" in ok(tmp_path, "context", "create", "one", "--domain", "One.Example",
                           "--quota", "2g")
    [c] = js(tmp_path, "context", "list")
    assert c["name"] == "one" and c["domains"] == ["one.example"]
    assert c["quota_bytes"] == 2 * 1024 ** 3
    assert "one.example" in ok(tmp_path, "context", "list")
    ok(tmp_path, "context", "delete", "one")
    assert js(tmp_path, "context", "list") == []


def test_user_round_trip(tmp_path):
    ok(tmp_path, "context", "create", "acme", "--domain", "acme.example")
    ok(tmp_path, "user", "create", "Dave@Acme.example", "--name", "Dave Doe", "--password-stdin",
       "--time-zone", "Europe/Berlin", "--locale", "de_DE", "--quota", "500m",
       input="pass word\n")
    [u] = js(tmp_path, "user", "list", "--context", "acme")
    assert u["login"] == "dave@acme.example" and u["display_name"] == "Dave Doe"
    assert u["time_zone"] == "Europe/Berlin" and u["locale"] == "de_DE"
    assert u["quota_bytes"] == 500 * 1024 ** 2 and u["enabled"] is True
    ok(tmp_path, "user", "alias", "add", "dave@acme.example", "d.doe@acme.example")
    ok(tmp_path, "user", "disable", "dave@acme.example")
    shown = js(tmp_path, "user", "show", "dave@acme.example")
    assert shown["addresses"] == ["dave@acme.example", "d.doe@acme.example"]
    assert shown["enabled"] is False and shown["groups"] == []
    ok(tmp_path, "user", "enable", "dave@acme.example")
    ok(tmp_path, "user", "passwd", "dave@acme.example", "--password-stdin", input="new\r\n")
    assert js(tmp_path, "user", "show", "dave@acme.example")["enabled"] is True
    assert "Dave Doe" in ok(tmp_path, "user", "show", "dave@acme.example")
    ok(tmp_path, "user", "delete", "dave@acme.example")
    assert js(tmp_path, "user", "list") == []


def test_group_resource_and_folder_round_trip(tmp_path):
    project = make_tenant(tmp_path)
    [team] = js(tmp_path, "group", "list", "acme")
    assert team["name"] == "team"
    assert team["members"] == ["alice@acme.example", "bob@acme.example"]
    ok(tmp_path, "group", "remove", "acme", "team", "bob@acme.example")
    assert js(tmp_path, "group", "list", "acme")[0]["members"] == ["alice@acme.example"]

    ok(tmp_path, "resource", "create", "acme", "room1", "--name", "Room 1")
    ok(tmp_path, "resource", "create", "acme", "beamer", "--equipment",
       "--manager", "alice@acme.example")
    res = {r["name"]: r for r in js(tmp_path, "resource", "list", "acme")}
    assert res["room1"]["kind"] == "room" and res["room1"]["booking"] == "auto-accept"
    assert res["beamer"]["kind"] == "equipment" and res["beamer"]["booking"] == "manager"
    assert res["beamer"]["manager"] == "alice@acme.example"
    assert res["room1"]["address"] == "room1@acme.example"

    # carol sees the shared folder with her rights; alice sees its shares.
    carol = {f["id"]: f for f in js(tmp_path, "folder", "list", "carol@acme.example")}
    assert carol[project]["shared"] is True and carol[project]["rights"] == "viewer"
    assert carol[project]["owner"] == "alice@acme.example"
    mine = {f["id"]: f for f in js(tmp_path, "folder", "list", "alice@acme.example",
                                   "--module", "calendar")}
    assert {m["module"] for m in mine.values()} == {"calendar"}
    assert {(p["entity"], p["rights"]) for p in mine[project]["permissions"]} == {
        ("group:team", "editor"), ("user:carol@acme.example", "viewer")}
    ok(tmp_path, "folder", "unshare", "alice@acme.example", str(project),
       "user:carol@acme.example")
    assert project not in {f["id"] for f in js(tmp_path, "folder", "list", "carol@acme.example")}

    ok(tmp_path, "folder", "public", "create", "acme", "--module", "contacts",
       "--name", "Company")
    out = ok(tmp_path, "folder", "public", "create", "acme", "--module", "files",
             "--name", "Shared Files")
    public = int(out.rsplit("id ", 1)[1].rstrip(")\n"))
    ok(tmp_path, "folder", "public", "share", "acme", str(public), "group:team", "author")
    alice = {f["id"]: f for f in js(tmp_path, "folder", "list", "alice@acme.example")}
    assert alice[public]["owner"] is None and alice[public]["rights"] == "author"

    sub = folder_id(tmp_path, "alice@acme.example", "Sub")
    ok(tmp_path, "folder", "move", "alice@acme.example", str(sub), "0")
    moved = {f["id"]: f for f in js(tmp_path, "folder", "list", "alice@acme.example")}
    assert moved[sub]["parent_id"] is None
    ok(tmp_path, "folder", "move", "alice@acme.example", str(sub), str(project))
    ok(tmp_path, "folder", "delete", "alice@acme.example", str(project))
    left = {f["name"] for f in js(tmp_path, "folder", "list", "alice@acme.example")}
    assert "Project" not in left and "Sub" not in left and "Inbox" in left

    ok(tmp_path, "group", "delete", "acme", "team")
    assert js(tmp_path, "group", "list", "acme") == []


def test_app_passwords_and_audit(tmp_path):
    ok(tmp_path, "context", "create", "acme", "--domain", "acme.example")
    add_user(tmp_path, "alice@acme.example", "Alice")
    password = ok(tmp_path, "app-password", "add", "alice@acme.example", "phone").strip()
    assert len(password) == 24 and password.count("-") == 4
    [entry] = js(tmp_path, "app-password", "list", "alice@acme.example")
    assert entry["label"] == "phone" and entry["last_used"] is None
    assert password not in ok(tmp_path, "app-password", "list", "alice@acme.example")
    ok(tmp_path, "app-password", "revoke", "alice@acme.example", "phone")
    assert js(tmp_path, "app-password", "list", "alice@acme.example") == []
    assert ctl(tmp_path, "user", "create", "alice@acme.example", "--name", "A",
               "--password-stdin", input="x\n").returncode == EXIT_EXISTS

    log = js(tmp_path, "audit", "list", "--limit", "4")
    assert [e["action"] for e in log] == [
        "user.create", "app-password.revoke", "app-password.add", "user.create"]
    assert all(e["actor"] == "oxctl" for e in log)
    assert log[0]["success"] is False and "error=exists" in log[0]["detail"]
    assert log[1]["success"] is True and log[1]["target"] == "alice@acme.example"
    assert "secret-pw" not in json.dumps(js(tmp_path, "audit", "list"))
    assert "context.create" in ok(tmp_path, "audit", "list")


def test_deleting_a_user_removes_their_folders_and_shares(tmp_path):
    project = make_tenant(tmp_path)
    ok(tmp_path, "folder", "create", "bob@acme.example", "--module", "files", "--name", "Bobs")
    bobs = folder_id(tmp_path, "bob@acme.example", "Bobs")
    ok(tmp_path, "folder", "share", "bob@acme.example", str(bobs), "alice@acme.example", "viewer")
    ok(tmp_path, "folder", "share", "alice@acme.example", str(project), "user:bob@acme.example",
       "author")
    assert bobs in {f["id"] for f in js(tmp_path, "folder", "list", "alice@acme.example")}

    ok(tmp_path, "user", "delete", "bob@acme.example")
    ok(tmp_path, "user", "delete", "carol@acme.example")
    alice = {f["id"]: f for f in js(tmp_path, "folder", "list", "alice@acme.example")}
    assert bobs not in alice
    assert [p["entity"] for p in alice[project]["permissions"]] == ["group:team"]
    assert js(tmp_path, "group", "list", "acme")[0]["members"] == ["alice@acme.example"]
    r = ctl(tmp_path, "folder", "list", "bob@acme.example")
    assert r.returncode == EXIT_NOT_FOUND and r.stderr == "oxctl: no user bob@acme.example\n"
    # Deleting the context takes everything else.
    ok(tmp_path, "context", "delete", "acme")
    assert js(tmp_path, "user", "list") == []


# --- refusals: exit code, one stderr line, store unchanged ---

ALICE, BOB, CAROL = "alice@acme.example", "bob@acme.example", "carol@acme.example"
BAD = [
    # (exit code, stdin, args); PROJECT / SUB stand for folder ids.
    (EXIT_EXISTS, "pw\n", ["user", "create", ALICE, "--name", "Again", "--password-stdin"]),
    (EXIT_EXISTS, None, ["context", "create", "acme", "--domain", "other.example"]),
    (EXIT_EXISTS, None, ["context", "create", "other", "--domain", "acme.example"]),
    (EXIT_EXISTS, None, ["group", "create", "acme", "team"]),
    (EXIT_EXISTS, None, ["group", "add", "acme", "team", ALICE]),
    (EXIT_EXISTS, None, ["app-password", "add", ALICE, "phone"]),
    (EXIT_EXISTS, None, ["user", "alias", "add", BOB, ALICE]),
    (EXIT_NOT_FOUND, None, ["group", "add", "acme", "nogroup", ALICE]),
    (EXIT_NOT_FOUND, None, ["group", "remove", "acme", "team", CAROL]),
    (EXIT_NOT_FOUND, None, ["group", "delete", "acme", "nogroup"]),
    (EXIT_NOT_FOUND, None, ["group", "create", "nocontext", "g"]),
    (EXIT_NOT_FOUND, None, ["group", "list", "nocontext"]),
    (EXIT_NOT_FOUND, None, ["user", "list", "--context", "nocontext"]),
    (EXIT_NOT_FOUND, None, ["context", "delete", "nocontext"]),
    (EXIT_NOT_FOUND, "pw\n", ["user", "create", "dave@nowhere.example", "--name", "D",
                              "--password-stdin"]),
    (EXIT_NOT_FOUND, None, ["user", "delete", "nobody@acme.example"]),
    (EXIT_NOT_FOUND, None, ["user", "show", "nobody@acme.example"]),
    (EXIT_NOT_FOUND, None, ["resource", "create", "acme", "room2", "--manager",
                            "nobody@acme.example"]),
    (EXIT_NOT_FOUND, None, ["folder", "share", ALICE, "PROJECT", "user:nobody@acme.example",
                            "viewer"]),
    (EXIT_NOT_FOUND, None, ["folder", "share", ALICE, "PROJECT", "group:nogroup", "viewer"]),
    (EXIT_NOT_FOUND, None, ["folder", "share", ALICE, "999999", "user:" + BOB, "viewer"]),
    (EXIT_NOT_FOUND, None, ["folder", "unshare", ALICE, "PROJECT", "user:" + BOB]),
    (EXIT_NOT_FOUND, None, ["app-password", "revoke", ALICE, "laptop"]),
    (EXIT_INVALID, "pw\n", ["user", "create", "not-an-address", "--name", "X",
                            "--password-stdin"]),
    (EXIT_INVALID, "pw\n", ["user", "create", "a..b@acme.example", "--name", "X",
                            "--password-stdin"]),
    (EXIT_INVALID, "", ["user", "create", "dave@acme.example", "--name", "Dave",
                        "--password-stdin"]),
    (EXIT_INVALID, "\n", ["user", "create", "dave@acme.example", "--name", "Dave",
                          "--password-stdin"]),
    (EXIT_INVALID, "\n", ["user", "passwd", ALICE, "--password-stdin"]),
    (EXIT_INVALID, "pw\n", ["user", "create", "dave@acme.example", "--name", "Dave",
                            "--password-stdin", "--time-zone", "Mars/Olympus"]),
    (EXIT_INVALID, "pw\n", ["user", "create", "dave@acme.example", "--name", "Dave",
                            "--password-stdin", "--quota", "lots"]),
    (EXIT_INVALID, None, ["user", "alias", "add", ALICE, "not an address"]),
    (EXIT_INVALID, None, ["user", "alias", "add", ALICE, "alice@elsewhere.example"]),
    (EXIT_INVALID, None, ["context", "create", "Bad Name", "--domain", "bad.example"]),
    (EXIT_INVALID, None, ["context", "create", "bad", "--domain", "no_domain"]),
    (EXIT_INVALID, None, ["folder", "share", ALICE, "PROJECT", "user:" + BOB, "superuser"]),
    (EXIT_INVALID, None, ["folder", "share", ALICE, "PROJECT", "bob", "viewer"]),
    (EXIT_INVALID, None, ["folder", "share", ALICE, "twelve", "user:" + BOB, "viewer"]),
    (EXIT_INVALID, None, ["folder", "move", ALICE, "PROJECT", "SUB"]),
    (EXIT_INVALID, None, ["folder", "move", ALICE, "PROJECT", "PROJECT"]),
    (EXIT_INVALID, None, ["folder", "create", ALICE, "--module", "fax", "--name", "X"]),
    (EXIT_INVALID, None, ["folder", "create", ALICE, "--module", "mail", "--name", "a/b"]),
    (EXIT_INVALID, None, ["audit", "list", "--limit", "-3"]),
    (EXIT_PERM, None, ["folder", "share", BOB, "PROJECT", "user:" + CAROL, "editor"]),
    (EXIT_PERM, None, ["folder", "delete", CAROL, "PROJECT"]),
    (EXIT_NOT_FOUND, None, ["folder", "public", "create", "acme", "--module", "calendar",
                            "--name", "X", "--parent", "PROJECT"]),
]


def _case_id(case):
    return f"{case[0]}-" + "-".join(a for a in case[2][:3] if "@" not in a)


@pytest.mark.parametrize("code,stdin,args", BAD, ids=[_case_id(c) for c in BAD])
def test_refused_commands_change_nothing(tenant, code, stdin, args):
    data, project, before = tenant
    sub = folder_id(data, ALICE, "Sub")
    args = [str(project) if a == "PROJECT" else str(sub) if a == "SUB" else a for a in args]
    r = ctl(data, *args, input=stdin)
    assert r.returncode == code, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("oxctl: "), r.stderr
    assert r.stdout == ""
    assert snapshot(data) == before


USAGE = [
    [], ["user"], ["frob"], ["user", "frob"], ["user", "show"],
    ["context", "create", "x"], ["context", "create", "x", "--domain"],
    ["context", "list", "--bogus"], ["context", "list", "extra"],
    ["user", "create", "dave@acme.example", "--name", "Dave"],
    ["folder", "share", ALICE, "1", "user:" + BOB],
    ["user", "list", "--json=yes"],
]


@pytest.mark.parametrize("args", USAGE, ids=["-".join(a) or "none" for a in USAGE])
def test_usage_errors(tenant, args):
    data, _, before = tenant
    r = ctl(data, *args, input="pw\n")
    assert r.returncode == EXIT_USAGE, r.stderr
    lines = r.stderr.splitlines()
    assert lines[0].startswith(("oxctl: ", "usage: oxctl")), r.stderr
    assert any(line.startswith("usage: oxctl") for line in lines)
    assert snapshot(data) == before


def test_help_lists_commands_and_exit_codes():
    r = subprocess.run([OXCTL, "--help"], capture_output=True, text=True)
    assert r.returncode == 0
    for words in ("context create", "user alias add", "folder public create",
                  "app-password revoke", "audit list", "7 store failure"):
        assert words in r.stdout
    r = subprocess.run([OXCTL, "user", "create", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("usage: oxctl user create LOGIN@DOMAIN")


def test_configuration_and_store_failures(tmp_path):
    r = subprocess.run([OXCTL, "--data", str(tmp_path), "--set", "nope.key=1", "context",
                        "list"], capture_output=True, text=True)
    assert r.returncode == EXIT_CONFIG and r.stderr.startswith("oxctl: ")
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    r = ctl(blocker / "data", "context", "list")
    assert r.returncode == EXIT_TEMP and len(r.stderr.splitlines()) == 1, r.stderr


# --- with oxd running ---

def test_works_while_oxd_runs(oxd_factory):
    server = oxd_factory()
    data = server.data_dir
    ok(data, "context", "create", "live", "--domain", "live.example")
    add_user(data, "eve@live.example", "Eve")
    ok(data, "group", "create", "live", "staff")
    ok(data, "group", "add", "live", "staff", "eve@live.example")
    assert [u["login"] for u in js(data, "user", "list")] == ["eve@live.example"]
    assert requests.get(server.url("/healthz"), timeout=5).status_code == 200
    assert any(e["action"] == "group.add" for e in js(data, "audit", "list"))


# --- oxd --demo ---

def start_demo(data):
    """Runs oxd --demo until it is ready; returns (stdout, stderr log)."""
    log_path = os.path.join(data, "oxd.log")
    with open(log_path, "w") as log:
        proc = subprocess.Popen([OXD, "--data", str(data), "--demo", *FAST,
                                 "--set", "listen.http=127.0.0.1:0", "--set", "listen.https="],
                                stdout=subprocess.PIPE, stderr=log, text=True)
        deadline = time.time() + 15
        while "event=ready" not in open(log_path).read():
            assert proc.poll() is None, open(log_path).read()
            assert time.time() < deadline, open(log_path).read()
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0
    return out, open(log_path).read()


def test_demo_seeding_is_idempotent(tmp_path):
    out1, _ = start_demo(tmp_path)
    first = snapshot(tmp_path)
    passwords = {}
    for line in out1.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0].endswith("@demo.example"):
            passwords[fields[0]] = fields[1]
    assert set(passwords) == {"alice@demo.example", "bob@demo.example", "carol@demo.example"}
    path = tmp_path / "demo-passwords.txt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for login, pw in passwords.items():
        assert f"{login} {pw}\n" in path.read_text()

    assert [c["domains"] for c in first["contexts"]] == [["demo.example"]]
    [team] = first["groups demo"]
    assert team["name"] == "team" and len(team["members"]) == 3
    assert [r["name"] for r in first["resources demo"]] == ["room1"]
    cal = next(f for f in first["folders bob@demo.example"] if f["name"] == "Team Calendar")
    assert cal["owner"] == "alice@demo.example" and cal["rights"] == "editor"
    assert cal["module"] == "calendar"

    out2, log2 = start_demo(tmp_path)
    assert out2 == out1
    assert "created=0" in log2
    # Modseqs included: the second start wrote nothing at all.
    assert snapshot(tmp_path) == first
