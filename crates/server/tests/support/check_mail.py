#!/usr/bin/env python3
# Reads one stored mail with Python's email package and its calendar with Debian's
# python3-icalendar (parsers independent of ours) and prints what the test checks, as JSON.
# Usage: check_mail.py FILE.eml
import email
import email.policy
import json
import sys

import icalendar


def main():
    with open(sys.argv[1], "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    out = {
        "subject": str(msg["subject"]),
        "from": str(msg["from"]),
        "to": str(msg["to"]),
        "reply_to": str(msg["reply-to"]) if msg["reply-to"] else None,
        "message_id": str(msg["message-id"]),
        "content_type": msg.get_content_type(),
        "parts": [],
        "attachments": [],
    }
    calendars = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if part.is_multipart():
            out["parts"].append(ctype)
            continue
        disposition = part.get_content_disposition()
        if disposition == "attachment":
            out["attachments"].append({"filename": part.get_filename(), "type": ctype})
        else:
            out["parts"].append(ctype)
        payload = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
        if ctype == "text/plain" and disposition != "attachment":
            out["plain"] = payload
        elif ctype == "text/html":
            out["html"] = payload
        if ctype in ("text/calendar", "application/ics"):
            if disposition != "attachment":
                out["calendar_method_param"] = part.get_param("method")
            calendars.append(payload)
    out["calendars_identical"] = len(set(calendars)) == 1 and len(calendars) == 2
    cal = icalendar.Calendar.from_ical(calendars[0])
    out["method"] = str(cal.get("method"))
    out["prodid"] = str(cal.get("prodid"))
    tz = [c for c in cal.walk("VTIMEZONE")]
    out["vtimezone"] = [str(t.get("tzid")) for t in tz]
    out["vtimezone_parts"] = [c.name for t in tz for c in t.subcomponents]
    events = cal.walk("VEVENT")
    ev = events[0]
    out["uid"] = str(ev.get("uid"))
    out["sequence"] = int(ev.get("sequence"))
    out["summary"] = str(ev.get("summary"))
    out["location"] = str(ev.get("location"))
    out["description"] = str(ev.get("description"))
    out["status"] = str(ev.get("status"))
    out["organizer"] = str(ev.get("organizer"))
    attendees = ev.get("attendee")
    attendees = attendees if isinstance(attendees, list) else [attendees]
    out["attendees"] = [
        {"address": str(a), "rsvp": a.params.get("RSVP"), "role": a.params.get("ROLE")}
        for a in attendees
    ]
    start = ev.decoded("dtstart")
    end = ev.decoded("dtend")
    out["dtstart_tzid"] = ev.get("dtstart").params.get("TZID")
    out["dtstart_utc"] = start.astimezone(__import__("datetime").timezone.utc).isoformat()
    out["dtend_utc"] = end.astimezone(__import__("datetime").timezone.utc).isoformat()
    out["url"] = str(ev.get("url")) if ev.get("url") else None
    print(json.dumps(out))


if __name__ == "__main__":
    main()
