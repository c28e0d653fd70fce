"""CardDAV (RFC 6352) on /dav/addressbooks/LOGIN/ against a real oxd, with
raw DAV requests (python3-caldav has no CardDAV): discovery from the
principal, extended MKCOL, vCard 3.0 and 4.0 contacts written by vendors'
clients (from ../shared/fixtures/vcard) stored byte for byte,
addressbook-multiget, addressbook-query with every match type and
collation, strict refusal of malformed vCards (../shared/fixtures/invalid),
the read-only global address book and permissions.
"""
import os
import re
import xml.etree.ElementTree as ET

import pytest
import requests

from conftest import FIXTURES, run_oxctl as oxctl
from davhelp import (ALICE, BOB, XML, responses, session, start_tenant,
                     sync_collection as sync)

NS = {"D": "DAV:", "CR": "urn:ietf:params:xml:ns:carddav", "CS": "http://calendarserver.org/ns/"}
VCARD = {"Content-Type": "text/vcard; charset=utf-8"}

JANE = ("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:jane-1@example.org\r\nFN:Jane Müller\r\n"
        "N:Müller;Jane;;;\r\nEMAIL;TYPE=work:Jane.Mueller@Example.com\r\n"
        "EMAIL;TYPE=home:jane@home.example\r\nTEL;TYPE=cell:+49 30 1234567\r\n"
        "END:VCARD\r\n")
JOHN = ("BEGIN:VCARD\nVERSION:4.0\nUID:urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1\n"
        "FN:John Smith\nN:Smith;John;;;\nEMAIL:john@example.net\nTEL;VALUE=uri:tel:+1-555-0100\n"
        "KIND:individual\nEND:VCARD\n")
NO_UID = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Nobody\r\nN:;Nobody;;;\r\nEND:VCARD\r\n"


@pytest.fixture
def dav(oxd_factory):
    return start_tenant(oxd_factory, [(ALICE, "Alice Liddell"), (BOB, "Bob Builder")])


def propfind(server, path, props, depth="0", login=ALICE):
    body = ('<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" '
            'xmlns:CR="urn:ietf:params:xml:ns:carddav" '
            'xmlns:CS="http://calendarserver.org/ns/"><D:prop>'
            + "".join(f"<{p}/>" for p in props) + "</D:prop></D:propfind>")
    r = session(login).request("PROPFIND", server.url(path), data=body,
                               headers={**XML, "Depth": depth}, timeout=10)
    return r


def home(server):
    return f"/dav/addressbooks/{ALICE}/"


def make_book(server, name="work", display="Work contacts"):
    body = ('<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:" '
            'xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype>'
            '<D:collection/><CR:addressbook/></D:resourcetype>'
            f'<D:displayname>{display}</D:displayname></D:prop></D:set></D:mkcol>')
    r = session().request("MKCOL", server.url(home(server) + name + "/"), data=body,
                          headers=XML, timeout=10)
    assert r.status_code == 201, r.text
    return home(server) + name + "/"


def put(server, path, text, login=ALICE, headers=None):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return session(login).put(server.url(path), data=data, headers={**VCARD, **(headers or {})},
                              timeout=10)


def names(server, book):
    r = propfind(server, book, ["D:getetag"], depth="1")
    assert r.status_code == 207
    return sorted(h.rsplit("/", 1)[1] for h in responses(r.text) if not h.endswith("/"))


def test_well_known_and_discovery(dav):
    r = requests.get(dav.url("/.well-known/carddav"), allow_redirects=False, timeout=10)
    assert r.status_code == 301 and r.headers["Location"] == "/dav/"
    r = propfind(dav, "/dav/", ["D:current-user-principal"])
    principal = ET.fromstring(r.text).find(".//D:current-user-principal/D:href", NS).text
    r = propfind(dav, principal, ["CR:addressbook-home-set"])
    href = ET.fromstring(r.text).find(".//CR:addressbook-home-set/D:href", NS).text
    assert href in (f"/dav/addressbooks/{ALICE}/", "/dav/addressbooks/alice%40example.org/")
    r = propfind(dav, href, ["D:resourcetype", "D:displayname", "CR:supported-address-data"],
                 depth="1")
    assert r.status_code == 207
    found = responses(r.text)
    books = {h for h, e in found.items() if e.find(".//D:resourcetype/CR:addressbook", NS)
             is not None}
    assert any(h.endswith("/contacts/") for h in books)  # the default Contacts folder
    assert any(h.endswith("/gab/") for h in books)
    types = ET.fromstring(r.text).findall(".//CR:address-data-type", NS)
    assert {t.get("version") for t in types} == {"3.0", "4.0"}
    opts = session().options(dav.url(href), timeout=10)
    assert "addressbook" in opts.headers["DAV"]
    assert opts.headers["Allow"].count("MKCOL") == 1


