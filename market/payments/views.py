"""Pages of the payments domain: the shopper's pay page, the merchant's collect screen and day
view, a merchant's history (any past day, its close, the monthly statements; the merchant's
own routes are in market/merchants/views.py and call the helpers here), and the admin's
webhook settings and review of unmatched payments."""

from __future__ import annotations

import functools
import hashlib
import re
import tempfile
from datetime import date, timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from market.auth import permissions
from market.auth.models import utcnow
from market.errors import InvalidInput, NotFound
from market.extensions import db, limiter
from market.formatting import group_separator, number, to_local
from market.limits import heavy_request
from market.markets.models import Stall
from market.markets.views import market_or_404
from market.merchants.models import Merchant
from market.merchants.queries import payee_payload
from market.payments import queries, services
from market.payments.forms import (
    AssignPaymentForm,
    CollectForm,
    IntegrationForm,
    IntegrationSettingsForm,
    NotASaleForm,
    PayAmountForm,
)
from market.payments.health import integration_health
from market.payments.models import (
    PROVIDERS,
    CollectOrder,
    PaymentNotification,
    WebhookIntegration,
)
from market.payments.schemas import OrderStatusSchema
from market.qr import render_pay_card
from market.qr.statements import (
    StatementHeader,
    StatementLabels,
    StatementLine,
    write_statement_pdf,
)
from market.spreadsheets import to_xlsx
from market.vietqr import VietQRError, bank_app_link, bank_apps, bank_by_bin, transliterate

bp = Blueprint("payments", __name__)

PROVIDER_LABELS = {"sepay": "SePay", "casso": "Casso"}


def _stall_or_404(market_code: str, stall_code: str) -> Stall:
    stall = queries.stall_by_codes(market_code, stall_code)
    if stall is None:
        raise NotFound(_("Không tìm thấy sạp “%(code)s”.", code=stall_code))
    return stall


def _qr_url(stall: Stall, **args: Any) -> str:
    return url_for(
        "stickers.stall_qr",
        market_code=stall.market.code,
        stall_code=stall.code,
        fmt="svg",
        **{k: v for k, v in args.items() if v},
    )


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _no_store(response):
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- shopper ------------------------------------------------------------------------------------


def _pay_arguments() -> tuple[PayAmountForm, int | None, str | None]:
    """The pay page's and the card's query: an optional amount and order reference, each
    checked (its errors on the form) and ``None`` when absent or wrong."""
    form = PayAmountForm(request.args)
    amount = ref = None
    if (request.args.get("amount") or "").strip() and form.amount.validate(form):
        amount = form.amount.data
    if form.ref.validate(form):
        ref = form.ref.data
    return form, amount, ref


@bp.route("/pay/<market_code>/<stall_code>")
def pay(market_code: str, stall_code: str):
    """Public and light: the stall's static QR, and a dynamic one for a typed amount; for a
    shopper on the phone they pay with, copy buttons, a saved QR card and bank app links."""
    stall = _stall_or_404(market_code, stall_code)
    payee = queries.payable_payee(stall)
    form, amount, ref = _pay_arguments()
    status = 422 if form.errors else 200
    bank = bank_by_bin(payee.bank_bin)
    return (
        render_template(
            "payments/pay.html",
            stall=stall,
            market=stall.market,
            payee=payee,
            bank=bank,
            form=form,
            amount=amount,
            ref=ref,
            amount_text=number(amount) if amount else None,
            static_qr=_qr_url(stall, purpose=ref),
            dynamic_qr=_qr_url(stall, amount=amount, purpose=ref) if amount else None,
            qr_base=_qr_url(stall, purpose=ref),
            by_link=_pay_by_link(stall, payee, bank, amount=amount, ref=ref),
        ),
        status,
    )


