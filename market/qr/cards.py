"""A small PNG card for a shopper's gallery: the QR code with the stall and amount under it.

Every Vietnamese bank app scans a QR from a saved image, so a shopper who opened the pay link
on the phone they pay with saves this card and picks it in their app. The code keeps its quiet
zone and whole-pixel modules (it must decode from the file); the text is DejaVu, which has
every Vietnamese letter.

>>> png = render_pay_card(
...     "00020101021138540010A00000072701240006970449011007273204360208QRIBFTTA"
...     "53037045802VN62100806KIOT2263047A62", title="Sạp A-01 · Chợ Đồng Quang",
...     lines=["25.000 ₫"])
>>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from importlib import resources

from PIL import Image, ImageDraw, ImageFont

from market.qr.errors import InvalidOption
from market.qr.images import QUIET_ZONE, symbol_image
from market.qr.pdf import BOLD, REGULAR
from market.qr.symbol import encode

__all__ = ["CARD_WIDTH", "render_pay_card"]

#: Width of the card in pixels: sharp on a phone, a few kilobytes as a grey PNG.
CARD_WIDTH = 480
_MARGIN = 16
_TITLE_PX = 26
_LINE_PX = 34
_MIN_PX = 12
_MAX_LINES = 3
_MAX_TEXT = 80


@functools.cache
def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    data = resources.files("market.qr").joinpath("fonts", name).read_bytes()
    return ImageFont.truetype(io.BytesIO(data), size)


def _fitted(draw: ImageDraw.ImageDraw, text: str, name: str, size: int, width: int):
    """The font at ``size`` or smaller so that ``text`` fits ``width``; cut with "…" at last."""
    while size > _MIN_PX and draw.textlength(text, font=_font(name, size)) > width:
        size -= 1
    font = _font(name, size)
    while len(text) > 1 and draw.textlength(text, font=font) > width:
        text = text[:-2] + "…"
    return text, font


def render_pay_card(
    payload: str, *, title: str, lines: Sequence[str] = (), error: str = "M"
) -> bytes:
    """PNG bytes: the QR for ``payload``, ``title`` and up to three ``lines`` under it.

    Text too wide for the card is set smaller, then cut with "…"; the code is never shrunk.
    """
    for value in (title, *lines):
        if not isinstance(value, str) or len(value) > _MAX_TEXT:
            raise InvalidOption("text", value, f"must be a str of at most {_MAX_TEXT} characters")
    if len(lines) > _MAX_LINES:
        raise InvalidOption("lines", len(lines), f"at most {_MAX_LINES} lines fit under the code")
    symbol = encode(payload, error)
    # The largest whole number of pixels per module that fits the card's width.
    scale = max(1, CARD_WIDTH // (symbol.size + 2 * QUIET_ZONE))
    code = symbol_image(symbol, scale=scale).convert("L")
    # The title (stall), then the first line large (the amount), the others small.
    text_rows = [(title, BOLD, _TITLE_PX)] + [
        (line, BOLD, _LINE_PX) if i == 0 else (line, REGULAR, _TITLE_PX - 4)
        for i, line in enumerate(lines)
    ]
    height = code.height + _MARGIN + sum(int(px * 1.35) for _, _, px in text_rows) + _MARGIN
    card = Image.new("L", (CARD_WIDTH, height), 255)
    card.paste(code, ((CARD_WIDTH - code.width) // 2, 0))
    draw = ImageDraw.Draw(card)
    y = code.height
    for text, name, px in text_rows:
        shown, font = _fitted(draw, " ".join(text.split()), name, px, CARD_WIDTH - 2 * _MARGIN)
        draw.text((CARD_WIDTH // 2, y), shown, font=font, fill=0, anchor="ma")
        y += int(px * 1.35)
    out = io.BytesIO()
    # zlib at its default level: optimize=True made the file 9% smaller and the render 10x slower
    # (bench/bench_pay_card.py).
    card.save(out, format="PNG")
    return out.getvalue()
