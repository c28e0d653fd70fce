"""Document versions and quotas against a real oxd.

Versions: listed, fetched and restored through the browser API (Basic, or
a session cookie with X-OX-CSRF on the restore) and through oxctl, with
the folder permissions deciding (a viewer lists but cannot restore).
Quotas: a PUT, COPY or restore over the user's or the context's quota is
507 with DAV:quota-not-exceeded (RFC 4331 6) and leaves the document and
the blob store as they were; deleting frees space; the RFC 4331 properties
and `oxctl user show` report the usage; `oxctl user set --quota` changes a
quota, also below the usage (writes are then refused).
Blob collection: `oxctl file gc` and oxd's timer (files.blob_gc_interval)
delete the contents of deleted documents once files.blob_gc_grace has passed,
keep what a document still holds, and never take an upload in progress.
"""
import hashlib
import http.client
import json
import os
import sqlite3
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest
import requests

from conftest import FAST_HASH, OXCTL, read_response, run_oxctl as oxctl

ALICE = "alice@example.org"
BOB = "bob@example.org"
CAROL = "carol@example.org"
PASSWORD = "correct horse battery staple"
EXIT_INVALID, EXIT_NOT_FOUND, EXIT_PERM, EXIT_LIMIT = 3, 4, 6, 8
DAV = "{DAV:}"


def make_server(oxd_factory, context_quota=None, quotas=None, sets=()):
    server = oxd_factory(*FAST_HASH, *sets)
    args = ["context", "create", "acme", "--domain", "example.org"]
    if context_quota:
        args += ["--quota", context_quota]
    oxctl(server, *args)
    for login in (ALICE, BOB, CAROL):
        extra = ["--quota", quotas[login]] if quotas and login in quotas else []
        oxctl(server, "user", "create", login, "--name", login.split("@")[0],
              "--password-stdin", *extra, stdin=PASSWORD + "\n")
    return server


@pytest.fixture
def server(oxd_factory):
    return make_server(oxd_factory)


def dav_url(server, path, login=ALICE):
    return server.url(f"/dav/files/{login}/{path}")


def basic(login=ALICE):
    s = requests.Session()
    s.auth = (login, PASSWORD)
    return s


def put(server, path, data, login=ALICE, owner=ALICE):
    r = basic(login).put(dav_url(server, path, owner), data=data, timeout=10)
    assert r.status_code in (201, 204), r.text
    return r


def ctl(server, *args):
    """oxctl with its exit code, for refusals."""
    argv = [OXCTL, "--data", server.data_dir]
    for s in FAST_HASH:
        argv += ["--set", s]
    return subprocess.run(argv + list(args), capture_output=True, text=True, timeout=30)


def versions(session, server, path, **kw):
    return session.get(server.url("/api/files/versions"), params={"path": path}, timeout=10,
                       **kw)


def content(session, server, path, version):
    return session.get(server.url("/api/files/versions/content"),
                       params={"path": path, "version": version}, timeout=10)


def restore(session, server, path, version, headers=None):
    return session.post(server.url("/api/files/versions/restore"), params={"path": path},
                        json={"version": version}, headers=headers or {}, timeout=10)


def browser(server, login=ALICE):
    s = requests.Session()
    r = s.post(server.url("/api/login"), json={"login": login, "password": PASSWORD},
               timeout=10)
    assert r.status_code == 200, r.text
    return s, r.json()["csrf"]


def documents_id(server, login=ALICE):
    folders = json.loads(oxctl(server, "folder", "list", login, "--module", "files", "--json"))
    return next(f["id"] for f in folders if f["role"] == "documents")


def blob_refs(server, data):
    """The reference count of the blob holding data; None when there is none."""
    db = sqlite3.connect(os.path.join(server.data_dir, "ox.db"))
    try:
        row = db.execute("SELECT refcount FROM blobs WHERE hash = ?",
                         (hashlib.sha256(data).hexdigest(),)).fetchone()
    finally:
        db.close()
    return row[0] if row else None


def blob_temporaries(server):
    tmp = os.path.join(server.data_dir, "blobs", "tmp")
    return os.listdir(tmp) if os.path.isdir(tmp) else []


