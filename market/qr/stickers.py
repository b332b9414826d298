"""Printable payment stickers: one per A6 (or A5 standee), or four A6 per A4 sheet.

A sticker shows, top to bottom: "Quét mã để thanh toán", the QR code (vector, ~7 cm on A6,
with its 4-module quiet zone kept clear), the account holder's name as large as fits (shoppers
compare it with the name their bank app shows: the defence against a fake QR pasted over the
real one), bank and account number, a boxed "check the recipient's name" warning, then market,
stall and the optional pay URL. Text that is too long shrinks (and the name may wrap to two
lines); it never leaves its box.

The PDF is written by ``market.qr.pdf.PdfStreamWriter``, page by page, so a market's 2,100
stickers take constant memory (see that module for why reportlab's Canvas is not used).

>>> info = StickerInfo(payload="00020101021138540010A00000072701240006970449011007273204360208"
...     "QRIBFTTA53037045802VN62100806KIOT2263047A62", holder_name="NGUYỄN THỊ HỒNG",
...     bank_short_name="LPBank", account_number="0727320436",
...     market_name="Chợ Đồng Quang", stall_code="A12")
>>> render_sticker_pdf(info)[:8]
b'%PDF-1.7'
"""

from __future__ import annotations

import io
import itertools
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from typing import BinaryIO

from market.qr.errors import InvalidOption, InvalidSticker
from market.qr.pdf import BOLD, MM, REGULAR, PageContent, PdfStreamWriter, font_metrics
from market.qr.symbol import QRSymbol, encode

__all__ = [
    "LAYOUTS",
    "QR_QUIET_ZONE",
    "SIZES",
    "StickerInfo",
    "printable_text",
    "qr_placement",
    "render_sticker_pdf",
    "sticker_origins",
    "write_sticker_sheets",
]

#: Sticker sizes in millimetres (portrait).
SIZES: dict[str, tuple[float, float]] = {"A6": (105.0, 148.0), "A5": (148.0, 210.0)}
#: "a4x4": four A6 on an A4 portrait sheet, 2x2, with crop marks; "single": one per page.
LAYOUTS = ("a4x4", "single")
#: Light modules kept around the QR symbol, as ISO/IEC 18004 asks.
QR_QUIET_ZONE = 4

A4 = (210.0, 297.0)
PT = 25.4 / 72  # one point in millimetres: the design below is drawn in millimetres

# The design, in millimetres on an A6 sticker, measured from its top edge.
_W, _H = SIZES["A6"]
_MARGIN = 6.0
_TEXT_WIDTH = _W - 2 * _MARGIN
_QR_MAX = 70.0
_QR_BLOCK = (14.0, 96.0)  # top and bottom of the QR symbol plus its quiet zone
_NAME_BOX = (97.0, 111.0)
_BANK_BASELINE = 116.5
_WARNING_BOX = (119.0, 132.0)
_FOOTER_BASELINE = 136.5
_URL_BASELINE = 141.0


def printable_text(text: str, fallback: str = "?") -> str:
    """``text`` as the sticker fonts can print it: a character they lack is replaced by its
    compatibility decomposition where the fonts have that (a full-width letter by the
    letter), else dropped; spaces are collapsed, and ``fallback`` stands for nothing left.

    >>> printable_text("Chợ Đồng Quang")
    'Chợ Đồng Quang'
    >>> printable_text("Chợ 🍉 Ｔúc Duyên 市")
    'Chợ Túc Duyên'
    >>> printable_text("市場", fallback="TN-A")
    'TN-A'
    """
    regular, bold = font_metrics(REGULAR).glyphs, font_metrics(BOLD).glyphs
    kept = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in regular and ch in bold:
            kept.append(ch)
            continue
        for part in unicodedata.normalize("NFKC", ch):
            if part in regular and part in bold:
                kept.append(part)
    printable = " ".join("".join(kept).split())
    return printable or fallback


