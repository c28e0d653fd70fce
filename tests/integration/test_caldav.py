"""CalDAV (RFC 4791) on /dav/calendars/LOGIN/ against a real oxd, driven
by Debian's python3-caldav: discovery from the DAV root, MKCALENDAR,
events with recurrences and exceptions, time-range queries, todos,
deletion, strict validation of iCalendar bodies, permissions, and real
calendars written by vendors' clients (from ../shared/fixtures/ical).
"""
import datetime
import json
import os
import re

import pytest
import requests

from conftest import FIXTURES, run_oxctl as oxctl
from davhelp import ALICE, BOB, LUNCH, TODO, WEEKLY, caldav_client, session, start_tenant

caldav = pytest.importorskip("caldav")

UTC = datetime.timezone.utc

YEARLY = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//OX Server tests//EN
BEGIN:VEVENT
UID:birthday-1@example.org
DTSTAMP:20240101T000000Z
DTSTART;VALUE=DATE:20000210
SUMMARY:Birthday
RRULE:FREQ=YEARLY
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture
def dav(oxd_factory):
    return start_tenant(oxd_factory, [(ALICE, "Alice"), (BOB, "Bob")])


def new_calendar(server, name="Work", components=None):
    principal = caldav_client(server).principal()
    return principal.make_calendar(name=name, supported_calendar_component_set=components)


def uids(objects):
    return sorted(o.icalendar_component["uid"] for o in objects)


def search_month(cal, year, month, comp_class=None):
    start = datetime.datetime(year, month, 1, tzinfo=UTC)
    end = datetime.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return cal.search(start=start, end=end, comp_class=comp_class, expand=False)


def test_well_known_redirects_to_dav_root(dav):
    r = requests.get(dav.url("/.well-known/caldav"), allow_redirects=False, timeout=10)
    assert r.status_code == 301
    assert r.headers["Location"] == "/dav/"


def test_discovery_from_the_root(dav):
    principal = caldav_client(dav).principal()
    assert str(principal.url).endswith(f"/dav/principals/{ALICE}/")
    home = principal.calendar_home_set
    assert str(home.url).endswith("/dav/calendars/alice%40example.org/") or \
        str(home.url).endswith(f"/dav/calendars/{ALICE}/")
    names = [c.name for c in principal.calendars()]
    assert "Calendar" in names and "Tasks" in names
    r = session().options(dav.url(f"/dav/calendars/{ALICE}/"), timeout=10)
    assert "calendar-access" in r.headers["DAV"]
    assert "MKCALENDAR" in r.headers["Allow"]


def test_events_with_recurrence_and_time_range(dav):
    cal = new_calendar(dav, "Work", ["VEVENT"])
    assert cal.get_supported_components() == ["VEVENT"]
    assert "Work" in [c.name for c in caldav_client(dav).principal().calendars()]
    for ics in (WEEKLY, LUNCH, YEARLY):
        cal.save_event(ics)
    assert uids(cal.events()) == ["birthday-1@example.org", "lunch-1@example.org",
                                  "weekly-1@example.org"]
    got = cal.event_by_url(cal.url.join("lunch-1@example.org.ics"))
    got.load()
    assert "Lunch in February" in got.data

    # January: the weekly series (two instances left after the EXDATE and
    # the override that moved to March); no birthday (10 Feb), no lunch.
    assert uids(search_month(cal, 2024, 1, caldav.Event)) == ["weekly-1@example.org"]
    # February: all three (the series runs to May; a yearly all-day event).
    assert uids(search_month(cal, 2024, 2, caldav.Event)) == [
        "birthday-1@example.org", "lunch-1@example.org", "weekly-1@example.org"]
    # July 2024: the weekly series ended in May; the birthday is in February.
    assert uids(search_month(cal, 2024, 7, caldav.Event)) == []
    # February 2030: only the endless yearly rule reaches it.
    assert uids(search_month(cal, 2030, 2, caldav.Event)) == ["birthday-1@example.org"]

    # multiget
    objs = cal.calendar_multiget([cal.url.join("lunch-1@example.org.ics"),
                                  cal.url.join("weekly-1@example.org.ics")])
    assert sorted(o.icalendar_component["uid"] for o in objs) == [
        "lunch-1@example.org", "weekly-1@example.org"]

    # delete
    cal.event_by_url(cal.url.join("lunch-1@example.org.ics")).delete()
    assert uids(search_month(cal, 2024, 2, caldav.Event)) == [
        "birthday-1@example.org", "weekly-1@example.org"]
    cal.delete()
    assert "Work" not in [c.name for c in caldav_client(dav).principal().calendars()]


