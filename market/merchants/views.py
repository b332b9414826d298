from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from market.extensions import db
from market.markets.models import Stall
from market.merchants.services import current_payee
from market.payments import coverage
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
