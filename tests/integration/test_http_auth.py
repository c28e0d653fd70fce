"""The browser session API (/api/login, /api/logout, /api/me) and HTTP
authentication (Basic, session cookie with CSRF token) against a real oxd.

Users are made with oxctl on the running server's data directory, as an
administrator would; nothing writes to the store behind the service.
"""
import base64
import json
import subprocess

import pytest
import requests

from conftest import FAST_HASH, OXCTL, read_response, run_oxctl as oxctl

LOGIN = "alice@example.org"
PASSWORD = "correct horse battery staple"
CHALLENGE = 'Basic realm="OX Server", charset="UTF-8"'


def oxctl_commands():
    try:
        out = subprocess.run([OXCTL, "--help"], capture_output=True, text=True, timeout=10)
    except OSError:
        return ""
    return out.stdout + out.stderr


def require_oxctl(command):
    if command not in oxctl_commands():
        pytest.skip(f"oxctl has no '{command}' yet")


def add_user(server, login=LOGIN, password=PASSWORD, name="Alice Example"):
    oxctl(server, "user", "create", login, "--name", name, "--password-stdin",
          stdin=password + "\n")


def start(oxd_factory, *sets):
    require_oxctl("context create")
    require_oxctl("user create")
    server = oxd_factory(*(FAST_HASH + list(sets)))
    oxctl(server, "context", "create", "acme", "--domain", "example.org")
    add_user(server)
    return server


@pytest.fixture
def api(oxd_factory):
    return start(oxd_factory)


def login(server, login=LOGIN, password=PASSWORD, session=None, url=None):
    post = (session or requests).post
    return post(url or server.url("/api/login"), json={"login": login, "password": password},
                timeout=10)


def basic(login, password):
    raw = f"{login}:{password}".encode("utf-8")
    return "Basic " + base64.b64encode(raw).decode("ascii")


def error_code(r):
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    return body["error"]["code"]


def cookie_attributes(set_cookie):
    parts = [p.strip() for p in set_cookie.split(";")]
    name, _, value = parts[0].partition("=")
    return name, value, parts[1:]


# --- login ---


def test_login_sets_session_cookie(api):
    r = login(api)
    assert r.status_code == 200
    body = r.json()
    assert body["login"] == LOGIN and body["name"] == "Alice Example"
    assert len(body["csrf"]) == 43
    assert r.headers["Cache-Control"] == "no-store"
    name, value, attrs = cookie_attributes(r.headers["Set-Cookie"])
    assert name == "ox_session" and len(value) == 43 and value != body["csrf"]
    assert "HttpOnly" in attrs and "SameSite=Strict" in attrs and "Path=/" in attrs
    assert "Secure" not in attrs  # plain HTTP: a Secure cookie would never come back


def test_login_over_https_marks_cookie_secure(api):
    r = requests.post(api.tls_url("/api/login"), json={"login": LOGIN, "password": PASSWORD},
                      verify=api.cert_path, timeout=10)
    assert r.status_code == 200
    _, _, attrs = cookie_attributes(r.headers["Set-Cookie"])
    assert {"Secure", "HttpOnly", "SameSite=Strict"} <= set(attrs)


def test_login_is_case_insensitive_in_the_login(api):
    r = login(api, login="Alice@Example.ORG")
    assert r.status_code == 200 and r.json()["login"] == LOGIN


def test_wrong_password_and_unknown_user_answer_alike(api):
    wrong = login(api, password="not it")
    unknown = login(api, login="nobody@example.org")
    other_domain = login(api, login="alice@elsewhere.test")
    for r in (wrong, unknown, other_domain):
        assert r.status_code == 401
        assert error_code(r) == "auth_failed"
        assert "Set-Cookie" not in r.headers
        # A browser would answer a Basic challenge with its own dialog.
        assert "WWW-Authenticate" not in r.headers
    assert wrong.content == unknown.content == other_domain.content


