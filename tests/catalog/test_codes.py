"""Code files: every malformed file is refused whole, naming its line, and nothing is
imported; a valid 10,000-code file imports in one transaction; lists mask codes."""

from __future__ import annotations

import asyncio
import time
from datetime import date

import pytest

from portal.catalog import codes
from portal.catalog import service as catalog
from portal.catalog.models import Code, ItemKind
from tests.catalog.stock import SETTINGS, code_file, item

TODAY = date(2026, 12, 10)
GOOD = "code,value,expiry\nAAAA-1111,50 EUR,2099-01-01\n"


@pytest.mark.parametrize(("text", "line", "says"), [
    ("code,value\nAAAA-1111,50 EUR\n", 1, "columns code,value,expiry"),
    ("", 1, "columns"),
    (GOOD + "BBBB-2222,50 EUR\n", 3, "has 2 columns"),
    (GOOD + "BBBB-2222,50 EUR,2099-01-01,extra\n", 3, "has 4 columns"),
    (GOOD + ",50 EUR,2099-01-01\n", 3, "empty code"),
    (GOOD + "CCCC 3333,50 EUR,2099-01-01\n", 3, "without spaces"),
    (GOOD + "BBBB-2222,50 EUR,2099-01-01\nAAAA-1111,50 EUR,\n", 4, "repeats the code of line 2"),
    (GOOD + "BBBB-2222,50 EUR,31/12/2099\n", 3, "is not a date"),
    (GOOD + "BBBB-2222,50 EUR,2026-02-30\n", 3, "is not a date"),
    (GOOD + "BBBB-2222,50 EUR,2020-01-01\n", 3, "expired"),
    (GOOD + "BBBB-2222," + "V" * 101 + ",\n", 3, "value is longer"),
    ("code,value,expiry\n", 0, "no codes"),
])
def test_a_malformed_file_is_refused_naming_its_line(text: str, line: int, says: str) -> None:
    with pytest.raises(codes.CodeFileRefused) as refused:
        codes.read_code_file(text.encode(), today=TODAY)
    assert refused.value.line == line
    assert says in str(refused.value)
    if line:
        assert f"ine {line}" in str(refused.value)


def test_a_file_over_the_size_limit_or_not_utf8_is_refused() -> None:
    with pytest.raises(codes.CodeFileRefused, match="larger than 2 MB"):
        codes.read_code_file(b"x" * (codes.MAX_FILE_BYTES + 1), today=TODAY)
    with pytest.raises(codes.CodeFileRefused, match="UTF-8"):
        codes.read_code_file(b"code,value,expiry\n\xff\xfe,1,\n", today=TODAY)


def test_a_header_with_a_byte_order_mark_and_blank_lines_is_read() -> None:
    rows = codes.read_code_file(("\ufeff" + GOOD + "\n\nBBBB-2222,,\n").encode(), today=TODAY)
    assert [(r.line, r.code, r.value, r.expires_on) for r in rows] == [
        (2, "AAAA-1111", "50 EUR", date(2099, 1, 1)), (5, "BBBB-2222", "", None)]


@pytest.mark.usefixtures("any_db")
async def test_a_code_already_in_a_pool_refuses_the_whole_file_and_imports_nothing() -> None:
    card = await item(price=10)
    await catalog.import_codes(card.id, GOOD.encode(), settings=SETTINGS)
    other = await item(price=10)
    with pytest.raises(codes.CodeFileRefused) as refused:
        await catalog.import_codes(other.id, (
            b"code,value,expiry\nNEW-0001,1,\nNEW-0002,1,\nAAAA-1111,1,\n"),
            settings=SETTINGS)
    assert refused.value.line == 4 and "already in a pool" in str(refused.value)
    assert await Code.filter(item_id=other.id).count() == 0


@pytest.mark.usefixtures("any_db")
async def test_a_gift_has_no_pool_of_codes() -> None:
    gift = await item(kind=ItemKind.GIFT, stock=3)
    with pytest.raises(catalog.BadRequest):
        await catalog.import_codes(gift.id, GOOD.encode(), settings=SETTINGS)


@pytest.mark.usefixtures("any_db")
async def test_ten_thousand_codes_import_in_one_go_sealed_and_masked() -> None:
    card = await item(price=10)
    started = time.monotonic()
    count = await catalog.import_codes(card.id, code_file(10_000, prefix="BULK-"),
                                       settings=SETTINGS)
    elapsed = time.monotonic() - started
    assert count == 10_000
    assert await Code.filter(item_id=card.id).count() == 10_000
    assert elapsed < 60
    rows, more, counts = await catalog.pool(card.id, limit=3)
    assert more and counts == {"available": 10_000}
    assert [r.masked for r in rows] == ["•••• CRET"] * 3  # BULK-000000-SECRET
    stored = await Code.filter(item_id=card.id).first()
    assert stored is not None and "BULK" not in stored.sealed


@pytest.mark.usefixtures("any_db")
async def test_two_files_sharing_a_code_uploaded_at_once_import_one_whole_and_refuse_one(
) -> None:
    first, second = await item(price=10), await item(price=10)
    shared = "SHARED-CODE-1"
    one = ("code,value,expiry\n" + "".join(f"ONE-{i:05d},1,\n" for i in range(2000))
           + f"{shared},1,\n").encode()
    two = ("code,value,expiry\n" + "".join(f"TWO-{i:05d},1,\n" for i in range(2000))
           + f"{shared},1,\n").encode()
    outcomes = await asyncio.gather(
        catalog.import_codes(first.id, one, settings=SETTINGS),
        catalog.import_codes(second.id, two, settings=SETTINGS), return_exceptions=True)
    refused = [o for o in outcomes if isinstance(o, codes.CodeFileRefused)]
    assert sorted(o for o in outcomes if isinstance(o, int)) == [2001] and len(refused) == 1
    assert refused[0].line == 2002 and "already in a pool" in str(refused[0])
    counts = sorted([await Code.filter(item_id=first.id).count(),
                     await Code.filter(item_id=second.id).count()])
    assert counts == [0, 2001]
