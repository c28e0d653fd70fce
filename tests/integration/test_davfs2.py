"""davfs2 (Debian's WebDAV file system, FUSE) mounts a user's files tree of
a real oxd, with locks on (`use_locks 1`): listing the root and
subfolders, reading a file, writing a new one, overwriting one (a version
is kept), mkdir, rename of a file and of a directory, rm and rmdir, all
through plain os calls on the mount point; every result is then checked
over HTTP. davfs2 uploads a file when it is closed, asynchronously, so the
HTTP checks wait for the server to show the change.

It needs root, /dev/fuse and mount.davfs; without them it is skipped.
"""
import contextlib
import datetime
import email.utils
import os
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest
import requests

from conftest import FAST_HASH, run_oxctl as oxctl

MOUNT_DAVFS = "/usr/sbin/mount.davfs"
# davfs2's cache, made by the package: davfs2 works as user davfs2, which
# cannot enter a cache_dir in root's private temporary directories.
DAVFS_CACHE = "/var/cache/davfs2"

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="mounting davfs2 needs root"),
    pytest.mark.skipif(not os.path.exists("/dev/fuse"), reason="/dev/fuse is missing"),
    pytest.mark.skipif(not os.path.exists(MOUNT_DAVFS),
                       reason="davfs2 is not installed (no mount.davfs)"),
]

ALICE = "alice@example.org"
PASSWORD = "davfs2-secret-1"
DAV = "{DAV:}"

# buf_size: davfs2 1.6 answers a FUSE READDIR larger than its message
# buffer (12 KiB unless buf_size asks for more) with EINVAL, and Linux 6.18
# asks for 32 KiB, so without it `ls` fails whatever the server answers.
# The rest makes davfs2 upload at close, forget cached listings quickly
# and give up soon when the server is gone.
DAVFS_CONF = """\
secrets {secrets}
use_locks 1
delay_upload 0
buf_size 64
dir_refresh 1
file_refresh 1
connect_timeout 5
read_timeout 10
retry 1
max_retry 5
"""


@pytest.fixture
def server(oxd_factory):
    srv = oxd_factory(*FAST_HASH)
    oxctl(srv, "context", "create", "acme", "--domain", "example.org")
    oxctl(srv, "user", "create", ALICE, "--name", "Alice", "--password-stdin",
          stdin=PASSWORD + "\n")
    return srv


def dav_url(server, path=""):
    return server.url(f"/dav/files/{ALICE}/{path}")


def http():
    s = requests.Session()
    s.auth = (ALICE, PASSWORD)
    return s


def propfind(path, server, props, depth="0"):
    """The properties of one resource found by a PROPFIND (None: 404)."""
    body = ("<propfind xmlns='DAV:'><prop>" + "".join(f"<{p}/>" for p in props) +
            "</prop></propfind>")
    r = http().request("PROPFIND", dav_url(server, path), data=body,
                       headers={"Depth": depth}, timeout=10)
    if r.status_code == 404:
        return None
    assert r.status_code == 207, r.text
    found = {}
    for propstat in ET.fromstring(r.content).iter(DAV + "propstat"):
        if propstat.findtext(DAV + "status").split()[1] == "200":
            for prop in propstat.find(DAV + "prop"):
                found[prop.tag] = prop
    return found


def wait_for(what, check, timeout=15):
    """Polls check() until it is true: davfs2 uploads after close()
    returns, in its own time."""
    deadline = time.time() + timeout
    while True:
        if check():
            return
        if time.time() > deadline:
            pytest.fail(f"the server never showed {what}")
        time.sleep(0.1)


def content_is(server, path, data):
    r = http().get(dav_url(server, path), timeout=10)
    return r.status_code == 200 and r.content == data


def is_absent(server, path):
    return http().get(dav_url(server, path), timeout=10).status_code == 404


def lock_count(server, path):
    props = propfind(path, server, ["lockdiscovery"])
    return len(props[DAV + "lockdiscovery"].findall(DAV + "activelock"))


