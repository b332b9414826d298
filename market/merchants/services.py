"""Use cases for merchants and payee accounts. Each public function commits once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from market.audit import services as audit
from market.auth import permissions
from market.auth.models import User, utcnow
from market.errors import Conflict, Forbidden, InvalidInput
from market.extensions import db
from market.markets.models import Market, Stall
from market.merchants.models import Merchant, PayeeAccount

UNCHANGED = object()


def current_payee(stall: Stall) -> PayeeAccount | None:
    return db.session.scalar(
        select(PayeeAccount).where(PayeeAccount.stall_id == stall.id, PayeeAccount.is_current)
    )


def payee_snapshot(payee: PayeeAccount | None) -> dict | None:
    if payee is None:
        return None
    return {
        "payee_id": payee.id,
        "bank_bin": payee.bank_bin,
        "account_number": payee.account_number,
        "service": payee.service,
        "holder_name": payee.holder_name,
        "verified": payee.verified,
    }


def stage_merchant(
    *,
    phone: str,
    full_name: str,
    tax_code: str | None,
    consent: bool,
    merchant: Merchant | None = None,
    now: datetime | None = None,
) -> Merchant:
    """Create or update a merchant in the session (found by ``merchant`` or by phone)."""
    if merchant is None:
        merchant = db.session.scalar(select(Merchant).where(Merchant.phone == phone))
    elif merchant.phone != phone:
        taken = db.session.scalar(select(Merchant.id).where(Merchant.phone == phone))
        if taken is not None:
            raise InvalidInput(
                {"phone": [_("Số điện thoại này đã thuộc về một tiểu thương khác.")]}
            )
    if merchant is None:
        merchant = Merchant(phone=phone)
        db.session.add(merchant)
    merchant.phone = phone
    merchant.full_name = full_name
    merchant.tax_code = tax_code
    if consent and not merchant.consent:
        merchant.consent_at = now or utcnow()
    if not consent:
        merchant.consent_at = None
    merchant.consent = consent
    return merchant


def stage_assignment(actor: User | None, stall: Stall, merchant: Merchant | None) -> bool:
    """Give the stall to ``merchant`` (or nobody); audit-logged. True if it changed."""
    new_id = merchant.id if merchant is not None else None
    if stall.merchant_id == new_id:
        return False
    old_id = stall.merchant_id
    stall.merchant = merchant
    audit.record(
        "stall.assign",
        actor=actor,
        entity="stall",
        entity_id=stall.id,
        market_id=stall.market_id,
        old={"merchant_id": old_id},
        new={"merchant_id": new_id, "merchant_name": merchant.full_name if merchant else None},
    )
    return True


def stage_payee(
    actor: User | None,
    stall: Stall,
    *,
    bank_bin: str,
    account_number: str,
    service: str,
    holder_name: str,
    expected_current_id: object = UNCHANGED,
) -> PayeeAccount | None:
    """Make this account the stall's current payee. Returns the new payee, or None if the
    stall already pays into exactly this account.

    ``expected_current_id`` is the payee the person was looking at; if another edit has
    replaced it since, the change is refused instead of silently overwriting theirs.
    """
    current = current_payee(stall)
    if expected_current_id is not UNCHANGED and (current.id if current else None) != (
        expected_current_id
    ):
        raise Conflict(
            _(
                "Tài khoản nhận tiền của sạp này vừa được người khác thay đổi. Vui lòng tải lại trang."
            )
        )
    if actor is not None and not permissions.can_set_payee(actor, stall, current):
        raise Forbidden(
            _("Tài khoản nhận tiền đã được xác minh; chỉ quản lý chợ mới được thay đổi.")
        )
    if current is not None and current.same_account(bank_bin, account_number, service, holder_name):
        return None
    fields = {
        "bank_bin": bank_bin,
        "account_number": account_number,
        "service": service,
        "holder_name": holder_name,
    }
    [payee_id] = stage_payees(actor, stall.market, [(stall.id, current, fields)])
    return db.session.get(PayeeAccount, payee_id)


def stage_payees(
    actor: User | None,
    market: Market,
    changes: Sequence[tuple[int, PayeeAccount | None, dict]],
) -> list[int]:
    """Give stalls of ``market`` new current payees, ``changes`` as (stall id, the payee the
    change was checked against, fields: bank_bin, account_number, service, holder_name).
    Returns the new payees' ids. One statement per kind of row, so the bulk import does not
    pay a round trip per stall."""
    if actor is not None and not permissions.can_onboard(actor, market):
        raise Forbidden()
    for _stall_id, current, _fields in changes:
        if (
            actor is not None
            and current is not None
            and not permissions.can_set_payee(actor, current.stall, current)
        ):
            raise Forbidden(
                _("Tài khoản nhận tiền đã được xác minh; chỉ quản lý chợ mới được thay đổi.")
            )
    if not changes:
        return []
    now = utcnow()
    replaced = [current.id for _stall_id, current, _fields in changes if current is not None]
    for start in range(0, len(replaced), 500):
        chunk = replaced[start : start + 500]
        # Compare-and-set on is_current: a concurrent change makes this match fewer rows.
        result = db.session.execute(
            update(PayeeAccount)
            .where(PayeeAccount.id.in_(chunk), PayeeAccount.is_current)
            .values(is_current=False, replaced_at=now)
            .execution_options(synchronize_session="fetch")
        )
        if result.rowcount != len(chunk):
            raise Conflict(_("Tài khoản nhận tiền của sạp này vừa được người khác thay đổi."))
    rows = [
        {
            "stall_id": stall_id,
            "is_current": True,
            "created_at": now,
            "created_by_id": actor.id if actor else None,
            **fields,
        }
        for stall_id, _current, fields in changes
    ]
    # A plain executemany (parsed once), then the ids read back by stall: each stall has one
    # current payee. (RETURNING makes one long multi-row statement per thousand rows, which
    # psycopg parses in Python; in the parameters' order, SQLite inserts a row per statement.)
    db.session.execute(insert(PayeeAccount.__table__), rows)
    by_stall = dict(
        db.session.execute(
            select(PayeeAccount.stall_id, PayeeAccount.id).where(
                PayeeAccount.stall_id.in_([row["stall_id"] for row in rows]),
                PayeeAccount.is_current,
            )
        ).all()
    )
    ids = [by_stall[row["stall_id"]] for row in rows]
    audit.record_many(
        "payee.set",
        actor=actor,
        entity="stall",
        market_id=market.id,
        changes=[
            (
                row["stall_id"],
                payee_snapshot(current),
                {
                    "payee_id": payee_id,
                    "bank_bin": row["bank_bin"],
                    "account_number": row["account_number"],
                    "service": row["service"],
                    "holder_name": row["holder_name"],
                    "verified": False,
                },
            )
            for (_stall_id, current, _fields), row, payee_id in zip(changes, rows, ids, strict=True)
        ],
    )
    return ids


def commit_or_conflict() -> None:
    """Commit; a constraint the database enforces (a race) becomes a clear 409."""
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict() from exc


def set_payee(actor: User, stall: Stall, **fields) -> PayeeAccount | None:
    payee = stage_payee(actor, stall, **fields)
    commit_or_conflict()
    return payee


def verify_payee(actor: User, payee: PayeeAccount) -> PayeeAccount:
    stall = payee.stall
    if not permissions.can_verify_payee(actor, stall.market):
        raise Forbidden(_("Chỉ quản lý chợ mới được xác minh tài khoản nhận tiền."))
    if not permissions.can_verify_payee(actor, stall.market, payee):
        raise Forbidden(
            _("Bạn vừa thay đổi tài khoản này; một quản lý khác của chợ phải xác nhận.")
        )
    if not payee.is_current:
        raise Conflict(_("Tài khoản này không còn là tài khoản hiện tại của sạp."))
    if payee.verified:
        return payee
    payee.verified_at = utcnow()
    payee.verified_by_id = actor.id
    audit.record(
        "payee.verify",
        actor=actor,
        entity="stall",
        entity_id=stall.id,
        market_id=stall.market_id,
        old=None,
        new=payee_snapshot(payee),
    )
    commit_or_conflict()
    return payee


def save_merchant(actor: User, stall: Stall, **fields) -> Merchant:
    """Create or update the merchant with this phone number and make them the stall's holder."""
    if not permissions.can_onboard(actor, stall.market):
        raise Forbidden()
    merchant = stage_merchant(**fields)
    db.session.flush()
    stage_assignment(actor, stall, merchant)
    commit_or_conflict()
    return merchant


def release_stall(actor: User, stall: Stall) -> None:
    if not permissions.can_onboard(actor, stall.market):
        raise Forbidden()
    stage_assignment(actor, stall, None)
    commit_or_conflict()
