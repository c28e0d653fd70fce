"""Scheduling inside the server (RFC 6638) against a real oxd, driven by
Debian's python3-caldav where it has the call (invitations, the inbox,
accepting) and by raw requests for the rest: an organizer's PUT invites
the users of the context, an attendee's answer reaches the organizer,
cancellations remove copies, rooms book themselves by their policy, and
free/busy requests to the outbox honour contexts.
"""
import re
import xml.etree.ElementTree as ET

import pytest
import requests

from conftest import FAST_HASH, run_oxctl as oxctl

caldav = pytest.importorskip("caldav")

PASSWORD = "correct horse battery staple"
ALICE, BOB, CAROL = "alice@example.org", "bob@example.org", "carol@example.org"
ROOM = "room1@example.org"
MALLORY = "mallory@other.example"
NS = {"D": "DAV:", "C": "urn:ietf:params:xml:ns:caldav"}


def event(uid, attendees, start="20300105T100000Z", end="20300105T110000Z", extra="",
          organizer=ALICE):
    lines = [f"ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{a}" for a in attendees]
    return "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//OX Server tests//EN",
        "BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20300101T000000Z",
        f"DTSTART:{start}", f"DTEND:{end}", "SUMMARY:Planning",
        f"ORGANIZER:mailto:{organizer}",
        f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{organizer}", *lines,
        *([extra] if extra else []), "END:VEVENT", "END:VCALENDAR", ""])


