#!/usr/bin/env python3
"""Independent reference for crates/core's recurrence and iCalendar modules.

    rrule_reference.py rules CASES.json OUT.json
        For each case, expand its RRULE text with dateutil.rrule (rrulestr) from a DTSTART that
        is a Europe/London local date-time (zoneinfo), remove its closure dates with an
        rruleset, and write every session's UTC start and end as Unix seconds.

    rrule_reference.py ics FEED.ics OUT.json
        Parse a calendar with the icalendar package and write each VEVENT's properties
        (UTC instants as Unix seconds, TEXT values unescaped), and the longest line in octets.

Semantics the Rust side documents and this script mirrors:
  * an UNTIL that is a date means "up to and including that local day" (dateutil alone would
    read it as midnight at its start), so it is replaced by 23:59:59 local time that day;
  * the series' own end date (ends_on) is an inclusive local date, applied the same way;
  * a local time in the spring-forward gap is read with fold=0, i.e. with the offset before
    the change (01:30 becomes 01:30Z = 02:30 BST), and a repeated time with fold=0, the
    earlier (BST) instant: RFC 5545's rule.
"""

import json
import re
import sys
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr, rruleset

LONDON = ZoneInfo("Europe/London")


def local(d, t):
    return datetime.combine(d, t, tzinfo=LONDON)


def end_of_day(d):
    return local(d, time(23, 59, 59))


def expand(case):
    start = local(date.fromisoformat(case["start_date"]), time.fromisoformat(case["start_time"]))
    kept = []
    until_date = None
    for part in case["rule"].split(";"):
        name, _, value = part.partition("=")
        if name.strip().upper() == "UNTIL" and len(value.strip()) == 8:
            v = value.strip()
            until_date = date(int(v[0:4]), int(v[4:6]), int(v[6:8]))
        else:
            kept.append(part)
    rule = rrulestr(";".join(kept), dtstart=start)
    names = {part.partition("=")[0].strip().upper() for part in kept}
    ends_on = case.get("ends_on") and date.fromisoformat(case["ends_on"])
    if until_date is not None:
        rule = rule.replace(until=end_of_day(until_date))
    elif "COUNT" not in names and "UNTIL" not in names:
        rule = rule.replace(until=end_of_day(ends_on))
    rset = rruleset()
    rset.rrule(rule)
    for ex in case.get("exdates", []):
        rset.exdate(local(date.fromisoformat(ex), start.timetz().replace(tzinfo=None)))
    minutes = timedelta(minutes=case["duration_minutes"])
    out = []
    for dt in rset:
        if ends_on and dt.date() > ends_on:
            break
        utc = dt.astimezone(timezone.utc)
        out.append(
            {
                "original_date": dt.date().isoformat(),
                "start": int(utc.timestamp()),
                "end": int((utc + minutes).timestamp()),
            }
        )
    return out


def rules(path_in, path_out):
    with open(path_in, encoding="utf-8") as f:
        cases = json.load(f)
    result = {c["id"]: expand(c) for c in cases}
    with open(path_out, "w", encoding="utf-8") as f:
        json.dump(result, f)


def unescape_text(s):
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), s)


def ics(path_in, path_out):
    from icalendar import Calendar

    with open(path_in, "rb") as f:
        data = f.read()
    longest = max(len(line) for line in data.split(b"\r\n"))
    bare_lf = data.replace(b"\r\n", b"").count(b"\n")
    cal = Calendar.from_ical(data)
    events = []
    for ev in cal.walk("VEVENT"):
        start = ev.decoded("DTSTART")
        end = ev.decoded("DTEND")
        stamp = ev.decoded("DTSTAMP")
        for v in (start, end, stamp):
            if v.utcoffset() != timedelta(0):
                raise SystemExit(f"{ev.get('UID')}: not in UTC: {v!r}")
        events.append(
            {
                "uid": str(ev.get("UID")),
                "start": int(start.timestamp()),
                "end": int(end.timestamp()),
                "dtstamp": int(stamp.timestamp()),
                "summary": str(ev.get("SUMMARY")),
                "location": None if ev.get("LOCATION") is None else str(ev.get("LOCATION")),
                "description": None
                if ev.get("DESCRIPTION") is None
                else str(ev.get("DESCRIPTION")),
                "status": str(ev.get("STATUS")),
                "sequence": int(ev.get("SEQUENCE")),
            }
        )
    result = {
        # icalendar leaves unknown X- properties (vUnknown) escaped; their default type is
        # TEXT (RFC 5545 3.8.8.2), so undo the TEXT escapes here.
        "name": unescape_text(str(cal.get("X-WR-CALNAME"))),
        "method": str(cal.get("METHOD")),
        "version": str(cal.get("VERSION")),
        "longest_line_octets": longest,
        "bare_lf": bare_lf,
        "events": events,
    }
    with open(path_out, "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False)


if __name__ == "__main__":
    mode, path_in, path_out = sys.argv[1:4]
    {"rules": rules, "ics": ics}[mode](path_in, path_out)