def doc_path(name, login=ALICE):
    return f"/{login}/Documents/{name}"


# --- versions ---


def test_rest_lists_fetches_and_restores_versions(server):
    for data in (b"one", b"two!", b"three"):
        put(server, "Documents/a.txt", data)
    dav_etag = basic().head(dav_url(server, "Documents/a.txt"), timeout=10).headers["ETag"]
    alice = basic()
    r = versions(alice, server, doc_path("a.txt"))
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    listed = r.json()
    assert [(v["version"], v["size"], v["current"]) for v in listed] == [
        (3, 5, True), (2, 4, False), (1, 3, False)]
    assert listed[0]["etag"] == dav_etag
    assert listed[2]["contentType"] == "text/plain" and listed[2]["createdBy"] == ALICE
    assert listed[2]["created"].endswith("Z")

    r = content(alice, server, doc_path("a.txt"), 2)
    assert r.status_code == 200 and r.content == b"two!"
    assert r.headers["ETag"] == listed[1]["etag"]
    assert r.headers["Content-Disposition"] == "attachment; filename*=UTF-8''a.txt"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    head = alice.head(server.url("/api/files/versions/content"),
                      params={"path": doc_path("a.txt"), "version": 1}, timeout=10)
    assert head.status_code == 200 and head.headers["Content-Length"] == "3"
    assert content(alice, server, doc_path("a.txt"), 9).status_code == 404

    # The browser's session needs its CSRF token to restore.
    session, csrf = browser(server)
    r = restore(session, server, doc_path("a.txt"), 1)
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf"
    r = restore(session, server, doc_path("a.txt"), 1, headers={"X-OX-CSRF": csrf})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 4 and r.json()["current"] is True
    assert r.json()["etag"] == listed[2]["etag"]
    assert basic().get(dav_url(server, "Documents/a.txt"), timeout=10).content == b"one"
    # Nothing is lost: the restore is one more version.
    assert [v["version"] for v in versions(alice, server, doc_path("a.txt")).json()] == [
        4, 3, 2, 1]
    entry = json.loads(oxctl(server, "audit", "list", "--limit", "1", "--json"))[0]
    assert entry["action"] == "file.restore" and entry["actor"] == ALICE
    assert entry["target"] == doc_path("a.txt") and "new_version=4" in entry["detail"]


MALFORMED_QUERIES = [
    ("", 400, "invalid_request"),
    ("path=", 400, "invalid_request"),
    ("path=/alice@example.org/Documents/a.txt&path=/x", 400, "invalid_request"),
    ("path=/alice@example.org/Documents/a.txt&other=1", 400, "invalid_request"),
    ("path=/alice@example.org/Documents/a%00.txt", 400, "invalid_request"),
    ("path=/alice@example.org/Documents/%2e%2e/a.txt", 400, "invalid"),
    ("path=/alice@example.org/Documents/%FF.txt", 400, "invalid"),
    ("path=/alice@example.org/Documents", 400, "not_a_document"),
    ("path=/alice@example.org/Documents/none.txt", 404, "not_found"),
    ("path=/nobody@example.org/Documents/a.txt", 404, "not_found"),
]


def test_rest_refuses_malformed_and_missing_paths(server):
    put(server, "Documents/a.txt", b"x")
    alice = basic()
    for query, status, code in MALFORMED_QUERIES:
        r = alice.get(server.url("/api/files/versions?" + query), timeout=10)
        assert r.status_code == status, (query, r.text)
        assert r.json()["error"]["code"] == code, query
    # A broken escape (requests would repair it: sent as it is).
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", "/api/files/versions?path=/alice@example.org/Documents/a%ZZ.txt",
                     headers={"Authorization": requests.auth._basic_auth_str(ALICE, PASSWORD)})
        r = conn.getresponse()
        assert r.status == 400 and json.loads(r.read())["error"]["code"] == "invalid_request"
    finally:
        conn.close()


