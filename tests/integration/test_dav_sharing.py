"""Sharing through WebDAV access control (RFC 3744) against a real oxd:
the ACL method on calendars, address books and files folders (for users
and groups, read-only, read-write, revoked), what every method does for a
user without a share, a viewer and an editor, the ACL properties
(DAV:owner, DAV:acl, DAV:current-user-privilege-set ...), the refusals
with their RFC 3744 8.1.3 preconditions, and principal searches for users
and for groups as calendar users (found, then invited).

Calendars are read and written with Debian's python3-caldav as a client
would; ACL bodies and the other requests are raw XML over requests.

One server serves the whole module (users are made once); every test
works on folders of its own.
"""
import uuid
import xml.etree.ElementTree as ET

import pytest

from conftest import FAST_HASH, module_oxd, run_oxctl as oxctl
from davhelp import ALICE, BOB, XML, caldav_client as client, create_users, session

caldav = pytest.importorskip("caldav")

CAROL = "carol@example.org"
DAVE = "dave@example.org"
EVE = "eve@other.org"
NS = {"D": "DAV:", "C": "urn:ietf:params:xml:ns:caldav",
      "CR": "urn:ietf:params:xml:ns:carddav", "CS": "http://calendarserver.org/ns/"}


@pytest.fixture(scope="module")
def dav():
    with module_oxd("oxd-sharing-", *FAST_HASH) as server:
        oxctl(server, "context", "create", "acme", "--domain", "example.org")
        oxctl(server, "context", "create", "other", "--domain", "other.org")
        create_users(server, [(ALICE, "Alice Liddell"), (BOB, "Bob Builder"),
                              (CAROL, "Carol Singer"), (DAVE, "Dave Nobody"),
                              (EVE, "Eve Outsider")])
        oxctl(server, "user", "alias", "add", BOB, "builder@example.org")
        oxctl(server, "group", "create", "acme", "team")
        oxctl(server, "group", "add", "acme", "team", CAROL)
        yield server


def request(server, method, path, login=ALICE, **kw):
    return session(login).request(method, server.url(path), timeout=10, **kw)


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def principal(login):
    return f"/dav/principals/{login}/"


def acl_body(*aces, raw=""):
    """aces: (principal href, [privilege elements]) pairs."""
    out = ['<?xml version="1.0" encoding="utf-8"?>'
           '<D:acl xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">']
    for href, privileges in aces:
        out.append(f"<D:ace><D:principal><D:href>{href}</D:href></D:principal><D:grant>")
        out += [f"<D:privilege><{p}/></D:privilege>" for p in privileges]
        out.append("</D:grant></D:ace>")
    out.append(raw + "</D:acl>")
    return "".join(out)


def set_acl(server, path, *aces, login=ALICE, raw=""):
    return request(server, "ACL", path, login, data=acl_body(*aces, raw=raw), headers=XML)


READ = ["D:read"]
READ_WRITE = ["D:read", "D:write"]


def share(server, path, login, privileges):
    r = set_acl(server, path, (principal(login), privileges))
    assert r.status_code == 200, r.text
    return r


def propfind(server, path, props, login=ALICE, depth="0"):
    body = ('<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" '
            'xmlns:C="urn:ietf:params:xml:ns:caldav" '
            'xmlns:CR="urn:ietf:params:xml:ns:carddav" '
            'xmlns:CS="http://calendarserver.org/ns/"><D:prop>'
            + "".join(f"<{p}/>" for p in props) + "</D:prop></D:propfind>")
    return request(server, "PROPFIND", path, login, data=body,
                   headers={**XML, "Depth": depth})


def prop_status(text, name):
    """The status of the propstat that holds property `name` ("D:acl")."""
    for ps in ET.fromstring(text).iter("{DAV:}propstat"):
        if ps.find(f"D:prop/{name}", NS) is not None:
            return int(ps.find("D:status", NS).text.split()[1])
    return None


def privileges_of(element):
    return {p[0].tag.split("}")[1] for p in element.findall("D:privilege", NS)}


def my_privileges(server, path, login):
    r = propfind(server, path, ["D:current-user-privilege-set"], login)
    assert r.status_code == 207, r.text
    return privileges_of(ET.fromstring(r.text).find(".//D:current-user-privilege-set", NS))


# --- calendars ---

