"""More CardDAV (RFC 6352) against a real oxd with raw DAV requests: GET of
a whole address book as one text/vcard stream, partial retrieval with
CARDDAV:address-data (10.4), param-filter and filters on any property
(10.5), limits (8.6.2), PROPPATCH of address books (6.2.1), and COPY and
MOVE of contacts between address books (6.3.2.1), each with the refusals
that must change nothing.
"""
import json
import xml.etree.ElementTree as ET

import pytest

from conftest import run_oxctl as oxctl
from davhelp import (ALICE, BOB, XML, create_users, responses, session, start_tenant,
                     sync_collection as sync)

CR = "urn:ietf:params:xml:ns:carddav"
NS = {"D": "DAV:", "CR": CR, "CS": "http://calendarserver.org/ns/",
      "S": "http://sabredav.org/ns", "X": "urn:x-test"}
VCARD = {"Content-Type": "text/vcard; charset=utf-8"}
HOME = f"/dav/addressbooks/{ALICE}/"

JANE = ("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:jane-1@example.org\r\nFN:Jane Müller\r\n"
        "N:Müller;Jane;;;\r\nNICKNAME:Janie\r\nitem1.EMAIL;TYPE=INTERNET,WORK:jane@work.example\r\n"
        "EMAIL;TYPE=home:jane@home.example\r\nTEL;WORK:+49 30 1234567\r\n"
        "NOTE:a long note that is fol\r\n ded over two lines\r\nEND:VCARD\r\n")
JOHN = ("BEGIN:VCARD\nVERSION:4.0\nUID:urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1\n"
        "FN:John Smith\nN:Smith;John;;;\nEMAIL;TYPE=work;PREF=1:john@example.net\n"
        "TEL;VALUE=uri;TYPE=cell:tel:+1-555-0100\nADR;TYPE=home:;;1 Main St;Springfield;;;US\n"
        "END:VCARD")  # no final line break
ANNA = ("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:anna-1@example.org\r\nFN:Anna Berg\r\n"
        "N:Berg;Anna;;;\r\nEND:VCARD\r\n")


@pytest.fixture
def dav(oxd_factory):
    return start_tenant(oxd_factory, [(ALICE, "Alice Liddell"), (BOB, "Bob Builder")])


def request(server, method, path, body=None, login=ALICE, headers=None):
    data = body.encode("utf-8") if isinstance(body, str) else body
    return session(login).request(method, server.url(path), data=data, headers=headers or {},
                                  timeout=30)


def make_book(server, name, display=None, extra=""):
    body = ('<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:" '
            f'xmlns:CR="{CR}"><D:set><D:prop><D:resourcetype>'
            '<D:collection/><CR:addressbook/></D:resourcetype>'
            f'<D:displayname>{display or name}</D:displayname>{extra}</D:prop></D:set>'
            '</D:mkcol>')
    r = request(server, "MKCOL", HOME + name + "/", body, headers=XML)
    assert r.status_code == 201, r.text
    return HOME + name + "/"


def put(server, path, text, login=ALICE):
    r = request(server, "PUT", path, text, login=login, headers=VCARD)
    assert r.status_code in (201, 204), r.text
    return r.headers.get("ETag")


def propfind(server, path, props, depth="0", login=ALICE):
    body = (f'<D:propfind xmlns:D="DAV:" xmlns:CR="{CR}" xmlns:X="urn:x-test"><D:prop>'
            + "".join(f"<{p}/>" for p in props) + "</D:prop></D:propfind>")
    return request(server, "PROPFIND", path, body, login=login,
                   headers={**XML, "Depth": depth})


def prop_text(server, path, prop, login=ALICE):
    """The property's text when PROPFIND finds it (200), else None."""
    r = propfind(server, path, [prop], login=login)
    assert r.status_code == 207, r.text
    for st in ET.fromstring(r.text).findall(".//D:propstat", NS):
        e = st.find("D:prop/" + prop, NS)
        if e is not None and "200" in st.find("D:status", NS).text:
            return "".join(e.itertext())
    return None


def names(server, book, login=ALICE):
    r = propfind(server, book, ["D:getetag"], depth="1", login=login)
    assert r.status_code == 207, r.text
    return sorted(h.rsplit("/", 1)[1] for h in responses(r.text) if not h.endswith("/"))


# --- GET of a whole address book ---

