"""HTTPS with the self-signed certificate oxd makes on first start."""
import hashlib
import http.client
import os
import socket
import ssl
import time

import pytest
import requests

from conftest import SocketWithBuffer, read_response


def tls_context(oxd):
    ctx = ssl.create_default_context(cafile=oxd.cert_path)
    assert ctx.check_hostname and ctx.verify_mode == ssl.CERT_REQUIRED
    return ctx


def tls_connect(oxd, server_hostname="localhost", ctx=None, timeout=10):
    raw = SocketWithBuffer(socket.AF_INET, socket.SOCK_STREAM)
    raw.settimeout(timeout)
    raw.connect(("127.0.0.1", oxd.tls_port))
    return (ctx or tls_context(oxd)).wrap_socket(raw, server_hostname=server_hostname)


def req(method, target, headers=(), body=b""):
    lines = [f"{method} {target} HTTP/1.1", "Host: test"]
    lines += [f"{n}: {v}" for n, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@pytest.mark.parametrize("hostname", ["127.0.0.1", "localhost"])
def test_certificate_verifies(oxd, hostname):
    with tls_connect(oxd, hostname) as s:
        assert s.version() in ("TLSv1.2", "TLSv1.3")
        s.sendall(req("GET", "/healthz"))
        assert read_response(s)[::2] == (200, b"ok\n")


def test_wrong_hostname_is_refused_by_the_client(oxd):
    with pytest.raises(ssl.SSLCertVerificationError):
        tls_connect(oxd, "example.com")


def test_requests_library(oxd):
    r = requests.get(oxd.tls_url("/healthz"), verify=oxd.cert_path, timeout=5)
    assert (r.status_code, r.text) == (200, "ok\n")
    r = requests.get(f"https://localhost:{oxd.tls_port}/", verify=oxd.cert_path, timeout=5)
    assert r.status_code == 200 and "hello" in r.text


def test_keep_alive_over_tls(oxd):
    with tls_connect(oxd) as s:
        for i in range(200):
            target = "/healthz" if i % 2 else "/file4k.txt"
            s.sendall(req("GET", target))
            status, headers, body = read_response(s)
            assert status == 200
            assert body == (b"ok\n" if i % 2 else b"x" * 4096)
            assert "connection" not in headers
    conn = http.client.HTTPSConnection("127.0.0.1", oxd.tls_port, context=tls_context(oxd),
                                       timeout=5)
    try:
        conn.request("GET", "/healthz")
        r = conn.getresponse()
        assert (r.status, r.read()) == (200, b"ok\n")
        sock = conn.sock
        conn.request("GET", "/index.html")
        r = conn.getresponse()
        assert r.status == 200 and b"hello" in r.read()
        assert conn.sock is sock
    finally:
        conn.close()


def test_pipelined_over_tls(oxd):
    with tls_connect(oxd) as s:
        s.sendall(req("GET", "/healthz") + req("GET", "/nope") + req("GET", "/file4k.txt"))
        assert read_response(s)[::2] == (200, b"ok\n")
        assert read_response(s)[0] == 404
        assert read_response(s)[::2] == (200, b"x" * 4096)


def test_large_bodies_over_tls(oxd):
    data = os.urandom(3 * 1024 * 1024 + 5)
    with tls_connect(oxd) as s:
        s.sendall(req("POST", "/_test/sink", [("Content-Length", str(len(data)))], data))
        status, _, body = read_response(s)
        assert (status, body) == (200, f"{len(data)} {hashlib.sha256(data).hexdigest()}\n".encode())
        size = 8 * 1024 * 1024
        s.sendall(req("GET", f"/_test/stream?{size}"))
        status, _, body = read_response(s)
        assert status == 200 and len(body) == size
        pattern = bytes(97 + i % 26 for i in range(65536))
        assert body == pattern * (size // len(pattern))


def test_tls_close_after_connection_close(oxd):
    with tls_connect(oxd) as s:
        s.sendall(req("GET", "/healthz", [("Connection", "close")]))
        status, headers, body = read_response(s)
        assert (status, body) == (200, b"ok\n")
        assert headers["connection"] == "close"
        s.settimeout(3)
        try:
            assert s.recv(100) == b""  # close_notify, then EOF
        except (ssl.SSLEOFError, ConnectionResetError):
            pass


def test_tls_error_reply(oxd):
    """Framing errors are answered inside TLS like on plain HTTP."""
    with tls_connect(oxd) as s:
        s.sendall(b"GET / HTTP/2.0\r\nHost: t\r\n\r\n")
        status, headers, body = read_response(s)
        assert (status, body) == (505, b"505 HTTP Version Not Supported\n")
        assert headers["connection"] == "close"


def raw_tls_port(oxd, data, timeout=3):
    """Sends bytes to the TLS port without TLS; returns what comes back
    before the server closes."""
    with socket.create_connection(("127.0.0.1", oxd.tls_port), timeout=timeout) as s:
        got = b""
        try:
            s.sendall(data)
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        except ConnectionResetError:
            pass
        return got


@pytest.mark.parametrize("data", [
    b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n",
    bytes(range(256)) * 8,
    b"\x16\x03\x01\x00\x05hello" + b"\x00" * 100,
    b"\x16\x03\x01\xff\xff" + b"A" * 3000,
], ids=["plain HTTP", "binary", "short handshake record", "oversized record"])
def test_garbage_on_the_tls_port(oxd, data):
    start = time.monotonic()
    got = raw_tls_port(oxd, data)
    # Closed promptly, with at most a TLS alert, never an HTTP answer.
    assert time.monotonic() - start < 2.5
    assert b"HTTP/1.1" not in got
    assert len(got) < 100
    with tls_connect(oxd) as s:
        s.sendall(req("GET", "/healthz"))
        assert read_response(s)[::2] == (200, b"ok\n")


def test_client_gone_mid_handshake(oxd):
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", oxd.tls_port), timeout=3)
        s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        s.close()
    with tls_connect(oxd) as s:
        s.sendall(req("GET", "/healthz"))
        assert read_response(s)[::2] == (200, b"ok\n")
    assert oxd.proc.poll() is None


def test_tls_idle_connection_is_closed(oxd_factory):
    oxd = oxd_factory("net.idle_timeout=500ms")
    with tls_connect(oxd) as s:
        s.sendall(req("GET", "/healthz"))
        assert read_response(s)[::2] == (200, b"ok\n")
        start = time.monotonic()
        s.settimeout(5)
        try:
            assert s.recv(100) == b""
        except (ssl.SSLEOFError, ConnectionResetError):
            pass
        assert time.monotonic() - start < 2


def test_tls_partial_request_gets_408(oxd_factory):
    oxd = oxd_factory("net.read_timeout=1s")
    with tls_connect(oxd) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost")
        start = time.monotonic()
        status, headers, body = read_response(s)
        assert (status, body) == (408, b"408 Request Timeout\n")
        assert time.monotonic() - start < 3
