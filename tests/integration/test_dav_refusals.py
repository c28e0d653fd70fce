"""Refusals over DAV against a real oxd, for calendars, address books and
files alike:

- malformed bodies (XML that is truncated, declares a DOCTYPE or
  entities, has the wrong root or namespace, is not UTF-8 or not XML at
  all; iCalendar and vCard that break RFC 4791 5.3.2.1 / RFC 6352
  6.3.2.1; a wrong Content-Type) get the status and precondition element
  their RFC names, and leave the collection as it was: its depth-1
  PROPFIND (every member's ETag, the ctag, the sync-token, locks) is the
  same before and after;
- every method refused for want of a right is 403 with
  DAV:need-privileges naming the resource and the privilege (RFC 3744
  7.1.1), or 404 (409 where a name would be made in it) when the
  resource is hidden from the user, and changes nothing.

One server serves the module. Alice owns a calendar, an address book and
a files folder; with oxctl (as an administrator would) she shares each
with bob as viewer, carol as editor and erin as "see only" (1/0/0/0/0,
free/busy on the calendar); dave has no share. The table in
docs/internals/dav.md ("What the tests prove") maps each method and
provider to the test that proves it, here or in the other DAV tests.
"""
import json
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import unquote

import pytest

from conftest import FAST_HASH, module_oxd, run_oxctl as oxctl
from davhelp import ALICE, BOB, XML, create_users, session

CAROL = "carol@example.org"
DAVE = "dave@example.org"
ERIN = "erin@example.org"
ROLES = {"owner": ALICE, "none": DAVE, "viewer": BOB, "editor": CAROL, "see": ERIN}

DAV = "DAV:"
CALDAV = "urn:ietf:params:xml:ns:caldav"
CARDDAV = "urn:ietf:params:xml:ns:carddav"
NS = {"D": DAV, "C": CALDAV, "CR": CARDDAV, "CS": "http://calendarserver.org/ns/",
      "X": "urn:x-test"}

PROVIDERS = ("calendar", "addressbook", "files")
HOME = {"calendar": f"/dav/calendars/{ALICE}/", "addressbook": f"/dav/addressbooks/{ALICE}/",
        "files": f"/dav/files/{ALICE}/"}
EXT = {"calendar": ".ics", "addressbook": ".vcf", "files": ".txt"}
CONTENT_TYPE = {"calendar": "text/calendar; charset=utf-8",
                "addressbook": "text/vcard; charset=utf-8", "files": "text/plain"}


def own_collection(provider, login):
    """The requester's own default collection of a provider."""
    return {"calendar": f"/dav/calendars/{login}/calendar/",
            "addressbook": f"/dav/addressbooks/{login}/contacts/",
            "files": f"/dav/files/{login}/Documents/"}[provider]


def unique(prefix="x"):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# --- bodies ---

def vcalendar(*components):
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//OX Server tests//EN\r\n"
            + "".join(components) + "END:VCALENDAR\r\n")


def vevent(uid, start="20300105T100000Z", end="20300105T110000Z", extra=""):
    return (f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20300101T000000Z\r\nDTSTART:{start}\r\n"
            f"DTEND:{end}\r\nSUMMARY:Review\r\n{extra}END:VEVENT\r\n")


def vtodo(uid):
    return f"BEGIN:VTODO\r\nUID:{uid}\r\nDTSTAMP:20300101T000000Z\r\nSUMMARY:Chore\r\nEND:VTODO\r\n"


def vcard(uid, version="3.0", fn="Jane Doe", n="Doe;Jane;;;", extra=""):
    lines = ["BEGIN:VCARD", f"VERSION:{version}" if version else None, f"UID:{uid}",
             f"FN:{fn}" if fn else None, f"N:{n}" if n else None]
    return "\r\n".join([x for x in lines if x is not None]) + "\r\n" + extra + "END:VCARD\r\n"


def content(provider, uid):
    if provider == "calendar":
        return vcalendar(vevent(uid)).encode()
    if provider == "addressbook":
        return vcard(uid).encode()
    return f"the document {uid}\n".encode()


# --- the server ---

def request(server, method, path, login=ALICE, **kw):
    return session(login).request(method, server.url(path), timeout=30, **kw)


class Space:
    """The running server and alice's shared collections."""

    def __init__(self, server):
        self.server = server
        self.coll = {"calendar": HOME["calendar"] + "shared-cal/",
                     "addressbook": HOME["addressbook"] + "shared-book/",
                     "files": HOME["files"] + "Shared/"}

    def url(self, path):
        return self.server.url(path)

    def seed(self, provider):
        return self.coll[provider] + "seed" + EXT[provider]

    def put(self, provider, path, uid, login=ALICE):
        r = request(self.server, "PUT", path, login, data=content(provider, uid),
                    headers={"Content-Type": CONTENT_TYPE[provider]})
        assert r.status_code in (201, 204), r.text
        return r


