"""Cold renders per second of the pay page's saved QR card against the plain QR PNG.

Run: ``.venv/bin/python bench/bench_pay_card.py [--count 200] [--rounds 5]``

``render_pay_card`` (the code, the stall and the amount under it, grey PNG with optimize)
and ``render_png`` (the code alone, 1-bit) render the same distinct dynamic VietQR payloads,
no cache; the median of ``--rounds`` rounds is reported as renders/s and the card's cost as a
ratio to the plain code's. Also the average sizes in bytes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from market.qr import render_pay_card, render_png
from market.vietqr import build_payload


def payloads(count: int) -> list[str]:
    return [
        build_payload(
            "970436", f"{1001234567 + i * 7919}", amount=1000 + i * 500, purpose=f"A01 K{i % 10}Q3"
        )
        for i in range(count)
    ]


def _rate(render, items: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    size = sum(len(render(p)) for p in items)
    return len(items) / (time.perf_counter() - start), size // len(items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    items = payloads(args.count)

    def card(payload: str) -> bytes:
        return render_pay_card(
            payload,
            title="Sạp A-01 · Chợ Đồng Quang",
            lines=["25.000 ₫", "NGUYEN THI HOA · Vietcombank", "Nội dung: A01 K7Q3"],
        )

    cards, plains = [], []
    for _ in range(args.rounds):  # side by side in every round
        cards.append(_rate(card, items))
        plains.append(_rate(render_png, items))
    card_rate = statistics.median(r for r, _ in cards)
    plain_rate = statistics.median(r for r, _ in plains)
    print(f"render_pay_card: {card_rate:8.0f}/s  {cards[0][1]:6d} B")
    print(f"render_png:      {plain_rate:8.0f}/s  {plains[0][1]:6d} B")
    print(f"card cost / plain code cost: {plain_rate / card_rate:.2f}")


if __name__ == "__main__":
    main()