def test_rest_refuses_malformed_requests(server):
    put(server, "Documents/a.txt", b"x")
    alice = basic()
    assert requests.get(server.url("/api/files/versions"),
                        params={"path": doc_path("a.txt")}, timeout=10).status_code == 401
    r = alice.get(server.url("/api/files/versions/restore"), params={"path": doc_path("a.txt")},
                  timeout=10)
    assert r.status_code == 405 and r.headers["Allow"] == "POST"
    assert alice.get(server.url("/api/files/other"), timeout=10).status_code == 404
    for version in ("0", "x", "-1", "99999999999"):
        r = content(alice, server, doc_path("a.txt"), version)
        assert r.status_code == 400, version
    for body in ({"version": "1"}, {"version": 0}, {"version": 1, "more": 1}, {}):
        r = alice.post(server.url("/api/files/versions/restore"),
                       params={"path": doc_path("a.txt")}, json=body, timeout=10)
        assert r.status_code == 400, body
    r = alice.post(server.url("/api/files/versions/restore"), params={"path": doc_path("a.txt")},
                   data=b'{"version": 1}', timeout=10)
    assert r.status_code == 415
    # A name with characters that need encoding.
    put(server, "Documents/r%C3%A9sum%C3%A9%20%2B%201.txt", b"cv")
    r = versions(alice, server, doc_path("résumé + 1.txt"))
    assert r.status_code == 200 and r.json()[0]["size"] == 2


def test_viewer_lists_but_cannot_restore(server):
    put(server, "Documents/a.txt", b"first")
    put(server, "Documents/a.txt", b"second")
    oxctl(server, "folder", "share", ALICE, str(documents_id(server)), f"user:{BOB}", "viewer")
    bob = basic(BOB)
    r = versions(bob, server, doc_path("a.txt"))
    assert r.status_code == 200 and len(r.json()) == 2
    assert content(bob, server, doc_path("a.txt"), 1).content == b"first"
    r = restore(bob, server, doc_path("a.txt"), 1)
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    assert basic().get(dav_url(server, "Documents/a.txt"), timeout=10).content == b"second"
    assert len(versions(basic(), server, doc_path("a.txt")).json()) == 2
    # Without a share the document is not there at all.
    assert versions(basic(CAROL), server, doc_path("a.txt")).status_code == 404
    assert restore(basic(CAROL), server, doc_path("a.txt"), 1).status_code == 404


def test_oxctl_lists_and_restores_versions(server):
    put(server, "Documents/a.txt", b"first")
    put(server, "Documents/a.txt", b"second")
    listed = json.loads(oxctl(server, "file", "versions", ALICE, "Documents/a.txt", "--json"))
    assert [(v["version"], v["size"], v["current"]) for v in listed] == [
        (2, 6, True), (1, 5, False)]
    assert listed[1]["created_by"] == ALICE
    table = oxctl(server, "file", "versions", ALICE, "/Documents/a.txt")
    assert table.splitlines()[0].split()[:3] == ["VERSION", "SIZE", "TYPE"]
    out = oxctl(server, "file", "restore", ALICE, "Documents/a.txt", "1")
    assert out == "version 1 of Documents/a.txt restored as version 3\n"
    assert basic().get(dav_url(server, "Documents/a.txt"), timeout=10).content == b"first"
    entry = json.loads(oxctl(server, "audit", "list", "--limit", "1", "--json"))[0]
    assert entry["action"] == "file.restore" and entry["actor"] == "oxctl"
    assert entry["success"] is True and "new_version=3" in entry["detail"]

    oxctl(server, "folder", "share", ALICE, str(documents_id(server)), f"user:{BOB}", "viewer")
    for code, args in [
        (EXIT_NOT_FOUND, ["restore", ALICE, "Documents/a.txt", "9"]),
        (EXIT_NOT_FOUND, ["versions", ALICE, "Documents/none.txt"]),
        (EXIT_NOT_FOUND, ["versions", "nobody@example.org", "Documents/a.txt"]),
        (EXIT_INVALID, ["versions", ALICE, "Documents"]),
        (EXIT_INVALID, ["restore", ALICE, "Documents/a.txt", "zero"]),
        # Bob's own tree has no such document; he may read Alice's, not restore it.
        (EXIT_NOT_FOUND, ["versions", BOB, "Documents/a.txt"]),
    ]:
        r = ctl(server, "file", *args)
        assert r.returncode == code, (args, r.stderr)
        assert r.stderr.startswith("oxctl: ") and len(r.stderr.splitlines()) == 1
    assert len(json.loads(oxctl(server, "file", "versions", ALICE, "Documents/a.txt",
                                "--json"))) == 3
    refused = json.loads(oxctl(server, "audit", "list", "--limit", "1", "--json"))[0]
    assert refused["action"] == "file.restore" and refused["success"] is False


