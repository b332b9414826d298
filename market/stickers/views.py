from __future__ import annotations

import hashlib
import re
import tempfile
from functools import lru_cache

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.auth import permissions
from market.errors import InvalidInput, NotFound
from market.extensions import limiter
from market.limits import heavy_request
from market.markets import queries as market_queries
from market.markets.views import market_or_404, stall_or_404
from market.qr import render_png, render_svg
from market.stickers import services
from market.stickers.forms import StickerAuditForm
from market.stickers.queries import stall_payload
from market.vietqr import VietQRError, bank_by_bin

bp = Blueprint("stickers", __name__)

NAPAS_LIMIT = 500_000_000  # NAPAS 247 per-transfer ceiling, in dong
SIZES = ("A6", "A5")
LAYOUTS = ("a4x4", "single")


@lru_cache(maxsize=4096)
def _image(payload: str, fmt: str) -> bytes:
    """Rendered codes by payload: a payload change (new payee) is a new key, never stale."""
    return render_png(payload) if fmt == "png" else render_svg(payload)


def parse_amount(raw: str | None) -> int | None:
    """'25.000' or '25000' -> 25000; blank -> None. Whole dong, 1..NAPAS limit."""
    if raw is None or not raw.strip():
        return None
    text = re.sub(r"[\s.,]", "", raw.strip().removesuffix("đ").removesuffix("₫"))
    if not (text.isascii() and text.isdigit() and len(text) <= 12) or not (
        1 <= int(text) <= NAPAS_LIMIT
    ):
        raise InvalidInput(
            {"amount": [_("Số tiền “%(v)s” phải là số đồng nguyên từ 1 đến 500.000.000.", v=raw)]}
        )
    return int(text)


@bp.route("/stalls/<market_code>/<stall_code>/qr.<fmt>")
@limiter.exempt  # public and cacheable; nothing to guess or to spend
def stall_qr(market_code: str, stall_code: str, fmt: str):
    """Public: the code is printed at the stall anyway. ``?amount=`` gives a dynamic QR;
    ``?download=1`` sends it as a file to keep (the SVG is drawn from the QR matrix, so it
    prints sharp at any size)."""
    if fmt not in ("png", "svg"):
        raise NotFound()
    amount = parse_amount(request.args.get("amount"))
    purpose = request.args.get("purpose") or None
    try:
        payload = stall_payload(market_code, stall_code, amount=amount, purpose=purpose)
    except VietQRError as exc:
        raise InvalidInput({"purpose": [str(exc)]}) from exc
    etag = hashlib.sha256(f"{fmt}:{payload}".encode()).hexdigest()[:32]
    response = Response(
        _image(payload, fmt), mimetype="image/png" if fmt == "png" else "image/svg+xml"
    )
    response.set_etag(etag)
    if request.args.get("download"):
        # Codes are [A-Z0-9-]: safe in a header as they are.
        response.headers["Content-Disposition"] = (
            f'attachment; filename="qr-{market_code}-{stall_code}.{fmt}"'
        )
    # Revalidate every time (a 304 costs nothing): a payee change must show at once.
    response.headers["Cache-Control"] = "public, no-cache"
    return response.make_conditional(request)


@bp.route("/markets/<code>/stickers.pdf")
@heavy_request
@login_required
def market_stickers(code: str):
    market = market_or_404(code)
    if not permissions.can_print_market(current_user, market):
        abort(403)
    layout = request.args.get("layout", "a4x4")
    size = request.args.get("size", "A6")
    only = request.args.get("stalls", "all")
    if layout not in LAYOUTS or size not in SIZES:
        raise InvalidInput({"layout": [_("Kiểu in không hợp lệ.")]})
    # Pages stream to a spooled file, so memory stays flat however many stalls there are.
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    try:
        services.print_market(
            current_user,
            market,
            out,
            layout=layout,
            size=size,
            only=only,
            base_url=current_app.config["PUBLIC_BASE_URL"],
        )
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
        headers={
            "Content-Disposition": (
                f'attachment; filename="tem-qr-{market.code}-{layout}'
                f'{"-moi" if only == "new" else ""}.pdf"'
            )
        },
    )


@bp.route("/markets/<code>/stalls/<stall_code>/sticker.pdf")
@login_required
def stall_sticker(code: str, stall_code: str):
    market = market_queries.market_by_code(code)
    stall = market_queries.stall_by_code(market, stall_code) if market else None
    if stall is None or not permissions.can_view_stall(current_user, stall):
        raise NotFound(_("Không tìm thấy sạp “%(code)s”.", code=stall_code))
    size = request.args.get("size", "A6")
    if size not in SIZES:
        raise InvalidInput({"size": [_("Khổ giấy phải là A6 hoặc A5.")]})
    pdf = services.print_stall(
        current_user, stall, size=size, base_url=current_app.config["PUBLIC_BASE_URL"]
    )
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="tem-qr-{code}-{stall.code}.pdf"'},
    )


@bp.route("/markets/<code>/stalls/<stall_code>/audit", methods=["GET", "POST"])
@login_required
def audit(code: str, stall_code: str):
    market = market_or_404(code)
    stall = stall_or_404(market, stall_code)
    if not permissions.can_audit_stickers(current_user, market):
        abort(403)
    form = StickerAuditForm()
    result = None
    if form.validate_on_submit():
        try:
            result = services.audit_sticker(current_user, stall, form.photo.data.read())
        except InvalidInput as exc:
            form.photo.errors = [*form.photo.errors, *exc.errors.get("photo", [])]
    status = 422 if form.errors else 200
    decoded_bank = (
        bank_by_bin(result.decoded_bank_bin) if result and result.decoded_bank_bin else None
    )
    return render_template(
        "stickers/audit.html",
        market=market,
        stall=stall,
        form=form,
        result=result,
        decoded_bank=decoded_bank,
    ), status