def _pay_by_link(stall: Stall, payee, bank, *, amount: int | None, ref: str | None):
    """What a shopper paying from this very phone needs: the saved card's URL and a link per
    bank app (none for a bank whose code no app takes). The links leave out the optional name
    and return address (``bn``, ``url``): 37 of them would double the page's weight for fields
    the apps look up anyway."""
    codes = {"market_code": stall.market.code, "stall_code": stall.code}
    args = {k: v for k, v in (("amount", amount), ("ref", ref)) if v}
    apps = []
    if bank is not None:
        try:
            for app in bank_apps():
                link = bank_app_link(
                    app.app_id,
                    account=payee.account_number,
                    bank_code=bank.code,
                    amount=amount,
                    content=ref,
                )
                apps.append({"app": app, "link": link})
        except VietQRError:
            apps = []
    return {
        "card_url": url_for("payments.pay_card", **codes, **args),
        "apps": apps,
    }


def card_file_name(stall: Stall, amount: int | None, ref: str | None) -> str:
    """``QR-sap-A-01-25000d.png``: a name a shopper finds again in their downloads."""
    parts = ["QR-sap", stall.code]
    if amount:
        parts.append(f"{amount}d")
    if ref:
        parts.append(ref)
    return re.sub(r"[^A-Za-z0-9-]+", "-", transliterate("-".join(parts))).strip("-") + ".png"


@functools.lru_cache(maxsize=512)
def _card_png(payload: str, title: str, lines: tuple[str, ...]) -> bytes:
    return render_pay_card(payload, title=title, lines=lines)


def _pay_card_limit() -> str:
    return current_app.config["PAY_CARD_RATE_LIMIT"]


@bp.route("/pay/<market_code>/<stall_code>/qr-card.png")
@limiter.limit(_pay_card_limit)
def pay_card(market_code: str, stall_code: str):
    """Public: the pay page's QR as a PNG card (code, stall, amount) to save to the gallery.
    Same rules and arguments as the page; a download, revalidated like the QR images."""
    stall = _stall_or_404(market_code, stall_code)
    payee = queries.payable_payee(stall)
    form, amount, ref = _pay_arguments()
    if form.errors:
        raise InvalidInput(form.errors)
    bank = bank_by_bin(payee.bank_bin)
    payload = payee_payload(payee, amount=amount, purpose=ref)
    lines = [
        f"{number(amount)} ₫" if amount else _("Nhập số tiền trong ứng dụng"),
        f"{payee.holder_name} · {bank.short_name if bank else payee.bank_bin}",
    ]
    if ref:
        lines.append(_("Nội dung: %(ref)s", ref=ref))
    title = f"{_('Sạp %(code)s', code=stall.code)} · {stall.market.name}"
    png = _card_png(payload, title[:80], tuple(line[:80] for line in lines))
    response = Response(png, mimetype="image/png")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{card_file_name(stall, amount, ref)}"'
    )
    response.set_etag(hashlib.sha256(png).hexdigest()[:32])
    response.headers["Cache-Control"] = "public, no-cache"
    return response.make_conditional(request)


# --- merchant collect mode ---------------------------------------------------------------------


def _own_stall(market_code: str, stall_code: str) -> Stall:
    stall = _stall_or_404(market_code, stall_code)
    if current_user.role != "merchant":
        abort(403)
    if not services.can_collect(current_user, stall):
        raise NotFound(_("Không tìm thấy sạp “%(code)s”.", code=stall_code))
    return stall


def _own_order(order_id: int) -> CollectOrder:
    order = db.session.get(CollectOrder, order_id)
    if current_user.role != "merchant":
        abort(403)
    if order is None or not services.can_collect(current_user, order.stall):
        raise NotFound(_("Không tìm thấy đơn thu tiền."))
    return order


def _shared_url(endpoint: str, stall: Stall, amount: int, reference: str) -> str:
    return url_for(
        endpoint,
        market_code=stall.market.code,
        stall_code=stall.code,
        amount=amount or None,
        ref=reference,
        _external=endpoint == "payments.pay",
    )


