"""CSV and XLSX files for people to open in Excel or LibreOffice: every export writes here.

Text that a spreadsheet would read as a formula (a merchant named ``=HYPERLINK(…)``) is
neutralised: a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
gets a leading apostrophe, which spreadsheets show as text and never evaluate (OWASP's
advice on CSV injection). XLSX cells holding text are written as strings, never as
formulas. Numbers and dates stay numbers and dates (a negative *number* is not text).

Pure: standard library and openpyxl only.

>>> safe_cell("=HYPERLINK(\\"http://x\\")")
'\\'=HYPERLINK("http://x")'
>>> safe_cell("-5"), safe_cell(-5), safe_cell("Rau củ")
("'-5", -5, 'Rau củ')
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

__all__ = ["FORMULA_STARTS", "safe_cell", "to_csv", "to_xlsx"]

#: What makes a spreadsheet read a cell's text as a formula (or a DDE command).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as it may go into a spreadsheet cell: text that would start a formula
    gets a leading apostrophe; anything else is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(rows: Iterable[Iterable[Any]]) -> bytes:
    """UTF-8 CSV with a BOM (so Excel reads the Vietnamese as UTF-8); None is empty."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(["" if v is None else safe_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(
    sheets: Iterable[tuple[str, Iterable[Iterable[Any]]]], *, text_columns: int = 0
) -> bytes:
    """A workbook of ``(title, rows)`` sheets. Text is written as strings, dates formatted
    as dates; ``text_columns`` first columns of every sheet are formatted as text, so a
    person typing an account number there keeps its leading zeros."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    for title, rows in sheets:
        sheet = workbook.create_sheet(title[:31])
        for index in range(1, text_columns + 1):
            sheet.column_dimensions[get_column_letter(index)].number_format = "@"
        for row in rows:
            cells = []
            for value in row:
                cell = WriteOnlyCell(sheet, value=safe_cell(value))
                if isinstance(value, str):
                    cell.data_type = "s"  # openpyxl would make "=…" a formula
                elif isinstance(value, datetime):
                    cell.number_format = "dd/mm/yyyy hh:mm"
                elif isinstance(value, date):
                    cell.number_format = "dd/mm/yyyy"
                cells.append(cell)
            sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
