"""Fee notices: one A6 page per stall's bill, a whole market's in one streamed PDF.

Top to bottom: the market, the period and the bill's number, the stall and its holder, the
bill's lines with their amounts, the total and what is still to pay, the due date, then the
dynamic VietQR code paying exactly that into the market board's account, the transfer
content (the bill's reference) in large type, and the account it pays into. Without a code
(no verified account, or nothing left to pay) the page says where to pay instead.

Pure: the caller gives plain :class:`BillNotice` values with the payload already built (one
place builds payloads: ``market.merchants.queries``); amounts are whole dong.

>>> notice = BillNotice(market_name="Chợ Đồng Quang", period_label="Tháng 11/2026",
...     number="202611-0001", stall_code="A-01", holder_name="Nguyễn Thị Hoa",
...     lines=(("Tiền thuê sạp", 300000), ("Phí vệ sinh", 50000)), total=350000,
...     amount_due=350000, due_label="10/11/2026", reference="CPAB23CD45",
...     payload=None, account_line="")
>>> render_notices_pdf([notice])[:8]
b'%PDF-1.7'
>>> vnd(1250000)
'1.250.000 đ'
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import BinaryIO

from market.qr.errors import InvalidOption, InvalidSticker
from market.qr.pdf import BOLD, MM, REGULAR, PageContent, PdfStreamWriter
from market.qr.stickers import PT, QR_QUIET_ZONE, SIZES, _Text, printable_text
from market.qr.symbol import encode

__all__ = ["BillNotice", "render_notices_pdf", "vnd", "write_notices"]

_W, _H = SIZES["A6"]
_MARGIN = 7.0
_TEXT_WIDTH = _W - 2 * _MARGIN
_MAX_LINES = 6
_LINE_STEP = 4.6
_QR_SIDE = 36.0  # mm, the symbol without its quiet zone


def vnd(amount: int) -> str:
    """Whole dong as printed on paper: dots between thousands, then "đ"."""
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount):,}".replace(",", ".") + " đ"


@dataclass(frozen=True, slots=True)
class BillNotice:
    """What one stall's notice says. ``payload``: the bill's VietQR text, or None."""

    market_name: str
    period_label: str
    number: str
    stall_code: str
    holder_name: str
    lines: tuple[tuple[str, int], ...]
    total: int
    amount_due: int
    due_label: str
    reference: str
    payload: str | None
    account_line: str
    pay_elsewhere: str = "Nộp tại Ban quản lý chợ."

    def __post_init__(self) -> None:
        for name in ("market_name", "period_label", "number", "stall_code", "reference"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise InvalidSticker(name, value, "must be non-empty text")
        for name in ("total", "amount_due"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise InvalidSticker(name, value, "must be whole dong")
        for description, amount in self.lines:
            if not isinstance(description, str) or not isinstance(amount, int):
                raise InvalidSticker("lines", (description, amount), "must be (text, dong)")


def render_notices_pdf(notices: Iterable[BillNotice]) -> bytes:
    out = io.BytesIO()
    write_notices(notices, out)
    return out.getvalue()


def write_notices(
    notices: Iterable[BillNotice],
    out: BinaryIO,
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Stream one A6 page per notice to ``out`` (memory stays flat); returns the count."""
    writer = None
    written = 0
    for notice in notices:
        if not isinstance(notice, BillNotice):
            raise InvalidSticker("notice", notice, "must be a BillNotice")
        if writer is None:
            writer = PdfStreamWriter(out, title="Thông báo phí chợ")
        page = writer.new_page()
        _draw_notice(page, notice)
        writer.add_page(page, _W * MM, _H * MM)
        written += 1
        if progress is not None:
            progress(written)
    if writer is None:
        raise InvalidOption("notices", [], "there are no notices to write")
    writer.close()
    return written


def _p(text: str) -> str:
    """Text as the fonts can print it (a stray emoji in a name must not stop a print run)."""
    return printable_text(unicodedata.normalize("NFC", text.strip()), fallback="—")


