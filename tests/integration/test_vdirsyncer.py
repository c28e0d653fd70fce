"""Two-way sync with Debian's vdirsyncer against a real oxd: a calendar
(with a recurring event and an override) and an address book on the
server, paired with vdirs in a temporary directory. vdirsyncer runs as a
subprocess (`discover`, then `sync`), and a second client (requests)
checks what the server holds: the initial copy both ways, edits and
deletions each way, conflicting edits reported or resolved by
`conflict_resolution`, If-Match on a stale ETag refused with 412, and a
sync without changes that changes nothing.

vdirsyncer lists with PROPFIND Depth 1 (getetag, getcontenttype), fetches
with calendar-multiget/addressbook-multiget, writes with PUT and If-Match
or If-None-Match: *, and deletes with If-Match; the server's access log
shows which of these each run sent.
"""
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
import requests

from davhelp import ALICE, LUNCH, PASSWORD, TODO, WEEKLY, session, start_tenant

VDIRSYNCER = shutil.which("vdirsyncer") or "/usr/bin/vdirsyncer"
if not os.path.exists(VDIRSYNCER):
    pytest.skip("vdirsyncer is not installed (scripts/install-deps)", allow_module_level=True)

NS = {"D": "DAV:"}
CAL = f"/dav/calendars/{ALICE}/calendar/"
BOOK = f"/dav/addressbooks/{ALICE}/contacts/"

LOCAL_EVENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//vdir tests//EN
BEGIN:VEVENT
UID:local-event-1
DTSTAMP:20240101T000000Z
DTSTART:20240301T090000Z
DTEND:20240301T100000Z
SUMMARY:Written offline
END:VEVENT
END:VCALENDAR
"""

JANE = ("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:jane-1@example.org\r\nFN:Jane Müller\r\n"
        "N:Müller;Jane;;;\r\nEMAIL;TYPE=work:jane@example.com\r\nEND:VCARD\r\n")
JOHN = ("BEGIN:VCARD\nVERSION:4.0\nUID:urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1\n"
        "FN:John Smith\nN:Smith;John;;;\nEMAIL:john@example.net\nEND:VCARD\n")
LOCAL_CARD = ("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:local-card-1\r\nFN:Offline Person\r\n"
              "N:Person;Offline;;;\r\nEND:VCARD\r\n")

# Names another client chose. vdirsyncer re-quotes every href it reads
# (only "/" and "@" left as they are), so the server must take back, in
# request lines and in multiget bodies, a space, a colon, "+", "&" and a
# non-ASCII letter spelled differently from its own hrefs.
JOHN_NAME = "john+co & ü.vcf"
SERVER_ITEMS = {
    CAL + "weekly.ics": WEEKLY,
    CAL + "team lunch.ics": LUNCH,
    f"/dav/calendars/{ALICE}/tasks/todo-1.ics": TODO,
    BOOK + "jane:1.vcf": JANE,
    BOOK + JOHN_NAME: JOHN,
}

CONFIG = """[general]
status_path = "{tmp}/status/"

[pair cal]
a = "cal_server"
b = "cal_local"
collections = ["from a", "from b"]
{resolution}

[storage cal_server]
type = "caldav"
url = "{url}"
username = "{login}"
password = "{password}"
{cal_options}

[storage cal_local]
type = "filesystem"
path = "{tmp}/cal/"
fileext = ".ics"

[pair card]
a = "card_server"
b = "card_local"
collections = ["from a", "from b"]
{resolution}

[storage card_server]
type = "carddav"
url = "{url}"
username = "{login}"
password = "{password}"

[storage card_local]
type = "filesystem"
path = "{tmp}/card/"
fileext = ".vcf"
"""


def server_put(server, path, text, headers=None):
    ctype = "text/vcard" if path.endswith(".vcf") else "text/calendar"
    return session().put(server.url(path), data=text.encode("utf-8"),
                         headers={"Content-Type": ctype, **(headers or {})}, timeout=10)


def server_get(server, path):
    return session().get(server.url(path), timeout=10)


def lines(text):
    """The content lines of an object: XML turns CRLF into LF on the way
    through a multiget, and vdirsyncer writes what it parsed."""
    return [line for line in text.splitlines() if line]


def listing(server, collection):
    """{member name: ETag} and the collection's sync-token, by PROPFIND."""
    body = ('<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop>'
            '<D:getetag/><D:sync-token/></D:prop></D:propfind>')
    r = session().request("PROPFIND", server.url(collection), data=body,
                          headers={"Depth": "1", "Content-Type": "application/xml"}, timeout=10)
    assert r.status_code == 207, r.text
    etags, token = {}, None
    for resp in ET.fromstring(r.content).findall("D:response", NS):
        href = requests.utils.unquote(resp.find("D:href", NS).text)
        if href.rstrip("/") == collection.rstrip("/"):
            token = resp.find(".//D:sync-token", NS).text
        else:
            etags[href.rsplit("/", 1)[1]] = resp.find(".//D:getetag", NS).text
    return etags, token


