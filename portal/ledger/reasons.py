"""What a transfer's reason says: a message id with parameters, rendered in the reader's
language when it is read.

Every ledger write takes a ``Reason``. The portal's own reasons name an English message
marked with ``N_`` and its parameters::

    Reason(N_("Quiz: %(title)s (%(correct)s of %(total)s correct)"),
           title=quiz.title, correct=7, total=10)

A parameter is a number, a plain text, a date, or a content text in several languages
(``{"en": ..., "ru": ...}``, as packs give titles), which is shown in the reader's
language. What a person typed (an adjustment's reason) is ``Reason.text(...)``: shown as
written, in every language. The transfer keeps the English rendering in its ``reason``
column as well, so audits and old readers still read a sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from portal import i18n

Param = int | str | date | Mapping[str, str]

# How a parameter that JSON cannot hold as itself is stored.
_DATE = "$date"
_TEXTS = "$texts"


class Reason:
    """A message id (English, marked with ``N_``) and its parameters; or, with
    ``message`` None, a text a person wrote."""

    __slots__ = ("message", "params", "_literal")

    def __init__(self, message: str, /, **params: Param) -> None:
        self.message: str | None = message
        self.params: dict[str, Param] = params
        self._literal = ""

    @classmethod
    def text(cls, text: str) -> Reason:
        """A reason a person wrote: shown as written, whatever the reader's language."""
        reason = cls(text)
        reason.message = None
        reason._literal = text
        return reason

    @classmethod
    def stored(cls, message: str | None, params: Mapping[str, Any] | None,
               english: str) -> Reason:
        """The reason of a stored row (its message id, its JSON parameters, its English
        column); a row without a message id is literal text."""
        if not message:
            return cls.text(english)
        return cls(message, **{name: _load(value) for name, value in (params or {}).items()})

    def english(self) -> str:
        """The English sentence, as the ``reason`` column keeps it."""
        if self.message is None:
            return self._literal
        return _fill(self.message, {k: _english(v) for k, v in self.params.items()},
                     fallback=self.message)

    def translated(self) -> str:
        """The reason in the current request's language."""
        if self.message is None:
            return self._literal
        english = self.english()
        return _fill(i18n.gettext(self.message),
                     {k: _shown(v) for k, v in self.params.items()}, fallback=english)

    def stored_params(self) -> dict[str, Any] | None:
        """The parameters as the ``reason_params`` JSON column keeps them."""
        if self.message is None:
            return None
        return {name: _dump(value) for name, value in self.params.items()}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Reason):
            return NotImplemented
        return (self.message, self.stored_params(), self.english()) == (
            other.message, other.stored_params(), other.english())

    def __hash__(self) -> int:
        return hash((self.message, self.english()))

    def __repr__(self) -> str:
        return f"Reason({self.english()!r})"


def _fill(template: str, params: dict[str, object], *, fallback: str) -> str:
    if not params:
        return template
    try:
        return template % params
    except (KeyError, ValueError, TypeError):
        # A translation that names its parameters wrongly must not hide the reason.
        return fallback


def _texts_in(texts: Mapping[str, str], language: str) -> str:
    return (texts.get(language) or texts.get("en")
            or next(iter(texts.values()), ""))


def _english(value: Param) -> object:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return _texts_in(value, "en")
    return value


def _shown(value: Param) -> object:
    if isinstance(value, date):
        return i18n.day(value)
    if isinstance(value, Mapping):
        return _texts_in(value, i18n.current_language())
    if isinstance(value, int) and not isinstance(value, bool):
        return i18n.points(value)
    return value


def _dump(value: Param) -> object:
    if isinstance(value, date):
        return {_DATE: value.isoformat()}
    if isinstance(value, Mapping):
        return {_TEXTS: dict(value)}
    return value


def _load(value: Any) -> Param:
    if isinstance(value, dict):
        if _DATE in value:
            return date.fromisoformat(value[_DATE])
        if _TEXTS in value:
            return {str(k): str(v) for k, v in value[_TEXTS].items()}
    if isinstance(value, int | str):
        return value
    return str(value)
