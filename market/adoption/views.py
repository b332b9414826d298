"""The adoption dashboard: the province's (admin) or a manager's markets, and one market's page
with its criteria and the form its manager declares the yes/no criteria with."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup

from market.adoption import cache, charts, exports, queries, services
from market.adoption.criteria import Settings
from market.adoption.forms import CriteriaForm, TargetForm
from market.adoption.models import AdoptionTarget
from market.adoption.periods import vietnam_date
from market.errors import InvalidInput, NotFound
from market.extensions import db
from market.limits import heavy_request
from market.markets.forms import MARKET_STATUS_LABELS
from market.markets.models import Market
from market.pagination import paginate_list

bp = Blueprint("adoption", __name__, url_prefix="/adoption")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.before_request
@login_required
def dashboard_roles():
    if current_user.role not in queries.DASHBOARD_ROLES:
        abort(403)


def _settings() -> Settings:
    return Settings.from_config(current_app.config)


def _province_report() -> queries.ProvinceReport:
    return cache.province_report(current_user, _settings(), now=queries.now_utc())


def criterion_labels() -> dict[str, str]:
    return {
        "qr_coverage": _("Mọi sạp đang kinh doanh có mã QR"),
        "fees_cashless": _("Thu phí chợ không dùng tiền mặt"),
        "ecommerce_listed": _("Sản phẩm đặc trưng trên sàn TMĐT"),
    }


def stage_labels() -> dict[str, str]:
    return {
        "qualifies": _("Đạt Chợ 4.0"),
        "in_progress": _("Đang triển khai, chưa đạt"),
        "not_started": _("Chưa bắt đầu"),
    }


MARKETS_PER_PAGE = 20
GROUPS = ("unit", "district")


def _targets(settings: Settings, now) -> tuple[list, queries.ProvinceReport]:
    """The province's targets and the user's report with its progress against them; each
    saved target's first reached day is recorded when it is (the province's view only)."""
    targets = queries.adoption_targets(settings)
    report = cache.province_report(current_user, settings, now=now, targets=targets)
    if current_user.role == "admin" and services.note_reached_targets(
        targets, report.targets, report.today
    ):
        report = cache.province_report(current_user, settings, now=now, targets=targets)
    return targets, report


@bp.route("/")
def index():
    settings, now = _settings(), queries.now_utc()
    group = request.args.get("group", "unit")
    if group not in GROUPS:
        group = "unit"
    targets, report = _targets(settings, now)
    content = cache.province_page(
        current_user,
        settings,
        now=now,
        locale=f"{get_locale()}:{group}",
        render=lambda report: dashboard_content(report, group),
        targets=targets,
    )
    filters = queries.MarketFilter.from_args(request.args)
    rows = filters.apply(report.markets)
    return render_template(
        "adoption/index.html",
        content=content,
        group=group,
        filters=filters,
        page=paginate_list(rows, request.args.get("page", 1, type=int) or 1, MARKETS_PER_PAGE),
        unit_options=report.units,
        stages=stage_labels(),
        labels=criterion_labels(),
        statuses=MARKET_STATUS_LABELS,
    )


def dashboard_content(report: queries.ProvinceReport, group: str = "unit") -> Markup:
    """The dashboard's content above the market table (kept by market.adoption.cache with
    the report's counts)."""
    weeks = [f"T{w.iso_week}" for w in report.weekly]
    groups = report.districts if group == "district" else report.units
    # The output of an autoescaping template: already safe HTML.
    return Markup(  # noqa: S704
        render_template(
            "adoption/_dashboard.html",
            report=report,
            target_bars=[charts.ProgressBar(t.count, t.markets) for t in report.targets],
            merchants=charts.ProgressBar(
                report.totals.merchants_onboarded, report.settings.baseline_merchants
            ),
            payments_chart=charts.column_chart(
                list(zip(weeks, [w.payments for w in report.weekly], strict=True))
            ),
            onboarding_chart=charts.column_chart(
                list(zip(weeks, [w.stalls_onboarded for w in report.weekly], strict=True))
            ),
            group_rows=charts.BarRow.rows(
                [
                    (d.district or _("Chưa gán xã / phường"), d.qualifying, d.markets)
                    for d in groups
                ],
                width=charts.CHART_WIDTH,
            ),
            group=group,
            labels=criterion_labels(),
            statuses=MARKET_STATUS_LABELS,
        )
    )


def _market_page(market: Market, form: CriteriaForm, status: int = 200):
    report = cache.market_report(market, _settings(), now=queries.now_utc())
    daily = [
        (p.start.strftime("%d/%m") if i % 5 == 4 else "", p.payments)
        for i, p in enumerate(report.daily)
    ]
    return render_template(
        "adoption/market.html",
        market=market,
        report=report,
        form=form,
        daily_chart=charts.column_chart(daily),
        weekly_chart=charts.column_chart(
            [(f"T{p.start.isocalendar().week}", p.payments) for p in report.weekly]
        ),
        monthly_chart=charts.column_chart(
            [(p.start.strftime("%m/%y"), p.payments) for p in report.monthly]
        ),
        labels=criterion_labels(),
        statuses=MARKET_STATUS_LABELS,
    ), status