def by_uid(server, collection):
    """{UID: text} of every object in a server collection."""
    found = {}
    for name in listing(server, collection)[0]:
        r = server_get(server, collection + requests.utils.quote(name))
        assert r.status_code == 200, (name, r.status_code)
        uid = re.search(r"^UID:(.*?)\r?$", r.text, re.M).group(1)
        found[uid] = r.text
    return found


def local_by_uid(directory):
    found = {}
    for name in os.listdir(directory):
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            text = f.read()
        found[re.search(r"^UID:(.*?)\r?$", text, re.M).group(1)] = text
    return found


def local_file(directory, uid):
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        with open(path, encoding="utf-8") as f:
            if re.search(rf"^UID:{re.escape(uid)}\r?$", f.read(), re.M):
                return path
    raise AssertionError(f"no local item with UID {uid} in {directory}")


def write_local(path, text):
    """Rewrites a vdir item as a local program would. vdirsyncer's ETag of
    a file is its mtime and inode, and file times have a granularity of a
    few milliseconds: move the mtime on so that the edit is always seen."""
    before = os.stat(path).st_mtime_ns
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    if os.stat(path).st_mtime_ns == before:
        os.utime(path, ns=(before + 10**9, before + 10**9))


def rewrite(path, old, new):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    assert old in text
    write_local(path, text.replace(old, new))


def set_prop(text, name, value):
    """text with the first NAME: line's value replaced, line ends kept."""
    return re.sub(rf"^{name}:.*?(\r?)$", lambda m: f"{name}:{value}{m.group(1)}", text,
                  count=1, flags=re.M)


def prop(text, name):
    return re.search(rf"^{name}:(.*?)\r?$", text, re.M).group(1)


class Sync:
    """A vdirsyncer configuration in tmp_path against one oxd."""

    def __init__(self, server, tmp_path, cal_options=""):
        self.server = server
        self.tmp = tmp_path
        self.cal_options = cal_options
        self.config = tmp_path / "config"
        self.cal = tmp_path / "cal"
        self.card = tmp_path / "card"
        self.write_config()

    def write_config(self, resolution=None):
        if resolution is None:
            line = ""
        elif isinstance(resolution, str):
            line = f'conflict_resolution = "{resolution}"'
        else:
            line = "conflict_resolution = [" + ", ".join(f'"{a}"' for a in resolution) + "]"
        # The DAV root, not the homes: vdirsyncer finds the principal and
        # the home sets from there (current-user-principal, *-home-set).
        self.config.write_text(CONFIG.format(tmp=self.tmp, url=self.server.url("/dav/"),
                                             login=ALICE, password=PASSWORD,
                                             resolution=line, cal_options=self.cal_options))

    def run(self, *args, stdin=""):
        """(exit code, output, the server's access-log lines of this run)."""
        mark = len(self.server.read_log())
        r = subprocess.run([VDIRSYNCER, "-c", str(self.config), *args], input=stdin,
                           capture_output=True, text=True, timeout=30,
                           env=dict(os.environ, HOME=str(self.tmp)))
        access = [m.groups() for m in re.finditer(r"event=access .*?method=(\S+) "
                                                   r"target=(\S+) status=(\d+)",
                                                   self.server.read_log()[mark:])]
        return r.returncode, r.stdout + r.stderr, access

    def sync(self, *collections, expect_ok=True):
        code, out, access = self.run("sync", *collections)
        if expect_ok:
            assert code == 0, out
        return code, out, access


@pytest.fixture
def dav(oxd_factory):
    server = start_tenant(oxd_factory, [(ALICE, "Alice")])
    for path, text in SERVER_ITEMS.items():
        r = server_put(server, requests.utils.quote(path), text)
        assert r.status_code == 201, (path, r.status_code, r.text)
    return server


