"""A merchant's monthly statement as a PDF: the revenue book a household business keeps.

Top of the first page: the title, the merchant, the market(s) and stalls, the month, its
count and total. Then every payment received, oldest first (date and time, stall, amount,
payer, bank reference), a subtotal line closing each day, and at the end the daily totals
and the month's total. Every page repeats the column heads and carries a footer line.

Pure: it takes plain dataclasses (the labels too, already in the reader's language) and
streams page by page through ``market.qr.pdf.PdfStreamWriter``, so a month of thousands of
payments is read once, as it comes, and never held (only the ~31 daily totals are kept).

>>> header = StatementHeader(merchant_name="Nguyễn Thị Hoa", market_names=("Chợ Đồng Quang",),
...     stall_codes=("A-01",), month=date(2026, 11, 1), generated_at="01/12/2026 08:00",
...     count=1, total=25000)
>>> line = StatementLine(at=datetime(2026, 11, 3, 9, 15), stall="A-01", amount=25000,
...     payer="NGUYEN VAN A", reference="FT123")
>>> out = io.BytesIO()
>>> totals = write_statement_pdf(header, [line], out)
>>> out.getvalue()[:8], totals.count, totals.total, totals.days
(b'%PDF-1.7', 1, 25000, [(datetime.date(2026, 11, 3), 1, 25000)])
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import BinaryIO

from market.qr.errors import InvalidOption
from market.qr.pdf import BOLD, MM, REGULAR, PageContent, PdfStreamWriter, font_metrics
from market.qr.stickers import printable_text

__all__ = [
    "StatementHeader",
    "StatementLabels",
    "StatementLine",
    "StatementTotals",
    "group_digits",
    "render_statement_pdf",
    "write_statement_pdf",
]

_W, _H = 210.0, 297.0  # A4 portrait, mm
_MARGIN = 14.0
_TOP = 14.0
_BOTTOM = 16.0  # the footer line sits in it
_ROW = 5.2  # mm per table row
_SIZE = 8.5  # pt, table text
_PT = 25.4 / 72

# Columns: (left edge in mm from the margin, width in mm, right-aligned).
_COLUMNS = {
    "time": (0.0, 29.0, False),
    "stall": (30.0, 17.0, False),
    "amount": (48.0, 28.0, True),
    "payer": (80.0, 53.0, False),
    "reference": (135.0, 47.0, False),
}
# The daily totals table at the end.
_TOTAL_COLUMNS = {
    "day": (0.0, 40.0, False),
    "count": (42.0, 30.0, True),
    "amount": (74.0, 40.0, True),
}


@dataclass(frozen=True, slots=True)
class StatementLabels:
    """Every word the statement prints, in the reader's language (Vietnamese by default).
    ``%(name)s`` placeholders are filled in here."""

    title: str = "Bảng kê tiền nhận qua chuyển khoản"
    merchant: str = "Tiểu thương:"
    markets: str = "Chợ:"
    stalls: str = "Sạp:"
    month: str = "Tháng %(month)s"
    summary: str = "%(count)s khoản, tổng %(total)s đồng"
    generated: str = "Lập lúc %(when)s"
    time: str = "Ngày giờ"
    stall: str = "Sạp"
    amount: str = "Số tiền (đồng)"
    payer: str = "Người chuyển"
    reference: str = "Mã tham chiếu"
    day_total: str = "Cộng ngày %(day)s: %(count)s khoản"
    daily_totals: str = "Tổng theo ngày"
    day: str = "Ngày"
    count: str = "Số khoản"
    month_total: str = "Tổng cả tháng"
    empty: str = "Tháng này chưa nhận khoản tiền nào."
    page: str = "Trang %(page)s"
    group_separator: str = "."


@dataclass(frozen=True, slots=True)
class StatementHeader:
    """Who and which month; ``count`` and ``total`` are the month's, as the database sums them
    (printed at the top before the lines are read)."""

    merchant_name: str
    market_names: tuple[str, ...]
    stall_codes: tuple[str, ...]
    month: date
    generated_at: str
    count: int
    total: int
    labels: StatementLabels = field(default_factory=StatementLabels)


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One payment received; ``at`` is already in local (Vietnam) time."""

    at: datetime
    stall: str
    amount: int
    payer: str
    reference: str


@dataclass(slots=True)
class StatementTotals:
    """What the lines added up to: (day, count, total) per day with payments, and the month."""

    days: list[tuple[date, int, int]] = field(default_factory=list)
    count: int = 0
    total: int = 0


