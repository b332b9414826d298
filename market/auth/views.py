from __future__ import annotations

from urllib.parse import urlsplit

import flask_babel
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    has_request_context,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from market.auth import permissions, services
from market.auth.forms import (
    ActivateForm,
    ApiTokenForm,
    ChangePasswordForm,
    ConfirmForm,
    LargeTextForm,
    LoginForm,
    PreferencesForm,
    StaffEditForm,
    StaffForm,
)
from market.auth.models import SESSION_KEY, User
from market.errors import InvalidInput
from market.extensions import db, limiter

bp = Blueprint("auth", __name__)

LANGUAGES = ("vi", "en")
# What this device chose about how pages look: kept in the session for visitors who are not
# logged in, carried into a login (and saved on the user) and kept after a logout.
DEVICE_PREFERENCES = ("lang", "large_text")


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site: never another host, scheme or a '//' or '\\' trick."""
    if not target:
        return default
    target = target.strip()
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
    ):
        return default
    if "\\" in target or any(ord(c) < 32 for c in target):
        return default
    return target


def home_for(user) -> str:
    if user.role == "merchant":
        return url_for("merchants.my_stalls")
    return url_for("markets.index")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _login_account_limit() -> str:
    return current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]


def _login_account_key() -> str:
    """Failures for one account slow that account down, wherever they come from."""
    return "login-account:" + (request.form.get("username") or "").strip().lower()[:60]


def _failed(response) -> bool:
    """Only failed attempts count against a limit: staff sharing one market's address do not
    lock each other out by logging in."""
    return response.status_code in (401, 422)


def _activation_limit() -> str:
    return current_app.config["ACTIVATION_RATE_LIMIT"]


def _activation_account_key() -> str:
    return "activate-account:" + (request.view_args or {}).get("username", "")[:60]


def begin_session(user) -> None:
    """A fresh session (no fixation) for ``user``, keeping this device's display choices;
    the server keeps the session's token so that logout ends it for every copy."""
    device = _device_preferences()
    session.clear()
    login_user(user)
    session[SESSION_KEY] = services.start_session(user)
    session.update(device)


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], error_message="login", deduct_when=_failed)
@limiter.limit(
    _login_account_limit,
    methods=["POST"],
    error_message="login",
    key_func=_login_account_key,
    deduct_when=_failed,
)
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = services.authenticate(form.username.data, form.password.data)
        if user is None:
            flash(_("Tên đăng nhập hoặc mật khẩu không đúng."), "error")
            return render_template("auth/login.html", form=form), 401
        # A fresh session (no fixation), keeping the language and text size picked on this
        # device; picking them just before logging in is the user's latest word, so they
        # are saved.
        device = _device_preferences()
        begin_session(user)
        changes = {}
        if device.get("lang") in LANGUAGES and user.locale != device["lang"]:
            changes["locale"] = device["lang"]
        if "large_text" in device and user.large_text != device["large_text"]:
            changes["large_text"] = device["large_text"]
        if changes:
            services.set_preferences(user, **changes)
        return redirect(safe_next(form.next.data, home_for(user)))
    status = 422 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # The device keeps looking the way this user had it (language, text size).
    device = {"lang": str(flask_babel.get_locale()), "large_text": large_text_on()}
    services.end_session(session.get(SESSION_KEY))
    logout_user()
    session.clear()
    session.update(device)
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>", methods=["GET", "POST"])
def set_language(code: str):
    """A GET (a link, for visitors) changes this device's language only; a logged-in
    user's saved choice changes through the top bar's POST form (CSRF-checked), never
    through a link another site could make a browser follow."""
    if code in LANGUAGES:
        session["lang"] = code
        if request.method == "POST" and current_user.is_authenticated:
            services.set_preferences(current_user, locale=code)
    return redirect(safe_next(request.values.get("next"), url_for("auth.index")))


def _device_preferences() -> dict:
    return {key: session[key] for key in DEVICE_PREFERENCES if key in session}


def large_text_on() -> bool:
    """The user's saved choice when logged in, else the one made on this device."""
    if current_user.is_authenticated:
        return bool(current_user.large_text)
    return bool(session.get("large_text"))


@bp.app_context_processor
def display_preferences() -> dict:
    return {"large_text": large_text_on() if has_request_context() else False}


@bp.app_context_processor
def merchant_navigation() -> dict:
    """A merchant with one stall: the top bar's "collect" and "payments" open it directly
    (with several, they lead to the list of their stalls)."""
    if not has_request_context() or not current_user.is_authenticated:
        return {}
    if current_user.role != "merchant":
        return {}
    stalls = services.merchant_stalls(current_user)
    return {"nav_stall": stalls[0] if len(stalls) == 1 else None}


