from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.audit import queries as audit_queries
from market.auth import permissions
from market.auth import services as auth_services
from market.auth.views import render_codes, render_issued
from market.errors import InvalidInput, NotFound
from market.extensions import db
from market.formatting import datetime_vn
from market.limits import heavy_request
from market.markets import importing, queries, services
from market.markets.forms import (
    MARKET_STATUS_LABELS,
    STALL_STATUS_LABELS,
    ImportForm,
    MarketForm,
    StallForm,
)
from market.markets.models import DISTRICTS, Market, Stall
from market.merchants import queries as merchant_queries
from market.merchants import services as merchant_services
from market.merchants.forms import BulkVerifyForm, MerchantForm, PayeeForm
from market.merchants.models import PayeeAccount
from market.merchants.services import current_payee
from market.pagination import MAX_PAGE
from market.payments import coverage
from market.places import queries as places
from market.vietqr import bank_by_bin

bp = Blueprint("markets", __name__, url_prefix="/markets")


@bp.before_request
@login_required
def staff_only():
    if current_user.role == "merchant":
        abort(403)


def market_or_404(code: str) -> Market:
    market = queries.market_by_code(code)
    if market is None or not permissions.can_view_market(current_user, market):
        raise NotFound(_("Không tìm thấy chợ “%(code)s”.", code=code))
    return market


def stall_or_404(market: Market, code: str) -> Stall:
    stall = queries.stall_by_code(market, code)
    if stall is None:
        raise NotFound(_("Không tìm thấy sạp “%(code)s”.", code=code))
    return stall


def form_errors_to_invalid(form) -> InvalidInput:
    return InvalidInput({name: list(msgs) for name, msgs in form.errors.items()})


def _page() -> int:
    """The ``page`` query parameter, 1 to MAX_PAGE (anything else: the nearest of them)."""
    return min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)


@bp.route("/")
def index():
    page = queries.market_list(
        current_user,
        q=request.args.get("q", ""),
        district=request.args.get("district", ""),
        status=request.args.get("status", ""),
        page=_page(),
    )
    return render_template(
        "markets/index.html",
        page=page,
        districts=DISTRICTS,
        statuses=MARKET_STATUS_LABELS,
        can_create=permissions.can_create_market(current_user),
        can_verify=permissions.can_verify_payees(current_user),
    )


@bp.route("/new", methods=["GET", "POST"])
def new_market():
    if not permissions.can_create_market(current_user):
        abort(403)
    form = _market_form()
    if form.validate_on_submit():
        try:
            market = services.create_market(
                current_user,
                code=form.code.data,
                name=form.name.data.strip(),
                admin_unit=form.admin_unit_id.data,
                district=form.district.data or "",
                commune=(form.commune.data or "").strip(),
                former_province=form.former_province.data,
                address=(form.address.data or "").strip(),
                status=form.status.data,
                launch_date=form.launch_date.data,
            )
        except InvalidInput as exc:
            _attach_errors(form, exc)
        else:
            flash(
                _(
                    "Đã thêm chợ %(name)s (%(code)s). Tiếp theo: thêm sạp, hoặc nhập danh sách "
                    "sạp từ tệp.",
                    name=market.name,
                    code=market.code,
                ),
                "success",
            )
            return redirect(url_for("markets.show", code=market.code))
    return _form_page("markets/market_form.html", form, market=None)


@bp.route("/<code>/edit", methods=["GET", "POST"])
def edit_market(code: str):
    market = market_or_404(code)
    if not permissions.can_edit_market(current_user, market):
        abort(403)
    form = _market_form(obj=market)
    form.code.data = market.code
    if form.validate_on_submit():
        services.update_market(
            current_user,
            market,
            name=form.name.data.strip(),
            admin_unit=form.admin_unit_id.data,
            district=form.district.data or "",
            commune=(form.commune.data or "").strip(),
            former_province=form.former_province.data,
            address=(form.address.data or "").strip(),
            status=form.status.data,
            launch_date=form.launch_date.data,
        )
        flash(
            _("Đã lưu thông tin chợ %(name)s (%(code)s).", name=market.name, code=market.code),
            "success",
        )
        return redirect(url_for("markets.show", code=market.code))
    return _form_page("markets/market_form.html", form, market=market)