def group_digits(amount: int, separator: str = ".") -> str:
    """``1234500`` -> ``'1.234.500'``.

    >>> group_digits(1234500), group_digits(0), group_digits(25000, ",")
    ('1.234.500', '0', '25,000')
    """
    return f"{int(amount):,}".replace(",", separator)


def write_statement_pdf(
    header: StatementHeader, lines: Iterable[StatementLine], out: BinaryIO
) -> StatementTotals:
    """Stream the statement to ``out`` page by page; returns what the lines added up to."""
    if not isinstance(header, StatementHeader):
        raise InvalidOption("header", header, "must be a StatementHeader")
    book = _Book(header, out)
    totals = StatementTotals()
    day: date | None = None
    day_count = day_total = 0
    for line in lines:
        if not isinstance(line, StatementLine):
            raise InvalidOption("line", line, "must be a StatementLine")
        if line.at.date() != day:
            if day is not None:
                book.day_total(day, day_count, day_total)
                totals.days.append((day, day_count, day_total))
            day, day_count, day_total = line.at.date(), 0, 0
        book.payment(line)
        day_count += 1
        day_total += line.amount
        totals.count += 1
        totals.total += line.amount
    if day is not None:
        book.day_total(day, day_count, day_total)
        totals.days.append((day, day_count, day_total))
    book.summary(totals)
    book.close()
    return totals


def render_statement_pdf(header: StatementHeader, lines: Iterable[StatementLine]) -> bytes:
    out = io.BytesIO()
    write_statement_pdf(header, lines, out)
    return out.getvalue()


def _fit(text: str, font: str, width: float) -> str:
    """``text`` cut (with "…") to fit ``width`` mm at the table size."""
    metrics = font_metrics(font)
    if metrics.width(text, _SIZE) * _PT <= width:
        return text
    while text and metrics.width(text + "…", _SIZE) * _PT > width:
        text = text[:-1]
    return text.rstrip() + "…"