def test_lockout_after_repeated_failures(oxd_factory):
    server = start(oxd_factory, "auth.max_user_failures=3", "auth.lockout=2m")
    for _ in range(3):
        assert login(server, password="guess").status_code == 401
    # Locked: even the right password is refused, without checking it.
    r = login(server)
    assert r.status_code == 429 and error_code(r) == "locked"
    assert r.headers["Retry-After"] == "120"
    r = requests.get(server.url("/api/me"), headers={"Authorization": basic(LOGIN, PASSWORD)},
                     timeout=10)
    assert r.status_code == 429 and r.headers["Retry-After"] == "120"
    # Unknown logins lock the same way, so locking tells nobody who exists.
    for _ in range(3):
        login(server, login="ghost@example.org", password="guess")
    assert login(server, login="ghost@example.org", password="guess").status_code == 429


def test_disabled_user(api):
    require_oxctl("user disable")
    session = requests.Session()
    assert login(api, session=session).status_code == 200
    oxctl(api, "user", "disable", LOGIN)
    r = login(api)
    assert r.status_code == 403 and error_code(r) == "disabled"
    r = requests.get(api.url("/api/me"), headers={"Authorization": basic(LOGIN, PASSWORD)},
                     timeout=10)
    assert r.status_code == 403 and error_code(r) == "disabled"
    # The session made before is no longer honoured.
    assert session.get(api.url("/api/me"), timeout=10).status_code == 401


# --- /api/me ---


def test_me_with_cookie(api):
    session = requests.Session()
    assert login(api, session=session).status_code == 200
    r = session.get(api.url("/api/me"), timeout=10)
    assert r.status_code == 200
    me = r.json()
    assert me["login"] == LOGIN and me["name"] == "Alice Example"
    assert isinstance(me["id"], int) and me["addresses"] == [LOGIN]
    assert set(me) == {"id", "login", "name", "addresses", "timeZone", "locale"}
    # HEAD is safe: no CSRF token needed.
    assert session.head(api.url("/api/me"), timeout=10).status_code == 200


def test_me_with_basic(api):
    r = requests.get(api.url("/api/me"), auth=(LOGIN, PASSWORD), timeout=10)
    assert r.status_code == 200 and r.json()["login"] == LOGIN
    assert "Set-Cookie" not in r.headers  # Basic makes no session


def test_basic_credentials_are_utf8(api):
    add_user(api, "bob@example.org", "pässwörd €", "Bob")
    r = requests.get(api.url("/api/me"), headers={"Authorization": basic(
        "bob@example.org", "pässwörd €")}, timeout=10)
    assert r.status_code == 200 and r.json()["login"] == "bob@example.org"


def test_me_without_credentials(api):
    r = requests.get(api.url("/api/me"), timeout=10)
    assert r.status_code == 401 and error_code(r) == "auth_required"
    assert "WWW-Authenticate" not in r.headers


def test_wrong_basic_is_challenged(api):
    r = requests.get(api.url("/api/me"), auth=(LOGIN, "wrong"), timeout=10)
    assert r.status_code == 401 and error_code(r) == "auth_failed"
    assert r.headers["WWW-Authenticate"] == CHALLENGE


@pytest.mark.parametrize("header", [
    "Basic",
    "Basic ",
    "Basic !!!!",
    "Basic " + base64.b64encode(b"no colon here").decode(),
    "Basic " + base64.b64encode(b"alice@example.org:pw").decode().rstrip("="),
    "Basic " + base64.b64encode(b"alice@example.org:\xff\xfe").decode(),
    "Basic " + base64.b64encode(b"alice@example.org:a\x00b").decode(),
    "Basic " + base64.b64encode(b"alice@example.org:a\nb").decode(),
    "Basic " + "QUFB" * 1000,
    "Bearer abc",
])
def test_malformed_authorization_is_refused(api, header):
    r = requests.get(api.url("/api/me"), headers={"Authorization": header}, timeout=10)
    assert r.status_code == 401 and error_code(r) == "auth_failed"