def test_todos_in_a_task_calendar(dav):
    tasks = new_calendar(dav, "Chores", ["VTODO"])
    tasks.save_todo(TODO)
    found = tasks.search(todo=True, include_completed=True)
    assert uids(found) == ["todo-1@example.org"]
    assert uids(search_month(tasks, 2024, 2, caldav.Todo)) == ["todo-1@example.org"]
    assert uids(search_month(tasks, 2024, 3, caldav.Todo)) == []
    # An event in a VTODO-only calendar is refused.
    r = session().put(str(tasks.url.join("e.ics")), data=LUNCH,
                      headers={"Content-Type": "text/calendar"}, timeout=10)
    assert r.status_code == 403 and "supported-calendar-component" in r.text


def test_conditional_put_and_etags(dav):
    cal = new_calendar(dav, "Etags")
    s = session()
    target = str(cal.url.join("lunch.ics"))
    hdr = {"Content-Type": "text/calendar", "If-None-Match": "*"}
    r = s.put(target, data=LUNCH, headers=hdr, timeout=10)
    assert r.status_code == 201
    etag = r.headers["ETag"]
    assert s.put(target, data=LUNCH, headers=hdr, timeout=10).status_code == 412
    r = s.get(target, timeout=10)
    assert r.status_code == 200 and r.headers["ETag"] == etag and r.text == LUNCH
    assert r.headers["Content-Type"].startswith("text/calendar")
    changed = LUNCH.replace("Lunch in February", "Lunch moved")
    r = s.put(target, data=changed, headers={"If-Match": '"nope"'}, timeout=10)
    assert r.status_code == 412
    r = s.put(target, data=changed, headers={"If-Match": etag}, timeout=10)
    assert r.status_code == 204 and r.headers["ETag"] != etag
    # One object per UID: the same UID under another name is a conflict.
    r = s.put(str(cal.url.join("other.ics")), data=changed, timeout=10)
    assert r.status_code == 409 and "no-uid-conflict" in r.text


@pytest.mark.parametrize("body", [
    "this is not a calendar",
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:2024XX01\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n",
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nDTSTART:20240101T000000Z\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n",
    LUNCH + LUNCH.replace("lunch-1", "lunch-2"),
    LUNCH.replace("END:VEVENT", "END:VEVENT\nBEGIN:VEVENT\nUID:two@example.org\n"
                  "DTSTART:20240101T000000Z\nEND:VEVENT"),
])
def test_malformed_icalendar_is_refused(dav, body):
    cal = new_calendar(dav, "Strict")
    cal.save_event(LUNCH)
    before = uids(cal.events())
    s = session()
    r = s.put(str(cal.url.join("bad.ics")), data=body.encode(),
              headers={"Content-Type": "text/calendar"}, timeout=10)
    assert 400 <= r.status_code < 500
    assert "valid-calendar-data" in r.text or "valid-calendar-object-resource" in r.text
    assert uids(cal.events()) == before
    assert s.get(str(cal.url.join("bad.ics")), timeout=10).status_code == 404


def test_too_large_object_is_refused(dav):
    cal = new_calendar(dav, "Big")
    body = LUNCH.replace("SUMMARY:", "DESCRIPTION:" + "x" * (1024 * 1024) + "\nSUMMARY:")
    r = session().put(str(cal.url.join("big.ics")), data=body,
                      headers={"Content-Type": "text/calendar"}, timeout=30)
    assert r.status_code == 403 and "max-resource-size" in r.text