def _save_preferences(*, locale: str | None = None, large_text: bool | None = None) -> None:
    """For this device, and for the user when logged in; messages after this are in the
    newly chosen language."""
    if locale in LANGUAGES:
        session["lang"] = locale
    if large_text is not None:
        session["large_text"] = large_text
    if current_user.is_authenticated:
        services.set_preferences(current_user, locale=locale, large_text=large_text)
    flask_babel.refresh()


@bp.route("/preferences", methods=["GET", "POST"])
def preferences():
    """Language and text size, for anyone: shoppers on a phone too (then for this device)."""
    form = PreferencesForm()
    if request.method == "GET":
        form.locale.data = str(flask_babel.get_locale())
        large = large_text_on() or request.args.get("text_size") == "large"
        form.text_size.data = "large" if large else "normal"
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        large = form.text_size.data == "large"
        _save_preferences(locale=form.locale.data, large_text=large)
        size = _("chữ to") if large else _("chữ thường")
        lang = "English" if form.locale.data == "en" else "Tiếng Việt"
        if current_user.is_authenticated:
            message = _("Đã lưu cho tài khoản của bạn: %(size)s, %(lang)s.", size=size, lang=lang)
        else:
            message = _("Đã lưu cho thiết bị này: %(size)s, %(lang)s.", size=size, lang=lang)
        flash(message, "success")
        return redirect(safe_next(form.next.data, url_for("auth.preferences")))
    back = safe_next(form.next.data, "")
    page = render_template("auth/preferences.html", form=form, back=back)
    return page, 422 if form.errors else 200


@bp.route("/preferences/large-text", methods=["POST"])
def set_large_text():
    """The top bar's one-tap switch (shown where the session already holds a CSRF token)."""
    form = LargeTextForm()
    if not form.validate_on_submit():
        abort(400)
    large = form.large_text.data == "1"
    _save_preferences(large_text=large)
    flash(_("Đã bật chữ to.") if large else _("Đã tắt chữ to."), "success")
    return redirect(safe_next(form.next.data, url_for("auth.index")))


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def api_tokens():
    """The user's personal API tokens: list, create (the secret is shown once), revoke."""
    form = ApiTokenForm()
    new_secret = None
    if form.validate_on_submit():
        try:
            _token, new_secret = services.create_api_token(current_user, form.name.data)
        except InvalidInput as exc:
            form.name.errors = [*form.name.errors, *exc.errors.get("name", [exc.message])]
        else:
            form = ApiTokenForm(formdata=None)
    page = render_template(
        "auth/tokens.html",
        form=form,
        tokens=services.user_api_tokens(current_user),
        new_secret=new_secret,
    )
    response = make_response(page, 422 if form.errors else 200)
    # The page may hold a secret shown once: no cache may keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return response


# A 32-bit database id: a larger one is not found rather than an error in the query.
@bp.route("/account/tokens/<int(max=2147483647):token_id>/revoke", methods=["POST"])
@login_required
def revoke_api_token(token_id: int):
    token = services.revoke_api_token(current_user, token_id)
    flash(_("Đã thu hồi mã “%(name)s”. Mã này không dùng được nữa.", name=token.name), "success")
    return redirect(url_for("auth.api_tokens"))


# --- activation and passwords ----------------------------------------------------------------


def _no_store(page, status: int = 200):
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/activate/<username>", methods=["GET", "POST"])
@limiter.limit(_activation_limit, methods=["POST"], error_message="activate", deduct_when=_failed)
@limiter.limit(
    _activation_limit,
    methods=["POST"],
    error_message="activate",
    key_func=_activation_account_key,
    deduct_when=_failed,
)
def activate(username: str):
    """The welcome slip's link: enter the one-time code, set a password, and you are in."""
    form = ActivateForm()
    if form.validate_on_submit():
        try:
            user, token = services.activate(
                username, form.code.data, form.password.data, form.confirm.data
            )
        except InvalidInput as exc:
            _attach(form, exc)
        else:
            device = _device_preferences()
            session.clear()
            login_user(user)
            session[SESSION_KEY] = token
            session.update(device)
            flash(_("Đã đặt mật khẩu. Chào mừng %(name)s!", name=user.full_name), "success")
            return redirect(home_for(user))
    page = render_template("auth/activate.html", form=form, username=username)
    return _no_store(page, 422 if form.errors else 200)


