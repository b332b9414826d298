"""Pages of fee payments: a bill's payments and cash, the statement import, the board's
unmatched transfers, arrears with their export and reminder notices, receipts."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market import spreadsheets
from market.auth import permissions
from market.auth.models import utcnow
from market.errors import InvalidInput, NotFound
from market.extensions import db
from market.fees import queries as fee_queries
from market.fees.models import FeeBill
from market.fees.money import exports, queries, services
from market.fees.money.forms import AssignToBillForm, CashForm, StatementApplyForm, StatementForm
from market.fees.statements import StatementError
from market.formatting import VN_TZ, money
from market.limits import heavy_request
from market.markets.models import Market
from market.markets.queries import market_by_code
from market.payments.models import PaymentNotification
from market.qr.receipts import render_receipts_pdf

bp = Blueprint("fee_money", __name__)
_MARKET = "/markets/<code>/fees"

#: A statement sent back from its preview travels in the page: a month of a board's account
#: is tens of kilobytes; a file much larger is not a statement we preview in a browser.
MAX_PREVIEW_BYTES = 2 * 1024 * 1024


def _market(code: str, *, manage: bool = False) -> Market:
    if current_user.role == "merchant":
        abort(403)
    market = market_by_code(code)
    if market is None or not permissions.can_view_fees(current_user, market):
        raise NotFound(_("Không tìm thấy chợ “%(code)s”.", code=code))
    if manage and not permissions.can_manage_fees(current_user, market):
        abort(403)
    return market


def _bill(market: Market, number: str) -> FeeBill:
    bill = fee_queries.bill_by_number(market, number)
    if bill is None:
        raise NotFound(_("Không tìm thấy hóa đơn."))
    return bill


def _attach(form, exc: InvalidInput) -> None:
    for name, messages in exc.errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, *messages]
        else:
            flash(" ".join(messages), "error")
    if not exc.errors:
        flash(exc.message, "error")


# --- a bill's payments, cash -----------------------------------------------------------------


def _payments_page(market: Market, bill: FeeBill, form: CashForm, status: int = 200):
    owed = fee_queries.owed([bill])[bill.id]
    return render_template(
        "fees/money/payments.html",
        market=market,
        bill=bill,
        owed=owed,
        payments=queries.bill_payments(bill),
        form=form,
        can_manage=permissions.can_manage_fees(current_user, market),
    ), status


@bp.route(f"{_MARKET}/bills/<number>/payments", methods=["GET", "POST"])
@login_required
def bill_payments(code: str, number: str):
    market = _market(code, manage=request.method == "POST")
    bill = _bill(market, number)
    form = CashForm()
    if request.method == "GET":
        return _payments_page(market, bill, CashForm(formdata=None))
    if not form.validate():
        return _payments_page(market, bill, form, 422)
    paid_at = None
    if form.paid_at.data:
        paid_at = form.paid_at.data.replace(tzinfo=VN_TZ).astimezone(UTC)
    try:
        payment = services.record_cash(
            current_user,
            bill,
            amount=form.amount.data,
            receipt=form.receipt_number.data,
            paid_at=paid_at,
        )
    except InvalidInput as exc:
        _attach(form, exc)
        return _payments_page(market, bill, form, 422)
    receipt = queries.receipt_of(payment)
    flash(
        _("Đã ghi nhận tiền mặt, biên lai %(n)s.", n=receipt.number if receipt else ""), "success"
    )
    return redirect(url_for(".bill_payments", code=market.code, number=bill.number))


# --- statement import --------------------------------------------------------------------------


def _statement_form(market: Market, **kwargs) -> StatementForm:
    form = StatementForm(**kwargs)
    form.account.choices = [
        (a.id, f"{a.account_number} · {a.holder_name}")
        for a in queries.market_board_accounts(market)
    ]
    return form


@bp.route(f"{_MARKET}/statement", methods=["GET", "POST"])
@login_required
def statement(code: str):
    market = _market(code, manage=True)
    form = _statement_form(market)
    if request.method == "GET" or not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("fees/money/statement.html", market=market, form=form), status
    upload = form.file.data
    content = upload.read(MAX_PREVIEW_BYTES + 1) if upload else b""
    filename = (upload.filename or "") if upload else ""
    if not content:
        form.file.errors = [_("Hãy chọn tệp sao kê.")]
    elif len(content) > MAX_PREVIEW_BYTES:
        form.file.errors = [_("Tệp sao kê lớn quá 2 MB. Hãy tải từng tháng.")]
    if form.file.errors:
        return render_template("fees/money/statement.html", market=market, form=form), 422
    return _preview(market, form, form.account.data, filename, content)


def _preview(market: Market, form, account_id: int, filename: str, content: bytes):
    try:
        plan = services.plan_statement(current_user, market, account_id, filename, content)
    except StatementError as exc:
        return render_template(
            "fees/money/statement.html", market=market, form=form, error=exc
        ), 422
    except InvalidInput as exc:
        _attach(form, exc)
        return render_template("fees/money/statement.html", market=market, form=form), 422
    apply = StatementApplyForm(
        formdata=None,
        account=str(account_id),
        filename=filename,
        content=base64.b64encode(content).decode(),
    )
    return render_template(
        "fees/money/statement_preview.html", market=market, plan=plan, apply=apply
    )


@bp.route(f"{_MARKET}/statement/apply", methods=["POST"])
@login_required
def apply_statement(code: str):
    market = _market(code, manage=True)
    form = StatementApplyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        content = base64.b64decode(form.content.data or "", validate=True)
        account_id = int(form.account.data or "")
    except (binascii.Error, ValueError):
        abort(400)
    if len(content) > MAX_PREVIEW_BYTES:
        abort(413)
    try:
        plan = services.apply_statement(
            current_user, market, account_id, form.filename.data or "", content
        )
    except (StatementError, InvalidInput) as exc:
        flash(exc.message, "error")
        return redirect(url_for(".statement", code=market.code))
    flash(
        _(
            "Đã nhập sao kê: %(new)s khoản mới (%(amount)s), %(paired)s khoản đã có thông báo, "
            "%(known)s khoản đã nhập trước đó.",
            new=plan.count("new"),
            amount=money(plan.new_amount),
            paired=plan.count("paired"),
            known=plan.count("known"),
        ),
        "success",
    )
    return redirect(url_for(".statement", code=market.code))


# --- the board's unmatched transfers -----------------------------------------------------------


def _unmatched_page(market: Market, failed: int | None = None, form=None, status: int = 200):
    rows = []
    for n in queries.board_unmatched(market):
        row_form = form if failed == n.id else AssignToBillForm(formdata=None, prefix=f"n{n.id}")
        rows.append((n, row_form))
    return render_template("fees/money/unmatched.html", market=market, rows=rows), status


@bp.route(f"{_MARKET}/unmatched")
@login_required
def unmatched(code: str):
    return _unmatched_page(_market(code, manage=True))


@bp.route(f"{_MARKET}/unmatched/<int:notification_id>", methods=["POST"])
@login_required
def assign_unmatched(code: str, notification_id: int):
    market = _market(code, manage=True)
    notification = db.session.get(PaymentNotification, notification_id)
    if notification is None:
        raise NotFound()
    form = AssignToBillForm(prefix=f"n{notification_id}")
    if not form.validate_on_submit():
        return _unmatched_page(market, notification_id, form, 422)
    bill = queries.bill_by_number_or_reference(market, form.bill.data)
    if bill is None:
        form.bill.errors = [_("Không tìm thấy hóa đơn “%(v)s” của chợ này.", v=form.bill.data)]
        return _unmatched_page(market, notification_id, form, 422)
    services.assign_notification(current_user, market, notification, bill)
    flash(_("Đã ghi khoản tiền vào hóa đơn %(n)s.", n=bill.number), "success")
    return redirect(url_for(".unmatched", code=market.code))


# --- arrears -------------------------------------------------------------------------------------


@bp.route(f"{_MARKET}/arrears")
@login_required
def arrears(code: str):
    market = _market(code)
    report = queries.arrears(market, now=utcnow())
    return render_template(
        "fees/money/arrears.html",
        market=market,
        report=report,
        bucket_keys=[key for key, _first, _last in queries.AGE_BUCKETS],
        can_manage=permissions.can_manage_fees(current_user, market),
    )


@bp.route(f"{_MARKET}/arrears.<fmt>")
@login_required
@heavy_request
def arrears_export(code: str, fmt: str):
    market = _market(code)
    rows = exports.arrears_rows(queries.arrears(market, now=utcnow()))
    name = f"no-phi-{market.code}"
    if fmt == "csv":
        body, mimetype = spreadsheets.to_csv(rows), "text/csv; charset=utf-8"
    elif fmt == "xlsx":
        body = spreadsheets.to_xlsx([(_("Nợ phí"), rows)])
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        raise NotFound()
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


@bp.route(f"{_MARKET}/arrears/reminders")
@login_required
def reminders(code: str):
    market = _market(code)
    report = queries.arrears(market, now=utcnow())
    stall_code = request.args.get("stall")
    stalls = [s for s in report.stalls if not stall_code or s.stall_code == stall_code]
    return render_template("fees/money/reminders.html", market=market, report=report, stalls=stalls)


# --- receipts ------------------------------------------------------------------------------------


def _receipt_pdf(payment_id: int, market_id: int, bill_id: int | None = None) -> Response:
    slip = queries.receipt_slip(payment_id, market_id, bill_id)
    if slip is None:
        raise NotFound(_("Không tìm thấy biên lai."))
    return Response(
        render_receipts_pdf([slip]),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="bien-lai-{slip.number}.pdf"'},
    )


@bp.route(f"{_MARKET}/payments/<int:payment_id>/receipt.pdf")
@login_required
def market_receipt(code: str, payment_id: int):
    """The board reprints the receipt of any payment of its market."""
    return _receipt_pdf(payment_id, _market(code).id)


@bp.route("/me/bills/<int:bill_id>/payments/<int:payment_id>/receipt.pdf")
@login_required
def my_receipt(bill_id: int, payment_id: int):
    """A merchant opens the receipts of their own bills."""
    if current_user.role != "merchant" or current_user.merchant_id is None:
        abort(403)
    bill = fee_queries.merchant_bill(current_user.merchant_id, bill_id)
    if bill is None:
        raise NotFound(_("Không tìm thấy biên lai."))
    return _receipt_pdf(payment_id, bill.market_id, bill.id)