def test_authorization_wins_over_cookie(api):
    session = requests.Session()
    assert login(api, session=session).status_code == 200
    r = session.get(api.url("/api/me"), auth=(LOGIN, "wrong"), timeout=10)
    assert r.status_code == 401


@pytest.mark.parametrize("cookie", [
    "ox_session=" + "A" * 43,      # well-formed, never issued
    "ox_session=short",
    "ox_session=" + "A" * 42 + "!",
    "OX_SESSION=" + "A" * 43,      # cookie names are case-sensitive
])
def test_unknown_session_cookie(api, cookie):
    r = requests.get(api.url("/api/me"), headers={"Cookie": cookie}, timeout=10)
    assert r.status_code == 401 and error_code(r) == "auth_required"


def test_session_cookie_among_others(api):
    token = login(api).cookies["ox_session"]
    r = requests.get(api.url("/api/me"),
                     headers={"Cookie": f"theme=dark; ox_session={token}; lang=de"}, timeout=10)
    assert r.status_code == 200


# --- logout and CSRF ---


def test_logout_revokes_the_session(api):
    session = requests.Session()
    r = login(api, session=session)
    csrf, token = r.json()["csrf"], session.cookies["ox_session"]
    r = session.post(api.url("/api/logout"), headers={"X-OX-CSRF": csrf}, timeout=10)
    assert r.status_code == 204
    name, value, attrs = cookie_attributes(r.headers["Set-Cookie"])
    assert name == "ox_session" and value == "" and "Max-Age=0" in attrs
    # The old cookie, sent again, is worth nothing now.
    r = requests.get(api.url("/api/me"), cookies={"ox_session": token}, timeout=10)
    assert r.status_code == 401 and error_code(r) == "auth_required"
    r = requests.post(api.url("/api/logout"), cookies={"ox_session": token},
                      headers={"X-OX-CSRF": csrf}, timeout=10)
    assert r.status_code == 401


def test_logout_needs_the_csrf_token(api):
    session = requests.Session()
    csrf = login(api, session=session).json()["csrf"]
    r = session.post(api.url("/api/logout"), timeout=10)
    assert r.status_code == 403 and error_code(r) == "csrf"
    assert "Set-Cookie" not in r.headers
    for wrong in ("x", csrf[:-1], csrf + "x", csrf[::-1]):
        r = session.post(api.url("/api/logout"), headers={"X-OX-CSRF": wrong}, timeout=10)
        assert r.status_code == 403 and error_code(r) == "csrf"
    # The refused attempts did not end the session.
    assert session.get(api.url("/api/me"), timeout=10).status_code == 200


def test_csrf_token_belongs_to_its_session(api):
    first, second = requests.Session(), requests.Session()
    login(api, session=first)
    csrf_second = login(api, session=second).json()["csrf"]
    r = first.post(api.url("/api/logout"), headers={"X-OX-CSRF": csrf_second}, timeout=10)
    assert r.status_code == 403


def test_logout_with_basic_has_no_session(api):
    r = requests.post(api.url("/api/logout"), auth=(LOGIN, PASSWORD), timeout=10)
    assert r.status_code == 400 and error_code(r) == "no_session"


# --- strict input ---


def post_raw(server, body, content_type="application/json", extra=None):
    headers = {"Content-Type": content_type} if content_type else {}
    headers.update(extra or {})
    return requests.post(server.url("/api/login"), data=body, headers=headers, timeout=10)


@pytest.mark.parametrize("body,code", [
    (b'{"login": "a@example.org", "password": ', "malformed_json"),
    (b"", "malformed_json"),
    (b"not json", "malformed_json"),
    (b'{"login": "a\xff@example.org", "password": "x"}', "malformed_json"),
    (b'{"login": "a\\u0000b", "password": "x"}', "malformed_json"),
    (b'{"login": "a", "login": "b", "password": "x"}', "malformed_json"),
    (b'["alice@example.org", "pw"]', "invalid_request"),
    (b'"alice"', "malformed_json"),
    (b'{"login": 1, "password": "x"}', "invalid_request"),
    (b'{"login": "a@example.org", "password": null}', "invalid_request"),
    (b'{"login": "a@example.org", "password": ["x"]}', "invalid_request"),
    (b'{"login": "a@example.org"}', "invalid_request"),
    (b'{"password": "x"}', "invalid_request"),
    (b'{"login": "a@example.org", "password": "x", "remember": true}', "invalid_request"),
    (b"{}", "invalid_request"),
])
def test_bad_login_bodies(api, body, code):
    r = post_raw(api, body)
    assert r.status_code == 400 and error_code(r) == code