LUNCH = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//OX Server tests//EN
BEGIN:VEVENT
UID:{uid}
DTSTAMP:20240101T000000Z
DTSTART:20240215T120000Z
DTEND:20240215T130000Z
SUMMARY:{summary}
END:VEVENT
END:VCALENDAR
"""


def event(uid, summary="Lunch"):
    return LUNCH.format(uid=uid, summary=summary)


def new_calendar(server, name):
    segment = unique("cal")
    cal = client(server).principal().make_calendar(name=name, cal_id=segment)
    return cal, f"/dav/calendars/{ALICE}/{segment}/"


def calendar_named(server, login, name):
    found = [c for c in client(server, login).principal().calendars() if c.name == name]
    assert len(found) <= 1
    return found[0] if found else None


def uids(cal):
    return sorted(str(e.icalendar_component["uid"]) for e in cal.events())


def test_options_advertise_access_control(dav):
    r = request(dav, "OPTIONS", f"/dav/calendars/{ALICE}/")
    assert "access-control" in [t.strip() for t in r.headers["DAV"].split(",")]
    assert "ACL" in [m.strip() for m in r.headers["Allow"].split(",")]


def test_calendar_shared_read_only_then_read_write_then_revoked(dav):
    name = unique("Shared")
    cal, path = new_calendar(dav, name)
    cal.save_event(event("lunch-1@example.org"))
    assert calendar_named(dav, BOB, name) is None

    share(dav, path, BOB, READ)
    mine = calendar_named(dav, BOB, name)
    assert mine is not None, "the shared calendar is in bob's calendar home"
    assert uids(mine) == ["lunch-1@example.org"]
    assert my_privileges(dav, str(mine.url.path), BOB) >= {"read"}
    assert "write-content" not in my_privileges(dav, str(mine.url.path), BOB)

    # A viewer changes nothing: PUT, DELETE and PROPPATCH are 403.
    bob = session(BOB)
    new = str(mine.url.join("intruder.ics"))
    assert bob.put(new, data=event("intruder@example.org"), timeout=10,
                   headers={"Content-Type": "text/calendar"}).status_code == 403
    old = str(mine.url.join("lunch-1@example.org.ics"))
    assert bob.delete(old, timeout=10).status_code == 403
    rename = ('<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Mine'
              '</D:displayname></D:prop></D:set></D:propertyupdate>')
    r = bob.request("PROPPATCH", str(mine.url), data=rename, headers=XML, timeout=10)
    assert r.status_code == 403
    assert uids(cal) == ["lunch-1@example.org"]
    assert calendar_named(dav, ALICE, name) is not None

    # Read-write: bob's event lands in alice's calendar.
    share(dav, path, BOB, READ_WRITE)
    mine = calendar_named(dav, BOB, name)
    assert "write-content" in my_privileges(dav, str(mine.url.path), BOB)
    mine.save_event(event("from-bob@example.org", "Bob's idea"))
    assert uids(cal) == ["from-bob@example.org", "lunch-1@example.org"]

    # Revoked: gone from bob's home, and its events with it.
    r = set_acl(dav, path)
    assert r.status_code == 200
    assert calendar_named(dav, BOB, name) is None
    assert session(BOB).get(old, timeout=10).status_code == 404


# --- address books ---

JANE = ("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:jane-1@example.org\r\nFN:Jane Doe\r\n"
        "N:Doe;Jane;;;\r\nEMAIL:jane@example.com\r\nEND:VCARD\r\n")
JOHN = ("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:john-1@example.org\r\nFN:John Doe\r\n"
        "N:Doe;John;;;\r\nEND:VCARD\r\n")
VCARD = {"Content-Type": "text/vcard; charset=utf-8"}


def make_book(server, display):
    segment = unique("book")
    body = ('<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:" '
            'xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype>'
            '<D:collection/><CR:addressbook/></D:resourcetype>'
            f'<D:displayname>{display}</D:displayname></D:prop></D:set></D:mkcol>')
    path = f"/dav/addressbooks/{ALICE}/{segment}/"
    r = request(server, "MKCOL", path, data=body, headers=XML)
    assert r.status_code == 201, r.text
    return path


def books_of(server, login):
    """display name -> href of the address books in login's home."""
    r = propfind(server, f"/dav/addressbooks/{login}/", ["D:displayname", "D:resourcetype"],
                 login, depth="1")
    assert r.status_code == 207
    out = {}
    for resp in ET.fromstring(r.text).findall("D:response", NS):
        if resp.find(".//D:resourcetype/CR:addressbook", NS) is not None:
            out[resp.find(".//D:displayname", NS).text] = resp.find("D:href", NS).text
    return out


def test_address_book_shared_read_only_then_read_write(dav):
    name = unique("Suppliers")
    path = make_book(dav, name)
    assert request(dav, "PUT", path + "jane.vcf", data=JANE, headers=VCARD).status_code == 201
    assert name not in books_of(dav, BOB)

    share(dav, path, BOB, READ)
    href = books_of(dav, BOB)[name]
    r = request(dav, "GET", href + "jane.vcf", BOB)
    assert r.status_code == 200 and "Jane Doe" in r.text
    assert request(dav, "PUT", href + "john.vcf", BOB, data=JOHN,
                   headers=VCARD).status_code == 403
    assert request(dav, "DELETE", href + "jane.vcf", BOB).status_code == 403
    assert request(dav, "GET", path + "john.vcf").status_code == 404

    share(dav, path, BOB, READ_WRITE)
    assert request(dav, "PUT", href + "john.vcf", BOB, data=JOHN,
                   headers=VCARD).status_code == 201
    r = request(dav, "GET", path + "john.vcf")
    assert r.status_code == 200 and "John Doe" in r.text

    assert set_acl(dav, path).status_code == 200
    assert name not in books_of(dav, BOB)


