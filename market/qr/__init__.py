"""QR images, photo decoding and printable stickers for VietQR payloads (no Flask, no DB)."""

from market.qr.errors import InvalidOption, InvalidPayload, InvalidSticker, QRError, UnreadableImage
from market.qr.images import render_png, render_svg
from market.qr.symbol import QRSymbol, encode

__all__ = [
    "InvalidOption",
    "InvalidPayload",
    "InvalidSticker",
    "QRError",
    "QRSymbol",
    "UnreadableImage",
    "encode",
    "render_png",
    "render_svg",
]
