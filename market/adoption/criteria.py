"""When a market qualifies as a Chợ 4.0 market. Pure: standard library only.

Thái Nguyên's 2022 plan asks three things of a Chợ 4.0 market; each is judged on its own and
says by how much it is missed:

``qr_coverage``
    At least ``qr_share`` (default 100 %) of the market's active stalls have a QR, i.e. a
    verified current payee account. ``required`` is the number of stalls that share means,
    rounded up, and never less than one: a market without active stalls does not qualify.
``fees_cashless``
    The market's own fees (stall rent, electricity) are collected cashless. *Measured* when the
    market bills its fees on the platform: in its last closed billing period, at least
    ``fees_cashless_share`` (default 90 %) of the fee amount collected was paid cashless
    (:func:`fees_cashless`). Otherwise *declared* by its manager with the date it started (a
    date after today does not count yet).
``ecommerce_listed``
    At least one signature product of the market is on an e-commerce platform, declared the
    same way.

>>> settings = Settings()
>>> [c.key for c in evaluate(settings, date(2026, 3, 4), 250, 248, None, date(2025, 5, 1))
...  if not c.met]
['qr_coverage', 'fees_cashless']
>>> qr_coverage(250, 248, Fraction(1)).shortfall
2
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any

__all__ = [
    "CRITERIA",
    "Criterion",
    "Settings",
    "closeness",
    "declared",
    "evaluate",
    "fees_cashless",
    "qr_coverage",
    "with_measured_fees",
]

CRITERIA = ("qr_coverage", "fees_cashless", "ecommerce_listed")


@dataclass(frozen=True, slots=True)
class Settings:
    """The province's targets and thresholds (``MARKET_ADOPTION_*``, see ``market.config``)."""

    target_markets: int = 60
    deadline: date = date(2025, 12, 31)
    qr_share: Fraction = field(default=Fraction(1))
    active_min_payments: int = 20
    baseline_merchants: int = 2100
    fees_cashless_share: Fraction = field(default=Fraction(9, 10))

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        return cls(
            target_markets=config["ADOPTION_TARGET_MARKETS"],
            deadline=config["ADOPTION_DEADLINE"],
            # Through str, so 0.95 is 19/20 and not the float nearest to it.
            qr_share=Fraction(str(config["ADOPTION_QR_SHARE"])),
            active_min_payments=config["ADOPTION_ACTIVE_MIN_PAYMENTS"],
            baseline_merchants=config["ADOPTION_BASELINE_MERCHANTS"],
            fees_cashless_share=Fraction(str(config.get("FEES_CASHLESS_SHARE", "0.9"))),
        )


@dataclass(frozen=True, slots=True)
class Criterion:
    """One criterion for one market: what it has (``value``) against what it needs."""

    key: str
    value: int
    required: int
    since: date | None = None
    # Measured from what the platform recorded (fees_cashless of a market that bills its
    # fees here), rather than declared by a manager.
    measured: bool = False

    @property
    def met(self) -> bool:
        return self.value >= self.required

    @property
    def shortfall(self) -> int:
        """How much is missing: stalls for ``qr_coverage``, 1 for an undeclared criterion."""
        return max(0, self.required - self.value)


def qr_coverage(active_stalls: int, stalls_with_qr: int, share: Fraction) -> Criterion:
    """
    >>> qr_coverage(0, 0, Fraction(1))
    Criterion(key='qr_coverage', value=0, required=1, since=None, measured=False)
    >>> qr_coverage(250, 238, Fraction(95, 100)).met  # 95 % of 250 is 237.5: 238 stalls
    True
    """
    required = max(1, math.ceil(share * active_stalls))
    return Criterion("qr_coverage", stalls_with_qr, required)


def declared(key: str, since: date | None, today: date) -> Criterion:
    """A yes/no criterion a manager declares with the date it became true."""
    return Criterion(key, int(since is not None and since <= today), 1, since)


def evaluate(
    settings: Settings,
    today: date,
    active_stalls: int,
    stalls_with_qr: int,
    fees_cashless_since: date | None,
    ecommerce_listed_since: date | None,
) -> list[Criterion]:
    """The market's criteria, in the order of ``CRITERIA``."""
    return [
        qr_coverage(active_stalls, stalls_with_qr, settings.qr_share),
        declared("fees_cashless", fees_cashless_since, today),
        declared("ecommerce_listed", ecommerce_listed_since, today),
    ]


def fees_cashless(collected: int, cashless: int, share: Fraction) -> Criterion:
    """The fee criterion measured on one billing period: of ``collected`` dong paid on its
    bills, at least ``share`` paid cashless (``required``: that share of it, rounded up, and
    at least 1 dong: a period with bills but nothing collected is not met).

    >>> fees_cashless(1_000_000, 900_000, Fraction(9, 10)).met
    True
    >>> fees_cashless(1_000_000, 899_999, Fraction(9, 10)).shortfall
    1
    >>> fees_cashless(0, 0, Fraction(9, 10)).met
    False
    """
    required = max(1, math.ceil(share * collected))
    return Criterion("fees_cashless", cashless, required, None, measured=True)


def with_measured_fees(
    criteria: Sequence[Criterion], collected: tuple[int, int] | None, share: Fraction
) -> list[Criterion]:
    """``criteria`` with ``fees_cashless`` measured from ``collected`` = (collected, cashless)
    of the market's last closed billing period; unchanged (declared) when the market has no
    fee data (None)."""
    if collected is None:
        return list(criteria)
    measured = fees_cashless(collected[0], collected[1], share)
    return [measured if c.key == "fees_cashless" else c for c in criteria]


def closeness(criteria: Sequence[Criterion]) -> tuple[int, int]:
    """Sort key of "closest to qualifying": fewer criteria missed first, then fewer stalls
    still without a QR.

    >>> closeness([Criterion("qr_coverage", 240, 250), Criterion("fees_cashless", 1, 1)])
    (1, 10)
    """
    missed = [c for c in criteria if not c.met]
    return len(missed), sum(c.shortfall for c in missed if c.key == "qr_coverage")