def test_restore_in_a_shared_tree_needs_write(server):
    put(server, "Documents/a.txt", b"first")
    put(server, "Documents/a.txt", b"second")
    folder = str(documents_id(server))
    oxctl(server, "folder", "share", ALICE, folder, f"user:{BOB}", "viewer")
    r = restore(basic(BOB), server, doc_path("a.txt"), 1)
    assert r.status_code == 403
    oxctl(server, "folder", "share", ALICE, folder, f"user:{BOB}", "editor")
    r = restore(basic(BOB), server, doc_path("a.txt"), 1)
    assert r.status_code == 200 and r.json()["createdBy"] == BOB


# --- quotas ---


def propfind(server, path, props, login=ALICE, owner=ALICE, depth="0"):
    body = ("<?xml version='1.0'?><D:propfind xmlns:D='DAV:'>" + (
        "<D:allprop/>" if props is None else
        "<D:prop>" + "".join(f"<D:{p}/>" for p in props) + "</D:prop>") + "</D:propfind>")
    r = basic(login).request("PROPFIND", dav_url(server, path, owner), data=body,
                             headers={"Depth": depth}, timeout=10)
    assert r.status_code == 207, r.text
    return ET.fromstring(r.content)


def quota_props(server, path="", login=ALICE, owner=ALICE):
    """{name: value} of the quota properties found (200 propstat)."""
    root = propfind(server, path, ["quota-used-bytes", "quota-available-bytes"], login, owner)
    found = {}
    for ps in root.iter(DAV + "propstat"):
        if ps.find(DAV + "status").text.split()[1] != "200":
            continue
        for prop in ps.find(DAV + "prop"):
            found[prop.tag[len(DAV):]] = int(prop.text)
    return found


def assert_quota_refused(r):
    assert r.status_code == 507, r.text
    err = ET.fromstring(r.content)
    assert err.tag == DAV + "error"
    assert err.find(DAV + "quota-not-exceeded") is not None, r.text


def chunked_put(server, path, chunks):
    """A PUT without a length, sent in one piece so that the whole body is
    there before the answer (a refusal before its end closes the
    connection). Returns (status, body)."""
    auth = requests.auth._basic_auth_str(ALICE, PASSWORD)
    body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
    sock = server.connect()
    try:
        sock.sendall((f"PUT /dav/files/{ALICE}/{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Authorization: {auth}\r\nTransfer-Encoding: chunked\r\n\r\n"
                      ).encode() + body)
        status, _, answer = read_response(sock)
    finally:
        sock.close()
    return status, answer


def used_bytes(server, login=ALICE):
    return json.loads(oxctl(server, "user", "show", login, "--json"))["used_bytes"]


@pytest.fixture
def quota_server(oxd_factory):
    return make_server(oxd_factory, quotas={ALICE: "100"})


