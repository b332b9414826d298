"""Typed errors of ``market.qr``: every one is a ``ValueError`` that quotes the bad input.

>>> err = InvalidOption("error", "L", "must be one of 'M', 'Q', 'H'")
>>> str(err)
"error='L': must be one of 'M', 'Q', 'H'"
>>> (err.option, err.value, isinstance(err, ValueError))
('error', 'L', True)
"""

from __future__ import annotations

__all__ = ["InvalidOption", "InvalidPayload", "InvalidSticker", "QRError", "UnreadableImage"]


class QRError(ValueError):
    """Base class of every error raised by ``market.qr``."""


class InvalidPayload(QRError):
    """The payload cannot be put in a QR code (empty, not text, or too long)."""

    def __init__(self, payload: object, reason: str) -> None:
        self.payload = payload
        shown = repr(payload) if len(repr(payload)) <= 80 else repr(payload)[:77] + "..."
        super().__init__(f"payload {shown}: {reason}")


class InvalidOption(QRError):
    """A rendering or layout option is out of range (scale, border, error level, size...)."""

    def __init__(self, option: str, value: object, reason: str) -> None:
        self.option = option
        self.value = value
        super().__init__(f"{option}={value!r}: {reason}")


class InvalidSticker(QRError):
    """A ``StickerInfo`` field is missing or unusable."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        super().__init__(f"sticker {field}={value!r}: {reason}")


class UnreadableImage(QRError):
    """The uploaded bytes are not an image we can open (or it is far too large)."""