def test_other_user_without_share_cannot_read(dav):
    cal = new_calendar(dav, "Private")
    cal.save_event(LUNCH)
    s = session(BOB)
    target = str(cal.url.join("lunch-1@example.org.ics"))
    assert s.get(target, timeout=10).status_code in (403, 404)
    assert s.put(target, data=LUNCH, timeout=10).status_code in (403, 404, 409)
    assert s.delete(target, timeout=10).status_code in (403, 404)
    r = s.request("PROPFIND", str(cal.url), headers={"Depth": "1"}, timeout=10)
    assert r.status_code in (403, 404)
    assert "Lunch" not in r.text
    r = s.request("MKCALENDAR", dav.url(f"/dav/calendars/{ALICE}/intruder/"), timeout=10)
    assert r.status_code in (403, 409)
    # Alice still sees her own event.
    assert uids(cal.events()) == ["lunch-1@example.org"]


# --- vendor calendars ---

VENDOR_RE = re.compile(r"^(google|outlook|apple|exchange)")


def unfolded(text):
    return re.sub(r"\r?\n[ \t]", "", text)


def single_object_fixtures():
    """Vendor files that are one calendar object (one UID, events only)."""
    folder = os.path.join(FIXTURES, "ical")
    out = []
    for name in sorted(os.listdir(folder)):
        if not VENDOR_RE.match(name) or not name.endswith(".ics"):
            continue
        with open(os.path.join(folder, name), "rb") as f:
            raw = f.read()
        text = unfolded(raw.decode("utf-8", "replace"))
        comps = set(re.findall(r"^BEGIN:(VEVENT|VTODO|VJOURNAL|VFREEBUSY)", text, re.M))
        if comps != {"VEVENT"} or len(set(re.findall(r"^UID:(.*)$", text, re.M))) != 1:
            continue
        out.append((name, raw))
    return out


@pytest.mark.skipif(not os.path.isdir(os.path.join(FIXTURES, "ical")),
                    reason="../shared/fixtures/ical is not present")
def test_vendor_calendars(dav):
    import icalendar
    fixtures = single_object_fixtures()
    producers = {VENDOR_RE.match(n).group(1) for n, _ in fixtures}
    assert {"google", "apple"} <= producers, producers
    cal = new_calendar(dav, "Imports")
    s = session()
    loaded = []
    for name, raw in fixtures:
        target = str(cal.url.join(name))
        r = s.put(target, data=raw, headers={"Content-Type": "text/calendar"}, timeout=10)
        assert r.status_code == 201, f"{name}: {r.status_code} {r.text}"
        r = s.get(target, timeout=10)
        assert r.status_code == 200 and r.content == raw, name
        loaded.append((name, raw))
    assert len(loaded) >= 5
    everything = cal.search(start=datetime.datetime(1900, 1, 1, tzinfo=UTC),
                            end=datetime.datetime(2100, 1, 1, tzinfo=UTC),
                            comp_class=caldav.Event, expand=False)
    assert sorted(str(o.url).rsplit("/", 1)[1] for o in everything) == \
        sorted(n for n, _ in loaded)
    for name, raw in loaded:
        event = icalendar.Calendar.from_ical(raw).walk("VEVENT")[0]
        start = event["DTSTART"].dt
        if not isinstance(start, datetime.datetime):
            start = datetime.datetime(start.year, start.month, start.day, tzinfo=UTC)
        elif start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        found = cal.search(start=start - datetime.timedelta(days=1),
                           end=start + datetime.timedelta(days=1),
                           comp_class=caldav.Event, expand=False)
        assert name in [str(o.url).rsplit("/", 1)[1] for o in found], name


# --- filters, sync-collection, free/busy, whole-calendar GET ---

def todo_ics(uid, extra=""):
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//OX Server tests//EN\r\n"
            f"BEGIN:VTODO\r\nUID:{uid}\r\nDTSTAMP:20240101T000000Z\r\n"
            f"SUMMARY:Task {uid}\r\n{extra}END:VTODO\r\nEND:VCALENDAR\r\n")


