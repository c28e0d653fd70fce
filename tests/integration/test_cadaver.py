"""cadaver (Debian's command-line WebDAV client) against the files tree of
a real oxd, fed its commands on stdin with the credentials in ~/.netrc of
a temporary HOME: mkcol, put, ls, get, copy, move, lock (with a put under
the lock) and unlock, delete, the RFC 4331 properties and a PUT over
quota. What cadaver reports is checked against what the server then
holds, through plain HTTP and oxctl.
"""
import json
import os
import shutil
import subprocess

import pytest
import requests

from conftest import run_oxctl as oxctl
from davhelp import ALICE, start_tenant

pytestmark = pytest.mark.skipif(shutil.which("cadaver") is None,
                                reason="cadaver is not installed")

CAROL = "carol@example.org"
# netrc separates tokens by white space.
PASSWORD = "cadaver-secret-1"


@pytest.fixture
def server(oxd_factory):
    return start_tenant(oxd_factory, [(ALICE, "Alice"), (CAROL, "Carol", "--quota", "10")],
                        password=PASSWORD)


def cadaver(server, tmp_path, login, commands):
    """Runs one cadaver session in tmp_path (its working directory, with
    HOME there too) and returns what it printed."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    netrc = home / ".netrc"
    netrc.write_text(f"machine 127.0.0.1\nlogin {login}\npassword {PASSWORD}\n")
    netrc.chmod(0o600)
    env = dict(os.environ, HOME=str(home))
    r = subprocess.run(["cadaver", server.url(f"/dav/files/{login}/")],
                       input="\n".join(commands + ["quit"]) + "\n", cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=60)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    return out


def get(server, path, login=ALICE):
    return requests.get(server.url(f"/dav/files/{login}/{path}"), auth=(login, PASSWORD),
                        timeout=10)


def test_cadaver_drives_the_files_tree(server, tmp_path):
    (tmp_path / "v1.txt").write_bytes(b"first version\n")
    (tmp_path / "v2.txt").write_bytes(b"second version\n")
    (tmp_path / "locked.txt").write_bytes(b"written under the lock\n")
    commands = [
        "mkcol Project",
        "put v1.txt Project/a.txt",
        "put v2.txt Project/a.txt",
        "ls Project",
        "get Project/a.txt got.txt",
        "copy Project/a.txt Project/b.txt",
        "move Project/b.txt Project/c.txt",
        "lock Project/c.txt",
        "showlocks",
        "put locked.txt Project/c.txt",
        "unlock Project/c.txt",
        "delete Project/a.txt",
        "ls Project",
    ]
    out = cadaver(server, tmp_path, ALICE, commands)
    # Every command but the listings of locks reports its outcome.
    assert "failed" not in out, out
    assert out.count("succeeded") == len(commands) - 1, out
    assert "Lock token <opaquelocktoken:" in out and "Depth 0" in out, out
    assert "c.txt" in out.split("ls Project")[1], out

    # What the server holds now.
    assert (tmp_path / "got.txt").read_bytes() == b"second version\n"
    assert get(server, "Project/a.txt").status_code == 404
    assert get(server, "Project/b.txt").status_code == 404
    assert get(server, "Project/c.txt").content == b"written under the lock\n"
    # The copy started with a's current content; the put under the lock
    # made a second version.
    versions = json.loads(oxctl(server, "file", "versions", ALICE, "Project/c.txt", "--json"))
    assert [v["size"] for v in versions] == [23, 15]
    # The lock is gone: another client writes without a token.
    r = requests.put(server.url(f"/dav/files/{ALICE}/Project/c.txt"), data=b"after",
                     auth=(ALICE, PASSWORD), timeout=10)
    assert r.status_code == 204
    folders = json.loads(oxctl(server, "folder", "list", ALICE, "--module", "files", "--json"))
    assert "Project" in [f["name"] for f in folders]


def test_cadaver_sees_quota_and_its_refusal(server, tmp_path):
    (tmp_path / "small.txt").write_bytes(b"1234")
    (tmp_path / "big.txt").write_bytes(b"x" * 20)
    out = cadaver(server, tmp_path, CAROL, [
        "put small.txt Documents/small.txt",
        "put big.txt Documents/big.txt",
        "set namespace DAV:",
        "propget Documents quota-used-bytes",
        "propget Documents quota-available-bytes",
    ])
    assert "Value of quota-used-bytes is: 4" in out, out
    assert "Value of quota-available-bytes is: 6" in out, out
    assert "507" in out, out
    assert get(server, "Documents/big.txt", CAROL).status_code == 404
    assert get(server, "Documents/small.txt", CAROL).content == b"1234"
    assert json.loads(oxctl(server, "user", "show", CAROL, "--json"))["used_bytes"] == 4