@pytest.mark.parametrize("content_type", [
    None, "text/plain", "application/x-www-form-urlencoded", "application/jsonx",
    "application/json; charset=latin1", "multipart/form-data; boundary=x",
])
def test_wrong_content_type(api, content_type):
    body = json.dumps({"login": LOGIN, "password": PASSWORD}).encode()
    r = post_raw(api, body, content_type)
    assert r.status_code == 415 and error_code(r) == "unsupported_media_type"


@pytest.mark.parametrize("content_type", [
    "application/json; charset=utf-8", "Application/JSON", 'application/json;charset="UTF-8"',
])
def test_json_content_type_variants(api, content_type):
    body = json.dumps({"login": LOGIN, "password": PASSWORD}).encode()
    assert post_raw(api, body, content_type).status_code == 200


def test_oversized_body(api):
    body = json.dumps({"login": LOGIN, "password": "x" * 9000}).encode()
    r = post_raw(api, body)
    assert r.status_code == 413 and error_code(r) == "too_large"


def test_oversized_chunked_body(api):
    def pieces():
        yield b'{"login": "alice@example.org", "password": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'
    r = requests.post(api.url("/api/login"), data=pieces(),
                      headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 413 and error_code(r) == "too_large"


def test_body_of_exactly_the_limit_is_read(api):
    body = json.dumps({"login": LOGIN, "password": ""}).encode()
    body = body[:-1] + b" " * (8192 - len(body)) + body[-1:]
    assert len(body) == 8192
    r = post_raw(api, body)
    assert r.status_code == 401 and error_code(r) == "auth_failed"


def test_login_needs_post(api):
    r = requests.get(api.url("/api/login"), timeout=10)
    assert r.status_code == 405 and "POST" in r.headers["Allow"]


def test_unknown_api_paths_are_json_404(api):
    for path in ("/api/nothing", "/api/login/extra", "/api/me/x", "/api/"):
        r = requests.get(api.url(path), timeout=10)
        assert r.status_code in (404, 405)
        if r.status_code == 404:
            assert error_code(r) == "not_found"


def test_keep_alive_survives_errors(api):
    """A refused login on a kept-alive connection leaves it usable."""
    body = json.dumps({"login": LOGIN, "password": "nope"}).encode()
    with api.connect() as s:
        for _ in range(2):
            s.sendall(b"POST /api/login HTTP/1.1\r\nHost: t\r\n"
                      b"Content-Type: application/json\r\n"
                      + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            status, headers, payload = read_response(s)
            assert status == 401 and json.loads(payload)["error"]["code"] == "auth_failed"
            assert headers.get("connection") != "close"


# --- app passwords ---


def test_basic_with_app_password(api):
    require_oxctl("app-password add")
    out = oxctl(api, "app-password", "add", LOGIN, "calendar")
    app_password = [w for w in out.split() if w.count("-") == 4][0]
    r = requests.get(api.url("/api/me"), auth=(LOGIN, app_password), timeout=10)
    assert r.status_code == 200 and r.json()["login"] == LOGIN
    # The login form takes the account's password only.
    r = login(api, password=app_password)
    assert r.status_code == 401 and error_code(r) == "auth_failed"
    require_oxctl("app-password revoke")
    oxctl(api, "app-password", "revoke", LOGIN, "calendar")
    r = requests.get(api.url("/api/me"), auth=(LOGIN, app_password), timeout=10)
    assert r.status_code == 401