def _attach(form, exc: InvalidInput) -> None:
    for name, messages in exc.errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, *messages]
    if not exc.errors:
        form.form_errors.append(exc.message)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                current_user,
                form.current.data,
                form.password.data,
                form.confirm.data,
                keep_token=session.get(SESSION_KEY),
            )
        except InvalidInput as exc:
            _attach(form, exc)
        else:
            flash(_("Đã đổi mật khẩu. Các thiết bị khác đã bị đăng xuất."), "success")
            return redirect(home_for(current_user))
    page = render_template("auth/password.html", form=form)
    return _no_store(page, 422 if form.errors else 200)


# --- one-time codes: shown once, printed on welcome slips --------------------------------------


def slip_lines(user) -> tuple[str, ...]:
    """What a welcome slip says the person is for: a merchant's stalls, a staff's markets."""
    if user.role == "merchant" and user.merchant_id is not None:
        return tuple(
            f"{stall.market.name} · Sạp {stall.code}" for stall in services.merchant_stalls(user)
        )
    return tuple(m.name for m in sorted(user.markets, key=lambda m: m.name)) or ("Chợ 4.0",)


def _code_rows(issued) -> list[dict]:
    return [
        {
            "issued": item,
            "url": services.activation_url(item.user),
            "lines": slip_lines(item.user),
        }
        for item in issued
    ]


def render_codes(issued, *, title: str, back: str, kit: str | None = None):
    """The page that shows freshly issued codes, once (never cached), with the button that
    prints them as welcome slips. The plain codes live in this page only: printing posts
    them back, and the server checks each against its stored hash before drawing it."""
    page = render_template(
        "auth/codes.html", rows=_code_rows(issued), title=title, back=back, kit=kit
    )
    return _no_store(page)


#: Codes issued together (an import) shown as cards on their page: past this many the page
#: shows none (a card each made a page of megabytes for a whole market) and the codes are on
#: the welcome slips only.
CODES_SHOWN = 200
#: Welcome slips in one PDF: a whole market's come in parts of this many.
SLIPS_PER_PDF = 500


def render_issued(issued, *, title: str, back: str, kit: str | None = None):
    """``render_codes`` for codes issued together (``services.IssuedCodes``): the page holds
    their secret, not each code, and prints them in parts of SLIPS_PER_PDF slips."""
    shown = services.issued_codes(issued, limit=CODES_SHOWN) if issued.count <= CODES_SHOWN else []
    parts = [
        (start + 1, min(start + SLIPS_PER_PDF, issued.count))
        for start in range(0, issued.count, SLIPS_PER_PDF)
    ]
    page = render_template(
        "auth/codes.html",
        rows=_code_rows(shown),
        title=title,
        back=back,
        kit=kit,
        issued=issued,
        parts=parts,
    )
    return _no_store(page)


def _short(url: str) -> str:
    return url.split("://", 1)[-1]


@bp.route("/welcome-slips.pdf", methods=["POST"])
@login_required
def welcome_slips():
    """Welcome slips (A6 PDF) for the codes of a page just shown (see ``render_codes``)."""
    from market.formatting import date_vn
    from market.qr import WelcomeSlip, render_welcome_pdf

    def slip(user: User, code: str, expires_at) -> WelcomeSlip:
        return WelcomeSlip(
            name=user.full_name,
            stalls=slip_lines(user),
            url=services.activation_url(user),
            short_url=_short(services.activation_url(user)),
            code=code,
            login=user.merchant.phone if user.merchant else user.username,
            expires=date_vn(expires_at),
        )

    slips = []
    if "secret" in request.form:
        # Codes issued together (render_issued): a part of them, found by their secret.
        part = request.form.get("part", "1")
        if not part.isdigit() or not 1 <= int(part) <= 1000:
            abort(400)
        try:
            issued = services.issued_codes_from(
                current_user, request.form.get("issued_at", ""), request.form["secret"]
            )
        except InvalidInput:
            abort(400)
        start = (int(part) - 1) * SLIPS_PER_PDF
        for item in services.issued_codes(issued, offset=start, limit=SLIPS_PER_PDF):
            slips.append(slip(item.user, item.code, item.expires_at))
    for value in request.form.getlist("slip")[:SLIPS_PER_PDF]:
        user_id, _sep, code = value.partition(":")
        if not user_id.isdigit():
            abort(400)
        user, row = services.code_for_slip(current_user, int(user_id), code)
        slips.append(slip(user, code, row.expires_at))
    if not slips:
        abort(400)
    response = make_response(render_welcome_pdf(slips))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = 'attachment; filename="phieu-chao-mung.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/markets/<code>/merchants/<int:merchant_id>/access", methods=["POST"])