@pytest.fixture(scope="module")
def dav():
    with module_oxd("oxd-refusals-", *FAST_HASH) as server:
        oxctl(server, "context", "create", "acme", "--domain", "example.org")
        create_users(server, [(login, login.split("@")[0].title()) for login in ROLES.values()])
        space = Space(server)
        body = ('<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set>'
                '<D:prop><D:displayname>Shared calendar</D:displayname></D:prop></D:set>'
                '</C:mkcalendar>')
        r = request(server, "MKCALENDAR", space.coll["calendar"], data=body, headers=XML)
        assert r.status_code == 201, r.text
        body = ('<D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:set>'
                '<D:prop><D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>'
                '<D:displayname>Shared book</D:displayname></D:prop></D:set></D:mkcol>')
        r = request(server, "MKCOL", space.coll["addressbook"], data=body, headers=XML)
        assert r.status_code == 201, r.text
        assert request(server, "MKCOL", space.coll["files"]).status_code == 201
        folders = json.loads(oxctl(server, "folder", "list", ALICE, "--json"))
        ids = {f["name"]: str(f["id"]) for f in folders}
        for name in ("Shared calendar", "Shared book", "Shared"):
            for login, rights in ((BOB, "viewer"), (CAROL, "editor"), (ERIN, "1/0/0/0/0")):
                oxctl(server, "folder", "share", ALICE, ids[name], f"user:{login}", rights)
        for provider in PROVIDERS:
            space.put(provider, space.seed(provider), "seed@example.org")
        yield space


SNAPSHOT_BODY = (
    '<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/" xmlns:X="urn:x-test">'
    "<D:prop><D:getetag/><D:getcontentlength/><D:displayname/><D:resourcetype/><CS:getctag/>"
    "<D:sync-token/><D:lockdiscovery/><X:colour/></D:prop></D:propfind>")


def snapshot(server, path, login=ALICE):
    """A collection as its owner's client sees it: for itself and each
    member, the properties found (ETag, length, name, type, ctag,
    sync-token, a dead property) and how many locks cover it."""
    r = request(server, "PROPFIND", path, login, data=SNAPSHOT_BODY,
                headers={**XML, "Depth": "1"})
    assert r.status_code == 207, r.text
    out = {}
    for resp in ET.fromstring(r.content).findall("D:response", NS):
        props = {}
        for ps in resp.findall("D:propstat", NS):
            if " 200 " not in ps.find("D:status", NS).text:
                continue
            for p in ps.find("D:prop", NS):
                if p.tag == "{DAV:}lockdiscovery":
                    props[p.tag] = len(p.findall("D:activelock", NS))
                else:
                    props[p.tag] = ET.tostring(p, encoding="unicode")
        out[unquote(resp.find("D:href", NS).text)] = props
    return out


def condition(r):
    """(namespace, name) of each element inside a DAV:error body."""
    assert r.headers.get("Content-Type", "").startswith("application/xml"), r.text
    root = ET.fromstring(r.content)
    assert root.tag == "{DAV:}error", r.text
    return [tuple(child.tag[1:].split("}")) for child in root]


def needed(r):
    """The (href, privilege) pairs of a DAV:need-privileges answer."""
    root = ET.fromstring(r.content)
    assert root.tag == "{DAV:}error", r.text
    out = []
    for res in root.findall("D:need-privileges/D:resource", NS):
        privilege = res.find("D:privilege", NS)
        assert privilege is not None and len(privilege) == 1, r.text
        out.append((unquote(res.find("D:href", NS).text), privilege[0].tag))
    return out


# --- (a) malformed XML bodies ---

# Each request body with a slot for text, and the namespace declaration of
# its root element (to replace or remove).
XML_BODIES = {
    "PROPFIND": ('<D:propfind xmlns:D="DAV:"><D:prop><D:displayname/><D:getetag/></D:prop>'
                 "<D:include>{text}</D:include></D:propfind>", 'xmlns:D="DAV:"'),
    "PROPPATCH": ('<D:propertyupdate xmlns:D="DAV:" xmlns:X="urn:x-test"><D:set><D:prop>'
                  "<X:colour>{text}</X:colour></D:prop></D:set></D:propertyupdate>",
                  'xmlns:D="DAV:"'),
    "REPORT": ('<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level>'
               "<D:prop><D:getetag/></D:prop><D:limit>{text}</D:limit></D:sync-collection>",
               'xmlns:D="DAV:"'),
    "LOCK": ('<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>'
             "<D:locktype><D:write/></D:locktype><D:owner>{text}</D:owner></D:lockinfo>",
             'xmlns:D="DAV:"'),
    "ACL": ('<D:acl xmlns:D="DAV:"><D:ace><D:principal><D:href>/dav/principals/'
            f"{BOB}/</D:href></D:principal><D:grant><D:privilege><D:read/></D:privilege>"
            "</D:grant><D:protected>{text}</D:protected></D:ace></D:acl>", 'xmlns:D="DAV:"'),
    "MKCOL": ('<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" '
              'xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype>'
              "<D:collection/>{type}</D:resourcetype><D:displayname>{text}</D:displayname>"
              "</D:prop></D:set></D:mkcol>", 'xmlns:D="DAV:"'),
    "MKCALENDAR": ('<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
                   "<D:set><D:prop><D:displayname>{text}</D:displayname></D:prop></D:set>"
                   "</C:mkcalendar>", 'xmlns:C="urn:ietf:params:xml:ns:caldav"'),
}
MKCOL_TYPE = {"calendar": "<C:calendar/>", "addressbook": "<CR:addressbook/>", "files": ""}
DOCTYPE_XXE = ('<?xml version="1.0" encoding="utf-8"?>\n'
               '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n')
