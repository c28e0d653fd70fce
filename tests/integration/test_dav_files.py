"""WebDAV on /dav/files/LOGIN/ against a real oxd: the litmus conformance
suite (basic, copymove, props, locks, http), permissions decided by folder
shares, strict XML, streaming of large bodies, and versions on overwrite.

Users and shares are made with oxctl on the running server's data
directory, as an administrator would.
"""
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess

import pytest
import requests

from conftest import FAST_HASH, run_oxctl as oxctl

ALICE = "alice@example.org"
BOB = "bob@example.org"
PASSWORD = "correct horse battery staple"
LITMUS_GROUPS = ["basic", "copymove", "props", "locks", "http"]


@pytest.fixture
def dav(oxd_factory):
    server = oxd_factory(*FAST_HASH)
    oxctl(server, "context", "create", "acme", "--domain", "example.org")
    for login, name in ((ALICE, "Alice"), (BOB, "Bob")):
        oxctl(server, "user", "create", login, "--name", name, "--password-stdin",
              stdin=PASSWORD + "\n")
    return server


def url(server, path="", login=ALICE):
    return server.url(f"/dav/files/{login}/{path}")


def session(login=ALICE):
    s = requests.Session()
    s.auth = (login, PASSWORD)
    return s


def documents_id(server, login=ALICE):
    folders = json.loads(oxctl(server, "folder", "list", login, "--module", "files", "--json"))
    return next(f["id"] for f in folders if f["role"] == "documents")


def request(s, method, target, **kw):
    return s.request(method, target, timeout=30, **kw)


@pytest.mark.skipif(shutil.which("litmus") is None, reason="litmus is not installed")
def test_litmus(dav, tmp_path):
    s = session()
    assert request(s, "MKCOL", url(dav, "litmus/")).status_code == 201
    r = subprocess.run(["litmus", url(dav, "litmus/"), ALICE, PASSWORD], cwd=tmp_path,
                       capture_output=True, text=True, timeout=600)
    out = r.stdout + r.stderr
    summaries = dict(re.findall(r"<- summary for `(\w+)': of \d+ tests run: \d+ passed, "
                                r"(\d+) failed", out))
    for group in LITMUS_GROUPS:
        assert group in summaries, f"litmus group {group} did not run:\n{out}"
        assert summaries[group] == "0", f"litmus group {group} failed:\n{out}"
    # A warning is a behaviour litmus calls unsafe though not failed (once:
    # a DELETE of "coll/#frag" removed coll/).
    assert "WARNING" not in out, out
    assert r.returncode == 0, out


def test_options_advertises_classes(dav):
    r = request(session(), "OPTIONS", url(dav))
    assert r.status_code == 200
    assert r.headers["DAV"] == "1, 2, 3, access-control"
    assert "PROPFIND" in r.headers["Allow"] and "LOCK" in r.headers["Allow"]


def test_authentication_is_required(dav):
    r = requests.request("PROPFIND", url(dav), headers={"Depth": "0"}, timeout=10)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Basic")


def test_propfind_lists_documents_folder(dav):
    r = request(session(), "PROPFIND", url(dav), headers={"Depth": "1"})
    assert r.status_code == 207
    assert f"/dav/files/{ALICE}/Documents/" in r.text


def test_propfind_infinity_is_refused(dav):
    r = request(session(), "PROPFIND", url(dav), headers={"Depth": "infinity"})
    assert r.status_code == 403
    assert "propfind-finite-depth" in r.text


def test_another_user_without_share_sees_nothing(dav):
    alice = session()
    assert request(alice, "PUT", url(dav, "Documents/a.txt"), data=b"secret").status_code == 201
    bob = session(BOB)
    assert request(bob, "GET", url(dav, "Documents/a.txt")).status_code == 404
    # The folder is not there for Bob: its absence is all he learns.
    assert request(bob, "PUT", url(dav, "Documents/b.txt"), data=b"x").status_code == 409
    assert request(bob, "DELETE", url(dav, "Documents/a.txt")).status_code == 404
    r = request(bob, "PROPFIND", url(dav), headers={"Depth": "1"})
    assert r.status_code == 207 and "Documents" not in r.text
    assert request(alice, "GET", url(dav, "Documents/a.txt")).content == b"secret"