def test_mkcol_put_get_delete_with_etags(dav):
    book = make_book(dav)
    r = propfind(dav, book, ["D:resourcetype", "D:displayname", "CS:getctag"])
    assert ET.fromstring(r.text).find(".//CR:addressbook", NS) is not None
    assert ET.fromstring(r.text).find(".//D:displayname", NS).text == "Work contacts"
    ctag = ET.fromstring(r.text).find(".//CS:getctag", NS).text
    # A MKCOL whose resourcetype is not an address book is refused.
    bad = ('<D:mkcol xmlns:D="DAV:"><D:set><D:prop><D:resourcetype><D:collection/>'
           '</D:resourcetype></D:prop></D:set></D:mkcol>')
    r = session().request("MKCOL", dav.url(home(dav) + "plain/"), data=bad, headers=XML,
                          timeout=10)
    assert r.status_code == 403 and "valid-resourcetype" in r.text
    again = bad.replace("<D:collection/>", '<D:collection/><CR:addressbook '
                        'xmlns:CR="urn:ietf:params:xml:ns:carddav"/>')
    r = session().request("MKCOL", dav.url(book), data=again, headers=XML, timeout=10)
    assert r.status_code == 405

    r = put(dav, book + "jane.vcf", JANE, headers={"If-None-Match": "*"})
    assert r.status_code == 201
    etag = r.headers["ETag"]
    assert put(dav, book + "jane.vcf", JANE, headers={"If-None-Match": "*"}).status_code == 412
    g = session().get(dav.url(book + "jane.vcf"), timeout=10)
    assert g.status_code == 200 and g.content == JANE.encode()
    assert g.headers["ETag"] == etag and g.headers["Content-Type"].startswith("text/vcard")
    changed = JANE.replace("+49 30 1234567", "+49 30 7654321")
    assert put(dav, book + "jane.vcf", changed,
               headers={"If-Match": '"0000"'}).status_code == 412
    r = put(dav, book + "jane.vcf", changed, headers={"If-Match": etag})
    assert r.status_code == 204 and r.headers["ETag"] != etag
    r = propfind(dav, book, ["CS:getctag"])
    assert ET.fromstring(r.text).find(".//CS:getctag", NS).text != ctag
    # One contact per UID per address book.
    r = put(dav, book + "other.vcf", JANE)
    assert r.status_code == 409 and "no-uid-conflict" in r.text
    assert put(dav, book + "john.vcf", JOHN).status_code == 201
    assert names(dav, book) == ["jane.vcf", "john.vcf"]
    assert session().delete(dav.url(book + "john.vcf"), timeout=10).status_code == 204
    assert session().get(dav.url(book + "john.vcf"), timeout=10).status_code == 404
    assert session().delete(dav.url(book), timeout=10).status_code == 204
    assert propfind(dav, book, ["D:resourcetype"]).status_code == 404


def test_vcard_without_uid_or_wrong_type_is_refused(dav):
    book = home(dav) + "contacts/"
    r = put(dav, book + "x.vcf", NO_UID)
    assert r.status_code == 403 and "valid-address-data" in r.text and "UID" in r.text
    r = session().put(dav.url(book + "x.vcf"), data=JANE.encode(),
                      headers={"Content-Type": "text/calendar"}, timeout=10)
    assert r.status_code == 415 and "supported-address-data" in r.text
    r = put(dav, book + "big.vcf", JANE.replace("END:VCARD", "NOTE:" + "x" * (1 << 20)
                                                 + "\r\nEND:VCARD"))
    assert r.status_code in (403, 413) and "max-resource-size" in r.text
    assert names(dav, book) == []


def multiget(server, book, hrefs):
    body = ('<?xml version="1.0" encoding="utf-8"?><CR:addressbook-multiget xmlns:D="DAV:" '
            'xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><CR:address-data/>'
            '</D:prop>' + "".join(f"<D:href>{h}</D:href>" for h in hrefs)
            + "</CR:addressbook-multiget>")
    r = session().request("REPORT", server.url(book), data=body, headers={**XML, "Depth": "1"},
                          timeout=10)
    assert r.status_code == 207, r.text
    return responses(r.text)