@pytest.fixture
def synced(dav, tmp_path):
    """The server's items and a local event and card, after discover and a
    first sync."""
    vs = Sync(dav, tmp_path)
    (vs.cal / "calendar").mkdir(parents=True)
    (vs.card / "contacts").mkdir(parents=True)
    (vs.cal / "calendar" / "local-event-1.ics").write_text(LOCAL_EVENT)
    (vs.card / "contacts" / "local-card-1.vcf").write_text(LOCAL_CARD)
    # The server's tasks calendar and global address book have no local
    # vdir yet: discover asks whether to create them.
    code, out, _ = vs.run("discover", stdin="y\n" * 10)
    assert code == 0, out
    vs.first_sync = vs.sync()
    return vs


def test_discover_and_initial_sync(synced):
    vs, server = synced, synced.server
    assert sorted(os.listdir(vs.cal)) == ["calendar", "tasks"]
    assert sorted(os.listdir(vs.card)) == ["contacts", "gab"]

    # The server's objects, the recurring one with its override, in the vdirs.
    local = local_by_uid(vs.cal / "calendar")
    assert sorted(local) == ["local-event-1", "lunch-1@example.org", "weekly-1@example.org"]
    assert lines(local["weekly-1@example.org"]) == lines(WEEKLY)
    assert "RECURRENCE-ID:20240119T100000Z" in local["weekly-1@example.org"]
    assert lines(local["lunch-1@example.org"]) == lines(LUNCH)
    assert lines(local_by_uid(vs.cal / "tasks")["todo-1@example.org"]) == lines(TODO)
    cards = local_by_uid(vs.card / "contacts")
    assert lines(cards["jane-1@example.org"]) == lines(JANE)
    assert lines(cards["urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1"]) == lines(JOHN)
    gab = local_by_uid(vs.card / "gab")
    assert any("FN:Alice" in text for text in gab.values())

    # The local ones on the server, as the second client reads them.
    assert lines(by_uid(server, CAL)["local-event-1"]) == lines(LOCAL_EVENT)
    assert lines(by_uid(server, BOOK)["local-card-1"]) == lines(LOCAL_CARD)

    # New objects went up with If-None-Match: * and were created (201),
    # nothing was refused.
    _, out, access = vs.first_sync
    puts = {(requests.utils.unquote(t), s) for m, t, s in access if m == "PUT"}
    assert puts == {(CAL + "local-event-1.ics", "201"), (BOOK + "local-card-1.vcf", "201")}, access
    assert all(int(s) < 400 for _, _, s in access), access


def test_sync_without_changes_changes_nothing(synced):
    vs, server = synced, synced.server
    before = {c: listing(server, c) for c in (CAL, BOOK)}
    files = {p: os.stat(p).st_mtime_ns for d in (vs.cal, vs.card)
             for p in (os.path.join(r, f) for r, _, fs in os.walk(d) for f in fs)}

    code, out, access = vs.sync()
    assert "Copying" not in out and "Deleting" not in out, out
    # The ETags of the listing match those answered to PUT and multiget:
    # nothing is fetched again, nothing is written.
    assert {m for m, _, _ in access} == {"PROPFIND"}, access
    assert {c: listing(server, c) for c in (CAL, BOOK)} == before
    assert {p: os.stat(p).st_mtime_ns for p in files} == files


