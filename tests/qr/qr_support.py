"""Helpers shared by the tests of ``market.qr`` (a plain module: no fixtures, no conftest)."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pypdfium2 as pdfium
import zxingcpp
from PIL import Image, ImageFilter

HERE = Path(__file__).parent

#: Static VietQR payload (LPBank account, purpose "KIOT22").
STATIC = (
    "00020101021138540010A00000072701240006970449011007273204360208QRIBFTTA"
    "53037045802VN62100806KIOT2263047A62"
)
#: Dynamic VietQR payload (1,000 dong, purpose "Tien rau").
DYNAMIC = (
    "00020101021238570010A00000072701270006970454011340527271763110208QRIBFTTA"
    "5303704540410005802VN62120808Tien rau6304A7C0"
)


def vectors() -> list[dict]:
    """The VietQR vectors copied from shared/reference/vietqr_vectors.jsonl."""
    with (HERE / "vietqr_vectors.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def vector_payloads() -> list[str]:
    return [vector["payload"] for vector in vectors()]


def decode(image: Image.Image) -> list[str]:
    """Texts of every QR code zxing-cpp (not the encoder) finds in ``image``."""
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return [barcode.text for barcode in found]


def photo_of(
    picture: Image.Image,
    *,
    angle: float,
    shrink: float,
    blur: float = 1.0,
    quality: int = 40,
    canvas: tuple[int, int] = (1600, 1200),
    seed: int = 7,
) -> bytes:
    """A phone-photo-like JPEG of ``picture``: rotated, shrunk, blurred, on a noisy background."""
    rng = random.Random(seed)
    art = picture.convert("L")
    art = art.resize(
        (round(art.width * shrink), round(art.height * shrink)), Image.Resampling.BILINEAR
    )
    art = art.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=255)
    mask = Image.new("L", (round(picture.width * shrink), round(picture.height * shrink)), 255)
    mask = mask.rotate(angle, expand=True, fillcolor=0)
    background = Image.effect_noise(canvas, 60).point(lambda v: 60 + v // 3)
    left = rng.randint(0, max(0, canvas[0] - art.width))
    top = rng.randint(0, max(0, canvas[1] - art.height))
    background.paste(art, (left, top), mask)
    # Uneven light: darker towards one side, as under a market stall's awning.
    gradient = Image.linear_gradient("L").resize(canvas).point(lambda v: 255 - v // 5)
    shot = Image.composite(background, Image.new("L", canvas, 0), gradient)
    shot = shot.filter(ImageFilter.GaussianBlur(blur)).convert("RGB")
    out = io.BytesIO()
    shot.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def rasterise(pdf: bytes, dpi: int = 150) -> list[Image.Image]:
    """Every page of ``pdf`` drawn by PDFium (Chrome's PDF engine) as an RGB image."""
    document = pdfium.PdfDocument(pdf)
    try:
        return [page.render(scale=dpi / 72).to_pil().convert("RGB") for page in document]
    finally:
        document.close()


def page_texts(pdf: bytes) -> list[str]:
    """The text PDFium extracts from each page (needs a correct ToUnicode map)."""
    document = pdfium.PdfDocument(pdf)
    try:
        return [page.get_textpage().get_text_bounded() for page in document]
    finally:
        document.close()


def page_sizes_mm(pdf: bytes) -> list[tuple[float, float]]:
    document = pdfium.PdfDocument(pdf)
    try:
        return [
            (round(w * 25.4 / 72, 1), round(h * 25.4 / 72, 1))
            for w, h in (page.get_size() for page in document)
        ]
    finally:
        document.close()


def char_boxes_mm(pdf: bytes, page_index: int = 0) -> list[tuple[str, tuple[float, ...]]]:
    """Each extracted character with its box ``(left, bottom, right, top)`` in mm."""
    document = pdfium.PdfDocument(pdf)
    try:
        textpage = document[page_index].get_textpage()
        text = textpage.get_text_range()
        boxes = []
        for index in range(textpage.count_chars()):
            box = tuple(v * 25.4 / 72 for v in textpage.get_charbox(index))
            boxes.append((text[index] if index < len(text) else "", box))
        return boxes
    finally:
        document.close()


def find_codes(image: Image.Image) -> list[zxingcpp.Barcode]:
    return zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