# --- files ---

def make_folder(server, owner=ALICE):
    name = unique("Project")
    path = f"/dav/files/{owner}/{name}/"
    assert request(server, "MKCOL", path, owner).status_code == 201
    return path


def test_files_folder_shared_read_only_then_read_write(dav):
    path = make_folder(dav)
    assert request(dav, "PUT", path + "plan.txt", data=b"v1").status_code == 201
    assert request(dav, "GET", path + "plan.txt", BOB).status_code == 404

    share(dav, path, BOB, READ)
    r = request(dav, "GET", path + "plan.txt", BOB)
    assert r.status_code == 200 and r.content == b"v1"
    assert request(dav, "PUT", path + "plan.txt", BOB, data=b"bob").status_code == 403
    assert request(dav, "GET", path + "plan.txt").content == b"v1"

    share(dav, path, BOB, READ_WRITE)
    assert request(dav, "PUT", path + "plan.txt", BOB, data=b"v2").status_code == 204
    assert request(dav, "PUT", path + "notes.txt", BOB, data=b"bob's").status_code == 201
    assert request(dav, "GET", path + "plan.txt").content == b"v2"
    assert request(dav, "GET", path + "notes.txt").content == b"bob's"

    assert set_acl(dav, path).status_code == 200
    assert request(dav, "GET", path + "plan.txt", BOB).status_code == 404


def test_group_share_reaches_its_members_only(dav):
    path = make_folder(dav)
    assert request(dav, "PUT", path + "team.txt", data=b"for the team").status_code == 201
    r = set_acl(dav, path, ("/dav/principals/groups/team/", READ))
    assert r.status_code == 200, r.text
    assert request(dav, "GET", path + "team.txt", CAROL).content == b"for the team"
    assert request(dav, "GET", path + "team.txt", BOB).status_code == 404
    assert my_privileges(dav, path, CAROL) >= {"read"}

    # The ACL names the group principal, which knows its members.
    r = propfind(dav, path, ["D:acl"])
    hrefs = [h.text for h in ET.fromstring(r.text).findall(".//D:ace/D:principal/D:href", NS)]
    assert "/dav/principals/groups/team/" in hrefs
    r = propfind(dav, "/dav/principals/groups/team/",
                 ["D:displayname", "D:group-member-set", "D:resourcetype"], BOB)
    assert r.status_code == 207
    members = [h.text for h in ET.fromstring(r.text).findall(".//D:group-member-set/D:href",
                                                             NS)]
    assert members == [principal(CAROL)]
    assert ET.fromstring(r.text).find(".//D:resourcetype/D:principal", NS) is not None
    r = propfind(dav, principal(CAROL), ["D:group-membership"], CAROL)
    assert [h.text for h in ET.fromstring(r.text).findall(".//D:group-membership/D:href", NS)] \
        == ["/dav/principals/groups/team/"]


# --- the properties ---

