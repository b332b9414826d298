"""A small province built by hand, whose right answers are written down in the tests.

"Now" is Wednesday 4 March 2026, 10:00 in Vietnam. The last 30 days are 3 February to 4 March
2026; the current ISO week is 2026-W10 (2–8 March); the 12 weeks of the trend start on Monday
15 December 2025 (2025-W51).

TN-A  Chợ Alpha, TP. Thái Nguyên, live. Fees cashless since 1 Jan 2026, no e-commerce.
      A-01 active, merchant Hoa; payee verified 10 Jan 2026, sticker printed after it.
           20 payments in the window: 19 × 10.000 on 20 Feb and 5.000 at 00:00:00 on 3 Feb
           (the window's first instant); 7.000 at 23:59:59 on 2 Feb (outside); 1 × 8.000
           on 1 Nov 2025.
      A-02 active, merchant Bình; payee changed mid-month: the first account (verified
           5 Jan) was replaced on 15 Feb by one verified on 16 Feb; the sticker was printed
           on 6 Jan, so it shows the old account. 2 × 40.000 on 10 Feb (old account) and
           3 × 60.000 on 25 Feb (new one). A refund of 50.000 went out on 26 Feb.
      A-03 active, merchant Cúc; payee not verified; last sticker audit: mismatch.
      A-04 vacant; payee verified 20 Nov 2025; 2 × 30.000 on 27 Feb.
      A-05 active, merchant Hoa again; payee verified at 00:00:00 on Monday 2 Mar; sticker
           printed; last audit: match. No payments.
      Also an incoming 99.000 no stall could be found for (unmatched).
SC-B  Chợ Beta, TP. Sông Công, live. Fees since 1 Dec 2025, e-commerce since 1 Feb 2026.
      B-01 active, merchant Dung; payee verified at 23:59:59 on Sunday 1 Mar; sticker
           printed. 1 × 100.000 today at 09:00.
TN-C  Chợ Gamma, TP. Thái Nguyên, planned: no stalls. Fees declared from tomorrow.
DT-D  Chợ Delta, Huyện Đại Từ, onboarding. Fees since 1 Feb 2026, e-commerce since today.
      D-01 active, merchant Hoa again; payee verified 15 Dec 2025 00:00; no sticker.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from market.adoption.services import stage_received_payment
from market.extensions import db
from market.markets.models import Market, Stall
from market.merchants.models import Merchant, PayeeAccount
from market.payments.models import PaymentNotification, WebhookIntegration
from tests.payments.conftest import SEPAY_SECRET

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 3, 4, 10, 0, tzinfo=VN).astimezone(UTC)
TODAY = date(2026, 3, 4)
_event_ids = itertools.count(1)


def vn(*args: int) -> datetime:
    """A Vietnam wall-clock time as the UTC instant the database stores."""
    return datetime(*args, tzinfo=VN).astimezone(UTC)


def pay(
    stall: Stall | None,
    when: datetime,
    amount: int,
    *,
    direction: str = "in",
    status: str = "matched",
) -> PaymentNotification:
    """Store a notification as the payments domain does, rollup included when it counts."""
    notification = PaymentNotification(
        provider="sepay",
        event_id=f"e{next(_event_ids)}",
        raw_body="{}",
        received_at=when,
        transaction_at=when,
        account_number="",
        amount=amount,
        direction=direction,
        content="",
        reference_code="",
        stall_id=stall.id if stall is not None else None,
        match_status=status,
    )
    db.session.add(notification)
    db.session.flush()
    if status == "matched":
        stage_received_payment(stall.id, when, amount)
    return notification


class Province:
    def __init__(self) -> None:
        self.a = Market(
            code="TN-A",
            name="Chợ Alpha",
            district="TP. Thái Nguyên",
            status="live",
            fees_cashless_since=date(2026, 1, 1),
        )
        self.b = Market(
            code="SC-B",
            name="Chợ Beta",
            district="TP. Sông Công",
            status="live",
            fees_cashless_since=date(2025, 12, 1),
            ecommerce_listed_since=date(2026, 2, 1),
            ecommerce_note="Shopee: chè Tân Cương",
        )
        self.c = Market(
            code="TN-C",
            name="Chợ Gamma",
            district="TP. Thái Nguyên",
            status="planned",
            fees_cashless_since=date(2026, 3, 5),
        )
        self.d = Market(
            code="DT-D",
            name="Chợ Delta",
            district="Huyện Đại Từ",
            status="onboarding",
            fees_cashless_since=date(2026, 2, 1),
            ecommerce_listed_since=TODAY,
        )
        hoa = Merchant(full_name="Nguyễn Thị Hoa", phone="0912000001")
        binh = Merchant(full_name="Trần Văn Bình", phone="0912000002")
        cuc = Merchant(full_name="Lê Thị Cúc", phone="0912000003")
        dung = Merchant(full_name="Phạm Văn Dũng", phone="0912000004")
        s = {}
        for market, code, status, merchant, printed, audit in [
            (self.a, "A-01", "active", hoa, vn(2026, 1, 12, 9), None),
            (self.a, "A-02", "active", binh, vn(2026, 1, 6, 9), None),
            (self.a, "A-03", "active", cuc, None, "mismatch"),
            (self.a, "A-04", "vacant", None, None, None),
            (self.a, "A-05", "active", hoa, vn(2026, 3, 2, 8), "match"),
            (self.b, "B-01", "active", dung, vn(2026, 3, 2, 8), None),
            (self.d, "D-01", "active", hoa, None, None),
        ]:
            s[code] = Stall(
                market=market,
                code=code,
                status=status,
                merchant=merchant,
                sticker_printed_at=printed,
                last_audit_result=audit,
                last_audit_at=vn(2026, 3, 1, 9) if audit else None,
            )
        db.session.add_all([self.a, self.b, self.c, self.d, *s.values()])
        db.session.flush()
        self.stalls = s

        def payee(stall, account, created, verified, *, current=True, replaced=None):
            return PayeeAccount(
                stall=s[stall],
                bank_bin="970436",
                account_number=account,
                holder_name="CHU SAP",
                is_current=current,
                created_at=created,
                verified_at=verified,
                replaced_at=replaced,
            )

        db.session.add_all(
            [
                payee("A-01", "1001", vn(2026, 1, 10, 8), vn(2026, 1, 10, 10)),
                payee(
                    "A-02",
                    "1002",
                    vn(2026, 1, 5, 8),
                    vn(2026, 1, 5, 9),
                    current=False,
                    replaced=vn(2026, 2, 15, 8),
                ),
                payee("A-02", "2002", vn(2026, 2, 15, 8), vn(2026, 2, 16, 9)),
                payee("A-03", "1003", vn(2026, 2, 1, 8), None),
                payee("A-04", "1004", vn(2025, 11, 20, 8), vn(2025, 11, 20, 9)),
                payee("A-05", "1005", vn(2026, 3, 1, 8), vn(2026, 3, 2, 0, 0, 0)),
                payee("B-01", "1006", vn(2026, 3, 1, 8), vn(2026, 3, 1, 23, 59, 59)),
                payee("D-01", "1007", vn(2025, 12, 14, 8), vn(2025, 12, 15, 0, 0, 0)),
            ]
        )
        db.session.flush()

        a1, a2, a4, b1 = s["A-01"], s["A-02"], s["A-04"], s["B-01"]
        for _ in range(19):
            pay(a1, vn(2026, 2, 20, 12), 10_000)
        pay(a1, vn(2026, 2, 3, 0, 0, 0), 5_000)
        pay(a1, vn(2026, 2, 2, 23, 59, 59), 7_000)
        pay(a1, vn(2025, 11, 1, 12), 8_000)
        for _ in range(2):
            pay(a2, vn(2026, 2, 10, 12), 40_000)
        for _ in range(3):
            pay(a2, vn(2026, 2, 25, 12), 60_000)
        # A refund sent from the stall's account: outgoing, never counted (stored as the
        # payments domain stores it, and once more with the stall filled in, to be sure).
        pay(None, vn(2026, 2, 26, 12), 50_000, direction="out", status="ignored")
        pay(a2, vn(2026, 2, 26, 12), 50_000, direction="out", status="ignored")
        pay(None, vn(2026, 2, 26, 13), 99_000, status="unmatched")
        for _ in range(2):
            pay(a4, vn(2026, 2, 27, 12), 30_000)
        pay(b1, vn(2026, 3, 4, 9), 100_000)
        db.session.commit()


@pytest.fixture
def province(app) -> Province:
    return Province()


@pytest.fixture
def integrations(world):
    """SePay set up with the payments tests' secret, so their signed bodies are accepted."""
    sepay = WebhookIntegration(provider="sepay", auth_mode="hmac", secret=SEPAY_SECRET)
    db.session.add(sepay)
    db.session.commit()
    return {"sepay": sepay}
