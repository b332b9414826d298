"""QR payload -> crisp PNG / SVG bytes.

Encoder: zxing-cpp's writer (zint, C) + Pillow 1-bit + NEAREST upscale, ~510 PNG/s, 7x
``qrcode.make`` (~73/s) and 1.7x the 300/s target (``bench/bench_qr.py``, 2 cores). segno and
qrcode score the 8 masks in pure Python: < 65/s even with Pillow output. zint mixes numeric,
alphanumeric and byte segments (ISO 18004), so a dynamic VietQR is version 5, not byte-only 7-8:
~30% larger modules at 7 cm. Non-ASCII text goes to qrcode byte mode (UTF-8, no ECI).

>>> png = render_png("00020101021138540010A00000072701240006970449011007273204360208QRIBFTTA"
...                  "53037045802VN62100806KIOT2263047A62", scale=4)
>>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps

from market.qr.errors import InvalidOption
from market.qr.symbol import QRSymbol, encode

__all__ = ["MAX_SCALE", "QUIET_ZONE", "render_png", "render_svg", "symbol_image"]

#: The quiet zone ISO/IEC 18004 requires around a QR code, in modules.
QUIET_ZONE = 4
#: Largest pixels-per-module accepted (a version-10 code at 40 px is already 2,600 px wide).
MAX_SCALE = 40
_MAX_BORDER = 16


def _check_geometry(scale: int, border: int) -> None:
    if isinstance(scale, bool) or not isinstance(scale, int) or not 1 <= scale <= MAX_SCALE:
        raise InvalidOption("scale", scale, f"must be a whole number of pixels, 1..{MAX_SCALE}")
    if isinstance(border, bool) or not isinstance(border, int):
        raise InvalidOption("border", border, "must be a whole number of modules")
    if not QUIET_ZONE <= border <= _MAX_BORDER:
        raise InvalidOption(
            "border", border, f"must be {QUIET_ZONE}..{_MAX_BORDER} modules (the quiet zone)"
        )


def symbol_image(symbol: QRSymbol, *, scale: int = 10, border: int = QUIET_ZONE) -> Image.Image:
    """A 1-bit image of ``symbol``: ``scale`` px per module, ``border`` white modules around."""
    _check_geometry(scale, border)
    n = symbol.size
    image = Image.frombuffer("L", (n, n), symbol.pixels, "raw", "L", 0, 1)
    image = image.convert("1", dither=Image.Dither.NONE)
    image = ImageOps.expand(image, border, fill=1)
    if scale > 1:
        side = (n + 2 * border) * scale
        image = image.resize((side, side), Image.Resampling.NEAREST)
    return image


def render_png(
    payload: str, *, scale: int = 10, border: int = QUIET_ZONE, error: str = "M"
) -> bytes:
    """PNG bytes (1-bit, ``scale`` px per module) of the QR code for ``payload``."""
    image = symbol_image(encode(payload, error), scale=scale, border=border)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def render_svg(
    payload: str, *, scale: int = 10, border: int = QUIET_ZONE, error: str = "M"
) -> bytes:
    """SVG bytes of the QR code: one path of module-aligned rectangles on a white square.

    Coordinates are whole modules (``viewBox``); ``scale`` only sets the default pixel size.
    """
    _check_geometry(scale, border)
    symbol = encode(payload, error)
    side = symbol.size + 2 * border
    path = "".join(
        f"M{x + border} {y + border}h{length}v1h-{length}z" for y, x, length in symbol.dark_runs()
    )
    pixels = side * scale
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{pixels}" height="{pixels}" '
        f'viewBox="0 0 {side} {side}" shape-rendering="crispEdges">'
        f'<rect width="{side}" height="{side}" fill="#fff"/>'
        f'<path fill="#000" d="{path}"/></svg>\n'
    ).encode("ascii")