DOCTYPE_LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "aaaaaaaaaaaaaaaa">'
                  '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                  '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n')


def xml_body(method, provider, kind):
    template, root_ns = XML_BODIES[method]

    def fill(text):
        return template.replace("{type}", MKCOL_TYPE[provider]).replace("{text}", text)

    if kind == "truncated":
        whole = fill("x")
        return whole[:len(whole) // 2].encode()
    if kind == "doctype-xxe":
        return (DOCTYPE_XXE + fill("&xxe;")).encode()
    if kind == "entity-expansion":
        return (DOCTYPE_LAUGHS + fill("&c;")).encode()
    if kind == "wrong-root":
        return b'<D:multistatus xmlns:D="DAV:"><D:response/></D:multistatus>'
    if kind == "wrong-namespace":
        return fill("x").replace(root_ns, root_ns.split("=")[0] + '="urn:not-dav"').encode()
    if kind == "unbound-prefix":
        return fill("x").replace(" " + root_ns, "").encode()
    if kind == "not-utf8":
        return fill("caf\u00e9 cr\u00e8me").encode("latin-1")
    if kind == "garbage":
        return b"\x00\xff\xfe\x80<<garbage>>\x01\x02\x00"
    raise AssertionError(kind)


XML_KINDS = ("truncated", "doctype-xxe", "entity-expansion", "wrong-root", "wrong-namespace",
             "unbound-prefix", "not-utf8", "garbage")
XML_CASES = [(m, p) for m in ("PROPFIND", "PROPPATCH", "REPORT", "LOCK", "ACL", "MKCOL")
             for p in PROVIDERS] + [("MKCALENDAR", "calendar")]


def expected_xml_refusal(method, provider, kind):
    """(status, precondition or None) for a malformed XML body."""
    if method == "MKCOL" and provider == "files":
        return 415, None  # RFC 4918 9.3: files take no MKCOL body at all
    if method == "LOCK" and provider != "files":
        return 405, None  # no locks there: the method is refused before its body
    if method == "REPORT" and kind in ("wrong-root", "wrong-namespace"):
        return 403, (DAV, "supported-report")  # RFC 3253 3.6: well-formed, not offered
    return 400, None  # RFC 4918 8.2: not well-formed, or not the body the method takes


def xml_target(space, method, provider):
    """(request path, collection that must stay unchanged)."""
    if method == "MKCALENDAR" or (method == "MKCOL" and provider != "files"):
        return HOME[provider] + unique("new") + "/", HOME[provider]
    if method == "MKCOL":
        return space.coll[provider] + unique("new") + "/", space.coll[provider]
    return space.coll[provider], space.coll[provider]


@pytest.mark.parametrize("kind", XML_KINDS)
@pytest.mark.parametrize("method,provider", XML_CASES, ids=[f"{m}-{p}" for m, p in XML_CASES])
def test_malformed_xml_body_changes_nothing(dav, method, provider, kind):
    target, watched = xml_target(dav, method, provider)
    before = snapshot(dav.server, watched)
    r = request(dav.server, method, target, data=xml_body(method, provider, kind),
                headers={**XML, "Depth": "0"})
    status, cond = expected_xml_refusal(method, provider, kind)
    assert r.status_code == status, f"{method} {target}: {r.status_code} {r.text}"
    if cond is not None:
        assert cond in condition(r), r.text
    assert "root:" not in r.text and "Lock-Token" not in r.headers
    assert snapshot(dav.server, watched) == before
    if target != watched:
        assert request(dav.server, "PROPFIND", target, headers={"Depth": "0"}).status_code == 404


# --- (a) malformed iCalendar ---

ICAL_CASES = [
    ("no-vcalendar", vevent("a@example.org"), None, 403, "valid-calendar-data"),
    ("two-vcalendars", vcalendar(vevent("a@example.org")) + vcalendar(vevent("b@example.org")),
     None, 403, "valid-calendar-data"),
    ("truncated", vcalendar(vevent("a@example.org"))[:70], None, 403, "valid-calendar-data"),
    ("garbage", b"\x00\xff\xfe\x80 not a calendar \x01", None, 403, "valid-calendar-data"),
    ("not-utf8", vcalendar(vevent("a@example.org", extra="LOCATION:caf\u00e9\r\n")).encode(
        "latin-1"), None, 403, "valid-calendar-data"),
    ("xml", '<?xml version="1.0"?><D:prop xmlns:D="DAV:"/>', None, 403, "valid-calendar-data"),
    ("vcard", vcard("a@example.org"), None, 403, "valid-calendar-data"),
    ("date-not-a-date", vcalendar(vevent("a@example.org", start="tomorrow")), None, 403,
     "valid-calendar-data"),
    ("rrule-malformed", vcalendar(vevent("a@example.org", extra="RRULE:FREQ=SOMETIMES\r\n")),
     None, 403, "valid-calendar-data"),
    pytest.param("date-out-of-range",
                 vcalendar(vevent("a@example.org", start="20301345T990000Z")), None, 403,
                 "valid-calendar-data", id="date-out-of-range"),
    pytest.param("end-before-start",
                 vcalendar(vevent("a@example.org", start="20300105T100000Z",
                                  end="20300104T100000Z")), None, 403,
                 "valid-calendar-object-resource", id="end-before-start"),
    ("two-uids", vcalendar(vevent("a@example.org"), vevent("b@example.org")), None, 403,
     "valid-calendar-object-resource"),
    ("two-masters", vcalendar(vevent("a@example.org"), vevent("a@example.org")), None, 403,
     "valid-calendar-object-resource"),
    ("mixed-components", vcalendar(vevent("a@example.org"), vtodo("a@example.org")), None, 403,
     "valid-calendar-object-resource"),
    ("no-uid", vcalendar(vevent("a@example.org").replace("UID:a@example.org\r\n", "")), None,
     403, "valid-calendar-object-resource"),
    ("no-dtstart", vcalendar(vevent("a@example.org").replace(
        "DTSTART:20300105T100000Z\r\n", "")), None, 403, "valid-calendar-object-resource"),
    ("vjournal", vcalendar(vevent("a@example.org").replace("VEVENT", "VJOURNAL")), None, 403,
     "supported-calendar-component"),
    ("oversized", vcalendar(vevent("a@example.org", extra="DESCRIPTION:" + "x" * (1 << 20)
                                   + "\r\n")), None, 403, "max-resource-size"),
    ("type-xml", vcalendar(vevent("a@example.org")), "application/xml", 415,
     "supported-calendar-data"),
    ("type-vcard", vcalendar(vevent("a@example.org")), "text/vcard", 415,
     "supported-calendar-data"),
    ("type-plain", vcalendar(vevent("a@example.org")), "text/plain", 415,
     "supported-calendar-data"),
]


def with_fresh_uids(body):
    """The body with UIDs of its own, so that a body the server wrongly
    takes cannot collide with another test's."""
    data = body.encode() if isinstance(body, str) else body
    for placeholder in (b"a@example.org", b"b@example.org"):
        data = data.replace(placeholder, (unique() + "@example.org").encode())
    return data


def case_id(case):
    return case.id if hasattr(case, "id") else case[0]


@pytest.mark.parametrize("target", ["new", "existing"])
@pytest.mark.parametrize("name,body,ctype,status,cond", ICAL_CASES,
                         ids=[case_id(c) for c in ICAL_CASES])
def test_malformed_icalendar_changes_nothing(dav, name, body, ctype, status, cond, target):
    coll = dav.coll["calendar"]
    path = coll + unique(name) + ".ics"
    if target == "existing":
        dav.put("calendar", path, unique() + "@example.org")
    before = snapshot(dav.server, coll)
    r = request(dav.server, "PUT", path, data=with_fresh_uids(body),
                headers={"Content-Type": ctype or "text/calendar; charset=utf-8"})
    assert r.status_code == status, r.text
    assert (CALDAV, cond) in condition(r), r.text
    assert "ETag" not in r.headers
    assert snapshot(dav.server, coll) == before


# --- (a) malformed vCards ---

CARD_CASES = [
    ("no-fn", vcard("a@example.org", fn=None), None, 403, "valid-address-data"),
    ("no-version", vcard("a@example.org", version=None), None, 403, "valid-address-data"),
    ("v3-without-n", vcard("a@example.org", n=None), None, 403, "valid-address-data"),
    ("version-2.1", vcard("a@example.org", version="2.1"), None, 403, "valid-address-data"),
    ("no-uid", vcard("a@example.org").replace("UID:a@example.org\r\n", ""), None, 403,
     "valid-address-data"),
    ("two-cards", vcard("a@example.org") + vcard("b@example.org"), None, 403,
     "valid-address-data"),
    ("truncated", vcard("a@example.org").replace("END:VCARD\r\n", ""), None, 403,
     "valid-address-data"),
    ("garbage", b"\x00\xff\xfe\x80 not a card \x01", None, 403, "valid-address-data"),
    ("not-utf8", vcard("a@example.org", fn="Ren\u00e9e").encode("latin-1"), None, 403,
     "valid-address-data"),
    ("icalendar", vcalendar(vevent("a@example.org")), None, 403, "valid-address-data"),
    ("oversized", vcard("a@example.org", extra="NOTE:" + "x" * (1 << 20) + "\r\n"), None, 403,
     "max-resource-size"),
    ("type-calendar", vcard("a@example.org"), "text/calendar", 415, "supported-address-data"),
    ("type-xml", vcard("a@example.org"), "application/xml", 415, "supported-address-data"),
]


@pytest.mark.parametrize("target", ["new", "existing"])
@pytest.mark.parametrize("name,body,ctype,status,cond", CARD_CASES,
                         ids=[c[0] for c in CARD_CASES])
def test_malformed_vcard_changes_nothing(dav, name, body, ctype, status, cond, target):
    coll = dav.coll["addressbook"]
    path = coll + unique(name) + ".vcf"
    if target == "existing":
        dav.put("addressbook", path, unique() + "@example.org")
    before = snapshot(dav.server, coll)
    r = request(dav.server, "PUT", path, data=with_fresh_uids(body),
                headers={"Content-Type": ctype or "text/vcard; charset=utf-8"})
    assert r.status_code == status, r.text
    assert (CARDDAV, cond) in condition(r), r.text
    assert "ETag" not in r.headers
    assert snapshot(dav.server, coll) == before


def test_partial_put_of_a_document_changes_nothing(dav):
    """Files take any bytes; what they refuse is a partial PUT (RFC 9110
    14.5: Content-Range on PUT), before a byte is written."""
    coll = dav.coll["files"]
    before = snapshot(dav.server, coll)
    for path in (dav.seed("files"), coll + unique("part") + ".txt"):
        r = request(dav.server, "PUT", path, data=b"xyz",
                    headers={"Content-Range": "bytes 0-2/10"})
        assert r.status_code == 400, r.text
    assert snapshot(dav.server, coll) == before


# --- (a) the scheduling outbox ---

def freebusy(organizer=ALICE, attendee=BOB):
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//OX Server tests//EN\r\nMETHOD:REQUEST\r\n"
            "BEGIN:VFREEBUSY\r\nUID:fb@example.org\r\nDTSTAMP:20300101T000000Z\r\n"
            "DTSTART:20300105T000000Z\r\nDTEND:20300106T000000Z\r\n"
            f"ORGANIZER:mailto:{organizer}\r\nATTENDEE:mailto:{attendee}\r\n"
            "END:VFREEBUSY\r\nEND:VCALENDAR\r\n")