@bp.route("/markets/<code>")
def market(code: str):
    market = queries.dashboard_market(current_user, code)
    return _market_page(market, CriteriaForm(obj=market))


@bp.route("/markets/<code>/criteria", methods=["POST"])
def set_criteria(code: str):
    market = queries.dashboard_market(current_user, code)
    form = CriteriaForm()
    if form.validate_on_submit():
        try:
            services.set_market_criteria(
                current_user,
                market,
                fees_cashless_since=form.fees_cashless_since.data,
                ecommerce_listed_since=form.ecommerce_listed_since.data,
                ecommerce_note=form.ecommerce_note.data,
                today=vietnam_date(queries.now_utc()),
            )
        except InvalidInput as exc:
            for name, messages in exc.errors.items():
                getattr(form, name).errors = [*getattr(form, name).errors, *messages]
        else:
            flash(_("Đã lưu tiêu chí Chợ 4.0 của %(name)s.", name=market.name), "success")
            return redirect(url_for("adoption.market", code=market.code))
    return _market_page(market, form, status=422)


def _file(body: bytes, name: str, fmt: str) -> Response:
    mimetype = "text/csv; charset=utf-8" if fmt == "csv" else XLSX
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


@bp.route("/export.<fmt>")
@heavy_request
def export(fmt: str):
    if fmt not in ("csv", "xlsx"):
        raise NotFound()
    make = exports.province_csv if fmt == "csv" else exports.province_xlsx
    settings, now = _settings(), queries.now_utc()
    targets, _report = _targets(settings, now)
    # Kept with the report's counts like the page (market.adoption.cache): (day, file).
    today, body = cache.province_page(
        current_user,
        settings,
        now=now,
        locale=f"{fmt}:{get_locale()}",
        render=lambda report: (report.today, make(report)),
        targets=targets,
    )
    return _file(body, f"cho40-{today.isoformat()}", fmt)


@bp.route("/markets/<code>/export.<fmt>")
@heavy_request
def market_export(code: str, fmt: str):
    market = queries.dashboard_market(current_user, code)
    if fmt not in ("csv", "xlsx"):
        raise NotFound()
    report = cache.market_report(market, _settings(), now=queries.now_utc())
    body = exports.market_csv(report) if fmt == "csv" else exports.market_xlsx(report)
    return _file(body, f"cho40-{market.code}-{report.today.isoformat()}", fmt)


# --- the province's dated targets --------------------------------------------------------------


def _province_only() -> None:
    if current_user.role != "admin":
        abort(403)


def _targets_page(form: TargetForm, editing: AdoptionTarget | None = None, status: int = 200):
    settings = _settings()
    targets, report = _targets(settings, now=queries.now_utc())
    return render_template(
        "adoption/targets.html",
        form=form,
        editing=editing,
        progress=report.targets,
        saved=any(t.id is not None for t in targets),
        settings=settings,
    ), status


@bp.route("/targets", methods=["GET", "POST"])
def targets():
    _province_only()
    form = TargetForm()
    if form.validate_on_submit():
        try:
            target = services.save_target(
                current_user,
                None,
                markets=form.markets.data,
                deadline=form.deadline.data,
                title=form.title.data,
                former_province=form.former_province.data,
            )
        except InvalidInput as exc:
            _field_errors(form, exc)
        else:
            flash(_("Đã thêm mục tiêu %(title)s.", title=target.title), "success")
            return redirect(url_for("adoption.targets"))
    return _targets_page(form, status=422 if form.errors else 200)


def _target_or_404(target_id: int) -> AdoptionTarget:
    target = db.session.get(AdoptionTarget, target_id)
    if target is None:
        raise NotFound(_("Không tìm thấy mục tiêu."))
    return target


@bp.route("/targets/<int:target_id>", methods=["GET", "POST"])
def edit_target(target_id: int):
    _province_only()
    target = _target_or_404(target_id)
    form = TargetForm(obj=target)
    if form.validate_on_submit():
        try:
            services.save_target(
                current_user,
                target,
                markets=form.markets.data,
                deadline=form.deadline.data,
                title=form.title.data,
                former_province=form.former_province.data,
            )
        except InvalidInput as exc:
            _field_errors(form, exc)
        else:
            flash(_("Đã lưu mục tiêu %(title)s.", title=target.title), "success")
            return redirect(url_for("adoption.targets"))
    return _targets_page(form, editing=target, status=422 if form.errors else 200)


@bp.route("/targets/<int:target_id>/delete", methods=["POST"])
def delete_target(target_id: int):
    _province_only()
    target = _target_or_404(target_id)
    form = FlaskForm()  # the CSRF token only
    if not form.validate_on_submit():
        abort(400)
    title = target.title
    services.delete_target(current_user, target)
    flash(_("Đã xóa mục tiêu %(title)s.", title=title), "success")
    return redirect(url_for("adoption.targets"))


def _field_errors(form, exc: InvalidInput) -> None:
    for name, messages in exc.errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, *messages]
