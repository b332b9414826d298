"""``@operation``: one API view's input and output schemas, used both to serve and to document.

The decorator loads the query string and the JSON body with their schemas (a
``ValidationError`` becomes a 422 with field messages, see ``market.errors``), passes them
to the view as ``query`` and ``body``, and dumps what the view returns with the response
schema. ``market.api.openapi`` reads the same description to write the OpenAPI document.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Response, jsonify, request
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError

# Errors every operation may answer: no or bad token, not allowed, not found, bad input.
COMMON_ERRORS = (401, 403, 404, 422)
WRITE_ERRORS = (*COMMON_ERRORS, 409)


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    description: str = ""
    query: type[Schema] | None = None
    body: type[Schema] | None = None
    response: type[Schema] | None = None
    status: int = 200
    # Other success codes the view may return as ``(obj, code)``, e.g. 200 next to 201.
    also: tuple[int, ...] = ()
    errors: tuple[int, ...] = COMMON_ERRORS


def _json_body() -> Any:
    data = request.get_json(silent=True)
    if data is None:
        raise ValidationError({"_schema": [str(_l("Nội dung yêu cầu phải là JSON."))]})
    return nfc_strings(data)


def nfc_strings(data: Any) -> Any:
    """Every string in a request's JSON or query, in Unicode NFC, before any schema checks
    it: a district sent decomposed matches the list like one sent composed."""
    if isinstance(data, str):
        return data if data.isascii() else unicodedata.normalize("NFC", data)
    if isinstance(data, dict):
        return {key: nfc_strings(value) for key, value in data.items()}
    if isinstance(data, list):
        return [nfc_strings(value) for value in data]
    return data


def operation(**description: Any) -> Callable[[Callable], Callable]:
    """Describe an API view (see ``Operation``); the route decorator goes above this one."""
    op = Operation(**description)

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(**kwargs: Any):
            if op.query is not None:
                kwargs["query"] = op.query().load(nfc_strings(request.args.to_dict()))
            if op.body is not None:
                kwargs["body"] = op.body().load(_json_body())
            result = view(**kwargs)
            if isinstance(result, Response):
                # Already the response's schema, dumped (e.g. a body kept by a cache).
                return result
            status = op.status
            if isinstance(result, tuple):
                result, status = result
            if op.response is None:
                return "", status
            return jsonify(op.response().dump(result)), status

        wrapper.operation = op  # type: ignore[attr-defined]
        return wrapper

    return decorate
