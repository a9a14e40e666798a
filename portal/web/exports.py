"""CSV downloads that a spreadsheet cannot turn into formulas.

A cell starting with ``=``, ``+``, ``-``, ``@`` (or ``|``, ``%``) is a formula to Excel or
LibreOffice: a player's name such as ``=HYPERLINK(...)`` in an export would run on the
marketing team's machine. defusedcsv (a drop-in for the csv module) prefixes such cells
with a quote; plain numbers, negative ones included, stay numbers.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence

import xlsxwriter
from defusedcsv import csv
from starlette.responses import Response, StreamingResponse

Cell = str | int | float | None


def formula_safe_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """The rows as CSV text, every cell that could start a formula neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _headers(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store"}


def csv_download(filename: str, header: Sequence[str],
                 rows: Iterable[Sequence[Cell]]) -> Response:
    """A CSV attachment named ``filename`` (ASCII letters, digits, dots, dashes), never
    cached: exports hold people's names."""
    return Response(
        # A byte-order mark, so Excel reads the UTF-8 (Cyrillic names) as UTF-8.
        "\ufeff" + formula_safe_csv(header, rows),
        media_type="text/csv; charset=utf-8",
        headers=_headers(filename),
    )


def csv_stream(filename: str, header: Sequence[str],
               rows: AsyncIterable[Sequence[Cell]]) -> StreamingResponse:
    """As ``csv_download``, for rows read as they are sent (a large export never sits
    whole in memory)."""

    async def lines() -> AsyncIterator[str]:
        yield "\ufeff" + formula_safe_csv(header, [])
        async for row in rows:
            out = io.StringIO()
            csv.writer(out).writerow(row)
            yield out.getvalue()

    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8",
                             headers=_headers(filename))


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def formula_safe_xlsx(sheet: str, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """The rows as an XLSX workbook of one sheet. Text is always written as text, never
    as a formula or a link (XlsxWriter would otherwise turn ``=...`` into a formula)."""
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False,
                                         "strings_to_urls": False,
                                         "strings_to_numbers": False})
    worksheet = workbook.add_worksheet(sheet[:31])
    bold = workbook.add_format({"bold": True})
    worksheet.write_row(0, 0, list(header), bold)
    for number, row in enumerate(rows, start=1):
        for column, cell in enumerate(row):
            if isinstance(cell, str):
                worksheet.write_string(number, column, cell)
            elif cell is not None:
                worksheet.write_number(number, column, cell)
    workbook.close()
    return out.getvalue()


def xlsx_download(filename: str, sheet: str, header: Sequence[str],
                  rows: Iterable[Sequence[Cell]]) -> Response:
    """An XLSX attachment, never cached (see ``csv_download``)."""
    return Response(formula_safe_xlsx(sheet, header, rows), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})