OUTBOX_CASES = [
    ("garbage", b"\x00\xff\xfe\x80 not a calendar", "text/calendar", 400, "valid-calendar-data"),
    ("xml", b'<?xml version="1.0"?><C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"/>',
     "text/calendar", 400, "valid-calendar-data"),
    ("truncated", freebusy()[:90], "text/calendar", 400, "valid-calendar-data"),
    ("no-vcalendar", freebusy().replace("BEGIN:VCALENDAR\r\n", ""), "text/calendar", 400,
     "valid-calendar-data"),
    ("not-vfreebusy", freebusy().replace("VFREEBUSY", "VEVENT"), "text/calendar", 400,
     "valid-calendar-data"),
    ("type-xml", freebusy(), "application/xml", 415, "supported-calendar-data"),
    ("not-the-organizer", freebusy(organizer=BOB, attendee=CAROL), "text/calendar", 403,
     "organizer-allowed"),
]


@pytest.mark.parametrize("name,body,ctype,status,cond", OUTBOX_CASES,
                         ids=[c[0] for c in OUTBOX_CASES])
def test_refused_outbox_post_changes_nothing(dav, name, body, ctype, status, cond):
    bob_home = f"/dav/calendars/{BOB}/"
    before = snapshot(dav.server, HOME["calendar"]), snapshot(dav.server, bob_home, BOB)
    data = body.encode() if isinstance(body, str) else body
    r = request(dav.server, "POST", HOME["calendar"] + "outbox/", data=data,
                headers={"Content-Type": ctype})
    assert r.status_code == status, r.text
    assert (CALDAV, cond) in condition(r), r.text
    assert (snapshot(dav.server, HOME["calendar"]), snapshot(dav.server, bob_home, BOB)) == before


