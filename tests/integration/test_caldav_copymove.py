"""COPY and MOVE of calendar objects between calendars (RFC 4918 9.8/9.9,
RFC 4791 5.3.2.1) against a real oxd: raw requests for the methods
python3-caldav does not have, python3-caldav to see the result as a
client does. One UID per calendar (CALDAV:no-uid-conflict naming the
object in the way), supported components, Overwrite, scheduling objects
(RFC 6638 3.2.4.1), permissions, and sync-collection on both sides; every
refusal leaves both calendars as they were.
"""
import re
import xml.etree.ElementTree as ET

import pytest

from conftest import run_oxctl as oxctl
from davhelp import ALICE, BOB, caldav_client, session, start_tenant, sync_collection as sync

caldav = pytest.importorskip("caldav")

NS = {"D": "DAV:", "C": "urn:ietf:params:xml:ns:caldav"}
ICAL = {"Content-Type": "text/calendar; charset=utf-8"}


def ical(uid, component="VEVENT", extra=""):
    times = ("DTSTART:20300105T100000Z\r\nDTEND:20300105T110000Z\r\n" if component == "VEVENT"
             else "DUE:20300105T170000Z\r\n")
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//OX Server tests//EN\r\n"
            f"BEGIN:{component}\r\nUID:{uid}\r\nDTSTAMP:20300101T000000Z\r\n{times}"
            f"SUMMARY:{uid}\r\n{extra}END:{component}\r\nEND:VCALENDAR\r\n")


@pytest.fixture
def dav(oxd_factory):
    return start_tenant(oxd_factory, [(ALICE, "Alice"), (BOB, "Bob")])


def home(login=ALICE):
    return f"/dav/calendars/{login}/"


def mkcalendar(server, segment, components=("VEVENT",)):
    comps = "".join(f'<C:comp name="{c}"/>' for c in components)
    body = ('<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
            f"<D:displayname>{segment}</D:displayname><C:supported-calendar-component-set>"
            f"{comps}</C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>")
    r = session().request("MKCALENDAR", server.url(home() + segment + "/"), data=body,
                          timeout=10)
    assert r.status_code == 201, r.text
    return home() + segment + "/"


def put(server, path, text, login=ALICE):
    r = session(login).put(server.url(path), data=text.encode(), headers=ICAL, timeout=10)
    assert r.status_code in (201, 204), r.text
    return r.headers.get("ETag")


def transfer(server, src, dst, move=False, overwrite=None, login=ALICE):
    headers = {"Destination": server.url(dst)}
    if overwrite is not None:
        headers["Overwrite"] = overwrite
    return session(login).request("MOVE" if move else "COPY", server.url(src), headers=headers,
                                  timeout=10)


def client_uids(server, path):
    """The UIDs of the events python3-caldav finds in a calendar."""
    cal = caldav_client(server).calendar(url=server.url(path))
    return sorted(str(o.icalendar_component["uid"]) for o in cal.events())


def state(server, path):
    """What a calendar holds: name -> ETag."""
    body = '<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>'
    r = session().request("PROPFIND", server.url(path), data=body, headers={"Depth": "1"},
                          timeout=10)
    assert r.status_code == 207, r.text
    out = {}
    for resp in ET.fromstring(r.text).findall("D:response", NS):
        href = resp.find("D:href", NS).text
        if not href.endswith("/"):
            out[href.rsplit("/", 1)[1]] = resp.find(".//D:getetag", NS).text
    return out


def test_copy_and_move_events(dav):
    a, b = mkcalendar(dav, "a"), mkcalendar(dav, "b")
    etag = put(dav, a + "one.ics", ical("one@example.org"))
    put(dav, a + "two.ics", ical("two@example.org"))
    token_a, _ = sync(dav, a)
    token_b, _ = sync(dav, b)
    # COPY: the object in both, byte for byte and with the same ETag.
    r = transfer(dav, a + "one.ics", b + "one-copy.ics")
    assert r.status_code == 201, r.text
    assert state(dav, b) == {"one-copy.ics": etag}
    assert session().get(dav.url(b + "one-copy.ics")).text == ical("one@example.org")
    assert client_uids(dav, a) == ["one@example.org", "two@example.org"]
    assert client_uids(dav, b) == ["one@example.org"]
    token_b, changed = sync(dav, b, token_b)
    assert changed == {"one-copy.ics": "there"}
    # One UID per calendar: the object in the way is named.
    for src, dst in ((a + "one.ics", b + "again.ics"), (a + "one.ics", a + "twin.ics")):
        r = transfer(dav, src, dst)
        assert r.status_code == 409, r.text
        href = ET.fromstring(r.text).find("C:no-uid-conflict/D:href", NS)
        assert href is not None and href.text.endswith(
            "/b/one-copy.ics" if dst.startswith(b) else "/a/one.ics")
    # MOVE: gone from the source; both change logs say so.
    r = transfer(dav, a + "two.ics", b + "two.ics", move=True)
    assert r.status_code == 201, r.text
    assert session().get(dav.url(a + "two.ics")).status_code == 404
    assert client_uids(dav, b) == ["one@example.org", "two@example.org"]
    token_a, changed = sync(dav, a, token_a)
    assert changed == {"two.ics": "gone"}
    token_b, changed = sync(dav, b, token_b)
    assert changed == {"two.ics": "there"}
    # MOVE within one calendar renames and keeps the UID.
    assert transfer(dav, b + "two.ics", b + "renamed.ics", move=True).status_code == 201
    assert sorted(state(dav, b)) == ["one-copy.ics", "renamed.ics"]
    # Overwrite F refuses an existing destination; T replaces it.
    assert transfer(dav, a + "one.ics", b + "one-copy.ics", overwrite="F").status_code == 412
    changed_text = ical("one@example.org", extra="LOCATION:Room 2\r\n")
    new_etag = put(dav, a + "one.ics", changed_text)
    r = transfer(dav, a + "one.ics", b + "one-copy.ics", overwrite="T")
    assert r.status_code == 204, r.text
    assert state(dav, b)["one-copy.ics"] == new_etag
    # A refused MOVE leaves both calendars as they were.
    put(dav, a + "two.ics", ical("two@example.org"))
    before = state(dav, a), state(dav, b)
    r = transfer(dav, a + "two.ics", b + "two-again.ics", move=True)
    assert r.status_code == 409 and "renamed.ics" in r.text
    assert (state(dav, a), state(dav, b)) == before