def event_ics(uid, start, end, extra="", tz=None):
    if tz:
        dt = f"DTSTART;TZID={tz}:{start}\r\nDTEND;TZID={tz}:{end}\r\n"
    else:
        dt = f"DTSTART:{start}\r\nDTEND:{end}\r\n"
    zone = ""
    if tz:
        zone = (f"BEGIN:VTIMEZONE\r\nTZID:{tz}\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
                "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n")
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//OX Server tests//EN\r\n" + zone +
            f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20240101T000000Z\r\n{dt}"
            f"SUMMARY:Event {uid}\r\n{extra}END:VEVENT\r\nEND:VCALENDAR\r\n")


def put(s, url, body):
    r = s.put(url, data=body.encode(), headers={"Content-Type": "text/calendar"}, timeout=10)
    assert r.status_code in (201, 204), r.text
    return r


def report(s, url, body, depth="1"):
    return s.request("REPORT", url, data=body.encode(), timeout=10,
                     headers={"Depth": depth, "Content-Type": "application/xml"})


def query_names(s, url, inner):
    body = ('<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            '<D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR">'
            f'{inner}</C:comp-filter></C:filter></C:calendar-query>')
    r = report(s, url, body)
    assert r.status_code == 207, r.text
    return sorted(h.rsplit("/", 1)[1] for h in re.findall(r"<D:href>([^<]*)</D:href>", r.text))


def test_todos_and_object_by_uid(dav):
    tasks = new_calendar(dav, "Jobs", ["VTODO"])
    s = session()
    put(s, str(tasks.url.join("open.ics")), todo_ics("open"))
    put(s, str(tasks.url.join("acting.ics")), todo_ics("acting", "STATUS:NEEDS-ACTION\r\n"))
    put(s, str(tasks.url.join("done.ics")), todo_ics(
        "done", "STATUS:COMPLETED\r\nCOMPLETED:20240102T000000Z\r\n"))
    put(s, str(tasks.url.join("dropped.ics")), todo_ics("dropped", "STATUS:CANCELLED\r\n"))
    assert uids(tasks.todos()) == ["acting", "open"]
    assert uids(tasks.todos(include_completed=True)) == ["acting", "done", "dropped", "open"]
    assert tasks.object_by_uid("done").icalendar_component["uid"] == "done"
    assert tasks.todo_by_uid("open").icalendar_component["uid"] == "open"
    with pytest.raises(caldav.error.NotFoundError):
        tasks.object_by_uid("nowhere")
    cal = new_calendar(dav, "Meetings", ["VEVENT"])
    cal.save_event(LUNCH)
    assert cal.object_by_uid("lunch-1@example.org").icalendar_component["uid"] == \
        "lunch-1@example.org"
    assert cal.event_by_uid("lunch-1@example.org") is not None