# --- (a) malformed headers of the bodyless methods ---

HEADER_CASES = [
    ("COPY", "no-destination", {}),
    ("COPY", "overwrite-maybe", {"Destination": "{dst}", "Overwrite": "maybe"}),
    ("COPY", "depth-1", {"Destination": "{dst}", "Depth": "1"}),
    ("MOVE", "no-destination", {}),
    ("MOVE", "depth-0", {"Destination": "{dst}", "Depth": "0"}),
    ("UNLOCK", "no-lock-token", {}),
    ("UNLOCK", "lock-token-unbracketed", {"Lock-Token": "opaquelocktoken:nothing"}),
    ("PROPFIND", "depth-2", {"Depth": "2"}),
]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("method,name,headers", HEADER_CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in HEADER_CASES])
def test_malformed_headers_change_nothing(dav, provider, method, name, headers):
    coll = dav.coll[provider]
    before = snapshot(dav.server, coll)
    dst = dav.url(coll + unique("dst") + EXT[provider])
    headers = {k: v.replace("{dst}", dst) for k, v in headers.items()}
    r = request(dav.server, method, dav.seed(provider), headers=headers)
    # Calendars and address books take no locks: UNLOCK is refused first.
    lockless = method == "UNLOCK" and provider != "files"
    assert r.status_code == (405 if lockless else 400), r.text
    if lockless:
        assert "LOCK" not in r.headers["Allow"], r.headers
    assert snapshot(dav.server, coll) == before


