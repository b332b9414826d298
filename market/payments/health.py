"""The health of the notifiers' integrations: the last notification each accepted, its
refusals counted by reason, and whether it has been silent through market hours.

Silence is measured in **market-hours minutes** (``MARKET_HOURS``, Vietnam time): the minutes
between the last notification and now that fall inside the hours the markets trade. A night
or a closed afternoon adds nothing, so an integration that heard its last payment at 18:50
is not "silent" at 06:00 the next morning; one that has heard nothing since the markets opened
at 05:00 is, once ``MARKET_INTEGRATION_SILENCE_MINUTES`` (120) of them have passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from market.extensions import db
from market.formatting import VN_TZ
from market.payments.models import IntegrationRefusal, WebhookIntegration

#: Looking further back than this for market hours is pointless: any threshold is shorter.
_MAX_DAYS = 3


def market_minutes(since: datetime, now: datetime, hours: tuple[int, int]) -> int:
    """Minutes of market hours (opening, closing: minutes after midnight, Vietnam time)
    between ``since`` and ``now``; counted over at most the last three days.

    >>> at = lambda h, m=0, d=4: datetime(2026, 3, d, h, m, tzinfo=VN_TZ)
    >>> market_minutes(at(6), at(8), (300, 1140))       # 06:00 -> 08:00, markets 05-19
    120
    >>> market_minutes(at(18, 50), at(6, d=5), (300, 1140))  # 10 min + 1 h next morning
    70
    >>> market_minutes(at(20), at(23), (300, 1140))
    0
    """
    since, now = _aware(since), _aware(now)
    if now <= since:
        return 0
    since = max(since, now - timedelta(days=_MAX_DAYS))
    local_since, local_now = since.astimezone(VN_TZ), now.astimezone(VN_TZ)
    opening, closing = hours
    total = 0.0
    day = local_since.date()
    while day <= local_now.date():
        start = datetime(day.year, day.month, day.day, tzinfo=VN_TZ)
        window_start = max(start + timedelta(minutes=opening), local_since)
        window_end = min(start + timedelta(minutes=closing), local_now)
        if window_end > window_start:
            total += (window_end - window_start).total_seconds() / 60
        day += timedelta(days=1)
    return int(total)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(slots=True)
class Health:
    integration: WebhookIntegration
    refusals: dict[str, IntegrationRefusal] = field(default_factory=dict)
    silent_minutes: int = 0
    #: Enabled, and silent for at least the threshold of market-hours minutes.
    silent: bool = False

    @property
    def refused(self) -> int:
        return sum(r.count for r in self.refusals.values())


def integration_health(
    integrations: list[WebhookIntegration],
    *,
    now: datetime,
    hours: tuple[int, int],
    threshold_minutes: int,
) -> list[Health]:
    """The health of each integration, in the given order (one query for the refusals)."""
    ids = [i.id for i in integrations]
    refusals: dict[int, dict[str, IntegrationRefusal]] = {i: {} for i in ids}
    if ids:
        for row in db.session.scalars(
            select(IntegrationRefusal).where(IntegrationRefusal.integration_id.in_(ids))
        ):
            refusals[row.integration_id][row.reason] = row
    found = []
    for integration in integrations:
        # Never heard from: silent since it was set up (its secret set).
        since = integration.last_received_at or integration.secret_set_at or integration.updated_at
        minutes = market_minutes(since, now, hours)
        found.append(
            Health(
                integration=integration,
                refusals=refusals[integration.id],
                silent_minutes=minutes,
                silent=integration.enabled and minutes >= threshold_minutes,
            )
        )
    return found
