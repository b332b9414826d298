"""Use cases for merchants and payee accounts. Each public function commits once."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from market.audit import services as audit
from market.auth import permissions
from market.auth.models import User, utcnow
from market.errors import Conflict, DomainError, Forbidden, InvalidInput
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
    """Create or update a merchant in the session (found by ``merchant`` or by phone).

    Callers then call :func:`stage_assignment` (or use :func:`stage_holder`, which does both)
    *before any flush*: the check of who may change a merchant's record reads what this
    staged from the session's pending changes."""
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


#: The fields of a merchant that are their personal data (shared across markets).
PERSONAL_FIELDS = ("full_name", "phone", "tax_code", "consent", "consent_at")


def _check_may_hold(actor: User, stall: Stall, merchant: Merchant) -> None:
    """Refuse to give ``stall`` to a merchant ``actor`` may not bring there, or to keep
    changes to personal data ``actor`` may not make (see docs/hardening.md).

    Every way of naming a stall's merchant (the form, the API, the import) ends here, after
    :func:`stage_merchant` has staged the submitted personal data, so the check sees both the
    record as stored and what this request would change in it."""
    state = sa_inspect(merchant)
    if state.transient or state.pending:
        return  # a new merchant: nobody else's record
    changed = any(state.attrs[name].history.has_changes() for name in PERSONAL_FIELDS)
    with db.session.no_autoflush:
        held = set(
            db.session.scalars(
                select(Stall.market_id).where(Stall.merchant_id == merchant.id).distinct()
            )
        )
        markets = _markets(held)
    if permissions.can_edit_merchant(actor, held):
        return
    if not any(permissions.can_onboard(actor, market) for market in markets):
        # Known only in markets the actor does not work in: the same answer whatever the
        # name, tax code or consent typed, so it tells nothing of the record.
        message = _(
            "Số điện thoại này đã được chợ khác đăng ký cho một tiểu thương. Để người này nhận "
            "thêm sạp ở chợ của bạn, hãy nhờ quản trị viên của tỉnh gán sạp."
        )
    elif changed:
        message = _(
            "Tiểu thương này cũng có sạp ở chợ khác: chỉ quản trị viên của tỉnh mới sửa được "
            "họ tên, số điện thoại, mã số thuế và sự đồng ý của họ. Hãy để nguyên các ô đó."
        )
    else:
        return  # a merchant already of this market, brought unchanged to another stall
    error = InvalidInput({"phone": [message]}, message)
    error.field = "so_dien_thoai"
    raise error


def _markets(market_ids: set[int]) -> list[Market]:
    if not market_ids:
        return []
    return list(db.session.scalars(select(Market).where(Market.id.in_(market_ids))))


def stage_assignment(actor: User | None, stall: Stall, merchant: Merchant | None) -> bool:
    """Give the stall to ``merchant`` (or nobody); audit-logged. True if it changed.

    Refused (:class:`InvalidInput` on the phone) when ``actor`` may not bring this merchant
    here or change their personal data as staged (:func:`_check_may_hold`)."""
    if actor is not None and merchant is not None:
        _check_may_hold(actor, stall, merchant)
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
    now = utcnow()
    if current is not None:
        # Compare-and-set on is_current: a concurrent change makes this match no row.
        result = db.session.execute(
            update(PayeeAccount)
            .where(PayeeAccount.id == current.id, PayeeAccount.is_current)
            .values(is_current=False, replaced_at=now)
            .execution_options(synchronize_session="fetch")
        )
        if result.rowcount != 1:
            raise Conflict(_("Tài khoản nhận tiền của sạp này vừa được người khác thay đổi."))
    payee = PayeeAccount(
        stall_id=stall.id,
        bank_bin=bank_bin,
        account_number=account_number,
        service=service,
        holder_name=holder_name,
        is_current=True,
        created_at=now,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(payee)
    db.session.flush()
    audit.record(
        "payee.set",
        actor=actor,
        entity="stall",
        entity_id=stall.id,
        market_id=stall.market_id,
        old=payee_snapshot(current),
        new=payee_snapshot(payee),
    )
    return payee


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


def stage_holder(actor: User | None, stall: Stall, **fields) -> tuple[Merchant, bool]:
    """Name the stall's merchant by phone number (``fields`` as :func:`stage_merchant`): the
    one path of the form, the API and the import. Returns the merchant and whether the stall
    changed hands; raises :class:`InvalidInput` (nothing to keep: roll back) when ``actor``
    may not bring this merchant here or change their record (docs/hardening.md)."""
    merchant = stage_merchant(**fields)
    if actor is not None:
        _check_may_hold(actor, stall, merchant)  # before a flush forgets what was staged
    db.session.flush()
    return merchant, stage_assignment(actor, stall, merchant)


def save_merchant(actor: User, stall: Stall, **fields) -> Merchant:
    """Create or update the merchant with this phone number and make them the stall's holder."""
    if not permissions.can_onboard(actor, stall.market):
        raise Forbidden()
    try:
        merchant, _changed = stage_holder(actor, stall, **fields)
    except DomainError:
        db.session.rollback()  # nothing staged survives a refusal
        raise
    commit_or_conflict()
    return merchant


def release_stall(actor: User, stall: Stall) -> None:
    if not permissions.can_onboard(actor, stall.market):
        raise Forbidden()
    stage_assignment(actor, stall, None)
    commit_or_conflict()
