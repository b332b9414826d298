"""Turn Vietnamese text into the plain ASCII that VietQR carries.

>>> transliterate("Trả tiền rau Đà Lạt")
'Tra tien rau Da Lat'
>>> transliterate("NGƯỜI BÁN Ở CHỢ")
'NGUOI BAN O CHO'
"""

from __future__ import annotations

import unicodedata

__all__ = ["transliterate"]

# Letters that carry their mark in the base character rather than as a
# combining mark, so Unicode decomposition alone leaves them alone. U+00D0
# (Icelandic Eth) looks exactly like Đ and turns up in text typed with old
# Vietnamese keyboard layouts.
_NO_DECOMPOSITION = str.maketrans({"đ": "d", "Đ": "D", "Ð": "D"})


def transliterate(text: str) -> str:
    """Remove diacritics: every tone and vowel mark, and đ/Đ to d/D.

    Works on precomposed (NFC) and decomposed (NFD) input alike. Characters
    with no plain Latin base (``'€'``, emoji, CJK) are returned unchanged;
    rejecting them is the caller's job.

    >>> transliterate("ắ ằ ẳ ẵ ặ ơ ư Ữ")
    'a a a a a o u U'
    >>> transliterate("100€")
    '100€'
    """
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text.translate(_NO_DECOMPOSITION))
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", bare)