@bp.route("/<code>")
def show(code: str):
    market = market_or_404(code)
    page = queries.stall_rows(
        market,
        q=request.args.get("q", ""),
        status=request.args.get("status", ""),
        qr=request.args.get("qr", ""),
        audit=request.args.get("audit", ""),
        watch=request.args.get("watch", ""),
        page=_page(),
    )
    return render_template(
        "markets/show.html",
        market=market,
        page=page,
        # Coverage: which accounts a notifier watches, and the stalls nobody can observe
        # (flagged to the market's managers and the province).
        watchers=coverage.watchers(),
        unwatched=coverage.unwatched_stall_count(market.id)
        if current_user.role in ("admin", "manager")
        else 0,
        summary=queries.market_summary(market),
        audits=queries.audit_summary(market),
        pending=queries.pending_payee_changes(market, limit=11),
        can_print=permissions.can_print_market(current_user, market),
        stall_statuses=STALL_STATUS_LABELS,
        market_statuses=MARKET_STATUS_LABELS,
        can_edit=permissions.can_edit_market(current_user, market),
        can_audit=permissions.can_view_audit(current_user, market),
    )


@bp.route("/<code>/stalls/new", methods=["GET", "POST"])
def new_stall(code: str):
    market = market_or_404(code)
    form = StallForm()
    if form.validate_on_submit():
        try:
            stall = services.save_stall(current_user, market, **_stall_fields(form))
        except InvalidInput as exc:
            _attach_errors(form, exc)
        else:
            flash(
                _(
                    "Đã thêm sạp %(code)s. Tiếp theo: nhập tiểu thương và tài khoản nhận tiền.",
                    code=stall.code,
                ),
                "success",
            )
            return redirect(url_for("markets.stall", code=market.code, stall_code=stall.code))
    return _form_page("markets/stall_form.html", form, market=market, stall=None)


@bp.route("/<code>/stalls/<stall_code>")
def stall(code: str, stall_code: str):
    market = market_or_404(code)
    stall = stall_or_404(market, stall_code)
    payee = current_payee(stall)
    pending = payee is not None and not payee.verified
    involved = merchant_services.involved_users(payee) if pending else {}
    refusal = merchant_services.verify_refusal(current_user, payee, involved) if pending else None
    return render_template(
        "markets/stall.html",
        market=market,
        stall=stall,
        payee=payee,
        bank=bank_by_bin(payee.bank_bin) if payee else None,
        payload=_payload(payee),
        history=queries.payee_history(stall),
        can_set_payee=permissions.can_set_payee(current_user, stall, payee),
        can_verify=pending and refusal is None,
        # Why this user may not verify (shown to managers and the province only: a helper
        # never verifies, so for them "who can" is enough).
        refusal=refusal if refusal is not None and refusal.kind != "role" else None,
        verifiers=merchant_services.payee_verifiers(payee, involved) if pending else None,
        stall_statuses=STALL_STATUS_LABELS,
        merchant_login=auth_services.merchant_login(stall.merchant) if stall.merchant else None,
        # The merchant's history and monthly statements: the market's managers and the province.
        can_see_history=permissions.is_market_manager(current_user, market),
        watched_by=coverage.account_watchers(payee.account_number) if payee else [],
    )


@bp.route("/<code>/stalls/<stall_code>/edit", methods=["GET", "POST"])
def edit_stall(code: str, stall_code: str):
    market = market_or_404(code)
    stall = stall_or_404(market, stall_code)
    form = StallForm(obj=stall)
    if form.validate_on_submit():
        try:
            stall = services.save_stall(current_user, market, stall, **_stall_fields(form))
        except InvalidInput as exc:
            _attach_errors(form, exc)
        else:
            flash(
                _(
                    "Đã lưu sạp %(code)s ở %(market)s: %(category)s, %(status)s.",
                    code=stall.code,
                    market=market.name,
                    category=stall.category_label,
                    status=STALL_STATUS_LABELS.get(stall.status, stall.status),
                ),
                "success",
            )
            return redirect(url_for("markets.stall", code=market.code, stall_code=stall.code))
    return _form_page("markets/stall_form.html", form, market=market, stall=stall)