@dataclass(frozen=True, slots=True)
class StickerInfo:
    """What one stall's sticker says. ``payload`` is the VietQR text, already built;
    ``stall_word`` is what the market calls a stall, as the app's pages do ("Sạp")."""

    payload: str
    holder_name: str
    bank_short_name: str
    account_number: str
    market_name: str
    stall_code: str
    pay_url: str | None = None
    stall_word: str = "Sạp"

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if value is None and item.name == "pay_url":
                continue
            if not isinstance(value, str) or not value.strip():
                raise InvalidSticker(item.name, value, "must be non-empty text")
            if item.name == "payload":
                continue
            missing = set(font_metrics(REGULAR).missing(value))
            missing.update(font_metrics(BOLD).missing(value))
            if missing:
                shown = "".join(sorted(missing))
                raise InvalidSticker(item.name, value, f"has characters we cannot print: {shown!r}")


def render_sticker_pdf(info: StickerInfo, size: str = "A6") -> bytes:
    """A one-page PDF of ``info``'s sticker at ``size`` ("A6" or "A5")."""
    out = io.BytesIO()
    write_sticker_sheets([info], out, layout="single", size=size)
    return out.getvalue()


def write_sticker_sheets(
    infos: Iterable[StickerInfo],
    out: BinaryIO,
    *,
    layout: str = "a4x4",
    size: str = "A6",
    progress: Callable[[int], None] | None = None,
) -> int:
    """Stream a PDF of stickers to ``out``; returns how many stickers were written.

    ``infos`` may be a generator of thousands: each page is written as soon as it is full, so
    memory does not grow with the count. ``progress`` is called after every page with the
    number of stickers written so far. Nothing is written if ``infos`` is empty or an option
    is wrong (both raise).
    """
    if layout not in LAYOUTS:
        raise InvalidOption("layout", layout, f"must be one of {', '.join(map(repr, LAYOUTS))}")
    if size not in SIZES:
        raise InvalidOption("size", size, f"must be one of {', '.join(map(repr, SIZES))}")
    if layout == "a4x4" and size != "A6":
        raise InvalidOption("size", size, "layout 'a4x4' holds A6 stickers; use layout='single'")
    stickers = iter(infos)
    first = next(stickers, None)
    if first is None:
        raise InvalidOption("infos", [], "there are no stickers to write")
    per_page = 4 if layout == "a4x4" else 1
    page_mm = A4 if layout == "a4x4" else SIZES[size]
    writer = PdfStreamWriter(out, title="Mã QR thanh toán")
    written = 0
    for batch in _batched(itertools.chain([first], stickers), per_page):
        page = writer.new_page()
        for info, origin in zip(batch, sticker_origins(layout, size), strict=False):
            _check_info(info)
            _draw_sticker(page, info, origin, size)
        if layout == "a4x4":
            _draw_crop_marks(page)
        writer.add_page(page, page_mm[0] * MM, page_mm[1] * MM)
        written += len(batch)
        if progress is not None:
            progress(written)
    writer.close()
    return written


def sticker_origins(layout: str, size: str = "A6") -> list[tuple[float, float]]:
    """Bottom-left corners (mm, from the page's bottom left) of the stickers on one page."""
    if layout == "single":
        return [(0.0, 0.0)]
    gap = (A4[1] - 2 * _H) / 2  # A4 is 1 mm taller than two A6: split it above and below
    top_row, bottom_row = gap + _H, gap
    return [(0.0, top_row), (_W, top_row), (0.0, bottom_row), (_W, bottom_row)]


def qr_placement(symbol: QRSymbol) -> tuple[float, float, float]:
    """``(left, top, side)`` of the QR symbol in mm on an A6 sticker, from its top left.

    The symbol is as large as fits with its quiet zone in the QR block, at most 7 cm.
    """
    n = symbol.size
    block_top, block_bottom = _QR_BLOCK
    fit = (block_bottom - block_top) * n / (n + 2 * QR_QUIET_ZONE)
    side = min(_QR_MAX, fit)
    return (_W - side) / 2, (block_top + block_bottom - side) / 2, side


