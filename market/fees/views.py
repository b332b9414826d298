"""The fees pages: a market's board account, fees, billing, bills, notices and meter walk
(``/markets/<code>/fees…``), and a merchant's own bills (``/me/bills…``)."""

from __future__ import annotations

import base64
import itertools
import tempfile
from datetime import datetime
from functools import lru_cache

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.auth import permissions
from market.errors import InvalidInput, NotFound
from market.extensions import db
from market.fees import queries, services
from market.fees.forms import (
    AreasForm,
    BillingForm,
    BoardAccountForm,
    ChargeForm,
    CreditNoteForm,
    FeeTypeForm,
    RateForm,
    ReadingsForm,
)
from market.fees.models import CYCLES, FEE_KINDS, FeeAccount, FeeBill
from market.fees.services import ReadingEntry
from market.fees.values import InvalidPeriod, month_of, parse_period
from market.formatting import VN_TZ
from market.limits import heavy_request
from market.markets import queries as market_queries
from market.markets.models import GOODS_CATEGORIES, Market
from market.markets.views import market_or_404
from market.merchants import values
from market.pagination import MAX_PAGE
from market.qr import render_png
from market.qr.notices import write_notices
from market.vietqr import bank_by_bin

bp = Blueprint("fees", __name__)


@lru_cache(maxsize=1024)
def _qr_png(payload: str) -> str:
    return base64.b64encode(render_png(payload)).decode("ascii")


def _staff_market(code: str) -> Market:
    """A market the current staff user works in (merchants: 403; other markets: 404)."""
    if current_user.role == "merchant":
        abort(403)
    market = market_or_404(code)
    if not permissions.can_view_fees(current_user, market):
        abort(403)
    return market


def _manager_market(code: str) -> Market:
    market = _staff_market(code)
    if not permissions.can_manage_fees(current_user, market):
        abort(403)
    return market


def _bill_or_404(market: Market, number: str) -> FeeBill:
    bill = queries.bill_by_number(market, number)
    if bill is None:
        raise NotFound(_("Không tìm thấy hóa đơn “%(n)s”.", n=number))
    return bill


def _this_month() -> str:
    return month_of(datetime.now(VN_TZ).date()).key


def _page() -> int:
    return min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)


# --- a market's fees ------------------------------------------------------------------------


def _overview(market: Market, *, account_form=None, type_form=None, billing_form=None, status=200):
    account = queries.board_account(market)
    refusal = (
        services.board_account_refusal(current_user, account)
        if account is not None and not account.verified
        else None
    )
    types = queries.fee_types(market)
    type_ids = [t.id for t in types]
    in_force = queries.rates_in_force(type_ids, parse_period(_this_month()).end)
    can_manage = permissions.can_manage_fees(current_user, market)
    if billing_form is None:
        billing_form = BillingForm(formdata=None, period=_this_month())
    return render_template(
        "fees/overview.html",
        market=market,
        account=account,
        bank=bank_by_bin(account.bank_bin) if account else None,
        history=queries.board_account_history(market)[1:6],
        refusal=refusal,
        types=types,
        in_force=in_force,
        periods=queries.billing_periods(market),
        can_manage=can_manage,
        account_form=account_form or BoardAccountForm(formdata=None),
        type_form=type_form or FeeTypeForm(formdata=None, valid_from=_this_month()),
        billing_form=billing_form,
        kinds=FEE_KINDS,
        cycles=CYCLES,
        categories=GOODS_CATEGORIES,
        this_month=_this_month(),
    ), status


@bp.route("/markets/<code>/fees")
@login_required
def overview(code: str):
    return _overview(_staff_market(code))


