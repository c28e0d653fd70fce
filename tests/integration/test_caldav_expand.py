"""CalDAV calendar-data views and calendar time zones (RFC 4791 9.6, 5.2.2,
9.9) against a real oxd: expand through python3-caldav and raw REPORTs,
limit-recurrence-set, comp/prop subsets, the expansion bound, and
CALDAV:calendar-timezone set by MKCALENDAR and PROPPATCH, defaulting to
the owner's directory zone, reading floating times in queries and
free/busy.
"""
import datetime
import re
import xml.etree.ElementTree as ET

import pytest

from davhelp import ALICE, caldav_client, session, start_tenant

caldav = pytest.importorskip("caldav")

UTC = datetime.timezone.utc
NS = {"D": "DAV:", "C": "urn:ietf:params:xml:ns:caldav"}
C = "urn:ietf:params:xml:ns:caldav"

BERLIN = ("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"
          "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\n"
          "DTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
          "END:DAYLIGHT\r\n"
          "BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\n"
          "DTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
          "END:STANDARD\r\nEND:VTIMEZONE\r\n")
NEW_YORK = ("BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\n"
            "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nTZNAME:EDT\r\n"
            "DTSTART:20070311T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\n"
            "END:DAYLIGHT\r\n"
            "BEGIN:STANDARD\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nTZNAME:EST\r\n"
            "DTSTART:20071104T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\n"
            "END:STANDARD\r\nEND:VTIMEZONE\r\n")


def vcalendar(body):
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//OX Server tests//EN\r\n" + body +
            "END:VCALENDAR\r\n")


# Mondays at 10:00 Berlin (09:00Z in winter) from 8 January 2024; the
# 15th moved to 16:00 and renamed, the 22nd excluded, 12 February moved
# within its day.
WEEKLY = vcalendar(
    BERLIN +
    "BEGIN:VEVENT\r\nUID:weekly@example.org\r\nDTSTAMP:20240101T000000Z\r\n"
    "DTSTART;TZID=Europe/Berlin:20240108T100000\r\nDTEND;TZID=Europe/Berlin:20240108T110000\r\n"
    "RRULE:FREQ=WEEKLY;COUNT=10\r\nEXDATE;TZID=Europe/Berlin:20240122T100000\r\n"
    "SUMMARY:Planning\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:weekly@example.org\r\nDTSTAMP:20240101T000000Z\r\n"
    "RECURRENCE-ID;TZID=Europe/Berlin:20240115T100000\r\n"
    "DTSTART;TZID=Europe/Berlin:20240115T160000\r\nDTEND;TZID=Europe/Berlin:20240115T170000\r\n"
    "SUMMARY:Planning (moved)\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:weekly@example.org\r\nDTSTAMP:20240101T000000Z\r\n"
    "RECURRENCE-ID;TZID=Europe/Berlin:20240212T100000\r\n"
    "DTSTART;TZID=Europe/Berlin:20240212T140000\r\nDTEND;TZID=Europe/Berlin:20240212T150000\r\n"
    "SUMMARY:Planning (February)\r\nEND:VEVENT\r\n")

# A floating 09:00 on 10 January 2024: 08:00Z in Berlin, 14:00Z in New York.
FLOATING = vcalendar(
    "BEGIN:VEVENT\r\nUID:floating@example.org\r\nDTSTAMP:20240101T000000Z\r\n"
    "DTSTART:20240110T090000\r\nDTEND:20240110T093000\r\nSUMMARY:Standup\r\n"
    "END:VEVENT\r\n")

HOURLY = vcalendar(
    "BEGIN:VEVENT\r\nUID:hourly@example.org\r\nDTSTAMP:20240101T000000Z\r\n"
    "DTSTART:20240101T000000Z\r\nDURATION:PT5M\r\nRRULE:FREQ=HOURLY\r\n"
    "SUMMARY:Ping\r\nEND:VEVENT\r\n")


@pytest.fixture
def dav(oxd_factory):
    return start_tenant(oxd_factory, [(ALICE, "Alice", "--time-zone", "Europe/Berlin")])


def home(server):
    return server.url(f"/dav/calendars/{ALICE}/")


def put(s, url, body):
    r = s.put(url, data=body.encode(), headers={"Content-Type": "text/calendar"}, timeout=10)
    assert r.status_code in (201, 204), r.text


def report(s, url, body, depth="1"):
    return s.request("REPORT", url, data=body.encode(), timeout=10,
                     headers={"Depth": depth, "Content-Type": "application/xml"})


def mkcalendar(s, url, props=""):
    body = ('<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            f'<D:set><D:prop><D:displayname>Zoned</D:displayname>{props}</D:prop></D:set>'
            '</C:mkcalendar>')
    return s.request("MKCALENDAR", url, data=body.encode(), timeout=10,
                     headers={"Content-Type": "application/xml"})