@bp.route("/<code>/stalls/<stall_code>/merchant", methods=["GET", "POST"])
def stall_merchant(code: str, stall_code: str):
    market = market_or_404(code)
    stall = stall_or_404(market, stall_code)
    merchant = stall.merchant
    form = MerchantForm(obj=merchant)
    if form.validate_on_submit():
        try:
            # The phone number is the merchant's identity: a known number brings that
            # merchant to this stall, a new one creates a merchant.
            merchant = merchant_services.save_merchant(
                current_user,
                stall,
                full_name=form.full_name.data,
                phone=form.phone.data,
                tax_code=form.tax_code.data,
                consent=form.consent.data,
            )
        except InvalidInput as exc:
            _attach_errors(form, exc)
        else:
            flash(
                _(
                    "Đã lưu tiểu thương %(name)s cho sạp %(code)s ở %(market)s.",
                    name=merchant.full_name,
                    code=stall.code,
                    market=market.name,
                ),
                "success",
            )
            back = url_for("markets.stall", code=market.code, stall_code=stall.code)
            # A merchant who cannot get in yet gets a login and a one-time code, shown once.
            issued = auth_services.welcome_merchant(current_user, merchant)
            if issued is not None:
                return render_codes(
                    [issued],
                    title=_("Mã kích hoạt cho %(name)s", name=merchant.full_name),
                    back=back,
                )
            return redirect(back)
    return _form_page("merchants/merchant_form.html", form, market=market, stall=stall)


@bp.route("/<code>/stalls/<stall_code>/payee", methods=["GET", "POST"])
def stall_payee(code: str, stall_code: str):
    market = market_or_404(code)
    stall = stall_or_404(market, stall_code)
    current = current_payee(stall)
    if not permissions.can_set_payee(current_user, stall, current):
        abort(403)
    form = PayeeForm()
    if request.method == "GET":
        form.expected_current_id.data = str(current.id) if current else ""
        if current:
            form.bank_bin.data = current.bank_bin
            form.account_number.data = current.account_number
            form.service.data = current.service
            form.holder_name.data = current.holder_name
    preview = None
    if form.validate_on_submit():
        fields = {
            "bank_bin": form.bank_bin.data,
            "account_number": form.account_number.data,
            "service": form.service.data,
            "holder_name": form.holder_name.data,
        }
        if request.form.get("action") == "preview":
            preview = merchant_queries.payee_payload(PayeeAccount(**fields))
        else:
            payee = merchant_services.set_payee(
                current_user, stall, expected_current_id=form.expected_id(), **fields
            )
            if payee is None:
                flash(
                    _(
                        "Tài khoản nhận tiền của sạp %(code)s không thay đổi: vẫn là %(account)s.",
                        code=stall.code,
                        account=_account_text(current),
                    ),
                    "info",
                )
            else:
                # Until someone verifies it the stall has no payable account (no QR works).
                flash(
                    _(
                        "Đã lưu tài khoản nhận tiền mới cho sạp %(code)s: %(account)s. Cần một "
                        "quản lý chợ khác xác minh; đến lúc đó mã QR của sạp chưa nhận được "
                        "tiền. Sau khi xác minh, in tem QR mới cho sạp.",
                        code=stall.code,
                        account=_account_text(payee),
                    ),
                    "success",
                )
            return redirect(url_for("markets.stall", code=market.code, stall_code=stall.code))
    bank = bank_by_bin(form.bank_bin.data) if form.bank_bin.data else None
    status = 422 if form.errors else 200
    return render_template(
        "merchants/payee_form.html",
        form=form,
        market=market,
        stall=stall,
        current=current,
        bank=bank,
        preview=preview,
    ), status


