"""HTTP/1.1 framing against a real oxd: malformed requests, keep-alive,
pipelining, request bodies (chunked, Content-Length, 100-continue) and
response streaming with bounded memory."""
import hashlib
import os
import socket
import threading
import time

import pytest

from conftest import read_response

INDEX = b"<!doctype html><title>OX</title><p>hello</p>\n"


def req(method, target, headers=(), body=b"", host="test", version="HTTP/1.1"):
    """One request as bytes; headers is a list of (name, value)."""
    lines = [f"{method} {target} {version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    lines += [f"{n}: {v}" for n, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def send_raw(oxd, data, timeout=5):
    """Sends bytes on a new connection and reads one response. Returns
    (status, headers, body, sock); the caller closes sock."""
    s = oxd.connect(timeout=timeout)
    s.sendall(data)
    status, headers, body = read_response(s)
    return status, headers, body, s


def assert_closed(sock, timeout=3):
    """The server closes the connection (EOF or reset) without more bytes."""
    sock.settimeout(timeout)
    try:
        rest = getattr(sock, "_ox_buf", b"") + sock.recv(65536)
    except ConnectionResetError:
        return
    assert rest == b"", rest[:200]


def assert_healthy(oxd):
    with oxd.connect() as s:
        s.sendall(req("GET", "/healthz"))
        status, _, body = read_response(s)
    assert (status, body) == (200, b"ok\n")


def chunked(data, sizes, ext=lambda i: "", trailers=()):
    """Encodes data as chunks of the given sizes, cycling."""
    out = bytearray()
    pos = i = 0
    while pos < len(data):
        n = sizes[i % len(sizes)]
        piece = data[pos:pos + n]
        out += b"%x%s\r\n" % (len(piece), ext(i).encode()) + piece + b"\r\n"
        pos += len(piece)
        i += 1
    out += b"0\r\n"
    for name, value in trailers:
        out += f"{name}: {value}\r\n".encode()
    out += b"\r\n"
    return bytes(out)


def sink_answer(data):
    return f"{len(data)} {hashlib.sha256(data).hexdigest()}\n".encode()


# --- malformed requests ---

MALFORMED = [
    ("garbage", b"\x00\x01\x02garbage\xff\r\n\r\n", 400),
    ("no target", b"GET\r\n\r\n", 400),
    ("space in target", b"GET /a b HTTP/1.1\r\nHost: t\r\n\r\n", 400),
    ("lower-case version", b"GET / http/1.1\r\nHost: t\r\n\r\n", 400),
    ("relative target", b"GET healthz HTTP/1.1\r\nHost: t\r\n\r\n", 400),
    ("header without colon", b"GET / HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n", 400),
    ("space before colon", b"GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400),
    ("bare CR in header", b"GET / HTTP/1.1\r\nHost: t\rX\n\r\n", 400),
    ("bad escape", b"GET /%zz HTTP/1.1\r\nHost: t\r\n\r\n", 400),
    ("escaped NUL", b"GET /a%00b HTTP/1.1\r\nHost: t\r\n\r\n", 400),
    ("bad chunk size",
     b"POST /_test/sink HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"zz\r\nabc\r\n0\r\n\r\n", 400),
    ("bad chunk size after a good chunk",
     b"POST /_test/sink HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"3\r\nabc\r\nq\r\n0\r\n\r\n", 400),
    ("chunk data not followed by CRLF",
     b"POST /_test/sink HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"3\r\nabcXX0\r\n\r\n", 400),
    ("chunk size line not ended by CRLF",
     b"POST /_test/sink HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"3\rXabc\r\n0\r\n\r\n", 400),
    ("chunked on a route that answers at once",
     b"GET /healthz HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"zz\r\n\r\n", 400),
    ("Content-Length and Transfer-Encoding",
     b"POST /_test/sink HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 400),
    ("two different Content-Length",
     b"POST /_test/sink HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"
     b"abcd", 400),
    ("negative Content-Length",
     b"POST /_test/sink HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n", 400),
    ("unknown transfer coding",
     b"POST /_test/sink HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\nabc", 400),
    ("transfer coding before chunked",
     b"POST /_test/sink HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
     b"3\r\nabc\r\n0\r\n\r\n", 501),
    ("HTTP/2.0", b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505),
    ("missing Host on HTTP/1.1", b"GET / HTTP/1.1\r\n\r\n", 400),
    ("two Host headers", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    ("unknown expectation", b"GET /healthz HTTP/1.1\r\nHost: t\r\nExpect: magic\r\n\r\n", 417),
    ("CONNECT", b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 501),
    ("overlong method", b"A" * 64 + b" / HTTP/1.1\r\nHost: t\r\n\r\n", 501),
]


@pytest.mark.parametrize("data,status", [m[1:] for m in MALFORMED],
                         ids=[m[0] for m in MALFORMED])
def test_malformed_request(oxd, data, status):
    got, headers, body, s = send_raw(oxd, data)
    with s:
        assert got == status, body
        assert headers["connection"] == "close"
        assert body.startswith(b"%d " % status)
        assert headers["content-length"] == str(len(body))
        assert_closed(s)
    assert_healthy(oxd)
    assert oxd.proc.poll() is None


@pytest.mark.parametrize("method", ["FOOBAR", "PROPFIND", "REPORT", "MKCALENDAR", "DELETE"])
def test_unknown_and_dav_methods_reach_the_router(oxd, method):
    """Extension methods are parsed and routed: the static route answers
    405 with Allow, and the connection stays usable."""
    with oxd.connect() as s:
        s.sendall(req(method, "/index.html", [("Content-Length", "0")]))
        status, headers, body = read_response(s)
        assert status == 405
        assert headers["allow"] == "GET, HEAD, OPTIONS"
        assert body == b"405 Method Not Allowed\n"
        assert "connection" not in headers
        s.sendall(req("GET", "/healthz"))
        assert read_response(s)[::2] == (200, b"ok\n")


def test_options(oxd):
    with oxd.connect() as s:
        s.sendall(req("OPTIONS", "/healthz"))
        status, headers, body = read_response(s)
        assert (status, body) == (204, b"")
        assert headers["allow"] == "GET, HEAD, OPTIONS"


def test_blank_lines_before_a_request_are_ignored(oxd):
    with oxd.connect() as s:
        s.sendall(b"\r\n\r\n" + req("GET", "/healthz"))
        assert read_response(s)[::2] == (200, b"ok\n")


def test_http10_closes_unless_keep_alive(oxd):
    status, headers, body, s = send_raw(oxd, req("GET", "/healthz", host=None,
                                                 version="HTTP/1.0"))
    with s:
        assert (status, body) == (200, b"ok\n")
        assert headers["connection"] == "close"
        assert_closed(s)
    with oxd.connect() as s:
        for _ in range(3):
            s.sendall(req("GET", "/healthz", [("Connection", "keep-alive")], host=None,
                          version="HTTP/1.0"))
            status, headers, body = read_response(s)
            assert (status, body) == (200, b"ok\n")
            assert headers["connection"] == "keep-alive"


def test_connection_close_is_honoured(oxd):
    status, headers, body, s = send_raw(oxd, req("GET", "/healthz", [("Connection", "close")]))
    with s:
        assert (status, body) == (200, b"ok\n")
        assert headers["connection"] == "close"
        assert_closed(s)


# --- keep-alive and pipelining ---

def test_thousand_requests_on_one_connection(oxd):
    with oxd.connect() as s:
        for i in range(1000):
            target = "/healthz" if i % 2 else "/file4k.txt"
            s.sendall(req("GET", target))
            status, headers, body = read_response(s)
            assert status == 200, (i, status)
            assert body == (b"ok\n" if i % 2 else b"x" * 4096)
            assert "connection" not in headers
    assert oxd.read_log().count("event=access") >= 1000


def test_pipelined_requests_answer_in_order(oxd):
    batch = (req("GET", "/healthz") + req("GET", "/file4k.txt") + req("GET", "/nope")
             + req("HEAD", "/index.html") + req("GET", "/index.html")
             + req("GET", "/healthz", [("Connection", "close")]))
    with oxd.connect() as s:
        s.sendall(batch)
        r1 = read_response(s)
        r2 = read_response(s)
        r3 = read_response(s)
        r4 = read_response(s, head_only=True)
        r5 = read_response(s)
        r6 = read_response(s)
        assert r1[::2] == (200, b"ok\n")
        assert r2[::2] == (200, b"x" * 4096)
        assert r3[::2] == (404, b"404 Not Found\n")
        assert r4[0] == 200 and r4[1]["content-length"] == str(len(INDEX))
        assert r5[::2] == (200, INDEX)
        assert r6[::2] == (200, b"ok\n")
        assert r6[1]["connection"] == "close"
        assert_closed(s)


def test_pipelined_behind_a_slow_request(oxd):
    """A fast request behind a slow one waits its turn."""
    with oxd.connect() as s:
        s.sendall(req("GET", "/_test/sleep?300") + req("GET", "/healthz")
                  + req("POST", "/_test/sink", [("Content-Length", "5")], b"hello"))
        assert read_response(s)[::2] == (200, b"slept\n")
        assert read_response(s)[::2] == (200, b"ok\n")
        assert read_response(s)[::2] == (200, sink_answer(b"hello"))


def test_pipelined_then_half_close(oxd):
    """A client that sends its requests and shuts down its side still gets
    every answer."""
    with oxd.connect() as s:
        s.sendall(req("GET", "/_test/sleep?100") + req("GET", "/healthz")
                  + req("GET", "/file4k.txt"))
        s.shutdown(socket.SHUT_WR)
        assert read_response(s)[::2] == (200, b"slept\n")
        assert read_response(s)[::2] == (200, b"ok\n")
        assert read_response(s)[::2] == (200, b"x" * 4096)
        assert_closed(s)


def test_pipelined_byte_by_byte(oxd):
    data = req("GET", "/healthz") + req("POST", "/_test/sink", [("Transfer-Encoding", "chunked")],
                                        chunked(b"abcdefghij", [3])) + req("GET", "/nope")
    with oxd.connect() as s:
        for i in range(len(data)):
            s.send(data[i:i + 1])
        assert read_response(s)[::2] == (200, b"ok\n")
        assert read_response(s)[::2] == (200, sink_answer(b"abcdefghij"))
        assert read_response(s)[0] == 404


# --- request bodies ---

def test_content_length_uploads(oxd, http):
    for size in (0, 1, 1000, 64 * 1024, 64 * 1024 + 1, 3 * 1024 * 1024 + 7):
        data = os.urandom(size)
        r = http.post(oxd.url("/_test/sink"), data=data)
        assert r.status_code == 200
        assert r.content == sink_answer(data), size


def test_chunked_upload_odd_sizes_extensions_trailers(oxd):
    data = os.urandom(3 * 1024 * 1024 + 333)
    body = chunked(data, [1, 7, 4093, 65537, 100003, 2, 262147],
                   ext=lambda i: ";n=%d;name=\"v\"" % i if i % 3 == 0 else "",
                   trailers=[("X-Checksum", "whatever"), ("X-Other", "1")])
    with oxd.connect(timeout=20) as s:
        s.sendall(req("POST", "/_test/sink", [("Transfer-Encoding", "chunked")]) + body)
        assert read_response(s)[::2] == (200, sink_answer(data))
        # The connection is reusable after the trailers.
        s.sendall(req("GET", "/healthz"))
        assert read_response(s)[::2] == (200, b"ok\n")


def test_chunked_upload_in_small_writes(oxd):
    """Chunk headers and delimiters split across TCP segments."""
    data = os.urandom(200_000)
    body = chunked(data, [5000, 1, 12345], ext=lambda i: ";x=y")
    with oxd.connect(timeout=20) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(req("POST", "/_test/sink", [("Transfer-Encoding", "chunked")]))
        pos = 0
        step = 997
        while pos < len(body):
            s.sendall(body[pos:pos + step])
            pos += step
            if pos % (step * 50) == 0:
                time.sleep(0.001)
        assert read_response(s)[::2] == (200, sink_answer(data))


def test_empty_chunked_upload(oxd):
    with oxd.connect() as s:
        s.sendall(req("POST", "/_test/sink", [("Transfer-Encoding", "chunked")]) + b"0\r\n\r\n")
        assert read_response(s)[::2] == (200, sink_answer(b""))


def test_chunked_echo_streams_back(oxd):
    data = os.urandom(4 * 1024 * 1024 + 11)
    body = chunked(data, [65536, 3, 1000, 131071])
    with oxd.connect(timeout=20) as s:
        errors = []

        def send():
            try:
                s.sendall(req("POST", "/_test/echo", [("Transfer-Encoding", "chunked")]) + body)
            except OSError as e:
                errors.append(e)

        t = threading.Thread(target=send)
        t.start()
        status, headers, got = read_response(s)
        t.join()
        assert not errors
        assert status == 200
        assert headers["transfer-encoding"] == "chunked"
        assert len(got) == len(data)
        assert got == data
        # The answer began before the body was all in: the server cannot
        # know the handler read it all, so it says close and closes.
        assert headers["connection"] == "close"
        assert_closed(s)


def test_echo_small_content_length(oxd):
    with oxd.connect() as s:
        s.sendall(req("POST", "/_test/echo", [("Content-Length", "11")], b"hello world"))
        status, headers, body = read_response(s)
        assert (status, body) == (200, b"hello world")
        assert headers["content-length"] == "11"


def test_expect_100_continue(oxd):
    data = os.urandom(200_000)
    with oxd.connect() as s:
        s.sendall(req("POST", "/_test/sink", [("Content-Length", str(len(data))),
                                              ("Expect", "100-continue")]))
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(4096)
            assert chunk, "closed before 100 Continue"
            buf += chunk
        head, rest = buf.split(b"\r\n\r\n", 1)
        assert head == b"HTTP/1.1 100 Continue"
        assert rest == b""
        s.sendall(data)
        assert read_response(s)[::2] == (200, sink_answer(data))


def test_expect_100_continue_chunked(oxd):
    data = b"z" * 70000
    with oxd.connect() as s:
        s.sendall(req("POST", "/_test/sink", [("Transfer-Encoding", "chunked"),
                                              ("Expect", "100-Continue")]))
        status, _, _ = read_response(s)
        assert status == 100
        s.sendall(chunked(data, [30000]))
        assert read_response(s)[::2] == (200, sink_answer(data))


def test_body_cut_short_by_the_client(oxd):
    """A client that disconnects in the middle of a body does not hurt the
    server."""
    for headers in ([("Content-Length", "1000000")], [("Transfer-Encoding", "chunked")]):
        s = oxd.connect()
        body = b"x" * 300000 if headers[0][0] == "Content-Length" else b"10000\r\n" + b"x" * 5000
        s.sendall(req("POST", "/_test/sink", headers) + body)
        s.close()
    assert_healthy(oxd)


# --- response streaming ---

def vm_kib(oxd, field):
    with open(f"/proc/{oxd.proc.pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(field)


def test_stream_50mb_with_bounded_memory(oxd):
    size = 50 * 1024 * 1024
    pattern = bytes(97 + i % 26 for i in range(65536))
    expected = hashlib.sha256()
    for _ in range(size // len(pattern)):
        expected.update(pattern)
    before = oxd.rss_kib()
    with oxd.connect(timeout=20) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.sendall(req("GET", f"/_test/stream?{size}"))
        time.sleep(0.3)  # a slow reader: the server must wait, not buffer
        buf = b""
        while b"\r\n\r\n" not in buf:
            buf += s.recv(65536)
        head, rest = buf.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 200 ")
        assert b"Transfer-Encoding: chunked" in head
        # De-chunk while counting.
        got = hashlib.sha256()
        total = 0
        peak = oxd.rss_kib()
        pending = rest
        while True:
            while b"\r\n" not in pending:
                pending += s.recv(65536)
            line, pending = pending.split(b"\r\n", 1)
            n = int(line, 16)
            while len(pending) < n + 2:
                chunk = s.recv(262144)
                assert chunk, "closed inside the stream"
                pending += chunk
            got.update(pending[:n])
            total += n
            pending = pending[n + 2:]
            if n == 0:
                break
            if total % (4 * 1024 * 1024) < n:
                peak = max(peak, oxd.rss_kib())
        assert total == size
        assert got.hexdigest() == expected.hexdigest()
        s.sendall(req("GET", "/healthz"))
        s._ox_buf = pending
        assert read_response(s)[::2] == (200, b"ok\n")
    after = oxd.rss_kib()
    if oxd.sanitized():
        return
    # Flat memory: far less than the 50 MB that went through.
    assert peak - before < 24 * 1024, (before, peak, after)
    assert after - before < 24 * 1024, (before, peak, after)
    assert vm_kib(oxd, "VmHWM") - before < 32 * 1024


def test_stream_to_a_client_that_leaves(oxd):
    s = oxd.connect()
    s.sendall(req("GET", "/_test/stream?100000000"))
    s.recv(1000)
    s.close()
    time.sleep(0.2)
    assert_healthy(oxd)
    assert oxd.proc.poll() is None
