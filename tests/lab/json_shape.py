#!/usr/bin/python3
"""Checks ringfencectl --json output against its table in docs/json.md.

Usage: json_shape.py DOC SECTION < OUTPUT
SECTION is a "### name" heading of DOC (status, list, show, events, ...).
`list` and `learn` are arrays of such objects; `events` is one object per
line. Every key in the output must be documented; every documented key must
be there (unless its meaning starts with *Only*, which names the events or
the condition it depends on); each value must have the documented type.
Exits 0 when the output matches, else prints what does not and exits 1."""
import json
import re
import sys

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def table(doc, section):
    rows, inside, seen = {}, False, False
    for line in open(doc, encoding="utf-8"):
        if line.startswith("### "):
            inside = line[4:].strip() == section or section in [s.strip() for s in line[4:].split(",")]
            seen = seen or inside
            continue
        if inside and line.startswith("| ") and not line.startswith("| key") and not line.startswith("| ---"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            rows[cells[0]] = (cells[1], cells[2])
    if not seen or not rows:
        sys.exit(f"json_shape: no table for '{section}' in {doc}")
    return rows


def type_ok(kind, v):
    return {
        "string": isinstance(v, str),
        "string or null": v is None or isinstance(v, str),
        "integer": isinstance(v, int) and not isinstance(v, bool) and v >= 0,
        "boolean": isinstance(v, bool),
        "time": v is None or (isinstance(v, str) and TIME.match(v) is not None),
        "array of strings": isinstance(v, list) and all(isinstance(x, str) for x in v),
        "array of objects": isinstance(v, list) and all(isinstance(x, dict) for x in v),
        "object": isinstance(v, dict),
    }.get(kind, False)


def check(obj, rows, where):
    problems = []
    if not isinstance(obj, dict):
        return [f"{where}: not an object"]
    event = obj.get("event")
    for key, (kind, meaning) in rows.items():
        only = re.match(r"\*Only\* ([^:]*)", meaning)
        required = not only
        if only and event is not None:
            names = [n.strip() for n in only.group(1).split(",")]
            required = event in names
        if key not in obj:
            if required:
                problems.append(f"{where}: '{key}' missing")
            continue
        if not type_ok(kind, obj[key]):
            problems.append(f"{where}: '{key}' is {json.dumps(obj[key])}, documented as {kind}")
    for key in obj:
        if key not in rows:
            problems.append(f"{where}: '{key}' is not documented")
    return problems


def main():
    doc, section = sys.argv[1], sys.argv[2]
    rows = table(doc, section)
    text = sys.stdin.read()
    problems = []
    if section == "events":
        lines = [l for l in text.splitlines() if l.strip()]
        if not lines:
            problems.append("no events")
        for n, line in enumerate(lines, 1):
            problems += check(json.loads(line), rows, f"line {n}")
    else:
        doc_obj = json.loads(text)
        if section in ("list", "learn"):
            if not isinstance(doc_obj, list):
                problems.append("not an array")
            else:
                for n, o in enumerate(doc_obj):
                    problems += check(o, rows, f"[{n}]")
        else:
            problems += check(doc_obj, rows, section)
    for p in problems:
        print(f"json_shape {section}: {p}")
    sys.exit(1 if problems else 0)


main()
