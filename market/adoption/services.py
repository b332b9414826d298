"""Use cases of the adoption domain: keeping the payment rollups, the manager's declarations.

``stage_received_payment`` runs inside the payments domain's transaction and never commits;
``rebuild_rollups`` and ``set_market_criteria`` are use cases and commit once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import (
    BigInteger,
    Connection,
    Date,
    Integer,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.selectable import CTE

from market.adoption.models import AdoptionTarget, MarketDayPayments, StallDayPayments
from market.adoption.periods import vietnam_date
from market.audit import services as audit
from market.auth import permissions
from market.auth.models import User
from market.errors import Forbidden, InvalidInput
from market.extensions import db
from market.markets.models import FORMER_PROVINCES, Market, Stall
from market.payments.models import PaymentNotification

ECOMMERCE_NOTE_MAX = 300


def stage_received_payment(
    stall_id: int, transaction_at: datetime, amount: int, connection: Connection | None = None
) -> None:
    """Add one received payment to the stall's and its market's day (Vietnam date of
    ``transaction_at``), in the caller's transaction (the session's, or ``connection``'s):
    call it exactly once for each notification that becomes ``matched``, where it is stored,
    so the rollup commits or rolls back with it. One upsert per table, safe under concurrent
    payments to the same stall."""
    connection = connection or db.session.connection()
    params = received_payment_params(stall_id, transaction_at, amount)
    for upsert in received_payment_upserts(connection.dialect.name):
        connection.execute(upsert, params)


def received_payment_params(stall_id: int | None, transaction_at: datetime, amount: int) -> dict:
    """The parameters of :func:`received_payment_upserts` for one payment. Named apart from
    any column, so they can share one statement's parameters with other parts of it."""
    return {
        "payment_stall_id": stall_id,
        "payment_day": vietnam_date(transaction_at),
        "payment_amount": amount,
    }


@functools.cache
def received_payment_upserts(dialect: str, stored: CTE | None = None) -> tuple:
    """The stall-day and market-day upserts of one received payment (parameters from
    :func:`received_payment_params`), built once per dialect: this runs on every webhook, and
    building an ON CONFLICT statement costs more than executing it.

    With ``stored``, a CTE that yields the notification's row (its ``stall_id`` among its
    columns) only if it was just inserted, each upsert takes its row and its stall from it
    (and adds nothing for a duplicate or a payment of no stall), so PostgreSQL can run the
    insert and both upserts as one statement (see market.payments.services)."""
    insert_for = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stall_id = bindparam("payment_stall_id", type_=Integer)
    day = bindparam("payment_day", type_=Date)
    amount = bindparam("payment_amount", type_=BigInteger)
    stalls = Stall.__table__
    statements = []
    for model, key in ((StallDayPayments, "stall_id"), (MarketDayPayments, "market_id")):
        table = model.__table__
        if stored is None:
            owner = stall_id if key == "stall_id" else _market_of_stall(stall_id)
            statement = insert_for(table).values(
                {key: owner, "day": day, "payments": 1, "amount": amount}
            )
        else:
            # A notification has a stall only when it is a matched payment.
            matched = stored.c.stall_id
            if key == "stall_id":
                source = select(matched, day, literal_column("1"), amount).where(
                    matched.is_not(None)
                )
            else:
                source = select(stalls.c.market_id, day, literal_column("1"), amount).select_from(
                    stored.join(stalls, stalls.c.id == matched)
                )
            statement = insert_for(table).from_select([key, "day", "payments", "amount"], source)
        statements.append(
            statement.on_conflict_do_update(
                index_elements=[key, "day"],
                set_={
                    "payments": table.c.payments + statement.excluded.payments,
                    "amount": table.c.amount + statement.excluded.amount,
                },
            )
        )
    return tuple(statements)


def _market_of_stall(stall_id):
    return select(Stall.market_id).where(Stall.id == stall_id).scalar_subquery()


