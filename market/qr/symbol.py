"""Payload text -> QR module grid, the one encoder every output (PNG, SVG, PDF) draws from.

>>> sym = encode("00020101021138540010A00000072701240006970449011007273204360208QRIBFTTA"
...              "53037045802VN62100806KIOT2263047A62")
>>> sym.size, sym.error
(33, 'M')
>>> sym.is_dark(0, 0), sym.is_dark(7, 7)  # finder pattern corner, separator
(True, False)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import qrcode
import zxingcpp
from qrcode.exceptions import DataOverflowError
from qrcode.util import MODE_8BIT_BYTE, QRData

from market.qr.errors import InvalidOption, InvalidPayload

__all__ = ["ERROR_LEVELS", "QRSymbol", "encode"]

#: Accepted error-correction levels: "M" or stronger (L is too fragile for printed stickers).
ERROR_LEVELS = ("M", "Q", "H")

_DARK_RUN = re.compile(rb"\x00+")


@dataclass(frozen=True, slots=True)
class QRSymbol:
    """A QR symbol without its quiet zone.

    ``pixels`` holds ``size * size`` bytes row by row, top row first: ``0`` for a dark module,
    ``255`` for a light one (Pillow's ``"L"`` mode, so it becomes an image without copying).
    """

    size: int
    pixels: bytes
    error: str

    def is_dark(self, x: int, y: int) -> bool:
        """Whether the module in column ``x``, row ``y`` is dark."""
        return self.pixels[y * self.size + x] == 0

    def dark_runs(self) -> Iterator[tuple[int, int, int]]:
        """Horizontal runs of dark modules as ``(row, first column, length)``, top row first.

        Drawing runs instead of single modules keeps SVG paths and PDF content small.
        """
        n = self.size
        pixels = self.pixels
        for y in range(n):
            for m in _DARK_RUN.finditer(pixels, y * n, (y + 1) * n):
                yield y, m.start() - y * n, m.end() - m.start()


def encode(payload: str, error: str = "M") -> QRSymbol:
    """Encode ``payload`` at error level ``error`` in the smallest QR version.

    The symbol always carries the payload's UTF-8 bytes and no ECI header, the way bank apps
    read VietQR. ASCII text (every EMVCo/VietQR payload) goes through zxing-cpp's writer (zint,
    in C: mode segmentation and mask scoring); other text goes through qrcode (pure Python) in
    byte mode, because zint would store Latin-1 or Shift JIS bytes, or add an ECI, for it.
    """
    if error not in ERROR_LEVELS:
        raise InvalidOption("error", error, f"must be one of {', '.join(map(repr, ERROR_LEVELS))}")
    if not isinstance(payload, str) or not payload:
        raise InvalidPayload(payload, "must be a non-empty string")
    if payload.isascii():
        return _encode_ascii(payload, error)
    return _encode_utf8_bytes(payload, error)


def _encode_ascii(payload: str, error: str) -> QRSymbol:
    try:
        barcode = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode, ec_level=error)
    except ValueError as exc:  # zint refuses data that does not fit version 40
        raise InvalidPayload(payload, str(exc)) from exc
    image = barcode.to_image(scale=1, add_quiet_zones=False)
    _, width = image.shape
    return QRSymbol(size=width, pixels=bytes(image), error=error)


_ERROR_LEVELS = {
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}


def _encode_utf8_bytes(payload: str, error: str) -> QRSymbol:
    # Given bytes, qrcode writes one byte-mode segment of exactly those bytes (no ECI).
    qr = qrcode.QRCode(error_correction=_ERROR_LEVELS[error], border=0)
    qr.add_data(QRData(payload.encode("utf-8"), mode=MODE_8BIT_BYTE), optimize=0)
    try:
        qr.make(fit=True)
    except (DataOverflowError, ValueError) as exc:  # past version 40
        raise InvalidPayload(payload, str(exc)) from exc
    matrix = qr.get_matrix()
    pixels = bytes(0 if dark else 255 for row in matrix for dark in row)
    return QRSymbol(size=len(matrix), pixels=pixels, error=error)
