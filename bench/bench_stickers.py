"""Sticker sheets: seconds and peak RSS for 100, 500 and 2,100 stickers (four A6 per A4).

Run: ``.venv/bin/python bench/bench_stickers.py [--counts 100 500 2100] [--rounds 3]``

Each run happens in a fresh Python process that builds distinct ``StickerInfo``s from a
generator and streams them to a file with ``write_sticker_sheets``; the child reports its wall
time and ``ru_maxrss`` (peak RSS). The table shows the median time of ``--rounds`` runs and the
largest peak RSS. ``--engine reportlab`` runs the same pages through reportlab's ``Canvas``
(QR as one path, same texts), the baseline that keeps every page in memory until ``save()``.
Target: 2,100 stickers in <= 15 s, with RSS that does not grow with the count.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 15.0
HOLDERS = ["NGUYỄN THỊ HỒNG", "TRẦN VĂN BÌNH", "LÊ THỊ THU HƯƠNG", "PHẠM QUỐC ĐẠT", "VÕ THỊ ÁNH"]
BANKS = [("970436", "Vietcombank"), ("970418", "BIDV"), ("970422", "MB"), ("970407", "Techcombank")]


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


def stickers(count: int) -> Iterator[object]:
    """Distinct stall stickers with valid static VietQR payloads, made one at a time."""
    from market.qr import StickerInfo

    for i in range(count):
        bin_, bank = BANKS[i % len(BANKS)]
        account_number = f"{1903665511 + i * 37:010d}"
        beneficiary = _tlv("00", bin_) + _tlv("01", account_number)
        merchant = _tlv("00", "A000000727") + _tlv("01", beneficiary) + _tlv("02", "QRIBFTTA")
        body = (
            _tlv("00", "01")
            + _tlv("01", "11")
            + _tlv("38", merchant)
            + _tlv("53", "704")
            + _tlv("58", "VN")
            + _tlv("62", _tlv("08", f"SAP {i}"))
            + "6304"
        )
        yield StickerInfo(
            payload=body + _crc16(body.encode()),
            holder_name=f"{HOLDERS[i % len(HOLDERS)]} {i}",
            bank_short_name=bank,
            account_number=account_number,
            market_name="Chợ Đồng Quang",
            stall_code=f"{chr(65 + i % 6)}{i:04d}",
            pay_url=f"https://cho40.vn/p/{i}",
        )


def child_market_qr(count: int, path: str) -> None:
    from market.qr import write_sticker_sheets

    with open(path, "wb") as out:
        written = write_sticker_sheets(stickers(count), out, layout="a4x4")
    assert written == count


def child_reportlab(count: int, path: str) -> None:
    """The same pages drawn with reportlab's Canvas (kept in memory until ``save()``)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    from market.qr import encode

    fonts = ROOT / "market" / "qr" / "fonts"
    pdfmetrics.registerFont(TTFont("DejaVu", str(fonts / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont("DejaVu-Bold", str(fonts / "DejaVuSans-Bold.ttf")))
    pdf = canvas.Canvas(path, pagesize=A4)
    for i, info in enumerate(stickers(count)):
        left, bottom = (i % 2) * 105 * mm, (1 - (i % 4) // 2) * 148 * mm
        symbol = encode(info.payload)
        module = 67 * mm / symbol.size
        runs = " ".join(f"{x} {y} {n} 1 re" for y, x, n in symbol.dark_runs())
        pdf.addLiteral(
            f"q {module:.4f} 0 0 {-module:.4f} {left + 19 * mm:.2f} {bottom + 134 * mm:.2f} cm "
            f"{runs} f Q"
        )
        centre = left + 52.5 * mm
        pdf.setFont("DejaVu-Bold", 16)
        pdf.drawCentredString(centre, bottom + 135 * mm, "Quét mã để thanh toán")
        pdf.setFont("DejaVu-Bold", 22)
        pdf.drawCentredString(centre, bottom + 42 * mm, info.holder_name)
        pdf.setFont("DejaVu", 11)
        pdf.drawCentredString(centre, bottom + 31 * mm, f"{info.bank_short_name} · STK ")
        pdf.drawCentredString(centre, bottom + 24 * mm, "Kiểm tra tên người nhận:")
        pdf.drawCentredString(centre, bottom + 12 * mm, f"{info.market_name} · {info.stall_code}")
        if i % 4 == 3:
            pdf.showPage()
    pdf.save()


def child(engine: str, count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "stickers.pdf")
        start = time.perf_counter()
        (child_market_qr if engine == "market.qr" else child_reportlab)(count, path)
        seconds = time.perf_counter() - start
        size = os.path.getsize(path)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"seconds": seconds, "peak_rss_mib": peak_kib / 1024, "bytes": size}))


def run(engine: str, count: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(count), "--engine", engine],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[100, 500, 2100])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--engine", choices=["market.qr", "reportlab"], default="market.qr")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.engine, args.child)
        return
    print(f"engine {args.engine}, four A6 per A4, median of {args.rounds} fresh processes")
    print(f"{'stickers':>8} {'pages':>6} {'seconds':>8} {'per s':>7} {'peak RSS':>10} {'PDF':>9}")
    for count in args.counts:
        results = [run(args.engine, count) for _ in range(args.rounds)]
        seconds = statistics.median(r["seconds"] for r in results)
        peak = max(r["peak_rss_mib"] for r in results)
        verdict = (
            ""
            if count != 2100
            else ("  (target <= 15 s: " + ("met" if seconds <= TARGET_SECONDS else "MISSED") + ")")
        )
        print(
            f"{count:>8} {-(-count // 4):>6} {seconds:>8.2f} {count / seconds:>7.0f}"
            f" {peak:>7.1f} MiB {results[0]['bytes'] / 1e6:>6.1f} MB{verdict}"
        )


if __name__ == "__main__":
    main()