def test_get_address_book_is_one_vcard_stream(dav):
    book = make_book(dav, "work")
    empty = session().get(dav.url(book), timeout=10)
    assert empty.status_code == 200 and empty.content == b""
    assert empty.headers["Content-Type"].startswith("text/vcard")
    put(dav, book + "b-john.vcf", JOHN)
    put(dav, book + "a-jane.vcf", JANE)
    g = session().get(dav.url(book), timeout=10)
    assert g.status_code == 200 and g.headers["Content-Type"].startswith("text/vcard")
    # By name, each card as stored; one without a final line break gets one.
    assert g.content == (JANE + JOHN + "\r\n").encode()
    etag = g.headers["ETag"]
    assert etag != empty.headers["ETag"]
    again = session().get(dav.url(book), headers={"If-None-Match": etag}, timeout=10)
    assert again.status_code == 304
    head = session().head(dav.url(book), timeout=10)
    assert head.status_code == 200 and head.headers["ETag"] == etag and head.content == b""
    # A change is a new state; the listing's getetag is the same one.
    put(dav, book + "c-anna.vcf", ANNA)
    g2 = session().get(dav.url(book), timeout=10)
    assert g2.headers["ETag"] != etag and g2.text.count("BEGIN:VCARD") == 3
    r = propfind(dav, book, ["D:getetag", "D:getcontenttype"])
    assert ET.fromstring(r.text).find(".//D:getetag", NS).text == g2.headers["ETag"]
    # Others see nothing.
    assert session(BOB).get(dav.url(book), timeout=10).status_code in (403, 404)


def test_get_large_book_streams_in_order(dav):
    book = make_book(dav, "many")
    cards = {}
    s = session()
    for i in range(150):  # several pages of the export
        name = f"c{i:03d}.vcf"
        text = (f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:many-{i}\r\nFN:Person {i}\r\n"
                f"N:Person;{i};;;\r\nEND:VCARD\r\n")
        assert s.put(dav.url(book + name), data=text, headers=VCARD,
                     timeout=10).status_code == 201
        cards[name] = text
    g = s.get(dav.url(book), timeout=30)
    assert g.status_code == 200
    assert g.text == "".join(cards[n] for n in sorted(cards))


def test_get_global_address_book(dav):
    g = session().get(dav.url(HOME + "gab/"), timeout=10)
    assert g.status_code == 200 and g.headers["Content-Type"].startswith("text/vcard")
    assert g.text.count("BEGIN:VCARD") == 2
    assert f"EMAIL;PREF=1:{BOB}" in g.text and f"EMAIL;PREF=1:{ALICE}" in g.text
    etag = g.headers["ETag"]
    assert session().get(dav.url(HOME + "gab/"), timeout=10).headers["ETag"] == etag
    create_users(dav, [("carol@example.org", "Carol")])
    g2 = session().get(dav.url(HOME + "gab/"), timeout=10)
    assert g2.headers["ETag"] != etag and "FN:Carol" in g2.text


# --- partial retrieval (RFC 6352 10.4) ---

def multiget(server, book, hrefs, address_data):
    body = (f'<CR:addressbook-multiget xmlns:D="DAV:" xmlns:CR="{CR}"><D:prop><D:getetag/>'
            + address_data + "</D:prop>" + "".join(f"<D:href>{h}</D:href>" for h in hrefs)
            + "</CR:addressbook-multiget>")
    return request(server, "REPORT", book, body, headers={**XML, "Depth": "1"})


def card_lines(response):
    text = response.find(".//CR:address-data", NS).text
    return [line for line in text.split("\r\n") if line]


