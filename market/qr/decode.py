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
#: Larger JPEGs are refused (a 200 MP phone photo fits); libjpeg decodes them at 1/2..1/8 size.
MAX_IMAGE_PIXELS = 210_000_000
#: Other formats are decoded at full size first, so they get a tighter limit.
MAX_FULL_DECODE_PIXELS = 50_000_000
#: Photos are scaled down so that their longer side is at most this many pixels.
WORKING_SIDE = 2048

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
    if not isinstance(data, bytes | bytearray | memoryview) or not data:
        raise UnreadableImage("no image data")
    Image.init()  # register every Pillow reader, so ``formats=`` knows WEBP and TIFF
    try:
        with warnings.catch_warnings():
            # We apply our own pixel limit below; Pillow's warning would only be noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
        width, height = image.size
        is_jpeg = image.format in ("JPEG", "MPO")
        if width * height > (MAX_IMAGE_PIXELS if is_jpeg else MAX_FULL_DECODE_PIXELS):
            raise UnreadableImage(f"image is too large ({width}x{height} pixels)")
        if is_jpeg:
            # Let libjpeg decode at 1/2, 1/4 or 1/8 size straight away: faster, less memory.
            image.draft("L", (WORKING_SIDE, WORKING_SIDE))
        image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise UnreadableImage(
            "not an image we can read (JPEG, PNG, WebP, GIF, BMP or TIFF)"
        ) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise UnreadableImage(f"image file is damaged or truncated ({exc})") from exc
    return image


def _working_copy(image: Image.Image) -> Image.Image:
    """Upright, grayscale, at most ``WORKING_SIDE`` pixels on the longer side."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # A transparent background counts as white paper, not as black.
        background = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(background, image.convert("RGBA"))
    gray = image.convert("L")
    if max(gray.size) > WORKING_SIDE:
        gray.thumbnail((WORKING_SIDE, WORKING_SIDE), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return gray


def _read(
    gray: Image.Image, binarizer: zxingcpp.Binarizer = zxingcpp.Binarizer.LocalAverage
) -> list[str]:
    found = zxingcpp.read_barcodes(
        gray, formats=_QR, try_rotate=True, try_downscale=True, binarizer=binarizer
    )
    return _unique(barcode.text for barcode in found if barcode.valid)


def _unique(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(texts))
