"""Read-only adoption figures: SQL aggregations over the registry and the payment rollups.

Each figure is one GROUP BY over all the markets in scope (a handful of queries per report,
whatever the number of markets); Python only assembles the per-market rows and judges the
criteria (``market.adoption.criteria``). Definitions, for active stalls (``status =
'active'``) of a market:

* **stalls with a QR**: the current payee account is verified.
* **stalls with a current sticker**: with a QR, and ``sticker_printed_at`` is not before the
  current payee's ``created_at`` (the printed code shows the account money goes to now).
* **audited stalls / failed audits**: the stall's last sticker audit exists / did not match
  (``mismatch``, ``not_vietqr``, ``unreadable``).
* **merchants onboarded**: distinct merchants holding a stall with a QR (a merchant with
  stalls in two markets counts once in the province's total).
* **paying stalls**: received at least one payment in the last 30 days (see
  ``market.adoption.periods``); **active cashless stalls**: at least
  ``ADOPTION_ACTIVE_MIN_PAYMENTS`` (default 20) of them.
* **stalls no notifier watches**: active stalls with a QR whose account no enabled
  integration lists (``market.payments.coverage``): their payments may never be notified, so
  they are counted apart instead of silently counting as "not paying".
* **payments, amount**: every payment received by any stall of the market (whatever the
  stall's status now) — incoming transfers matched to a stall, never outgoing ones or refunds.
* **stalls onboarded** (weekly trend): stalls whose first verified payee account was
  verified that week (Vietnam time), whatever their status now.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from flask_babel import gettext as _
from sqlalchemy import (
    TIMESTAMP,
    Date,
    and_,
    case,
    cast,
    func,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
)

from market.adoption import criteria as rules
from market.adoption.models import AdoptionTarget, MarketDayPayments, StallDayPayments
from market.adoption.periods import (
    Period,
    days,
    iso_weeks,
    last_30_days,
    months,
    utc_start_of,
    vietnam_date,
)
from market.adoption.services import vietnam_day_sql
from market.auth import permissions
from market.auth.models import User
from market.errors import Forbidden, NotFound
from market.extensions import db
from market.fees.money.queries import collected_shares
from market.formatting import vietnamese_key
from market.markets.models import DISTRICTS, Market, Stall
from market.markets.queries import market_by_code, visible_markets
from market.merchants.models import PayeeAccount
from market.payments import coverage

FAILED_AUDIT_RESULTS = ("mismatch", "not_vietqr", "unreadable")
TREND_WEEKS = 12
SERIES_MONTHS = 12
CLOSEST = 5
DASHBOARD_ROLES = ("admin", "manager")


# --- who sees what ---------------------------------------------------------------------------


def dashboard_markets(user: User) -> list[Market]:
    """The markets of the user's dashboard: all of them for the province (admin), the
    assigned ones for a manager. Helpers and merchants have no dashboard (403)."""
    if user.role not in DASHBOARD_ROLES:
        raise Forbidden()
    return in_province_order(db.session.scalars(visible_markets(user)))


def in_province_order(markets: Iterable[Market]) -> list[Market]:
    """By name in Vietnamese alphabetical order (Đ after D, tone marks second), then code:
    the same on every database, whatever its collation."""
    return sorted(markets, key=lambda m: (vietnamese_key(m.name), m.code))


def dashboard_market(user: User, code: str) -> Market:
    """One market's dashboard: the province and the market's own managers."""
    if user.role not in DASHBOARD_ROLES:
        raise Forbidden()
    market = market_by_code(code)
    if market is None or not permissions.is_market_manager(user, market):
        raise NotFound(_("Không tìm thấy chợ “%(code)s”.", code=code))
    return market


# --- shapes ----------------------------------------------------------------------------------


#: Where a market stands: qualifies, on its way, or not started (no active stall yet: a
#: market without stalls is never "close to qualifying, 1 stall missing").
STAGES = ("qualifies", "in_progress", "not_started")
#: The key of markets placed in no commune or ward yet, in groups and filters.
NO_UNIT = 0


@dataclass(slots=True)
class MarketFigures:
    code: str
    name: str
    district: str
    status: str
    fees_cashless_since: date | None
    ecommerce_listed_since: date | None
    ecommerce_note: str | None
    active_stalls: int = 0
    stalls_with_qr: int = 0
    stalls_with_current_sticker: int = 0
    audited_stalls: int = 0
    failed_audits: int = 0
    merchants_onboarded: int = 0
    paying_stalls: int = 0
    active_cashless_stalls: int = 0
    payments: int = 0
    amount: int = 0
    unwatched_stalls: int = 0
    criteria: list[rules.Criterion] = field(default_factory=list)
    #: Today's commune or ward (id, "Phường Phan Đình Phùng"); (NO_UNIT, "") when none.
    unit_id: int = NO_UNIT
    unit: str = ""
    former_province: str = ""

    @property
    def qualifies(self) -> bool:
        return bool(self.criteria) and all(c.met for c in self.criteria)

    @property
    def started(self) -> bool:
        return self.active_stalls > 0

    @property
    def stage(self) -> str:
        if self.qualifies:
            return "qualifies"
        return "in_progress" if self.started else "not_started"

    @property
    def lacks(self) -> list[rules.Criterion]:
        return [c for c in self.criteria if not c.met]


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """Payments received in ``start`` <= day <= ``last``."""

    start: date
    last: date
    payments: int
    amount: int


@dataclass(frozen=True, slots=True)
class WeekPoint:
    start: date
    last: date
    iso_year: int
    iso_week: int
    payments: int
    amount: int
    stalls_onboarded: int
    stalls_onboarded_total: int


@dataclass(slots=True)
class DistrictFigures:
    district: str
    markets: int = 0
    qualifying: int = 0
    active_stalls: int = 0
    stalls_with_qr: int = 0
    paying_stalls: int = 0
    not_started: int = 0

    def add(self, row: MarketFigures) -> None:
        self.markets += 1
        self.qualifying += row.qualifies
        self.not_started += not row.started
        self.active_stalls += row.active_stalls
        self.stalls_with_qr += row.stalls_with_qr
        self.paying_stalls += row.paying_stalls


@dataclass(slots=True)
class UnitFigures(DistrictFigures):
    """The markets of one commune or ward (``district`` holds its name, ``""`` for none)."""

    unit_id: int = NO_UNIT


@dataclass(slots=True)
class Totals:
    markets: int = 0
    qualifying: int = 0
    not_started: int = 0
    active_stalls: int = 0
    stalls_with_qr: int = 0
    stalls_with_current_sticker: int = 0
    audited_stalls: int = 0
    failed_audits: int = 0
    paying_stalls: int = 0
    active_cashless_stalls: int = 0
    payments: int = 0
    amount: int = 0
    merchants_onboarded: int = 0
    unwatched_stalls: int = 0


@dataclass(slots=True)
class ProvinceReport:
    """The dashboard of a scope: the whole province (admin) or a manager's markets."""

    computed_at: datetime
    today: date
    window: Period
    scope: str  # "province" | "markets"
    settings: rules.Settings
    markets: list[MarketFigures]
    totals: Totals
    districts: list[DistrictFigures]
    weekly: list[WeekPoint]
    closest: list[MarketFigures]
    units: list[UnitFigures] = field(default_factory=list)
    #: Progress against each of the province's dated targets (set by the caller).
    targets: list = field(default_factory=list)
    #: Served from a cache: the counts may be up to this many seconds old (0: computed now).
    max_age_seconds: int = 0

    @property
    def days_to_deadline(self) -> int:
        return (self.settings.deadline - self.today).days