def test_acl_properties(dav):
    cal, path = new_calendar(dav, unique("Props"))
    cal.save_event(event("props-1@example.org"))
    share(dav, path, BOB, READ)
    props = ["D:owner", "D:current-user-privilege-set", "D:supported-privilege-set",
             "D:acl", "D:acl-restrictions", "D:inherited-acl-set",
             "D:principal-collection-set"]

    r = propfind(dav, path, props)
    assert r.status_code == 207
    root = ET.fromstring(r.text)
    assert root.find(".//D:owner/D:href", NS).text == principal(ALICE)
    mine = privileges_of(root.find(".//D:current-user-privilege-set", NS))
    assert {"all", "read", "write", "write-acl", "read-acl", "read-free-busy"} <= mine
    supported = root.find(".//D:supported-privilege-set", NS)
    top = supported.find("D:supported-privilege", NS)
    assert top.find("D:privilege/D:all", NS) is not None
    assert top.find("D:supported-privilege/D:privilege/D:read", NS) is not None
    assert root.find(".//D:acl-restrictions/D:grant-only", NS) is not None
    assert root.find(".//D:acl-restrictions/D:no-invert", NS) is not None
    assert root.find(".//D:inherited-acl-set", NS) is not None
    assert root.find(".//D:inherited-acl-set/D:href", NS) is None
    assert root.find(".//D:principal-collection-set/D:href", NS).text == "/dav/principals/"
    aces = {a.find("D:principal/D:href", NS).text: a
            for a in root.findall(".//D:acl/D:ace", NS)}
    assert set(aces) == {principal(ALICE), principal(BOB)}
    assert aces[principal(ALICE)].find("D:protected", NS) is not None
    assert privileges_of(aces[principal(ALICE)].find("D:grant", NS)) == {"all"}
    assert privileges_of(aces[principal(BOB)].find("D:grant", NS)) >= {"read"}
    assert not privileges_of(aces[principal(BOB)].find("D:grant", NS)) & {
        "write", "write-content", "bind", "unbind", "write-acl"}
    assert aces[principal(BOB)].find("D:protected", NS) is None

    # An object shows its calendar's ACEs as inherited.
    obj = path + "props-1@example.org.ics"
    r = propfind(dav, obj, ["D:acl", "D:inherited-acl-set", "D:owner"])
    root = ET.fromstring(r.text)
    assert root.find(".//D:inherited-acl-set/D:href", NS).text == path
    inherited = root.findall(".//D:acl/D:ace/D:inherited/D:href", NS)
    assert inherited and all(h.text == path for h in inherited)

    # Bob sees his own privileges but not the ACL (DAV:read-acl is admin's).
    r = propfind(dav, path, ["D:acl", "D:current-user-privilege-set", "D:owner"], BOB)
    assert prop_status(r.text, "D:acl") == 403
    assert prop_status(r.text, "D:current-user-privilege-set") == 200
    assert ET.fromstring(r.text).find(".//D:owner/D:href", NS).text == principal(ALICE)
    mine = privileges_of(ET.fromstring(r.text).find(".//D:current-user-privilege-set", NS))
    assert "read" in mine and not mine & {"all", "write", "write-content", "write-acl"}

    # The properties are protected.
    body = ('<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:acl/></D:prop></D:set>'
            '</D:propertyupdate>')
    files = make_folder(dav)
    r = request(dav, "PROPPATCH", files, data=body, headers=XML)
    assert r.status_code == 207 and prop_status(r.text, "D:acl") == 403


def test_global_address_book_is_read_for_everyone(dav):
    r = propfind(dav, f"/dav/addressbooks/{BOB}/gab/",
                 ["D:current-user-privilege-set", "D:acl"], BOB)
    root = ET.fromstring(r.text)
    assert privileges_of(root.find(".//D:current-user-privilege-set", NS)) == {
        "read", "read-current-user-privilege-set"}
    assert prop_status(r.text, "D:acl") == 403


# --- refusals (RFC 3744 8.1.3) ---

REFUSALS = [
    ("deny", '<D:ace><D:principal><D:href>/dav/principals/bob@example.org/</D:href>'
             '</D:principal><D:deny><D:privilege><D:read/></D:privilege></D:deny></D:ace>',
     "grant-only"),
    ("invert", '<D:ace><D:invert><D:principal><D:href>/dav/principals/bob@example.org/'
               '</D:href></D:principal></D:invert><D:grant><D:privilege><D:read/>'
               '</D:privilege></D:grant></D:ace>', "no-invert"),
    ("unknown user", '<D:ace><D:principal><D:href>/dav/principals/nobody@example.org/'
                     '</D:href></D:principal><D:grant><D:privilege><D:read/></D:privilege>'
                     '</D:grant></D:ace>', "recognized-principal"),
    ("unknown group", '<D:ace><D:principal><D:href>/dav/principals/groups/nope/</D:href>'
                      '</D:principal><D:grant><D:privilege><D:read/></D:privilege>'
                      '</D:grant></D:ace>', "recognized-principal"),
    ("not a principal", '<D:ace><D:principal><D:href>/dav/calendars/</D:href></D:principal>'
                        '<D:grant><D:privilege><D:read/></D:privilege></D:grant></D:ace>',
     "recognized-principal"),
    ("other context", '<D:ace><D:principal><D:href>http://example.org/dav/principals/'
                      'eve@other.org/</D:href></D:principal><D:grant><D:privilege><D:read/>'
                      '</D:privilege></D:grant></D:ace>', "recognized-principal"),
    ("everyone", '<D:ace><D:principal><D:all/></D:principal><D:grant><D:privilege><D:read/>'
                 '</D:privilege></D:grant></D:ace>', "allowed-principal"),
    ("protected", '<D:ace><D:principal><D:href>/dav/principals/bob@example.org/</D:href>'
                  '</D:principal><D:grant><D:privilege><D:read/></D:privilege></D:grant>'
                  '<D:protected/></D:ace>', "no-protected-ace-conflict"),
    ("inherited", '<D:ace><D:principal><D:href>/dav/principals/bob@example.org/</D:href>'
                  '</D:principal><D:grant><D:privilege><D:read/></D:privilege></D:grant>'
                  '<D:inherited><D:href>/dav/files/</D:href></D:inherited></D:ace>',
     "no-inherited-ace-conflict"),
    ("owner", '<D:ace><D:principal><D:href>/dav/principals/alice@example.org/</D:href>'
              '</D:principal><D:grant><D:privilege><D:read/></D:privilege></D:grant></D:ace>',
     "no-protected-ace-conflict"),
    ("unknown privilege", '<D:ace><D:principal><D:href>/dav/principals/bob@example.org/'
                          '</D:href></D:principal><D:grant><D:privilege><X:launch '
                          'xmlns:X="urn:x"/></D:privilege></D:grant></D:ace>',
     "not-supported-privilege"),
]