def test_text_match_param_filter_and_is_not_defined(dav):
    cal = new_calendar(dav, "Filters")
    s = session()
    url = str(cal.url)
    put(s, url + "a.ics", event_ics("a", "20240301T100000Z", "20240301T110000Z",
                                   "LOCATION:Room Alpha\r\nATTENDEE;CN=Bob Builder:"
                                   "mailto:bob@example.org\r\n"))
    put(s, url + "b.ics", event_ics("b", "20240302T100000Z", "20240302T110000Z",
                                   "ATTENDEE;PARTSTAT=ACCEPTED:mailto:carol@example.org\r\n"))
    put(s, url + "t.ics", todo_ics("t"))
    ev = '<C:comp-filter name="VEVENT">%s</C:comp-filter>'
    # i;ascii-casemap (the default) ignores case; i;octet does not.
    assert query_names(s, url, ev % '<C:prop-filter name="SUMMARY">'
                       '<C:text-match>EVENT A</C:text-match></C:prop-filter>') == ["a.ics"]
    assert query_names(s, url, ev % '<C:prop-filter name="SUMMARY">'
                       '<C:text-match collation="i;octet">EVENT A</C:text-match>'
                       '</C:prop-filter>') == []
    assert query_names(s, url, ev % '<C:prop-filter name="summary">'
                       '<C:text-match collation="i;octet">Event a</C:text-match>'
                       '</C:prop-filter>') == ["a.ics"]
    # negate-condition: SUMMARY present and not containing the text.
    assert query_names(s, url, ev % '<C:prop-filter name="SUMMARY">'
                       '<C:text-match negate-condition="yes">event a</C:text-match>'
                       '</C:prop-filter>') == ["b.ics"]
    # is-not-defined on a property and on a component.
    assert query_names(s, url, ev % '<C:prop-filter name="LOCATION"><C:is-not-defined/>'
                       '</C:prop-filter>') == ["b.ics"]
    assert query_names(s, url, '<C:comp-filter name="VEVENT"><C:is-not-defined/>'
                       '</C:comp-filter>') == ["t.ics"]
    # param-filter
    assert query_names(s, url, ev % '<C:prop-filter name="ATTENDEE"><C:param-filter name="CN">'
                       '<C:text-match>builder</C:text-match></C:param-filter>'
                       '</C:prop-filter>') == ["a.ics"]
    assert query_names(s, url, ev % '<C:prop-filter name="ATTENDEE">'
                       '<C:param-filter name="PARTSTAT"><C:is-not-defined/></C:param-filter>'
                       '</C:prop-filter>') == ["a.ics"]
    # with a time range
    assert query_names(s, url, ev % '<C:time-range start="20240302T000000Z" '
                       'end="20240303T000000Z"/><C:prop-filter name="ATTENDEE"/>') == ["b.ics"]
    # VJOURNAL: nothing (these calendars hold none), not an error.
    assert query_names(s, url, '<C:comp-filter name="VJOURNAL"/>') == []
    # An unknown collation is refused with its precondition.
    body = ('<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
            '<C:prop-filter name="SUMMARY"><C:text-match collation="i;unicode-casemap">x'
            '</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter></C:filter>'
            '</C:calendar-query>')
    r = report(s, url, body)
    assert r.status_code == 403 and "supported-collation" in r.text
    # Hostile filters are bounded.
    deep = '<C:prop-filter name="X"/>' * 100
    r = report(s, url, body.replace('<C:prop-filter name="SUMMARY"><C:text-match '
                                    'collation="i;unicode-casemap">x</C:text-match>'
                                    '</C:prop-filter>', deep))
    assert r.status_code == 403 and "supported-filter" in r.text


SYNC = ('<D:sync-collection xmlns:D="DAV:"><D:sync-token>{}</D:sync-token>'
        '<D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>')


def sync(s, url, token=""):
    r = report(s, url, SYNC.format(token), depth="0")
    assert r.status_code == 207, r.text
    new = re.search(r"<D:sync-token>([^<]*)</D:sync-token>", r.text).group(1)
    found, gone = [], []
    for resp in re.findall(r"<D:response>(.*?)</D:response>", r.text, re.S):
        name = re.search(r"<D:href>([^<]*)</D:href>", resp).group(1).rsplit("/", 1)[1]
        (gone if "404 Not Found</D:status></D:response>" in resp + "</D:response>"
         and "propstat" not in resp else found).append(name)
    return new, sorted(found), sorted(gone)