@dataclass(slots=True)
class MarketReport:
    computed_at: datetime
    today: date
    window: Period
    settings: rules.Settings
    market: MarketFigures
    daily: list[SeriesPoint]
    weekly: list[SeriesPoint]
    monthly: list[SeriesPoint]
    max_age_seconds: int = 0


# --- reports ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Counts:
    """The part of a report that SQL computes (the expensive part), for some markets as of
    ``computed_at``: market id -> counts, and the report's series. What the registry says of
    each market itself (name, status, declared criteria) is not in it: a report takes those
    from the markets it is given, so a cached ``Counts`` never shows an old declaration."""

    computed_at: datetime
    today: date
    stalls: dict[int, tuple[int, ...]]
    merchants: dict[int, int]
    merchants_total: int
    paying: dict[int, tuple[int, int]]
    payments: dict[int, tuple[int, int]]
    series: dict[str, list]
    #: market id -> active stalls with a QR that no notifier watches (unwatched_stall_counts).
    unwatched: dict[int, int] = field(default_factory=dict)
    # market id -> (collected, cashless) of its last closed billing period, for the markets
    # that bill their fees here (market.fees.money.queries.collected_shares).
    fees: dict[int, tuple[int, int]] = field(default_factory=dict)


def count_figures(
    market_ids: Sequence[int], settings: rules.Settings, *, now: datetime, series: str
) -> Counts:
    """Every count of a report over these markets; ``series``: ``"province"`` (the weekly
    trend) or ``"market"`` (payments per day, week and month)."""
    ids = list(market_ids)
    today = vietnam_date(now)
    window = last_30_days(today)
    merchants, merchants_total = _merchants_onboarded(ids)
    if series == "province":
        trend = {"weekly": weekly_trend(ids, today)}
    else:
        trend = {
            "daily": payment_series(ids, days(today), "day"),
            "weekly": payment_series(ids, iso_weeks(today, TREND_WEEKS), "week"),
            "monthly": payment_series(ids, months(today, SERIES_MONTHS), "month"),
        }
    return Counts(
        computed_at=now,
        today=today,
        stalls=_stall_counts(ids),
        merchants=merchants,
        merchants_total=merchants_total,
        paying=_paying_stalls(ids, window, settings.active_min_payments),
        payments=_payment_totals(ids, window),
        series=trend,
        unwatched=unwatched_stall_counts(ids),
        fees=fee_shares(ids, today),
    )