@pytest.mark.parametrize("what,ace,condition", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refused_acl_changes_nothing(dav, what, ace, condition):
    path = make_folder(dav)
    share(dav, path, CAROL, READ)
    before = propfind(dav, path, ["D:acl"]).text
    # A valid ACE first: all or nothing, it is not applied either.
    r = set_acl(dav, path, (principal(BOB), READ_WRITE), raw=ace)
    assert r.status_code == 403, r.text
    assert ET.fromstring(r.text).find(f"D:{condition}", NS) is not None, r.text
    assert propfind(dav, path, ["D:acl"]).text == before
    assert request(dav, "GET", path, BOB).status_code == 404


def test_acl_needs_admin_and_a_folder(dav):
    path = make_folder(dav)
    assert request(dav, "PUT", path + "a.txt", data=b"a").status_code == 201
    share(dav, path, BOB, READ_WRITE)
    # An editor may not change the ACL: DAV:need-privileges names write-acl.
    r = set_acl(dav, path, (principal(BOB), ["D:all"]), login=BOB)
    assert r.status_code == 403
    assert ET.fromstring(r.text).find(".//D:need-privileges//D:write-acl", NS) is not None
    assert "write-acl" not in my_privileges(dav, path, BOB)
    # Who cannot see the folder learns nothing.
    assert set_acl(dav, path, login=DAVE).status_code == 404
    # An object has its folder's ACL.
    r = set_acl(dav, path + "a.txt", (principal(CAROL), READ))
    assert r.status_code == 403
    assert ET.fromstring(r.text).find("D:no-inherited-ace-conflict", NS) is not None
    # The root of a tree and the global address book have no folder.
    assert set_acl(dav, f"/dav/files/{ALICE}/").status_code == 403
    assert set_acl(dav, f"/dav/addressbooks/{ALICE}/gab/").status_code == 403
    # Malformed bodies.
    for body in ("", "<D:acl xmlns:D='DAV:'><D:ace/></D:acl>", "<acl>", "<D:propfind "
                 "xmlns:D='DAV:'/>"):
        r = request(dav, "ACL", path, data=body, headers=XML)
        assert r.status_code == 400, body
    # Admin through DAV:all: the new admin may then share further.
    share(dav, path, BOB, ["D:all"])
    r = set_acl(dav, path, (principal(BOB), ["D:all"]), (principal(CAROL), READ), login=BOB)
    assert r.status_code == 200, r.text
    assert request(dav, "GET", path + "a.txt", CAROL).content == b"a"


# --- every method for no share, a viewer and an editor ---

ROLES = {"none": DAVE, "viewer": BOB, "editor": CAROL}
GRANTS = {"viewer": READ, "editor": READ_WRITE}

CALENDAR_QUERY = ('<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
                  '<D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"/>'
                  '</C:filter></C:calendar-query>')
PROPPATCH_DEAD = ('<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:x"><D:set><D:prop>'
                  '<Z:color>red</Z:color></D:prop></D:set></D:propertyupdate>')
PROPPATCH_NAME = ('<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Taken'
                  '</D:displayname></D:prop></D:set></D:propertyupdate>')
LOCKINFO = ('<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>'
            '<D:locktype><D:write/></D:locktype></D:lockinfo>')


@pytest.fixture(scope="module")
def shared(dav):
    """A files folder and a calendar of alice's, each shared with bob as
    viewer and carol as editor; dave has no share."""
    folder = make_folder(dav)
    cal, calendar = new_calendar(dav, unique("Table"))
    for path in (folder, calendar):
        r = set_acl(dav, path, (principal(BOB), READ), (principal(CAROL), READ_WRITE))
        assert r.status_code == 200, r.text
    return {"folder": folder, "calendar": calendar}


def ics(uid):
    return {"data": event(uid), "headers": {"Content-Type": "text/calendar"}}


# (name, setup by alice, method, path, request kwargs, status for none, viewer, editor)
# Paths use {f} (the files folder), {c} (the calendar), {n} (a fresh name).
# Without a share the folder is not there: 404, or 409 where the request
# would make a name in it (its parent is missing).
PERMISSIONS = [
    ("PROPFIND folder", None, "PROPFIND", "{f}", {"headers": {"Depth": "0"}}, 404, 207, 207),
    ("GET document", "doc", "GET", "{f}{n}.txt", {}, 404, 200, 200),
    ("PUT new document", None, "PUT", "{f}{n}.txt", {"data": b"x"}, 409, 403, 201),
    ("PUT over document", "doc", "PUT", "{f}{n}.txt", {"data": b"x"}, 409, 403, 204),
    ("DELETE document", "doc", "DELETE", "{f}{n}.txt", {}, 404, 403, 204),
    ("PROPPATCH document", "doc", "PROPPATCH", "{f}{n}.txt",
     {"data": PROPPATCH_DEAD, "headers": XML}, 404, 403, 207),
    ("PROPPATCH folder", None, "PROPPATCH", "{f}",
     {"data": PROPPATCH_DEAD, "headers": XML}, 404, 403, 403),
    ("MKCOL", None, "MKCOL", "{f}{n}/", {}, 409, 403, 201),
    ("COPY document", "doc", "COPY", "{f}{n}.txt",
     {"headers": {"Destination": "{f}{n}-copy.txt"}}, 404, 403, 201),
    ("MOVE document", "doc", "MOVE", "{f}{n}.txt",
     {"headers": {"Destination": "{f}{n}-moved.txt"}}, 404, 403, 201),
    ("LOCK document", "doc", "LOCK", "{f}{n}.txt",
     {"data": LOCKINFO, "headers": XML}, 409, 403, 200),
    ("ACL folder", None, "ACL", "{f}", {"data": acl_body(), "headers": XML}, 404, 403, 403),
    ("PROPFIND calendar", None, "PROPFIND", "{c}", {"headers": {"Depth": "1"}}, 404, 207, 207),
    ("GET event", "event", "GET", "{c}{n}.ics", {}, 404, 200, 200),
    ("PUT new event", None, "PUT", "{c}{n}.ics", "ics", 409, 403, 201),
    ("PUT over event", "event", "PUT", "{c}{n}.ics", "ics", 409, 403, 204),
    ("DELETE event", "event", "DELETE", "{c}{n}.ics", {}, 404, 403, 204),
    ("PROPPATCH calendar", None, "PROPPATCH", "{c}",
     {"data": PROPPATCH_NAME, "headers": XML}, 404, 403, 403),
    ("MKCALENDAR", None, "MKCALENDAR", "/dav/calendars/" + ALICE + "/{n}/", {}, 403, 403, 403),
    ("REPORT calendar-query", "event", "REPORT", "{c}",
     {"data": CALENDAR_QUERY, "headers": {**XML, "Depth": "1"}}, 404, 207, 207),
    ("ACL calendar", None, "ACL", "{c}", {"data": acl_body(), "headers": XML}, 404, 403, 403),
]


def fill(value, names):
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, dict):
        return {k: fill(v, names) for k, v in value.items()}
    return value


