"""Read-only ICS feeds of calendars against a real oxd: made through the
browser API (session cookie + X-OX-CSRF) and through oxctl, fetched
without credentials, parsed with python3-icalendar and compared with the
calendar's own CalDAV GET; ETag and 304; the one 404 for every token that
opens nothing (wrong, malformed, revoked, of a deleted calendar, of a
creator who lost access or was disabled or deleted); and an access log
that never holds a token.
"""
import json
import re

import pytest
import requests

from conftest import oxctl_result as ctl, run_oxctl as oxctl
from davhelp import ALICE, BOB, PASSWORD, browser_session as browser, start_tenant

icalendar = pytest.importorskip("icalendar")

TOKEN_RE = re.compile(r"/feeds/ics/([A-Za-z0-9_-]{43})$")


def event(uid, summary, start="20240105T100000Z", end="20240105T110000Z"):
    return (f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//OX Server tests//EN\r\n"
            f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20240101T000000Z\r\n"
            f"DTSTART:{start}\r\nDTEND:{end}\r\nSUMMARY:{summary}\r\n"
            f"END:VEVENT\r\nEND:VCALENDAR\r\n")


@pytest.fixture
def server(oxd_factory):
    return start_tenant(oxd_factory, [(ALICE, "Alice"), (BOB, "Bob")])


def calendar_id(server, login=ALICE):
    folders = json.loads(oxctl(server, "folder", "list", login, "--module", "calendar",
                               "--json"))
    return next(f["id"] for f in folders if f["role"] == "calendar" and not f["shared"])


def put(server, name, text, login=ALICE, calendar="calendar"):
    r = requests.put(server.url(f"/dav/calendars/{login}/{calendar}/{name}"),
                     data=text.encode(), auth=(login, PASSWORD),
                     headers={"Content-Type": "text/calendar"}, timeout=10)
    assert r.status_code in (201, 204), r.text


def fetch(server, path, **kw):
    """The feed as a subscriber fetches it: no credentials, no cookies."""
    return requests.get(server.url(path), timeout=10, **kw)


def uids(body):
    cal = icalendar.Calendar.from_ical(body)
    return sorted(str(c["uid"]) for c in cal.walk("VEVENT"))


def ctl_create(server, login, calendar):
    out = oxctl(server, "calendar", "feed", "create", login, calendar, "--json")
    return json.loads(out)


