"""Paged lists: the page a request asks for (``?page=``), one rule for every list."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request

from portal import i18n

LAST_PAGE = 100_000


def page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= LAST_PAGE:
        raise HTTPException(400, i18n.gettext("The page number must be a whole number from 1."))
    return int(raw)
