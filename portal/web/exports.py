"""CSV downloads that a spreadsheet cannot turn into formulas.

A cell starting with ``=``, ``+``, ``-``, ``@`` (or ``|``, ``%``) is a formula to Excel or
LibreOffice: a player's name such as ``=HYPERLINK(...)`` in an export would run on the
marketing team's machine. defusedcsv (a drop-in for the csv module) prefixes such cells
with a quote; plain numbers, negative ones included, stay numbers.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from defusedcsv import csv
from starlette.responses import Response

Cell = str | int | float | None


def formula_safe_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """The rows as CSV text, every cell that could start a formula neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def csv_download(filename: str, header: Sequence[str],
                 rows: Iterable[Sequence[Cell]]) -> Response:
    """A CSV attachment named ``filename`` (ASCII letters, digits, dots, dashes), never
    cached: exports hold people's names."""
    return Response(
        # A byte-order mark, so Excel reads the UTF-8 (Cyrillic names) as UTF-8.
        "\ufeff" + formula_safe_csv(header, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"',
                 "Cache-Control": "no-store"},
    )