def test_viewer_share_reads_but_does_not_write(dav):
    alice = session()
    assert request(alice, "PUT", url(dav, "Documents/a.txt"), data=b"shared").status_code == 201
    oxctl(dav, "folder", "share", ALICE, str(documents_id(dav)), f"user:{BOB}", "viewer")
    bob = session(BOB)
    r = request(bob, "GET", url(dav, "Documents/a.txt"))
    assert r.status_code == 200 and r.content == b"shared"
    assert request(bob, "PUT", url(dav, "Documents/a.txt"), data=b"evil").status_code == 403
    assert request(bob, "PUT", url(dav, "Documents/new.txt"), data=b"x").status_code == 403
    assert request(bob, "DELETE", url(dav, "Documents/a.txt")).status_code == 403
    assert request(bob, "MKCOL", url(dav, "Documents/sub/")).status_code == 403
    assert request(alice, "GET", url(dav, "Documents/a.txt")).content == b"shared"


@pytest.mark.parametrize("body", [
    b"<propertyupdate xmlns='DAV:'><set><prop><x:a xmlns:x='urn:x'>1</x:a></prop></set>",
    b"<?xml version='1.0'?><!DOCTYPE p [<!ENTITY e 'boom'>]><propertyupdate xmlns='DAV:'>"
    b"<set><prop><x:a xmlns:x='urn:x'>&e;</x:a></prop></set></propertyupdate>",
    b"<propertyupdate xmlns='DAV:'><set><prop><b:a xmlns:b=''>1</b:a></prop></set>"
    b"</propertyupdate>",
    b"not xml at all",
])
def test_malformed_xml_changes_nothing(dav, body):
    s = session()
    assert request(s, "PUT", url(dav, "Documents/p.txt"), data=b"p").status_code == 201
    r = request(s, "PROPPATCH", url(dav, "Documents/p.txt"), data=body,
                headers={"Content-Type": "application/xml"})
    assert r.status_code == 400
    r = request(s, "PROPFIND", url(dav, "Documents/p.txt"), headers={"Depth": "0"},
                data=b"<propfind xmlns='DAV:'><prop><x:a xmlns:x='urn:x'/></prop></propfind>")
    assert r.status_code == 207 and "404 Not Found" in r.text


def test_proppatch_round_trip(dav):
    s = session()
    assert request(s, "PUT", url(dav, "Documents/p.txt"), data=b"p").status_code == 201
    body = (b"<D:propertyupdate xmlns:D='DAV:' xmlns:x='urn:x'><D:set><D:prop>"
            b"<x:color>blue</x:color></D:prop></D:set></D:propertyupdate>")
    assert request(s, "PROPPATCH", url(dav, "Documents/p.txt"), data=body).status_code == 207
    r = request(s, "PROPFIND", url(dav, "Documents/p.txt"), headers={"Depth": "0"},
                data=b"<propfind xmlns='DAV:'><prop><x:color xmlns:x='urn:x'/></prop></propfind>")
    assert r.status_code == 207 and "blue" in r.text and "200 OK" in r.text


def test_oversized_xml_body_is_refused(dav):
    body = b"<propfind xmlns='DAV:'>" + b" " * (2 * 1024 * 1024) + b"<allprop/></propfind>"
    r = request(session(), "PROPFIND", url(dav), headers={"Depth": "0"}, data=body)
    assert r.status_code == 413