def order_status(order: CollectOrder) -> dict[str, Any]:
    """What the collect screen shows and says; numbers are formatted here, not in the browser."""
    amount, received = order.amount, order.received_amount
    # What the QR asks for now: the whole amount, what is still missing after a short payment
    # (the same reference, so the second transfer adds to this order), or nothing once paid.
    due = max(amount - received, 0) if order.status == "short" else amount
    if order.status == "paid":
        message = _("Đã nhận đủ %(amount)s đồng", amount=number(received))
        speech = _("Đã nhận %(amount)s đồng", amount=number(received))
        shown_label = _("Đã nhận")
        shown = received
    elif order.status == "short":
        missing = number(due)
        shown_label = _("Còn thiếu — khách quét mã để chuyển nốt")
        shown = due
        message = _(
            "CHƯA ĐỦ: mới nhận %(received)s đồng, còn thiếu %(missing)s đồng",
            received=number(received),
            missing=missing,
        )
        # Said aloud too, but never in words that could pass for "paid".
        speech = _(
            "Chưa đủ tiền. Mới nhận %(received)s đồng, còn thiếu %(missing)s đồng",
            received=number(received),
            missing=missing,
        )
    else:
        message = _("Đang chờ khách chuyển %(amount)s đồng", amount=number(amount))
        speech = None
        shown_label = _("Số tiền khách cần chuyển")
        shown = amount
    stall = order.stall
    payee = queries.payable_payee(stall)
    return OrderStatusSchema().dump(
        {
            "reference": order.reference,
            "status": order.status,
            "amount": amount,
            "received_amount": received,
            "amount_text": number(amount),
            "received_text": number(received),
            "due_amount": 0 if order.status == "paid" else due,
            "shown_label": shown_label,
            "shown_text": number(shown),
            "message": message,
            "speech": speech,
            "paid_at": order.paid_at,
            "payload": payee_payload(payee, amount=due, purpose=order.reference),
            "qr_url": _qr_url(stall, amount=due, purpose=order.reference),
            # For a shopper who pays by link instead of scanning: the pay page and the card
            # ask for the same amount under the same reference.
            "pay_url": _shared_url("payments.pay", stall, due, order.reference),
            "card_url": _shared_url("payments.pay_card", stall, due, order.reference),
            "status_url": url_for("payments.collect_status", order_id=order.id),
            "order_url": url_for("payments.collect_order", order_id=order.id),
        }
    )


@bp.route("/collect/<market_code>/<stall_code>", methods=["GET", "POST"])
@login_required
def collect(market_code: str, stall_code: str):
    stall = _own_stall(market_code, stall_code)
    payee = queries.payable_payee(stall)
    form = CollectForm()
    if form.validate_on_submit():
        order = services.create_order(current_user, stall, form.amount.data)
        if _wants_json():
            return _no_store(make_response(jsonify(order_status(order)), 201))
        return redirect(url_for("payments.collect_order", order_id=order.id))
    if form.errors and _wants_json():
        return jsonify(
            {"error": {"status": 422, "message": _("Dữ liệu chưa đúng."), "fields": form.errors}}
        ), 422
    return render_template(
        "payments/collect.html", stall=stall, payee=payee, form=form
    ), 422 if form.errors else 200


@bp.route("/collect/orders/<int:order_id>")
@login_required
def collect_order(order_id: int):
    order = _own_order(order_id)
    return _no_store(
        render_template(
            "payments/collect_order.html",
            stall=order.stall,
            order=order,
            status=order_status(order),
        )
    )


@bp.route("/collect/orders/<int:order_id>/status.json")
@login_required
def collect_status(order_id: int):
    order = _own_order(order_id)
    return _no_store(jsonify(order_status(order)))


