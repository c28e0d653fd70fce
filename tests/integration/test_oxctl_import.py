"""oxctl import and export: .ics and .vcf files of many objects, bad entries
reported by line and skipped, the rest kept, and the folder written back.
"""
import json
import os
import re
import subprocess
import time

import pytest

from conftest import FIXTURES, OXCTL

FAST = ["--set", "auth.argon2_ops=1", "--set", "auth.argon2_memory=64k"]
EXIT_INVALID, EXIT_NOT_FOUND = 3, 4
LOGIN = "alice@acme.example"


def ctl(data, *args, input=None):
    return subprocess.run([OXCTL, "--data", str(data), *FAST, *args], input=input,
                          capture_output=True, text=True, errors="replace", timeout=120)


def ok(data, *args):
    r = ctl(data, *args)
    assert r.returncode == 0, f"oxctl {' '.join(args)} -> {r.returncode}: {r.stderr}"
    return r.stdout


@pytest.fixture
def tenant(tmp_path):
    data = tmp_path / "data"
    ok(data, "context", "create", "acme", "--domain", "acme.example")
    r = ctl(data, "user", "create", LOGIN, "--name", "Alice", "--password-stdin",
            input="secret-pw\n")
    assert r.returncode == 0, r.stderr
    folders = json.loads(ok(data, "folder", "list", LOGIN, "--json"))
    ids = {f["module"]: f["id"] for f in folders if f.get("role") in ("calendar", "contacts")}
    return data, ids["calendar"], ids["contacts"]


TZ = """BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
"""


def event(uid, day, recurring=False, recurrence_id=None):
    lines = ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20250101T000000Z",
             f"DTSTART;TZID=Europe/Berlin:2025{1 + day % 12:02d}{1 + day % 28:02d}T100000",
             f"DTEND;TZID=Europe/Berlin:2025{1 + day % 12:02d}{1 + day % 28:02d}T110000",
             f"SUMMARY:Event {uid} with a summary long enough to be folded by the writer "
             "of this file,\n  as RFC 5545 folds it"]
    if recurring:
        lines.append("RRULE:FREQ=WEEKLY;COUNT=10")
    if recurrence_id:
        lines.append(f"RECURRENCE-ID;TZID=Europe/Berlin:{recurrence_id}")
    lines.append("END:VEVENT")
    return "\n".join(lines) + "\n"


def calendar(body):
    return "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//import//EN\n" + TZ + body + \
        "END:VCALENDAR\n"


def exported_uids(text):
    return set(re.findall(r"(?m)^UID:(.*?)\r?$", text))


def test_import_export_2000_events(tenant, tmp_path):
    data, cal, _ = tenant
    body, overrides = [], []
    for i in range(2000):
        recurring = i % 10 == 0
        body.append(event(f"ev-{i}", i, recurring))
        if recurring and i % 20 == 0:
            # The override comes after every master: it must join its UID.
            day = event(f"ev-{i}", i, True)
            start = re.search(r"DTSTART;TZID=Europe/Berlin:(\d+T\d+)", day).group(1)
            overrides.append(event(f"ev-{i}", i, False, recurrence_id=start))
    path = tmp_path / "big.ics"
    path.write_text(calendar("".join(body + overrides)))
    started = time.monotonic()
    r = ctl(data, "import", LOGIN, str(cal), str(path))
    took = time.monotonic() - started
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert r.stdout.strip() == "imported 2000, skipped 0"
    assert took < 20, f"import took {took:.1f}s"

    out = tmp_path / "out.ics"
    assert "exported" in ok(data, "export", LOGIN, str(cal), str(out))
    text = out.read_text()
    assert exported_uids(text) == {f"ev-{i}" for i in range(2000)}
    assert text.count("BEGIN:VEVENT") == 2000 + len(overrides)
    assert text.count("RECURRENCE-ID") == len(overrides)
    assert text.count("BEGIN:VTIMEZONE") == 1
    # stdout gets the same calendar.
    assert exported_uids(ok(data, "export", LOGIN, str(cal))) == exported_uids(text)
    # Importing the same file again replaces the objects.
    r = ctl(data, "import", LOGIN, str(cal), str(path))
    assert r.returncode == 0 and r.stdout.strip() == "imported 2000, skipped 0", r.stderr
    assert exported_uids(ok(data, "export", LOGIN, str(cal))) == exported_uids(text)


def invalid_fixtures(ext):
    folder = os.path.join(FIXTURES, "invalid")
    if not os.path.isdir(folder):
        return []
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(ext))


def reported(stderr, path):
    """{line: reason} of the `oxctl: FILE:LINE: reason` lines."""
    out = {}
    for line in stderr.splitlines():
        m = re.fullmatch(rf"oxctl: {re.escape(str(path))}:(\d+): (.+)", line)
        assert m, f"unexpected stderr line: {line}"
        out[int(m.group(1))] = m.group(2)
    return out


