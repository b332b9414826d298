"""Read-only views of the registry, scoped to what a user may see."""

from __future__ import annotations

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import joinedload

from market.auth.models import User, user_markets
from market.extensions import db
from market.markets.models import Market, Stall
from market.merchants.models import Merchant, PayeeAccount
from market.pagination import Page, paginate
from market.payments import coverage
from market.textsearch import ascii_contains, contains_folded, stored_contains

QR_STATES = ("ready", "reprint", "unverified", "missing", "inactive")


def visible_markets(user: User) -> Select:
    query = select(Market)
    if user.role != "admin":
        query = query.join(user_markets, user_markets.c.market_id == Market.id).where(
            user_markets.c.user_id == user.id
        )
    return query


def market_list(
    user: User,
    *,
    q: str = "",
    district: str = "",
    status: str = "",
    page: int = 1,
    per_page: int = 50,
) -> Page:
    """Markets with their stall counts: (Market, stalls, stalls_with_verified_payee)."""
    stall_count = select(func.count(Stall.id)).where(Stall.market_id == Market.id).scalar_subquery()
    ready_count = (
        select(func.count(Stall.id))
        .join(PayeeAccount, and_(PayeeAccount.stall_id == Stall.id, PayeeAccount.is_current))
        .where(
            Stall.market_id == Market.id,
            Stall.status == "active",
            PayeeAccount.verified_at.is_not(None),
        )
        .scalar_subquery()
    )
    query = visible_markets(user).add_columns(stall_count, ready_count)
    if q.strip():
        text = q.strip()
        query = query.where(
            or_(contains_folded(Market.name, text), contains_folded(Market.code, text))
        )
    if district:
        query = query.where(Market.district == district)
    if status:
        query = query.where(Market.status == status)
    return paginate(query.order_by(Market.district, Market.name), page, per_page)


def market_by_code(code: str) -> Market | None:
    return db.session.scalar(select(Market).where(Market.code == code))


def stall_by_code(market: Market, code: str) -> Stall | None:
    return db.session.scalar(select(Stall).where(Stall.market_id == market.id, Stall.code == code))


def qr_state_expression():
    """Where a stall's printed QR stands, computed in SQL so the list can filter on it."""
    return case(
        (Stall.status != "active", "inactive"),
        (PayeeAccount.id.is_(None), "missing"),
        (PayeeAccount.verified_at.is_(None), "unverified"),
        (
            or_(
                Stall.sticker_printed_at.is_(None),
                Stall.sticker_printed_at < PayeeAccount.created_at,
            ),
            "reprint",
        ),
        else_="ready",
    )


def _stall_row_query() -> Select:
    qr_state = qr_state_expression().label("qr_state")
    return (
        select(Stall, Merchant, PayeeAccount, qr_state)
        .outerjoin(Merchant, Merchant.id == Stall.merchant_id)
        .outerjoin(PayeeAccount, and_(PayeeAccount.stall_id == Stall.id, PayeeAccount.is_current))
    )


def stall_row(stall: Stall):
    """One stall's (Stall, Merchant|None, PayeeAccount|None, qr_state), as ``stall_rows``."""
    return db.session.execute(_stall_row_query().where(Stall.id == stall.id)).one()


def stall_rows(
    market: Market,
    *,
    q: str = "",
    status: str = "",
    qr: str = "",
    audit: str = "",
    watch: str = "",
    page: int = 1,
    per_page: int = 50,
) -> Page:
    """Rows of (Stall, Merchant|None, PayeeAccount|None, qr_state) for the market page;
    ``watch="unwatched"``: only the stalls whose payments no notifier can observe
    (market.payments.coverage)."""
    query = _stall_row_query().where(Stall.market_id == market.id)
    if q.strip():
        # Stalls without a merchant or a payee yet are outer-joined: still found by code, and
        # a merchant without a payee account by name or phone.
        text = q.strip()
        query = query.where(
            or_(
                ascii_contains(Stall.code, text),
                stored_contains(Merchant.name_folded, text),
                Merchant.phone.contains(text, autoescape=True),
                PayeeAccount.account_number.contains(text.upper(), autoescape=True),
                ascii_contains(PayeeAccount.holder_name, text),
            )
        )
    if status:
        query = query.where(Stall.status == status)
    if qr:
        query = query.where(qr_state_expression() == qr)
    if audit:
        query = query.where(audit_filter(audit))
    if watch == "unwatched":
        query = query.where(coverage.unwatched_stall_sql())
    return paginate(query.order_by(Stall.code), page, per_page)


