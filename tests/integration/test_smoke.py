"""The server starts, answers /healthz and serves a static file."""


def test_healthz(oxd, http):
    r = http.get(oxd.url("/healthz"))
    assert r.status_code == 200
    assert r.text == "ok\n"


def test_static_index(oxd, http):
    r = http.get(oxd.url("/"))
    assert r.status_code == 200
    assert "hello" in r.text
    assert r.headers["Content-Type"].startswith("text/html")