@pytest.mark.parametrize("role", ["none", "viewer", "editor"])
@pytest.mark.parametrize("row", PERMISSIONS, ids=[p[0] for p in PERMISSIONS])
def test_permission_per_method(dav, shared, row, role):
    name, setup, method, path, kwargs, *expected = row
    names = {"f": shared["folder"], "c": shared["calendar"], "n": unique("x")}
    if setup == "doc":
        r = request(dav, "PUT", fill("{f}{n}.txt", names), data=b"original")
        assert r.status_code == 201
    elif setup == "event":
        r = request(dav, "PUT", fill("{c}{n}.ics", names), **ics(names["n"] + "@example.org"))
        assert r.status_code == 201, r.text
    if kwargs == "ics":
        kwargs = ics(names["n"] + "@example.org")
    target = fill(path, names)
    kwargs = fill(kwargs, names)
    if "Destination" in kwargs.get("headers", {}):
        kwargs["headers"]["Destination"] = dav.url(kwargs["headers"]["Destination"])
    status = {"none": expected[0], "viewer": expected[1], "editor": expected[2]}[role]
    r = request(dav, method, target, ROLES[role], **kwargs)
    assert r.status_code == status, f"{method} {target} as {role}: {r.text}"
    # A refused request leaves alice's data as it was.
    if r.status_code >= 400 and setup == "doc":
        assert request(dav, "GET", fill("{f}{n}.txt", names)).content == b"original"
    if r.status_code >= 400 and setup == "event":
        assert request(dav, "GET", fill("{c}{n}.ics", names)).status_code == 200
    if r.status_code >= 400 and method in ("PUT", "MKCOL", "MKCALENDAR") and setup is None:
        assert request(dav, "GET", target).status_code == 404


# --- principal searches (RFC 3744 9) ---

def search(server, *terms, test=None, login=ALICE, props=("D:displayname",), path=None):
    attr = f' test="{test}"' if test else ""
    body = ['<?xml version="1.0" encoding="utf-8"?><D:principal-property-search '
            f'xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" '
            f'xmlns:CS="http://calendarserver.org/ns/"{attr}>']
    for prop, text, *match_type in terms:
        how = f' match-type="{match_type[0]}"' if match_type else ""
        body.append(f"<D:property-search><D:prop><{prop}/></D:prop><D:match{how}>{text}"
                    "</D:match></D:property-search>")
    body.append("<D:prop>" + "".join(f"<{p}/>" for p in props) + "</D:prop>")
    body.append("</D:principal-property-search>")
    r = request(server, "REPORT", path or "/dav/principals/", login, data="".join(body),
                headers={**XML, "Depth": "0"})
    assert r.status_code == 207, r.text
    return r


