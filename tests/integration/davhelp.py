"""What the DAV suites share: the tenant most of them work in (context
acme with users of example.org, all with one password) on a fresh oxd,
authenticated clients, and the iCalendar objects more than one suite
stores.
"""
import xml.etree.ElementTree as ET

import requests

from conftest import FAST_HASH, run_oxctl

ALICE = "alice@example.org"
BOB = "bob@example.org"
PASSWORD = "correct horse battery staple"
XML = {"Content-Type": "application/xml; charset=utf-8"}
DAV_NS = {"D": "DAV:"}


def create_users(server, users, password=PASSWORD):
    """oxctl user create for each (login, display name, *more options)."""
    for login, name, *options in users:
        run_oxctl(server, "user", "create", login, "--name", name, *options,
                  "--password-stdin", stdin=password + "\n")


def start_tenant(oxd_factory, users, password=PASSWORD):
    """A new oxd with context acme (example.org) and its `users`, as
    create_users() takes them."""
    server = oxd_factory(*FAST_HASH)
    run_oxctl(server, "context", "create", "acme", "--domain", "example.org")
    create_users(server, users, password)
    return server


def session(login=ALICE, password=PASSWORD):
    """A requests session that sends the user's Basic credentials."""
    s = requests.Session()
    s.auth = (login, password)
    return s


def browser_session(server, login=ALICE, password=PASSWORD):
    """A session logged in through the browser API, and its CSRF token."""
    s = requests.Session()
    r = s.post(server.url("/api/login"), json={"login": login, "password": password},
               timeout=10)
    assert r.status_code == 200, r.text
    return s, r.json()["csrf"]


def caldav_client(server, login=ALICE):
    """A python3-caldav client at the DAV root; the suite importing this
    has skipped already when python3-caldav is missing."""
    import caldav
    return caldav.DAVClient(url=server.url("/dav/"), username=login, password=PASSWORD)


def responses(text):
    """href -> the response element of a multistatus."""
    root = ET.fromstring(text)
    return {r.find("D:href", DAV_NS).text: r for r in root.findall("D:response", DAV_NS)}


def sync_collection(server, path, token=""):
    """A sync-collection REPORT (RFC 6578) of Alice's for getetag: the new
    sync-token and {member name: "there" or "gone"}."""
    body = ('<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:">'
            f"<D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level>"
            "<D:prop><D:getetag/></D:prop></D:sync-collection>")
    r = session().request("REPORT", server.url(path), data=body, headers=XML, timeout=10)
    assert r.status_code == 207, r.text
    root = ET.fromstring(r.text)
    changed = {}
    for resp in root.findall("D:response", DAV_NS):
        status = resp.find("D:status", DAV_NS)
        changed[resp.find("D:href", DAV_NS).text.rsplit("/", 1)[1]] = (
            "gone" if status is not None and "404" in status.text else "there")
    return root.find("D:sync-token", DAV_NS).text, changed


# A weekly event with an exception and an override moved out of its month.
WEEKLY = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//OX Server tests//EN
BEGIN:VEVENT
UID:weekly-1@example.org
DTSTAMP:20240101T000000Z
DTSTART:20240105T100000Z
DTEND:20240105T110000Z
SUMMARY:Weekly sync
RRULE:FREQ=WEEKLY;COUNT=20
EXDATE:20240112T100000Z
END:VEVENT
BEGIN:VEVENT
UID:weekly-1@example.org
DTSTAMP:20240101T000000Z
RECURRENCE-ID:20240119T100000Z
DTSTART:20240320T150000Z
DTEND:20240320T160000Z
SUMMARY:Weekly sync (moved out of January)
END:VEVENT
END:VCALENDAR
"""

LUNCH = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//OX Server tests//EN
BEGIN:VEVENT
UID:lunch-1@example.org
DTSTAMP:20240101T000000Z
DTSTART:20240215T120000Z
DTEND:20240215T130000Z
SUMMARY:Lunch in February
END:VEVENT
END:VCALENDAR
"""

TODO = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//OX Server tests//EN
BEGIN:VTODO
UID:todo-1@example.org
DTSTAMP:20240101T000000Z
DUE:20240210T170000Z
SUMMARY:File the report
END:VTODO
END:VCALENDAR
"""