def cache_dirs_of(mount_point):
    """davfs2's cache directories for this mount point (it names them
    HOST-PATH+MOUNTPOINT+USER, '/' written as '-')."""
    tag = "+" + str(mount_point).lstrip("/").replace("/", "-") + "+"
    try:
        return [os.path.join(DAVFS_CACHE, d) for d in os.listdir(DAVFS_CACHE) if tag in d]
    except FileNotFoundError:
        return []


@contextlib.contextmanager
def davfs2_mount(server, tmp_path):
    """Mounts ALICE's tree with davfs2; unmounts (which uploads what is
    left) and removes davfs2's cache of it on the way out."""
    secrets = tmp_path / "secrets"
    secrets.write_text(f'"{dav_url(server)}" {ALICE} "{PASSWORD}"\n')
    secrets.chmod(0o600)
    conf = tmp_path / "davfs2.conf"
    conf.write_text(DAVFS_CONF.format(secrets=secrets))
    point = tmp_path / "mnt"
    point.mkdir()
    r = subprocess.run(["mount", "-t", "davfs", "-o", f"conf={conf}", dav_url(server),
                        str(point)], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, f"mount failed: {r.stdout}{r.stderr}"
    try:
        yield point
    finally:
        r = subprocess.run(["umount", str(point)], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            subprocess.run(["umount", "-l", str(point)], capture_output=True, timeout=60)
        for d in cache_dirs_of(point):
            shutil.rmtree(d, ignore_errors=True)
    # Reached only when the body did not fail (its failure says more).
    assert r.returncode == 0, f"umount failed: {r.stdout}{r.stderr}"


@pytest.fixture
def seeded(server):
    """What is on the server before the mount: a file and a subfolder
    with a file, made over HTTP."""
    s = http()
    assert s.put(dav_url(server, "Documents/hello.txt"), data=b"hello\n",
                 timeout=10).status_code == 201
    assert s.request("MKCOL", dav_url(server, "Documents/Old/"), timeout=10).status_code == 201
    assert s.put(dav_url(server, "Documents/Old/old.txt"), data=b"old\n",
                 timeout=10).status_code == 201
    return server


def versions(server, path):
    r = http().get(server.url("/api/files/versions"),
                   params={"path": f"/{ALICE}/{path}"}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def version_content(server, path, version):
    r = http().get(server.url("/api/files/versions/content"),
                   params={"path": f"/{ALICE}/{path}", "version": str(version)}, timeout=10)
    assert r.status_code == 200, r.text
    return r.content


def test_davfs2_mount_lists_reads_and_writes(seeded, tmp_path):
    with davfs2_mount(seeded, tmp_path) as root:
        mounted_operations(seeded, root)


def mounted_operations(server, root):
    docs = root / "Documents"

    # Listing: the root (with davfs2's own local lost+found) and subfolders.
    assert "Documents" in os.listdir(root)
    assert sorted(os.listdir(docs)) == ["Old", "hello.txt"]
    assert os.listdir(docs / "Old") == ["old.txt"]
    assert (docs / "Old").is_dir() and (docs / "hello.txt").is_file()
    assert os.stat(docs / "hello.txt").st_size == 6

    # Reading.
    assert (docs / "hello.txt").read_bytes() == b"hello\n"
    assert (docs / "Old" / "old.txt").read_bytes() == b"old\n"

    # A new file: davfs2 locks the new name, uploads at close, unlocks.
    (docs / "new.txt").write_bytes(b"brand new\n")
    wait_for("new.txt", lambda: content_is(server, "Documents/new.txt", b"brand new\n"))
    wait_for("new.txt unlocked", lambda: lock_count(server, "Documents/new.txt") == 0)
    # The empty document the LOCK made (RFC 4918 7.3) is no version of it.
    assert [v["size"] for v in versions(server, "Documents/new.txt")] == [len(b"brand new\n")]

    # An overwrite: while davfs2 has the file open for writing it holds a
    # WebDAV lock, so another writer without its token is refused (423).
    with open(docs / "hello.txt", "wb") as f:
        assert lock_count(server, "Documents/hello.txt") == 1
        r = http().put(dav_url(server, "Documents/hello.txt"), data=b"intruder\n", timeout=10)
        assert r.status_code == 423, r.text
        f.write(b"hello again\n")
    wait_for("the overwrite",
             lambda: content_is(server, "Documents/hello.txt", b"hello again\n"))
    wait_for("hello.txt unlocked", lambda: lock_count(server, "Documents/hello.txt") == 0)
    kept = versions(server, "Documents/hello.txt")
    assert kept[0]["current"] and kept[0]["size"] == len(b"hello again\n")
    older = [version_content(server, "Documents/hello.txt", v["version"]) for v in kept[1:]]
    assert b"hello\n" in older

    # mkdir, and a file moved into it under a new name (MOVE).
    os.mkdir(docs / "Made")
    made = propfind("Documents/Made/", server, ["resourcetype"])
    assert made[DAV + "resourcetype"].find(DAV + "collection") is not None
    os.rename(docs / "new.txt", docs / "Made" / "moved.txt")
    assert content_is(server, "Documents/Made/moved.txt", b"brand new\n")
    assert is_absent(server, "Documents/new.txt")
    assert os.listdir(docs / "Made") == ["moved.txt"]

    # A directory renamed with what it holds.
    os.rename(docs / "Made", docs / "Renamed")
    assert content_is(server, "Documents/Renamed/moved.txt", b"brand new\n")
    assert is_absent(server, "Documents/Made/")

    # rm and rmdir.
    os.remove(docs / "Renamed" / "moved.txt")
    assert is_absent(server, "Documents/Renamed/moved.txt")
    os.remove(docs / "Old" / "old.txt")
    os.rmdir(docs / "Old")
    assert is_absent(server, "Documents/Old/")
    assert sorted(os.listdir(docs)) == ["Renamed", "hello.txt"]
    assert sorted(os.listdir(docs / "Renamed")) == []


def test_davfs2_uploads_what_is_left_at_unmount(server, tmp_path):
    """A file written right before the unmount reaches the server, and
    davfs2 leaves no lock behind."""
    with davfs2_mount(server, tmp_path) as root:
        (root / "Documents" / "last.txt").write_bytes(b"last words\n")
    assert content_is(server, "Documents/last.txt", b"last words\n")
    assert lock_count(server, "Documents/last.txt") == 0
    assert lock_count(server, "Documents/") == 0


def test_collections_have_dates(server):
    """davfs2 asks every member for getlastmodified: a collection has it
    and creationdate (RFC 4918 15.1, 15.7), both its folder's creation."""
    before = time.time()
    s = http()
    assert s.request("MKCOL", dav_url(server, "Documents/Dated/"), timeout=10).status_code == 201
    props = propfind("Documents/Dated/", server, ["getlastmodified", "creationdate"])
    modified = props[DAV + "getlastmodified"].text
    created = props[DAV + "creationdate"].text
    modified_t = email.utils.parsedate_to_datetime(modified).timestamp()
    created_t = datetime.datetime.strptime(created, "%Y-%m-%dT%H:%M:%S%z").timestamp()
    assert modified_t == created_t
    assert before - 2 <= created_t <= time.time() + 1
    # Listed with Depth 1, the member has them too.
    r = s.request("PROPFIND", dav_url(server, "Documents/"), headers={"Depth": "1"},
                  data="<propfind xmlns='DAV:'><prop><getlastmodified/></prop></propfind>",
                  timeout=10)
    dated = [resp.findtext(DAV + "href")
             for resp in ET.fromstring(r.content).iter(DAV + "response")
             if resp.findtext(f".//{DAV}prop/{DAV}getlastmodified")]
    assert any(h.endswith("/Documents/Dated/") for h in dated), r.text
    assert any(h.endswith("/Documents/") for h in dated), r.text
