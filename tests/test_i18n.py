"""Every language's catalog (Russian, Turkish, Indonesian) covers every string the sources
mark for translation.

The messages are extracted from the current sources with the mapping in ``babel.cfg``, so a
new ``_()``, ``i18n.gettext()`` or ``N_()`` string fails here until ``make translations``
has been run and the new entry is translated, in every language.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from portal.i18n import LOCALE_DIR
from portal.settings import LANGUAGES, PROJECT_ROOT

TRANSLATED = [language for language in LANGUAGES if language != "en"]
NAMES = {"ru": "Russian", "tr": "Turkish", "id": "Indonesian"}
# (plural forms, plural rule) of each catalog's header.
PLURALS = {
    "ru": (3, "(n%10==1&&n%100!=11?0:n%10>=2&&n%10<=4&&(n%100<10||n%100>=20)?1:2)"),
    "tr": (2, "(n!=1)"),
    "id": (1, "0"),
}
# Every printf-style conversion, and any lone "%": Jinja's newstyle gettext %-formats each
# translation, even one without variables, so a stray "%" breaks the page.
_FORMAT = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[a-zA-Z%]?")

MsgKey = tuple[str, str | None]  # (msgid, msgctxt)


@cache
def _extracted() -> dict[MsgKey, tuple[str | tuple[str, ...], list[str]]]:
    """msgid (and context) -> (message as extracted, where it is used)."""
    with (PROJECT_ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, "babel.cfg")
    found: dict[MsgKey, tuple[str | tuple[str, ...], list[str]]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        PROJECT_ROOT, method_map, options_map
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if not msgid:
            continue
        entry = found.setdefault((msgid, context), (message, []))
        entry[1].append(f"{filename}:{lineno}")
    return found


def _path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"


@cache
def _catalog(language: str) -> Catalog:
    with _path(language).open("rb") as handle:
        return read_po(handle, locale=language)


def _entries(language: str) -> list[Message]:
    return [message for message in _catalog(language) if message.id]


def _forms(message: Message) -> list[str]:
    if isinstance(message.string, tuple | list):
        return list(message.string)
    return [message.string or ""]


def _formats(text: str) -> Counter[str]:
    return Counter(_FORMAT.findall(text))


def test_extraction_finds_the_marked_strings() -> None:
    ids = {msgid for msgid, _ in _extracted()}
    # One of each way of marking: template _() with keywords, i18n.gettext(), N_().
    assert "Hi, %(name)s" in ids
    assert "Too many sign-in attempts. Wait 15 minutes and try again." in ids
    assert "Auction won" in ids


def test_every_shipped_language_but_english_has_a_catalog_described_here() -> None:
    assert TRANSLATED == list(NAMES) == list(PLURALS)
    assert all(_path(language).exists() for language in TRANSLATED)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_interface_string_has_a_translation(language: str) -> None:
    catalog = _catalog(language)
    missing = []
    for (msgid, context), (message, places) in sorted(
        _extracted().items(), key=lambda item: item[0][0]
    ):
        entry = catalog.get(msgid, context)
        if entry is None or not all(form.strip() for form in _forms(entry)):
            missing.append(f"{msgid!r}  ({places[0]})")
        elif isinstance(message, tuple) and len(_forms(entry)) != catalog.num_plurals:
            missing.append(f"{msgid!r}  needs {catalog.num_plurals} plural forms")
    assert not missing, (
        f"{len(missing)} interface strings have no {NAMES[language]} translation in "
        f"{_path(language)}; add them and translate them:\n" + "\n".join(missing)
    )


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders(language: str) -> None:
    wrong = []
    for entry in _entries(language):
        ids = entry.id if isinstance(entry.id, tuple | list) else (entry.id,)
        expected = _formats(ids[-1])
        for form in _forms(entry):
            if form and _formats(form) != expected:
                wrong.append(f"{ids[0]!r}: {form!r}")
    assert not wrong, "translations whose %-placeholders differ from the original:\n" + "\n".join(
        wrong
    )


@pytest.mark.parametrize("language", TRANSLATED)
def test_no_entry_is_fuzzy(language: str) -> None:
    catalog = _catalog(language)
    fuzzy = [repr(entry.id) for entry in _entries(language) if entry.fuzzy]
    assert not catalog.fuzzy, "the catalog header is marked fuzzy"
    assert not fuzzy, "fuzzy entries are not used; review them and drop the flag:\n" + "\n".join(
        fuzzy
    )


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_header_describes_the_language(language: str) -> None:
    catalog = _catalog(language)
    assert str(catalog.locale) == language
    assert (catalog.num_plurals, catalog.plural_expr.replace(" ", "")) == PLURALS[language]
    assert catalog.charset.lower() == "utf-8"