def found(r):
    return sorted(h.text for h in ET.fromstring(r.text).findall("D:response/D:href", NS))


def test_principal_property_search(dav):
    # By a part of the display name, without regard to case.
    r = search(dav, ("D:displayname", "BUILD"), props=("D:displayname",
                                                       "C:calendar-user-address-set"))
    assert found(r) == [principal(BOB)]
    root = ET.fromstring(r.text)
    assert root.find(".//D:displayname", NS).text == "Bob Builder"
    addresses = [h.text for h in root.findall(".//C:calendar-user-address-set/D:href", NS)]
    assert "mailto:bob@example.org" in addresses
    # By e-mail: a part of the address, an alias, a mailto: URI.
    assert found(search(dav, ("C:calendar-user-address-set", "bob@exa"))) == [principal(BOB)]
    assert found(search(dav, ("CS:email-address-set", "Builder@"))) == [principal(BOB)]
    assert found(search(dav, ("C:calendar-user-address-set", "mailto:bob@example.org"))) == [
        principal(BOB)]
    # anyof: either term; allof (the default): both.
    r = search(dav, ("D:displayname", "carol"), ("C:calendar-user-address-set", "bob@"),
               test="anyof")
    assert found(r) == [principal(BOB), principal(CAROL)]
    r = search(dav, ("D:displayname", "carol"), ("C:calendar-user-address-set", "bob@"))
    assert found(r) == []
    r = search(dav, ("D:displayname", "bob"), ("C:calendar-user-address-set", "bob@"),
               test="allof")
    assert found(r) == [principal(BOB)]
    # Everyone of the context matches "e", no one of another context.
    r = search(dav, ("D:displayname", "e"))
    assert principal(EVE) not in found(r) and principal(ALICE) in found(r)
    assert found(search(dav, ("D:displayname", "eve"), login=EVE)) == [principal(EVE)]
    # LIKE's own characters are text.
    assert found(search(dav, ("D:displayname", "%"))) == []
    # A property nobody searches matches nothing.
    assert found(search(dav, ("D:getetag", "bob"))) == []


def test_principal_search_property_set_and_match(dav):
    body = '<D:principal-search-property-set xmlns:D="DAV:"/>'
    r = request(dav, "REPORT", "/dav/principals/", data=body, headers={**XML, "Depth": "0"})
    assert r.status_code == 200
    props = ET.fromstring(r.text).findall("D:principal-search-property/D:prop/*", NS)
    assert {"{DAV:}displayname", "{urn:ietf:params:xml:ns:caldav}calendar-user-address-set"} \
        <= {p.tag for p in props}
    body = ('<D:principal-match xmlns:D="DAV:"><D:self/><D:prop><D:displayname/></D:prop>'
            '</D:principal-match>')
    r = request(dav, "REPORT", "/dav/principals/", BOB, data=body,
                headers={**XML, "Depth": "0"})
    assert r.status_code == 207 and found(r) == [principal(BOB)]
    # Depth 1 and malformed searches are refused.
    r = request(dav, "REPORT", "/dav/principals/", data='<D:principal-property-search '
                'xmlns:D="DAV:"><D:property-search><D:prop><D:displayname/></D:prop>'
                '<D:match>a</D:match></D:property-search></D:principal-property-search>',
                headers={**XML, "Depth": "1"})
    assert r.status_code == 400
    r = request(dav, "REPORT", "/dav/principals/", data='<D:principal-property-search '
                'xmlns:D="DAV:"/>', headers={**XML, "Depth": "0"})
    assert r.status_code == 400


def group_principal(name):
    return f"/dav/principals/groups/{name}/"


