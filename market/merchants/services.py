"""Use cases for merchants and payee accounts. Each public function commits once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import insert, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from market.audit import services as audit
from market.auth import permissions
from market.auth.models import User, user_markets, utcnow
from market.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from market.extensions import db
from market.markets.models import ImportBatch, Market, Stall
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


def check_may_hold(actor: User, merchant: Merchant) -> None:
    """Refuse to give a stall of ``actor``'s to a merchant ``actor`` may not bring there, or to
    keep changes to personal data ``actor`` may not make (see docs/hardening.md).

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
    here or change their personal data as staged (:func:`check_may_hold`)."""
    if actor is not None and merchant is not None:
        check_may_hold(actor, merchant)
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
    import_batch: ImportBatch | None = None,
) -> PayeeAccount | None:
    """Make this account the stall's current payee. Returns the new payee, or None if the
    stall already pays into exactly this account.

    ``expected_current_id`` is the payee the person was looking at; if another edit has
    replaced it since, the change is refused instead of silently overwriting theirs.
    ``import_batch`` is the upload that asks for this account (recorded with its uploader,
    who may then not verify it).
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
    [payee_id] = stage_payees(
        actor, stall.market, [(stall.id, current, fields)], import_batch=import_batch
    )
    return db.session.get(PayeeAccount, payee_id)


