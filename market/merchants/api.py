"""API views of merchants, payee accounts and a stall's VietQR payload.

Merchants and payees hang off their stall (``/api/v1/markets/<code>/stalls/<stall_code>/…``)
because that is where they are changed; ``/api/v1/merchants`` lists and finds merchants.
"""

from __future__ import annotations

from flask import Blueprint
from flask_babel import gettext as _
from sqlalchemy import select

from market.api.operations import COMMON_ERRORS, WRITE_ERRORS, operation
from market.api.pagination import PageQuerySchema, page_of, page_schema
from market.api.tokens import api_user
from market.auth import permissions
from market.errors import Conflict, Forbidden, InvalidInput, NotFound
from market.extensions import db
from market.markets.api import payee_out, stall_or_404
from market.markets.models import Stall
from market.merchants import queries, services
from market.merchants.models import Merchant, PayeeAccount
from market.merchants.schemas import (
    MerchantInSchema,
    MerchantQuerySchema,
    MerchantSchema,
    PayeeInSchema,
    PayeeSchema,
    QrPayloadQuerySchema,
    QrPayloadSchema,
)
from market.pagination import paginate
from market.vietqr import VietQRError, bank_by_bin

bp = Blueprint("merchants", __name__)

STALL = "/markets/<code>/stalls/<stall_code>"
# Ids are 32-bit database integers: a larger one is simply not found (PostgreSQL would
# refuse it in the query).
ID = "int(min=1, max=2147483647)"


def merchant_out(merchant: Merchant, stalls: list[Stall] | None = None) -> dict:
    """A merchant as the API shows it; ``stalls`` when the caller loaded them already (a
    page of merchants loads all their stalls in one query)."""
    user = api_user()
    if stalls is None:
        stalls = queries.merchant_stalls(merchant)
    return {
        "id": merchant.id,
        "full_name": merchant.full_name,
        "phone": merchant.phone,
        "tax_code": merchant.tax_code,
        "consent": merchant.consent,
        "consent_at": merchant.consent_at,
        "created_at": merchant.created_at,
        "stalls": [
            {"market": stall.market.code, "code": stall.code}
            for stall in stalls
            if permissions.can_view_stall(user, stall)
        ],
    }


def _no_payee() -> NotFound:
    return NotFound(_("Sạp này chưa có tài khoản nhận tiền."))


# --- merchants -----------------------------------------------------------------------------


@bp.get("/merchants")
@operation(
    summary="List the merchants who hold a stall the caller may see",
    tag="merchants",
    query=MerchantQuerySchema,
    response=page_schema(MerchantSchema),
)
def list_merchants(query: dict):
    page = queries.merchant_list(api_user(), **query)
    merchants = [merchant for (merchant,) in page.items]
    stalls = queries.stalls_of_merchants(merchant.id for merchant in merchants)
    return page_of(page, [merchant_out(merchant, stalls[merchant.id]) for merchant in merchants])


@bp.get(f"/merchants/<{ID}:merchant_id>")
@operation(summary="One merchant", tag="merchants", response=MerchantSchema)
def get_merchant(merchant_id: int):
    merchant = queries.visible_merchant(api_user(), merchant_id)
    if merchant is None:
        raise NotFound(_("Không tìm thấy tiểu thương này."))
    return merchant_out(merchant)


@bp.get(f"{STALL}/merchant")
@operation(summary="The merchant who holds a stall", tag="merchants", response=MerchantSchema)
def get_stall_merchant(code: str, stall_code: str):
    stall = stall_or_404(api_user(), code, stall_code)
    if stall.merchant is None:
        raise NotFound(_("Sạp này chưa có tiểu thương."))
    return merchant_out(stall.merchant)


@bp.put(f"{STALL}/merchant")
@operation(
    summary="Set who holds a stall",
    tag="merchants",
    description="The phone number is the merchant's identity: a known number brings that "
    "merchant (with the name, tax code and consent given here) to the stall; a new number "
    "creates a merchant.",
    body=MerchantInSchema,
    response=MerchantSchema,
    errors=WRITE_ERRORS,
)
def put_stall_merchant(code: str, stall_code: str, body: dict):
    user = api_user()
    stall = stall_or_404(user, code, stall_code)
    return merchant_out(services.save_merchant(user, stall, **body))


@bp.delete(f"{STALL}/merchant")
@operation(
    summary="Release a stall: nobody holds it any more (the merchant is kept)",
    tag="merchants",
    status=204,
    errors=WRITE_ERRORS,
)
def delete_stall_merchant(code: str, stall_code: str):
    user = api_user()
    services.release_stall(user, stall_or_404(user, code, stall_code))


# --- payee accounts ------------------------------------------------------------------------


