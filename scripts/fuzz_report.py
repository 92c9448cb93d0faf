"""What each operation answered during a schemathesis run, from its HAR reports.

    python scripts/fuzz_report.py SCHEMA_URL_OR_FILE HAR_FILE [HAR_FILE ...]

Prints one line per operation of the schema with the statuses it answered, and exits 1 when
an operation never answered a 2xx (the run did not reach its success path) or was never
called. Used by ``make fuzz`` (scripts/fuzz.sh).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.request
from collections import defaultdict
from urllib.parse import urlsplit

METHODS = {"get", "post", "put", "patch", "delete"}


def load_schema(where: str) -> dict:
    if re.match(r"https?://", where):
        with urllib.request.urlopen(where, timeout=30) as answer:  # noqa: S310 (our server)
            return json.load(answer)
    with open(where, encoding="utf-8") as file:
        return json.load(file)


def operations(schema: dict) -> list[tuple[str, str, re.Pattern]]:
    found = []
    for path, item in schema["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "/?$")
        for method in item:
            if method in METHODS:
                found.append((method.upper(), path, pattern))
    # A literal segment wins over a placeholder: /sessions/fields is not /sessions/{id}.
    return sorted(found, key=lambda operation: operation[1].count("{"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("schema", help="The schema's URL or a file holding it (JSON).")
    parser.add_argument("har", nargs="+", help="HAR files that schemathesis --report har wrote.")
    args = parser.parse_args(argv)

    known = operations(load_schema(args.schema))
    statuses: dict[tuple[str, str], set[int]] = defaultdict(set)
    for name in args.har:
        with open(name, encoding="utf-8") as file:
            entries = json.load(file)["log"]["entries"]
        for entry in entries:
            method = entry["request"]["method"].upper()
            path = urlsplit(entry["request"]["url"]).path
            for known_method, template, pattern in known:
                if method == known_method and pattern.match(path):
                    statuses[(method, template)].add(int(entry["response"]["status"]))
                    break

    missing = []
    for method, template, _ in known:
        seen = sorted(statuses.get((method, template), ()))
        reached = any(200 <= status < 300 for status in seen)
        print(f"{'ok ' if reached else 'NO '} {method:6} {template}: {seen or 'never called'}")
        if not reached:
            missing.append(f"{method} {template}")
    if missing:
        print(f"\n{len(missing)} operation(s) never answered a 2xx: " + ", ".join(missing))
        return 1
    print(f"\nevery one of the {len(known)} operations answered a 2xx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