@bp.route("/markets/<code>/fees/account", methods=["POST"])
@login_required
def set_account(code: str):
    market = _manager_market(code)
    form = BoardAccountForm()
    if not form.validate_on_submit():
        return _overview(market, account_form=form, status=422)
    account = services.set_board_account(
        current_user,
        market,
        bank_bin=values_bin(form.bank_bin.data),
        account_number=form.account_number.data,
        holder_name=form.holder_name.data,
    )
    if account is None:
        flash(_("Tài khoản này đã là tài khoản thu phí của chợ."), "info")
    else:
        flash(
            _("Đã lưu. Một người khác (quản lý khác của chợ hoặc cán bộ tỉnh) phải xác minh."), "ok"
        )
    return redirect(url_for("fees.overview", code=market.code))


def values_bin(raw: str) -> str:
    return values.resolve_bank(raw).bin


@bp.route("/markets/<code>/fees/account/<int:account_id>/verify", methods=["POST"])
@login_required
def verify_account(code: str, account_id: int):
    market = _staff_market(code)
    account = db.session.get(FeeAccount, account_id)
    if account is None or account.market_id != market.id:
        raise NotFound()
    services.verify_board_account(current_user, account)
    flash(_("Đã xác minh tài khoản thu phí của chợ."), "ok")
    return redirect(url_for("fees.overview", code=market.code))


@bp.route("/markets/<code>/fees/types", methods=["POST"])
@login_required
def create_type(code: str):
    market = _manager_market(code)
    form = FeeTypeForm()
    if not form.validate_on_submit():
        return _overview(market, type_form=form, status=422)
    try:
        services.create_fee_type(
            current_user,
            market,
            code=form.code.data,
            name=form.name.data.strip(),
            kind=form.kind.data,
            cycle=form.cycle.data,
            unit=(form.unit.data or "").strip(),
            amount=form.amount.amount,
            valid_from=form.valid_from_date,
        )
    except InvalidInput as exc:
        db.session.rollback()
        _attach(form, exc)
        return _overview(market, type_form=form, status=422)
    flash(_("Đã thêm khoản phí."), "ok")
    return redirect(url_for("fees.overview", code=market.code))


def _attach(form, exc: InvalidInput) -> None:
    """A service's field errors shown on the form's own fields (else on the form)."""
    for name, messages in exc.errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, *messages]
        else:
            form.form_errors.extend(messages)