# --- (b) permissions: every method, each role ---

LOCKINFO = ('<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>'
            "<D:locktype><D:write/></D:locktype></D:lockinfo>")
PROPPATCH_NAME = ('<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Taken'
                  "</D:displayname></D:prop></D:set></D:propertyupdate>")
PROPPATCH_DEAD = ('<D:propertyupdate xmlns:D="DAV:" xmlns:X="urn:x-test"><D:set><D:prop>'
                  "<X:colour>red</X:colour></D:prop></D:set></D:propertyupdate>")
SYNC = ('<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level>'
        "<D:prop><D:getetag/></D:prop></D:sync-collection>")
EMPTY_ACL = '<D:acl xmlns:D="DAV:"/>'
MKCOL_BOOK = ('<D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:set><D:prop>'
              "<D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype></D:prop>"
              "</D:set></D:mkcol>")


def need(privilege, on):
    return ("need", privilege, on)


HIDDEN = 404         # what the user may not see is absent
HIDDEN_PARENT = 409  # ... so a name in it has no parent
ALL = PROVIDERS
CAL_BOOK = ("calendar", "addressbook")

# (name, providers, method, path, setup, request kwargs, {role: expected}).
# Paths: {coll} alice's shared collection, {home} her home, {obj} a fresh
# object of hers in it (made by setup "obj"), {mine} a fresh object of the
# requester's in their own collection (setup "mine"), {new} a fresh name
# in {coll}, {theirs} a fresh name in the requester's own collection.
# Expected: a status, (status, condition), or need(privilege,
# resource) for 403 with DAV:need-privileges.
PERMISSIONS = [
    ("GET object", ALL, "GET", "{obj}", "obj", {},
     {"none": HIDDEN, "see": HIDDEN, "viewer": 200}),
    ("HEAD object", ALL, "HEAD", "{obj}", "obj", {}, {"none": HIDDEN, "viewer": 200}),
    ("GET collection", CAL_BOOK, "GET", "{coll}", None, {},
     {"none": HIDDEN, "see": need("read", "{coll}"), "viewer": 200}),
    ("GET collection", ("files",), "GET", "{coll}", None, {}, {"none": HIDDEN, "viewer": 200}),
    ("PROPFIND collection", ALL, "PROPFIND", "{coll}", "obj", {"headers": {"Depth": "1"}},
     {"none": HIDDEN, "viewer": 207}),
    ("REPORT sync-collection", CAL_BOOK, "REPORT", "{coll}", None,
     {"data": SYNC, "headers": XML},
     {"none": HIDDEN, "see": need("read", "{coll}"), "viewer": 207}),
    ("REPORT", ("files",), "REPORT", "{coll}", None, {"data": SYNC, "headers": XML},
     {"none": HIDDEN, "viewer": (403, (DAV, "supported-report"))}),
    ("PUT new", ALL, "PUT", "{new}", None, "content",
     {"none": HIDDEN_PARENT, "see": need("bind", "{coll}"), "viewer": need("bind", "{coll}")}),
    ("PUT over", ALL, "PUT", "{obj}", "obj", "content",
     {"none": HIDDEN_PARENT, "viewer": need("write-content", "{obj}")}),
    ("DELETE object", ALL, "DELETE", "{obj}", "obj", {},
     {"none": HIDDEN, "see": HIDDEN, "viewer": need("unbind", "{coll}")}),
    ("PROPPATCH object", ALL, "PROPPATCH", "{obj}", "obj",
     {"data": PROPPATCH_DEAD, "headers": XML},
     {"none": HIDDEN, "viewer": need("write-properties", "{obj}")}),
    ("PROPPATCH collection", CAL_BOOK, "PROPPATCH", "{coll}", None,
     {"data": PROPPATCH_NAME, "headers": XML},
     {"none": HIDDEN, "viewer": need("write-properties", "{coll}"),
      "editor": need("write-properties", "{coll}")}),
    ("PROPPATCH collection", ("files",), "PROPPATCH", "{coll}", None,
     {"data": PROPPATCH_DEAD, "headers": XML},
     {"none": HIDDEN, "viewer": need("write-properties", "{coll}"),
      "editor": need("write-properties", "{coll}")}),
    ("MKCOL member", ("files",), "MKCOL", "{coll}{n}/", None, {},
     {"none": HIDDEN_PARENT, "viewer": need("bind", "{coll}")}),
    ("MKCOL in home", ("addressbook",), "MKCOL", "{home}{n}/", None,
     {"data": MKCOL_BOOK, "headers": XML},
     {"none": need("bind", "{home}"), "viewer": need("bind", "{home}"),
      "editor": need("bind", "{home}")}),
    ("MKCOL in home", ("files",), "MKCOL", "{home}{n}/", None, {},
     {"none": need("bind", "{home}"), "viewer": need("bind", "{home}"),
      "editor": need("bind", "{home}")}),
    ("MKCALENDAR in home", ("calendar",), "MKCALENDAR", "{home}{n}/", None, {},
     {role: (403, (CALDAV, "calendar-collection-location-ok"))
      for role in ("none", "viewer", "editor")}),
    ("COPY into", ALL, "COPY", "{mine}", "mine", {"headers": {"Destination": "{new}"}},
     {"none": HIDDEN_PARENT, "viewer": need("bind", "{coll}")}),
    ("COPY out of", ALL, "COPY", "{obj}", "obj", {"headers": {"Destination": "{theirs}"}},
     {"none": HIDDEN, "see": HIDDEN, "viewer": 201}),
    ("MOVE out of", ALL, "MOVE", "{obj}", "obj", {"headers": {"Destination": "{theirs}"}},
     {"none": HIDDEN, "viewer": need("unbind", "{coll}")}),
    ("LOCK object", ("files",), "LOCK", "{obj}", "obj", {"data": LOCKINFO, "headers": XML},
     {"none": HIDDEN_PARENT, "viewer": need("write-content", "{obj}")}),
    ("LOCK new name", ("files",), "LOCK", "{new}", None, {"data": LOCKINFO, "headers": XML},
     {"none": HIDDEN_PARENT, "viewer": need("bind", "{coll}")}),
    # Calendars and address books take no locks, whoever asks (RFC 9110
    # 15.5.6: 405 for a method the resource does not support).
    ("LOCK object", CAL_BOOK, "LOCK", "{obj}", "obj", {"data": LOCKINFO, "headers": XML},
     {"none": 405, "viewer": 405, "owner": 405}),
    ("UNLOCK another's lock", ("files",), "UNLOCK", "{obj}", "lock", {},
     {"none": HIDDEN, "viewer": need("unlock", "{obj}"), "editor": need("unlock", "{obj}")}),
    ("UNLOCK", CAL_BOOK, "UNLOCK", "{obj}", "obj",
     {"headers": {"Lock-Token": "<opaquelocktoken:00000000-0000-0000-0000-000000000000>"}},
     {"none": 405, "viewer": 405}),
    ("ACL", ALL, "ACL", "{coll}", None, {"data": EMPTY_ACL, "headers": XML},
     {"none": HIDDEN, "viewer": need("write-acl", "{coll}"),
      "editor": need("write-acl", "{coll}")}),
    ("DELETE collection", ALL, "DELETE", "{coll}", None, {},
     {"none": HIDDEN, "viewer": need("unbind", "{home}"), "editor": need("unbind", "{home}")}),
]
PERMISSION_CASES = [(row, provider, role) for row in PERMISSIONS for provider in row[1]
                    for role in row[6]]