def fee_shares(market_ids: Sequence[int], today: date) -> dict[int, tuple[int, int]]:
    """(collected, cashless) of each market's last closed billing period (its fee criterion
    is measured from it); markets without bills are left out (declared)."""
    return {
        market_id: (share.collected, share.cashless)
        for market_id, share in collected_shares(market_ids, today).items()
    }


def province_report(
    markets: Sequence[Market],
    settings: rules.Settings,
    *,
    scope: str,
    now: datetime,
    counts: Counts | None = None,
) -> ProvinceReport:
    """The dashboard of these markets: from ``counts`` when given (computed earlier for the
    same markets and settings, see ``market.adoption.cache``), else computed now."""
    if counts is None:
        counts = count_figures([m.id for m in markets], settings, now=now, series="province")
    figures = market_figures(markets, settings, counts)
    totals = Totals(markets=len(figures))
    districts: dict[str, DistrictFigures] = {}
    units: dict[int, UnitFigures] = {}
    for row in figures:
        districts.setdefault(row.district, DistrictFigures(row.district)).add(row)
        units.setdefault(row.unit_id, UnitFigures(row.unit, unit_id=row.unit_id)).add(row)
        totals.qualifying += row.qualifies
        totals.not_started += not row.started
        for name in (
            "active_stalls",
            "stalls_with_qr",
            "stalls_with_current_sticker",
            "audited_stalls",
            "failed_audits",
            "paying_stalls",
            "active_cashless_stalls",
            "payments",
            "amount",
            "unwatched_stalls",
        ):
            setattr(totals, name, getattr(totals, name) + getattr(row, name))
    totals.merchants_onboarded = counts.merchants_total
    # A market not started is not "close": it has everything still to do.
    closest = sorted(
        (row for row in figures if row.stage == "in_progress"),
        key=lambda row: (*rules.closeness(row.criteria), vietnamese_key(row.name)),
    )[:CLOSEST]
    return ProvinceReport(
        computed_at=counts.computed_at,
        today=counts.today,
        window=last_30_days(counts.today),
        scope=scope,
        settings=settings,
        markets=figures,
        totals=totals,
        districts=sorted(districts.values(), key=lambda d: _district_order(d.district)),
        weekly=counts.series["weekly"],
        closest=closest,
        # Units in Vietnamese alphabetical order; markets placed nowhere yet last.
        units=sorted(
            units.values(), key=lambda u: (u.unit_id == NO_UNIT, vietnamese_key(u.district))
        ),
    )


def _district_order(name: str) -> tuple:
    """The former provinces' own order of their districts (each city first, the old Thái
    Nguyên's before Bắc Kạn's, as their reports listed them), then any other name in
    Vietnamese alphabetical order."""
    if name in DISTRICTS:
        return (DISTRICTS.index(name), ())
    return (len(DISTRICTS), vietnamese_key(name))


# --- targets ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TargetProgress:
    """One dated target and where the markets it counts stand on ``today``."""

    id: int | None
    markets: int
    deadline: date
    title: str
    former_province: str
    #: Markets counted by this target that qualify today.
    count: int
    today: date
    #: The first day the target was seen reached (recorded), or today if it is reached now.
    reached_on: date | None

    @property
    def state(self) -> str:
        """``reached``, ``missed`` (deadline passed, not reached) or ``open``."""
        if self.reached_on is not None:
            return "reached"
        return "missed" if self.today > self.deadline else "open"

    @property
    def on_time(self) -> bool:
        return self.reached_on is not None and self.reached_on <= self.deadline

    @property
    def days_left(self) -> int:
        return (self.deadline - self.today).days

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.count / self.markets)) if self.markets else 0


def adoption_targets(settings: rules.Settings) -> list[AdoptionTarget]:
    """The province's dated targets, by deadline. None recorded yet: the one the settings
    give (``MARKET_ADOPTION_TARGET_MARKETS`` by ``MARKET_ADOPTION_DEADLINE``), unsaved."""
    targets = list(
        db.session.scalars(
            select(AdoptionTarget).order_by(AdoptionTarget.deadline, AdoptionTarget.id)
        )
    )
    if targets:
        return targets
    return [
        AdoptionTarget(
            id=None,
            markets=settings.target_markets,
            deadline=settings.deadline,
            title=_("Mục tiêu theo cấu hình (MARKET_ADOPTION_TARGET_MARKETS)"),
            former_province="",
            reached_on=None,
        )
    ]


def target_key(targets: Sequence[AdoptionTarget]) -> tuple:
    """What of the targets a cached page shows (market.adoption.cache)."""
    return tuple(
        (t.id, t.markets, t.deadline, t.title, t.former_province, t.reached_on) for t in targets
    )


def target_progress(
    targets: Sequence[AdoptionTarget], figures: Sequence[MarketFigures], today: date
) -> list[TargetProgress]:
    """Each target with the qualifying markets it counts: all of them, or those of its former
    province (the 2022 plan counts the old Thái Nguyên's markets)."""
    progress = []
    for target in targets:
        count = sum(
            row.qualifies
            for row in figures
            if not target.former_province or row.former_province == target.former_province
        )
        reached_on = target.reached_on or (today if count >= target.markets else None)
        progress.append(
            TargetProgress(
                id=target.id,
                markets=target.markets,
                deadline=target.deadline,
                title=target.title,
                former_province=target.former_province,
                count=count,
                today=today,
                reached_on=reached_on,
            )
        )
    return progress


def market_report(
    market: Market, settings: rules.Settings, *, now: datetime, counts: Counts | None = None
) -> MarketReport:
    """One market's page: from ``counts`` (``series="market"``) when given, else computed now."""
    if counts is None:
        counts = count_figures([market.id], settings, now=now, series="market")
    (figures,) = market_figures([market], settings, counts)
    return MarketReport(
        computed_at=counts.computed_at,
        today=counts.today,
        window=last_30_days(counts.today),
        settings=settings,
        market=figures,
        daily=counts.series["daily"],
        weekly=counts.series["weekly"],
        monthly=counts.series["monthly"],
    )


def market_figures(
    markets: Sequence[Market], settings: rules.Settings, counts: Counts
) -> list[MarketFigures]:
    """One row per market, in the given order, with its criteria judged on ``counts.today``:
    the counts from ``counts``, the rest from the market as the registry has it now."""
    today = counts.today
    rows = []
    for market in markets:
        row = MarketFigures(
            code=market.code,
            name=market.name,
            district=market.district,
            status=market.status,
            fees_cashless_since=market.fees_cashless_since,
            ecommerce_listed_since=market.ecommerce_listed_since,
            ecommerce_note=market.ecommerce_note,
            unit_id=market.admin_unit_id or NO_UNIT,
            unit=market.admin_unit.full_name if market.admin_unit is not None else "",
            former_province=market.former_province,
        )
        (
            row.active_stalls,
            row.stalls_with_qr,
            row.stalls_with_current_sticker,
            row.audited_stalls,
            row.failed_audits,
        ) = counts.stalls.get(market.id, (0, 0, 0, 0, 0))
        row.merchants_onboarded = counts.merchants.get(market.id, 0)
        row.paying_stalls, row.active_cashless_stalls = counts.paying.get(market.id, (0, 0))
        row.payments, row.amount = counts.payments.get(market.id, (0, 0))
        row.unwatched_stalls = counts.unwatched.get(market.id, 0)
        row.criteria = rules.evaluate(
            settings,
            today,
            row.active_stalls,
            row.stalls_with_qr,
            market.fees_cashless_since,
            market.ecommerce_listed_since,
        )
        row.criteria = rules.with_measured_fees(
            row.criteria, counts.fees.get(market.id), settings.fees_cashless_share
        )
        rows.append(row)
    return rows


# --- the aggregations ------------------------------------------------------------------------


def _count_if(condition) -> object:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _stall_counts(market_ids: list[int]) -> dict[int, tuple[int, ...]]:
    """market id -> (active, with QR, with current sticker, audited, failed audit)."""
    active = Stall.status == "active"
    with_qr = and_(active, PayeeAccount.verified_at.is_not(None))
    rows = db.session.execute(
        select(
            Stall.market_id,
            _count_if(active),
            _count_if(with_qr),
            _count_if(and_(with_qr, Stall.sticker_printed_at >= PayeeAccount.created_at)),
            _count_if(and_(active, Stall.last_audit_result.is_not(None))),
            _count_if(and_(active, Stall.last_audit_result.in_(FAILED_AUDIT_RESULTS))),
        )
        .outerjoin(PayeeAccount, and_(PayeeAccount.stall_id == Stall.id, PayeeAccount.is_current))
        .where(Stall.market_id.in_(market_ids))
        .group_by(Stall.market_id)
    )
    return {market_id: tuple(int(n) for n in counts) for market_id, *counts in rows}