def test_import_mixed_good_and_bad(tenant, tmp_path):
    data, cal, _ = tenant
    parts = [("good", calendar(event("good-1", 1) + event("good-2", 2, True)))]
    parts.append(("bad", "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\n"
                         "BEGIN:VEVENT\nDTSTART:20250101T100000Z\nSUMMARY:no uid\nEND:VEVENT\n"
                         "END:VCALENDAR\n"))
    parts.append(("bad", "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\n"
                         "BEGIN:VEVENT\nUID:bad-dates\nDTSTAMP:20250101T000000Z\n"
                         "DTSTART:not-a-date\nEND:VEVENT\nEND:VCALENDAR\n"))
    parts.append(("bad", "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\n"
                         "BEGIN:VEVENT\nUID:bad-end\nDTSTAMP:20250101T000000Z\n"
                         "DTSTART:20250101T100000Z\nEND:VTODO\nEND:VCALENDAR\n"))
    parts.append(("good", calendar(event("good-3", 3))))
    fixtures = invalid_fixtures(".ics")
    for name in fixtures:
        with open(name, "rb") as f:
            parts.append(("fixture", f.read().rstrip(b"\r\n") + b"\n"))
    parts.append(("bad", "some stray text\n"))
    parts.append(("good", calendar(event("good-4", 4))))

    text, bad_lines = b"", []
    for kind, part in parts:
        if isinstance(part, str):
            part = part.encode()
        if kind == "bad":
            first = part.decode().splitlines()
            at = next((i for i, l in enumerate(first) if l == "BEGIN:VEVENT"), 0)
            bad_lines.append(text.count(b"\n") + at + 1)
        text += part
    path = tmp_path / "mixed.ics"
    path.write_bytes(text)
    r = ctl(data, "import", LOGIN, str(cal), str(path))
    assert r.returncode == 0, r.stderr
    lines = reported(r.stderr, path)
    for line in bad_lines:
        assert line in lines, f"line {line} not reported: {r.stderr}"
    file_lines = text.split(b"\n")
    for line in lines:
        assert 1 <= line <= len(file_lines)
    m = re.fullmatch(r"imported (\d+), skipped (\d+)", r.stdout.strip())
    imported, skipped = int(m.group(1)), int(m.group(2))
    assert skipped == len(lines) and skipped >= len(bad_lines)
    uids = exported_uids(ok(data, "export", LOGIN, str(cal)))
    assert {"good-1", "good-2", "good-3", "good-4"} <= uids
    assert not uids & {"bad-dates", "bad-end"}
    assert len(uids) == imported

    # Only bad entries: a distinct exit code, nothing stored.
    only_bad = tmp_path / "bad.ics"
    only_bad.write_text(parts[1][1] + parts[2][1])
    r = ctl(data, "import", LOGIN, str(cal), str(only_bad))
    assert r.returncode == EXIT_INVALID, r.stderr
    assert sorted(reported(r.stderr, only_bad)) == [4, 12]
    assert r.stdout.strip() == "imported 0, skipped 2"
    assert exported_uids(ok(data, "export", LOGIN, str(cal))) == uids


def test_import_refusals(tenant, tmp_path):
    data, cal, _ = tenant
    path = tmp_path / "one.ics"
    path.write_text(calendar(event("one", 1)))
    r = ctl(data, "import", LOGIN, str(cal), str(tmp_path / "missing.ics"))
    assert r.returncode == EXIT_NOT_FOUND and r.stderr.startswith("oxctl: ")
    r = ctl(data, "import", LOGIN, "999999", str(path))
    assert r.returncode == EXIT_NOT_FOUND and "999999" in r.stderr
    r = ctl(data, "import", "nobody@acme.example", str(cal), str(path))
    assert r.returncode == EXIT_NOT_FOUND
    empty = tmp_path / "empty.ics"
    empty.write_text("")
    r = ctl(data, "import", LOGIN, str(cal), str(empty))
    assert r.returncode == EXIT_INVALID
    assert exported_uids(ok(data, "export", LOGIN, str(cal))) == set()


def card(uid, name, version="3.0"):
    return (f"BEGIN:VCARD\r\nVERSION:{version}\r\nUID:{uid}\r\nFN:{name}\r\n"
            f"N:{name};;;;\r\nEMAIL:{uid}@example.org\r\nEND:VCARD\r\n")


def test_vcard_round_trip(tenant, tmp_path):
    data, _, book = tenant
    cards = [card(f"c-{i}", f"Person {i}", "4.0" if i % 2 else "3.0") for i in range(300)]
    bad = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:No Uid\r\nEND:VCARD\r\n"
    text = "".join(cards[:100]) + bad + "".join(cards[100:])
    bad_line = 100 * 7 + 1
    raw = text.encode()
    fixtures = invalid_fixtures(".vcf")
    for name in fixtures:
        with open(name, "rb") as f:
            raw += f.read().rstrip(b"\r\n") + b"\r\n"
    path = tmp_path / "cards.vcf"
    path.write_bytes(raw)
    r = ctl(data, "import", LOGIN, str(book), str(path))
    assert r.returncode == 0, r.stderr
    lines = reported(r.stderr, path)
    assert bad_line in lines, r.stderr
    assert len(lines) >= 1 + len(fixtures)
    assert r.stdout.strip() == f"imported 300, skipped {len(lines)}"

    out = tmp_path / "out.vcf"
    ok(data, "export", LOGIN, str(book), str(out))
    exported = out.read_bytes().decode()
    assert exported.count("BEGIN:VCARD") == 300
    assert exported_uids(exported) == {f"c-{i}" for i in range(300)}
    assert "FN:Person 299\r\n" in exported

    # The export imports again into another book, unchanged.
    ok(data, "folder", "create", LOGIN, "--module", "contacts", "--name", "Copy")
    folders = json.loads(ok(data, "folder", "list", LOGIN, "--json"))
    copy = next(f["id"] for f in folders if f["name"] == "Copy")
    r = ctl(data, "import", LOGIN, str(copy), str(out))
    assert r.returncode == 0 and r.stdout.strip() == "imported 300, skipped 0", r.stderr
    again = ok(data, "export", LOGIN, str(copy))
    exported = exported.replace("\r\n", "\n")
    assert sorted(again.split("END:VCARD")) == sorted(exported.split("END:VCARD"))