@bp.route("/collect/<market_code>/<stall_code>/today")
@login_required
def today(market_code: str, stall_code: str):
    stall = _own_stall(market_code, stall_code)
    day = queries.received_payments(stall, queries.today_in_vietnam(utcnow()))
    return _no_store(render_template("payments/today.html", stall=stall, day=day))


# --- admin ---------------------------------------------------------------------------------------


def _admin_only() -> None:
    if current_user.role != "admin":
        abort(403)


#: The refusal reasons (models.REFUSAL_REASONS) as the admin screen names them.
REFUSAL_LABELS = {
    "bad_signature": _l("Sai chữ ký hoặc API key"),
    "missing_signature": _l("Thiếu chữ ký"),
    "stale_timestamp": _l("Quá hạn (thời điểm ký lệch quá 5 phút)"),
    "bad_timestamp": _l("Thời điểm ký không đọc được"),
    "no_secret": _l("Chưa có khóa bí mật"),
    "wrong_shape": _l("Nội dung sai định dạng"),
    "disabled": _l("Tích hợp đang tắt"),
}


def _integration_url(integration: WebhookIntegration) -> str:
    if integration.name:
        return url_for(
            "webhooks.named", provider=integration.provider, name=integration.name, _external=True
        )
    return url_for(f"webhooks.{integration.provider}", _external=True)


def _integrations_page(shown_secret=None, shown_label=None, status=200):
    config = current_app.config
    found = queries.all_integrations()
    response = render_template(
        "payments/integrations.html",
        health=integration_health(
            found,
            now=utcnow(),
            hours=config["MARKET_HOURS"],
            threshold_minutes=config["INTEGRATION_SILENCE_MINUTES"],
        ),
        labels=PROVIDER_LABELS,
        refusal_labels=REFUSAL_LABELS,
        shown_secret=shown_secret,
        shown_label=shown_label,
        urls={i.id: _integration_url(i) for i in found},
        main_urls={p: url_for(f"webhooks.{p}", _external=True) for p in PROVIDERS},
        market_hours=["{:02d}:{:02d}".format(*divmod(m, 60)) for m in config["MARKET_HOURS"]],
        silence_minutes=config["INTEGRATION_SILENCE_MINUTES"],
    )
    return _no_store(make_response(response, status))


@bp.route("/admin/webhooks")
@login_required
def integrations():
    _admin_only()
    return _integrations_page()


@bp.route("/admin/webhooks/<provider>", methods=["POST"])
@login_required
def save_integration(provider: str):
    """The provider's main integration in one post (mode, secret, on/off): kept for scripts
    and older bookmarks; the screen itself edits every integration at .../<id>/edit."""
    _admin_only()
    if provider not in PROVIDERS:
        raise NotFound()
    # No page carries this form any more, so no token of its own: the app-wide CSRFProtect
    # has already checked the request's token (any field ending in csrf_token) by now.
    form = IntegrationForm(prefix=provider, meta={"csrf": False})
    if not form.validate_on_submit():
        for messages in form.errors.values():
            for message in messages:
                flash(message, "error")
        return _integrations_page(status=422)
    try:
        integration, shown = services.save_integration(
            current_user,
            provider,
            auth_mode=form.auth_mode.data,
            enabled=form.enabled.data,
            secret=form.secret.data,
            generate=form.generate.data,
        )
    except InvalidInput as exc:
        for messages in exc.errors.values():
            for message in messages:
                flash(message, "error")
        return _integrations_page(status=422)
    # Shown on this answer only (never flashed: the session cookie is signed, not encrypted).
    return _integrations_page(shown_secret=shown, shown_label=integration.label)


def _integration_or_404(integration_id: int) -> WebhookIntegration:
    found = db.session.get(WebhookIntegration, integration_id)
    if found is None:
        raise NotFound(_("Không tìm thấy tích hợp."))
    return found


def _settings_page(form, integration=None, *, shown_secret=None, status=200):
    response = render_template(
        "payments/integrations_form.html",
        form=form,
        integration=integration,
        url=_integration_url(integration) if integration else None,
        labels=PROVIDER_LABELS,
        shown_secret=shown_secret,
    )
    return _no_store(make_response(response, status))


