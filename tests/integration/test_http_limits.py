"""Request limits (431, 414, 413), timeouts of slow and idle clients (408,
idle close) and the connection limit."""
import time

import pytest

from conftest import read_response


def req(method, target, headers=(), body=b""):
    lines = [f"{method} {target} HTTP/1.1", "Host: test"]
    lines += [f"{n}: {v}" for n, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def assert_closed(sock, timeout=3):
    sock.settimeout(timeout)
    try:
        rest = getattr(sock, "_ox_buf", b"") + sock.recv(65536)
    except ConnectionResetError:
        return
    assert rest == b"", rest[:200]


def error_response(oxd, data, timeout=5):
    """Sends data on a new connection; returns (status, headers, body) of an
    error answer after checking that the server closes the connection."""
    with oxd.connect(timeout=timeout) as s:
        s.sendall(data)
        status, headers, body = read_response(s)
        assert headers.get("connection") == "close"
        assert_closed(s)
    return status, headers, body


def ok(oxd, data):
    with oxd.connect() as s:
        s.sendall(data)
        return read_response(s)


@pytest.fixture
def limited(oxd_factory, web_root):
    return oxd_factory("http.max_header_size=1k", "http.max_headers=10",
                       "http.max_url_size=100", "http.max_body_size=1k",
                       web_root=str(web_root))


def test_header_section_too_large(limited):
    status, _, body = error_response(limited, req("GET", "/", [("X-Big", "a" * 2000)]))
    assert (status, body) == (431, b"431 Request Header Fields Too Large\n")
    # Many small headers add up to the same limit.
    many = [(f"X-{i}", "b" * 120) for i in range(9)]
    assert error_response(limited, req("GET", "/", many))[0] == 431
    # Just below the limit is fine.
    status, _, _ = ok(limited, req("GET", "/healthz", [("X-Big", "a" * 900)]))
    assert status == 200


def test_too_many_headers(limited):
    # Host plus nine: ten lines, the limit.
    nine = [(f"X-H{i}", "v") for i in range(9)]
    assert ok(limited, req("GET", "/healthz", nine))[::2] == (200, b"ok\n")
    status, _, body = error_response(limited, req("GET", "/healthz", nine + [("X-H9", "v")]))
    assert (status, body) == (431, b"431 Request Header Fields Too Large\n")


def test_too_many_trailers(limited):
    """Trailer lines of a chunked body count against the same limit."""
    trailers = b"".join(b"X-T%d: v\r\n" % i for i in range(20))
    data = req("POST", "/_test/sink", [("Transfer-Encoding", "chunked")]) + \
        b"3\r\nabc\r\n0\r\n" + trailers + b"\r\n"
    assert error_response(limited, data)[0] == 431
    assert ok(limited, req("GET", "/healthz"))[0] == 200


def test_url_too_long(limited):
    target = "/" + "a" * 99  # 100 bytes: the limit
    assert ok(limited, req("GET", target))[0] == 404
    status, _, body = error_response(limited, req("GET", target + "a"))
    assert (status, body) == (414, b"414 URI Too Long\n")
    # The query counts too.
    assert error_response(limited, req("GET", "/healthz?" + "q" * 200))[0] == 414


def test_body_too_large_by_content_length(limited):
    """413 comes from the head alone: the client need not send the body."""
    with limited.connect(timeout=3) as s:
        s.sendall(req("POST", "/_test/sink", [("Content-Length", "1025")]))
        status, headers, body = read_response(s)
        assert (status, body) == (413, b"413 Payload Too Large\n")
        assert headers["connection"] == "close"
        assert_closed(s)
    # No 100 Continue either when the client asked to wait for it.
    with limited.connect(timeout=3) as s:
        s.sendall(req("PUT", "/_test/sink", [("Content-Length", "1000000"),
                                             ("Expect", "100-continue")]))
        assert read_response(s)[0] == 413
    # At the limit it is accepted.
    status, _, body = ok(limited, req("POST", "/_test/sink", [("Content-Length", "1024")],
                                      b"z" * 1024))
    assert status == 200 and body.startswith(b"1024 ")


@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_early_answer_reaches_a_client_still_sending(limited, framing):
    """A client that sends its whole body before reading gets the 413: the
    server half-closes and drains what is in flight rather than closing
    with unread input, which makes the client's TCP reset the connection
    and lose the answer (RFC 9112 9.6)."""
    body = b"x" * 300_000
    if framing == "length":
        head = req("POST", "/_test/sink", [("Content-Length", str(len(body)))])
        data = body
    else:
        head = req("POST", "/_test/sink", [("Transfer-Encoding", "chunked")])
        data = b"".join(b"1000\r\n" + body[i:i + 4096] + b"\r\n"
                        for i in range(0, len(body), 4096))
    with limited.connect(timeout=5) as s:
        s.sendall(head)
        time.sleep(0.3)  # the server has answered and closed its side by now
        for i in range(0, len(data), 20_000):  # a reset would come between pieces
            s.sendall(data[i:i + 20_000])
            time.sleep(0.005)
        status, headers, answer = read_response(s)
        assert (status, answer) == (413, b"413 Payload Too Large\n")
        assert headers["connection"] == "close"
        assert_closed(s)
    assert ok(limited, req("GET", "/healthz"))[0] == 200


def test_chunked_body_too_large(limited):
    # Exactly the limit in chunks is fine.
    data = req("POST", "/_test/sink", [("Transfer-Encoding", "chunked")]) + \
        b"200\r\n" + b"y" * 512 + b"\r\n200\r\n" + b"y" * 512 + b"\r\n0\r\n\r\n"
    status, _, body = ok(limited, data)
    assert status == 200 and body.startswith(b"1024 ")
    # One byte more is refused and the connection closed.
    data = req("POST", "/_test/sink", [("Transfer-Encoding", "chunked")]) + \
        b"200\r\n" + b"y" * 512 + b"\r\n201\r\n" + b"y" * 513 + b"\r\n0\r\n\r\n"
    with limited.connect(timeout=3) as s:
        s.sendall(data)
        try:
            status, headers, body = read_response(s)
        except (ConnectionError, OSError):
            status = None  # closed without an answer: allowed
        if status is not None:
            assert (status, body) == (413, b"413 Payload Too Large\n")
            assert headers["connection"] == "close"
            assert_closed(s)
    assert ok(limited, req("GET", "/healthz"))[0] == 200


def test_chunked_body_far_too_large(limited):
    """A client that keeps sending is cut off; the server stays healthy."""
    with limited.connect(timeout=3) as s:
        s.sendall(req("POST", "/_test/echo", [("Transfer-Encoding", "chunked")]))
        got = b""
        try:
            for _ in range(200):
                s.sendall(b"1000\r\n" + b"w" * 4096 + b"\r\n")
        except OSError:
            pass
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        except OSError:
            pass
        assert b" 200 " not in got.split(b"\r\n", 1)[0]
        if got:
            assert got.startswith(b"HTTP/1.1 413 ")
    assert ok(limited, req("GET", "/healthz"))[0] == 200


# --- slow and idle clients ---

@pytest.mark.parametrize("partial", [b"GET /healthz HTTP/1.1\r\nHost: te", b"G",
                                     b"\r\nGET /heal"])
def test_partial_head_gets_408(oxd_factory, partial):
    oxd = oxd_factory("net.read_timeout=1s", "net.idle_timeout=20s")
    with oxd.connect(timeout=5) as s:
        start = time.monotonic()
        s.sendall(partial)
        status, headers, body = read_response(s)
        elapsed = time.monotonic() - start
        assert (status, body) == (408, b"408 Request Timeout\n")
        assert headers["connection"] == "close"
        assert 0.8 <= elapsed < 3, elapsed
        assert_closed(s)
    # Others are served meanwhile and after.
    assert ok(oxd, req("GET", "/healthz"))[::2] == (200, b"ok\n")


def test_partial_head_on_a_keep_alive_connection_gets_408(oxd_factory):
    oxd = oxd_factory("net.read_timeout=1s", "net.idle_timeout=20s")
    with oxd.connect(timeout=5) as s:
        s.sendall(req("GET", "/healthz"))
        assert read_response(s)[::2] == (200, b"ok\n")
        s.sendall(b"GET /healthz HTTP/1.1\r\n")
        start = time.monotonic()
        assert read_response(s)[0] == 408
        assert 0.8 <= time.monotonic() - start < 3
        assert_closed(s)


def test_partial_body_gets_408(oxd_factory):
    oxd = oxd_factory("net.read_timeout=1s")
    with oxd.connect(timeout=5) as s:
        s.sendall(req("POST", "/_test/sink", [("Content-Length", "10")], b"12345"))
        status, _, body = read_response(s)
        assert (status, body) == (408, b"408 Request Timeout\n")
        assert_closed(s)


def trickle(oxd, first, pieces):
    """Sends first, then each piece 0.1 s apart, until the server cuts the
    connection; returns (status of its answer or None, seconds taken)."""
    with oxd.connect(timeout=5) as s:
        start = time.monotonic()
        s.sendall(first)
        status = None
        try:
            for piece in pieces:
                s.sendall(piece)
                time.sleep(0.1)
        except OSError:
            pass
        try:
            status, _, _ = read_response(s)
        except (ConnectionError, OSError):
            pass
        return status, time.monotonic() - start


def test_trickling_client_is_cut_off(oxd_factory):
    """The read timeout bounds the whole head, not the gap between bytes."""
    oxd = oxd_factory("net.read_timeout=1s")
    status, took = trickle(oxd, b"GET /healthz HTTP/1.1\r\n",
                           [b"X-%d: v\r\n" % i for i in range(40)])
    assert status in (408, None)
    assert took < 3.5


def test_trickling_body_is_cut_off(oxd_factory):
    """A body that trickles in (here 1 KiB/s) gets no more than the read
    timeout per 16 KiB: the handler's worker is not held for as long as the
    client likes."""
    oxd = oxd_factory("net.read_timeout=1s")
    status, took = trickle(oxd, req("PUT", "/_test/sink", [("Content-Length", "1000000")]),
                           [b"t" * 100] * 60)
    assert status in (408, None)
    assert took < 4


def test_slow_but_steady_body_is_taken(oxd_factory):
    """16 KiB or more per read timeout keeps a body going."""
    oxd = oxd_factory("net.read_timeout=1s")
    piece = b"s" * (20 * 1024)
    with oxd.connect(timeout=10) as s:
        s.sendall(req("PUT", "/_test/sink", [("Content-Length", str(len(piece) * 4))]))
        for _ in range(4):
            time.sleep(0.6)  # each wait alone is within the timeout, all four are not
            s.sendall(piece)
        status, _, body = read_response(s)
        assert status == 200 and body.startswith(b"%d " % (len(piece) * 4))


def test_idle_keep_alive_is_closed(oxd_factory):
    oxd = oxd_factory("net.idle_timeout=500ms", "net.read_timeout=5s")
    with oxd.connect(timeout=5) as s:
        # In use more often than the timeout: stays open.
        for _ in range(5):
            s.sendall(req("GET", "/healthz"))
            assert read_response(s)[::2] == (200, b"ok\n")
            time.sleep(0.25)
        start = time.monotonic()
        assert_closed(s, timeout=5)
        elapsed = time.monotonic() - start
        assert 0.1 <= elapsed < 2, elapsed
    # A connection that never sends anything is closed the same way.
    with oxd.connect(timeout=5) as s:
        start = time.monotonic()
        assert_closed(s, timeout=5)
        assert time.monotonic() - start < 2
    assert ok(oxd, req("GET", "/healthz"))[0] == 200


def test_slow_handler_is_not_a_timeout(oxd_factory):
    """The read timeout covers the request, not the handler's work."""
    oxd = oxd_factory("net.read_timeout=500ms", "net.idle_timeout=500ms")
    with oxd.connect(timeout=5) as s:
        s.sendall(req("GET", "/_test/sleep?1200"))
        assert read_response(s)[::2] == (200, b"slept\n")
        s.sendall(req("GET", "/healthz"))
        assert read_response(s)[::2] == (200, b"ok\n")


# --- connection limit ---

def test_connection_limit(oxd_factory):
    oxd = oxd_factory("net.max_connections=5")
    first = [oxd.connect(timeout=3) for _ in range(5)]
    try:
        for s in first:
            s.sendall(req("GET", "/healthz"))
            assert read_response(s)[::2] == (200, b"ok\n")
        for _ in range(2):
            with oxd.connect(timeout=3) as extra:
                try:
                    extra.sendall(req("GET", "/healthz"))
                    data = extra.recv(65536)
                except (ConnectionResetError, BrokenPipeError):
                    data = b""
                assert data == b""
        # The first five still work.
        for s in first:
            s.sendall(req("GET", "/healthz"))
            assert read_response(s)[::2] == (200, b"ok\n")
        assert "event=connection_refused reason=max_connections limit=5" in oxd.read_log()
        # One leaves: a new one is let in.
        first.pop().close()
        deadline = time.monotonic() + 3
        while True:
            with oxd.connect(timeout=3) as s:
                try:
                    s.sendall(req("GET", "/healthz"))
                    status, _, _ = read_response(s)
                    break
                except (ConnectionError, OSError):
                    assert time.monotonic() < deadline, "no connection let in"
                    time.sleep(0.05)
        assert status == 200
    finally:
        for s in first:
            s.close()