def test_address_data_with_named_properties(dav):
    book = make_book(dav, "work")
    put(dav, book + "jane.vcf", JANE)
    put(dav, book + "john.vcf", JOHN)
    want = ('<CR:address-data><CR:prop name="EMAIL"/><CR:prop name="NOTE"/>'
            '<CR:prop name="TEL" novalue="yes"/></CR:address-data>')
    r = multiget(dav, book, [book + "jane.vcf", book + "john.vcf"], want)
    assert r.status_code == 207, r.text
    got = responses(r.text)
    # Only the named properties, plus BEGIN, END, VERSION and UID, each line
    # as stored (the group prefix and the fold kept); TEL without its value.
    assert card_lines(got[book + "jane.vcf"]) == [
        "BEGIN:VCARD", "VERSION:3.0", "UID:jane-1@example.org",
        "item1.EMAIL;TYPE=INTERNET,WORK:jane@work.example", "EMAIL;TYPE=home:jane@home.example",
        "TEL;WORK:", "NOTE:a long note that is fol", " ded over two lines", "END:VCARD"]
    john = got[book + "john.vcf"].find(".//CR:address-data", NS).text
    assert john == ("BEGIN:VCARD\nVERSION:4.0\nUID:urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1\n"
                    "EMAIL;TYPE=work;PREF=1:john@example.net\nTEL;VALUE=uri;TYPE=cell:\n"
                    "END:VCARD\n")
    # A group prefix selects that group only; allprop and an empty element
    # return the whole card.
    r = multiget(dav, book, [book + "jane.vcf"],
                 '<CR:address-data><CR:prop name="item1.EMAIL"/></CR:address-data>')
    lines = card_lines(responses(r.text)[book + "jane.vcf"])
    assert [x for x in lines if "EMAIL" in x] == ["item1.EMAIL;TYPE=INTERNET,WORK:jane@work.example"]
    for whole in ("<CR:address-data/>", "<CR:address-data><CR:allprop/></CR:address-data>"):
        r = multiget(dav, book, [book + "jane.vcf"], whole)
        assert responses(r.text)[book + "jane.vcf"].find(".//CR:address-data", NS).text == JANE
    # The same in addressbook-query.
    body = (f'<CR:addressbook-query xmlns:D="DAV:" xmlns:CR="{CR}"><D:prop>'
            '<CR:address-data><CR:prop name="FN"/></CR:address-data></D:prop>'
            '<CR:filter><CR:prop-filter name="NICKNAME"/></CR:filter></CR:addressbook-query>')
    r = request(dav, "REPORT", book, body, headers={**XML, "Depth": "1"})
    assert r.status_code == 207, r.text
    assert card_lines(responses(r.text)[book + "jane.vcf"]) == [
        "BEGIN:VCARD", "VERSION:3.0", "UID:jane-1@example.org", "FN:Jane Müller", "END:VCARD"]


def address_data(response):
    return response.find(".//CR:address-data", NS).text


def test_address_data_versions_and_media_types(dav):
    book = make_book(dav, "work")
    jane_etag = put(dav, book + "jane.vcf", JANE)
    put(dav, book + "john.vcf", JOHN)
    hrefs = [book + "jane.vcf", book + "john.vcf"]
    # 4.0 asked: the 4.0 card comes as stored, the 3.0 one converted
    # (RFC 6350 Appendix A); the ETag stays the stored one's.
    r = multiget(dav, book, hrefs, '<CR:address-data content-type="text/vcard" version="4.0"/>')
    assert r.status_code == 207, r.text
    got = responses(r.text)
    assert address_data(got[book + "john.vcf"]) == JOHN
    jane4 = address_data(got[book + "jane.vcf"])
    assert jane4 == ("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:jane-1@example.org\r\nFN:Jane Müller\r\n"
                     "N:Müller;Jane;;;\r\nNICKNAME:Janie\r\nitem1.EMAIL;TYPE=WORK:jane@work.example\r\n"
                     "EMAIL;TYPE=home:jane@home.example\r\nTEL;TYPE=WORK:+49 30 1234567\r\n"
                     "NOTE:a long note that is fol\r\n ded over two lines\r\nEND:VCARD\r\n")
    assert got[book + "jane.vcf"].find(".//D:getetag", NS).text == jane_etag
    # 3.0 asked: the other way; named properties select from the converted
    # card.
    r = multiget(dav, book, hrefs, '<CR:address-data version="3.0"/>')
    got = responses(r.text)
    assert address_data(got[book + "jane.vcf"]) == JANE
    assert address_data(got[book + "john.vcf"]) == (
        "BEGIN:VCARD\nVERSION:3.0\nUID:urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1\n"
        "FN:John Smith\nN:Smith;John;;;\nEMAIL;TYPE=work,PREF:john@example.net\n"
        "TEL;TYPE=cell:+1-555-0100\nADR;TYPE=home:;;1 Main St;Springfield;;;US\nEND:VCARD\n")
    r = multiget(dav, book, [book + "john.vcf"],
                 '<CR:address-data version="3.0"><CR:prop name="TEL"/></CR:address-data>')
    assert address_data(responses(r.text)[book + "john.vcf"]) == (
        "BEGIN:VCARD\nVERSION:3.0\nUID:urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1\n"
        "TEL;TYPE=cell:+1-555-0100\nEND:VCARD\n")
    # The same in addressbook-query.
    body = (f'<CR:addressbook-query xmlns:D="DAV:" xmlns:CR="{CR}"><D:prop>'
            '<CR:address-data version="4.0"/></D:prop>'
            '<CR:filter><CR:prop-filter name="NICKNAME"/></CR:filter></CR:addressbook-query>')
    r = request(dav, "REPORT", book, body, headers={**XML, "Depth": "1"})
    assert r.status_code == 207, r.text
    assert address_data(responses(r.text)[book + "jane.vcf"]) == jane4
    # Media types and versions the server does not have: 403 for the report.
    for attrs in ('content-type="application/vcard+json"', 'version="2.1"'):
        r = multiget(dav, book, hrefs, f"<CR:address-data {attrs}/>")
        assert r.status_code == 403, r.text
        assert ET.fromstring(r.text).find("CR:supported-address-data", NS) is not None
    # Malformed selections are 400.
    for bad in ('<CR:prop name="EMAIL" novalue="maybe"/>', '<CR:prop/>',
                '<CR:prop name="E MAIL"/>', '<CR:allprop/><CR:prop name="FN"/>',
                '<D:href>x</D:href>'):
        r = multiget(dav, book, hrefs, f"<CR:address-data>{bad}</CR:address-data>")
        assert r.status_code == 400, (bad, r.text)


