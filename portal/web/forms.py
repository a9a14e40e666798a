"""Parse submitted forms through pydantic models that forbid unknown fields."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, Field, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from portal import i18n

Form = TypeVar("Form", bound=BaseModel)
# Fields every form may carry that are not the form's own data.
_TRANSPORT_FIELDS = {"csrftoken"}


class FormErrors(Exception):
    def __init__(self, errors: dict[str, str], values: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors
        self.values = values


# Any control character but tab and line breaks: refused everywhere (PostgreSQL cannot
# even store a NUL).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Ids in form and JSON bodies, within what an id column holds on SQLite and PostgreSQL
# alike (a larger number would overflow in the database driver).
DatabaseId = Annotated[int, Field(ge=1, le=2**31 - 1)]
# A new password: long enough to resist guessing (argon2 makes each guess slow too).
Password = Annotated[str, Field(min_length=10, max_length=200)]


def has_control_characters(value: str) -> bool:
    return bool(_CONTROL.search(value))


def parse_form(model: type[Form], form: Mapping[str, Any]) -> Form:
    """The validated form, or FormErrors naming each field that is wrong and why."""
    values = {
        key: value for key, value in form.items()
        if key not in _TRANSPORT_FIELDS and isinstance(value, str)
    }
    bad = [key for key, value in values.items() if has_control_characters(value)]
    if bad:
        raise FormErrors({key: i18n.gettext("This field contains characters that are not "
                                            "allowed.") for key in bad},
                         {k: v for k, v in values.items() if k not in bad and "password" not in k})
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "form"
            if error["type"] == "extra_forbidden":
                errors.setdefault("form", i18n.gettext("Unexpected field: %(name)s") % {
                    "name": field})
            else:
                errors.setdefault(field, _message(error))
        raise FormErrors(errors, {k: v for k, v in values.items() if "password" not in k}) from None


def refusal(message: str, **params: object) -> PydanticCustomError:
    """What a field validator raises to refuse a value with its own words: ``message`` is
    English marked with ``N_``, shown in the reader's language with ``params``."""
    english = message % params if params else message
    return PydanticCustomError("refused", "{text}",
                               {"text": english, "message": message, "params": params})


def _message(error: ErrorDetails) -> str:
    ctx = error.get("ctx") or {}
    kind = error["type"]
    if kind == "refused":
        text = i18n.gettext(ctx["message"])
        return text % ctx["params"] if ctx["params"] else text
    if kind == "missing" or (kind == "string_too_short" and error.get("input") == ""):
        return i18n.gettext("This field is required.")
    if kind == "string_too_short":
        return i18n.gettext("Use at least %(n)s characters.") % {"n": ctx["min_length"]}
    if kind == "string_too_long":
        return i18n.gettext("Use at most %(n)s characters.") % {"n": ctx["max_length"]}
    # A number too long to parse is out of range, like one too large.
    out_of_range = {"greater_than_equal", "less_than_equal", "int_parsing_size"}
    if kind in out_of_range and error.get("loc", ("",))[0] in {"outlet_id", "region_id"}:
        return i18n.gettext("Choose one of the offered options.")
    if kind in {"int_parsing", "int_parsing_size", "int_type", "int_from_float"}:
        return i18n.gettext("Enter a whole number.")
    if kind == "value_error" and "email" in str(error.get("msg", "")).lower():
        return i18n.gettext("Enter a valid e-mail address.")
    if kind in {"enum", "literal_error"}:
        return i18n.gettext("Choose one of the offered options.")
    return str(error.get("msg", i18n.gettext("This value is not valid.")))