def stage_payees(
    actor: User | None,
    market: Market,
    changes: Sequence[tuple[int, PayeeAccount | None, dict]],
    *,
    import_batch: ImportBatch | None = None,
) -> list[int]:
    """Give stalls of ``market`` new current payees, ``changes`` as (stall id, the payee the
    change was checked against, fields: bank_bin, account_number, service, holder_name).
    Returns the new payees' ids. One statement per kind of row, so the bulk import does not
    pay a round trip per stall. ``import_batch`` is the upload that asks for them (recorded
    with its uploader, who may then not verify them: four-eyes)."""
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
    upload = (
        {"import_batch_id": import_batch.id, "uploaded_by_id": import_batch.created_by_id}
        if import_batch is not None
        else {"import_batch_id": None, "uploaded_by_id": None}
    )
    rows = [
        {
            "stall_id": stall_id,
            "is_current": True,
            "created_at": now,
            "created_by_id": actor.id if actor else None,
            **upload,
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


# --- four-eyes verification ------------------------------------------------------------------
#
# A payee account takes effect only when someone other than everyone whose intent is in it
# confirms it. This is the one place that rule lives: the form, the JSON API and the bulk page
# all come through ``verify_refusal``.


@dataclass(frozen=True)
class Refusal:
    """Why a user may not verify a payee account: ``kind`` for code, ``message`` for people."""

    kind: str  # "role" | "replaced" | "created" | "uploaded" | "pending"
    message: str

    def error(self) -> DomainError:
        return Conflict(self.message) if self.kind == "replaced" else Forbidden(self.message)


def involved_users(payee: PayeeAccount) -> dict[int, str]:
    """Everyone whose intent is in this version of a stall's payee, as {user id: how}: who
    created it ("created"), who uploaded the import that created it ("uploaded"), and who
    created or uploaded any other pending version of the stall since its last verified one
    ("pending"; a helper replacing a manager's change does not make it the helper's alone)."""
    return involved_users_of([payee])[payee.id]


def involved_users_of(payees: list[PayeeAccount]) -> dict[int, dict[int, str]]:
    """``involved_users`` of several payees (a page of them) in one query: {payee id: …}."""
    history: dict[int, list] = {payee.stall_id: [] for payee in payees}
    if history:
        versions = db.session.execute(
            select(
                PayeeAccount.stall_id,
                PayeeAccount.id,
                PayeeAccount.created_by_id,
                PayeeAccount.uploaded_by_id,
                PayeeAccount.verified_at.is_not(None),
            )
            .where(PayeeAccount.stall_id.in_(list(history)))
            .order_by(PayeeAccount.stall_id, PayeeAccount.id)
        )
        for stall_id, *version in versions:
            history[stall_id].append(version)
    return {
        payee.id: involved_in_history(
            history[payee.stall_id], payee.id, payee.created_by_id, payee.uploaded_by_id
        )
        for payee in payees
    }


def involved_in_history(
    history: Sequence[tuple[int, int | None, int | None, bool]],
    version_id: int,
    created_by_id: int | None,
    uploaded_by_id: int | None,
) -> dict[int, str]:
    """Who is involved in one version of an account that changes by new versions (a stall's
    payee, a market board's collection account): ``history`` is every version of it as (id,
    created by, uploaded by, verified), oldest first. See :func:`involved_users`."""
    involved: dict[int, str] = {}
    for other_id, other_created_by, other_uploaded_by, verified in history:
        if other_id >= version_id:
            break
        if verified:  # a verified version closes what came before it
            involved = {}
            continue
        for user_id in (other_created_by, other_uploaded_by):
            if user_id is not None:
                involved[user_id] = "pending"
    if uploaded_by_id is not None:
        involved[uploaded_by_id] = "uploaded"
    if created_by_id is not None:
        involved[created_by_id] = "created"
    return involved


def verify_refusal(
    actor: User, payee: PayeeAccount, involved: dict[int, str] | None = None
) -> Refusal | None:
    """Why ``actor`` may not verify ``payee`` now, or None if they may (or it already is).

    Only a manager of the stall's market or a province official (admin) verifies, and never
    one who created this version, created another pending version of the stall since the
    last verified one, or uploaded the import that created either: the province included.
    ``involved`` is ``involved_users(payee)`` when the caller has it already.
    """
    if involved is None and payee.is_current and not payee.verified:
        involved = involved_users(payee)
    return four_eyes_refusal(
        actor,
        payee.stall.market,
        is_current=payee.is_current,
        verified=payee.verified,
        involved=involved or {},
    )


def four_eyes_refusal(
    actor: User,
    market: Market,
    *,
    is_current: bool,
    verified: bool,
    involved: dict[int, str],
    replaced_message: str | None = None,
    pending_message: str | None = None,
) -> Refusal | None:
    """The four-eyes rule itself, for any account of ``market`` that takes effect only once
    verified (a stall's payee, the market board's collection account): why ``actor`` may not
    verify a version that is (``is_current``) the account in use, already ``verified`` or
    not, whose ``involved`` users are :func:`involved_in_history`'s; None if they may.
    ``replaced_message`` and ``pending_message`` name the account in the refusal."""
    if not permissions.can_verify_payee(actor, market):
        return Refusal(
            "role", _("Chỉ quản lý chợ hoặc cán bộ tỉnh mới được xác minh tài khoản nhận tiền.")
        )
    if not is_current:
        return Refusal(
            "replaced",
            replaced_message or _("Tài khoản này không còn là tài khoản hiện tại của sạp."),
        )
    if verified:
        return None
    how = involved.get(actor.id)
    if how is None:
        return None
    reason = {
        "created": _("Bạn đã tạo tài khoản này."),
        "uploaded": _("Bạn đã tải lên tệp nhập tạo ra tài khoản này."),
        "pending": pending_message
        or _("Bạn đã tạo một thay đổi khác của sạp này đang chờ xác minh."),
    }[how]
    return Refusal(
        how,
        _(
            "%(reason)s Một người khác phải xác minh: quản lý khác của chợ, hoặc cán bộ tỉnh.",
            reason=reason,
        ),
    )


@dataclass(frozen=True)
class Verifiers:
    """Who may verify a pending payee: the market's other managers, else the province."""

    managers: list[User]
    province: bool


@dataclass(frozen=True)
class VerifierPool:
    """The active managers of some markets and the active province officials: everyone who
    might verify, loaded once for a page of payees."""

    managers: dict[int, list[User]]
    admin_ids: list[int]


def verifier_pool(market_ids: list[int]) -> VerifierPool:
    managers: dict[int, list[User]] = {market_id: [] for market_id in market_ids}
    rows = db.session.execute(
        select(user_markets.c.market_id, User)
        .join(User, User.id == user_markets.c.user_id)
        .where(
            user_markets.c.market_id.in_(list(managers)),
            User.role == "manager",
            User.active,
        )
        .order_by(User.full_name, User.id)
    )
    for market_id, user in rows:
        managers[market_id].append(user)
    admin_ids = db.session.scalars(
        select(User.id).where(User.role == "admin", User.active).order_by(User.id)
    ).all()
    return VerifierPool(managers, list(admin_ids))


def payee_verifiers(
    payee: PayeeAccount,
    involved: dict[int, str] | None = None,
    pool: VerifierPool | None = None,
) -> Verifiers:
    """The people ``verify_refusal`` would let verify ``payee`` (named managers; the province
    as a whole)."""
    if involved is None:
        involved = involved_users(payee)
    market_id = payee.stall.market_id
    if pool is None:
        pool = verifier_pool([market_id])
    return Verifiers(
        [m for m in pool.managers.get(market_id, []) if m.id not in involved],
        any(admin_id not in involved for admin_id in pool.admin_ids),
    )


def _stage_verification(actor: User, payee: PayeeAccount, *, bulk: bool = False) -> bool:
    """Mark ``payee`` verified by ``actor`` (the rule already checked); audit-logged. False if
    it was replaced or verified meanwhile: the update matches only the current, unverified
    row, so a concurrent change cannot slip an unchecked account in."""
    now = utcnow()
    result = db.session.execute(
        update(PayeeAccount)
        .where(
            PayeeAccount.id == payee.id,
            PayeeAccount.is_current,
            PayeeAccount.verified_at.is_(None),
        )
        .values(verified_at=now, verified_by_id=actor.id)
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != 1:
        return False
    stall = payee.stall
    new = payee_snapshot(payee)
    if bulk:
        new["bulk"] = True
    audit.record(
        "payee.verify",
        actor=actor,
        entity="stall",
        entity_id=stall.id,
        market_id=stall.market_id,
        old=None,
        new=new,
    )
    return True


def verify_payee(actor: User, payee: PayeeAccount) -> PayeeAccount:
    refusal = verify_refusal(actor, payee)
    if refusal is not None:
        raise refusal.error()
    if payee.verified:
        return payee
    if not _stage_verification(actor, payee):
        db.session.rollback()
        raise Conflict(_("Tài khoản này vừa được người khác thay đổi. Vui lòng tải lại trang."))
    commit_or_conflict()
    return payee


@dataclass(frozen=True)
class BulkOutcome:
    payee: PayeeAccount
    status: str  # "verified" | "already" | "refused"
    message: str = ""


def verify_payees(actor: User, payee_ids: list[int]) -> list[BulkOutcome]:
    """Verify several stalls' payees at once, every row checked against the same rule as one
    verification. Rows that fail stay pending and say why; the others are verified (each is a
    separate stall's account, so one refusal is no reason to hold back the rest). One commit.

    An id the actor may not see (or that does not exist) refuses the whole request (NotFound)
    and changes nothing, as for a single verification.
    """
    ids = list(dict.fromkeys(payee_ids))
    payees = {
        p.id: p
        for p in db.session.scalars(
            select(PayeeAccount)
            .where(PayeeAccount.id.in_(ids))
            .options(joinedload(PayeeAccount.stall).joinedload(Stall.market))
        )
    }
    if len(payees) != len(ids) or not all(
        permissions.can_view_market(actor, p.stall.market) for p in payees.values()
    ):
        raise NotFound(_("Không tìm thấy một trong các tài khoản đã chọn."))
    involved = involved_users_of(list(payees.values()))
    outcomes = []
    for payee_id in ids:
        payee = payees[payee_id]
        refusal = verify_refusal(actor, payee, involved[payee_id])
        if refusal is not None:
            outcomes.append(BulkOutcome(payee, "refused", refusal.message))
        elif payee.verified:
            outcomes.append(BulkOutcome(payee, "already"))
        elif _stage_verification(actor, payee, bulk=True):
            outcomes.append(BulkOutcome(payee, "verified"))
        else:
            message = _("Tài khoản này vừa được người khác thay đổi.")
            outcomes.append(BulkOutcome(payee, "refused", message))
    commit_or_conflict()
    return outcomes


def stage_holder(actor: User | None, stall: Stall, **fields) -> tuple[Merchant, bool]:
    """Name the stall's merchant by phone number (``fields`` as :func:`stage_merchant`): the
    one path of the form, the API and the import. Returns the merchant and whether the stall
    changed hands; raises :class:`InvalidInput` (nothing to keep: roll back) when ``actor``
    may not bring this merchant here or change their record (docs/hardening.md)."""
    merchant = stage_merchant(**fields)
    if actor is not None:
        check_may_hold(actor, merchant)  # before a flush forgets what was staged
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