def test_get_with_accept_converts(dav):
    book = make_book(dav, "work")
    stored = put(dav, book + "jane.vcf", JANE)
    url = dav.url(book + "jane.vcf")
    s = session(ALICE)
    # No version asked (or only one the server lacks): as stored.
    for accept in (None, "text/vcard", "text/vcard;version=2.1", "*/*"):
        r = s.get(url, headers={"Accept": accept} if accept else {}, timeout=10)
        assert r.status_code == 200 and r.content == JANE.encode()
        assert r.headers["ETag"] == stored and r.headers["Vary"] == "Accept"
    # The stored version asked: as stored, same ETag.
    r = s.get(url, headers={"Accept": "text/vcard; version=3.0"}, timeout=10)
    assert r.content == JANE.encode() and r.headers["ETag"] == stored
    # 4.0 asked (the highest weight wins): converted, with its own strong ETag.
    r = s.get(url, headers={"Accept": 'text/vcard;version=3.0;q=0.5, text/vcard;version="4.0"'},
              timeout=10)
    assert r.status_code == 200, r.text
    assert r.text.startswith("BEGIN:VCARD\r\nVERSION:4.0\r\n")
    assert "item1.EMAIL;TYPE=WORK:jane@work.example\r\n" in r.text
    assert r.headers["Content-Type"].endswith("version=4.0")
    assert int(r.headers["Content-Length"]) == len(r.content)
    etag4 = r.headers["ETag"]
    assert etag4 != stored and not etag4.startswith("W/")
    h = s.head(url, headers={"Accept": "text/vcard;version=4.0"}, timeout=10)
    assert h.headers["ETag"] == etag4 and h.headers["Content-Length"] == r.headers["Content-Length"]
    # Conditional GET per representation.
    r = s.get(url, headers={"Accept": "text/vcard;version=4.0", "If-None-Match": etag4},
              timeout=10)
    assert r.status_code == 304
    r = s.get(url, headers={"Accept": "text/vcard;version=4.0", "If-None-Match": stored},
              timeout=10)
    assert r.status_code == 200
    # A range of the converted representation.
    r = s.get(url, headers={"Accept": "text/vcard;version=4.0", "Range": "bytes=0-10"},
              timeout=10)
    assert r.status_code == 206 and r.text == "BEGIN:VCARD"
    # A write conditioned on the converted representation's ETag names the
    # same stored state; once the contact changed, neither ETag matches.
    changed = JANE.replace("Janie", "Jan")
    r = request(dav, "PUT", book + "jane.vcf", changed, headers={**VCARD, "If-Match": etag4})
    assert r.status_code == 204, r.text
    r = request(dav, "PUT", book + "jane.vcf", JANE, headers={**VCARD, "If-Match": etag4})
    assert r.status_code == 412
    assert s.get(url, timeout=10).content == changed.encode()
    # A 4.0 card asked as 3.0.
    put(dav, book + "john.vcf", JOHN)
    r = s.get(dav.url(book + "john.vcf"), headers={"Accept": "text/vcard;version=3.0"},
              timeout=10)
    assert r.text.startswith("BEGIN:VCARD\nVERSION:3.0\n")
    assert "\nTEL;TYPE=cell:+1-555-0100\n" in r.text