@bp.route("/<code>/stalls/<stall_code>/payee/<int:payee_id>/verify", methods=["POST"])
def verify_payee(code: str, stall_code: str, payee_id: int):
    market = market_or_404(code)
    stall = stall_or_404(market, stall_code)
    payee = db.session.get(PayeeAccount, payee_id)
    if payee is None or payee.stall_id != stall.id:
        raise NotFound()
    already = payee.verified
    merchant_services.verify_payee(current_user, payee)
    if already:
        flash(
            _(
                "Tài khoản %(account)s của sạp %(code)s đã được xác minh trước đó; không có gì "
                "thay đổi.",
                account=_account_text(payee),
                code=stall.code,
            ),
            "info",
        )
    else:
        flash(
            _(
                "Đã xác minh tài khoản %(account)s của sạp %(code)s. Mã QR của sạp giờ trả tiền "
                "vào tài khoản này; hãy in tem QR mới cho sạp.",
                account=_account_text(payee),
                code=stall.code,
            ),
            "success",
        )
    return redirect(url_for("markets.stall", code=market.code, stall_code=stall.code))


@bp.route("/pending-payees")
def pending_payees():
    """Every pending payee change of the user's markets (or of ``?market=``), to verify."""
    return _pending_payees_page(_pending_market(), BulkVerifyForm())


@bp.route("/pending-payees/verify", methods=["POST"])
def verify_pending_payees():
    """Verify the ticked rows; each is checked against the four-eyes rule on its own."""
    market = _pending_market()
    form = BulkVerifyForm()
    if not form.validate_on_submit():
        return _pending_payees_page(market, form, status=422)
    outcomes = merchant_services.verify_payees(current_user, form.payee.data)
    return _pending_payees_page(market, BulkVerifyForm(formdata=None), outcomes=outcomes)


def _pending_market() -> Market | None:
    """The market the pending-changes page is limited to (``market`` in the query or form);
    checked before anything is done, so a refused request changes nothing."""
    if not permissions.can_verify_payees(current_user):
        abort(403)
    code = request.values.get("market", "")
    return market_or_404(code) if code else None


def _pending_payees_page(market, form: BulkVerifyForm, *, outcomes=None, status: int = 200):
    page = queries.pending_payees(current_user, market=market, page=_page())
    payees = [payee for payee, _stall, _market in page.items]
    involved_of = merchant_services.involved_users_of(payees)
    pool = merchant_services.verifier_pool(sorted({m.id for _p, _s, m in page.items}))
    rows = []
    for payee, stall, row_market in page.items:
        involved = involved_of[payee.id]
        rows.append(
            {
                "payee": payee,
                "stall": stall,
                "market": row_market,
                "bank": bank_by_bin(payee.bank_bin),
                "refusal": merchant_services.verify_refusal(current_user, payee, involved),
                "verifiers": merchant_services.payee_verifiers(payee, involved, pool),
            }
        )
    return render_template(
        "markets/pending_payees.html",
        form=form,
        market=market,
        page=page,
        rows=rows,
        outcomes=outcomes,
        verifiable=sum(1 for row in rows if row["refusal"] is None),
    ), status


@bp.route("/<code>/import", methods=["GET", "POST"])
def import_file(code: str):
    market = market_or_404(code)
    if not permissions.can_onboard(current_user, market):
        abort(403)
    form = ImportForm()
    if form.validate_on_submit():
        file = form.file.data
        # One byte past the limit is enough to refuse the file without reading all of it.
        content = file.read(importing.MAX_FILE_BYTES + 1)
        checked = importing.upload(current_user, market, file.filename or "upload.csv", content)
        return render_template(
            "markets/import_report.html",
            market=market,
            filename=checked.filename,
            batch=checked.batch,
            report=checked.report,
            columns=importing.COLUMNS,
        )
    status = 422 if form.errors else 200
    return render_template(
        "markets/import.html",
        market=market,
        form=form,
        columns=importing.COLUMNS,
        max_rows=importing.MAX_ROWS,
        max_mb=importing.MAX_FILE_BYTES // 2**20,
    ), status