def _merchants_onboarded(market_ids: list[int]) -> tuple[dict[int, int], int]:
    """(market id -> merchants holding an active stall with a QR there, the same merchants
    counted once across all these markets), in one statement over their distinct pairs."""
    pairs = (
        select(Stall.market_id, Stall.merchant_id)
        .join(PayeeAccount, and_(PayeeAccount.stall_id == Stall.id, PayeeAccount.is_current))
        .where(
            Stall.market_id.in_(market_ids),
            Stall.status == "active",
            Stall.merchant_id.is_not(None),
            PayeeAccount.verified_at.is_not(None),
        )
        .group_by(Stall.market_id, Stall.merchant_id)
        .cte("pairs")
    )
    merchants = select(pairs.c.merchant_id).group_by(pairs.c.merchant_id).subquery()
    rows = db.session.execute(
        union_all(
            select(pairs.c.market_id, func.count()).group_by(pairs.c.market_id),
            select(null(), func.count()).select_from(merchants),
        )
    )
    per_market, province = {}, 0
    for market_id, count in rows:
        if market_id is None:
            province = int(count)
        else:
            per_market[market_id] = int(count)
    return per_market, province


def _paying_stalls(
    market_ids: list[int], window: Period, active_min: int
) -> dict[int, tuple[int, int]]:
    """market id -> (active stalls paid at least once, at least ``active_min`` times) in the
    window: reads at most stalls × 30 rollup rows (from the index alone)."""
    per_stall = (
        select(StallDayPayments.stall_id, func.sum(StallDayPayments.payments).label("payments"))
        .where(StallDayPayments.day >= window.start, StallDayPayments.day < window.end)
        .group_by(StallDayPayments.stall_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Stall.market_id, func.count(), _count_if(per_stall.c.payments >= active_min))
        .join(per_stall, per_stall.c.stall_id == Stall.id)
        .where(Stall.market_id.in_(market_ids), Stall.status == "active")
        .group_by(Stall.market_id)
    )
    return {market_id: (int(paying), int(active)) for market_id, paying, active in rows}


def unwatched_stall_counts(market_ids: list[int]) -> dict[int, int]:
    """market id -> active stalls with a QR whose payments no notifier can observe."""
    rows = db.session.execute(
        select(Stall.market_id, func.count())
        .join(PayeeAccount, and_(PayeeAccount.stall_id == Stall.id, PayeeAccount.is_current))
        .where(Stall.market_id.in_(market_ids), coverage.unwatched_stall_sql())
        .group_by(Stall.market_id)
    )
    return {market_id: int(n) for market_id, n in rows}


def _payment_totals(market_ids: list[int], window: Period) -> dict[int, tuple[int, int]]:
    """market id -> (payments, amount) received in the window."""
    rows = db.session.execute(
        select(
            MarketDayPayments.market_id,
            func.sum(MarketDayPayments.payments),
            func.sum(MarketDayPayments.amount),
        )
        .where(
            MarketDayPayments.market_id.in_(market_ids),
            MarketDayPayments.day >= window.start,
            MarketDayPayments.day < window.end,
        )
        .group_by(MarketDayPayments.market_id)
    )
    return {market_id: (int(n), int(amount)) for market_id, n, amount in rows}


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def start_of(unit: str, day, dialect: str):
    """SQL for the first day of the ``unit`` ("day", "week": ISO, Monday; "month") holding the
    date ``day``. Written inline (no bound parameter), so PostgreSQL sees the same expression
    wherever it is repeated."""
    if unit == "day":
        return day
    if dialect == "postgresql":
        truncated = func.date_trunc(literal_column(f"'{unit}'"), cast(day, TIMESTAMP))
        return cast(truncated, Date)
    # SQLite: "weekday 0" moves to the next Sunday (or stays on one); 6 days back is Monday.
    modifiers = {"week": ["'weekday 0'", "'-6 days'"], "month": ["'start of month'"]}[unit]
    return type_coerce(func.date(day, *map(literal_column, modifiers)), Date)