def _batched(items: Iterable[StickerInfo], n: int) -> Iterator[list[StickerInfo]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, n)):
        yield batch


def _check_info(info: object) -> None:
    if not isinstance(info, StickerInfo):
        raise InvalidSticker("info", info, "must be a StickerInfo")


# -- drawing -------------------------------------------------------------------------------


def _draw_sticker(
    page: PageContent, info: StickerInfo, origin: tuple[float, float], size: str
) -> None:
    """Draw the A6 design with its bottom left at ``origin`` (mm), scaled up for A5."""
    width, height = SIZES[size]
    scale = min(width / _W, height / _H)
    left = origin[0] + (width - _W * scale) / 2
    bottom = origin[1] + (height - _H * scale) / 2
    page.save()
    # From here on, one unit is one design millimetre and y grows upwards from the bottom.
    page.transform(scale * MM, 0, 0, scale * MM, left * MM, bottom * MM)
    page.gray(0)
    text = _Text(page)
    holder = _nfc(info.holder_name)

    size_pt = text.fit_size([(BOLD, "Quét mã để thanh toán")], 16, _TEXT_WIDTH)
    text.centered([(BOLD, "Quét mã để thanh toán")], size_pt, 13.0)

    _draw_qr(page, encode(info.payload))

    name_top, name_bottom = _NAME_BOX
    size_pt, lines = text.fit_lines(
        holder, BOLD, 22, _TEXT_WIDTH, 2, name_bottom - name_top, one_line_bias=0.8
    )
    text.centered_block(lines, BOLD, size_pt, name_top, name_bottom)

    bank_runs = [
        (REGULAR, f"{_nfc(info.bank_short_name)} · STK "),
        (BOLD, _nfc(info.account_number)),
    ]
    text.centered(bank_runs, text.fit_size(bank_runs, 11.5, _TEXT_WIDTH), _BANK_BASELINE)

    box_top, box_bottom = _WARNING_BOX
    page.line_width(0.8 * PT)
    page.rect(_MARGIN, _H - box_bottom, _TEXT_WIDTH, box_bottom - box_top, fill=False, stroke=True)
    inner = _TEXT_WIDTH - 4
    before, after = [(REGULAR, "Kiểm tra tên người nhận:")], [(REGULAR, "trước khi chuyển tiền")]
    size_pt = min(text.fit_size(before, 8.5, inner), text.fit_size(after, 8.5, inner))
    name_pt = text.fit_size([(BOLD, holder)], size_pt, inner)
    leading = 1.25 * size_pt * PT
    middle = (box_top + box_bottom) / 2 + font_metrics(BOLD).cap_height / 1000 * name_pt * PT / 2
    text.centered(before, size_pt, middle - leading)
    text.centered([(BOLD, holder)], name_pt, middle)
    text.centered(after, size_pt, middle + leading)

    footer = [
        (BOLD, _nfc(info.market_name)),
        (REGULAR, f" · {_nfc(info.stall_word)} "),
        (BOLD, _nfc(info.stall_code)),
    ]
    text.centered(footer, text.fit_size(footer, 9.5, _TEXT_WIDTH), _FOOTER_BASELINE)
    if info.pay_url:
        url = [(REGULAR, _nfc(info.pay_url))]
        text.centered(url, text.fit_size(url, 7, _TEXT_WIDTH), _URL_BASELINE)
    page.restore()


def _draw_qr(page: PageContent, symbol: QRSymbol) -> None:
    """The symbol as one filled path of module-row rectangles (vector, no raster)."""
    left, top, side = qr_placement(symbol)
    module = side / symbol.size
    page.save()
    # Module units, rows growing downwards from the symbol's top left corner.
    page.transform(module, 0, 0, -module, left, _H - top)
    runs = [f"{x} {y} {length} 1 re" for y, x, length in symbol.dark_runs()]
    page.raw("\n".join(runs) + "\nf")
    page.restore()


