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

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from portal.settings import LANGUAGES

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}

_language: ContextVar[str] = ContextVar("language", default="en")


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
}


def kind_label(kind: str) -> str:
    return gettext(KIND_LABELS.get(kind, kind))


def points(value: int) -> str:
    return format_decimal(value, locale=_language.get())


def day(value: date | datetime) -> str:
    return format_date(value, format="long", locale=_language.get())


def moment(value: datetime) -> str:
    return format_datetime(value, format="medium", locale=_language.get())