def _save_settings(form: IntegrationSettingsForm, integration: WebhookIntegration | None):
    if not form.validate_on_submit():
        return _settings_page(form, integration, status=422)
    try:
        saved, shown = services.configure_integration(
            current_user,
            integration,
            provider=form.provider.data,
            name=form.name.data,
            auth_mode=form.auth_mode.data,
            enabled=form.enabled.data,
            accounts=services.account_list(form.accounts.data),
            secret=form.secret.data,
            generate=form.generate.data,
            api_token=form.api_token.data,
            remove_api_token=form.remove_api_token.data,
        )
    except InvalidInput as exc:
        for name, messages in exc.errors.items():
            field = getattr(form, name, None)
            if field is not None:
                field.errors = [*field.errors, *messages]
            else:
                flash(" ".join(messages), "error")
        return _settings_page(form, integration, status=422)
    if shown is not None:
        # The new secret, shown on this answer only, on the saved integration's form.
        return _settings_page(
            _settings_form(saved, formdata=None), saved, shown_secret=shown, status=200
        )
    flash(_("Đã lưu tích hợp %(label)s.", label=saved.label), "success")
    return redirect(url_for("payments.integrations"))


def _settings_form(integration: WebhookIntegration | None, **kwargs) -> IntegrationSettingsForm:
    if integration is None:
        return IntegrationSettingsForm(**kwargs)
    return IntegrationSettingsForm(
        provider=integration.provider,
        name=integration.name,
        auth_mode=integration.auth_mode,
        enabled=integration.enabled,
        accounts="\n".join(a.account_number for a in integration.accounts),
        **kwargs,
    )


@bp.route("/admin/webhooks/new", methods=["GET", "POST"])
@login_required
def new_integration():
    _admin_only()
    form = _settings_form(None)
    if request.method == "GET":
        return _settings_page(form)
    return _save_settings(form, None)


@bp.route("/admin/webhooks/<int:integration_id>/edit", methods=["GET", "POST"])
@login_required
def edit_integration(integration_id: int):
    _admin_only()
    integration = _integration_or_404(integration_id)
    if request.method == "GET":
        return _settings_page(_settings_form(integration), integration)
    form = IntegrationSettingsForm()
    # Provider and name are fixed once made (the name is in the provider's webhook URL).
    form.provider.data, form.name.data = integration.provider, integration.name
    return _save_settings(form, integration)


# --- the unmatched list, worked off ---------------------------------------------------------


def _reviewer_only() -> None:
    if current_user.role not in ("admin", "manager"):
        abort(403)


def _assign_form(**kwargs) -> AssignPaymentForm:
    form = AssignPaymentForm(**kwargs)
    form.market_code.choices = [
        (m.code, f"{m.name} ({m.code})") for m in queries.review_markets(current_user)
    ]
    return form


def _prefix(notification_id: int) -> str:
    """Each payment's two forms have their own field names and ids on the one page."""
    return f"p{notification_id}"


def _unmatched_page(failed: int | None = None, forms=None, status: int = 200):
    notifications = queries.unmatched_for(current_user)
    rows = []
    for n in notifications:
        if failed == n.id and forms:
            assign, dismiss = forms
        else:
            assign = _assign_form(formdata=None, prefix=_prefix(n.id))
            dismiss = NotASaleForm(formdata=None, prefix=_prefix(n.id))
        rows.append({"n": n, "assign": assign, "dismiss": dismiss})
    response = render_template("payments/unmatched.html", rows=rows)
    return _no_store(make_response(response, status))


def _reviewed_notification(notification_id: int) -> PaymentNotification:
    _reviewer_only()
    notification = db.session.get(PaymentNotification, notification_id)
    if notification is None or not services.can_review(current_user, notification):
        raise NotFound(_("Không tìm thấy khoản tiền này."))
    return notification