def test_edits_and_deletions_propagate_both_ways(synced):
    vs, server = synced, synced.server
    cal_dir, book_dir = vs.cal / "calendar", vs.card / "contacts"

    # Server side: another client edits the override and deletes a card.
    r = server_get(server, CAL + "weekly.ics")
    edited = WEEKLY.replace("SUMMARY:Weekly sync (moved out of January)",
                            "SUMMARY:Weekly sync (moved, edited on the server)")
    assert server_put(server, CAL + "weekly.ics", edited,
                      {"If-Match": r.headers["ETag"]}).status_code == 204
    assert session().delete(server.url(BOOK + requests.utils.quote(JOHN_NAME)),
                            timeout=10).status_code == 204
    # Local side: edit the lunch (whose server name has a space) and the
    # card whose name has a colon, delete the local-born event.
    rewrite(local_file(cal_dir, "lunch-1@example.org"), "Lunch in February",
            "Lunch in February (edited offline)")
    rewrite(local_file(book_dir, "jane-1@example.org"), "FN:Jane Müller", "FN:Jane Q. Müller")
    os.remove(local_file(cal_dir, "local-event-1"))

    code, out, access = vs.sync()
    assert "moved, edited on the server" in local_by_uid(cal_dir)["weekly-1@example.org"]
    assert "urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1" not in local_by_uid(book_dir)
    cal_now = by_uid(server, CAL)
    assert "Lunch in February (edited offline)" in cal_now["lunch-1@example.org"]
    assert "local-event-1" not in cal_now
    assert "FN:Jane Q. Müller" in by_uid(server, BOOK)["jane-1@example.org"]
    assert "team%20lunch.ics" in " ".join(t for m, t, _ in access if m == "PUT")
    # Two updates and one deletion, each answered 204 (that they carry
    # If-Match shows in test_stale_etag_is_refused).
    writes = [(m, s) for m, _, s in access if m in ("PUT", "DELETE")]
    assert sorted(writes) == [("DELETE", "204"), ("PUT", "204"), ("PUT", "204")], access

    # The server deleted the card and the local deletion reached it: one
    # more sync has nothing to do.
    code, out, access = vs.sync()
    assert "Copying" not in out and "Deleting" not in out, out


LUNCH_ITEM = (CAL + "team%20lunch.ics", "calendar", "lunch-1@example.org", "SUMMARY")
JANE_ITEM = (BOOK + "jane:1.vcf", "contacts", "jane-1@example.org", "FN")


def conflict(vs, item, server_value, local_value):
    """The same item changed on both sides since the last sync."""
    path, collection, uid, name = item
    r = server_get(vs.server, path)
    assert server_put(vs.server, path, set_prop(r.text, name, server_value),
                      {"If-Match": r.headers["ETag"]}).status_code == 204
    local_dir = (vs.cal if path.startswith(CAL) else vs.card) / collection
    local = local_file(local_dir, uid)
    with open(local, encoding="utf-8") as f:
        write_local(local, set_prop(f.read(), name, local_value))


def values(vs, item):
    """(the server's value, the vdir's value) of the item's property."""
    path, collection, uid, name = item
    server = prop(server_get(vs.server, path).text, name)
    local_dir = (vs.cal if path.startswith(CAL) else vs.card) / collection
    return server, prop(local_by_uid(local_dir)[uid], name)


def test_conflicting_edit_is_reported_then_resolved(synced):
    vs = synced
    conflict(vs, LUNCH_ITEM, "Lunch (server)", "Lunch (local)")
    conflict(vs, JANE_ITEM, "Jane (server)", "Jane (local)")

    # Without a resolution: reported, non-zero, both versions kept. One
    # collection a run: vdirsyncer 0.19 stops every collection's requests
    # when one of them fails, so a second conflict might go unreported.
    for collection, uid in (("cal/calendar", "lunch-1@example.org"),
                            ("card/contacts", "jane-1@example.org")):
        code, out, access = vs.sync(collection, expect_ok=False)
        assert code != 0
        assert "One item changed on both sides" in out and f"Item ID: {uid}" in out, out
        assert not [a for a in access if a[0] in ("PUT", "DELETE")], access
    assert values(vs, LUNCH_ITEM) == ("Lunch (server)", "Lunch (local)")
    assert values(vs, JANE_ITEM) == ("Jane (server)", "Jane (local)")

    # "a wins": the server's version (a is the server) ends on both.
    vs.write_config("a wins")
    code, out, access = vs.sync()
    assert values(vs, LUNCH_ITEM) == ("Lunch (server)", "Lunch (server)")
    assert values(vs, JANE_ITEM) == ("Jane (server)", "Jane (server)")
    assert not [a for a in access if a[0] in ("PUT", "DELETE")], access

    # "b wins": the local version ends on both, written with If-Match.
    conflict(vs, LUNCH_ITEM, "Lunch (server 2)", "Lunch (local 2)")
    conflict(vs, JANE_ITEM, "Jane (server 2)", "Jane (local 2)")
    vs.write_config("b wins")
    code, out, access = vs.sync()
    assert values(vs, LUNCH_ITEM) == ("Lunch (local 2)", "Lunch (local 2)")
    assert values(vs, JANE_ITEM) == ("Jane (local 2)", "Jane (local 2)")
    assert [s for m, _, s in access if m == "PUT"] == ["204", "204"], access

    code, out, access = vs.sync()
    assert "Copying" not in out, out


