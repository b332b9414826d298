"""QR images, photo decoding and printable stickers for VietQR payloads (no Flask, no DB)."""

from market.qr.cards import render_pay_card
from market.qr.decode import decode_image
from market.qr.errors import InvalidOption, InvalidPayload, InvalidSticker, QRError, UnreadableImage
from market.qr.images import render_png, render_svg
from market.qr.stickers import StickerInfo, render_sticker_pdf, write_sticker_sheets
from market.qr.symbol import QRSymbol, encode
from market.qr.welcome import WelcomeSlip, render_welcome_pdf, write_welcome_slips

__all__ = [
    "InvalidOption",
    "InvalidPayload",
    "InvalidSticker",
    "QRError",
    "QRSymbol",
    "StickerInfo",
    "UnreadableImage",
    "WelcomeSlip",
    "decode_image",
    "encode",
    "render_pay_card",
    "render_png",
    "render_sticker_pdf",
    "render_svg",
    "render_welcome_pdf",
    "write_sticker_sheets",
    "write_welcome_slips",
]