# --- filters (RFC 6352 10.5) ---

def query(server, book, filters, test="anyof", limit=None):
    body = (f'<CR:addressbook-query xmlns:D="DAV:" xmlns:CR="{CR}"><D:prop><D:getetag/>'
            f'</D:prop><CR:filter test="{test}">' + "".join(filters) + "</CR:filter>"
            + (f"<CR:limit><CR:nresults>{limit}</CR:nresults></CR:limit>" if limit else "")
            + "</CR:addressbook-query>")
    return request(server, "REPORT", book, body, headers={**XML, "Depth": "1"})


def found(server, book, filters, test="anyof"):
    r = query(server, book, filters, test)
    assert r.status_code == 207, r.text
    return sorted(h.rsplit("/", 1)[1] for h in responses(r.text))


def pf(name, inner="", test=None):
    t = f' test="{test}"' if test else ""
    return f'<CR:prop-filter name="{name}"{t}>{inner}</CR:prop-filter>'


def par(name, inner=""):
    return f'<CR:param-filter name="{name}">{inner}</CR:param-filter>'


def tm(text, match="contains", collation=None, negate=None):
    c = f' collation="{collation}"' if collation else ""
    n = f' negate-condition="{negate}"' if negate else ""
    return f'<CR:text-match match-type="{match}"{c}{n}>{text}</CR:text-match>'


def test_param_filters_and_any_property(dav):
    book = make_book(dav, "work")
    put(dav, book + "jane.vcf", JANE)
    put(dav, book + "john.vcf", JOHN)
    put(dav, book + "anna.vcf", ANNA)
    # Properties the index does not hold.
    assert found(dav, book, [pf("NICKNAME")]) == ["jane.vcf"]
    assert found(dav, book, [pf("NICKNAME", "<CR:is-not-defined/>")]) == ["anna.vcf", "john.vcf"]
    assert found(dav, book, [pf("ADR", tm("springfield"))]) == ["john.vcf"]
    assert found(dav, book, [pf("NOTE", tm("folded over"))]) == ["jane.vcf"]  # unfolded
    # A group prefix matches that group only; without one, any group.
    assert found(dav, book, [pf("ITEM1.EMAIL", tm("work"))]) == ["jane.vcf"]
    assert found(dav, book, [pf("ITEM2.EMAIL")]) == []
    assert found(dav, book, [pf("EMAIL", tm("jane@work", "starts-with"))]) == ["jane.vcf"]
    # param-filter: present, matched (any value, quoted or listed), absent.
    assert found(dav, book, [pf("EMAIL", par("TYPE", tm("home", "equals")))]) == ["jane.vcf"]
    assert found(dav, book, [pf("EMAIL", par("PREF"))]) == ["john.vcf"]
    assert found(dav, book, [pf("EMAIL", par("type", tm("WORK", "equals")))]) == [
        "jane.vcf", "john.vcf"]
    assert found(dav, book, [pf("EMAIL", par("PREF", "<CR:is-not-defined/>"))]) == ["jane.vcf"]
    # A bare 3.0 parameter (TEL;WORK) is a TYPE.
    assert found(dav, book, [pf("TEL", par("TYPE", tm("work", "equals")))]) == ["jane.vcf"]
    # test= over the text-matches and param-filters of one property
    # instance: jane's home address is not of type work.
    assert found(dav, book, [pf("EMAIL", tm("home") + par("TYPE", tm("work")), "allof")]) == []
    assert found(dav, book, [pf("EMAIL", tm("home") + par("TYPE", tm("work")), "anyof")]) == [
        "jane.vcf", "john.vcf"]
    # allof and anyof at the filter over indexed and text properties.
    assert found(dav, book, [pf("FN", tm("a")), pf("NICKNAME")], "allof") == ["jane.vcf"]
    assert found(dav, book, [pf("ADR"), pf("NICKNAME")], "anyof") == ["jane.vcf", "john.vcf"]
    assert found(dav, book, [pf("ADR", tm("main", negate="yes"))]) == []