@dataclass(frozen=True, slots=True)
class RebuildResult:
    stall_days: int
    market_days: int
    payments: int
    amount: int


def vietnam_day_sql(dialect: str, column):
    """SQL for the Vietnam calendar date of a stored UTC instant. Written inline (no bound
    parameter) so PostgreSQL sees the same expression in SELECT and GROUP BY."""
    if dialect == "postgresql":
        return cast(func.timezone(literal_column("'Asia/Ho_Chi_Minh'"), column), Date)
    # SQLite keeps the UTC time as text; Vietnam is UTC+7 all year.
    return func.date(column, literal_column("'+7 hours'"))


def rebuild_rollups() -> RebuildResult:
    """Recompute both rollups from ``payment_notifications`` (matched, incoming) in one
    transaction: each one is a single INSERT … SELECT … GROUP BY.

    On PostgreSQL the rollups are locked first, so a webhook storing a payment meanwhile
    waits: its payment is either committed before the rebuild reads (and counted by it) or
    added by its own upsert after the rebuild commits, never both or neither."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        db.session.execute(
            text("LOCK TABLE stall_day_payments, market_day_payments IN EXCLUSIVE MODE")
        )
    db.session.execute(delete(MarketDayPayments))
    db.session.execute(delete(StallDayPayments))
    notification = PaymentNotification
    day = vietnam_day_sql(dialect, notification.transaction_at)
    db.session.execute(
        insert(StallDayPayments).from_select(
            ["stall_id", "day", "payments", "amount"],
            select(notification.stall_id, day, func.count(), func.sum(notification.amount))
            .where(
                notification.match_status == "matched",
                notification.direction == "in",
                notification.stall_id.is_not(None),
            )
            .group_by(notification.stall_id, day),
        )
    )
    db.session.execute(
        insert(MarketDayPayments).from_select(
            ["market_id", "day", "payments", "amount"],
            select(
                Stall.market_id,
                StallDayPayments.day,
                func.sum(StallDayPayments.payments),
                func.sum(StallDayPayments.amount),
            )
            .join(Stall, Stall.id == StallDayPayments.stall_id)
            .group_by(Stall.market_id, StallDayPayments.day),
        )
    )
    stall_days, payments, amount = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(StallDayPayments.payments), 0),
            func.coalesce(func.sum(StallDayPayments.amount), 0),
        )
    ).one()
    market_days = db.session.scalar(select(func.count()).select_from(MarketDayPayments))
    db.session.commit()
    return RebuildResult(int(stall_days), int(market_days), int(payments), int(amount))


def set_market_criteria(
    actor: User,
    market: Market,
    *,
    fees_cashless_since: date | None,
    ecommerce_listed_since: date | None,
    ecommerce_note: str | None,
    today: date,
) -> Market:
    """The market's manager (or the province) declares the two yes/no criteria, each with the
    date it became true (``None``: not yet). Dates after ``today`` are refused."""
    if not permissions.is_market_manager(actor, market):
        raise Forbidden()
    errors: dict[str, list[str]] = {}
    for name, value in (
        ("fees_cashless_since", fees_cashless_since),
        ("ecommerce_listed_since", ecommerce_listed_since),
    ):
        if value is not None and value > today:
            errors[name] = [_("Ngày không được sau hôm nay.")]
    note = " ".join((ecommerce_note or "").split()) or None
    if note is not None and len(note) > ECOMMERCE_NOTE_MAX:
        errors["ecommerce_note"] = [_("Tối đa %(n)s ký tự.", n=ECOMMERCE_NOTE_MAX)]
    if errors:
        raise InvalidInput(errors)
    old = _criteria_snapshot(market)
    market.fees_cashless_since = fees_cashless_since
    market.ecommerce_listed_since = ecommerce_listed_since
    market.ecommerce_note = note
    new = _criteria_snapshot(market)
    if new != old:
        audit.record(
            "market.adoption",
            actor=actor,
            entity="market",
            entity_id=market.id,
            market_id=market.id,
            old=old,
            new=new,
        )
    db.session.commit()
    return market


def _criteria_snapshot(market: Market) -> dict[str, str | None]:
    return {
        "fees_cashless_since": _iso(market.fees_cashless_since),
        "ecommerce_listed_since": _iso(market.ecommerce_listed_since),
        "ecommerce_note": market.ecommerce_note,
    }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


# --- the province's dated targets ------------------------------------------------------------

TARGET_TITLE_MAX = 200


def note_reached_targets(targets, progress, today: date) -> bool:
    """Record the day each saved target is first seen reached (``reached_on``), so that
    after its deadline the dashboard still says when it was reached. Commits only when a
    target was reached just now; returns whether one was."""
    changed = False
    for target, seen in zip(targets, progress, strict=True):
        if target.id is not None and target.reached_on is None and seen.count >= target.markets:
            target.reached_on = today
            changed = True
    if changed:
        db.session.commit()
    return changed


def _target_values(target: AdoptionTarget) -> dict:
    return {
        "markets": target.markets,
        "deadline": target.deadline.isoformat(),
        "title": target.title,
        "former_province": target.former_province,
    }


def _check_target(markets: int | None, deadline: date | None, title: str, former_province: str):
    errors: dict[str, list[str]] = {}
    if markets is None or not 1 <= markets <= 100_000:
        errors["markets"] = [_("Số chợ phải từ 1 đến 100.000.")]
    if deadline is None:
        errors["deadline"] = [_("Vui lòng nhập hạn.")]
    if not title:
        errors["title"] = [_("Vui lòng ghi mục tiêu theo văn bản nào (số, năm).")]
    elif len(title) > TARGET_TITLE_MAX:
        errors["title"] = [_("Tối đa %(n)s ký tự.", n=TARGET_TITLE_MAX)]
    if former_province and former_province not in FORMER_PROVINCES:
        errors["former_province"] = [_("Không có tỉnh cũ này.")]
    if errors:
        raise InvalidInput(errors)


def save_target(
    actor: User,
    target: AdoptionTarget | None,
    *,
    markets: int | None,
    deadline: date | None,
    title: str,
    former_province: str = "",
) -> AdoptionTarget:
    """Add a dated target (``target`` None) or change one; the province only, audit-logged.
    A changed number, deadline or scope is judged afresh (its ``reached_on`` is cleared)."""
    if actor.role != "admin":
        raise Forbidden(_("Chỉ cán bộ tỉnh mới đặt mục tiêu."))
    title = " ".join((title or "").split())
    former_province = former_province or ""
    _check_target(markets, deadline, title, former_province)
    before = None if target is None else _target_values(target)
    if target is None:
        target = AdoptionTarget(created_by_id=actor.id)
        db.session.add(target)
    scope_changed = (target.markets, target.deadline, target.former_province) != (
        markets,
        deadline,
        former_province,
    )
    target.markets = markets
    target.deadline = deadline
    target.title = title
    target.former_province = former_province
    if scope_changed:
        target.reached_on = None
    db.session.flush()
    after = _target_values(target)
    if before != after:
        audit.record(
            "adoption.target.create" if before is None else "adoption.target.update",
            actor=actor,
            entity="adoption_target",
            entity_id=target.id,
            market_id=None,
            old=before,
            new=after,
        )
    db.session.commit()
    return target


def delete_target(actor: User, target: AdoptionTarget) -> None:
    if actor.role != "admin":
        raise Forbidden(_("Chỉ cán bộ tỉnh mới đặt mục tiêu."))
    audit.record(
        "adoption.target.delete",
        actor=actor,
        entity="adoption_target",
        entity_id=target.id,
        market_id=None,
        old=_target_values(target),
    )
    db.session.delete(target)
    db.session.commit()