@bp.route("/admin/payments/unmatched")
@login_required
def unmatched():
    _reviewer_only()
    return _unmatched_page()


@bp.route("/admin/payments/unmatched/<int:notification_id>/assign", methods=["POST"])
@login_required
def assign_unmatched(notification_id: int):
    notification = _reviewed_notification(notification_id)
    form = _assign_form(prefix=_prefix(notification_id))
    dismiss = NotASaleForm(formdata=None, prefix=_prefix(notification_id))
    if form.validate_on_submit():
        stall = queries.stall_by_codes(form.market_code.data, (form.stall_code.data or "").strip())
        try:
            if stall is None:
                raise InvalidInput({"stall_code": [_("Không có sạp này ở chợ đã chọn.")]})
            services.assign_unmatched(current_user, notification, stall, note=form.note.data)
        except InvalidInput as exc:
            for name, messages in exc.errors.items():
                field = getattr(form, name, None)
                if field is not None:
                    field.errors = [*field.errors, *messages]
            return _unmatched_page(notification_id, (form, dismiss), status=422)
        flash(
            _(
                "Đã ghi khoản %(amount)s đồng cho sạp %(code)s.",
                amount=number(notification.amount),
                code=stall.code,
            ),
            "success",
        )
        return redirect(url_for("payments.unmatched"))
    return _unmatched_page(notification_id, (form, dismiss), status=422)


@bp.route("/admin/payments/unmatched/<int:notification_id>/not-a-sale", methods=["POST"])
@login_required
def dismiss_unmatched(notification_id: int):
    notification = _reviewed_notification(notification_id)
    form = NotASaleForm(prefix=_prefix(notification_id))
    assign = _assign_form(formdata=None, prefix=_prefix(notification_id))
    if form.validate_on_submit():
        try:
            services.dismiss_unmatched(current_user, notification, form.reason.data)
        except InvalidInput as exc:
            form.reason.errors = [*form.reason.errors, *exc.errors.get("reason", [])]
            return _unmatched_page(notification_id, (assign, form), status=422)
        flash(_("Đã đánh dấu: không phải tiền bán hàng."), "success")
        return redirect(url_for("payments.unmatched"))
    return _unmatched_page(notification_id, (assign, form), status=422)


# --- history: any past day, the close of a day, the month's statement ------------------------

STATEMENT_FORMATS = ("pdf", "xlsx")
#: No payment is older (VietQR itself dates from 2021); bounds the dates a URL can ask for.
EARLIEST_DAY = date(2000, 1, 1)


def day_argument(today):
    """``?day=YYYY-MM-DD`` (a Vietnam day, not after today); today when absent."""
    raw = (request.args.get("day") or "").strip()
    if not raw:
        return today
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            {"day": [_("Ngày “%(v)s” không hợp lệ: chọn một ngày trong lịch.", v=raw[:20])]}
        ) from None
    if day > today:
        raise InvalidInput({"day": [_("Ngày %(d)s chưa tới.", d=day.strftime("%d/%m/%Y"))]})
    if day < EARLIEST_DAY:
        raise InvalidInput({"day": [_("Chọn một ngày từ năm 2000 trở đi.")]})
    return day


def month_argument(today):
    """``?month=YYYY-MM`` (the first of that month, not after this month); this month when
    absent."""
    raw = (request.args.get("month") or "").strip()
    if not raw:
        return today.replace(day=1)
    try:
        month = date.fromisoformat(f"{raw}-01") if len(raw) == 7 else None
    except ValueError:
        month = None
    if month is None:
        raise InvalidInput(
            {"month": [_("Tháng “%(v)s” không hợp lệ: viết dạng 2026-11.", v=raw[:20])]}
        )
    if month > today.replace(day=1):
        raise InvalidInput({"month": [_("Tháng %(m)s chưa tới.", m=month.strftime("%m/%Y"))]})
    if month < EARLIEST_DAY:
        raise InvalidInput({"month": [_("Chọn một tháng từ năm 2000 trở đi.")]})
    return month