@bp.route("/markets/<code>/fees/types/<int:type_id>", methods=["GET", "POST"])
@login_required
def fee_type(code: str, type_id: int):
    market = _staff_market(code)
    fee = queries.fee_type_of(market, type_id)
    if fee is None:
        raise NotFound()
    form = RateForm(formdata=request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if not permissions.can_manage_fees(current_user, market):
            abort(403)
        if form.validate_on_submit():
            try:
                services.add_rate(
                    current_user,
                    fee,
                    amount=form.amount.amount,
                    valid_from=form.valid_from_date,
                    category=form.category.data or "",
                )
            except InvalidInput as exc:
                db.session.rollback()
                _attach(form, exc)
            else:
                flash(_("Đã thêm mức phí mới."), "ok")
                return redirect(url_for("fees.fee_type", code=market.code, type_id=fee.id))
        status = 422
    return _fee_type_page(market, fee, form, status=status)


def _fee_type_page(market: Market, fee, form, *, charge_form=None, status: int = 200):
    return render_template(
        "fees/fee_type.html",
        market=market,
        fee=fee,
        rates=queries.rates_of(fee),
        form=form,
        charge_form=charge_form or ChargeForm(formdata=None, period=_this_month()),
        charges=queries.charges_of(fee) if fee.kind == "one_off" else [],
        can_manage=permissions.can_manage_fees(current_user, market),
        categories=GOODS_CATEGORIES,
    ), status


@bp.route("/markets/<code>/fees/types/<int:type_id>/charges", methods=["POST"])
@login_required
def add_charge(code: str, type_id: int):
    market = _manager_market(code)
    fee = queries.fee_type_of(market, type_id)
    if fee is None or fee.kind != "one_off":
        raise NotFound()
    form = ChargeForm()
    if form.validate_on_submit():
        stall = market_queries.stall_by_code(market, form.stall.data.strip().upper())
        if stall is None:
            form.stall.errors = [_("Không tìm thấy sạp “%(code)s”.", code=form.stall.data)]
        else:
            try:
                services.add_charge(
                    current_user,
                    stall,
                    fee,
                    period_text=form.period.period.key,
                    amount=form.amount.amount,
                    note=(form.note.data or "").strip(),
                )
            except InvalidInput as exc:
                db.session.rollback()
                _attach(form, exc)
            else:
                flash(_("Đã ghi khoản thu cho sạp %(code)s.", code=stall.code), "ok")
                return redirect(url_for("fees.fee_type", code=market.code, type_id=fee.id))
    return _fee_type_page(market, fee, RateForm(formdata=None), charge_form=form, status=422)


@bp.route("/markets/<code>/fees/areas", methods=["GET", "POST"])
@login_required
def areas(code: str):
    market = _manager_market(code)
    form = AreasForm()
    errors: dict[str, list[str]] = {}
    typed: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            errors = {"_": [_("Phiên làm việc đã hết hạn. Vui lòng tải lại trang.")]}
        else:
            entries, errors, typed = _typed_areas(request.form)
            if not errors and entries:
                try:
                    changed = services.set_stall_areas(current_user, market, entries)
                except InvalidInput as exc:
                    db.session.rollback()
                    errors = exc.errors
                else:
                    flash(_("Đã lưu diện tích %(n)s sạp.", n=changed), "ok")
                    return redirect(url_for("fees.areas", code=market.code))
        status = 422 if errors else 200
    return render_template(
        "fees/areas.html",
        market=market,
        rows=queries.stall_areas(market),
        form=form,
        errors=errors,
        typed=typed,
    ), status


def _typed_areas(form) -> tuple[dict[int, int], dict[str, list[str]], dict[str, str]]:
    """``area-<stall id>`` inputs in m² ("2,5" or "2.5") as dm²; errors by stall id."""
    entries: dict[int, int] = {}
    errors: dict[str, list[str]] = {}
    typed: dict[str, str] = {}
    for key, raw in form.items():
        which, _sep, stall = key.partition("-")
        if which != "area" or not (stall.isascii() and stall.isdigit()) or len(stall) > 10:
            continue
        value = raw.strip().replace(",", ".")
        if not value:
            continue
        typed[key] = raw.strip()[:20]
        whole, _dot, part = value.partition(".")
        if not (
            whole.isascii()
            and whole.isdigit()
            and len(whole) <= 5
            and (part == "" or (part.isascii() and part.isdigit() and len(part) <= 2))
        ):
            errors[stall] = [_("Diện tích “%(v)s” phải là số m², ví dụ 2,5.", v=raw.strip()[:20])]
            continue
        dm2 = int(whole) * 100 + int((part + "00")[:2])
        if not 0 < dm2 <= 1_000_000:
            errors[stall] = [_("Diện tích phải lớn hơn 0.")]
            continue
        entries[int(stall)] = dm2
    return entries, errors, typed


@bp.route("/markets/<code>/fees/bill", methods=["POST"])
@login_required
def bill(code: str):
    market = _manager_market(code)
    form = BillingForm()
    if not form.validate_on_submit():
        return _overview(market, billing_form=form, status=422)
    result = services.bill_market(current_user, market, form.period.data.strip())
    flash(
        _(
            "Kỳ %(period)s: đã lập %(created)s hóa đơn mới (%(existing)s hóa đơn đã có, giữ nguyên).",
            period=result.period,
            created=result.created,
            existing=result.existing,
        ),
        "ok",
    )
    return redirect(url_for("fees.bills", code=market.code, period=result.period))


@bp.route("/markets/<code>/fees/bills")
@login_required
def bills(code: str):
    market = _staff_market(code)
    period = request.args.get("period", "").strip()
    if period:
        try:
            parse_period(period)
        except InvalidPeriod:
            period = ""
    page = queries.market_bills(market, period=period, page=_page())
    rows = [row[0] for row in page.items]
    return render_template(
        "fees/bills.html",
        market=market,
        page=page,
        bills=rows,
        owed=queries.owed(rows),
        period=period,
        can_print=permissions.can_manage_fees(current_user, market),
    )


@bp.route("/markets/<code>/fees/bills/<number>")
@login_required
def bill_detail(code: str, number: str):
    market = _staff_market(code)
    return _bill_page(market, _bill_or_404(market, number), CreditNoteForm(formdata=None))


def _bill_context(bill: FeeBill) -> dict:
    """What a bill's page shows, to staff and to its merchant alike: lines, what is owed,
    credit notes, payments, and the QR to the board's account for the amount due."""
    owes = queries.owed([bill])[bill.id]
    account = queries.paying_account(bill.market_id)
    payload = queries.bill_qr_payload(bill, owes.due, account)
    return {
        "bill": bill,
        "lines": queries.bill_lines(bill),
        "owes": owes,
        "credit_notes": queries.credit_notes_of(bill),
        "payments": queries.payments_of(bill),
        "account": account,
        "bank": bank_by_bin(account.bank_bin) if account else None,
        "qr": _qr_png(payload) if payload else None,
        "period_label": queries.period_label(bill),
    }


def _bill_page(market: Market, bill: FeeBill, form, status: int = 200):
    context = _bill_context(bill)
    owes = context["owes"]
    return render_template(
        "fees/bill.html",
        market=market,
        form=form,
        can_credit=permissions.can_manage_fees(current_user, market) and owes.total > owes.credited,
        **context,
    ), status


@bp.route("/markets/<code>/fees/bills/<number>/credit", methods=["POST"])
@login_required
def credit_note(code: str, number: str):
    market = _manager_market(code)
    bill = _bill_or_404(market, number)
    form = CreditNoteForm()
    if form.validate_on_submit():
        try:
            note = services.issue_credit_note(
                current_user, bill, amount=form.amount.amount, reason=form.reason.data
            )
        except InvalidInput as exc:
            db.session.rollback()
            _attach(form, exc)
        else:
            flash(_("Đã lập phiếu giảm trừ %(n)s.", n=note.number), "ok")
            return redirect(url_for("fees.bill_detail", code=market.code, number=bill.number))
    return _bill_page(market, bill, form, 422)


def _pdf_response(write, filename: str) -> Response:
    """Pages written by ``write(out)`` to a spooled file, then streamed: flat memory."""
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    try:
        write(out)
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

    return Response(
        chunks(),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/markets/<code>/fees/notices.pdf")
@heavy_request
@login_required
def market_notices(code: str):
    market = _manager_market(code)
    period = request.args.get("period", "").strip()
    try:
        parse_period(period)
    except InvalidPeriod as exc:
        raise InvalidInput(
            {
                "period": [
                    _(
                        "Kỳ “%(v)s” phải có dạng NNNN-TT (một tháng) hoặc NNNN-TT-NN (một ngày).",
                        v=period,
                    )
                ]
            }
        ) from exc
    notices = queries.market_notices(market, period)
    first = next(notices, None)
    if first is None:
        raise NotFound(_("Kỳ %(period)s chưa có hóa đơn nào.", period=period))

    def write(out):
        write_notices(itertools.chain([first], notices), out)

    return _pdf_response(write, f"thong-bao-phi-{market.code}-{period}.pdf")


@bp.route("/markets/<code>/fees/bills/<number>/notice.pdf")
@login_required
def bill_notice(code: str, number: str):
    market = _staff_market(code)
    return _one_notice(_bill_or_404(market, number))


def _one_notice(bill: FeeBill) -> Response:
    owes = queries.owed([bill])[bill.id]
    notice = queries.notice_for(
        bill, queries.bill_lines(bill), owes, queries.paying_account(bill.market_id)
    )
    return _pdf_response(
        lambda out: write_notices([notice], out),
        f"thong-bao-phi-{bill.market.code}-{bill.number}.pdf",
    )


@bp.route("/markets/<code>/fees/readings/<int:type_id>", methods=["GET", "POST"])
@login_required
def readings(code: str, type_id: int):
    market = _staff_market(code)
    fee = queries.fee_type_of(market, type_id)
    if fee is None or fee.kind != "metered":
        raise NotFound()
    period_text = (request.values.get("period") or _this_month()).strip()
    try:
        period = parse_period(period_text)
        if period.cycle != "monthly":
            raise InvalidPeriod(period_text)
    except InvalidPeriod as exc:
        raise InvalidInput({"period": [_("Chỉ số công tơ ghi theo tháng (NNNN-TT).")]}) from exc
    form = ReadingsForm()
    errors: dict[str, list[str]] = {}
    typed: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            entries, errors, typed = _typed_readings(request.form)
            if not errors and entries:
                try:
                    changed = services.record_readings(
                        current_user, market, fee, period.key, entries
                    )
                except InvalidInput as exc:
                    db.session.rollback()
                    errors = exc.errors
                else:
                    flash(_("Đã lưu %(n)s chỉ số.", n=changed), "ok")
                    return redirect(
                        url_for(
                            "fees.readings", code=market.code, type_id=fee.id, period=period.key
                        )
                    )
        else:
            errors = {"_": [_("Phiên làm việc đã hết hạn. Vui lòng tải lại trang.")]}
        status = 422 if errors else 200
    return render_template(
        "fees/readings.html",
        market=market,
        fee=fee,
        period=period,
        rows=queries.readings_of(market, fee, period),
        form=form,
        errors=errors,
        typed=typed,
    ), status


def _typed_readings(form) -> tuple[dict[int, ReadingEntry], dict[str, list[str]], dict[str, str]]:
    """The meter walk's filled inputs as entries; a value that is not a whole number is an
    error on its stall (by stall id), and nothing is saved."""
    numbers: dict[int, dict[str, int]] = {}
    errors: dict[str, list[str]] = {}
    typed: dict[str, str] = {}
    for key, raw in form.items():
        which, _sep, stall = key.partition("-")
        if which not in ("end", "start") or not (stall.isascii() and stall.isdigit()):
            continue
        if len(stall) > 10:
            continue
        value = raw.strip().replace(".", "").replace(",", "").replace(" ", "")
        if not value:
            continue
        typed[key] = raw.strip()[:20]
        if not (value.isascii() and value.isdigit() and len(value) <= 12):
            errors[stall] = [_("Chỉ số “%(v)s” phải là số nguyên.", v=raw.strip()[:20])]
            continue
        numbers.setdefault(int(stall), {})[which] = int(value)
    entries = {}
    for stall_id, typed_values in numbers.items():
        if "end" not in typed_values:
            errors.setdefault(str(stall_id), [_("Vui lòng nhập chỉ số mới.")])
            continue
        entries[stall_id] = ReadingEntry(end=typed_values["end"], start=typed_values.get("start"))
    return entries, errors, typed


# --- a merchant's own bills -----------------------------------------------------------------


def _merchant_only() -> int:
    if current_user.role != "merchant" or current_user.merchant_id is None:
        abort(403)
    return current_user.merchant_id


def _own_bill(bill_id: int) -> FeeBill:
    bill = queries.merchant_bill(_merchant_only(), bill_id)
    if bill is None:
        raise NotFound(_("Không tìm thấy hóa đơn."))
    return bill


@bp.route("/me/bills")
@login_required
def my_bills():
    merchant_id = _merchant_only()
    rows = queries.merchant_bills(merchant_id)
    return render_template(
        "fees/my_bills.html",
        bills=rows,
        owed=queries.owed(rows),
        labels={bill.id: queries.period_label(bill) for bill in rows},
    )


@bp.route("/me/bills/<int:bill_id>")
@login_required
def my_bill(bill_id: int):
    return render_template("fees/my_bill.html", **_bill_context(_own_bill(bill_id)))


@bp.route("/me/bills/<int:bill_id>/notice.pdf")
@login_required
def my_bill_notice(bill_id: int):
    return _one_notice(_own_bill(bill_id))
