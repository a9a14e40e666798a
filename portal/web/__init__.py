"""The web layer shared by every capability: templating, auth, forms, errors."""

from __future__ import annotations

from starlette.convertors import IntegerConvertor, register_url_convertor


class IdConvertor(IntegerConvertor):
    """Database ids in paths: at most nine digits, so no id overflows a 32-bit column and
    a path with a longer number is simply not found."""

    regex = "[0-9]{1,9}"


register_url_convertor("id", IdConvertor())