def query(server, book, filters, test="anyof", limit=None, login=ALICE):
    body = ('<?xml version="1.0" encoding="utf-8"?><CR:addressbook-query xmlns:D="DAV:" '
            'xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop>'
            f'<CR:filter test="{test}">' + "".join(filters) + "</CR:filter>"
            + (f"<CR:limit><CR:nresults>{limit}</CR:nresults></CR:limit>" if limit else "")
            + "</CR:addressbook-query>")
    return session(login).request("REPORT", server.url(book), data=body.encode("utf-8"),
                                  headers={**XML, "Depth": "1"}, timeout=10)


def found(server, book, filters, test="anyof"):
    r = query(server, book, filters, test)
    assert r.status_code == 207, r.text
    return sorted(h.rsplit("/", 1)[1] for h in responses(r.text))


def tm(prop, text, match="contains", collation="i;unicode-casemap", negate=None, ptest=None):
    n = f' negate-condition="{negate}"' if negate else ""
    t = f' test="{ptest}"' if ptest else ""
    texts = text if isinstance(text, list) else [text]
    return (f'<CR:prop-filter name="{prop}"{t}>' + "".join(
        f'<CR:text-match collation="{collation}" match-type="{match}"{n}>{x}</CR:text-match>'
        for x in texts) + "</CR:prop-filter>")


def test_multiget_and_queries(dav):
    book = make_book(dav)
    put(dav, book + "jane.vcf", JANE)
    put(dav, book + "john.vcf", JOHN)
    got = multiget(dav, book, [book + "jane.vcf", book + "john.vcf", book + "nobody.vcf"])
    # address-data keeps the card byte for byte, CR LF included.
    assert got[book + "jane.vcf"].find(".//CR:address-data", NS).text == JANE
    assert got[book + "john.vcf"].find(".//CR:address-data", NS).text == JOHN
    assert "404" in got[book + "nobody.vcf"].find("D:status", NS).text

    both = ["jane.vcf", "john.vcf"]
    # FN with each match type, unicode-casemap folds case and umlauts' case.
    assert found(dav, book, [tm("FN", "jane MÜLLER", "equals")]) == ["jane.vcf"]
    assert found(dav, book, [tm("FN", "MÜLL")]) == ["jane.vcf"]
    assert found(dav, book, [tm("FN", "JOHN", "starts-with")]) == ["john.vcf"]
    assert found(dav, book, [tm("FN", "ith", "ends-with")]) == ["john.vcf"]
    # i;ascii-casemap folds ASCII only; i;octet folds nothing.
    assert found(dav, book, [tm("FN", "JANE MüLLER", "equals", "i;ascii-casemap")]) == [
        "jane.vcf"]
    assert found(dav, book, [tm("FN", "JANE MÜLLER", "equals", "i;ascii-casemap")]) == []
    assert found(dav, book, [tm("FN", "john", "contains", "i;octet")]) == []
    # N, EMAIL (any of several), TEL.
    assert found(dav, book, [tm("N", "smith;john", "starts-with")]) == ["john.vcf"]
    assert found(dav, book, [tm("EMAIL", "@home.example", "ends-with")]) == ["jane.vcf"]
    assert found(dav, book, [tm("EMAIL", "jane.mueller@example.com", "equals",
                                "i;ascii-casemap")]) == ["jane.vcf"]
    assert found(dav, book, [tm("TEL", "555")]) == ["john.vcf"]
    assert found(dav, book, [tm("TEL", "+49", "starts-with")]) == ["jane.vcf"]
    # negate-condition, anyof and allof at both levels.
    assert found(dav, book, [tm("FN", "jane", negate="yes")]) == ["john.vcf"]
    assert found(dav, book, [tm("FN", "jane"), tm("TEL", "555")]) == both
    assert found(dav, book, [tm("FN", "jane"), tm("TEL", "555")], "allof") == []
    assert found(dav, book, [tm("FN", "jane"), tm("TEL", "+49")], "allof") == ["jane.vcf"]
    assert found(dav, book, [tm("FN", ["jane", "smith"], ptest="anyof")]) == both
    assert found(dav, book, [tm("FN", ["jane", "smith"], ptest="allof")]) == []
    assert found(dav, book, ['<CR:prop-filter name="EMAIL"><CR:is-not-defined/>'
                             '</CR:prop-filter>']) == []
    # limit: one result and a 507 for the request URI.
    r = query(dav, book, [], limit=1)
    assert r.status_code == 207 and "507" in r.text
    # Filters the server cannot evaluate are refused, not ignored.
    r = query(dav, book, [tm("AD_R", "x")])
    assert r.status_code == 403 and "supported-filter" in r.text
    r = query(dav, book, [tm("FN", "x", collation="i;klingon")])
    assert r.status_code == 403 and "supported-collation" in r.text