def test_filter_refusals_and_limits(dav):
    book = make_book(dav, "work")
    for i, card in enumerate((JANE, JOHN, ANNA)):
        put(dav, book + f"{i}.vcf", card)
    # Limits: one answer and a 507 for the request URI with the condition.
    r = query(dav, book, [pf("FN")], limit=2)
    assert r.status_code == 207
    got = responses(r.text)
    assert len([h for h in got if h.endswith(".vcf")]) == 2
    status = got[book]
    assert "507" in status.find("D:status", NS).text
    assert status.find("D:error/D:number-of-matches-within-limits", NS) is not None
    r = query(dav, book, [pf("FN")], limit=3)
    assert book not in responses(r.text)
    # What the server cannot evaluate is 403 supported-filter, malformed
    # bodies are 400; none of them answers contacts.
    for f in (pf("X_Y"), pf(""), pf("FN", "<CR:bogus/>"), pf("FN", par("", tm("x"))),
              pf("FN", tm("x", "fuzzy"))):
        r = query(dav, book, [f])
        assert r.status_code == 403, (f, r.text)
        assert ET.fromstring(r.text).find("CR:supported-filter", NS) is not None
    for f in (pf("FN", par("TYPE", "<CR:is-not-defined/>" + tm("x"))),
              pf("FN", "<CR:is-not-defined/>" + par("TYPE")),
              pf("FN", tm("x", negate="perhaps"))):
        assert query(dav, book, [f]).status_code == 400, f
    r = query(dav, book, [pf("FN", tm("x", collation="i;klingon"))])
    assert r.status_code == 403 and "supported-collation" in r.text
    r = query(dav, book, [pf("FN")], limit="0")
    assert r.status_code == 400
    r = query(dav, book, [pf("EMAIL", "".join(par("TYPE") for _ in range(40)))])
    assert r.status_code == 413
    r = propfind(dav, book, ["CR:supported-collation-set"])
    got = [e.text for e in ET.fromstring(r.text).findall(".//CR:supported-collation", NS)]
    assert sorted(got) == ["i;ascii-casemap", "i;octet", "i;unicode-casemap"]


def test_global_address_book_query_and_multiget(dav):
    gab = HOME + "gab/"
    assert found(dav, gab, [pf("KIND", tm("individual", "equals"))]) == [
        f"{ALICE}.vcf", f"{BOB}.vcf"]
    assert found(dav, gab, [pf("EMAIL", par("PREF", tm("1")) + tm("bob@", "starts-with"),
                               "allof")]) == [f"{BOB}.vcf"]
    r = multiget(dav, gab, [gab + f"{ALICE}.vcf", gab + f"{BOB}.vcf", gab + "nobody.vcf"],
                 '<CR:address-data><CR:prop name="FN"/></CR:address-data>')
    got = responses(r.text)
    assert "FN:Bob Builder" in got[gab + f"{BOB}.vcf"].find(".//CR:address-data", NS).text
    assert "EMAIL" not in got[gab + f"{BOB}.vcf"].find(".//CR:address-data", NS).text
    assert "404" in got[gab + "nobody.vcf"].find("D:status", NS).text


# --- PROPPATCH (RFC 6352 6.2.1) ---

def proppatch(server, path, sets="", removes="", login=ALICE):
    body = (f'<D:propertyupdate xmlns:D="DAV:" xmlns:CR="{CR}" xmlns:X="urn:x-test">'
            + (f"<D:set><D:prop>{sets}</D:prop></D:set>" if sets else "")
            + (f"<D:remove><D:prop>{removes}</D:prop></D:remove>" if removes else "")
            + "</D:propertyupdate>")
    return request(server, "PROPPATCH", path, body, login=login, headers=XML)