def test_sync_collection(dav):
    cal = new_calendar(dav, "Synced")
    s = session()
    url = str(cal.url)
    put(s, url + "one.ics", event_ics("one", "20240301T100000Z", "20240301T110000Z"))
    put(s, url + "two.ics", event_ics("two", "20240302T100000Z", "20240302T110000Z"))
    token, found, gone = sync(s, url)
    assert token.startswith("data:,") and found == ["one.ics", "two.ics"] and gone == []
    # The collection's property names the same state.
    r = s.request("PROPFIND", url, headers={"Depth": "0"}, timeout=10,
                  data='<D:propfind xmlns:D="DAV:"><D:prop><D:sync-token/></D:prop>'
                       '</D:propfind>')
    assert f"<D:sync-token>{token}</D:sync-token>" in r.text
    # Nothing changed: nothing listed, the same token.
    assert sync(s, url, token) == (token, [], [])
    # Change one, delete one, add one.
    put(s, url + "one.ics", event_ics("one", "20240301T120000Z", "20240301T130000Z"))
    assert s.delete(url + "two.ics", timeout=10).status_code == 204
    put(s, url + "three.ics", event_ics("three", "20240303T100000Z", "20240303T110000Z"))
    token2, found, gone = sync(s, url, token)
    assert token2 != token and found == ["one.ics", "three.ics"] and gone == ["two.ics"]
    # An initial sync lists only what exists.
    assert sync(s, url)[1:] == (["one.ics", "three.ics"], [])
    for bad in ("data:,999999999", "http://example.org/other", "data:,-1", "data:,1x"):
        r = report(s, url, SYNC.format(bad), depth="0")
        assert r.status_code == 403 and "valid-sync-token" in r.text, bad
    # Another user without rights learns nothing.
    r = report(session(BOB), url, SYNC.format(""), depth="0")
    assert r.status_code in (403, 404) and "one.ics" not in r.text


def test_free_busy_query(dav):
    cal = new_calendar(dav, "Busy", ["VEVENT"])
    s = session()
    url = str(cal.url)
    put(s, url + "a.ics", event_ics("a", "20240301T100000Z", "20240301T110000Z"))
    put(s, url + "b.ics", event_ics("b", "20240301T103000Z", "20240301T120000Z"))
    put(s, url + "c.ics", event_ics("c", "20240301T140000Z", "20240301T150000Z",
                                   "TRANSP:TRANSPARENT\r\n"))
    put(s, url + "d.ics", event_ics("d", "20240301T160000Z", "20240301T170000Z",
                                   "STATUS:CANCELLED\r\n"))
    put(s, url + "e.ics", event_ics("e", "20240301T180000Z", "20240301T190000Z",
                                   "STATUS:TENTATIVE\r\n"))
    put(s, url + "r.ics", event_ics("r", "20240228T080000Z", "20240228T090000Z",
                                   "RRULE:FREQ=DAILY;COUNT=5\r\n"))
    fb = cal.freebusy_request(datetime.datetime(2024, 3, 1, tzinfo=UTC),
                              datetime.datetime(2024, 3, 2, tzinfo=UTC))
    text = unfolded(fb.data)
    assert "BEGIN:VFREEBUSY" in text
    lines = sorted(re.findall(r"^FREEBUSY[^\r\n]*", text, re.M))
    assert lines == ["FREEBUSY;FBTYPE=BUSY-TENTATIVE:20240301T180000Z/20240301T190000Z",
                     "FREEBUSY;FBTYPE=BUSY:20240301T080000Z/20240301T090000Z",
                     "FREEBUSY;FBTYPE=BUSY:20240301T100000Z/20240301T120000Z"], lines
    body = ('<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav">'
            '<C:time-range start="20240301T000000Z" end="20240302T000000Z"/>'
            '</C:free-busy-query>')
    # Bob may not see the calendar: nothing.
    r = report(session(BOB), url, body)
    assert r.status_code in (403, 404) and "FREEBUSY" not in r.text
    # With free/busy rights only (see the folder, read no objects), he
    # gets the busy times but not the events.
    folders = json.loads(oxctl(dav, "folder", "list", ALICE, "--json"))
    busy_id = next(f["id"] for f in folders if f["name"] == "Busy")
    oxctl(dav, "folder", "share", ALICE, str(busy_id), f"user:{BOB}", "1/0/0/0/0")
    bob_url = dav.url(f"/dav/calendars/{BOB}/{busy_id}/")
    r = report(session(BOB), bob_url, body)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/calendar")
    assert "FBTYPE=BUSY:20240301T100000Z/20240301T120000Z" in r.text
    assert session(BOB).get(bob_url + "a.ics", timeout=10).status_code in (403, 404)
    assert session(BOB).get(bob_url, timeout=10).status_code in (403, 404)
    # A range is needed, with both ends.
    r = report(s, url, body.replace(' end="20240302T000000Z"', ""))
    assert r.status_code == 403 and "valid-filter" in r.text


