"""Uploaded CSV files read the same way for every import (registrants, sessions)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000


class FileRefused(ValueError):
    """The file as a whole cannot be read: too big, not UTF-8 CSV, a header that does not
    fit, too many rows. The message says which, to the person who uploaded it."""


def read_rows(
    raw: bytes,
    *,
    check_header: Callable[[list[str]], None],
    lower: bool = False,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
) -> list[dict[str, str]]:
    """The rows as dicts keyed by the stripped header names (lower-cased with ``lower``);
    ``check_header`` raises ``FileRefused`` for a header it cannot take."""
    if len(raw) > max_bytes:
        raise FileRefused(f"The file is larger than {max_bytes // 1024 // 1024} MB.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRefused("The file is not UTF-8 text.") from None
    if "\x00" in text:
        raise FileRefused("The file is not a CSV text file.")
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = reader.fieldnames or []  # read here: a header too long for csv raises
    except csv.Error as exc:
        raise FileRefused(f"The file's header row is not valid CSV: {exc}.") from None
    names = [(name or "").strip() for name in header]
    if lower:
        names = [name.lower() for name in names]
    check_header(names)
    reader.fieldnames = names
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise FileRefused(f"The file is not valid CSV: {exc}.") from None
    if len(rows) > max_rows:
        raise FileRefused(f"At most {max_rows:,} rows per file.")
    return rows
