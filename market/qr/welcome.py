"""Welcome slips: what a newly onboarded person needs to get in, on one A6 page each.

Top to bottom, in large Vietnamese type: a greeting, the person's name, their stall(s), the
activation link as a QR code and as short text, the one-time code, and three steps. The
slips of a whole import go into one PDF, streamed page by page like the stickers.

>>> slip = WelcomeSlip(name="Nguyễn Thị Hoa", stalls=("Chợ Đồng Quang · Sạp A-01",),
...     url="http://127.0.0.1:8000/activate/0912345678",
...     short_url="127.0.0.1:8000/activate/0912345678", code="12345678",
...     login="0912345678", expires="11/12/2026")
>>> render_welcome_pdf([slip])[:8]
b'%PDF-1.7'
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from market.qr.errors import InvalidOption, InvalidSticker
from market.qr.pdf import BOLD, MM, REGULAR, PdfStreamWriter, font_metrics
from market.qr.stickers import PT, QR_QUIET_ZONE, SIZES, _Text
from market.qr.symbol import encode

__all__ = ["WelcomeSlip", "render_welcome_pdf", "write_welcome_slips"]

_W, _H = SIZES["A6"]
_MARGIN = 7.0
_TEXT_WIDTH = _W - 2 * _MARGIN
_QR_SIDE = 40.0  # mm, the symbol without its quiet zone
_QR_TOP = 44.0


@dataclass(frozen=True, slots=True)
class WelcomeSlip:
    """One person's slip. ``code`` is the plain one-time code: it exists only on this page."""

    name: str
    stalls: tuple[str, ...]
    url: str
    short_url: str
    code: str
    login: str
    expires: str

    def __post_init__(self) -> None:
        texts = {"name": self.name, "url": self.url, "short_url": self.short_url}
        texts.update({"code": self.code, "login": self.login, "expires": self.expires})
        for index, stall in enumerate(self.stalls):
            texts[f"stalls[{index}]"] = stall
        for field_name, value in texts.items():
            if not isinstance(value, str) or not value.strip():
                raise InvalidSticker(field_name, value, "must be non-empty text")
            missing = set(font_metrics(REGULAR).missing(value)) | set(
                font_metrics(BOLD).missing(value)
            )
            if missing:
                shown = "".join(sorted(missing))
                raise InvalidSticker(
                    field_name, value, f"has characters we cannot print: {shown!r}"
                )


def render_welcome_pdf(slips: Iterable[WelcomeSlip]) -> bytes:
    out = io.BytesIO()
    write_welcome_slips(slips, out)
    return out.getvalue()


def write_welcome_slips(slips: Iterable[WelcomeSlip], out: BinaryIO) -> int:
    """Stream one A6 page per slip to ``out``; returns how many were written."""
    writer = None
    written = 0
    for slip in slips:
        if not isinstance(slip, WelcomeSlip):
            raise InvalidSticker("slip", slip, "must be a WelcomeSlip")
        if writer is None:
            writer = PdfStreamWriter(out, title="Phiếu chào mừng Chợ 4.0")
        page = writer.new_page()
        _draw_slip(page, slip)
        writer.add_page(page, _W * MM, _H * MM)
        written += 1
    if writer is None:
        raise InvalidOption("slips", [], "there are no slips to write")
    writer.close()
    return written


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text.strip())


def _spaced(code: str) -> str:
    """12345678 -> "1234 5678": easier to read out and to type."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


def _draw_slip(page, slip: WelcomeSlip) -> None:
    page.save()
    page.transform(MM, 0, 0, MM, 0, 0)  # millimetres, y up from the bottom
    page.gray(0)
    text = _Text(page)

    def line(runs, max_pt, baseline):
        text.centered(runs, text.fit_size(runs, max_pt, _TEXT_WIDTH), baseline)

    line([(BOLD, "Chào mừng đến Chợ 4.0")], 15, 12.0)
    line([(BOLD, _nfc(slip.name))], 20, 22.0)
    baseline = 29.0
    for stall in slip.stalls[:3]:
        line([(REGULAR, _nfc(stall))], 11, baseline)
        baseline += 5.0
    if len(slip.stalls) > 3:
        line([(REGULAR, f"… và {len(slip.stalls) - 3} sạp khác")], 11, baseline)

    symbol = encode(slip.url)
    module = _QR_SIDE / symbol.size
    left = (_W - _QR_SIDE) / 2
    page.save()
    page.transform(module, 0, 0, -module, left, _H - _QR_TOP)
    runs = [f"{x} {y} {length} 1 re" for y, x, length in symbol.dark_runs()]
    page.raw("\n".join(runs) + "\nf")
    page.restore()
    below_qr = _QR_TOP + _QR_SIDE + QR_QUIET_ZONE * module
    line([(BOLD, _nfc(slip.short_url))], 11, below_qr + 2.0)

    line([(REGULAR, "Mã kích hoạt (dùng một lần):")], 11, below_qr + 10.0)
    line([(BOLD, _spaced(slip.code))], 28, below_qr + 21.0)

    steps = [
        "1. Quét mã QR bằng điện thoại, hoặc gõ địa chỉ trên.",
        "2. Nhập mã kích hoạt ở trên.",
        f"3. Đặt mật khẩu. Lần sau đăng nhập bằng số {_nfc(slip.login)}.",
    ]
    size = min(text.fit_size([(REGULAR, s)], 10.5, _TEXT_WIDTH) for s in steps)
    y = below_qr + 29.0
    for step in steps:
        page.text(REGULAR, size * PT, _MARGIN, _H - y, step)
        y += 1.35 * size * PT
    line([(REGULAR, f"Mã hết hạn ngày {_nfc(slip.expires)}.")], 9, y + 1.0)
    page.restore()