def test_get_whole_calendar(dav):
    import icalendar
    cal = new_calendar(dav, "Export")
    s = session()
    url = str(cal.url)
    put(s, url + "a.ics", event_ics("a", "20240301T100000", "20240301T110000", tz="Europe/Test"))
    put(s, url + "b.ics", event_ics("b", "20240302T100000", "20240302T110000", tz="Europe/Test"))
    put(s, url + "w.ics", WEEKLY)
    put(s, url + "t.ics", todo_ics("t"))
    r = s.get(url, timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/calendar")
    text = unfolded(r.text)
    assert text.count("BEGIN:VCALENDAR") == 1 and text.count("BEGIN:VTIMEZONE") == 1
    assert text.index("BEGIN:VTIMEZONE") < text.index("BEGIN:VEVENT")
    parsed = icalendar.Calendar.from_ical(r.text)
    assert sorted(str(c["uid"]) for c in parsed.walk("VEVENT")) == [
        "a", "b", "weekly-1@example.org", "weekly-1@example.org"]
    assert [str(c["uid"]) for c in parsed.walk("VTODO")] == ["t"]
    assert s.head(url, timeout=10).status_code == 200
    # The home stays a plain listing.
    assert s.get(dav.url(f"/dav/calendars/{ALICE}/"), timeout=10).headers[
        "Content-Type"].startswith("text/html")
    # An empty calendar is an empty VCALENDAR.
    empty = new_calendar(dav, "Empty")
    r = s.get(str(empty.url), timeout=10)
    assert r.status_code == 200 and "BEGIN:VCALENDAR" in r.text and "VEVENT" not in r.text


def test_extended_mkcol_makes_calendars(dav):
    """RFC 5689: DAVx5 and vdirsyncer make calendars with MKCOL."""
    s = session()
    home = dav.url(f"/dav/calendars/{ALICE}/")
    body = ('<?xml version="1.0"?><D:mkcol xmlns:D="DAV:" '
            'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
            '<D:resourcetype><D:collection/><C:calendar/></D:resourcetype>'
            '<D:displayname>Synced</D:displayname>'
            '<C:supported-calendar-component-set><C:comp name="VTODO"/>'
            '</C:supported-calendar-component-set></D:prop></D:set></D:mkcol>')
    r = s.request("MKCOL", home + "synced/", data=body,
                  headers={"Content-Type": "application/xml"}, timeout=10)
    assert r.status_code == 201, r.text
    cal = [c for c in caldav_client(dav).principal().calendars() if c.name == "Synced"][0]
    assert cal.get_supported_components() == ["VTODO"]
    # Again: the name is taken.
    r = s.request("MKCOL", home + "synced/", data=body,
                  headers={"Content-Type": "application/xml"}, timeout=10)
    assert r.status_code == 405
    # Not a calendar, no type at all, a plain MKCOL, a malformed body.
    book = body.replace("<C:calendar/>", '<A:addressbook xmlns:A="urn:ietf:params:xml:ns:carddav"/>')
    r = s.request("MKCOL", home + "book/", data=book,
                  headers={"Content-Type": "application/xml"}, timeout=10)
    assert r.status_code == 403 and "valid-resourcetype" in r.text
    r = s.request("MKCOL", home + "plain/", data=body.replace("<C:calendar/>", ""),
                  headers={"Content-Type": "application/xml"}, timeout=10)
    assert r.status_code == 403 and "valid-resourcetype" in r.text
    # Without a body MKCOL has no way to say "calendar" (the engine answers).
    assert s.request("MKCOL", home + "plain/", timeout=10).status_code == 409
    r = s.request("MKCOL", home + "bad/", data="<D:mkcol xmlns:D='DAV:'>",
                  headers={"Content-Type": "application/xml"}, timeout=10)
    assert r.status_code == 400
    names = [c.name for c in caldav_client(dav).principal().calendars()]
    assert "book" not in names and "plain" not in names and "bad" not in names
