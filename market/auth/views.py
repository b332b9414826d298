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

from market.auth import services
from market.auth.forms import ApiTokenForm, LargeTextForm, LoginForm, PreferencesForm
from market.errors import InvalidInput
from market.extensions import limiter

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


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], error_message="login")
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
        session.clear()
        login_user(user)
        session.update(device)
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
    logout_user()
    session.clear()
    session.update(device)
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>")
def set_language(code: str):
    if code in LANGUAGES:
        session["lang"] = code
        if current_user.is_authenticated:
            services.set_preferences(current_user, locale=code)
    return redirect(safe_next(request.args.get("next"), url_for("auth.index")))


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
