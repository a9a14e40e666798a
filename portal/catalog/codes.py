"""Pools of e-certificate codes: reading marketing's CSV file whole before anything is
written, and masking codes for the lists.

A file is ``code,value,expiry`` (a header line naming exactly those columns, then one
code per line; expiry as YYYY-MM-DD or empty). Any problem refuses the whole file with
the line it is on: a wrong or missing column, an empty or over-long code, a bad or past
date, a code twice in the file, a file too large.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from portal.i18n import N_, Refusal

COLUMNS = ["code", "value", "expiry"]
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_CODES = 50_000
MAX_CODE_LENGTH = 200
MAX_VALUE_LENGTH = 100


class CodeFileRefused(Refusal):
    """The file was refused whole; ``line`` is where (0: the file itself)."""

    status = 400

    def __init__(self, at: int, message: str, **params: object) -> None:
        super().__init__(message, **params)
        self.line = at


@dataclass(frozen=True)
class CodeRow:
    line: int
    code: str
    value: str
    expires_on: date | None


def mask(last4: str) -> str:
    """What marketing's lists show of a code: its last four characters."""
    return f"•••• {last4}"


def read_code_file(data: bytes, *, today: date) -> list[CodeRow]:
    if len(data) > MAX_FILE_BYTES:
        raise CodeFileRefused(0, N_("The file is larger than %(most)s MB."),
                              most=MAX_FILE_BYTES // (1024 * 1024))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CodeFileRefused(0, N_("The file is not UTF-8 text.")) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error:
        header = None
    if header is None or [h.strip().lower() for h in header] != COLUMNS:
        raise CodeFileRefused(1, N_("Line 1 must name the columns code,value,expiry."))
    rows: list[CodeRow] = []
    seen: dict[str, int] = {}
    try:
        for fields in reader:
            line = reader.line_num
            if not any(field.strip() for field in fields):
                continue  # a blank line
            rows.append(_row(line, fields, seen, today))
            if len(rows) > MAX_CODES:
                raise CodeFileRefused(line, N_("Line %(line)s: a file holds at most "
                                               "%(most)s codes."), line=line, most=MAX_CODES)
    except csv.Error:
        raise CodeFileRefused(reader.line_num, N_("Line %(line)s is not valid CSV."),
                              line=reader.line_num) from None
    if not rows:
        raise CodeFileRefused(0, N_("The file has no codes."))
    return rows


def _row(line: int, fields: list[str], seen: dict[str, int], today: date) -> CodeRow:
    if len(fields) != len(COLUMNS):
        raise CodeFileRefused(line, N_("Line %(line)s has %(count)s columns, not 3 "
                                       "(code,value,expiry)."), line=line, count=len(fields))
    code, value, expiry = (field.strip() for field in fields)
    if not code:
        raise CodeFileRefused(line, N_("Line %(line)s has an empty code."), line=line)
    if len(code) > MAX_CODE_LENGTH or any(ch.isspace() for ch in code):
        raise CodeFileRefused(line, N_("Line %(line)s: a code is at most %(most)s "
                                       "characters without spaces."), line=line,
                              most=MAX_CODE_LENGTH)
    if code in seen:
        raise CodeFileRefused(line, N_("Line %(line)s repeats the code of line %(first)s."),
                              line=line, first=seen[code])
    if len(value) > MAX_VALUE_LENGTH:
        raise CodeFileRefused(line, N_("Line %(line)s: the value is longer than %(most)s "
                                       "characters."), line=line, most=MAX_VALUE_LENGTH)
    expires_on = None
    if expiry:
        try:
            expires_on = date.fromisoformat(expiry)
        except ValueError:
            raise CodeFileRefused(line, N_("Line %(line)s: the expiry %(date)s is not a date "
                                           "(YYYY-MM-DD)."), line=line,
                                  date=expiry[:20]) from None
        if expires_on < today:
            raise CodeFileRefused(line, N_("Line %(line)s: the code expired on %(date)s."),
                                  line=line, date=expiry)
    seen[code] = line
    return CodeRow(line, code, value, expires_on)