# --- vendor contacts ---

def vendor_cards():
    folder = os.path.join(FIXTURES, "vcard")
    if not os.path.isdir(folder):
        return []
    return sorted(f for f in os.listdir(folder)
                  if re.match(r"^(apple|gmail|outlook|thunderbird|macos|iphone|evolution|"
                              r"kaddressbook|davx5|cardbook|sabre)", f))


def card_facts(data):
    text = data.decode("utf-8", "replace")
    return {"cards": len(re.findall(r"(?im)^BEGIN:VCARD", text)),
            "version": (re.search(r"(?im)^VERSION:(\S+)", text) or [None, None])[1],
            "uid": re.search(r"(?im)^UID[;:]", text) is not None,
            "n": re.search(r"(?im)^([a-z0-9-]+\.)?N[;:]", text) is not None}


def with_uid(data, uid):
    """The card with a UID line after VERSION, in the card's own line ending."""
    eol = b"\r\n" if b"\r\n" in data else b"\n"
    m = re.search(rb"(?im)^VERSION:[^\r\n]*\r*\n", data)
    return data[:m.end()] + b"UID:" + uid.encode() + eol + data[m.end():]


@pytest.mark.skipif(not os.path.isdir(os.path.join(FIXTURES, "vcard")),
                    reason="vCard fixtures (../shared/fixtures/vcard) are absent")
def test_vendor_contacts(dav):
    book = make_book(dav, "vendors", "Vendors")
    stored = 0
    for i, name in enumerate(vendor_cards()):
        with open(os.path.join(FIXTURES, "vcard", name), "rb") as f:
            data = f.read()
        facts = card_facts(data)
        path = book + f"{i}.vcf"
        if facts["version"] not in ("3.0", "4.0") or facts["cards"] != 1:
            # vCard 2.1 and multi-card exports are not one CardDAV object.
            r = put(dav, path, data)
            assert r.status_code == 403 and "valid-address-data" in r.text, name
            continue
        if facts["version"] == "3.0" and not facts["n"]:
            # RFC 2426 requires N; Sabre VObject 4.1.6 wrote one without.
            r = put(dav, path, data)
            assert r.status_code == 403 and "needs N" in r.text, name
            continue
        if not facts["uid"]:
            r = put(dav, path, data)
            assert r.status_code == 403 and "UID" in r.text, name
            # What a CardDAV client does for an export without UID.
            data = with_uid(data, f"vendor-{i}@example.org")
        r = put(dav, path, data)
        assert r.status_code == 201, f"{name}: {r.text}"
        g = session().get(dav.url(path), timeout=10)
        assert g.content == data, name
        assert g.headers["ETag"] == r.headers["ETag"], name
        stored += 1
    assert stored >= 10
    # Thunderbird's two-card export, one card a resource as a client PUTs
    # them: the second holds a raw CR inside a value (RFC 6350 escapes it).
    with open(os.path.join(FIXTURES, "vcard", "thunderbird-addressbook-export.vcf"), "rb") as f:
        cards = re.findall(rb"BEGIN:VCARD\r\n.*?END:VCARD\r\n", f.read(), re.S)
    assert len(cards) == 2
    r = put(dav, book + "tb1.vcf", cards[0])
    assert r.status_code == 201
    assert session().get(dav.url(book + "tb1.vcf"), timeout=10).content == cards[0]
    r = put(dav, book + "tb2.vcf", cards[1])
    assert r.status_code == 403 and "control character" in r.text
    stored += 1
    for vendor in ("apple", "gmail", "thunderbird", "kaddressbook"):
        assert any(n.startswith(vendor) for n in vendor_cards())
    assert len(names(dav, book)) == stored


def invalid_cards():
    folder = os.path.join(FIXTURES, "invalid")
    if not os.path.isdir(folder):
        return []
    return sorted(f for f in os.listdir(folder) if f.endswith(".vcf"))


