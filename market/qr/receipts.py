"""Fee receipts (biên lai thu phí): one numbered A6 page per payment on a bill, in Vietnamese.

The market and the receipt's number, who paid for which stall and bill, the amount in
figures and in words, how it was paid (transfer, cash, bank statement) and when, who
recorded it, and what the bill still asks after it. Several receipts stream into one PDF
(a reprint of a day's receipts), page by page like the notices.

>>> words_vnd(1250000)
'Một triệu hai trăm năm mươi nghìn đồng'
>>> words_vnd(105000)
'Một trăm linh năm nghìn đồng'
>>> words_vnd(21000)
'Hai mươi mốt nghìn đồng'
>>> receipt = FeeReceiptSlip(number="BL2026-00001", market_name="Chợ Đồng Quang",
...     stall_code="A-01", holder_name="Nguyễn Thị Hoa", bill_number="202611-0001",
...     period_label="Tháng 11/2026", amount=350000, method_label="Chuyển khoản (QR)",
...     paid_at="05/11/2026 08:15", recorded_by="", balance_after=0, reference="CPAB23CD45")
>>> render_receipts_pdf([receipt])[:8]
b'%PDF-1.7'
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from market.qr.errors import InvalidOption, InvalidSticker
from market.qr.notices import vnd
from market.qr.pdf import BOLD, MM, REGULAR, PageContent, PdfStreamWriter
from market.qr.stickers import PT, SIZES, _Text, printable_text

__all__ = ["FeeReceiptSlip", "render_receipts_pdf", "words_vnd", "write_receipts"]

_W, _H = SIZES["A6"]
_MARGIN = 7.0
_TEXT_WIDTH = _W - 2 * _MARGIN

_DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_GROUPS = ("", " nghìn", " triệu", " tỷ")


def _three(number: int, full: bool) -> str:
    """0..999 in words; ``full``: a group after a higher one ("không trăm linh năm")."""
    hundreds, rest = divmod(number, 100)
    tens, units = divmod(rest, 10)
    words = []
    if hundreds or full:
        words += [_DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units and (hundreds or full):
            words.append("linh")
    elif tens == 1:
        words.append("mười")
    else:
        words += [_DIGITS[tens], "mươi"]
    if units:
        if units == 1 and tens >= 2:
            words.append("mốt")
        elif units == 5 and tens >= 1:
            words.append("lăm")
        elif units == 4 and tens >= 2:
            words.append("tư")
        else:
            words.append(_DIGITS[units])
    return " ".join(words)


def words_vnd(amount: int) -> str:
    """Whole dong in Vietnamese words, as a receipt writes the amount out."""
    if amount == 0:
        return "Không đồng"
    groups = []
    rest = abs(amount)
    while rest:
        rest, group = divmod(rest, 1000)
        groups.append(group)
    parts = []
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            continue
        higher = index < len(groups) - 1
        scale = _GROUPS[index % 3] if index % 3 else ""
        billions = " tỷ" * (index // 3)
        parts.append(_three(group, higher) + scale + billions)
    text = " ".join(parts) + " đồng"
    text = ("âm " if amount < 0 else "") + text
    return text[0].upper() + text[1:]


@dataclass(frozen=True, slots=True)
class FeeReceiptSlip:
    """What one receipt says; amounts in whole dong, dates already written for people."""

    number: str
    market_name: str
    stall_code: str
    holder_name: str
    bill_number: str
    period_label: str
    amount: int
    method_label: str
    paid_at: str
    recorded_by: str
    balance_after: int
    reference: str = ""

    def __post_init__(self) -> None:
        for name in ("number", "market_name", "stall_code", "bill_number", "paid_at"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise InvalidSticker(name, value, "must be non-empty text")
        if not isinstance(self.amount, int) or isinstance(self.amount, bool) or self.amount <= 0:
            raise InvalidSticker("amount", self.amount, "must be a positive whole dong")


def render_receipts_pdf(receipts: Iterable[FeeReceiptSlip]) -> bytes:
    out = io.BytesIO()
    write_receipts(receipts, out)
    return out.getvalue()


def write_receipts(receipts: Iterable[FeeReceiptSlip], out: BinaryIO) -> int:
    writer = None
    written = 0
    for receipt in receipts:
        if not isinstance(receipt, FeeReceiptSlip):
            raise InvalidSticker("receipt", receipt, "must be a FeeReceiptSlip")
        if writer is None:
            writer = PdfStreamWriter(out, title="Biên lai thu phí chợ")
        page = writer.new_page()
        _draw_receipt(page, receipt)
        writer.add_page(page, _W * MM, _H * MM)
        written += 1
    if writer is None:
        raise InvalidOption("receipts", [], "there are no receipts to write")
    writer.close()
    return written


def _p(text: str) -> str:
    return printable_text(unicodedata.normalize("NFC", text.strip()), fallback="—")


def _draw_receipt(page: PageContent, receipt: FeeReceiptSlip) -> None:
    page.save()
    page.transform(MM, 0, 0, MM, 0, 0)
    page.gray(0)
    text = _Text(page)

    def centered(runs, max_pt, baseline):
        text.centered(runs, text.fit_size(runs, max_pt, _TEXT_WIDTH), baseline)

    def field(label, value, baseline, *, size=9.5):
        runs = [(REGULAR, f"{label}: "), (BOLD, value)]
        fitted = text.fit_size(runs, size, _TEXT_WIDTH)
        x = _MARGIN
        for font, part in runs:
            page.text(font, fitted * PT, x, _H - baseline, part)
            x += text.width([(font, part)], fitted)

    centered([(BOLD, _p(receipt.market_name))], 11, 11.0)
    centered([(BOLD, "BIÊN LAI THU PHÍ")], 15, 20.0)
    centered([(REGULAR, "Số: "), (BOLD, _p(receipt.number))], 10, 26.0)
    page.line_width(0.3 * PT)
    page.line(_MARGIN, _H - 29.5, _W - _MARGIN, _H - 29.5)

    baseline = 36.0
    holder = _p(receipt.holder_name) if receipt.holder_name.strip() else "—"
    rows = [
        ("Người nộp", holder),
        ("Quầy", _p(receipt.stall_code)),
        ("Hóa đơn", f"{_p(receipt.bill_number)} · {_p(receipt.period_label)}"),
        ("Hình thức", _p(receipt.method_label)),
        ("Thời gian", _p(receipt.paid_at)),
    ]
    if receipt.reference.strip():
        rows.append(("Mã thanh toán", _p(receipt.reference)))
    for label, value in rows:
        field(label, value, baseline)
        baseline += 6.0

    baseline += 4.0
    centered([(REGULAR, "Số tiền")], 10, baseline)
    centered([(BOLD, vnd(receipt.amount))], 22, baseline + 10.0)
    words = _p(words_vnd(receipt.amount))
    size, lines = text.fit_lines(words, REGULAR, 9, _TEXT_WIDTH, 2, 10.0)
    y = baseline + 16.0
    for line in lines:
        text.centered([(REGULAR, line)], size, y)
        y += 1.25 * size * PT
    baseline = max(y + 4.0, baseline + 26.0)
    if receipt.balance_after > 0:
        centered(
            [(REGULAR, "Hóa đơn còn phải nộp: "), (BOLD, vnd(receipt.balance_after))],
            10,
            baseline,
        )
    else:
        centered([(BOLD, "Hóa đơn đã nộp đủ.")], 10, baseline)
    if receipt.recorded_by.strip():
        centered([(REGULAR, f"Người thu: {_p(receipt.recorded_by)}")], 9, baseline + 7.0)
    centered([(REGULAR, "Biên lai điện tử của Ban quản lý chợ · Chợ 4.0")], 7.5, _H - 6.0)
    page.restore()