def test_put_over_quota_is_refused_and_changes_nothing(quota_server):
    server = quota_server
    alice = basic()
    put(server, "Documents/a.txt", b"a" * 60)
    assert quota_props(server, "Documents/") == {"quota-used-bytes": 60,
                                                 "quota-available-bytes": 40}
    before = blob_temporaries(server)

    # Announced too large, unknown length (chunked), and an overwrite.
    r = alice.put(dav_url(server, "Documents/b.txt"), data=b"b" * 41, timeout=10)
    assert_quota_refused(r)
    status, body = chunked_put(server, "Documents/c.txt", [b"c" * 30, b"c" * 30])
    assert status == 507 and b"quota-not-exceeded" in body
    r = alice.put(dav_url(server, "Documents/a.txt"), data=b"A" * 50, timeout=10)
    assert_quota_refused(r)
    assert alice.get(dav_url(server, "Documents/a.txt"), timeout=10).content == b"a" * 60
    for name in ("b.txt", "c.txt"):
        assert alice.get(dav_url(server, f"Documents/{name}"), timeout=10).status_code == 404
    for data in (b"b" * 41, b"c" * 60, b"A" * 50):
        assert blob_refs(server, data) is None
    assert blob_temporaries(server) == before
    assert used_bytes(server) == 60

    # Up to the quota fits; older versions count too.
    put(server, "Documents/b.txt", b"b" * 40)
    assert quota_props(server) == {"quota-used-bytes": 100, "quota-available-bytes": 0}
    # Deleting frees space.
    assert alice.delete(dav_url(server, "Documents/a.txt"), timeout=10).status_code == 204
    assert used_bytes(server) == 40
    assert "used_bytes" in oxctl(server, "user", "show", ALICE)


def test_body_over_quota_is_refused_before_it_is_sent(quota_server):
    """With Expect: 100-continue and a Content-Length over the room left,
    the 507 comes without the body being sent."""
    sock = quota_server.connect()
    try:
        auth = requests.auth._basic_auth_str(ALICE, PASSWORD)
        sock.sendall((f"PUT /dav/files/{ALICE}/Documents/big.bin HTTP/1.1\r\n"
                      f"Host: 127.0.0.1\r\nAuthorization: {auth}\r\n"
                      f"Content-Length: {50 * 1024 * 1024}\r\nExpect: 100-continue\r\n\r\n"
                      ).encode())
        status, _, body = read_response(sock)
        if status == 100:
            status, _, body = read_response(sock)
    finally:
        sock.close()
    assert status == 507 and b"quota-not-exceeded" in body


def test_copy_and_restore_over_quota_are_refused(quota_server):
    server = quota_server
    alice = basic()
    put(server, "Documents/a.txt", b"x" * 30)
    put(server, "Documents/a.txt", b"y" * 30)
    r = alice.request("COPY", dav_url(server, "Documents/a.txt"),
                      headers={"Destination": dav_url(server, "Documents/copy.txt")},
                      timeout=10)
    assert r.status_code == 201
    # 90 of 100 bytes: a second copy, a restore, an oxctl restore all need 30.
    r = alice.request("COPY", dav_url(server, "Documents/a.txt"),
                      headers={"Destination": dav_url(server, "Documents/copy2.txt")},
                      timeout=10)
    assert_quota_refused(r)
    assert alice.get(dav_url(server, "Documents/copy2.txt"), timeout=10).status_code == 404
    r = restore(alice, server, doc_path("a.txt"), 1)
    assert r.status_code == 507 and r.json()["error"]["code"] == "over_quota"
    r = ctl(server, "file", "restore", ALICE, "Documents/a.txt", "1")
    assert r.returncode == EXIT_LIMIT, r.stderr
    assert "quota" in r.stderr
    assert [v["version"] for v in versions(alice, server, doc_path("a.txt")).json()] == [2, 1]
    assert used_bytes(server) == 90
    # A MOVE in the tree frees nothing and needs nothing.
    r = alice.request("MOVE", dav_url(server, "Documents/copy.txt"),
                      headers={"Destination": dav_url(server, "Documents/moved.txt")},
                      timeout=10)
    assert r.status_code == 201 and used_bytes(server) == 90


def test_quota_properties(quota_server):
    server = quota_server
    put(server, "Documents/a.txt", b"z" * 10)
    # Named only: allprop leaves them out (RFC 4331 3).
    text = ET.tostring(propfind(server, "Documents/", None)).decode()
    assert "quota-used-bytes" not in text and "quota-available-bytes" not in text
    assert quota_props(server) == {"quota-used-bytes": 10, "quota-available-bytes": 90}
    # A document has none; without a quota there is no available-bytes.
    assert quota_props(server, "Documents/a.txt") == {}
    put(server, "Documents/b.txt", b"b" * 7, login=BOB, owner=BOB)
    assert quota_props(server, login=BOB, owner=BOB) == {"quota-used-bytes": 7}
    # Protected: PROPPATCH fails.
    body = ("<?xml version='1.0'?><D:propertyupdate xmlns:D='DAV:'><D:set><D:prop>"
            "<D:quota-used-bytes>0</D:quota-used-bytes></D:prop></D:set></D:propertyupdate>")
    r = basic().request("PROPPATCH", dav_url(server, "Documents/"), data=body, timeout=10)
    assert r.status_code == 207 and "403" in r.text
    assert quota_props(server)["quota-used-bytes"] == 10