@pytest.mark.skipif(not invalid_cards(),
                    reason="invalid fixtures (../shared/fixtures/invalid) are absent")
def test_malformed_vcards_leave_the_book_unchanged(dav):
    book = make_book(dav, "strict", "Strict")
    assert put(dav, book + "jane.vcf", JANE).status_code == 201
    before = session().get(dav.url(book + "jane.vcf"), timeout=10)
    for i, name in enumerate(invalid_cards()):
        with open(os.path.join(FIXTURES, "invalid", name), "rb") as f:
            data = f.read()
        for path in (book + f"bad{i}.vcf", book + "jane.vcf"):
            r = put(dav, path, data)
            assert r.status_code == 403, f"{name}: {r.status_code} {r.text}"
            assert "valid-address-data" in r.text and "message" in r.text, name
    assert names(dav, book) == ["jane.vcf"]
    after = session().get(dav.url(book + "jane.vcf"), timeout=10)
    assert after.content == before.content and after.headers["ETag"] == before.headers["ETag"]


def test_global_address_book_is_read_only(dav):
    oxctl(dav, "group", "create", "acme", "staff", "--name", "Staff")
    oxctl(dav, "group", "add", "acme", "staff", BOB)
    gab = home(dav) + "gab/"
    listed = names(dav, gab)
    assert f"{ALICE}.vcf" in listed and f"{BOB}.vcf" in listed and "group-staff.vcf" in listed
    bob = session().get(dav.url(gab + f"{BOB}.vcf"), timeout=10)
    assert bob.status_code == 200 and "FN:Bob Builder" in bob.text
    assert f"EMAIL;PREF=1:{BOB}" in bob.text
    group = session().get(dav.url(gab + "group-staff.vcf"), timeout=10).text
    assert "KIND:group" in group and f"MEMBER:mailto:{BOB}" in group
    assert found(dav, gab, [tm("FN", "bob", "starts-with")]) == [f"{BOB}.vcf"]
    assert found(dav, gab, [tm("EMAIL", "alice@", "starts-with")]) == [f"{ALICE}.vcf"]
    assert put(dav, gab + "new.vcf", JANE).status_code == 403
    assert put(dav, gab + f"{BOB}.vcf", JANE).status_code == 403
    assert session().delete(dav.url(gab + f"{BOB}.vcf"), timeout=10).status_code == 403
    assert session().delete(dav.url(gab), timeout=10).status_code == 403
    assert names(dav, gab) == listed


def test_other_user_without_share_cannot_read(dav):
    book = make_book(dav, "private", "Private")
    assert put(dav, book + "jane.vcf", JANE).status_code == 201
    s = session(BOB)
    target = dav.url(book + "jane.vcf")
    assert s.get(target, timeout=10).status_code in (403, 404)
    assert s.put(target, data=JANE, headers=VCARD, timeout=10).status_code in (403, 404, 409)
    assert s.delete(target, timeout=10).status_code in (403, 404)
    r = propfind(dav, book, ["D:getetag"], depth="1", login=BOB)
    assert r.status_code in (403, 404) and "jane" not in r.text
    r = query(dav, book, [tm("FN", "jane")], login=BOB)
    assert r.status_code in (403, 404) and "jane" not in r.text
    r = s.request("MKCOL", dav.url(home(dav) + "intruder/"), timeout=10)
    assert r.status_code in (403, 409)
    # Bob's own global address book lists Alice, but not her contacts.
    assert "jane" not in " ".join(names_as(dav, f"/dav/addressbooks/{BOB}/gab/", BOB))
    assert names(dav, book) == ["jane.vcf"]


def names_as(server, book, login):
    r = propfind(server, book, ["D:getetag"], depth="1", login=login)
    assert r.status_code == 207
    return [h.rsplit("/", 1)[1] for h in responses(r.text) if not h.endswith("/")]


def test_sync_collection(dav):
    book = make_book(dav)
    put(dav, book + "jane.vcf", JANE)
    token, changed = sync(dav, book)
    assert changed == {"jane.vcf": "there"}
    put(dav, book + "john.vcf", JOHN)
    session().delete(dav.url(book + "jane.vcf"), timeout=10)
    token2, changed = sync(dav, book, token)
    assert changed == {"john.vcf": "there", "jane.vcf": "gone"} and token2 != token
    assert sync(dav, book, token2)[1] == {}
    r = propfind(dav, book, ["D:sync-token"])
    assert ET.fromstring(r.text).find(".//D:sync-token", NS).text == token2