def test_group_found_by_search_and_invited_as_calendar_user(dav):
    crew = unique("crew")
    oxctl(dav, "group", "create", "acme", crew, "--name", "Night Crew")
    oxctl(dav, "group", "add", "acme", crew, DAVE)
    address = f"{crew}@example.org"
    # By display name or name, any match type, without regard to case.
    assert found(search(dav, ("D:displayname", "NIGHT cr"))) == [group_principal(crew)]
    assert found(search(dav, ("D:displayname", crew.upper(), "equals"))) == [
        group_principal(crew)]
    assert found(search(dav, ("D:displayname", "crew", "starts-with"))) == [
        group_principal(crew)]
    assert found(search(dav, ("D:displayname", "rew", "starts-with"))) == []
    assert found(search(dav, ("CS:first-name", "night"))) == [group_principal(crew)]
    # By address, as a mailto: URI or a part of it.
    assert found(search(dav, ("C:calendar-user-address-set", f"mailto:{address}"))) == [
        group_principal(crew)]
    assert found(search(dav, ("CS:email-address-set", f"{crew}@EXAMPLE"))) == [
        group_principal(crew)]
    # allof and anyof as for users; users come first.
    r = search(dav, ("D:displayname", "night"), ("C:calendar-user-address-set", "bob@"))
    assert found(r) == []
    r = search(dav, ("D:displayname", "night"), ("C:calendar-user-address-set", "bob@"),
               test="anyof")
    assert [h.text for h in ET.fromstring(r.text).findall("D:response/D:href", NS)] == [
        principal(BOB), group_principal(crew)]
    # The groups collection holds groups only; another context sees none.
    r = search(dav, ("D:displayname", "night"), ("D:displayname", "team"),
               ("D:displayname", "alice"), test="anyof", path="/dav/principals/groups/")
    assert found(r) == sorted([group_principal(crew), group_principal("team")])
    assert found(search(dav, ("D:displayname", "night"), login=EVE)) == []

    # The principal is a calendar user of type GROUP with its address.
    r = search(dav, ("D:displayname", "night"),
               props=("D:displayname", "C:calendar-user-type", "C:calendar-user-address-set"))
    root = ET.fromstring(r.text)
    assert root.find(".//D:displayname", NS).text == "Night Crew"
    assert root.find(".//C:calendar-user-type", NS).text == "GROUP"
    addresses = [h.text for h in root.findall(".//C:calendar-user-address-set/D:href", NS)]
    assert addresses == [f"mailto:{address}"]
    r = propfind(dav, group_principal(crew), ["C:calendar-user-type", "D:displayname"], BOB)
    assert ET.fromstring(r.text).find(".//C:calendar-user-type", NS).text == "GROUP"

    # Inviting that address as a group reaches the member's inbox.
    uid = unique("crew-meeting")
    ics = "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//OX Server tests//EN", "BEGIN:VEVENT",
        f"UID:{uid}", "DTSTAMP:20300101T000000Z", "DTSTART:20300105T100000Z",
        "DTEND:20300105T110000Z", "SUMMARY:Night shift", f"ORGANIZER:mailto:{ALICE}",
        f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{ALICE}",
        f"ATTENDEE;CUTYPE=GROUP;RSVP=TRUE:{addresses[0]}", "END:VEVENT", "END:VCALENDAR", ""])
    r = request(dav, "PUT", f"/dav/calendars/{ALICE}/calendar/{uid}.ics", data=ics.encode(),
                headers={"Content-Type": "text/calendar"})
    assert r.status_code == 201, r.text
    query = ('<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
             "<D:prop><C:calendar-data/></D:prop><C:filter>"
             '<C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>')
    r = request(dav, "REPORT", f"/dav/calendars/{DAVE}/inbox/", DAVE, data=query,
                headers={**XML, "Depth": "1"})
    assert r.status_code == 207, r.text
    assert any(f"UID:{uid}" in (d.text or "")
               for d in ET.fromstring(r.text).iter("{urn:ietf:params:xml:ns:caldav}calendar-data"))


def test_group_address_held_by_a_user_is_not_the_groups(dav):
    # Scheduling sends NAME@DOMAIN to whoever holds that address, so the
    # group neither shows nor is found by it.
    shadow = unique("shadow")
    oxctl(dav, "user", "alias", "add", CAROL, f"{shadow}@example.org")
    oxctl(dav, "group", "create", "acme", shadow)
    r = propfind(dav, group_principal(shadow), ["C:calendar-user-address-set"])
    assert ET.fromstring(r.text).findall(".//C:calendar-user-address-set/D:href", NS) == []
    r = search(dav, ("C:calendar-user-address-set", f"{shadow}@example.org"))
    assert found(r) == [principal(CAROL)]
    assert found(search(dav, ("D:displayname", shadow))) == [group_principal(shadow)]


def test_group_search_stays_bounded(dav):
    bulk = unique("bulk")
    names = [f"{bulk}-{i:02d}" for i in range(50)]
    for name in names:
        oxctl(dav, "group", "create", "acme", name)
    # Fifty groups fill the answer exactly ...
    r = search(dav, ("D:displayname", bulk))
    assert "507" not in r.text
    assert found(r) == [group_principal(n) for n in names]
    # ... and a user more cuts it: users first, then groups, then a 507
    # for the request URI.
    r = search(dav, ("D:displayname", bulk), ("C:calendar-user-address-set", "alice@"),
               test="anyof")
    responses = ET.fromstring(r.text).findall("D:response", NS)
    assert len(responses) == 51
    hrefs = [resp.find("D:href", NS).text for resp in responses]
    assert hrefs[:50] == [principal(ALICE)] + [group_principal(n) for n in names[:49]]
    assert hrefs[50] == "/dav/principals/" and "507" in responses[50].find("D:status", NS).text