class _Book:
    """The pages: fills one, writes it, starts the next."""

    def __init__(self, header: StatementHeader, out: BinaryIO) -> None:
        self.header = header
        self.labels = header.labels
        self.sep = self.labels.group_separator
        month = header.month.strftime("%m/%Y")
        self.month_text = self.labels.month % {"month": month}
        self.writer = PdfStreamWriter(out, title=f"{self.labels.title} · {self.month_text}")
        self.page: PageContent | None = None
        self.y = 0.0  # mm from the top of the page, next row's top
        self.columns = _COLUMNS
        self._start_page(first=True)

    # -- pages -------------------------------------------------------------------------

    def _start_page(self, *, first: bool = False) -> None:
        self.page = self.writer.new_page()
        self.page.save()
        self.page.transform(MM, 0, 0, MM, 0, 0)
        self.page.gray(0)
        self.y = _TOP
        if first:
            self._title_block()
        self._column_heads()

    def _finish_page(self) -> None:
        page = self.page
        label = self.labels.page % {"page": self.writer.page_count + 1}
        footer = f"{printable_text(self.header.merchant_name)} · {self.month_text} · {label}"
        page.gray(0.35)
        self._text(REGULAR, 7.5, _MARGIN, _H - _BOTTOM + 8, _fit(footer, REGULAR, 180))
        page.restore()
        self.writer.add_page(page, _W * MM, _H * MM)
        self.page = None

    def _room(self, rows: float = 1) -> None:
        if self.y + rows * _ROW > _H - _BOTTOM:
            self._finish_page()
            self._start_page()

    def close(self) -> None:
        self._finish_page()
        self.writer.close()

    # -- drawing -----------------------------------------------------------------------

    def _text(self, font: str, size: float, x: float, top: float, text: str) -> None:
        """Text whose baseline is ``top`` mm from the top of the page."""
        self.page.text(font, size * _PT, x, _H - top, text)

    def _cell(self, name: str, text: str, *, font: str = REGULAR) -> None:
        left, width, right = self.columns[name]
        text = _fit(text, font, width)
        x = _MARGIN + left
        if right:
            x += width - font_metrics(font).width(text, _SIZE) * _PT
        self._text(font, _SIZE, x, self.y + _ROW - 1.5, text)

    def _title_block(self) -> None:
        h, labels = self.header, self.labels
        width = _W - 2 * _MARGIN
        self._text(BOLD, 15, _MARGIN, self.y + 6, _fit(labels.title, BOLD, width * 0.6))
        self._text(BOLD, 15, _MARGIN + 125, self.y + 6, self.month_text)
        self.y += 10
        rows = [
            (labels.merchant, printable_text(h.merchant_name), BOLD),
            (labels.markets, printable_text(", ".join(h.market_names), fallback="—"), REGULAR),
            (labels.stalls, printable_text(", ".join(h.stall_codes), fallback="—"), REGULAR),
        ]
        for label, value, font in rows:
            self._text(REGULAR, 10, _MARGIN, self.y + 4.5, label)
            self._text(font, 11, _MARGIN + 28, self.y + 4.5, _fit(value, font, width - 28))
            self.y += 6
        summary = labels.summary % {
            "count": group_digits(h.count, self.sep),
            "total": group_digits(h.total, self.sep),
        }
        self._text(BOLD, 11, _MARGIN, self.y + 5, _fit(summary, BOLD, width))
        self.page.gray(0.35)
        generated = labels.generated % {"when": h.generated_at}
        self._text(REGULAR, 8, _MARGIN + 125, self.y + 5, _fit(generated, REGULAR, 57))
        self.page.gray(0)
        self.y += 10

    def _column_heads(self) -> None:
        labels = self.labels
        self.page.gray(0.88)
        self.page.rect(_MARGIN, _H - self.y - _ROW, _W - 2 * _MARGIN, _ROW, fill=True, stroke=False)
        self.page.gray(0)
        for name in self.columns:
            self._cell(name, getattr(labels, name), font=BOLD)
        self.y += _ROW

    def payment(self, line: StatementLine) -> None:
        self._room()
        self._cell("time", line.at.strftime("%d/%m/%Y %H:%M"))
        self._cell("stall", printable_text(line.stall, fallback=""))
        self._cell("amount", group_digits(line.amount, self.sep))
        self._cell("payer", printable_text(line.payer, fallback=""))
        self._cell("reference", printable_text(line.reference, fallback=""))
        self.y += _ROW

    def day_total(self, day: date, count: int, total: int) -> None:
        self._room()
        self.page.line_width(0.2)
        self.page.line(_MARGIN, _H - self.y, _W - _MARGIN, _H - self.y)
        text = self.labels.day_total % {
            "day": day.strftime("%d/%m/%Y"),
            "count": group_digits(count, self.sep),
        }
        amount = group_digits(total, self.sep)
        # The label takes the columns before the amount's digits, never running into them.
        left, _width, _right = self.columns["time"]
        amount_left, amount_width, _right = self.columns["amount"]
        room = amount_left + amount_width - left - font_metrics(BOLD).width(amount, _SIZE) * _PT
        self._text(BOLD, _SIZE, _MARGIN + left, self.y + _ROW - 1.5, _fit(text, BOLD, room - 3))
        self._cell("amount", amount, font=BOLD)
        self.y += _ROW + 1.5

    def summary(self, totals: StatementTotals) -> None:
        labels = self.labels
        if not totals.days:
            self._room(2)
            self._text(REGULAR, 11, _MARGIN, self.y + 7, labels.empty)
            self.y += 10
        self._room(4)
        self.y += 4
        self._text(BOLD, 12, _MARGIN, self.y + 4, labels.daily_totals)
        self.y += 6
        self.columns = _TOTAL_COLUMNS
        self._heads_of_totals()
        for day, count, total in totals.days:
            if self.y + _ROW > _H - _BOTTOM:
                self._finish_page()
                self._start_page_of_totals()
            self._cell("day", day.strftime("%d/%m/%Y"))
            self._cell("count", group_digits(count, self.sep))
            self._cell("amount", group_digits(total, self.sep))
            self.y += _ROW
        if self.y + 2 * _ROW > _H - _BOTTOM:
            self._finish_page()
            self._start_page_of_totals()
        self.page.line_width(0.4)
        self.page.line(_MARGIN, _H - self.y, _MARGIN + 114, _H - self.y)
        self._cell("day", labels.month_total, font=BOLD)
        self._cell("count", group_digits(totals.count, self.sep), font=BOLD)
        self._cell("amount", group_digits(totals.total, self.sep), font=BOLD)
        self.y += _ROW

    def _heads_of_totals(self) -> None:
        labels = self.labels
        self.page.gray(0.88)
        self.page.rect(_MARGIN, _H - self.y - _ROW, 114, _ROW, fill=True, stroke=False)
        self.page.gray(0)
        self._cell("day", labels.day, font=BOLD)
        self._cell("count", labels.count, font=BOLD)
        self._cell("amount", labels.amount, font=BOLD)
        self.y += _ROW

    def _start_page_of_totals(self) -> None:
        self.page = self.writer.new_page()
        self.page.save()
        self.page.transform(MM, 0, 0, MM, 0, 0)
        self.page.gray(0)
        self.y = _TOP
        self._heads_of_totals()
