"""The web layer shared by every capability: templating, auth, forms, errors."""

from __future__ import annotations

from starlette.convertors import IntegerConvertor, register_url_convertor


class IdConvertor(IntegerConvertor):
    """Database ids in paths: 1 to 999,999,999 written plainly (no sign, no leading zero).

    Bounded by the pattern, so a number no id column can hold (2**31, 2**63, forty digits)
    never reaches the database driver, which would fail with an overflow: the path is
    simply not found. See ``portal.web.forms.DatabaseId`` for ids in bodies.
    """

    regex = "[1-9][0-9]{0,8}"
    maximum = 999_999_999


register_url_convertor("id", IdConvertor())