def test_large_put_get_streams(dav):
    s = session()
    size = 20 * 1024 * 1024
    chunk = os.urandom(1024 * 1024)

    def body():
        for _ in range(size // len(chunk)):
            yield chunk

    before = dav.rss_kib()
    r = request(s, "PUT", url(dav, "Documents/big.bin"), data=body(),
                headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 201
    got = 0
    with s.get(url(dav, "Documents/big.bin"), stream=True, timeout=60) as r:
        assert r.status_code == 200
        assert int(r.headers["Content-Length"]) == size
        for piece in r.iter_content(1024 * 1024):
            got += len(piece)
    assert got == size
    grown = dav.rss_kib() - before
    if not dav.sanitized():
        assert grown < 16 * 1024, f"oxd grew by {grown} KiB for a 20 MiB round trip"


def test_range_and_conditional_get(dav):
    s = session()
    r = request(s, "PUT", url(dav, "Documents/r.txt"), data=b"0123456789")
    etag = r.headers["ETag"]
    r = request(s, "GET", url(dav, "Documents/r.txt"), headers={"Range": "bytes=2-4"})
    assert r.status_code == 206 and r.content == b"234"
    r = request(s, "GET", url(dav, "Documents/r.txt"), headers={"If-None-Match": etag})
    assert r.status_code == 304
    r = request(s, "PUT", url(dav, "Documents/r.txt"), data=b"x", headers={"If-Match": '"nope"'})
    assert r.status_code == 412
    r = request(s, "PUT", url(dav, "Documents/r.txt"), data=b"x", headers={"If-None-Match": "*"})
    assert r.status_code == 412


def test_versions_kept_on_overwrite(dav):
    s = session()
    for i, text in enumerate([b"one", b"two", b"three"]):
        r = request(s, "PUT", url(dav, "Documents/v.txt"), data=text)
        assert r.status_code == (201 if i == 0 else 204)
    assert request(s, "GET", url(dav, "Documents/v.txt")).content == b"three"
    db = sqlite3.connect(os.path.join(dav.data_dir, "ox.db"))
    try:
        rows = db.execute("SELECT v.version, v.size FROM document_versions v JOIN documents d "
                          "ON d.id = v.document_id WHERE d.name = 'v.txt' ORDER BY v.version"
                          ).fetchall()
        refs = db.execute("SELECT COUNT(*) FROM blobs WHERE refcount > 0").fetchone()[0]
    finally:
        db.close()
    assert rows == [(1, 3), (2, 3), (3, 5)]
    assert refs >= 3
    assert request(s, "DELETE", url(dav, "Documents/v.txt")).status_code == 204
    assert request(s, "GET", url(dav, "Documents/v.txt")).status_code == 404


def test_mime_type_from_extension(dav):
    s = session()
    r = request(s, "PUT", url(dav, "Documents/page.html"), data=b"<p>",
                headers={"Content-Type": ""})
    assert r.status_code == 201
    assert request(s, "GET", url(dav, "Documents/page.html")).headers["Content-Type"] == "text/html"


def test_escaped_slash_in_a_segment_is_refused(dav):
    r = request(session(), "PUT", url(dav, "Documents/a%2Fb.txt"), data=b"x")
    assert r.status_code == 400


LOCKINFO = (b"<?xml version='1.0' encoding='utf-8'?><D:lockinfo xmlns:D='DAV:'>"
            b"<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>"
            b"<D:owner>test</D:owner></D:lockinfo>")


def blob_refs(server, content):
    """The reference count of the blob holding content, None when gone."""
    db = sqlite3.connect(os.path.join(server.data_dir, "ox.db"))
    try:
        row = db.execute("SELECT refcount FROM blobs WHERE hash = ?",
                         (hashlib.sha256(content).hexdigest(),)).fetchone()
    finally:
        db.close()
    return row[0] if row else None


def test_deleting_outside_dav_releases_blobs(dav):
    alice, bob = session(), session(BOB)
    assert request(alice, "MKCOL", url(dav, "Documents/sub/")).status_code == 201
    assert request(alice, "PUT", url(dav, "Documents/sub/s.txt"), data=b"in sub").status_code \
        == 201
    assert request(alice, "PUT", url(dav, "Documents/a.txt"), data=b"alice only").status_code \
        == 201
    assert request(alice, "PUT", url(dav, "Documents/b.txt"), data=b"both").status_code == 201
    assert request(bob, "PUT", url(dav, "Documents/b.txt", BOB), data=b"both").status_code == 201
    assert blob_refs(dav, b"both") == 2
    folders = json.loads(oxctl(dav, "folder", "list", ALICE, "--module", "files", "--json"))
    sub = next(f["id"] for f in folders if f["name"] == "sub")
    oxctl(dav, "folder", "delete", ALICE, str(sub))
    assert blob_refs(dav, b"in sub") == 0
    oxctl(dav, "user", "delete", ALICE)
    assert blob_refs(dav, b"alice only") == 0
    # Bob's copy of the same bytes still holds the blob.
    assert blob_refs(dav, b"both") == 1
    assert request(bob, "GET", url(dav, "Documents/b.txt", BOB)).content == b"both"


@pytest.mark.parametrize("method", ["COPY", "MOVE"])
def test_failed_overwrite_keeps_the_target(dav, method):
    alice, bob = session(), session(BOB)
    assert request(alice, "PUT", url(dav, "Documents/t.txt"), data=b"target").status_code == 201
    # Bob may delete Alice's documents but not add any: removing the target
    # succeeds, putting the source in its place does not (and a MOVE never
    # leaves its owner's tree).
    oxctl(dav, "folder", "share", ALICE, str(documents_id(dav)), f"user:{BOB}", "1/2/2/2/0")
    assert request(bob, "PUT", url(dav, "Documents/s.txt", BOB), data=b"source").status_code \
        == 201
    r = request(bob, method, url(dav, "Documents/s.txt", BOB),
                headers={"Destination": url(dav, "Documents/t.txt"), "Overwrite": "T"})
    assert r.status_code == 403
    assert request(alice, "GET", url(dav, "Documents/t.txt")).content == b"target"
    assert request(bob, "GET", url(dav, "Documents/s.txt", BOB)).content == b"source"


def lock(s, target):
    r = request(s, "LOCK", target, data=LOCKINFO, headers={"Depth": "0", "Timeout": "Second-600"})
    assert r.status_code in (200, 201), r.text
    return r.headers["Lock-Token"]


def test_locks_hold_under_every_spelling_of_the_login(dav):
    s = session()
    upper = "Alice@Example.ORG"
    escaped = "alice%40example.org"
    token = lock(s, url(dav, "Documents/l.txt", upper))
    for login in (ALICE, escaped, upper):
        r = request(s, "PUT", url(dav, "Documents/l.txt", login), data=b"x")
        assert r.status_code == 423, login
    r = request(s, "PUT", url(dav, "Documents/l.txt", escaped), data=b"x",
                headers={"If": f"({token})"})
    assert r.status_code == 204
    # The lock shows, and may be refreshed, whatever the spelling.
    r = request(s, "PROPFIND", url(dav, "Documents/l.txt"), headers={"Depth": "0"},
                data=b"<propfind xmlns='DAV:'><prop><lockdiscovery/></prop></propfind>")
    assert r.status_code == 207 and token.strip("<>") in r.text
    r = request(s, "LOCK", url(dav, "Documents/l.txt", "ALICE@example.org"),
                headers={"If": f"({token})", "Timeout": "Second-60"})
    assert r.status_code == 200
    # A Destination in another spelling meets the lock too.
    assert request(s, "PUT", url(dav, "Documents/src.txt"), data=b"s").status_code == 201
    r = request(s, "COPY", url(dav, "Documents/src.txt"),
                headers={"Destination": url(dav, "Documents/l.txt", upper), "Overwrite": "T"})
    assert r.status_code == 423
    r = request(s, "UNLOCK", url(dav, "Documents/l.txt", "ALICE%40EXAMPLE.ORG"),
                headers={"Lock-Token": token})
    assert r.status_code == 204
    assert request(s, "PUT", url(dav, "Documents/l.txt", upper), data=b"y").status_code == 204


def test_copy_into_itself_under_another_spelling_is_refused(dav):
    s = session()
    assert request(s, "MKCOL", url(dav, "Documents/c/")).status_code == 201
    r = request(s, "COPY", url(dav, "Documents/c/"),
                headers={"Destination": url(dav, "Documents/c/inside/", "Alice@Example.org")})
    assert r.status_code == 403


@pytest.mark.parametrize("method", ["COPY", "MOVE"])
def test_locks_of_another_users_tree_hold_for_copy_and_move(dav, method):
    """A COPY or MOVE into a folder another user shares must honour that
    tree's locks (RFC 4918 9.8.5, 9.9.4), not only the request's own."""
    alice, bob = session(), session(BOB)
    oxctl(dav, "folder", "share", BOB, str(documents_id(dav, BOB)), f"user:{ALICE}", "editor")
    assert request(bob, "PUT", url(dav, "Documents/t.txt", BOB), data=b"bob's").status_code \
        == 201
    token = lock(bob, url(dav, "Documents/t.txt", BOB))
    assert request(alice, "PUT", url(dav, "Documents/s.txt"), data=b"alice's").status_code \
        == 201
    r = request(alice, method, url(dav, "Documents/s.txt"),
                headers={"Destination": url(dav, "Documents/t.txt", BOB), "Overwrite": "T"})
    assert r.status_code == 423, r.text
    assert request(bob, "GET", url(dav, "Documents/t.txt", BOB)).content == b"bob's"
    assert request(alice, "GET", url(dav, "Documents/s.txt")).content == b"alice's"
    # The share itself works: an unlocked name takes the copy.
    if method == "COPY":
        r = request(alice, "COPY", url(dav, "Documents/s.txt"),
                    headers={"Destination": url(dav, "Documents/u.txt", BOB)})
        assert r.status_code == 201, r.text
    assert request(bob, "UNLOCK", url(dav, "Documents/t.txt", BOB),
                   headers={"Lock-Token": token}).status_code == 204