def payment_series(
    market_ids: list[int], periods: Sequence[Period], unit: str
) -> list[SeriesPoint]:
    """Payments and amount per period (consecutive days, ISO weeks or months) over these
    markets, from the market rollup: at most markets × days-covered rows."""
    start = start_of(unit, MarketDayPayments.day, _dialect())
    grouped = (
        select(start.label("start"), MarketDayPayments.payments, MarketDayPayments.amount)
        .where(
            MarketDayPayments.market_id.in_(market_ids),
            MarketDayPayments.day >= periods[0].start,
            MarketDayPayments.day < periods[-1].end,
        )
        .subquery()
    )
    rows = db.session.execute(
        select(grouped.c.start, func.sum(grouped.c.payments), func.sum(grouped.c.amount)).group_by(
            grouped.c.start
        )
    )
    found = {_as_date(day): (int(n), int(amount)) for day, n, amount in rows}
    return [SeriesPoint(p.start, p.last, *found.get(p.start, (0, 0))) for p in periods]


def stalls_onboarded(market_ids: list[int], weeks: Sequence[Period]) -> tuple[int, list[int]]:
    """(stalls onboarded before the first week, stalls onboarded in each week): a stall is
    onboarded when its first payee account is verified (Vietnam time)."""
    dialect = _dialect()
    first = (
        select(PayeeAccount.stall_id, func.min(PayeeAccount.verified_at).label("at"))
        .join(Stall, Stall.id == PayeeAccount.stall_id)
        .where(Stall.market_id.in_(market_ids), PayeeAccount.verified_at.is_not(None))
        .group_by(PayeeAccount.stall_id)
        .subquery()
    )
    week = start_of("week", vietnam_day_sql(dialect, first.c.at), dialect)
    # NULL for the stalls onboarded before the trend's first week.
    grouped = select(
        case((first.c.at < utc_start_of(weeks[0].start), null()), else_=week).label("week")
    ).subquery()
    rows = db.session.execute(select(grouped.c.week, func.count()).group_by(grouped.c.week)).all()
    found = {_as_date(day) if day is not None else None: int(n) for day, n in rows}
    return found.get(None, 0), [found.get(w.start, 0) for w in weeks]


def _as_date(value) -> date:
    # SQLite hands back the text of a computed date; PostgreSQL a date.
    return date.fromisoformat(value) if isinstance(value, str) else value


def weekly_trend(market_ids: list[int], today: date) -> list[WeekPoint]:
    weeks = iso_weeks(today, TREND_WEEKS)
    payments = payment_series(market_ids, weeks, "week")
    before, onboarded = stalls_onboarded(market_ids, weeks)
    points = []
    total = before
    for week, paid, new in zip(weeks, payments, onboarded, strict=True):
        total += new
        iso = week.start.isocalendar()
        points.append(
            WeekPoint(
                start=week.start,
                last=week.last,
                iso_year=iso.year,
                iso_week=iso.week,
                payments=paid.payments,
                amount=paid.amount,
                stalls_onboarded=new,
                stalls_onboarded_total=total,
            )
        )
    return points


def now_utc() -> datetime:
    return datetime.now(UTC)


# --- the dashboard's market table ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MarketFilter:
    """The market table's filters: commune/ward (``NO_UNIT``: placed nowhere yet), stage
    (``STAGES``) and a criterion not met. Anything unknown is ignored (shows all)."""

    unit: int | None = None
    stage: str = ""
    missing: str = ""

    @classmethod
    def from_args(cls, args) -> MarketFilter:
        unit = args.get("unit", "")
        stage = args.get("stage", "")
        missing = args.get("missing", "")
        return cls(
            unit=int(unit) if unit.isascii() and unit.isdigit() and len(unit) <= 12 else None,
            stage=stage if stage in STAGES else "",
            missing=missing if missing in rules.CRITERIA else "",
        )

    @property
    def active(self) -> bool:
        return self.unit is not None or bool(self.stage or self.missing)

    def apply(self, rows: Sequence[MarketFigures]) -> list[MarketFigures]:
        return [
            row
            for row in rows
            if (self.unit is None or row.unit_id == self.unit)
            and (not self.stage or row.stage == self.stage)
            and (not self.missing or any(c.key == self.missing for c in row.lacks))
        ]