def _draw_crop_marks(page: PageContent) -> None:
    """Short hairlines on the two cut lines of an A4 sheet of four A6 stickers."""
    page_w, page_h = A4
    cut_x = _W
    cut_y = sticker_origins("a4x4")[0][1]  # bottom edge of the top row
    reach = (2.0, 8.0)  # from the paper edge inwards, in mm
    page.save()
    page.transform(MM, 0, 0, MM, 0, 0)
    page.gray(0, stroke=True)
    page.line_width(0.25 * PT)
    for near, far in (reach, (page_h - reach[0], page_h - reach[1])):
        page.line(cut_x, near, cut_x, far)
    for near, far in (reach, (page_w - reach[0], page_w - reach[1])):
        page.line(near, cut_y, far, cut_y)
    page.line(cut_x - 3, cut_y, cut_x + 3, cut_y)
    page.line(cut_x, cut_y - 3, cut_x, cut_y + 3)
    page.restore()


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text.strip())


class _Text:
    """Text fitting and centring in design millimetres (sizes are given in points)."""

    def __init__(self, page: PageContent) -> None:
        self._page = page

    @staticmethod
    def width(runs: list[tuple[str, str]], size_pt: float) -> float:
        """Width in mm of ``runs`` (font, text) set at ``size_pt``."""
        return sum(font_metrics(font).width(text, size_pt) for font, text in runs) * PT

    def fit_size(self, runs: list[tuple[str, str]], max_pt: float, width: float) -> float:
        """The largest size up to ``max_pt`` at which ``runs`` fit on one line of ``width``."""
        natural = self.width(runs, 1.0)
        return min(max_pt, width / natural) if natural else max_pt

    def fit_lines(
        self,
        text: str,
        font: str,
        max_pt: float,
        width: float,
        max_lines: int,
        height: float,
        *,
        one_line_bias: float = 1.0,
    ) -> tuple[float, list[str]]:
        """Largest size (and the lines) at which ``text`` wraps into ``max_lines`` in the box.

        With ``one_line_bias`` below 1, one line is kept while its size is at least that
        fraction of the best wrapped size (a name reads best unbroken).
        """
        words = text.split()
        one_line = min(self.fit_size([(font, text)], max_pt, width), height / PT / 1.2)
        best = (one_line, [" ".join(words)])
        for count in range(2, max_lines + 1):
            for lines in _splits(words, count):
                size = min(self.fit_size([(font, line)], max_pt, width) for line in lines)
                size = min(size, height / PT / (1.2 * count))
                if size > best[0] and (len(best[1]) > 1 or size * one_line_bias > one_line):
                    best = (size, lines)
        return best

    def centered(self, runs: list[tuple[str, str]], size_pt: float, baseline: float) -> None:
        """Draw ``runs`` on one line centred on the sticker, ``baseline`` mm from its top."""
        x = (_W - self.width(runs, size_pt)) / 2
        for font, text in runs:
            self._page.text(font, size_pt * PT, x, _H - baseline, text)
            x += font_metrics(font).width(text, size_pt) * PT

    def centered_block(
        self, lines: list[str], font: str, size_pt: float, top: float, bottom: float
    ) -> None:
        """Lines centred horizontally, and as a block vertically between ``top`` and ``bottom``."""
        metrics = font_metrics(font)
        leading = 1.2 * size_pt * PT
        cap = metrics.cap_height / 1000 * size_pt * PT
        block = cap + leading * (len(lines) - 1)
        baseline = top + (bottom - top - block) / 2 + cap
        for line in lines:
            self.centered([(font, line)], size_pt, baseline)
            baseline += leading


def _splits(words: list[str], count: int) -> Iterator[list[str]]:
    """Every way to cut ``words`` into ``count`` non-empty lines, in order."""
    if count == 1:
        yield [" ".join(words)]
        return
    for cut in range(1, len(words) - count + 2):
        for rest in _splits(words[cut:], count - 1):
            yield [" ".join(words[:cut]), *rest]