def test_proppatch_address_books(dav):
    book = make_book(dav, "work", "Work",
                     '<CR:addressbook-description xml:lang="en">At work</CR:addressbook-description>')
    assert prop_text(dav, book, "CR:addressbook-description") == "At work"
    r = proppatch(dav, book, "<D:displayname>Büro</D:displayname>"
                  "<CR:addressbook-description>Colleagues</CR:addressbook-description>"
                  "<X:colour>#ff0000</X:colour>")
    assert r.status_code == 207 and "200 OK" in r.text, r.text
    assert prop_text(dav, book, "D:displayname") == "Büro"
    assert prop_text(dav, book, "CR:addressbook-description") == "Colleagues"
    assert prop_text(dav, book, "X:colour") == "#ff0000"
    # The default book: its folder's name.
    r = proppatch(dav, HOME + "contacts/", "<D:displayname>Mine</D:displayname>")
    assert r.status_code == 207 and "200 OK" in r.text
    assert prop_text(dav, HOME + "contacts/", "D:displayname") == "Mine"
    # Removing a dead property.
    assert proppatch(dav, book, removes="<X:colour/>").status_code == 207
    assert prop_text(dav, book, "X:colour") is None
    # All or nothing: a protected property fails the others with 424.
    r = proppatch(dav, book, "<D:displayname>Nope</D:displayname>"
                  "<CR:supported-address-data/>")
    assert r.status_code == 207 and "403" in r.text and "424" in r.text
    # Too large a value fails all of it too.
    r = proppatch(dav, book, "<D:displayname>Nope</D:displayname>"
                  "<X:big>" + "x" * 70000 + "</X:big>")
    assert r.status_code == 413
    assert prop_text(dav, book, "D:displayname") == "Büro"
    assert prop_text(dav, book, "X:big") is None
    # The global address book and contacts take none; others may not.
    assert proppatch(dav, HOME + "gab/", "<D:displayname>X</D:displayname>").status_code == 403
    put(dav, book + "jane.vcf", JANE)
    assert proppatch(dav, book + "jane.vcf", "<X:tag>1</X:tag>").status_code == 403
    r = proppatch(dav, book, "<D:displayname>Bob's</D:displayname>", login=BOB)
    assert r.status_code in (403, 404)
    # The book's folder keeps the name it was made with; the display name
    # is the book's own.
    oxctl(dav, "folder", "share", ALICE, folder_id(dav, "Work"), f"user:{BOB}", "editor")
    shared = f"/dav/addressbooks/{BOB}/{folder_id(dav, 'Work')}/"
    r = proppatch(dav, shared, "<D:displayname>Bob's</D:displayname>", login=BOB)
    assert r.status_code == 403  # an editor writes contacts, not the book's properties
    assert prop_text(dav, book, "D:displayname") == "Büro"
    assert prop_text(dav, shared, "CR:addressbook-description", login=BOB) == "Colleagues"
    # Malformed bodies are 400 and change nothing.
    r = request(dav, "PROPPATCH", book, "<D:propertyupdate xmlns:D='DAV:'><D:set>",
                headers=XML)
    assert r.status_code == 400
    assert prop_text(dav, book, "D:displayname") == "Büro"


def folder_id(server, name):
    out = oxctl(server, "folder", "list", ALICE, "--module", "contacts", "--json")
    for f in json.loads(out):
        if f["name"] == name:
            return str(f["id"])
    raise AssertionError(f"no folder {name}: {out}")


# --- COPY and MOVE (RFC 6352 6.3.2.1) ---

def copy(server, src, dst, move=False, overwrite=None, login=ALICE):
    headers = {"Destination": server.url(dst)}
    if overwrite is not None:
        headers["Overwrite"] = overwrite
    return request(server, "MOVE" if move else "COPY", src, login=login, headers=headers)


def get(server, path, login=ALICE):
    return session(login).get(server.url(path), timeout=10)


