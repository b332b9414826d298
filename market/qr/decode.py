"""Read QR codes from an uploaded photo (the sticker audit: a manager photographs a stall's
sticker and the server compares what it says with the registered payee).

>>> from market.qr.images import render_png
>>> decode_image(render_png("00020101021138540010A00000072701240006970449011007273204360208"
...                         "QRIBFTTA53037045802VN62100806KIOT2263047A62"))
['00020101021138540010A00000072701240006970449011007273204360208QRIBFTTA53037045802VN62100806KIOT2263047A62']
>>> decode_image(b"not a photo")
Traceback (most recent call last):
...
market.qr.errors.UnreadableImage: not an image we can read (JPEG, PNG, WebP, GIF, BMP or TIFF)
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Iterable

import zxingcpp
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from market.qr.errors import UnreadableImage

__all__ = [
    "ACCEPTED_FORMATS",
    "MAX_FULL_DECODE_PIXELS",
    "MAX_IMAGE_PIXELS",
    "WORKING_SIDE",
    "decode_image",
]

#: Pillow formats an upload may be in (the JPEG reader also opens phones' multi-picture MPO).
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")
#: Larger baseline JPEGs are refused (a 200 MP phone photo, 16320 x 12240, fits): libjpeg
#: decodes them straight at 1/2..1/8 size (``draft``), so memory follows the reduced size.
MAX_IMAGE_PIXELS = 210_000_000
#: Every other image (PNG, WebP, GIF, BMP, TIFF, and progressive JPEGs, whose decoder keeps
#: the whole image's coefficients) is decoded at full size before it is reduced: at most
#: this many pixels (6000 x 4000; a 12 MP phone photo saved as PNG or WebP fits), which is
#: at most 4 bytes a pixel, ~96 MB, while it is decoded.
MAX_FULL_DECODE_PIXELS = 24_000_000
#: Photos are scaled down so that their longer side is at most this many pixels.
WORKING_SIDE = 2048

# Pillow refuses images above twice its own global limit (179 MP by default) as "decompression
# bombs" before we can look at them; ours are checked below, for every format, before any
# pixel is decoded. Opening (headers only) happens with Pillow's check set to our ceiling.
_PILLOW_LIMIT_LOCK = threading.Lock()

_QR = zxingcpp.BarcodeFormat.QRCode


def decode_image(data: bytes) -> list[str]:
    """Texts of the QR codes found in an image file's bytes, in the order found, no repeats.

    An image without a readable QR code gives ``[]``; bytes that are not an image raise
    ``UnreadableImage``. Large photos are reduced first, EXIF orientation is applied, and a
    second pass on a contrast-stretched, denoised copy catches dim or noisy photos.
    """
    gray = _working_copy(_open(data))
    texts = _read(gray)
    if not texts:
        # Dim, low-contrast or grainy photo: stretch the grey levels and remove JPEG speckle,
        # then let zxing binarise it both locally and with one global threshold.
        cleaned = ImageOps.autocontrast(gray, cutoff=1).filter(ImageFilter.MedianFilter(3))
        texts = _read(cleaned) or _read(cleaned, binarizer=zxingcpp.Binarizer.GlobalHistogram)
    return texts


def _open(data: bytes) -> Image.Image:
    """The image in ``data``, decoded within the limits above (checked from its header, before
    any pixel is decoded); a JPEG decoded already reduced towards ``WORKING_SIDE``."""
    if not isinstance(data, bytes | bytearray | memoryview) or not data:
        raise UnreadableImage("no image data")
    Image.init()  # register every Pillow reader, so ``formats=`` knows WEBP and TIFF
    try:
        image = _open_header(data)
        width, height = image.size
        progressive = "progressive" in image.info or "progression" in image.info
        reduced_by_decoder = image.format in ("JPEG", "MPO") and not progressive
        limit = MAX_IMAGE_PIXELS if reduced_by_decoder else MAX_FULL_DECODE_PIXELS
        if width * height > limit:
            raise UnreadableImage(f"image is too large ({width}x{height} pixels)")
        if image.format in ("JPEG", "MPO"):
            # Let libjpeg decode at 1/2, 1/4 or 1/8 size straight away: faster, less memory.
            image.draft("L", (WORKING_SIDE, WORKING_SIDE))
        image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise UnreadableImage(
            "not an image we can read (JPEG, PNG, WebP, GIF, BMP or TIFF)"
        ) from exc
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        raise UnreadableImage(f"image file is damaged or truncated ({exc})") from exc
    return image


def _open_header(data: bytes) -> Image.Image:
    with _PILLOW_LIMIT_LOCK, warnings.catch_warnings():
        # Our limits are checked by the caller; Pillow's warning would only be noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
        try:
            return Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
        finally:
            Image.MAX_IMAGE_PIXELS = saved


#: Modes ``Image.reduce`` works on directly.
_REDUCIBLE = ("L", "LA", "RGB", "RGBA", "I", "F")


def _working_copy(image: Image.Image) -> Image.Image:
    """Upright, grayscale, at most ``WORKING_SIDE`` pixels on the longer side.

    A large image is first reduced by a whole factor (``Image.reduce``, a box filter), so
    every later step (orientation, transparency, grey) works on the small copy."""
    transpose = image.getexif().get(0x0112)  # EXIF orientation, read before reducing
    factor = max(image.size) // WORKING_SIDE
    if factor >= 2:
        if image.mode not in _REDUCIBLE:
            image = image.convert("RGBA" if _has_alpha(image) else "L")
        image = image.reduce(factor)
    if transpose:
        image.getexif()[0x0112] = transpose
        image = ImageOps.exif_transpose(image)
    if _has_alpha(image):
        # A transparent background counts as white paper, not as black.
        background = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(background, image.convert("RGBA"))
    gray = image.convert("L")
    if max(gray.size) > WORKING_SIDE:
        gray.thumbnail((WORKING_SIDE, WORKING_SIDE), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return gray


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )


def _read(
    gray: Image.Image, binarizer: zxingcpp.Binarizer = zxingcpp.Binarizer.LocalAverage
) -> list[str]:
    found = zxingcpp.read_barcodes(
        gray, formats=_QR, try_rotate=True, try_downscale=True, binarizer=binarizer
    )
    return _unique(barcode.text for barcode in found if barcode.valid)


def _unique(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(texts))