def test_browser_api_feed_round_trip(server):
    put(server, "one.ics", event("uid-one", "First"))
    put(server, "two.ics", event("uid-two", "Second", "20240210T080000Z", "20240210T090000Z"))
    session, csrf = browser(server)
    folder = calendar_id(server)
    r = session.post(server.url("/api/feeds"), json={"folder": folder},
                     headers={"X-OX-CSRF": csrf}, timeout=10)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["folder"] == folder and created["id"] > 0
    assert r.headers["Location"] == f"/api/feeds/{created['id']}"
    assert r.headers["Cache-Control"] == "no-store"
    assert created["url"] == server.url(created["path"])
    assert TOKEN_RE.search(created["path"])

    feed = fetch(server, created["path"])
    assert feed.status_code == 200
    assert feed.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "no-cache" in feed.headers["Cache-Control"]
    assert "private" in feed.headers["Cache-Control"]
    assert uids(feed.content) == ["uid-one", "uid-two"]
    # The same calendar as its owner gets it over CalDAV.
    dav = requests.get(server.url(f"/dav/calendars/{ALICE}/calendar/"),
                       auth=(ALICE, PASSWORD), timeout=10)
    assert dav.status_code == 200 and dav.content == feed.content

    # Conditional requests: 304 while nothing changed, 200 after a change.
    etag = feed.headers["ETag"]
    again = fetch(server, created["path"], headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag
    assert fetch(server, created["path"],
                 headers={"If-None-Match": f'"x", W/{etag}'}).status_code == 304
    head = requests.head(server.url(created["path"]), timeout=10)
    assert head.status_code == 200 and head.headers["ETag"] == etag and head.content == b""
    put(server, "three.ics", event("uid-three", "Third"))
    changed = fetch(server, created["path"], headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert uids(changed.content) == ["uid-one", "uid-three", "uid-two"]

    # The list shows the feed without its token; revoking ends it.
    listed = session.get(server.url(f"/api/feeds?folder={folder}"), timeout=10)
    assert listed.status_code == 200
    (item,) = listed.json()["feeds"]
    assert item["id"] == created["id"] and item["createdBy"] == ALICE
    assert item["lastUsed"] is not None
    assert TOKEN_RE.search(created["path"]).group(1) not in listed.text
    r = session.delete(server.url(f"/api/feeds/{created['id']}"),
                       headers={"X-OX-CSRF": csrf}, timeout=10)
    assert r.status_code == 204
    assert fetch(server, created["path"]).status_code == 404
    assert session.get(server.url(f"/api/feeds?folder={folder}"),
                       timeout=10).json() == {"feeds": []}
    r = session.delete(server.url(f"/api/feeds/{created['id']}"),
                       headers={"X-OX-CSRF": csrf}, timeout=10)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    actions = [e["action"] for e in json.loads(oxctl(server, "audit", "list", "--json"))]
    assert "calendar.feed.create" in actions and "calendar.feed.revoke" in actions


def test_browser_api_needs_csrf_and_rights(server):
    session, csrf = browser(server)
    folder = calendar_id(server)
    url = server.url("/api/feeds")
    # A cookie alone makes no feed and revokes none: another site's page
    # could send it.
    r = session.post(url, json={"folder": folder}, timeout=10)
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf"
    r = session.post(url, json={"folder": folder}, headers={"X-OX-CSRF": csrf[::-1]},
                     timeout=10)
    assert r.status_code == 403
    assert session.get(f"{url}?folder={folder}", timeout=10).json() == {"feeds": []}
    made = session.post(url, json={"folder": folder}, headers={"X-OX-CSRF": csrf},
                        timeout=10).json()
    r = session.delete(f"{url}/{made['id']}", timeout=10)
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf"
    assert fetch(server, made["path"]).status_code == 200

    # Without credentials: 401. Basic needs no CSRF token.
    assert requests.post(url, json={"folder": folder}, timeout=10).status_code == 401
    r = requests.post(url, json={"folder": folder}, auth=(ALICE, PASSWORD), timeout=10)
    assert r.status_code == 201

    # Bob sees nothing of alice's calendar; as a viewer he may not publish it.
    r = requests.post(url, json={"folder": folder}, auth=(BOB, PASSWORD), timeout=10)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    oxctl(server, "folder", "share", ALICE, str(folder), f"user:{BOB}", "viewer")
    r = requests.post(url, json={"folder": folder}, auth=(BOB, PASSWORD), timeout=10)
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    r = requests.get(f"{url}?folder={folder}", auth=(BOB, PASSWORD), timeout=10)
    assert r.status_code == 403
    r = requests.delete(f"{url}/{made['id']}", auth=(BOB, PASSWORD), timeout=10)
    assert r.status_code == 404

    # Malformed requests.
    for body, ctype in ((b'{"folder": "1"}', "application/json"),
                        (b'{"folder": 1, "x": 2}', "application/json"),
                        (b'{"folder": 0}', "application/json"),
                        (b'{"folder": 1', "application/json")):
        r = session.post(url, data=body, headers={"X-OX-CSRF": csrf, "Content-Type": ctype},
                         timeout=10)
        assert r.status_code == 400, body
    r = session.post(url, data=b"folder=1", headers={"X-OX-CSRF": csrf}, timeout=10)
    assert r.status_code == 415
    for query in ("", "?folder=", "?folder=x", "?folder=1&x=2", "?other=1"):
        assert session.get(url + query, timeout=10).status_code == 400, query
    assert session.get(f"{url}/{made['id']}", timeout=10).status_code == 405
    assert session.delete(url, headers={"X-OX-CSRF": csrf}, timeout=10).status_code == 405
    assert session.delete(f"{url}/x", headers={"X-OX-CSRF": csrf}, timeout=10).status_code \
        == 404


def test_every_token_that_opens_nothing_gets_the_same_404(server):
    made = ctl_create(server, ALICE, "calendar")
    token = made["token"]
    revoked = ctl_create(server, ALICE, "calendar")
    oxctl(server, "calendar", "feed", "revoke", ALICE, str(revoked["id"]))
    flipped = ("B" if token[0] == "A" else "A") + token[1:]
    paths = [
        "/feeds/ics/" + flipped,           # well-formed, unknown
        revoked["path"],                   # revoked
        "/feeds/ics/" + token[:-1],        # too short
        "/feeds/ics/" + token + "A",       # too long
        "/feeds/ics/" + token[:-1] + "%2F",  # a slash inside
        "/feeds/ics/" + token + "/x",
        "/feeds/ics/",
        "/feeds/ics",
    ]
    answers = set()
    for path in paths:
        r = fetch(server, path)
        assert r.status_code == 404, path
        answers.add((r.content, r.headers["Content-Type"], r.headers["Cache-Control"]))
    assert len(answers) == 1
    assert "ETag" not in r.headers
    assert fetch(server, made["path"]).status_code == 200
    # The feed takes no other method, nor credentials for anything.
    assert requests.post(server.url(made["path"]), timeout=10).status_code == 405
    assert fetch(server, made["path"] + "?x=1").status_code == 200


def test_oxctl_feed_commands(server):
    put(server, "one.ics", event("uid-one", "First"))
    r = ctl(server, "calendar", "feed", "create", ALICE, "calendar")
    assert r.returncode == 0, r.stderr
    m = re.fullmatch(r"feed (\d+): (/feeds/ics/[A-Za-z0-9_-]{43})\n", r.stdout)
    assert m, r.stdout
    feed_id, path = m.group(1), m.group(2)
    assert uids(fetch(server, path).content) == ["uid-one"]

    listed = json.loads(oxctl(server, "calendar", "feed", "list", ALICE, "calendar", "--json"))
    assert [f["id"] for f in listed] == [int(feed_id)]
    assert listed[0]["created_by"] == ALICE and listed[0]["last_used"] is not None
    assert path[len("/feeds/ics/"):] not in json.dumps(listed)
    table = oxctl(server, "calendar", "feed", "list", ALICE, "calendar")
    assert table.splitlines()[0].split() == ["ID", "CREATED", "BY", "CREATED", "LAST", "USED"]

    audit = json.loads(oxctl(server, "audit", "list", "--json"))
    entry = next(e for e in audit if e["action"] == "calendar.feed.create")
    assert entry["target"] == ALICE and f"feed={feed_id}" in entry["detail"]
    assert path[len("/feeds/ics/"):] not in json.dumps(audit)

    # Refusals, with their exit codes.
    assert ctl(server, "calendar", "feed", "create", ALICE, "nope").returncode == 4
    assert ctl(server, "calendar", "feed", "create", "nobody@example.org",
               "calendar").returncode == 4
    assert ctl(server, "calendar", "feed", "revoke", ALICE, "x").returncode == 3
    assert ctl(server, "calendar", "feed", "revoke", ALICE, "999").returncode == 4
    assert ctl(server, "calendar", "feed", "revoke", BOB, feed_id).returncode == 4
    assert ctl(server, "calendar", "feed", "create", ALICE).returncode == 2
    folder = calendar_id(server)
    oxctl(server, "folder", "share", ALICE, str(folder), f"user:{BOB}", "viewer")
    r = ctl(server, "calendar", "feed", "create", BOB, str(folder))
    assert r.returncode == 6 and r.stderr.startswith("oxctl: "), r.stderr
    assert fetch(server, path).status_code == 200

    r = ctl(server, "calendar", "feed", "revoke", ALICE, feed_id)
    assert r.returncode == 0 and r.stdout == f"feed {feed_id} revoked\n"
    assert fetch(server, path).status_code == 404
    assert json.loads(oxctl(server, "calendar", "feed", "list", ALICE, "calendar",
                            "--json")) == []


def test_feed_reads_with_its_creators_rights(server):
    put(server, "one.ics", event("uid-one", "First"))
    folder = calendar_id(server)
    oxctl(server, "folder", "share", ALICE, str(folder), f"user:{BOB}", "admin")
    # Bob administers alice's calendar, which his home lists by its id.
    bobs = ctl_create(server, BOB, str(folder))
    alices = ctl_create(server, ALICE, "calendar")
    assert uids(fetch(server, bobs["path"]).content) == ["uid-one"]

    oxctl(server, "folder", "unshare", ALICE, str(folder), f"user:{BOB}")
    assert fetch(server, bobs["path"]).status_code == 404
    assert fetch(server, alices["path"]).status_code == 200
    oxctl(server, "folder", "share", ALICE, str(folder), f"user:{BOB}", "1/0/0/0/0")
    assert fetch(server, bobs["path"]).status_code == 404
    oxctl(server, "folder", "share", ALICE, str(folder), f"user:{BOB}", "viewer")
    assert fetch(server, bobs["path"]).status_code == 200

    oxctl(server, "user", "disable", BOB)
    assert fetch(server, bobs["path"]).status_code == 404
    oxctl(server, "user", "enable", BOB)
    assert fetch(server, bobs["path"]).status_code == 200
    oxctl(server, "user", "delete", BOB)
    assert fetch(server, bobs["path"]).status_code == 404
    assert fetch(server, alices["path"]).status_code == 200


def test_deleting_the_calendar_ends_its_feeds(server):
    oxctl(server, "folder", "create", ALICE, "--module", "calendar", "--name", "Trips")
    folders = json.loads(oxctl(server, "folder", "list", ALICE, "--module", "calendar",
                               "--json"))
    trips = next(f["id"] for f in folders if f["name"] == "Trips")
    made = ctl_create(server, ALICE, str(trips))
    put(server, "t.ics", event("uid-trip", "Trip"), calendar=str(trips))
    assert uids(fetch(server, made["path"]).content) == ["uid-trip"]
    oxctl(server, "folder", "delete", ALICE, str(trips))
    assert fetch(server, made["path"]).status_code == 404


def test_access_log_leaves_tokens_out(server):
    session, csrf = browser(server)
    made = session.post(server.url("/api/feeds"), json={"folder": calendar_id(server)},
                        headers={"X-OX-CSRF": csrf}, timeout=10).json()
    token = TOKEN_RE.search(made["path"]).group(1)
    assert fetch(server, made["path"]).status_code == 200
    assert fetch(server, "/feeds/ics/" + token[:-1]).status_code == 404
    assert fetch(server, "/feeds/ics/%41" + token[1:]).status_code in (200, 404)
    server.stop()
    log = server.read_log()
    assert "target=/feeds/ics/..." in log
    assert token[:-1] not in log and token[1:] not in log
