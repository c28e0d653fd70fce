"""Starts a real oxd on free loopback ports with a temporary data directory.

The `oxd` fixture yields a running server; `oxd_factory` starts more with
extra --set options. Ports are chosen by the kernel (listen on port 0) and
read back from oxd's `listening` log lines, so parallel runs never collide.
"""
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("OX_BUILD_DIR", os.path.join(ROOT, "build"))
OXD = os.path.join(BUILD, "src", "daemon", "oxd")
OXCTL = os.path.join(BUILD, "src", "ctl", "oxctl")
FIXTURES = os.path.join(os.path.dirname(ROOT), "shared", "fixtures")

# Argon2id at its cheapest: tests log in often, and the cost is configuration.
FAST_HASH = ["auth.argon2_ops=1", "auth.argon2_memory=64k"]

LISTEN_RE = re.compile(r"event=listening proto=(\S+) addr=(\S+)")


class Oxd:
    """One running oxd process."""

    def __init__(self, data_dir, sets, config=None, web_root=None, expect_fail=False):
        self.data_dir = data_dir
        self.log_path = os.path.join(data_dir, "oxd.log")
        self.web_root = web_root
        argv = [OXD, "--data", data_dir,
                "--set", "listen.http=127.0.0.1:0",
                "--set", "listen.https=127.0.0.1:0",
                "--set", "http.test_routes=true"]
        if web_root:
            argv += ["--set", f"http.web_root={web_root}"]
        if config:
            argv += ["--config", config]
        for s in sets:
            argv += ["--set", s]
        self.argv = argv
        self.log = open(self.log_path, "w+")
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
                   UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self.ports = {}
        if not expect_fail:
            self._wait_ready()

    def _wait_ready(self, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = self.read_log()
            if "event=ready" in text:
                for proto, addr in LISTEN_RE.findall(text):
                    self.ports[proto] = int(addr.rsplit(":", 1)[1])
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"oxd exited {self.proc.returncode}:\n{text}")
            time.sleep(0.02)
        raise RuntimeError(f"oxd not ready after {timeout}s:\n{self.read_log()}")

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

    @property
    def port(self):
        return self.ports["http"]

    @property
    def tls_port(self):
        return self.ports["https"]

    def url(self, path="/"):
        return f"http://127.0.0.1:{self.port}{path}"

    def tls_url(self, path="/"):
        return f"https://127.0.0.1:{self.tls_port}{path}"

    @property
    def cert_path(self):
        return os.path.join(self.data_dir, "tls", "cert.pem")

    def connect(self, timeout=10):
        """A raw TCP socket to the HTTP listener (read_response keeps
        unread bytes on it, which a plain socket.socket cannot hold)."""
        s = SocketWithBuffer(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(("127.0.0.1", self.port))
        return s

    def signal(self, signum):
        self.proc.send_signal(signum)

    def sanitized(self):
        """True under AddressSanitizer, whose quarantine keeps freed memory
        resident: RSS says nothing about leaks or buffering there."""
        with open(f"/proc/{self.proc.pid}/maps") as f:
            return "libasan" in f.read()

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self, timeout=30):
        """SIGTERM and wait; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def read_response(sock, head_only=False):
    """Reads one HTTP/1.1 response from a socket: (status, headers, body).

    Handles Content-Length, chunked, and close-delimited bodies. Header names
    are lower-cased. Raises ConnectionError when the peer closes first.
    """
    buf = sock._ox_buf if hasattr(sock, "_ox_buf") else b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before a response head")
        buf += chunk
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = b""
    if head_only or status in (204, 304) or 100 <= status < 200:
        pass
    elif "content-length" in headers:
        n = int(headers["content-length"])
        while len(buf) < n:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed inside a body")
            buf += chunk
        body, buf = buf[:n], buf[n:]
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            while b"\r\n" not in buf:
                buf += sock.recv(65536)
            size_line, buf = buf.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            while len(buf) < size + 2:
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError("closed inside a chunk")
                buf += chunk
            body += buf[:size]
            buf = buf[size + 2:]
            if size == 0:
                break
    else:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            buf += chunk
        body, buf = buf, b""
    sock._ox_buf = buf
    return status, headers, body


class SocketWithBuffer(socket.socket):
    pass


@pytest.fixture
def oxd_factory():
    started = []
    dirs = []

    def start(*sets, config=None, web_root=None, expect_fail=False):
        data_dir = tempfile.mkdtemp(prefix="oxd-test-")
        dirs.append(data_dir)
        server = Oxd(data_dir, list(sets), config=config, web_root=web_root,
                     expect_fail=expect_fail)
        started.append(server)
        return server

    yield start
    for server in started:
        code = server.stop()
        log = server.read_log()
        # A sanitizer report or a crash in any test fails it.
        assert "ERROR: AddressSanitizer" not in log, log[-4000:]
        assert "runtime error:" not in log, log[-4000:]
        assert code in (0, 1, 2, None) or code == -signal.SIGKILL, f"oxd exit {code}:\n{log[-4000:]}"
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)


@contextlib.contextmanager
def module_oxd(prefix, *sets):
    """An oxd for a whole module, for fixtures with scope="module" that
    set it up once (yield from inside the `with`). When it stops, a
    sanitizer report, a leak or a crash fails the module's last test."""
    data_dir = tempfile.mkdtemp(prefix=prefix)
    server = Oxd(data_dir, list(sets))
    try:
        yield server
    finally:
        code = server.stop()
        log = server.read_log()
        shutil.rmtree(data_dir, ignore_errors=True)
        assert "ERROR: AddressSanitizer" not in log, log[-4000:]
        assert "ERROR: LeakSanitizer" not in log, log[-4000:]
        assert "runtime error:" not in log, log[-4000:]
        assert code in (0, None) or code == -signal.SIGKILL, f"oxd exit {code}:\n{log[-4000:]}"


@pytest.fixture
def web_root(tmp_path):
    root = tmp_path / "web"
    root.mkdir()
    (root / "index.html").write_text("<!doctype html><title>OX</title><p>hello</p>\n")
    (root / "file4k.txt").write_bytes(b"x" * 4096)
    return root


@pytest.fixture
def oxd(oxd_factory, web_root):
    return oxd_factory(web_root=str(web_root))


@pytest.fixture
def http():
    s = requests.Session()
    yield s
    s.close()


def oxctl_result(server, *args, stdin=None):
    """Runs oxctl on a test server's data directory and returns the
    CompletedProcess whatever its exit code, for refusals."""
    argv = [OXCTL, "--data", server.data_dir]
    for s in FAST_HASH:
        argv += ["--set", s]
    return subprocess.run(argv + list(args), input=stdin, capture_output=True, text=True,
                          timeout=30)


def run_oxctl(server, *args, stdin=None):
    """Runs oxctl on a test server's data directory; fails the test on a
    non-zero exit and returns stdout."""
    r = oxctl_result(server, *args, stdin=stdin)
    assert r.returncode == 0, f"oxctl {' '.join(args)}: {r.stderr}"
    return r.stdout
