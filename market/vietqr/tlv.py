"""EMVCo tag-length-value encoding: 2-digit tag, 2-digit decimal length, value.

>>> encode("58", "VN")
'5802VN'
>>> decode("5303704" "5802VN")
[('53', '704'), ('58', 'VN')]
>>> decode("0102AB", "62")
[('62.01', 'AB')]
"""

from __future__ import annotations

from market.vietqr.errors import LengthError, TLVError

__all__ = ["LENGTHS", "MAX_LENGTH", "decode", "encode"]

#: The longest value a 2-digit length can declare.
MAX_LENGTH = 99

# "00".."99" -> int. A dict lookup both validates (ASCII digits only; note that
# str.isdigit() would accept '²' or '٣') and converts.
_TWO_DIGITS: dict[str, int] = {f"{n:02d}": n for n in range(100)}
#: ``LENGTHS[n]`` is ``n`` as a 2-digit length.
LENGTHS: tuple[str, ...] = tuple(f"{n:02d}" for n in range(100))


def encode(tag: str, value: str) -> str:
    """Return ``tag + length + value``; ``tag`` must be two ASCII digits.

    >>> encode("62", "x" * 100)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    market.vietqr.errors.LengthError: 62 (additional data): 'xxxx...
    """
    if tag not in _TWO_DIGITS:
        raise TLVError("payload", tag, "is not a 2-digit tag")
    size = len(value)
    if not 0 < size <= MAX_LENGTH:
        raise LengthError(tag, value, f"is {size} characters; a TLV value must be 1-99")
    return tag + LENGTHS[size] + value


def decode(text: str, path: str = "") -> list[tuple[str, str]]:
    """Split ``text`` into ``(path, value)`` pairs, in order.

    ``path`` is the template the text belongs to (``"38"``, ``"38.01"``); the
    returned paths are ``path + "." + tag``. Raises :class:`TLVError` for a tag or
    length that is not two ASCII digits or for trailing bytes too short to be a
    tag and length, and :class:`LengthError` for a zero length or a value that
    runs past the end of ``text``. Duplicates and order are the caller's concern.
    """
    prefix = path + "." if path else ""
    container = path or "payload"
    items: list[tuple[str, str]] = []
    append = items.append
    pos = 0
    end = len(text)
    while pos < end:
        if end - pos < 4:
            raise TLVError(
                container, text[pos:], f"at offset {pos} is trailing data, not a tag and length"
            )
        tag = text[pos : pos + 2]
        if tag not in _TWO_DIGITS:
            raise TLVError(container, tag, f"at offset {pos} is not a 2-digit tag")
        child = prefix + tag
        length_text = text[pos + 2 : pos + 4]
        size = _TWO_DIGITS.get(length_text)
        if size is None:
            raise TLVError(child, length_text, "is not a 2-digit length")
        if size == 0:
            raise LengthError(child, length_text, "is not a valid length; EMVCo lengths are 01-99")
        start = pos + 4
        pos = start + size
        if pos > end:
            raise LengthError(
                child,
                text[start:],
                f"is {end - start} characters but its length says {length_text}",
            )
        append((child, text[start:pos]))
    return items