@bp.get(f"{STALL}/payees")
@operation(
    summary="A stall's payee accounts, newest first (the current one and its history)",
    tag="payees",
    query=PageQuerySchema,
    response=page_schema(PayeeSchema),
)
def list_payees(code: str, stall_code: str, query: dict):
    stall = stall_or_404(api_user(), code, stall_code)
    page = paginate(
        select(PayeeAccount)
        .where(PayeeAccount.stall_id == stall.id)
        .order_by(PayeeAccount.id.desc()),
        query["page"],
        query["per_page"],
    )
    return page_of(page, [payee_out(payee) for (payee,) in page.items])


@bp.post(f"{STALL}/payees")
@operation(
    summary="Change a stall's payee account",
    tag="payees",
    description="Adds the account as the stall's current payee (201); the same account as "
    "now changes nothing (200). `expected_current_id` must be the current payee's id (null "
    "if none), else 409: someone else changed it meanwhile. Helpers may change only an "
    "unverified payee. A new payee needs verifying and the sticker reprinting.",
    body=PayeeInSchema,
    response=PayeeSchema,
    status=201,
    also=(200,),
    errors=WRITE_ERRORS,
)
def create_payee(code: str, stall_code: str, body: dict):
    user = api_user()
    stall = stall_or_404(user, code, stall_code)
    bank_bin = body.pop("bank")
    payee = services.set_payee(user, stall, bank_bin=bank_bin, **body)
    if payee is None:
        return payee_out(services.current_payee(stall)), 200
    return payee_out(payee)


@bp.get(f"{STALL}/payees/current")
@operation(summary="A stall's current payee account", tag="payees", response=PayeeSchema)
def get_current_payee(code: str, stall_code: str):
    payee = services.current_payee(stall_or_404(api_user(), code, stall_code))
    if payee is None:
        raise _no_payee()
    return payee_out(payee)


@bp.post(f"{STALL}/payees/<{ID}:payee_id>/verify")
@operation(
    summary="Verify a stall's current payee account (four-eyes)",
    tag="payees",
    description="A manager of the market or a province official verifies, never one who "
    "created this account, created another version of it still pending since the last "
    "verified one, or uploaded the import that created it (403, with the reason). 409 if it "
    "is no longer the current account. Verifying a verified account changes nothing.",
    response=PayeeSchema,
    errors=WRITE_ERRORS,
)
def verify_payee(code: str, stall_code: str, payee_id: int):
    user = api_user()
    stall = stall_or_404(user, code, stall_code)
    payee = db.session.get(PayeeAccount, payee_id)
    if payee is None or payee.stall_id != stall.id:
        raise NotFound(_("Không tìm thấy tài khoản này của sạp."))
    return payee_out(services.verify_payee(user, payee))


# --- QR payload ----------------------------------------------------------------------------


@bp.get(f"{STALL}/qr-payload")
@operation(
    summary="The VietQR payload of a stall's current payee",
    tag="qr",
    description="Without `amount` the static code printed on the sticker; with it a "
    "dynamic code for one payment. A payee not yet verified answers 409 (as the stickers and "
    "the public QR do), unless a manager asks for `preview`.",
    query=QrPayloadQuerySchema,
    response=QrPayloadSchema,
    errors=(*COMMON_ERRORS, 409),
)
def qr_payload(code: str, stall_code: str, query: dict):
    user = api_user()
    stall = stall_or_404(user, code, stall_code)
    payee = services.current_payee(stall)
    if payee is None:
        raise _no_payee()
    if not payee.verified:
        # Nothing unverified is ever printed or shown to pay into (market.payments.queries.
        # payable_payee); a manager may preview it, explicitly, to check it before confirming.
        if not query["preview"]:
            raise Conflict(
                _(
                    "Sạp %(code)s chưa có tài khoản nhận tiền đã xác minh nên chưa nhận chuyển "
                    "khoản.",
                    code=stall.code,
                )
            )
        if not permissions.can_verify_payee(user, stall.market):
            raise Forbidden(_("Chỉ quản lý chợ mới được xem trước mã của tài khoản chưa xác minh."))
    amount, purpose = query["amount"], query["purpose"]
    try:
        payload = queries.payee_payload(payee, amount=amount, purpose=purpose)
    except VietQRError as exc:
        if exc.field == "62.08":
            message = _(
                "Nội dung chuyển khoản “%(value)s”, khi bỏ dấu, phải có 1 đến 25 ký tự chữ, số "
                "hoặc dấu thông thường.",
                value=purpose,
            )
            raise InvalidInput({"purpose": [message]}) from exc
        # The stored account itself cannot make a code (e.g. a bank that left NAPAS).
        raise Conflict(
            _("Tài khoản nhận tiền hiện tại không tạo được mã VietQR. Vui lòng nhập lại tài khoản.")
        ) from exc
    bank = bank_by_bin(payee.bank_bin)
    return {
        "payload": payload,
        "payee_id": payee.id,
        "verified": payee.verified,
        "bank_bin": payee.bank_bin,
        "bank_name": bank.short_name if bank else None,
        "account_number": payee.account_number,
        "service": payee.service,
        "holder_name": payee.holder_name,
        "amount": amount,
        "purpose": purpose,
        "dynamic": amount is not None,
    }