def history_page(
    merchant,
    stalls,
    *,
    market=None,
    statement_endpoint,
    page_endpoint,
    errors=None,
    **codes,
):
    """A merchant's payments on one day (``?day=``) with its close-of-day summary, and the
    links to the month's statements: the merchant's own page and the managers' alike. A bad
    day (or a bad month from a statement link) shows today's page with the field's message
    (422); a JSON client gets the fields."""
    today = queries.today_in_vietnam(utcnow())
    errors = dict(errors or {})
    try:
        day = day_argument(today)
    except InvalidInput as exc:
        if _wants_json():
            raise
        errors.update(exc.errors)
        day = today
    received = queries.received_payments(stalls, day)
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    response = render_template(
        "merchants/history.html",
        merchant=merchant,
        market=market,
        stalls=stalls,
        markets=sorted({s.market.name for s in stalls}),
        received=received,
        close=queries.close_of_day(received, stalls),
        several_stalls=len(stalls) > 1,
        today=today,
        previous_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1) if day < today else None,
        months=[this_month, last_month],
        errors=errors,
        local_time=lambda at: to_local(at).strftime("%H:%M"),
        page_url=functools.partial(url_for, page_endpoint, **codes),
        statement_url=functools.partial(url_for, statement_endpoint, **codes),
    )
    return _no_store(make_response(response, 422 if errors else 200))


def statement_labels() -> StatementLabels:
    """The statement's words in the reader's language (the msgids are the Vietnamese)."""
    return StatementLabels(
        title=_("Bảng kê tiền nhận qua chuyển khoản"),
        merchant=_("Tiểu thương:"),
        markets=_("Chợ:"),
        stalls=_("Sạp:"),
        month=_("Tháng %(month)s"),
        summary=_("%(count)s khoản, tổng %(total)s đồng"),
        generated=_("Lập lúc %(when)s"),
        time=_("Ngày giờ"),
        stall=_("Sạp"),
        amount=_("Số tiền (đồng)"),
        payer=_("Người chuyển"),
        reference=_("Mã tham chiếu"),
        day_total=_("Cộng ngày %(day)s: %(count)s khoản"),
        daily_totals=_("Tổng theo ngày"),
        day=_("Ngày"),
        count=_("Số khoản"),
        month_total=_("Tổng cả tháng"),
        empty=_("Tháng này chưa nhận khoản tiền nào."),
        page=_("Trang %(page)s"),
        group_separator=group_separator(),
    )


def _statement_lines(stalls, month):
    for at, stall_code, amount, payer, reference, _content, _order in queries.month_received_rows(
        stalls, month
    ):
        yield StatementLine(
            at=to_local(at).replace(tzinfo=None),
            stall=stall_code,
            amount=int(amount),
            payer=payer or "",
            reference=reference or "",
        )


def _statement_xlsx(header: StatementHeader, stalls, month) -> bytes:
    """The same statement as a workbook: one row per payment (numbers and dates stay
    numbers and dates, to add up in Excel), then a sheet of daily totals."""
    labels = header.labels
    days: dict[date, list[int]] = {}

    def payments():
        yield [labels.title, labels.month % {"month": month.strftime("%m/%Y")}]
        yield [labels.merchant, header.merchant_name]
        yield [labels.markets, ", ".join(header.market_names)]
        yield [labels.stalls, ", ".join(header.stall_codes)]
        yield []
        yield [
            labels.time,
            labels.stall,
            labels.amount,
            labels.payer,
            labels.reference,
            _("Nội dung"),
            _("Đơn"),
        ]
        for at, stall_code, amount, payer, reference, content, order in queries.month_received_rows(
            stalls, month
        ):
            local = to_local(at).replace(tzinfo=None)
            tally = days.setdefault(local.date(), [0, 0])
            tally[0] += 1
            tally[1] += int(amount)
            yield [local, stall_code, int(amount), payer or "", reference or "", content, order]

    def daily():
        yield [labels.day, labels.count, labels.amount]
        for day in sorted(days):
            yield [day, *days[day]]
        yield [
            labels.month_total,
            sum(n for n, _t in days.values()),
            sum(t for _n, t in days.values()),
        ]

    return to_xlsx([(_("Bảng kê"), payments()), (labels.daily_totals, daily())])