def test_copy_and_move_contacts(dav):
    a = make_book(dav, "a")
    b = make_book(dav, "b")
    etag = put(dav, a + "jane.vcf", JANE)
    put(dav, a + "anna.vcf", ANNA)
    token_a, _ = sync(dav, a)
    token_b, _ = sync(dav, b)
    # COPY: both books hold the card, byte for byte, with the same ETag.
    r = copy(dav, a + "jane.vcf", b + "jane-copy.vcf")
    assert r.status_code == 201, r.text
    g = get(dav, b + "jane-copy.vcf")
    assert g.content == JANE.encode() and g.headers["ETag"] == etag
    assert get(dav, a + "jane.vcf").status_code == 200
    token_b, changed = sync(dav, b, token_b)
    assert changed == {"jane-copy.vcf": "there"}
    # One UID per book: a second copy names the contact in the way.
    r = copy(dav, a + "jane.vcf", b + "again.vcf")
    assert r.status_code == 409
    href = ET.fromstring(r.text).find("CR:no-uid-conflict/D:href", NS)
    assert href is not None and href.text.endswith("/b/jane-copy.vcf")
    r = copy(dav, a + "jane.vcf", a + "twin.vcf")  # the same book: its own UID
    assert r.status_code == 409 and "no-uid-conflict" in r.text
    assert names(dav, b) == ["jane-copy.vcf"] and names(dav, a) == ["anna.vcf", "jane.vcf"]
    # MOVE: gone from the source, there in the destination; both logs say so.
    r = copy(dav, a + "anna.vcf", b + "anna.vcf", move=True)
    assert r.status_code == 201, r.text
    assert get(dav, a + "anna.vcf").status_code == 404
    assert get(dav, b + "anna.vcf").content == ANNA.encode()
    token_a, changed = sync(dav, a, token_a)
    assert changed == {"anna.vcf": "gone"}
    token_b, changed = sync(dav, b, token_b)
    assert changed == {"anna.vcf": "there"}
    # A MOVE within a book renames, keeping the UID.
    assert copy(dav, b + "anna.vcf", b + "anna2.vcf", move=True).status_code == 201
    assert names(dav, b) == ["anna2.vcf", "jane-copy.vcf"]
    # Overwrite: F refuses an existing destination, T replaces it (even
    # when it holds the same UID) and answers 204.
    assert copy(dav, a + "jane.vcf", b + "jane-copy.vcf", overwrite="F").status_code == 412
    changed_jane = JANE.replace("Janie", "Jay")
    put(dav, a + "jane.vcf", changed_jane)
    r = copy(dav, a + "jane.vcf", b + "jane-copy.vcf", overwrite="T")
    assert r.status_code == 204, r.text
    assert get(dav, b + "jane-copy.vcf").text == changed_jane
    # A failed MOVE leaves both books as they were.
    put(dav, a + "anna.vcf", ANNA)
    before_a, before_b = session().get(dav.url(a)).text, session().get(dav.url(b)).text
    r = copy(dav, a + "anna.vcf", b + "other.vcf", move=True)
    assert r.status_code == 409 and "anna2.vcf" in r.text
    assert session().get(dav.url(a)).text == before_a
    assert session().get(dav.url(b)).text == before_b


def test_copy_and_move_refusals(dav):
    a = make_book(dav, "a")
    put(dav, a + "jane.vcf", JANE)
    gab = HOME + "gab/"
    # The global address book is a source of copies, nothing more.
    r = copy(dav, gab + f"{BOB}.vcf", a + "bob.vcf")
    assert r.status_code == 201
    assert "FN:Bob Builder" in get(dav, a + "bob.vcf").text
    assert copy(dav, gab + f"{BOB}.vcf", a + "bob2.vcf", move=True).status_code == 403
    assert copy(dav, a + "jane.vcf", gab + "jane.vcf").status_code == 403
    # Collections are not copied; other providers are not reached.
    assert copy(dav, a, HOME + "a2/").status_code in (403, 409)
    r = copy(dav, a + "jane.vcf", f"/dav/calendars/{ALICE}/calendar/jane.ics")
    assert r.status_code == 502
    # Bob may not read Alice's book, nor write into it.
    bob_book = f"/dav/addressbooks/{BOB}/contacts/"
    assert copy(dav, a + "jane.vcf", bob_book + "jane.vcf").status_code in (403, 404, 409)
    r = copy(dav, a + "jane.vcf", f"/dav/addressbooks/{BOB}/contacts/x.vcf", login=BOB)
    assert r.status_code == 404
    put(dav, bob_book + "anna.vcf", ANNA, login=BOB)
    r = copy(dav, bob_book + "anna.vcf", a + "anna.vcf", login=BOB)
    assert r.status_code in (403, 409)
    assert names(dav, a) == ["bob.vcf", "jane.vcf"]
    assert names(dav, bob_book, login=BOB) == ["anna.vcf"]
    # Malformed headers are 400 and change nothing.
    r = request(dav, "COPY", a + "jane.vcf",
                headers={"Destination": dav.url(a + "j.vcf"), "Overwrite": "maybe"})
    assert r.status_code == 400
    assert names(dav, a) == ["bob.vcf", "jane.vcf"]
