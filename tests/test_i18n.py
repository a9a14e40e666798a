"""The Russian catalog covers every string the sources mark for translation.

The messages are extracted from the current sources with the mapping in ``babel.cfg``, so a
new ``_()``, ``i18n.gettext()`` or ``N_()`` string fails here until ``make translations``
has been run and the new entry is translated.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from portal.i18n import LOCALE_DIR
from portal.settings import PROJECT_ROOT

RU_CATALOG = LOCALE_DIR / "ru" / "LC_MESSAGES" / "messages.po"
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


@cache
def _russian() -> Catalog:
    with RU_CATALOG.open("rb") as handle:
        return read_po(handle, locale="ru")


def _entries() -> list[Message]:
    return [message for message in _russian() if message.id]


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


def test_every_interface_string_has_a_russian_translation() -> None:
    catalog = _russian()
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
        f"{len(missing)} interface strings have no Russian translation in {RU_CATALOG.name}; "
        "run `make translations` and translate them:\n" + "\n".join(missing)
    )


def test_translations_keep_the_placeholders() -> None:
    wrong = []
    for entry in _entries():
        ids = entry.id if isinstance(entry.id, tuple | list) else (entry.id,)
        expected = _formats(ids[-1])
        for form in _forms(entry):
            if form and _formats(form) != expected:
                wrong.append(f"{ids[0]!r}: {form!r}")
    assert not wrong, "translations whose %-placeholders differ from the original:\n" + "\n".join(
        wrong
    )


def test_no_entry_is_fuzzy() -> None:
    catalog = _russian()
    fuzzy = [repr(entry.id) for entry in _entries() if entry.fuzzy]
    assert not catalog.fuzzy, "the catalog header is marked fuzzy"
    assert not fuzzy, "fuzzy entries are not used; review them and drop the flag:\n" + "\n".join(
        fuzzy
    )


def test_the_header_describes_russian() -> None:
    catalog = _russian()
    assert str(catalog.locale) == "ru"
    assert catalog.num_plurals == 3
    assert catalog.plural_expr.replace(" ", "") == (
        "(n%10==1&&n%100!=11?0:n%10>=2&&n%10<=4&&(n%100<10||n%100>=20)?1:2)"
    )
    assert catalog.charset.lower() == "utf-8"