def test_components_scheduling_and_permissions(dav):
    events, tasks = home() + "calendar/", home() + "tasks/"
    mine = mkcalendar(dav, "mine", ("VEVENT", "VTODO"))
    put(dav, tasks + "todo.ics", ical("todo@example.org", "VTODO"))
    put(dav, mine + "event.ics", ical("event@example.org"))
    before = state(dav, events), state(dav, tasks)
    # A calendar takes only its components.
    r = transfer(dav, tasks + "todo.ics", events + "todo.ics", move=True)
    assert r.status_code == 403
    assert ET.fromstring(r.text).find("C:supported-calendar-component", NS) is not None
    assert (state(dav, events), state(dav, tasks)) == before
    assert transfer(dav, tasks + "todo.ics", mine + "todo.ics").status_code == 201
    # A scheduling object moves between its owner's calendars, never copied.
    meeting = ical("meeting@example.org",
                   extra=f"ORGANIZER:mailto:{ALICE}\r\nATTENDEE:mailto:{ALICE}\r\n")
    put(dav, mine + "meeting.ics", meeting)
    r = transfer(dav, mine + "meeting.ics", events + "meeting.ics")
    assert r.status_code == 403
    assert ET.fromstring(r.text).find("C:unique-scheduling-object-resource", NS) is not None
    assert transfer(dav, mine + "meeting.ics", events + "meeting.ics", move=True).status_code == 201
    assert "meeting.ics" in state(dav, events) and "meeting.ics" not in state(dav, mine)
    # The schedule inbox, collections and other providers are refused.
    inbox = home() + "inbox/"
    assert transfer(dav, mine + "event.ics", inbox + "event.ics").status_code in (403, 409)
    assert transfer(dav, mine, home() + "copy-of-mine/").status_code in (403, 409)
    r = transfer(dav, mine + "event.ics", f"/dav/addressbooks/{ALICE}/contacts/event.vcf")
    assert r.status_code == 502
    # Bob may neither read Alice's calendars nor write into them; with a
    # share as viewer he may read but not copy into hers.
    bob_cal = home(BOB) + "calendar/"
    assert transfer(dav, mine + "event.ics", bob_cal + "x.ics", login=BOB).status_code == 404
    put(dav, bob_cal + "bob.ics", ical("bob@example.org"), login=BOB)
    r = transfer(dav, bob_cal + "bob.ics", events + "bob.ics", login=BOB)
    assert r.status_code in (403, 409)
    folder = [line for line in oxctl(dav, "folder", "list", ALICE, "--module", "calendar")
              .splitlines() if "mine" in line]
    fid = re.match(r"\s*(\d+)", folder[0]).group(1)
    oxctl(dav, "folder", "share", ALICE, fid, f"user:{BOB}", "viewer")
    shared = home(BOB) + fid + "/"
    r = transfer(dav, shared + "event.ics", bob_cal + "event.ics", login=BOB)
    assert r.status_code == 201, r.text
    r = transfer(dav, bob_cal + "bob.ics", shared + "bob.ics", login=BOB)
    assert r.status_code == 403
    r = transfer(dav, shared + "event.ics", bob_cal + "moved.ics", move=True, login=BOB)
    assert r.status_code == 403
    assert "event.ics" in state(dav, mine) and "bob.ics" not in state(dav, mine)
    # Malformed headers are 400.
    r = session().request("MOVE", dav.url(mine + "event.ics"),
                          headers={"Destination": dav.url(events + "e.ics"), "Depth": "0"})
    assert r.status_code == 400
    assert "event.ics" in state(dav, mine)
