"""Exports neutralise formulas: a cell a spreadsheet would run is quoted."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

from portal.web.exports import csv_download, csv_stream, formula_safe_csv


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_cells_starting_a_formula_are_neutralised() -> None:
    text = formula_safe_csv(["name", "note"], [
        ["=HYPERLINK(\"http://evil\")", "+1+1"], ["-2+3", "@SUM(A1)"]])
    rows = cells(text)
    assert rows[0] == ["name", "note"]
    for cell in rows[1] + rows[2]:
        assert cell[0] not in "=+-@", cell


def test_plain_numbers_and_text_stay_as_they_are() -> None:
    rows = cells(formula_safe_csv(["a", "b", "c"], [[-250, "-250", "Alice"], [100, None, "Ёж"]]))
    assert rows[1] == ["-250", "-250", "Alice"]
    assert rows[2] == ["100", "", "Ёж"]


def test_a_download_is_an_uncached_attachment() -> None:
    response = csv_download("donations.csv", ["a"], [["=1"]])
    assert response.headers["content-disposition"] == 'attachment; filename="donations.csv"'
    assert response.headers["cache-control"] == "no-store"
    assert response.media_type == "text/csv; charset=utf-8"
    assert bytes(response.body).decode().lstrip("\ufeff").splitlines() == ["a", "'=1"]


async def test_a_streamed_export_neutralises_each_row() -> None:
    async def rows() -> AsyncIterator[tuple[str, int]]:
        yield ("@evil", 5)
        yield ("Bob", -5)

    response = csv_stream("x.csv", ["name", "points"], rows())
    chunks = [chunk if isinstance(chunk, str) else bytes(chunk).decode()
              async for chunk in response.body_iterator]
    assert "".join(chunks).lstrip("\ufeff").splitlines() == ["name,points", "'@evil,5",
                                                             "Bob,-5"]
    assert response.headers["cache-control"] == "no-store"
