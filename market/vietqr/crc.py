"""CRC-16/CCITT-FALSE, the checksum in EMVCo tag 63.

Polynomial 0x1021, initial value 0xFFFF, no reflection, no final XOR. It is
the same register as ``binascii.crc_hqx`` (CRC-16/XMODEM) started at 0xFFFF,
so the work is done in C.

>>> hex(crc16_ccitt_false(b"123456789"))
'0x29b1'
>>> crc_hex("00020101021138500010A0000007270120000697044101066262480208QRIBFTTA"
...         "53037045802VN6304")
'2D6E'
"""

from __future__ import annotations

from binascii import crc_hqx

__all__ = ["crc16_ccitt_false", "crc_hex"]


def crc16_ccitt_false(data: bytes | str, value: int = 0xFFFF) -> int:
    """Return the CRC-16/CCITT-FALSE of ``data`` (``str`` is encoded as UTF-8).

    ``value`` continues a running CRC; leave it at 0xFFFF for a fresh one.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    return crc_hqx(data, value)


def crc_hex(text: str) -> str:
    """Return the tag-63 value for ``text`` (everything up to and including ``6304``).

    Four uppercase hex digits, zero-padded.
    """
    return f"{crc_hqx(text.encode('utf-8'), 0xFFFF):04X}"
