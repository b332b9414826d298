from __future__ import annotations

import time
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from market.auth.models import utcnow
from market.errors import InvalidInput, error_body
from market.extensions import db
from market.formatting import number, to_local
from market.limits import heavy_request
from market.markets.models import Stall
from market.merchants.models import Merchant
from market.merchants.services import current_payee
from market.payments import board, coverage, queries
from market.payments.queries import merchant_stalls
from market.payments.views import history_page, statement_response
from market.vietqr import bank_by_bin

bp = Blueprint("merchants", __name__, url_prefix="/me")

#: Asked by the listening phone with its listen key, not its session (market.payments.board).
KEYED_ENDPOINTS = frozenset({"merchants.listen_changes"})
LISTEN_KEY_HEADER = "X-Listen-Key"


@login_required
def _merchants_only():
    if current_user.role != "merchant" or current_user.merchant_id is None:
        abort(403)


@bp.before_request
def merchants_only():
    if request.endpoint in KEYED_ENDPOINTS:
        return None
    return _merchants_only()


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


# --- the listening screen ----------------------------------------------------------------------


def _no_store(response) -> Response:
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


def heard_payment(payment: queries.HeardPayment) -> dict:
    """One payment as listen.js shows and says it; numbers and sentences made here, in the
    reader's language."""
    local = to_local(payment.transaction_at)
    parts = [local.strftime("%H:%M"), _("Sạp %(code)s", code=payment.stall_code)]
    if payment.order_reference:
        parts.append(_("Đơn %(ref)s", ref=payment.order_reference))
    else:
        parts.append(_("quét tem QR"))
    return {
        "id": payment.id,
        "stall": payment.stall_code,
        "market": payment.market_code,
        "amount": payment.amount,
        "amount_text": number(payment.amount),
        "payer_name": payment.payer_name,
        "at": payment.transaction_at.isoformat(),
        "time_text": local.strftime("%H:%M"),
        "day": local.date().isoformat(),
        "kind": payment.kind,
        "order_reference": payment.order_reference,
        "day_total": payment.day_total,
        "day_total_text": number(payment.day_total),
        "label": " · ".join(parts),
        "speech": _("Đã nhận %(amount)s đồng", amount=number(payment.amount)),
    }


def heard_page(page: queries.HeardPage, today: str, asked_at: float) -> dict:
    return {
        "cursor": page.cursor,
        "seen": page.seen,
        # When this answer was read (server clock): a late payment seen after it is news.
        "asked_at": asked_at,
        "more": page.more,
        "today": today,
        "today_total": page.today_total,
        "today_total_text": number(page.today_total),
        "today_count": page.today_count,
        "payments": [heard_payment(p) for p in page.payments],
        # A fresh key with every answer: a screen left open for days keeps a good one.
        "key": board.listen_key(current_user.merchant_id),
    }


@bp.route("/listen")
def listen():
    """The soundbox: left open all day, it announces every payment to the merchant's stalls."""
    asked_at, now = time.time(), utcnow()
    page = queries.merchant_payments_today(
        current_user.merchant_id, now=now, settled=board.board().settled()
    )
    state = heard_page(page, queries.today_in_vietnam(now).isoformat(), asked_at)
    return _no_store(
        render_template(
            "merchants/listen.html",
            page=page,
            state=state,
            payments=state["payments"],
            merchant_id=current_user.merchant_id,
            wait=int(current_app.config["LISTEN_WAIT_SECONDS"]),
        )
    )


def _number_argument(name: str) -> int:
    raw = request.args.get(name, "0").strip()
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidInput({name: [_("Phải là một số nguyên không âm.")]})
    return int(raw)


@bp.route("/listen/payments.json")
def listen_payments():
    """The merchant's payments after the phone's cursor, oldest first, with the day's running
    totals; the next cursor stays where a late commit cannot be stepped over."""
    after = _number_argument("after")
    asked_at, now = time.time(), utcnow()
    page = queries.merchant_payments_after(
        current_user.merchant_id, after, now=now, settled=board.board().settled()
    )
    today = queries.today_in_vietnam(now).isoformat()
    return _no_store(jsonify(heard_page(page, today, asked_at)))


@bp.route("/listen/changes")
def listen_changes():
    """204 when nothing arrived for the key's merchant that a phone which has seen ids up to
    ``seen`` and last asked for the payments at ``asked`` (the answer's ``asked_at``) lacks,
    else 200 (then it asks listen_payments). Loads no user and reads no table (the board
    does, twice a second per worker). With ``wait`` (seconds, up to the setting
    ``LISTEN_WAIT_SECONDS``) it is a long poll: it answers when there is news or the time
    is up."""
    merchant_id = board.merchant_of_key(request.headers.get(LISTEN_KEY_HEADER))
    if merchant_id is None:
        response = jsonify(error_body(403, _("Khóa nghe không hợp lệ hoặc đã hết hạn.")))
        response.status_code = 403
        return _no_store(response)
    seen = _number_argument("seen")
    try:
        asked = float(request.args.get("asked", "0"))
    except ValueError:
        raise InvalidInput({"asked": [_("Phải là một số.")]}) from None
    wait = min(float(_number_argument("wait")), current_app.config["LISTEN_WAIT_SECONDS"])
    if not request.environ.get("wsgi.multithread"):
        # A sync worker answers at once, whatever the setting: a held question would hold
        # the whole worker (a phone whose question reaches the wrong pool polls instead).
        wait = 0
    the_board = board.board()
    if wait > 0:
        app, held = current_app._get_current_object(), board.held_for(wait)
        news = the_board.wait(app, merchant_id, seen, asked, held)
    else:
        news = the_board.has_news(merchant_id, seen, asked)
    if news:
        return _no_store(jsonify({"news": True}))
    return _no_store(Response(status=204))


_WORKER = Path(__file__).resolve().parent.parent / "static" / "listen-sw.js"


@bp.route("/listen/sw.js")
def listen_worker():
    """The screen's service worker. Served here, not from /static/, so that its scope may be
    the screen itself (``Service-Worker-Allowed``); revalidated on every update check."""
    response = Response(_WORKER.read_bytes(), mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = url_for("merchants.listen")
    response.headers["Cache-Control"] = "no-cache"
    return response
