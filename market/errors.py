"""Domain errors and the handlers that turn them (and HTTP errors) into HTML or JSON answers.

A service raises a ``DomainError``; the request that caused it gets a clear message in the
user's language and the transaction is rolled back, so nothing changes.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from flask import Flask, Request, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from market.extensions import db


class DomainError(Exception):
    """A rule of the domain was broken; ``status`` is the HTTP answer it maps to."""

    status = 400
    default_message = _l("Yêu cầu không hợp lệ.")

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.message = str(message or self.default_message)
        self.field = field
        super().__init__(self.message)


class NotFound(DomainError):
    status = 404
    default_message = _l("Không tìm thấy.")


class Forbidden(DomainError):
    status = 403
    default_message = _l("Bạn không có quyền làm việc này.")


class Conflict(DomainError):
    status = 409
    default_message = _l("Dữ liệu đã thay đổi hoặc bị trùng. Vui lòng kiểm tra lại.")


class InvalidInput(DomainError):
    """Bad input, field by field: ``errors`` maps a field name to its messages."""

    status = 422
    default_message = _l("Dữ liệu chưa đúng. Vui lòng sửa các ô được đánh dấu.")

    def __init__(
        self, errors: dict[str, list[str]] | None = None, message: str | None = None
    ) -> None:
        self.errors = errors or {}
        super().__init__(message)


def wants_json(req: Request) -> bool:
    """API paths always answer JSON; elsewhere, JSON only when the client prefers it."""
    # script_root: the webhooks are an app mounted under /api/v1/webhooks (market.app).
    if (req.script_root + req.path).startswith("/api/"):
        return True
    best = req.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and req.accept_mimetypes[best] > req.accept_mimetypes["text/html"]
    )


def error_body(status: int, message: str, errors: dict[str, Any] | None = None) -> dict[str, Any]:
    """The one shape of every JSON error the app sends."""
    body: dict[str, Any] = {"error": {"status": status, "message": message}}
    if errors:
        body["error"]["fields"] = errors
    return body


def _answer(status: int, message: str, errors: dict[str, Any] | None = None):
    if wants_json(request):
        return jsonify(error_body(status, message, errors)), status
    return render_template("errors/error.html", status=status, message=message), status


_HTTP_MESSAGES = {
    400: _l("Yêu cầu không hợp lệ."),
    401: _l("Vui lòng đăng nhập."),
    403: _l("Bạn không có quyền xem trang này."),
    404: _l("Không tìm thấy trang này."),
    405: _l("Phương thức không được hỗ trợ."),
    409: _l("Dữ liệu bị trùng hoặc đã thay đổi."),
    413: _l("Tệp tải lên quá lớn."),
    422: _l("Dữ liệu chưa đúng."),
    429: _l("Bạn thao tác quá nhanh. Vui lòng thử lại sau ít phút."),
    500: _l("Đã có lỗi phía máy chủ. Dữ liệu của bạn không bị thay đổi."),
}


def register_errorhandlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        errors = getattr(exc, "errors", None)
        return _answer(exc.status, exc.message, errors)

    @app.errorhandler(ValidationError)
    def validation_error(exc: ValidationError):
        db.session.rollback()
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return _answer(422, _("Dữ liệu chưa đúng."), messages)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        message = str(_HTTP_MESSAGES.get(status, exc.description or exc.name))
        response = _answer(status, message)
        if status == 405 and exc.get_response().headers.get("Allow"):
            body, code = response
            return body, code, {"Allow": exc.get_response().headers["Allow"]}
        return response

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        # Never show a stack trace to a user; log it for us.
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return _answer(500, str(_HTTP_MESSAGES[500]))


def _unstorable(value: str) -> bool:
    """NUL and other control characters (PostgreSQL cannot store NUL; nobody types the others),
    and lone surrogates (no UTF-8 for them); tabs and line breaks are fine."""
    return any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\t\n\r" for ch in value)


def refuse_unstorable_input() -> None:
    """Before every request of the main app: a query string or form field carrying characters
    the database cannot store is refused field by field (422), and a path value carrying them
    is not found (404), before any view reads them, instead of failing in the database (a
    500) on PostgreSQL only."""
    if any(isinstance(v, str) and _unstorable(v) for v in (request.view_args or {}).values()):
        raise NotFound()  # a path naming something with NUL in it names nothing we have
    bad = {
        name if not _unstorable(name) else "_": [str(_l("Có ký tự điều khiển không hợp lệ."))]
        for source in (request.args, request.form)
        for name, value in source.items(multi=True)
        if _unstorable(name) or _unstorable(value)
    }
    if bad:
        raise InvalidInput(bad)
