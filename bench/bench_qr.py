"""Cold QR PNG renders per second: qrcode's default vs the candidates vs ``render_png``.

Run: ``.venv/bin/python bench/bench_qr.py [--count 200] [--rounds 5]``

Every candidate renders the same list of distinct VietQR payloads (no cache anywhere) at
error level M, 4-module quiet zone, 10 px per module (qrcode's default box size), and the
median of ``--rounds`` rounds is reported as renders/s, as a ratio to qrcode's default and to
the 300/s target.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import qrcode
import qrcode.constants
import qrcode.util
import zxingcpp
from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from market.qr import render_png

TARGET = 300.0
SCALE = 10
BORDER = 4


def _crc16(data: bytes) -> str:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def _tlv(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def payloads(count: int) -> list[str]:
    """Distinct dynamic VietQR payloads: account, amount and purpose vary, CRC is valid."""
    out = []
    for i in range(count):
        beneficiary = _tlv("00", "970454") + _tlv("01", f"{4052727176311 + i * 7919:013d}")
        account = _tlv("00", "A000000727") + _tlv("01", beneficiary) + _tlv("02", "QRIBFTTA")
        body = (
            _tlv("00", "01")
            + _tlv("01", "12")
            + _tlv("38", account)
            + _tlv("53", "704")
            + _tlv("54", str(1000 + 500 * i))
            + _tlv("58", "VN")
            + _tlv("62", _tlv("08", f"Tien rau {i}"))
            + "6304"
        )
        out.append(body + _crc16(body.encode()))
    return out


def qrcode_default(payload: str) -> bytes:
    out = io.BytesIO()
    qrcode.make(payload).save(out, "PNG")
    return out.getvalue()


def _png_from_rows(rows: list[list[bool]] | list[bytearray], n: int) -> bytes:
    data = bytes(0 if dark else 255 for row in rows for dark in row)
    image = Image.frombytes("L", (n, n), data).convert("1", dither=Image.Dither.NONE)
    image = ImageOps.expand(image, BORDER, fill=1)
    side = image.width * SCALE
    out = io.BytesIO()
    image.resize((side, side), Image.Resampling.NEAREST).save(out, "PNG", optimize=False)
    return out.getvalue()


def qrcode_byte_matrix_pillow(payload: str) -> bytes:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, box_size=1)
    qr.add_data(qrcode.util.QRData(payload.encode(), mode=qrcode.util.MODE_8BIT_BYTE))
    qr.make(fit=True)
    rows = qr.get_matrix()
    return _png_from_rows(rows, len(rows))


def zxing_to_image_scaled(payload: str) -> bytes:
    barcode = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image = barcode.to_image(scale=SCALE, add_quiet_zones=True)
    height, width = image.shape
    pil = Image.frombuffer("L", (width, height), bytes(image), "raw", "L", 0, 1)
    out = io.BytesIO()
    pil.convert("1", dither=Image.Dither.NONE).save(out, "PNG", optimize=False)
    return out.getvalue()


def chosen_render_png(payload: str) -> bytes:
    return render_png(payload, scale=SCALE, border=BORDER, error="M")


CANDIDATES: list[tuple[str, Callable[[str], bytes]]] = [
    ("(a) qrcode.make default", qrcode_default),
    ("(b) qrcode byte mode, matrix + Pillow 1-bit", qrcode_byte_matrix_pillow),
    ("(b) zxing-cpp writer, to_image(scale) + Pillow", zxing_to_image_scaled),
    ("(c) market.qr.render_png (chosen)", chosen_render_png),
]


def measure(render: Callable[[str], bytes], items: list[str], rounds: int) -> float:
    """Median renders per second over ``rounds`` passes through ``items``."""
    speeds = []
    for _ in range(rounds):
        start = time.perf_counter()
        for payload in items:
            render(payload)
        speeds.append(len(items) / (time.perf_counter() - start))
    return statistics.median(speeds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="distinct payloads per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    items = payloads(args.count)
    assert len(set(items)) == len(items)
    print(f"{args.count} distinct payloads, median of {args.rounds} rounds, scale {SCALE}, EC M")
    baseline = None
    for name, render in CANDIDATES:
        speed = measure(render, items, args.rounds)
        baseline = baseline or speed
        print(
            f"{name:<48} {speed:8.0f} renders/s  x{speed / baseline:5.2f} vs (a)"
            f"  x{speed / TARGET:5.2f} vs target {TARGET:.0f}/s"
        )


if __name__ == "__main__":
    main()