def market_summary(market: Market) -> dict[str, int]:
    """Counts of the market's stalls by QR state."""
    state = qr_state_expression()
    rows = db.session.execute(
        select(state, func.count(Stall.id))
        .select_from(Stall)
        .outerjoin(PayeeAccount, and_(PayeeAccount.stall_id == Stall.id, PayeeAccount.is_current))
        .where(Stall.market_id == market.id)
        .group_by(state)
    ).all()
    counts = dict.fromkeys(QR_STATES, 0)
    counts.update({name: n for name, n in rows})
    counts["total"] = sum(n for _, n in rows)
    return counts


def audit_filter(name: str):
    """Stalls whose sticker was never photographed, failed its last check, or matched."""
    if name == "never":
        return and_(Stall.status == "active", Stall.last_audit_result.is_(None))
    if name == "failing":
        return Stall.last_audit_result.in_(("mismatch", "not_vietqr", "unreadable"))
    if name == "match":
        return Stall.last_audit_result == "match"
    return Stall.id.is_not(None)


def audit_summary(market: Market) -> dict[str, int]:
    counts = {}
    for name in ("never", "failing"):
        counts[name] = db.session.scalar(
            select(func.count(Stall.id)).where(Stall.market_id == market.id, audit_filter(name))
        )
    return counts


def pending_payee_changes(market: Market, limit: int = 100) -> list:
    """Current payee accounts not yet confirmed, newest first: (Stall, PayeeAccount, User|None).

    Shown to the market's managers so that a change one of them made is seen (and confirmed)
    by another before any sticker carries it.
    """
    from market.auth.models import User

    return db.session.execute(
        select(Stall, PayeeAccount, User)
        .join(PayeeAccount, and_(PayeeAccount.stall_id == Stall.id, PayeeAccount.is_current))
        .outerjoin(User, User.id == PayeeAccount.created_by_id)
        .where(
            Stall.market_id == market.id,
            Stall.status == "active",
            PayeeAccount.verified_at.is_(None),
        )
        .order_by(PayeeAccount.created_at.desc())
        .limit(limit)
    ).all()


def pending_payees(
    user: User, *, market: Market | None = None, page: int = 1, per_page: int = 50
) -> Page:
    """Pending payee changes (current, unverified accounts) of every market the user may see,
    or of one: rows of (PayeeAccount, Stall, Market), by market then stall code."""
    query = (
        select(PayeeAccount, Stall, Market)
        .join(Stall, Stall.id == PayeeAccount.stall_id)
        .join(Market, Market.id == Stall.market_id)
        .where(
            PayeeAccount.is_current,
            PayeeAccount.verified_at.is_(None),
            Market.id.in_(visible_markets(user).with_only_columns(Market.id)),
        )
        .options(joinedload(PayeeAccount.created_by), joinedload(PayeeAccount.uploaded_by))
        .order_by(Market.name, Market.code, Stall.code)
    )
    if market is not None:
        query = query.where(Market.id == market.id)
    return paginate(query, page, per_page)


def payee_history(stall: Stall) -> list[PayeeAccount]:
    return list(
        db.session.scalars(
            select(PayeeAccount)
            .where(PayeeAccount.stall_id == stall.id)
            .order_by(PayeeAccount.id.desc())
        )
    )