def permission_id(case):
    row, provider, role = case
    return f"{row[0]}-{provider}-{role}".replace(" ", "_").replace("'", "")


@pytest.mark.parametrize("row,provider,role", PERMISSION_CASES,
                         ids=[permission_id(c) for c in PERMISSION_CASES])
def test_permission_per_method(dav, row, provider, role):
    _, _, method, path, setup, kwargs, expected = row
    login = ROLES[role]
    n = unique("p")
    ext = EXT[provider]
    names = {"coll": dav.coll[provider], "home": HOME[provider], "n": n,
             "obj": dav.coll[provider] + n + ext, "new": dav.coll[provider] + n + "-new" + ext,
             "mine": own_collection(provider, login) + n + ext,
             "theirs": own_collection(provider, login) + n + "-out" + ext}

    def fill(value):
        if isinstance(value, str):
            for key, text in names.items():
                value = value.replace("{" + key + "}", text)
            return value
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    token = None
    if setup in ("obj", "lock"):
        dav.put(provider, names["obj"], n + "@example.org")
    if setup == "lock":
        r = request(dav.server, "LOCK", names["obj"], data=LOCKINFO,
                    headers={**XML, "Timeout": "Second-600"})
        assert r.status_code == 200, r.text
        token = r.headers["Lock-Token"]
        kwargs = {"headers": {"Lock-Token": token}}
    if setup == "mine":
        dav.put(provider, names["mine"], n + "@example.org", login=login)
    if kwargs == "content":
        kwargs = {"data": content(provider, n + "@example.org"),
                  "headers": {"Content-Type": CONTENT_TYPE[provider]}}
    kwargs = fill(kwargs)
    if "Destination" in kwargs.get("headers", {}):
        kwargs["headers"]["Destination"] = dav.url(kwargs["headers"]["Destination"])
    watched = [dav.coll[provider], HOME[provider]]
    before = [snapshot(dav.server, w) for w in watched]
    try:
        r = request(dav.server, method, fill(path), login, **kwargs)
        check_answer(r, expected[role], fill, n, f"{method} {fill(path)} as {role}")
        if r.status_code >= 400:
            assert [snapshot(dav.server, w) for w in watched] == before
            if method in ("PUT", "MKCOL", "MKCALENDAR", "LOCK") and setup is None:
                assert request(dav.server, "PROPFIND", fill(path),
                               headers={"Depth": "0"}).status_code == 404
    finally:
        if token is not None:
            r = request(dav.server, "UNLOCK", names["obj"], headers={"Lock-Token": token})
            assert r.status_code == 204, r.text