def timezone_prop(text):
    return f"<C:calendar-timezone><![CDATA[{text}]]></C:calendar-timezone>"


def propfind(s, url, props):
    body = ('<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop>'
            f'{props}</D:prop></D:propfind>')
    r = s.request("PROPFIND", url, data=body.encode(), timeout=10,
                  headers={"Depth": "0", "Content-Type": "application/xml"})
    assert r.status_code == 207, r.text
    return ET.fromstring(r.content)


def prop_text(s, url, name):
    root = propfind(s, url, f"<{name}/>")
    el = root.find(f".//D:propstat/D:prop/{name}", NS)
    status = root.find(".//D:propstat/D:status", NS).text
    return el.text if el is not None and "200" in status else None


def proppatch(s, url, props):
    body = ('<D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            f'<D:set><D:prop>{props}</D:prop></D:set></D:propertyupdate>')
    return s.request("PROPPATCH", url, data=body.encode(), timeout=10,
                     headers={"Content-Type": "application/xml"})


def calendar_data(response_xml):
    """{href name: calendar-data text} of a multistatus."""
    out = {}
    for resp in ET.fromstring(response_xml).findall("D:response", NS):
        href = resp.find("D:href", NS).text
        data = resp.find(".//C:calendar-data", NS)
        out[href.rsplit("/", 1)[1]] = data.text if data is not None else None
    return out


def query(s, url, data_inner="", filter_inner="", extra=""):
    body = ('<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            f'<D:prop><D:getetag/><C:calendar-data>{data_inner}</C:calendar-data></D:prop>'
            '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
            f'{filter_inner}</C:comp-filter></C:comp-filter></C:filter>{extra}'
            '</C:calendar-query>')
    return report(s, url, body)


def names_in_range(s, url, start, end, extra=""):
    r = query(s, url, filter_inner=f'<C:time-range start="{start}" end="{end}"/>', extra=extra)
    assert r.status_code == 207, r.text
    return sorted(calendar_data(r.content))


def components(text):
    """The VEVENTs of an iCalendar text as dicts of their lines (name: value)."""
    events = []
    for block in re.findall(r"BEGIN:VEVENT\r?\n(.*?)END:VEVENT", text, re.S):
        lines = {}
        for line in block.splitlines():
            name, _, value = line.partition(":")
            lines[name] = value
        events.append(lines)
    return events


def test_expand_with_python_caldav(dav):
    principal = caldav_client(dav).principal()
    cal = principal.make_calendar(name="Team")
    cal.save_event(WEEKLY)
    start = datetime.datetime(2024, 1, 1, tzinfo=UTC)
    end = datetime.datetime(2024, 2, 1, tzinfo=UTC)
    found = cal.search(start=start, end=end, event=True, expand=True)
    # The server expanded: every instance comes in UTC with its
    # RECURRENCE-ID and no rule left for the client to expand.
    assert all("RRULE" not in o.data and "TZID" not in o.data for o in found)
    got = sorted((o.icalendar_component["recurrence-id"].dt, str(o.icalendar_component["summary"]),
                  o.icalendar_component["dtstart"].dt) for o in found)
    assert got == [
        (datetime.datetime(2024, 1, 8, 9, tzinfo=UTC), "Planning",
         datetime.datetime(2024, 1, 8, 9, tzinfo=UTC)),
        (datetime.datetime(2024, 1, 15, 9, tzinfo=UTC), "Planning (moved)",
         datetime.datetime(2024, 1, 15, 15, tzinfo=UTC)),
        (datetime.datetime(2024, 1, 29, 9, tzinfo=UTC), "Planning",
         datetime.datetime(2024, 1, 29, 9, tzinfo=UTC)),
    ]
    # date_search expands the same way, one resource with its instances.
    (feb,) = cal.date_search(datetime.datetime(2024, 2, 1, tzinfo=UTC),
                             datetime.datetime(2024, 2, 15, tzinfo=UTC), expand=True)
    assert sorted((e["RECURRENCE-ID"], e["SUMMARY"]) for e in components(feb.data)) == [
        ("20240205T090000Z", "Planning"),
        ("20240212T090000Z", "Planning (February)"),
    ]


def test_expand_raw_query_and_multiget(dav):
    s = session()
    cal = home(dav) + "calendar/"
    put(s, cal + "weekly.ics", WEEKLY)
    put(s, cal + "floating.ics", FLOATING)
    expand = '<C:expand start="20240101T000000Z" end="20240201T000000Z"/>'
    r = query(s, cal, expand, '<C:time-range start="20240101T000000Z" end="20240201T000000Z"/>')
    assert r.status_code == 207, r.text
    data = calendar_data(r.content)
    assert sorted(data) == ["floating.ics", "weekly.ics"]
    weekly = data["weekly.ics"]
    assert "VTIMEZONE" not in weekly and "RRULE" not in weekly and "EXDATE" not in weekly
    events = components(weekly)
    assert sorted(e["RECURRENCE-ID"] for e in events) == \
        ["20240108T090000Z", "20240115T090000Z", "20240129T090000Z"]
    moved = next(e for e in events if e["RECURRENCE-ID"] == "20240115T090000Z")
    assert moved["SUMMARY"] == "Planning (moved)" and moved["DTSTART"] == "20240115T150000Z"
    assert not any(e["DTSTART"].startswith("20240122") for e in events)
    # A single floating event stays floating, without RECURRENCE-ID.
    (single,) = components(data["floating.ics"])
    assert single["DTSTART"] == "20240110T090000" and "RECURRENCE-ID" not in single

    body = ('<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            '<D:prop><C:calendar-data><C:expand start="20240205T000000Z" '
            'end="20240301T000000Z"/></C:calendar-data></D:prop>'
            f'<D:href>/dav/calendars/{ALICE}/calendar/weekly.ics</D:href></C:calendar-multiget>')
    r = report(s, cal, body)
    assert r.status_code == 207, r.text
    events = components(calendar_data(r.content)["weekly.ics"])
    # 5, 12 (moved to 13:00Z), 19 and 26 February; the count ends on 11 March.
    assert [e["DTSTART"] for e in sorted(events, key=lambda e: e["DTSTART"])] == \
        ["20240205T090000Z", "20240212T130000Z", "20240219T090000Z", "20240226T090000Z"]


def test_expand_needs_a_utc_range(dav):
    s = session()
    cal = home(dav) + "calendar/"
    put(s, cal + "weekly.ics", WEEKLY)
    for attrs in ('start="20240101T000000Z"', 'start="20240101T000000" end="20240201T000000"',
                  'start="20240201T000000Z" end="20240101T000000Z"'):
        r = query(s, cal, f"<C:expand {attrs}/>")
        assert r.status_code == 400, r.text
        assert "expand needs start and end as UTC" in r.text
    r = query(s, cal, '<C:expand start="20240101T000000Z" end="20240201T000000Z"/>'
                      '<C:limit-recurrence-set start="20240101T000000Z" end="20240201T000000Z"/>')
    assert r.status_code == 400
    body = ('<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            '<D:prop><C:calendar-data content-type="application/calendar+json"/></D:prop>'
            '<C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>')
    r = report(s, cal, body)
    assert r.status_code == 403 and "supported-calendar-data" in r.text


def test_limit_recurrence_set(dav):
    s = session()
    cal = home(dav) + "calendar/"
    put(s, cal + "weekly.ics", WEEKLY)
    # 12 February: the master and only the override of that day.
    r = query(s, cal, '<C:limit-recurrence-set start="20240210T000000Z" '
                      'end="20240214T000000Z"/>')
    assert r.status_code == 207, r.text
    text = calendar_data(r.content)["weekly.ics"]
    summaries = sorted(e["SUMMARY"] for e in components(text))
    assert summaries == ["Planning", "Planning (February)"]
    assert "RRULE:FREQ=WEEKLY" in text and "BEGIN:VTIMEZONE" in text
    # A range with no override: the master alone.
    r = query(s, cal, '<C:limit-recurrence-set start="20240301T000000Z" '
                      'end="20240302T000000Z"/>')
    assert [e["SUMMARY"] for e in components(calendar_data(r.content)["weekly.ics"])] == \
        ["Planning"]


def test_comp_and_prop_subsets(dav):
    s = session()
    cal = home(dav) + "calendar/"
    put(s, cal + "floating.ics", FLOATING)
    r = query(s, cal, '<C:comp name="VCALENDAR"><C:prop name="VERSION"/>'
                      '<C:comp name="VEVENT"><C:prop name="UID"/><C:prop name="SUMMARY" '
                      'novalue="yes"/></C:comp></C:comp>')
    assert r.status_code == 207, r.text
    text = calendar_data(r.content)["floating.ics"]
    assert "VERSION:2.0" in text and "PRODID" not in text
    assert "UID:floating@example.org" in text and "DTSTART" not in text
    assert re.search(r"^SUMMARY:\r?$", text, re.M)
    r = query(s, cal, '<C:comp name="VEVENT"/>')
    assert r.status_code == 400


def test_expansion_is_bounded_per_object(dav):
    s = session()
    cal = home(dav) + "calendar/"
    put(s, cal + "hourly.ics", HOURLY)
    put(s, cal + "weekly.ics", WEEKLY)
    r = query(s, cal, '<C:expand start="20240101T000000Z" end="20240301T000000Z"/>')
    assert r.status_code == 207, r.text
    responses = {resp.find("D:href", NS).text.rsplit("/", 1)[1]: resp
                 for resp in ET.fromstring(r.content).findall("D:response", NS)}
    hourly = responses["hourly.ics"]
    assert "403" in hourly.find("D:status", NS).text
    assert hourly.find("D:error/C:max-instances", NS) is not None
    assert len(components(calendar_data(r.content)["weekly.ics"])) == 7
    max_instances = prop_text(s, cal, "C:max-instances")
    assert int(max_instances) == 1000
    assert prop_text(s, cal, "C:min-date-time") == "00000101T000000Z"
    assert prop_text(s, cal, "C:max-date-time") == "99991231T235959Z"


def test_calendar_timezone_at_mkcalendar_and_proppatch(dav):
    s = session()
    url = home(dav) + "zoned/"
    r = mkcalendar(s, url, timezone_prop(vcalendar(BERLIN)))
    assert r.status_code == 201, r.text
    assert "TZID:Europe/Berlin" in prop_text(s, url, "C:calendar-timezone")
    put(s, url + "floating.ics", FLOATING)
    # 09:00 floating is 08:00Z in Berlin, not 09:00Z.
    assert names_in_range(s, url, "20240110T080000Z", "20240110T083000Z") == ["floating.ics"]
    assert names_in_range(s, url, "20240110T090000Z", "20240110T093000Z") == []

    r = proppatch(s, url, timezone_prop(vcalendar(NEW_YORK)))
    assert r.status_code == 207 and "200 OK" in r.text, r.text
    assert "TZID:America/New_York" in prop_text(s, url, "C:calendar-timezone")
    assert names_in_range(s, url, "20240110T140000Z", "20240110T143000Z") == ["floating.ics"]
    assert names_in_range(s, url, "20240110T080000Z", "20240110T083000Z") == []
    # The query's own CALDAV:timezone reads it instead (RFC 4791 9.8).
    assert names_in_range(s, url, "20240110T080000Z", "20240110T083000Z",
                          timezone_prop(vcalendar(BERLIN)).replace(
                              "calendar-timezone", "timezone")) == ["floating.ics"]

    # free-busy-query reads floating times in the calendar's zone too.
    body = ('<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav">'
            '<C:time-range start="20240110T000000Z" end="20240111T000000Z"/>'
            '</C:free-busy-query>')
    r = report(s, url, body)
    assert r.status_code == 200, r.text
    assert re.search(r"FREEBUSY[^:]*:20240110T140000Z/20240110T143000Z", r.text)


def test_invalid_calendar_timezone_changes_nothing(dav):
    s = session()
    url = home(dav) + "zoned/"
    two_zones = vcalendar(BERLIN + NEW_YORK)
    r = mkcalendar(s, url, timezone_prop(two_zones))
    assert r.status_code == 403 and "valid-calendar-data" in r.text
    assert s.request("PROPFIND", url, headers={"Depth": "0"}, timeout=10).status_code == 404

    assert mkcalendar(s, url, timezone_prop(vcalendar(BERLIN))).status_code == 201
    for bad in (two_zones, vcalendar(FLOATING), "not a calendar",
                vcalendar(BERLIN.replace("FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "FREQ=MINUTELY"))):
        r = proppatch(s, url, "<D:displayname>Renamed</D:displayname>" + timezone_prop(bad))
        assert r.status_code == 403 and "valid-calendar-data" in r.text, r.text
    # All or nothing: neither the zone nor the name changed.
    assert "TZID:Europe/Berlin" in prop_text(s, url, "C:calendar-timezone")
    assert prop_text(s, url, "D:displayname") == "Zoned"


def test_default_timezone_is_the_owners(dav):
    s = session()
    cal = home(dav) + "calendar/"
    # Alice's directory zone is Europe/Berlin; her default calendar has no
    # zone of its own.
    text = prop_text(s, cal, "C:calendar-timezone")
    assert "TZID:Europe/Berlin" in text and "BEGIN:VTIMEZONE" in text
    put(s, cal + "floating.ics", FLOATING)
    assert names_in_range(s, cal, "20240110T080000Z", "20240110T083000Z") == ["floating.ics"]
    assert names_in_range(s, cal, "20240110T090000Z", "20240110T093000Z") == []
    # Set and removed again on a default folder.
    assert proppatch(s, cal, timezone_prop(vcalendar(NEW_YORK))).status_code == 207
    assert names_in_range(s, cal, "20240110T140000Z", "20240110T143000Z") == ["floating.ics"]
    body = ('<D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            '<D:remove><D:prop><C:calendar-timezone/></D:prop></D:remove></D:propertyupdate>')
    r = s.request("PROPPATCH", cal, data=body.encode(), timeout=10,
                  headers={"Content-Type": "application/xml"})
    assert r.status_code == 207, r.text
    assert "TZID:Europe/Berlin" in prop_text(s, cal, "C:calendar-timezone")
