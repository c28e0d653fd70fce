"""Static files from http.web_root: validators and conditional requests,
byte ranges, gzip, HEAD, directories, path traversal and large files."""
import gzip
import hashlib
import http.client
import os
import time

import pytest

from conftest import read_response

DATA = bytes(i % 251 for i in range(4096))  # distinct bytes at distinct offsets
CSS = b"".join(b".rule-%d { color: #%06x; margin: %dpx; }\n" % (i, i * 997, i % 40)
               for i in range(400))
SECRET = b"top secret, outside the web root\n"


@pytest.fixture
def site(tmp_path, web_root):
    (web_root / "data.bin").write_bytes(DATA)
    (web_root / "style.css").write_bytes(CSS)
    (web_root / "empty.txt").write_bytes(b"")
    sub = web_root / "sub"
    sub.mkdir()
    (sub / "index.html").write_bytes(b"<p>sub index</p>\n")
    (sub / "page.txt").write_bytes(b"page\n")
    (web_root / "big.bin").write_bytes(os.urandom(1024 * 1024 + 123))
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (web_root / "web-secret.txt").write_bytes(b"not a secret\n")
    return web_root


@pytest.fixture
def srv(oxd_factory, site):
    return oxd_factory(web_root=str(site))


def get(oxd, target, headers=(), method="GET"):
    """One raw request on a new connection; (status, headers, body)."""
    lines = [f"{method} {target} HTTP/1.1", "Host: test", "Connection: close"]
    lines += [f"{n}: {v}" for n, v in headers]
    with oxd.connect() as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        return read_response(s, head_only=(method == "HEAD"))


# --- validators ---