def _draw_notice(page: PageContent, notice: BillNotice) -> None:
    page.save()
    page.transform(MM, 0, 0, MM, 0, 0)  # millimetres, y up from the bottom
    page.gray(0)
    text = _Text(page)

    def centered(runs, max_pt, baseline):
        text.centered(runs, text.fit_size(runs, max_pt, _TEXT_WIDTH), baseline)

    def left_right(left, right, size, baseline, *, font=REGULAR, right_font=None):
        right_font = right_font or font
        right_width = text.width([(right_font, right)], size)
        room = _TEXT_WIDTH - right_width - 3
        left_size = min(size, text.fit_size([(font, left)], size, room))
        page.text(font, left_size * PT, _MARGIN, _H - baseline, left)
        page.text(right_font, size * PT, _W - _MARGIN - right_width, _H - baseline, right)

    centered([(BOLD, "THÔNG BÁO PHÍ CHỢ")], 13, 11.0)
    centered([(BOLD, _p(notice.market_name))], 11, 17.0)
    centered([(REGULAR, f"{_p(notice.period_label)} · Số {_p(notice.number)}")], 9, 22.5)
    holder = _p(notice.holder_name) if notice.holder_name.strip() else ""
    stall_runs = [(BOLD, f"Quầy {_p(notice.stall_code)}")]
    if holder:
        stall_runs.append((REGULAR, f" · {holder}"))
    centered(stall_runs, 11, 28.5)

    page.line_width(0.3 * PT)
    page.line(_MARGIN, _H - 31.0, _W - _MARGIN, _H - 31.0)
    baseline = 35.5
    shown = notice.lines[:_MAX_LINES]
    if len(notice.lines) > _MAX_LINES:
        shown = notice.lines[: _MAX_LINES - 1]
    for description, amount in shown:
        left_right(_p(description), vnd(amount), 8.5, baseline)
        baseline += _LINE_STEP
    if len(shown) < len(notice.lines):
        rest = notice.lines[len(shown) :]
        left_right(f"… và {len(rest)} khoản khác", vnd(sum(a for _d, a in rest)), 8.5, baseline)
        baseline += _LINE_STEP
    page.line(_MARGIN, _H - (baseline - 2.6), _W - _MARGIN, _H - (baseline - 2.6))
    baseline += 2.4
    left_right("Tổng cộng", vnd(notice.total), 10, baseline, font=BOLD)
    if notice.amount_due != notice.total:
        baseline += 5.0
        left_right("Còn phải nộp", vnd(notice.amount_due), 10, baseline, font=BOLD)
    baseline += 5.5
    centered([(REGULAR, "Hạn nộp: "), (BOLD, _p(notice.due_label))], 10, baseline)

    qr_top = max(baseline + 4.0, 76.0)
    if notice.payload is not None and notice.amount_due > 0:
        symbol = encode(notice.payload)
        module = _QR_SIDE / symbol.size
        left = (_W - _QR_SIDE) / 2
        page.save()
        page.transform(module, 0, 0, -module, left, _H - qr_top)
        runs = [f"{x} {y} {length} 1 re" for y, x, length in symbol.dark_runs()]
        page.raw("\n".join(runs) + "\nf")
        page.restore()
        below = qr_top + _QR_SIDE + QR_QUIET_ZONE * module
        centered([(REGULAR, "Nội dung chuyển khoản:")], 8.5, below + 1.0)
        centered([(BOLD, notice.reference)], 16, below + 8.0)
        if notice.account_line.strip():
            centered([(REGULAR, _p(notice.account_line))], 8, below + 13.0)
        centered(
            [(REGULAR, "Quét mã bằng app ngân hàng; kiểm tra tên người nhận.")],
            7.5,
            min(below + 18.0, _H - 4.0),
        )
    else:
        message = "Đã nộp đủ. Cảm ơn!" if notice.amount_due <= 0 else notice.pay_elsewhere
        centered([(BOLD, _p(message))], 12, qr_top + 14.0)
        centered([(REGULAR, "Mã thanh toán: "), (BOLD, notice.reference)], 10, qr_top + 22.0)
    page.restore()
