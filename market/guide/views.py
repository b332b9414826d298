from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

bp = Blueprint("guide", __name__, url_prefix="/guide")


@bp.route("/")
@login_required
def staff():
    """Onboarding a market in a day, printing, auditing stickers: for managers and helpers."""
    if current_user.role not in ("admin", "manager", "helper"):
        abort(403)
    return render_template("guide/staff.html")


@bp.route("/merchant")
def merchant():
    """One printable page in simple Vietnamese; public, so a helper can print it for anyone."""
    return render_template("guide/merchant.html")