@login_required
def merchant_access(code: str, merchant_id: int):
    """ "Lost their phone": a new code for the merchant; the old one and their sessions end."""
    from market.markets.queries import market_by_code
    from market.merchants.models import Merchant

    market = market_by_code(code)
    merchant = db.session.get(Merchant, merchant_id)
    if market is None or merchant is None or not services.merchant_in_market(merchant, market):
        abort(404)
    if not permissions.can_onboard(current_user, market):
        abort(403)
    issued = services.reissue_merchant_access(current_user, merchant)
    return render_codes(
        [issued],
        title=_("Mã kích hoạt mới cho %(name)s", name=merchant.full_name),
        back=url_for("markets.show", code=market.code),
    )


# --- staff accounts --------------------------------------------------------------------------


def _staff_managers_only() -> None:
    if current_user.role not in ("admin", "manager"):
        abort(403)


def _user_or_404(user_id: int):
    user = db.session.get(User, user_id)
    if user is None or not services.can_edit_user(current_user, user):
        abort(404)
    return user


def _role_choices():
    if current_user.role == "admin":
        return [
            ("manager", _("Quản lý chợ")),
            ("helper", _("Người hỗ trợ")),
            ("admin", _("Cán bộ tỉnh (quản trị)")),
        ]
    return [("helper", _("Người hỗ trợ"))]


def _staff_form(form_class, **kwargs):
    form = form_class(**kwargs)
    form.role.choices = _role_choices()
    form.markets.choices = [(m.id, m.name) for m in services.assignable_markets(current_user)]
    return form


@bp.route("/users/")
@login_required
def users():
    _staff_managers_only()
    return render_template(
        "auth/users.html", users=services.manageable_users(current_user), form=ConfirmForm()
    )


@bp.route("/users/new", methods=["GET", "POST"])
@login_required
def new_user():
    _staff_managers_only()
    form = _staff_form(StaffForm)
    if form.validate_on_submit():
        markets = services.markets_by_ids(form.markets.data or [])
        try:
            issued = services.create_staff(
                current_user,
                username=form.username.data,
                full_name=form.full_name.data,
                role=form.role.data,
                markets=markets,
            )
        except InvalidInput as exc:
            _attach(form, exc)
        else:
            return render_codes(
                [issued],
                title=_("Đã tạo tài khoản %(name)s", name=issued.user.username),
                back=url_for("auth.users"),
            )
    page = render_template("auth/user_form.html", form=form, user=None)
    return page, 422 if form.errors else 200


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@login_required
def edit_user(user_id: int):
    if current_user.role != "admin":
        abort(403)
    user = _user_or_404(user_id)
    form = _staff_form(StaffEditForm, obj=user)
    if request.method == "GET":
        form.markets.data = sorted(user.market_ids)
    if form.validate_on_submit():
        try:
            services.update_staff(
                current_user,
                user,
                full_name=form.full_name.data,
                role=form.role.data,
                markets=services.markets_by_ids(form.markets.data or []),
            )
        except InvalidInput as exc:
            _attach(form, exc)
        else:
            flash(_("Đã lưu tài khoản %(name)s.", name=user.username), "success")
            return redirect(url_for("auth.users"))
    page = render_template("auth/user_form.html", form=form, user=user)
    return page, 422 if form.errors else 200


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@login_required
def deactivate_user(user_id: int):
    _staff_managers_only()
    user = _user_or_404(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.set_active(current_user, user, False)
    flash(
        _("Đã khóa tài khoản %(name)s; mọi phiên đăng nhập đã kết thúc.", name=user.username),
        "success",
    )
    return redirect(url_for("auth.users"))


@bp.route("/users/<int:user_id>/reactivate", methods=["POST"])
@login_required
def reactivate_user(user_id: int):
    _staff_managers_only()
    user = _user_or_404(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.set_active(current_user, user, True)
    flash(_("Đã mở lại tài khoản %(name)s.", name=user.username), "success")
    return redirect(url_for("auth.users"))


@bp.route("/users/<int:user_id>/reset", methods=["POST"])
@login_required
def reset_user(user_id: int):
    _staff_managers_only()
    user = _user_or_404(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    issued = services.reset_password(current_user, user)
    return render_codes(
        [issued],
        title=_("Mã kích hoạt mới cho %(name)s", name=user.username),
        back=url_for("auth.users"),
    )
