"""oxd's life: SIGHUP reloads (settings, broken files, certificates),
SIGTERM drain, and start-up errors that name their cause."""
import os
import signal
import socket
import ssl
import subprocess
import time

import pytest

from conftest import OXCTL, SocketWithBuffer, read_response

LONG = "/" + "a" * 200  # 404 by default, 414 once max_url_size is 100


def req(method, target, headers=()):
    lines = [f"{method} {target} HTTP/1.1", "Host: test"]
    lines += [f"{n}: {v}" for n, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def status_of(oxd, target):
    with oxd.connect(timeout=5) as s:
        s.sendall(req("GET", target, [("Connection", "close")]))
        return read_response(s)[0]


def wait_for(predicate, timeout=5, what="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def wait_log(oxd, text, start=0, timeout=5):
    wait_for(lambda: text in oxd.read_log()[start:], timeout, repr(text))


def write_config(path, text):
    tmp = str(path) + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def make_cert(directory, cn):
    """A self-signed certificate for localhost/127.0.0.1; returns (cert, key)."""
    os.makedirs(directory, exist_ok=True)
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", f"/CN={cn}",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def der(cert_path):
    with open(cert_path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def tls_connect(port, cafile, timeout=5):
    ctx = ssl.create_default_context(cafile=cafile)
    raw = SocketWithBuffer(socket.AF_INET, socket.SOCK_STREAM)
    raw.settimeout(timeout)
    raw.connect(("127.0.0.1", port))
    return ctx.wrap_socket(raw, server_hostname="localhost")


# --- SIGHUP ---

def test_reload_applies_settings_and_keeps_connections(oxd_factory, web_root, tmp_path):
    cfg = tmp_path / "oxd.ini"
    write_config(cfg, "[http]\nmax_url_size = 8k\n[log]\nlevel = info\n")
    oxd = oxd_factory(config=str(cfg), web_root=str(web_root))
    assert status_of(oxd, LONG) == 404
    with oxd.connect(timeout=5) as kept:
        kept.sendall(req("GET", "/healthz"))
        assert read_response(kept)[::2] == (200, b"ok\n")
        assert "event=access" in oxd.read_log()

        write_config(cfg, "[http]\nmax_url_size = 100\n[log]\nlevel = warn\n")
        oxd.signal(signal.SIGHUP)
        wait_for(lambda: status_of(oxd, LONG) == 414, what="the new max_url_size")

        # The connection opened before the reload still works.
        for _ in range(3):
            kept.sendall(req("GET", "/healthz"))
            assert read_response(kept)[::2] == (200, b"ok\n")
        # log.level=warn: requests are no longer logged.
        mark = len(oxd.read_log())
        assert status_of(oxd, "/healthz?after-reload") == 200
        time.sleep(0.1)
        assert "after-reload" not in oxd.read_log()[mark:]
    assert oxd.proc.poll() is None


@pytest.mark.parametrize("broken,named", [
    ("[http]\nmax_url_size = 100\nno_such_key = 1\n", "http.no_such_key"),
    ("[http]\nmax_url_size = tiny\n", "http.max_url_size"),
    ("[http\nmax_url_size = 100\n", "oxd.ini"),
])
def test_broken_config_on_reload_is_ignored(oxd_factory, web_root, tmp_path, broken, named):
    cfg = tmp_path / "oxd.ini"
    write_config(cfg, "[http]\nmax_url_size = 8k\n")
    oxd = oxd_factory(config=str(cfg), web_root=str(web_root))
    with oxd.connect(timeout=5) as kept:
        kept.sendall(req("GET", "/healthz"))
        assert read_response(kept)[0] == 200
        write_config(cfg, broken)
        mark = len(oxd.read_log())
        oxd.signal(signal.SIGHUP)
        wait_log(oxd, "event=reload_failed", mark)
        line = [ln for ln in oxd.read_log()[mark:].splitlines() if "reload_failed" in ln][0]
        assert "level=error" in line
        assert named in line
        # Still running, on the old settings, old connections included.
        assert oxd.proc.poll() is None
        kept.sendall(req("GET", "/healthz"))
        assert read_response(kept)[::2] == (200, b"ok\n")
        assert status_of(oxd, LONG) == 404
    # A good file afterwards applies.
    write_config(cfg, "[http]\nmax_url_size = 100\n")
    oxd.signal(signal.SIGHUP)
    wait_for(lambda: status_of(oxd, LONG) == 414, what="the fixed file")


def test_reload_replaces_the_certificate(oxd_factory, tmp_path):
    live = tmp_path / "live"
    cert, key = make_cert(str(live), "first")
    first_der = der(cert)
    ca_first = str(tmp_path / "first.pem")
    with open(cert) as src, open(ca_first, "w") as dst:
        dst.write(src.read())
    oxd = oxd_factory(f"tls.certificate={cert}", f"tls.key={key}")

    with tls_connect(oxd.tls_port, ca_first) as kept:
        assert kept.getpeercert(binary_form=True) == first_der
        kept.sendall(req("GET", "/healthz"))
        assert read_response(kept)[::2] == (200, b"ok\n")

        new_cert, new_key = make_cert(str(tmp_path / "next"), "second")
        second_der = der(new_cert)
        assert second_der != first_der
        ca_second = str(tmp_path / "second.pem")
        with open(new_cert) as src, open(ca_second, "w") as dst:
            dst.write(src.read())
        os.replace(new_key, key)
        os.replace(new_cert, cert)
        mark = len(oxd.read_log())
        oxd.signal(signal.SIGHUP)
        wait_log(oxd, "event=reloaded", mark)

        with tls_connect(oxd.tls_port, cert) as s:
            assert s.getpeercert(binary_form=True) == second_der
            s.sendall(req("GET", "/healthz"))
            assert read_response(s)[::2] == (200, b"ok\n")
        with pytest.raises(ssl.SSLCertVerificationError):
            tls_connect(oxd.tls_port, ca_first)

        # The connection made with the old certificate goes on.
        kept.sendall(req("GET", "/healthz"))
        assert read_response(kept)[::2] == (200, b"ok\n")

    # A broken certificate on reload keeps the current one.
    with open(cert, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n")
    mark = len(oxd.read_log())
    oxd.signal(signal.SIGHUP)
    wait_log(oxd, "event=reload_failed", mark)
    assert cert in oxd.read_log()[mark:]
    with tls_connect(oxd.tls_port, ca_second) as s:
        assert s.getpeercert(binary_form=True) == second_der
        s.sendall(req("GET", "/healthz"))
        assert read_response(s)[::2] == (200, b"ok\n")
    assert oxd.proc.poll() is None


# --- SIGTERM ---

def test_sigterm_drains(oxd):
    busy = oxd.connect(timeout=10)
    idle = oxd.connect(timeout=10)
    partial = oxd.connect(timeout=10)
    try:
        idle.sendall(req("GET", "/healthz"))
        assert read_response(idle)[::2] == (200, b"ok\n")
        partial.sendall(b"GET /healthz HTTP/1.1\r\n")
        busy.sendall(req("GET", "/_test/sleep?1500"))
        wait_log(oxd, "event=listening")
        time.sleep(0.2)  # the sleep request is on a worker now
        sent = time.monotonic()
        oxd.signal(signal.SIGTERM)

        # Idle connections are closed at once.
        idle.settimeout(1)
        assert idle.recv(100) == b""
        assert time.monotonic() - sent < 1

        # New connections are refused (one that raced into the closing
        # listener's backlog is reset or closed unanswered).
        def refused():
            try:
                with socket.create_connection(("127.0.0.1", oxd.port), timeout=1) as s:
                    s.sendall(req("GET", "/healthz"))
                    s.settimeout(1)
                    assert s.recv(100) == b""
                    return False
            except (ConnectionRefusedError, ConnectionResetError, BrokenPipeError):
                return True
        wait_for(refused, timeout=2, what="refused connections")
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", oxd.port), timeout=1)

        # A request that was being sent is still answered, as draining.
        partial.sendall(b"Host: t\r\n\r\n")
        status, headers, body = read_response(partial)
        assert (status, body) == (503, b"draining\n")
        assert headers["connection"] == "close"

        # The request in flight completes.
        status, headers, body = read_response(busy)
        assert (status, body) == (200, b"slept\n")
        assert headers["connection"] == "close"
        assert time.monotonic() - sent > 1.0

        assert oxd.proc.wait(timeout=10) == 0
        log = oxd.read_log()
        assert "event=stopping signal=TERM" in log
        assert "event=stopped" in log
    finally:
        for s in (busy, idle, partial):
            s.close()


def test_sigterm_with_nothing_open_exits_at_once(oxd):
    start = time.monotonic()
    oxd.signal(signal.SIGTERM)
    assert oxd.proc.wait(timeout=5) == 0
    assert time.monotonic() - start < 1


def test_drain_timeout_cuts_slow_requests(oxd_factory):
    oxd = oxd_factory("net.drain_timeout=300ms")
    with oxd.connect(timeout=5) as s:
        s.sendall(req("GET", "/_test/sleep?1500"))
        time.sleep(0.2)
        start = time.monotonic()
        oxd.signal(signal.SIGTERM)
        try:
            data = s.recv(100)
        except ConnectionResetError:
            data = b""
        # Cut at the drain timeout, without an answer.
        assert data == b""
        assert time.monotonic() - start < 1
        # The process still lets the running handler return before it
        # exits (it may not free what a worker uses).
        assert oxd.proc.wait(timeout=10) == 0
        assert time.monotonic() - start < 3
    assert "event=drain_timeout" in oxd.read_log()


# --- start-up errors ---

def failed_start(oxd_factory, *sets, config=None):
    oxd = oxd_factory(*sets, config=config, expect_fail=True)
    code = oxd.proc.wait(timeout=15)
    assert code != 0
    log = oxd.read_log()
    assert "event=ready" not in log
    return code, log


def test_port_in_use(oxd_factory):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        _, log = failed_start(oxd_factory, f"listen.http=127.0.0.1:{port}")
    assert f"127.0.0.1:{port}" in log
    assert "listen.http" in log
    assert "Address already in use" in log


def test_port_in_use_for_https(oxd_factory):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        _, log = failed_start(oxd_factory, f"listen.https=127.0.0.1:{port}")
    assert f"listen.https: cannot bind 127.0.0.1:{port}" in log


def test_bad_listen_address(oxd_factory):
    _, log = failed_start(oxd_factory, "listen.http=nowhere:80")
    assert "listen.http" in log and "nowhere:80" in log


def test_unreadable_certificate(oxd_factory, tmp_path):
    missing = str(tmp_path / "missing" / "cert.pem")
    _, log = failed_start(oxd_factory, f"tls.certificate={missing}",
                          f"tls.key={tmp_path / 'missing' / 'key.pem'}")
    assert missing in log
    assert "tls.certificate" in log


def test_garbage_certificate(oxd_factory, tmp_path):
    cert = tmp_path / "cert.pem"
    cert.write_text("not a certificate\n")
    _, log = failed_start(oxd_factory, f"tls.certificate={cert}", f"tls.key={cert}")
    assert str(cert) in log


def test_key_not_matching_the_certificate(oxd_factory, tmp_path):
    cert, _ = make_cert(str(tmp_path / "a"), "a")
    _, other_key = make_cert(str(tmp_path / "b"), "b")
    _, log = failed_start(oxd_factory, f"tls.certificate={cert}", f"tls.key={other_key}")
    assert f"tls.key: cannot load {other_key}" in log
    assert "mismatch" in log


def test_unknown_option(oxd_factory):
    _, log = failed_start(oxd_factory, "http.no_such_option=1")
    assert "http.no_such_option" in log


def test_unknown_option_in_the_file(oxd_factory, tmp_path):
    cfg = tmp_path / "oxd.ini"
    cfg.write_text("[net]\nmax_connections = 10\nfrobnicate = yes\n")
    _, log = failed_start(oxd_factory, config=str(cfg))
    assert "net.frobnicate" in log
    assert str(cfg) in log


def test_bad_value(oxd_factory):
    _, log = failed_start(oxd_factory, "net.read_timeout=soon")
    assert "net.read_timeout" in log and "soon" in log


def oxctl(*args):
    return subprocess.run([OXCTL, *args], capture_output=True, text=True, timeout=15)


def test_oxctl_config_check(tmp_path):
    good = tmp_path / "good.ini"
    good.write_text("[http]\nmax_url_size = 4k\n")
    r = oxctl("config", "check", str(good))
    assert r.returncode == 0, r.stderr
    assert "max_url_size = 4k" in r.stdout

    bad = tmp_path / "bad.ini"
    bad.write_text("[http]\nmax_url_size = 4k\nbogus_key = 1\n")
    r = oxctl("config", "check", str(bad))
    assert r.returncode != 0
    assert "http.bogus_key" in r.stderr
    assert r.stderr.count("\n") == 1  # one clear line

    bad.write_text("[net]\nidle_timeout = forever\n")
    r = oxctl("config", "check", str(bad))
    assert r.returncode != 0
    assert "net.idle_timeout" in r.stderr


def worker_threads(oxd):
    names = []
    for tid in os.listdir(f"/proc/{oxd.proc.pid}/task"):
        with open(f"/proc/{oxd.proc.pid}/task/{tid}/comm") as f:
            names.append(f.read().strip())
    return [n for n in names if n.startswith("worker-")]


def test_sequential_requests_share_one_worker(oxd):
    """Workers start only when every started one is busy, and the most
    recently idle one takes the next request: one client at a time keeps
    one worker thread, however many requests it sends (each thread that
    ever runs a request keeps a store connection and memory of its own)."""
    assert worker_threads(oxd) == []
    for _ in range(40):
        with oxd.connect(timeout=5) as s:
            s.sendall(req("PROPFIND", "/dav/", [("Depth", "0"), ("Content-Length", "0"),
                                                ("Connection", "close")]))
            assert read_response(s)[0] == 401
    assert worker_threads(oxd) == ["worker-0"]
