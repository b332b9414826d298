from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
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
from market.auth.forms import ApiTokenForm, LoginForm
from market.errors import InvalidInput
from market.extensions import limiter

bp = Blueprint("auth", __name__)


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
        # A fresh session (no fixation), keeping the language picked on this device;
        # picking one just before logging in is the user's latest word, so it is saved.
        lang = session.get("lang")
        session.clear()
        login_user(user)
        if lang in ("vi", "en"):
            session["lang"] = lang
            if user.locale != lang:
                services.set_preferences(user, locale=lang)
        return redirect(safe_next(form.next.data, home_for(user)))
    status = 422 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    session.clear()
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>")
def set_language(code: str):
    if code in ("vi", "en"):
        session["lang"] = code
        if current_user.is_authenticated:
            services.set_preferences(current_user, locale=code)
    return redirect(safe_next(request.args.get("next"), url_for("auth.index")))


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