def check_answer(r, want, fill, n, what):
    """r is what `want` says: a status, (status, condition), or need(...)
    with the resource's path filled in; a hidden resource's answer names
    nothing (n: the test's fresh name)."""
    what = f"{what}: {r.status_code} {r.text}"
    if isinstance(want, tuple) and want[0] == "need":
        assert r.status_code == 403, what
        assert (fill(want[2]), "{DAV:}" + want[1]) in needed(r), what
    elif isinstance(want, tuple):
        assert r.status_code == want[0], what
        assert want[1] in condition(r), what
    else:
        assert r.status_code == want, what
        if want in (HIDDEN, HIDDEN_PARENT):
            # Nothing about what is there: no privileges named, no object.
            assert "need-privileges" not in r.text and n not in r.text, what


def test_options_reveal_nothing(dav):
    """OPTIONS answers the same on a hidden collection as on a name that
    does not exist (RFC 4918 9.1 asks nothing of the resource)."""
    for provider in PROVIDERS:
        hidden = request(dav.server, "OPTIONS", dav.coll[provider], DAVE)
        missing = request(dav.server, "OPTIONS", HOME[provider] + unique("nothing") + "/", DAVE)
        assert hidden.status_code == missing.status_code == 200
        for header in ("DAV", "Allow"):
            assert hidden.headers[header] == missing.headers[header]


def test_outbox_of_another_user_is_not_there(dav):
    """Only the owner posts to an outbox; for anyone else it answers as
    any other name in the home does, so it is neither there nor writable."""
    for login in (DAVE, BOB):
        before = snapshot(dav.server, HOME["calendar"])
        r = request(dav.server, "POST", HOME["calendar"] + "outbox/", login, data=freebusy(),
                    headers={"Content-Type": "text/calendar"})
        other = request(dav.server, "POST", HOME["calendar"] + unique("nothing") + "/", login,
                        data=freebusy(), headers={"Content-Type": "text/calendar"})
        assert r.status_code == other.status_code == 405
        assert r.headers["Allow"] == other.headers["Allow"]
        assert snapshot(dav.server, HOME["calendar"]) == before


GAB = f"/dav/addressbooks/{ALICE}/gab/"
GAB_CASES = [
    ("PUT new", "PUT", GAB + "new.vcf", "content", need("bind", GAB)),
    ("PUT over", "PUT", GAB + f"{BOB}.vcf", "content", need("write-content", GAB + f"{BOB}.vcf")),
    ("DELETE", "DELETE", GAB + f"{BOB}.vcf", {}, need("unbind", GAB)),
    ("PROPPATCH", "PROPPATCH", GAB, {"data": PROPPATCH_NAME, "headers": XML},
     need("write-properties", GAB)),
    ("MOVE out", "MOVE", GAB + f"{BOB}.vcf",
     {"headers": {"Destination": "{own}moved-bob.vcf"}}, need("unbind", GAB)),
    ("COPY in", "COPY", "{own}gab-src.vcf", {"headers": {"Destination": GAB + "copied.vcf"}},
     need("bind", GAB)),
    ("ACL", "ACL", GAB, {"data": EMPTY_ACL, "headers": XML}, 403),
]


@pytest.mark.parametrize("name,method,path,kwargs,want", GAB_CASES,
                         ids=[c[0] for c in GAB_CASES])
def test_global_address_book_is_read_only_for_its_owner_too(dav, name, method, path, kwargs,
                                                           want):
    own = own_collection("addressbook", ALICE)
    if name == "COPY in":
        dav.put("addressbook", own + "gab-src.vcf", unique() + "@example.org")
    if kwargs == "content":
        kwargs = {"data": content("addressbook", unique() + "@example.org"),
                  "headers": {"Content-Type": CONTENT_TYPE["addressbook"]}}
    headers = {k: dav.url(v.replace("{own}", own)) if k == "Destination" else v
               for k, v in kwargs.get("headers", {}).items()}
    kwargs = {**kwargs, "headers": headers}
    before = snapshot(dav.server, GAB), snapshot(dav.server, own)
    r = request(dav.server, method, path.replace("{own}", own), **kwargs)
    # The global book has no folder, so no ACL to change (dav.md): 403.
    check_answer(r, want, str, unique(), f"{method} {path} as its owner")
    assert (snapshot(dav.server, GAB), snapshot(dav.server, own)) == before