def test_context_quota_holds_for_all_its_users(oxd_factory):
    server = make_server(oxd_factory, context_quota="100")
    put(server, "Documents/a.txt", b"a" * 70)
    bob = basic(BOB)
    assert quota_props(server, login=BOB, owner=BOB) == {"quota-used-bytes": 0,
                                                         "quota-available-bytes": 30}
    r = bob.put(dav_url(server, "Documents/b.txt", BOB), data=b"b" * 40, timeout=10)
    assert_quota_refused(r)
    assert blob_refs(server, b"b" * 40) is None
    assert basic().delete(dav_url(server, "Documents/a.txt"), timeout=10).status_code == 204
    put(server, "Documents/b.txt", b"b" * 40, login=BOB, owner=BOB)
    assert used_bytes(server, BOB) == 40 and used_bytes(server) == 0


def test_quota_changed_by_oxctl(server):
    put(server, "Documents/a.txt", b"a" * 60)
    out = oxctl(server, "user", "set", ALICE, "--quota", "50")
    assert out.splitlines() == [
        f"quota of {ALICE} set to 50 bytes (50 bytes); 60 bytes in use",
        "that is below what is in use: nothing is deleted, but writes are refused "
        "(HTTP 507) until 10 bytes are freed"]
    shown = json.loads(oxctl(server, "user", "show", ALICE, "--json"))
    assert shown["quota_bytes"] == 50 and shown["used_bytes"] == 60
    entry = json.loads(oxctl(server, "audit", "list", "--limit", "1", "--json"))[0]
    assert entry["action"] == "user.set" and entry["target"] == ALICE
    assert "quota_bytes=50" in entry["detail"]
    # Over the lowered quota: nothing is added, nothing is taken away.
    assert_quota_refused(basic().put(dav_url(server, "Documents/b.txt"), data=b"b",
                                     timeout=10))
    assert basic().get(dav_url(server, "Documents/a.txt"), timeout=10).content == b"a" * 60
    assert quota_props(server, "Documents/") == {"quota-used-bytes": 60,
                                                 "quota-available-bytes": 0}
    # Deleting makes room again.
    assert basic().delete(dav_url(server, "Documents/a.txt"), timeout=10).status_code == 204
    put(server, "Documents/b.txt", b"b" * 50)
    assert_quota_refused(basic().put(dav_url(server, "Documents/c.txt"), data=b"c",
                                     timeout=10))
    out = oxctl(server, "user", "set", ALICE, "--quota", "none")
    assert out == f"{ALICE} has no quota now (50 bytes in use)\n"
    assert json.loads(oxctl(server, "user", "show", ALICE, "--json"))["quota_bytes"] == 0
    put(server, "Documents/c.txt", b"c" * 1000)
    oxctl(server, "user", "set", ALICE, "--quota", "1k")
    assert quota_props(server, "Documents/") == {"quota-used-bytes": 1050,
                                                 "quota-available-bytes": 0}

    for code, args in [
        (EXIT_NOT_FOUND, ["nobody@example.org", "--quota", "1g"]),
        (EXIT_INVALID, [ALICE, "--quota", "-5"]),
        (EXIT_INVALID, [ALICE, "--quota", "lots"]),
        (2, [ALICE]),
    ]:
        r = ctl(server, "user", "set", *args)
        assert r.returncode == code, (args, r.stderr)
        assert r.stderr.startswith("oxctl: ")
    assert json.loads(oxctl(server, "user", "show", ALICE, "--json"))["quota_bytes"] == 1024


def blob_file(server, data):
    digest = hashlib.sha256(data).hexdigest()
    return os.path.join(server.data_dir, "blobs", digest[:2], digest)