def test_time_window_lists_with_calendar_query(dav, tmp_path):
    """With item_types and a date window vdirsyncer lists by calendar-query
    (REPORT, Depth 1, a time-range in a VEVENT comp-filter): only the
    events with an instance in March come down, the recurring one through
    its instances and its override."""
    vs = Sync(dav, tmp_path, cal_options='item_types = ["VEVENT"]\n'
              'start_date = "datetime(2024, 3, 1)"\nend_date = "datetime(2024, 4, 1)"')
    vs.cal.mkdir()
    vs.card.mkdir()
    code, out, _ = vs.run("discover", "cal", stdin="y\n" * 10)
    assert code == 0, out
    code, out, access = vs.run("sync", "cal/calendar")
    assert code == 0, out
    assert sorted(local_by_uid(vs.cal / "calendar")) == ["weekly-1@example.org"]
    reports = [(requests.utils.unquote(t), s) for m, t, s in access if m == "REPORT"]
    # One calendar-query, one multiget.
    assert reports == [(CAL, "207"), (CAL, "207")], access
    assert "PROPFIND" not in {m for m, t, _ in access if t.endswith("/calendar/")}, access


RACE = """import sys, requests
# Another client changes the server's copy while vdirsyncer resolves.
url, login, password = {url!r}, {login!r}, {password!r}
s = requests.Session(); s.auth = (login, password)
r = s.get(url, timeout=10)
text = r.text.replace("SUMMARY:Lunch (server)", "SUMMARY:Lunch (third client)")
assert s.put(url, data=text.encode(), headers={{"If-Match": r.headers["ETag"],
             "Content-Type": "text/calendar"}}, timeout=10).status_code == 204
# b wins: the local version replaces a's.
a, b = sys.argv[1], sys.argv[2]
open(a, "w").write(open(b).read())
"""


def test_stale_etag_is_refused(synced):
    """vdirsyncer writes with the ETag it listed; a change made by another
    client after the listing must make that write fail (412), not be lost."""
    vs = synced
    script = vs.tmp / "race.py"
    script.write_text(RACE.format(url=vs.server.url(CAL + "team%20lunch.ics"), login=ALICE,
                                  password=PASSWORD))
    conflict(vs, LUNCH_ITEM, "Lunch (server)", "Lunch (local)")
    vs.write_config(["command", sys.executable, str(script)])

    code, out, access = vs.sync("cal/calendar", expect_ok=False)
    assert code != 0, out
    # The third client's PUT (204), then vdirsyncer's with the listed ETag.
    puts = [(requests.utils.unquote(t), s) for m, t, s in access if m == "PUT"]
    assert puts == [(CAL + "team lunch.ics", "204"), (CAL + "team lunch.ics", "412")], access
    assert "Precondition Failed" in out, out
    # Nothing lost: the third client's edit on the server, the local one here.
    assert values(vs, LUNCH_ITEM) == ("Lunch (third client)", "Lunch (local)")
    # The next sync lists the new ETag and resolves the conflict with it.
    vs.write_config("b wins")
    vs.sync()
    assert values(vs, LUNCH_ITEM) == ("Lunch (local)", "Lunch (local)")

    # The same for a deletion with a stale ETag, and for one that matches.
    etags, _ = listing(vs.server, CAL)
    stale = '"0123456789abcdef0123456789abcdef"'
    url = vs.server.url(CAL + "team%20lunch.ics")
    assert session().delete(url, headers={"If-Match": stale}, timeout=10).status_code == 412
    assert server_put(vs.server, CAL + "team%20lunch.ics", LUNCH,
                      {"If-Match": stale}).status_code == 412
    # vdirsyncer uploads with If-None-Match: *, which must not overwrite.
    assert server_put(vs.server, CAL + "team%20lunch.ics", LUNCH,
                      {"If-None-Match": "*"}).status_code == 412
    assert server_put(vs.server, BOOK + "jane:1.vcf", JANE,
                      {"If-None-Match": "*"}).status_code == 412
    assert session().delete(url, headers={"If-Match": etags["team lunch.ics"]},
                            timeout=10).status_code == 204
