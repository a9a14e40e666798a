"""A choice a page takes from its query string (``?kind=earn``): one of a set, or none."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from starlette.exceptions import HTTPException
from starlette.requests import Request

Choice = TypeVar("Choice", bound=StrEnum)


def query_choice(request: Request, name: str, choices: type[Choice], *, refusal: str
                 ) -> Choice | None:
    """The chosen value, None when the parameter is absent or empty, and a 400 saying
    ``refusal`` when it is not one of ``choices``."""
    raw = request.query_params.get(name, "")
    if not raw:
        return None
    try:
        return choices(raw)
    except ValueError:
        raise HTTPException(400, refusal) from None
