from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from market.extensions import db
from market.limits import heavy_request
from market.markets.models import Stall
from market.merchants.models import Merchant
from market.merchants.services import current_payee
from market.payments import coverage
from market.payments.queries import merchant_stalls
from market.payments.views import history_page, statement_response
from market.vietqr import bank_by_bin

bp = Blueprint("merchants", __name__, url_prefix="/me")


@bp.before_request
@login_required
def merchants_only():
    if current_user.role != "merchant" or current_user.merchant_id is None:
        abort(403)


@bp.route("/")
def my_stalls():
    stalls = db.session.scalars(
        select(Stall).where(Stall.merchant_id == current_user.merchant_id).order_by(Stall.code)
    ).all()
    watchers = coverage.watchers()
    rows = []
    for stall in stalls:
        payee = current_payee(stall)
        bank = bank_by_bin(payee.bank_bin) if payee else None
        rows.append((stall, payee, bank, payee is not None and payee.account_number in watchers))
    return render_template("merchants/my_stalls.html", rows=rows)


@bp.route("/history")
def history():
    """My payments on any day (``?day=``), the day's close, and my monthly statements."""
    return _history_page()


def _history_page(**kwargs):
    merchant = db.session.get(Merchant, current_user.merchant_id)
    return history_page(
        merchant,
        merchant_stalls(merchant.id),
        page_endpoint="merchants.history",
        statement_endpoint="merchants.statement",
        **kwargs,
    )


@bp.route("/statement.<fmt>")
@heavy_request
def statement(fmt: str):
    """My statement of a month (``?month=YYYY-MM``): every payment my stalls received."""
    merchant = db.session.get(Merchant, current_user.merchant_id)
    return statement_response(merchant, merchant_stalls(merchant.id), fmt, _history_page)