def statement_response(merchant, stalls, fmt: str, page):
    """The month's (``?month=``) statement of ``stalls`` as a PDF or XLSX download; a bad
    month shows ``page`` (the history page) with the field's message."""
    if fmt not in STATEMENT_FORMATS:
        raise NotFound()
    today = queries.today_in_vietnam(utcnow())
    try:
        month = month_argument(today)
    except InvalidInput as exc:
        if _wants_json():
            raise
        return page(errors=exc.errors)
    count, total = queries.month_received_totals(stalls, month)
    header = StatementHeader(
        merchant_name=merchant.full_name,
        market_names=tuple(sorted({s.market.name for s in stalls})),
        stall_codes=tuple(s.code for s in stalls),
        month=month,
        generated_at=to_local(utcnow()).strftime("%d/%m/%Y %H:%M"),
        count=count,
        total=total,
        labels=statement_labels(),
    )
    name = re.sub(r"[^A-Za-z0-9-]+", "-", transliterate(merchant.full_name)).strip("-")
    filename = f"bang-ke-{name or merchant.id}-{month:%Y-%m}.{fmt}"
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "private, no-store",
    }
    if fmt == "xlsx":
        return Response(
            _statement_xlsx(header, stalls, month),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers=headers,
        )
    # Pages stream to a spooled file (like the sticker kits), so memory stays bounded
    # however many payments the month holds; the rows come from the database in batches.
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    try:
        write_statement_pdf(header, _statement_lines(stalls, month), out)
    except BaseException:
        out.close()
        raise
    out.seek(0)

    def chunks():
        try:
            while chunk := out.read(256 * 1024):
                yield chunk
        finally:
            out.close()

    return Response(chunks(), mimetype="application/pdf", headers=headers)


def _merchant_of_market(code: str, merchant_id: int):
    """A merchant and their stalls in market ``code``, for its managers and the province;
    anyone else is refused, and a merchant with no stall there is not found."""
    if current_user.role == "merchant":
        abort(403)
    market = market_or_404(code)
    if not permissions.is_market_manager(current_user, market):
        abort(403)
    merchant = db.session.get(Merchant, merchant_id)
    stalls = queries.merchant_stalls(merchant_id, market.id) if merchant else []
    if not stalls:
        raise NotFound(_("Không tìm thấy tiểu thương này ở chợ %(name)s.", name=market.name))
    return market, merchant, stalls


@bp.route("/markets/<code>/merchants/<int:merchant_id>/history")
@login_required
def merchant_history(code: str, merchant_id: int):
    return _merchant_history_page(*_merchant_of_market(code, merchant_id))


def _merchant_history_page(market, merchant, stalls, **kwargs):
    return history_page(
        merchant,
        stalls,
        market=market,
        page_endpoint="payments.merchant_history",
        statement_endpoint="payments.merchant_statement",
        code=market.code,
        merchant_id=merchant.id,
        **kwargs,
    )


@bp.route("/markets/<code>/merchants/<int:merchant_id>/statement.<fmt>")
@heavy_request
@login_required
def merchant_statement(code: str, merchant_id: int, fmt: str):
    market, merchant, stalls = _merchant_of_market(code, merchant_id)
    page = functools.partial(_merchant_history_page, market, merchant, stalls)
    return statement_response(merchant, stalls, fmt, page)
