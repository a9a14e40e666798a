"""Interface translation with Babel catalogs and the language of the current request.

Catalogs are read from ``portal/locale/<lang>/LC_MESSAGES/messages.po`` and compiled in
memory at start-up, so there is no build step and no compiled file to forget.
"""

from __future__ import annotations

import gettext as stdlib_gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from portal.settings import LANGUAGES

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "tr": "Türkçe", "id": "Bahasa Indonesia"}

_language: ContextVar[str] = ContextVar("language", default="en")
# The reader's time zone (theirs, their company's or the portal's), set per request.
_zone: ContextVar[str] = ContextVar("zone", default="UTC")


def _load() -> dict[str, stdlib_gettext.NullTranslations]:
    catalogs: dict[str, stdlib_gettext.NullTranslations] = {}
    for language in LANGUAGES:
        po_file = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
        if not po_file.exists():
            catalogs[language] = stdlib_gettext.NullTranslations()
            continue
        with po_file.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        compiled = BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        catalogs[language] = stdlib_gettext.GNUTranslations(compiled)
    return catalogs


_catalogs = _load()


def current_language() -> str:
    return _language.get()


@contextmanager
def language(code: str) -> Iterator[None]:
    token = _language.set(code if code in LANGUAGES else "en")
    try:
        yield
    finally:
        _language.reset(token)


def current_zone() -> str:
    return _zone.get()


@contextmanager
def time_zone(name: str) -> Iterator[None]:
    """Dates and times in this block are read on ``name``'s clock (an IANA zone)."""
    token = _zone.set(name)
    try:
        yield
    finally:
        _zone.reset(token)


def gettext(message: str) -> str:
    return _catalogs[_language.get()].gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _catalogs[_language.get()].ngettext(singular, plural, n)


def negotiate(accept_language: str, default: str) -> str:
    """The best shipped language for an Accept-Language header, by its q-weights."""
    weighted = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.partition(";")
        tag = tag.strip().replace("-", "_")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and weight > 0:
            weighted.append((-weight, position, tag))
    for _, _, tag in sorted(weighted):
        try:
            code = Locale.parse(tag).language
        except (ValueError, UnknownLocaleError):
            continue
        if code in LANGUAGES:
            return code
    return default


def N_(message: str) -> str:
    """Marks a string for extraction; it is translated where it is shown."""
    return message


class Refusal(Exception):
    """A request refused for a reason the person should read, in their own language.

    ``message`` is the English text marked with ``N_``; ``params`` fill its placeholders.
    ``status`` is the HTTP status a handler answers with when it does not catch it.
    """

    status = 409

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params

    def translated(self) -> str:
        text = gettext(self.message)
        return text % self.params if self.params else text


KIND_LABELS = {
    "earn": N_("Earned"),
    "burn": N_("Burned"),
    "spend": N_("Spent"),
    "capture": N_("Auction won"),
    "donate": N_("Donated"),
    "adjust": N_("Adjustment"),
    "refund": N_("Refunded"),
    "share": N_("Company share"),
}


def kind_label(kind: str) -> str:
    return gettext(KIND_LABELS.get(kind, kind))


def points(value: int) -> str:
    return format_decimal(value, locale=_language.get())


def day(value: date | datetime, zone: str | None = None) -> str:
    """A long date; a moment's date as it is in ``zone`` (the reader's by default)."""
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(zone or _zone.get()))
    return format_date(value, format="long", locale=_language.get())


def when(value: datetime, zone: str | None = None) -> str:
    """A moment as it is in ``zone``, the zone named: "December 2, 2026, 2:00 AM
    (Coordinated Universal Time)", "2 декабря 2026 г., 02:00 (Всемирное координированное
    время)"."""
    local = value.astimezone(ZoneInfo(zone or _zone.get()))
    locale = Locale.parse(_language.get())
    # The locale's own way of joining a date and a time, as Babel's format_datetime does.
    joined = (str(locale.datetime_formats["long"]).replace("'", "")
              .replace("{0}", format_time(local, "short", locale=locale))
              .replace("{1}", format_date(local, "long", locale=locale)))
    return f"{joined} ({format_datetime(local, 'zzzz', locale=locale)})"


def days_apart(start: datetime, end: datetime, zone: str) -> int:
    """Calendar days from ``start`` to ``end`` in ``zone``: 0 is the same day, 1 the next."""
    tz = ZoneInfo(zone)
    return (end.astimezone(tz).date() - start.astimezone(tz).date()).days


def moment(value: datetime) -> str:
    """A moment as it is on the reader's clock (their zone), without naming the zone:
    for when something happened (a history line), where the zone does not matter."""
    return format_datetime(value.astimezone(ZoneInfo(_zone.get())), format="medium",
                           locale=_language.get())