@bp.route("/<code>/import/<int:batch_id>/apply", methods=["POST"])
def apply_import(code: str, batch_id: int):
    market = market_or_404(code)
    if not permissions.can_onboard(current_user, market):
        abort(403)
    applied = importing.apply_upload(
        current_user, market, batch_id, sha256=request.form.get("sha256") or None
    )
    batch, report = applied.batch, applied.report
    if applied.already:
        flash(
            _(
                "Tệp %(file)s đã được nhập vào %(market)s lúc %(time)s; không nhập lại lần nữa.",
                file=batch.filename,
                market=market.name,
                time=datetime_vn(batch.applied_at),
            ),
            "info",
        )
        return redirect(url_for("markets.show", code=market.code))
    if not report.applied:
        return render_template(
            "markets/import_report.html",
            market=market,
            filename=batch.filename,
            batch=None,
            report=report,
            columns=importing.COLUMNS,
        ), 422
    welcome = report.welcome
    flash(
        _(
            "Đã nhập %(n)s dòng: %(c)s sạp mới, %(u)s sạp cập nhật, %(m)s tiểu thương mới, "
            "%(p)s tài khoản mới (chờ xác minh), %(s)s dòng không đổi — tệp %(file)s, "
            "%(market)s.",
            n=report.rows,
            c=report.stalls_created,
            u=report.stalls_updated,
            m=report.merchants_created,
            p=report.payees_set,
            s=report.unchanged,
            file=batch.filename,
            market=market.name,
        ),
        "success",
    )
    if welcome is not None and welcome.count:
        # The new merchants' codes, shown once, with their welcome slips to print.
        return render_issued(
            welcome,
            title=_("Mã kích hoạt cho tiểu thương mới — %(market)s", market=market.name),
            back=url_for("markets.show", code=market.code),
            kit=url_for("stickers.market_stickers", code=market.code, layout="a4x4")
            if permissions.can_print_market(current_user, market)
            else None,
        )
    return redirect(url_for("markets.show", code=market.code))


@bp.route("/import-template.<fmt>")
def import_template(fmt: str):
    if fmt == "csv":
        body, mimetype = importing.template_csv(), "text/csv; charset=utf-8"
    elif fmt == "xlsx":
        body, mimetype = importing.template_xlsx(), _XLSX
    else:
        raise NotFound()
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="mau-nhap-sap.{fmt}"'},
    )


@bp.route("/<code>/export.<fmt>")
@heavy_request
def export(code: str, fmt: str):
    market = market_or_404(code)
    return _table_response(importing.export_rows(market), f"sap-{market.code}", fmt)


@bp.route("/<code>/audit")
def audit_log(code: str):
    market = market_or_404(code)
    if not permissions.can_view_audit(current_user, market):
        abort(403)
    lines = audit_queries.market_log(market)
    return render_template("markets/audit.html", market=market, lines=lines)


# --- helpers -------------------------------------------------------------------------------

_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _payload(payee) -> str | None:
    return None if payee is None else merchant_queries.payee_payload(payee)


def _stall_fields(form: StallForm) -> dict:
    return {
        "code": form.code.data,
        "zone": (form.zone.data or "").strip(),
        "category": form.category.data,
        "status": form.status.data,
    }


def _account_text(payee) -> str:
    """'Vietcombank · 0011001234567 · NGUYEN VAN A': which account, as a person checks it."""
    bank = bank_by_bin(payee.bank_bin)
    name = bank.short_name if bank else payee.bank_bin
    return f"{name} · {payee.account_number} · {payee.holder_name}"


def _attach_errors(form, exc: InvalidInput) -> None:
    for name, messages in exc.errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, *messages]
    if exc.errors:
        return
    flash(exc.message, "error")


def _market_form(**kwargs) -> MarketForm:
    form = MarketForm(**kwargs)
    form.admin_unit_id.choices = [("", "—"), *places.unit_choices()]
    return form


def _form_page(template: str, form, **context):
    status = 422 if form.errors else 200
    return render_template(template, form=form, **context), status


def _table_response(rows, name: str, fmt: str) -> Response:
    if fmt == "csv":
        body, mimetype = importing.to_csv(rows), "text/csv; charset=utf-8"
    elif fmt == "xlsx":
        body, mimetype = importing.to_xlsx(rows), _XLSX
    else:
        raise NotFound()
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )
