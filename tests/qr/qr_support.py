"""Helpers shared by the tests of ``market.qr`` (a plain module: no fixtures, no conftest)."""

from __future__ import annotations

import json
from pathlib import Path

import zxingcpp
from PIL import Image

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