def test_etag_and_if_none_match(srv):
    status, h, body = get(srv, "/data.bin")
    assert (status, body) == (200, DATA)
    etag = h["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert h["content-type"] == "application/octet-stream"
    assert h["accept-ranges"] == "bytes"
    status, h2, body = get(srv, "/data.bin", [("If-None-Match", etag)])
    assert (status, body) == (304, b"")
    assert h2["etag"] == etag
    assert "content-length" not in h2
    # Weak comparison, lists and "*".
    assert get(srv, "/data.bin", [("If-None-Match", "W/" + etag)])[0] == 304
    assert get(srv, "/data.bin", [("If-None-Match", f'"nope", {etag}')])[0] == 304
    assert get(srv, "/data.bin", [("If-None-Match", "*")])[0] == 304
    assert get(srv, "/data.bin", [("If-None-Match", '"nope"')])[::2] == (200, DATA)


def test_etag_changes_with_the_file(srv, site):
    """A cached small file is checked against the disk at least once a
    second: an edit shows within that time, with a new ETag."""
    etag = get(srv, "/sub/page.txt")[1]["etag"]
    (site / "sub" / "page.txt").write_bytes(b"page, edited\n")
    os.utime(site / "sub" / "page.txt", (1_000_000_000, 1_000_000_000))
    deadline = time.monotonic() + 3
    while True:
        status, h, body = get(srv, "/sub/page.txt", [("If-None-Match", etag)])
        if status != 304 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert (status, body) == (200, b"page, edited\n")
    assert h["etag"] != etag
    assert h["last-modified"] == "Sun, 09 Sep 2001 01:46:40 GMT"


def test_if_modified_since(srv):
    h = get(srv, "/data.bin")[1]
    last_modified = h["last-modified"]
    assert last_modified.endswith(" GMT")
    status, _, body = get(srv, "/data.bin", [("If-Modified-Since", last_modified)])
    assert (status, body) == (304, b"")
    later = "Fri, 01 Jan 2100 00:00:00 GMT"
    assert get(srv, "/data.bin", [("If-Modified-Since", later)])[0] == 304
    earlier = "Thu, 01 Jan 1970 00:00:00 GMT"
    assert get(srv, "/data.bin", [("If-Modified-Since", earlier)])[::2] == (200, DATA)
    # If-None-Match wins over If-Modified-Since.
    assert get(srv, "/data.bin", [("If-Modified-Since", later),
                                  ("If-None-Match", '"other"')])[0] == 200
    # An unparsable date is ignored.
    assert get(srv, "/data.bin", [("If-Modified-Since", "yesterday")])[0] == 200


# --- ranges ---

@pytest.mark.parametrize("spec,first,last", [
    ("bytes=0-99", 0, 99),
    ("bytes=-10", 4086, 4095),
    ("bytes=100-", 100, 4095),
    ("bytes=4095-4095", 4095, 4095),
    ("bytes=4000-99999", 4000, 4095),
    ("bytes=-99999", 0, 4095),
])
def test_range(srv, spec, first, last):
    status, h, body = get(srv, "/data.bin", [("Range", spec)])
    assert status == 206
    assert h["content-range"] == f"bytes {first}-{last}/4096"
    assert h["content-length"] == str(last - first + 1)
    assert body == DATA[first:last + 1]


@pytest.mark.parametrize("spec", ["bytes=4096-", "bytes=5000-6000", "bytes=-0"])
def test_range_unsatisfiable(srv, spec):
    status, h, body = get(srv, "/data.bin", [("Range", spec)])
    assert status == 416
    assert h["content-range"] == "bytes */4096"
    assert body == b"416 Range Not Satisfiable\n"


@pytest.mark.parametrize("spec", ["bytes=0-1,5-6", "items=0-5", "bytes=5-1", "bytes=abc"])
def test_range_ignored(srv, spec):
    """Several ranges, other units and malformed ranges get the whole file."""
    status, h, body = get(srv, "/data.bin", [("Range", spec)])
    assert (status, body) == (200, DATA)
    assert "content-range" not in h


def test_if_range(srv):
    h = get(srv, "/data.bin")[1]
    etag, last_modified = h["etag"], h["last-modified"]
    status, _, body = get(srv, "/data.bin", [("Range", "bytes=0-9"), ("If-Range", etag)])
    assert (status, body) == (206, DATA[:10])
    status, _, body = get(srv, "/data.bin", [("Range", "bytes=0-9"),
                                             ("If-Range", last_modified)])
    assert (status, body) == (206, DATA[:10])
    status, h, body = get(srv, "/data.bin", [("Range", "bytes=0-9"), ("If-Range", '"old"')])
    assert (status, body) == (200, DATA)
    assert "content-range" not in h
    status, _, body = get(srv, "/data.bin", [("Range", "bytes=0-9"),
                                             ("If-Range", "Thu, 01 Jan 1970 00:00:00 GMT")])
    assert (status, body) == (200, DATA)


# --- gzip ---

def test_gzip(srv):
    status, h, body = get(srv, "/style.css", [("Accept-Encoding", "gzip, deflate")])
    assert status == 200
    assert h["content-encoding"] == "gzip"
    assert h["vary"] == "Accept-Encoding"
    assert h["content-type"] == "text/css; charset=utf-8"
    assert int(h["content-length"]) == len(body) < len(CSS) // 2
    assert gzip.decompress(body) == CSS
    gz_etag = h["etag"]
    # The identity variant has its own ETag, and the right one validates.
    status, h2, body = get(srv, "/style.css")
    assert (status, body) == (200, CSS)
    assert "content-encoding" not in h2
    assert h2["vary"] == "Accept-Encoding"
    assert h2["etag"] != gz_etag
    assert get(srv, "/style.css", [("Accept-Encoding", "gzip"),
                                   ("If-None-Match", gz_etag)])[0] == 304
    # q=0 refuses gzip.
    status, h3, body = get(srv, "/style.css", [("Accept-Encoding", "gzip;q=0, br")])
    assert (status, body) == (200, CSS)
    assert "content-encoding" not in h3


def test_gzip_through_a_client_library(srv):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    try:
        for _ in range(3):  # first from disk, then from the cache
            conn.request("GET", "/style.css", headers={"Accept-Encoding": "gzip"})
            r = conn.getresponse()
            assert r.status == 200
            assert r.getheader("Content-Encoding") == "gzip"
            assert gzip.decompress(r.read()) == CSS
    finally:
        conn.close()


def test_no_gzip_for_ranges_and_binaries(srv):
    status, h, body = get(srv, "/style.css", [("Accept-Encoding", "gzip"),
                                              ("Range", "bytes=0-9")])
    assert (status, body) == (206, CSS[:10])
    assert "content-encoding" not in h
    status, h, body = get(srv, "/data.bin", [("Accept-Encoding", "gzip")])
    assert (status, body) == (200, DATA)
    assert "content-encoding" not in h
    assert "vary" not in h


# --- HEAD ---

@pytest.mark.parametrize("target,size", [("/data.bin", 4096), ("/big.bin", 1024 * 1024 + 123),
                                         ("/empty.txt", 0)])
def test_head_has_headers_and_no_body(srv, target, size):
    with srv.connect() as s:
        for _ in range(2):
            s.sendall(f"HEAD {target} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
            status, h, _ = read_response(s, head_only=True)
            assert status == 200
            assert h["content-length"] == str(size)
            assert "etag" in h and "last-modified" in h
        # Nothing of a body came: the next answer follows at once.
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        assert read_response(s)[::2] == (200, b"ok\n")


def test_head_with_gzip(srv):
    with srv.connect() as s:
        s.sendall(b"HEAD /style.css HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n")
        status, h, _ = read_response(s, head_only=True)
        assert status == 200
        assert h["content-encoding"] == "gzip"
        assert 0 < int(h["content-length"]) < len(CSS)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        assert read_response(s)[::2] == (200, b"ok\n")


# --- directories and paths ---

def test_directory_redirect_and_index(srv):
    status, h, _ = get(srv, "/sub")
    assert status == 301
    assert h["location"] == "sub/"  # relative: never leaves the site
    assert get(srv, "/sub/")[::2] == (200, b"<p>sub index</p>\n")
    status, h, body = get(srv, "/")
    assert (status, body) == (200, b"<!doctype html><title>OX</title><p>hello</p>\n")
    assert h["content-type"] == "text/html; charset=utf-8"
    # Query strings do not change the file.
    assert get(srv, "/sub/page.txt?v=1")[::2] == (200, b"page\n")
    assert get(srv, "/sub/nothing.txt")[0] == 404
    assert get(srv, "/data.bin/")[0] == 404


def test_escaped_names(srv, site):
    (site / "a file+x.txt").write_bytes(b"spaced\n")
    (site / "dir two").mkdir()
    (site / "dir two" / "index.html").write_bytes(b"two\n")
    assert get(srv, "/a%20file%2Bx.txt")[::2] == (200, b"spaced\n")
    status, h, _ = get(srv, "/dir%20two")
    assert status == 301
    assert h["location"] == "dir%20two/"


TRAVERSALS = [
    "/../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E/secret.txt",
    "/sub/../../secret.txt",
    "/sub/%2e%2e/%2e%2e/secret.txt",
    "/..%2fsecret.txt",
    "/sub%2f..%2f..%2fsecret.txt",
    "/%2e%2e%2f%2e%2e%2fsecret.txt",
    "/..\\secret.txt",
    "/sub/..%5c..%5csecret.txt",
    "/.%2e/secret.txt",
    "/sub/../web-secret.txt",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_path_traversal_stays_in_the_web_root(srv, target):
    status, _, body = get(srv, target)
    assert status == 404
    assert body == b"404 Not Found\n"


def test_absolute_form_target(srv):
    assert get(srv, f"http://127.0.0.1:{srv.port}/sub/page.txt")[::2] == (200, b"page\n")
    assert get(srv, "http://example.com/../secret.txt")[0] == 404


def test_unreadable_file(srv, site):
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    (site / "locked.txt").write_bytes(b"locked\n")
    os.chmod(site / "locked.txt", 0)
    assert get(srv, "/locked.txt")[0] == 403


# --- large files ---

def test_large_file_streams(srv, site):
    big = (site / "big.bin").read_bytes()
    status, h, body = get(srv, "/big.bin")
    assert status == 200
    assert h["content-length"] == str(len(big))
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(big).hexdigest()
    status, h, body = get(srv, "/big.bin", [("Range", "bytes=300000-300099")])
    assert (status, body) == (206, big[300000:300100])
    assert h["content-range"] == f"bytes 300000-300099/{len(big)}"
    status, _, body = get(srv, "/big.bin", [("Range", "bytes=-10")])
    assert (status, body) == (206, big[-10:])
    etag = h["etag"]
    assert get(srv, "/big.bin", [("If-None-Match", etag)])[0] == 304


def test_large_file_on_a_keep_alive_connection(srv, site):
    big = (site / "big.bin").read_bytes()
    with srv.connect() as s:
        for _ in range(3):
            s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
            status, _, body = read_response(s)
            assert status == 200 and body == big
            s.sendall(b"GET /data.bin HTTP/1.1\r\nHost: t\r\n\r\n")
            assert read_response(s)[::2] == (200, DATA)