def test_oxctl_file_gc_removes_what_no_document_holds(server):
    gone, kept, shared = b"deleted document", b"still here", b"in two documents"
    put(server, "Documents/gone.txt", gone)
    put(server, "Documents/kept.txt", b"old version")
    put(server, "Documents/kept.txt", kept)
    put(server, "Documents/one.txt", shared)
    put(server, "Documents/two.txt", shared)
    for name in ("gone.txt", "two.txt"):
        assert basic().delete(dav_url(server, f"Documents/{name}"), timeout=10).status_code == 204
    assert blob_refs(server, gone) == 0 and os.path.exists(blob_file(server, gone))

    # Within the grace period (default 1h) nothing goes.
    assert oxctl(server, "file", "gc") == (
        "removed 0 unreferenced blobs (0 bytes) and 0 temporary leftovers\n")
    assert os.path.exists(blob_file(server, gone))

    time.sleep(2.1)  # past a grace of 1 s, counted in whole seconds
    out = oxctl(server, "--set", "files.blob_gc_grace=1s", "file", "gc")
    assert out == f"removed 1 unreferenced blob ({len(gone)} bytes) and 0 temporary leftovers\n"
    assert blob_refs(server, gone) is None and not os.path.exists(blob_file(server, gone))
    for data in (kept, b"old version", shared):
        assert os.path.exists(blob_file(server, data))
    assert basic().get(dav_url(server, "Documents/one.txt"), timeout=10).content == shared
    r = content(basic(), server, doc_path("kept.txt"), 1)
    assert r.status_code == 200 and r.content == b"old version"
    out = json.loads(oxctl(server, "--set", "files.blob_gc_grace=1s", "file", "gc", "--json"))
    assert out == {"blobs": 0, "bytes": 0, "temporaries": 0}


def gc_runs(server):
    return [line for line in server.read_log().splitlines() if "event=blob_gc " in line]


def wait_for(predicate, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.fixture
def gc_server(oxd_factory):
    return make_server(oxd_factory, sets=("files.blob_gc_interval=1s",
                                          "files.blob_gc_grace=1s"))


def test_timer_collects_deleted_documents(gc_server):
    server = gc_server
    gone, kept = b"collected by the timer", b"kept by its document"
    put(server, "Documents/gone.txt", gone)
    put(server, "Documents/kept.txt", kept)
    assert basic().delete(dav_url(server, "Documents/gone.txt"), timeout=10).status_code == 204
    assert wait_for(lambda: not os.path.exists(blob_file(server, gone)))
    assert blob_refs(server, gone) is None
    assert os.path.exists(blob_file(server, kept))
    assert basic().get(dav_url(server, "Documents/kept.txt"), timeout=10).content == kept
    # One line per run, with what it removed.
    assert wait_for(lambda: any(f"blobs=1 bytes={len(gone)} " in line
                                for line in gc_runs(server)))
    assert all("temporaries=" in line and "ms=" in line for line in gc_runs(server))
    assert "blob_gc_grace_short" in server.read_log()


def test_timer_spares_an_upload_in_progress(gc_server):
    """An upload that makes progress more often than the grace period
    lasts across several runs and is stored whole."""
    server = gc_server
    pieces = [bytes([65 + i]) * 1000 for i in range(7)]
    auth = requests.auth._basic_auth_str(ALICE, PASSWORD)
    sock = server.connect()
    try:
        sock.sendall((f"PUT /dav/files/{ALICE}/Documents/slow.bin HTTP/1.1\r\n"
                      f"Host: 127.0.0.1\r\nAuthorization: {auth}\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n").encode())
        runs_before = len(gc_runs(server))
        for piece in pieces:
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            time.sleep(0.5)
        runs_during = len(gc_runs(server)) - runs_before
        sock.sendall(b"0\r\n\r\n")
        status, _, _ = read_response(sock)
    finally:
        sock.close()
    assert runs_during >= 2
    assert status == 201
    got = basic().get(dav_url(server, "Documents/slow.bin"), timeout=10).content
    assert got == b"".join(pieces)
    assert blob_temporaries(server) == []