@pytest.fixture
def dav(oxd_factory):
    server = oxd_factory(*FAST_HASH)
    oxctl(server, "context", "create", "acme", "--domain", "example.org")
    oxctl(server, "context", "create", "other", "--domain", "other.example")
    for login, name in ((ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol"), (MALLORY, "Mallory")):
        oxctl(server, "user", "create", login, "--name", name, "--password-stdin",
              stdin=PASSWORD + "\n")
    oxctl(server, "resource", "create", "acme", "room1", "--name", "Room 1")
    return server


def session(login):
    s = requests.Session()
    s.auth = (login, PASSWORD)
    return s


def url(server, login, path=""):
    return server.url(f"/dav/calendars/{login}/{path}")


def put(server, login, name, text, calendar="calendar"):
    r = session(login).put(url(server, login, f"{calendar}/{name}"), data=text.encode(),
                           headers={"Content-Type": "text/calendar"}, timeout=10)
    assert r.status_code in (201, 204), r.text
    return r


def get(server, login, name, calendar="calendar"):
    return session(login).get(url(server, login, f"{calendar}/{name}"), timeout=10)


def partstat(text, address):
    unfolded = re.sub(r"\r?\n[ \t]", "", text)
    for line in unfolded.splitlines():
        if line.upper().startswith("ATTENDEE") and line.lower().endswith("mailto:" + address):
            m = re.search(r";PARTSTAT=([A-Z-]+)", line, re.I)
            return m.group(1).upper() if m else "NEEDS-ACTION"
    return None


def inbox_messages(server, login):
    """(href, text) of each message in the user's schedule inbox."""
    body = ('<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" '
            'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data/></D:prop>'
            '<C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>')
    r = session(login).request("REPORT", url(server, login, "inbox/"), data=body,
                               headers={"Depth": "1", "Content-Type": "application/xml"},
                               timeout=10)
    assert r.status_code == 207, r.text
    root = ET.fromstring(r.content)
    return [(resp.findtext("D:href", namespaces=NS),
             resp.findtext(".//C:calendar-data", namespaces=NS))
            for resp in root.findall("D:response", NS)]


def test_principal_and_home_show_the_scheduling_collections(dav):
    principal = caldav.DAVClient(url=dav.url("/dav/"), username=BOB,
                                 password=PASSWORD).principal()
    assert str(principal.schedule_inbox().url).endswith(f"/dav/calendars/{BOB}/inbox/")
    assert str(principal.schedule_outbox().url).endswith(f"/dav/calendars/{BOB}/outbox/")
    assert f"mailto:{BOB}" in principal.calendar_user_address_set()
    # Neither shows up as a calendar.
    assert sorted(c.name for c in principal.calendars()) == ["Calendar", "Tasks"]
    r = session(BOB).options(url(dav, BOB), timeout=10)
    assert "calendar-auto-schedule" in r.headers["DAV"]
    # Only the owner has them; a client cannot store into an inbox.
    assert session(ALICE).request("PROPFIND", url(dav, BOB, "inbox/"),
                                  headers={"Depth": "0"}, timeout=10).status_code == 404
    r = session(BOB).put(url(dav, BOB, "inbox/x.ics"), data=event("x", []).encode(),
                         headers={"Content-Type": "text/calendar"}, timeout=10)
    assert r.status_code == 403
    # Nor can a calendar take their names.
    r = session(BOB).request("MKCALENDAR", url(dav, BOB, "inbox/"), timeout=10)
    assert r.status_code in (403, 405, 409)


def test_invitation_accept_and_organizer_sees_accepted(dav):
    alice = caldav.DAVClient(url=dav.url("/dav/"), username=ALICE, password=PASSWORD)
    calendar = [c for c in alice.principal().calendars() if c.name == "Calendar"][0]
    ical = event("meet-1", []).replace("ATTENDEE;PARTSTAT=ACCEPTED:mailto:" + ALICE + "\r\n", "")
    saved = calendar.save_with_invites(ical, [f"mailto:{BOB}"])

    # Bob has it in his inbox and, by default, in his calendar.
    messages = inbox_messages(dav, BOB)
    assert len(messages) == 1 and "METHOD:REQUEST" in messages[0][1]
    r = get(dav, BOB, "meet-1.ics")
    assert r.status_code == 200 and partstat(r.text, BOB) == "NEEDS-ACTION"

    bob = caldav.DAVClient(url=dav.url("/dav/"), username=BOB, password=PASSWORD)
    items = list(bob.principal().schedule_inbox().get_items())
    assert len(items) == 1 and items[0].is_invite_request()
    items[0].accept_invite(calendar=[c for c in bob.principal().calendars()
                                     if c.name == "Calendar"][0])

    saved.load()
    assert partstat(saved.data, BOB) == "ACCEPTED"
    # Alice got the reply in her inbox too.
    replies = [t for _, t in inbox_messages(dav, ALICE) if "METHOD:REPLY" in t]
    assert len(replies) == 1 and partstat(replies[0], BOB) == "ACCEPTED"
    # Alice's later change keeps Bob's answer in his copy.
    put(dav, ALICE, saved.url.path.rsplit("/", 1)[1],
        re.sub(r"SUMMARY:.*", "SUMMARY:Planning (room changed)", saved.data))
    r = get(dav, BOB, "meet-1.ics")
    assert "room changed" in r.text and partstat(r.text, BOB) == "ACCEPTED"


def test_declining_by_deleting_and_cancellation(dav):
    put(dav, ALICE, "meet-2.ics", event("meet-2", [BOB, CAROL]))
    assert get(dav, CAROL, "meet-2.ics").status_code == 200
    # Carol deletes her copy: that declines (RFC 6638 3.2.2.3).
    assert session(CAROL).delete(url(dav, CAROL, "calendar/meet-2.ics"),
                                 timeout=10).status_code == 204
    assert partstat(get(dav, ALICE, "meet-2.ics").text, CAROL) == "DECLINED"
    # Alice drops Bob from the list: his copy goes and a CANCEL tells him.
    put(dav, ALICE, "meet-2.ics", event("meet-2", [CAROL]))
    assert get(dav, BOB, "meet-2.ics").status_code == 404
    assert any("METHOD:CANCEL" in t for _, t in inbox_messages(dav, BOB))
    # Alice deletes the event: Carol's new copy goes too.
    put(dav, ALICE, "meet-2.ics", event("meet-2", [BOB, CAROL]))
    assert get(dav, CAROL, "meet-2.ics").status_code == 200
    assert session(ALICE).delete(url(dav, ALICE, "calendar/meet-2.ics"),
                                 timeout=10).status_code == 204
    assert get(dav, CAROL, "meet-2.ics").status_code == 404
    assert get(dav, BOB, "meet-2.ics").status_code == 404
    # A STATUS:CANCELLED update cancels as well.
    put(dav, ALICE, "meet-3.ics", event("meet-3", [BOB]))
    assert get(dav, BOB, "meet-3.ics").status_code == 200
    put(dav, ALICE, "meet-3.ics", event("meet-3", [BOB], extra="STATUS:CANCELLED"))
    assert get(dav, BOB, "meet-3.ics").status_code == 404


def test_schedule_reply_f_removes_without_declining(dav):
    """RFC 6638 8.1: with Schedule-Reply: F an attendee's DELETE sends no
    reply, so the organizer's copy keeps the answer it had."""
    put(dav, ALICE, "meet-q.ics", event("meet-q", [BOB, CAROL]))
    replies_before = len(inbox_messages(dav, ALICE))
    bad = session(BOB).delete(url(dav, BOB, "calendar/meet-q.ics"),
                              headers={"Schedule-Reply": "maybe"}, timeout=10)
    assert bad.status_code == 400
    assert get(dav, BOB, "meet-q.ics").status_code == 200
    r = session(BOB).delete(url(dav, BOB, "calendar/meet-q.ics"),
                            headers={"Schedule-Reply": "F"}, timeout=10)
    assert r.status_code == 204
    assert get(dav, BOB, "meet-q.ics").status_code == 404
    assert partstat(get(dav, ALICE, "meet-q.ics").text, BOB) == "NEEDS-ACTION"
    assert len(inbox_messages(dav, ALICE)) == replies_before
    # "T" is the default: Carol's removal declines.
    r = session(CAROL).delete(url(dav, CAROL, "calendar/meet-q.ics"),
                              headers={"Schedule-Reply": "T"}, timeout=10)
    assert r.status_code == 204
    assert partstat(get(dav, ALICE, "meet-q.ics").text, CAROL) == "DECLINED"


def test_auto_add_off_keeps_invitations_in_the_inbox(dav):
    oxctl(dav, "user", "scheduling", CAROL, "--auto-add", "no")
    put(dav, ALICE, "meet-4.ics", event("meet-4", [CAROL]))
    assert get(dav, CAROL, "meet-4.ics").status_code == 404
    messages = inbox_messages(dav, CAROL)
    assert len(messages) == 1 and "UID:meet-4" in messages[0][1]
    # Accepting by storing the answer reaches the organizer all the same.
    answer = messages[0][1].replace("METHOD:REQUEST\r\n", "")
    answer = re.sub(r"ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:" + CAROL,
                    "ATTENDEE;PARTSTAT=TENTATIVE:mailto:" + CAROL, answer)
    put(dav, CAROL, "answer.ics", answer)
    assert partstat(get(dav, ALICE, "meet-4.ics").text, CAROL) == "TENTATIVE"
    # The message can be removed from the inbox.
    href = messages[0][0]
    assert session(CAROL).delete(dav.url(href), timeout=10).status_code == 204
    assert inbox_messages(dav, CAROL) == [] or \
        all("METHOD:REQUEST" not in t for _, t in inbox_messages(dav, CAROL))


def test_room_books_itself_when_free_and_declines_a_clash(dav):
    r = put(dav, ALICE, "book-1.ics", event("book-1", [ROOM]))
    # The server changed what Alice stored: no ETag (RFC 4791 5.3.4).
    assert "ETag" not in r.headers
    assert partstat(get(dav, ALICE, "book-1.ics").text, ROOM) == "ACCEPTED"
    put(dav, BOB, "book-2.ics", event("book-2", [ROOM], start="20300105T103000Z",
                                      end="20300105T113000Z", organizer=BOB))
    assert partstat(get(dav, BOB, "book-2.ics").text, ROOM) == "DECLINED"
    # Later the same day it is free.
    put(dav, BOB, "book-3.ics", event("book-3", [ROOM], start="20300105T120000Z",
                                      end="20300105T130000Z", organizer=BOB))
    assert partstat(get(dav, BOB, "book-3.ics").text, ROOM) == "ACCEPTED"
    # Moving Alice's booking does not clash with itself.
    put(dav, ALICE, "book-1.ics", event("book-1", [ROOM], start="20300105T100000Z",
                                        end="20300105T101500Z"))
    assert partstat(get(dav, ALICE, "book-1.ics").text, ROOM) == "ACCEPTED"


def test_room_reads_floating_times_in_the_organizers_zone(dav):
    """A floating 10:00 of an organizer in Berlin is 09:00Z in January, so
    it clashes with a 09:00Z booking (RFC 4791 9.9: floating times are the
    calendar's)."""
    dave = "dave@example.org"
    oxctl(dav, "user", "create", dave, "--name", "Dave", "--time-zone", "Europe/Berlin",
          "--password-stdin", stdin=PASSWORD + "\n")
    put(dav, ALICE, "utc-1.ics", event("utc-1", [ROOM], start="20300105T090000Z",
                                       end="20300105T100000Z"))
    assert partstat(get(dav, ALICE, "utc-1.ics").text, ROOM) == "ACCEPTED"
    put(dav, dave, "floating-1.ics", event("floating-1", [ROOM], start="20300105T100000",
                                           end="20300105T110000", organizer=dave))
    assert partstat(get(dav, dave, "floating-1.ics").text, ROOM) == "DECLINED"
    # An hour later in Berlin is free.
    put(dav, dave, "floating-2.ics", event("floating-2", [ROOM], start="20300105T110000",
                                           end="20300105T120000", organizer=dave))
    assert partstat(get(dav, dave, "floating-2.ics").text, ROOM) == "ACCEPTED"


def freebusy_request(organizer, recipients):
    attendees = "".join(f"ATTENDEE:mailto:{a}\r\n" for a in recipients)
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tests//EN\r\nMETHOD:REQUEST\r\n"
            "BEGIN:VFREEBUSY\r\nUID:fb-1\r\nDTSTAMP:20300101T000000Z\r\n"
            "DTSTART:20300105T000000Z\r\nDTEND:20300106T000000Z\r\n"
            f"ORGANIZER:mailto:{organizer}\r\n{attendees}END:VFREEBUSY\r\nEND:VCALENDAR\r\n")


def post_outbox(server, login, body, content_type="text/calendar"):
    return session(login).post(url(server, login, "outbox/"), data=body.encode(),
                               headers={"Content-Type": content_type}, timeout=10)


def test_free_busy_through_the_outbox(dav):
    put(dav, BOB, "busy.ics", event("busy-1", [], organizer=BOB))
    put(dav, MALLORY, "busy.ics", event("busy-2", [], organizer=MALLORY))
    r = post_outbox(dav, ALICE, freebusy_request(ALICE, [BOB, MALLORY, "nobody@example.org"]))
    assert r.status_code == 200, r.text
    root = ET.fromstring(r.content)
    answers = {resp.findtext("C:recipient/D:href", namespaces=NS):
               (resp.findtext("C:request-status", namespaces=NS),
                resp.findtext("C:calendar-data", namespaces=NS))
               for resp in root.findall("C:response", NS)}
    status, data = answers[f"mailto:{BOB}"]
    assert status.startswith("2.0")
    assert "FREEBUSY;FBTYPE=BUSY:20300105T100000Z/20300105T110000Z" in data
    assert "SUMMARY" not in data and "METHOD:REPLY" in data
    # Another context's user is as unknown as a missing one.
    assert answers[f"mailto:{MALLORY}"][0].startswith("3.7")
    assert answers[f"mailto:{MALLORY}"][1] is None
    assert answers["mailto:nobody@example.org"][0].startswith("3.7")

    # python3-caldav's own call reaches the same answer.
    alice = caldav.DAVClient(url=dav.url("/dav/"), username=ALICE, password=PASSWORD)
    import datetime
    utc = datetime.timezone.utc
    alice.principal().freebusy_request(datetime.datetime(2030, 1, 5, tzinfo=utc),
                                       datetime.datetime(2030, 1, 6, tzinfo=utc),
                                       [f"mailto:{BOB}"])


def test_outbox_refuses_bad_requests(dav):
    assert post_outbox(dav, ALICE, freebusy_request(BOB, [CAROL])).status_code == 403
    assert post_outbox(dav, ALICE, "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n").status_code == 400
    assert post_outbox(dav, ALICE, "not calendar data").status_code == 400
    assert post_outbox(dav, ALICE, freebusy_request(ALICE, [BOB]),
                       content_type="application/xml").status_code == 415
    # Only the owner may post to an outbox.
    r = session(BOB).post(url(dav, ALICE, "outbox/"), data=freebusy_request(BOB, [CAROL]),
                          headers={"Content-Type": "text/calendar"}, timeout=10)
    assert r.status_code in (403, 404, 405)


def schedule_status(text, address, prop="ATTENDEE"):
    """The SCHEDULE-STATUS of the ATTENDEE (or ORGANIZER) line naming
    address, None without one."""
    unfolded = re.sub(r"\r?\n[ \t]", "", text)
    for line in unfolded.splitlines():
        if line.upper().startswith(prop) and line.lower().endswith("mailto:" + address):
            m = re.search(r";SCHEDULE-STATUS=\"?([0-9.,]+)", line, re.I)
            return m.group(1) if m else None
    raise AssertionError(f"no {prop} {address} in {text}")


def attendee_lines(text, address):
    unfolded = re.sub(r"\r?\n[ \t]", "", text)
    return [line for line in unfolded.splitlines()
            if line.upper().startswith("ATTENDEE") and line.lower().endswith("mailto:" + address)]


def propfind_schedule_tag(server, login, name):
    body = ('<?xml version="1.0"?><D:propfind xmlns:D="DAV:" '
            'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:schedule-tag/><D:getetag/>'
            '</D:prop></D:propfind>')
    r = session(login).request("PROPFIND", url(server, login, f"calendar/{name}"), data=body,
                               headers={"Depth": "0", "Content-Type": "application/xml"},
                               timeout=10)
    assert r.status_code == 207, r.text
    for propstat in ET.fromstring(r.content).iter("{DAV:}propstat"):
        if " 200 " in propstat.findtext("D:status", namespaces=NS):
            return propstat.findtext("D:prop/C:schedule-tag", namespaces=NS)
    return None


def test_schedule_tag_changes_only_with_consequential_changes(dav):
    r = put(dav, ALICE, "tag-1.ics", event("tag-1", [BOB]))
    alice_tag = r.headers["Schedule-Tag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', alice_tag)
    # GET, HEAD, PROPFIND and python3-caldav's load() all see it.
    r = get(dav, ALICE, "tag-1.ics")
    assert r.headers["Schedule-Tag"] == alice_tag
    alice_etag = r.headers["ETag"]
    assert session(ALICE).head(url(dav, ALICE, "calendar/tag-1.ics"),
                               timeout=10).headers["Schedule-Tag"] == alice_tag
    assert propfind_schedule_tag(dav, ALICE, "tag-1.ics") == alice_tag
    href = f"/dav/calendars/{ALICE}/calendar/tag-1.ics"
    body = ('<?xml version="1.0"?><C:calendar-multiget xmlns:D="DAV:" '
            'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:schedule-tag/></D:prop>'
            f'<D:href>{href}</D:href></C:calendar-multiget>')
    r = session(ALICE).request("REPORT", url(dav, ALICE, "calendar/"), data=body,
                               headers={"Depth": "1", "Content-Type": "application/xml"},
                               timeout=10)
    assert r.status_code == 207
    assert ET.fromstring(r.content).findtext(".//C:schedule-tag", namespaces=NS) == alice_tag
    client = caldav.DAVClient(url=dav.url("/dav/"), username=ALICE, password=PASSWORD)
    obj = caldav.Event(client, url=url(dav, ALICE, "calendar/tag-1.ics")).load()
    assert obj.props[caldav.elements.cdav.ScheduleTag.tag] == alice_tag

    # Bob answers, conditional on the tag of his copy.
    r = get(dav, BOB, "tag-1.ics")
    bob_tag = r.headers["Schedule-Tag"]
    accepted = r.text.replace("PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:" + BOB,
                              "PARTSTAT=ACCEPTED:mailto:" + BOB)
    r = session(BOB).put(url(dav, BOB, "calendar/tag-1.ics"), data=accepted.encode(),
                         headers={"Content-Type": "text/calendar",
                                  "If-Schedule-Tag-Match": bob_tag}, timeout=10)
    assert r.status_code == 204, r.text
    bob_answered_tag = r.headers["Schedule-Tag"]
    assert bob_answered_tag != bob_tag

    # Merging Bob's answer changed Alice's copy but not its Schedule-Tag.
    r = get(dav, ALICE, "tag-1.ics")
    assert partstat(r.text, BOB) == "ACCEPTED"
    assert r.headers["ETag"] != alice_etag and r.headers["Schedule-Tag"] == alice_tag
    # So Alice's client, holding the older version, still may write with
    # If-Schedule-Tag-Match, where If-Match on its ETag fails.
    moved = event("tag-1", [BOB], start="20300105T120000Z", end="20300105T130000Z")
    r = session(ALICE).put(url(dav, ALICE, "calendar/tag-1.ics"), data=moved.encode(),
                           headers={"Content-Type": "text/calendar", "If-Match": alice_etag},
                           timeout=10)
    assert r.status_code == 412
    r = session(ALICE).put(url(dav, ALICE, "calendar/tag-1.ics"), data=moved.encode(),
                           headers={"Content-Type": "text/calendar",
                                    "If-Schedule-Tag-Match": alice_tag}, timeout=10)
    assert r.status_code == 204, r.text
    assert r.headers["Schedule-Tag"] != alice_tag

    # The organizer's change is one Bob must see: his copy has a new tag,
    # so his client's write based on the older one is refused, and so is
    # a delete, and nothing changes.
    r = get(dav, BOB, "tag-1.ics")
    assert r.headers["Schedule-Tag"] not in (bob_tag, bob_answered_tag)
    assert "T120000Z" in r.text
    r = session(BOB).put(url(dav, BOB, "calendar/tag-1.ics"), data=accepted.encode(),
                         headers={"Content-Type": "text/calendar",
                                  "If-Schedule-Tag-Match": bob_answered_tag}, timeout=10)
    assert r.status_code == 412
    r = session(BOB).delete(url(dav, BOB, "calendar/tag-1.ics"),
                            headers={"If-Schedule-Tag-Match": bob_answered_tag}, timeout=10)
    assert r.status_code == 412
    current = get(dav, BOB, "tag-1.ics")
    assert "T120000Z" in current.text
    r = session(BOB).delete(url(dav, BOB, "calendar/tag-1.ics"),
                            headers={"If-Schedule-Tag-Match": current.headers["Schedule-Tag"]},
                            timeout=10)
    assert r.status_code == 204

    # Objects without an ORGANIZER have no Schedule-Tag, so the condition
    # never holds for them.
    plain = event("tag-2", []).replace(f"ORGANIZER:mailto:{ALICE}\r\n", "").replace(
        f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{ALICE}\r\n", "")
    r = put(dav, ALICE, "tag-2.ics", plain)
    assert "Schedule-Tag" not in r.headers and "ETag" in r.headers
    assert "Schedule-Tag" not in get(dav, ALICE, "tag-2.ics").headers
    assert propfind_schedule_tag(dav, ALICE, "tag-2.ics") is None
    r = session(ALICE).put(url(dav, ALICE, "calendar/tag-2.ics"), data=plain.encode(),
                           headers={"Content-Type": "text/calendar",
                                    "If-Schedule-Tag-Match": '"x"'}, timeout=10)
    assert r.status_code == 412


def test_schedule_status_reports_each_delivery(dav):
    external = "guest@elsewhere.example"
    extra = "\r\n".join([
        f"ATTENDEE;SCHEDULE-STATUS=1.2:mailto:{external}",
        "ATTENDEE:mailto:nobody@example.org",
        f"ATTENDEE;SCHEDULE-AGENT=CLIENT;SCHEDULE-STATUS=1.1:mailto:{CAROL}",
        f"ATTENDEE;SCHEDULE-FORCE-SEND=REQUEST:mailto:{MALLORY}"])
    # Bob's line claims a status the client cannot know: the server's wins.
    text = event("stat-1", [BOB, ROOM], extra=extra).replace(
        "RSVP=TRUE:mailto:" + BOB, "RSVP=TRUE;SCHEDULE-STATUS=5.3:mailto:" + BOB)
    r = put(dav, ALICE, "stat-1.ics", text)
    assert "ETag" not in r.headers  # the server changed what Alice stored
    stored = get(dav, ALICE, "stat-1.ics").text
    assert schedule_status(stored, BOB) == "1.2"  # in his inbox and calendar
    assert schedule_status(stored, ROOM) == "1.2"
    # Outside the server, with no iMIP sender configured: no way to send.
    assert schedule_status(stored, external) == "5.2"
    assert schedule_status(stored, MALLORY) == "5.2"  # another context is outside too
    # An address of the context's own domain that names nobody.
    assert schedule_status(stored, "nobody@example.org") == "3.7"
    # The client schedules Carol itself, and reports on her itself.
    assert schedule_status(stored, CAROL) == "1.1"
    assert get(dav, CAROL, "stat-1.ics").status_code == 404
    assert schedule_status(stored, ALICE) is None  # the organizer herself
    assert "SCHEDULE-FORCE-SEND" not in stored.upper()
    # What attendees get carries none of the organizer's scheduling
    # parameters (RFC 6638 7.1-7.3).
    copy = get(dav, BOB, "stat-1.ics").text
    message = [t for _, t in inbox_messages(dav, BOB) if "UID:stat-1" in t][0]
    for t in (copy, message):
        assert "SCHEDULE-STATUS" not in t.upper() and "SCHEDULE-AGENT" not in t.upper()

    # Bob's answer: the REPLY was delivered (on his ORGANIZER line), and
    # Alice's copy says it came in (RFC 6638 4.2).
    answered = copy.replace("PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:" + BOB,
                            "PARTSTAT=DECLINED:mailto:" + BOB)
    assert answered != copy
    put(dav, BOB, "stat-1.ics", answered)
    bobs = get(dav, BOB, "stat-1.ics").text
    assert schedule_status(bobs, ALICE, "ORGANIZER") == "1.2"
    assert schedule_status(get(dav, ALICE, "stat-1.ics").text, BOB) == "2.0"
    # A status Bob's client makes up is not kept; the server's stays.
    forged = bobs.replace(";SCHEDULE-STATUS=1.2", ";SCHEDULE-STATUS=5.1")
    assert forged != bobs
    put(dav, BOB, "stat-1.ics", forged)
    assert schedule_status(get(dav, BOB, "stat-1.ics").text, ALICE, "ORGANIZER") == "1.2"

    # SCHEDULE-FORCE-SEND=REPLY sends the unchanged answer again.
    for href, t in inbox_messages(dav, ALICE):
        assert session(ALICE).delete(dav.url(href), timeout=10).status_code == 204
    put(dav, BOB, "stat-1.ics", bobs)
    assert inbox_messages(dav, ALICE) == []  # nothing changed, nothing sent
    forced = re.sub(r"ORGANIZER[^:]*:mailto:" + re.escape(ALICE),
                    "ORGANIZER;SCHEDULE-FORCE-SEND=REPLY:mailto:" + ALICE, bobs)
    put(dav, BOB, "stat-1.ics", forced)
    replies = [t for _, t in inbox_messages(dav, ALICE)]
    assert len(replies) == 1 and "METHOD:REPLY" in replies[0]
    assert partstat(replies[0], BOB) == "DECLINED"
    assert "SCHEDULE-FORCE-SEND" not in get(dav, BOB, "stat-1.ics").text.upper()


def test_group_attendee_invites_its_members(dav):
    oxctl(dav, "group", "create", "acme", "team")
    for login in (ALICE, BOB, CAROL):
        oxctl(dav, "group", "add", "acme", "team", login)
    group = "ATTENDEE;CUTYPE=GROUP;ROLE=OPT-PARTICIPANT;RSVP=TRUE:mailto:team@example.org"
    put(dav, ALICE, "grp-1.ics", event("grp-1", [BOB], extra=group))
    stored = get(dav, ALICE, "grp-1.ics").text
    # Carol came in through the group; Bob was invited already and Alice
    # organizes, so neither is added again.
    carol = attendee_lines(stored, CAROL)
    assert len(carol) == 1
    assert 'MEMBER="mailto:team@example.org"' in carol[0]
    assert "CUTYPE=INDIVIDUAL" in carol[0] and "ROLE=OPT-PARTICIPANT" in carol[0]
    assert partstat(stored, CAROL) == "NEEDS-ACTION"
    assert len(attendee_lines(stored, BOB)) == 1 and len(attendee_lines(stored, ALICE)) == 1
    assert schedule_status(stored, "team@example.org") == "1.2"
    assert schedule_status(stored, CAROL) == "1.2"
    # Carol has the invitation like any attendee, and answers like one.
    assert any("UID:grp-1" in t for _, t in inbox_messages(dav, CAROL))
    copy = re.sub(r"\r?\n[ \t]", "", get(dav, CAROL, "grp-1.ics").text)
    line = attendee_lines(copy, CAROL)[0]
    put(dav, CAROL, "grp-1.ics",
        copy.replace(line, line.replace("PARTSTAT=NEEDS-ACTION", "PARTSTAT=ACCEPTED")))
    assert partstat(get(dav, ALICE, "grp-1.ics").text, CAROL) == "ACCEPTED"

    # A group name that is no group is nobody.
    put(dav, ALICE, "grp-2.ics", event("grp-2", [], extra=group.replace("team@", "noteam@")))
    assert schedule_status(get(dav, ALICE, "grp-2.ics").text, "noteam@example.org") == "3.7"
