"""The OpenAPI 3 document, written from the ``@operation`` descriptions and their schemas,
and a docs page rendered from it on the server (no scripts, no assets from elsewhere)."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, current_app, jsonify, render_template
from flask_babel import gettext as _

from market.api.operations import Operation
from market.api.schemas import CODE_PATTERN, ErrorSchema

# Path parameters by name; a name not listed here is a plain string.
PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "code": {"type": "string", "pattern": CODE_PATTERN, "description": "Market code."},
    "stall_code": {"type": "string", "pattern": CODE_PATTERN, "description": "Stall code."},
    # Ids are database integers: the routes take 1 to 2**31 - 1 and answer 404 past that.
    "payee_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    "merchant_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
}
PATH_EXAMPLES = {"code": "TN-A", "stall_code": "A-01", "payee_id": 1, "merchant_id": 1}

ERROR_RESPONSES = {
    401: ("Unauthorized", "No token, or a revoked or unknown one, or an inactive user."),
    403: ("Forbidden", "The token's user may see this but not do this."),
    404: ("NotFound", "No such thing, or not one the token's user may see."),
    409: ("Conflict", "Changed meanwhile by someone else, or a duplicate."),
    422: ("UnprocessableEntity", "Bad input; `error.fields` holds messages by field."),
}

_RULE_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")

bp = Blueprint("api_docs", __name__)


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    parameters = []
    for match in _RULE_ARGUMENT.finditer(rule):
        name = match["name"]
        schema = PATH_PARAMETERS.get(name, {"type": "string"})
        parameters.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "description": schema.get("description", ""),
                "schema": {k: v for k, v in schema.items() if k != "description"},
                **({"example": PATH_EXAMPLES[name]} if name in PATH_EXAMPLES else {}),
            }
        )
    return _RULE_ARGUMENT.sub(r"{\g<name>}", rule), parameters


def _operation(endpoint: str, op: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for code in (op.status, *op.also):
        success: dict[str, Any] = {"description": HTTPStatus(code).phrase}
        if op.response is not None:
            success["content"] = {"application/json": {"schema": op.response}}
        responses[str(code)] = success
    for code in sorted(op.errors):
        responses[str(code)] = ERROR_RESPONSES[code][0]
    spec_op: dict[str, Any] = {
        "operationId": endpoint.rsplit(".", 1)[-1],
        "summary": op.summary,
        "tags": [op.tag],
        "responses": responses,
    }
    if op.description:
        spec_op["description"] = op.description
    if op.query is not None:
        spec_op["parameters"] = [{"in": "query", "schema": op.query}]
    if op.body is not None:
        spec_op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": op.body}},
        }
    return spec_op


def build_spec(app: Flask) -> dict[str, Any]:
    """The OpenAPI document of every ``@operation`` view the app serves."""
    spec = APISpec(
        title="Chợ 4.0 API",
        version="1",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={
            "description": (
                "Markets, stalls, merchants, payee accounts and VietQR payloads. "
                "Authenticate with a personal token (Account → API tokens): "
                "`Authorization: Bearer cho40_…`. A token may do what its user may do."
            )
        },
        servers=[{"url": "/"}],
        security=[{"token": []}],
    )
    spec.components.security_scheme(
        "token", {"type": "http", "scheme": "bearer", "bearerFormat": "cho40_…"}
    )
    spec.components.schema("Error", schema=ErrorSchema)
    for name, description in ERROR_RESPONSES.values():
        spec.components.response(
            name,
            {"description": description, "content": {"application/json": {"schema": "Error"}}},
        )
    paths: dict[str, dict[str, Any]] = {}
    parameters: dict[str, list] = {}
    seen_ids: set[str] = set()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        # .get: a build-only URL (the webhooks', market.payments.webhooks) has no view here.
        op = getattr(app.view_functions.get(rule.endpoint), "operation", None)
        if op is None:
            continue
        path, path_parameters = _path(rule.rule)
        parameters[path] = path_parameters
        spec_op = _operation(rule.endpoint, op)
        if spec_op["operationId"] in seen_ids:
            raise RuntimeError(f"two API views are called {spec_op['operationId']}")
        seen_ids.add(spec_op["operationId"])
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = spec_op
    for path, operations in paths.items():
        spec.path(path=path, operations=operations, parameters=parameters[path] or None)
    return spec.to_dict()


def api_spec() -> dict[str, Any]:
    """The current app's document, built once."""
    cached = current_app.extensions.get("market_api_spec")
    if cached is None:
        cached = current_app.extensions["market_api_spec"] = build_spec(current_app)
    return cached


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(api_spec())


@bp.get("/docs")
def docs():
    spec = api_spec()
    by_tag: dict[str, list] = {}
    for path, operations in spec["paths"].items():
        shared = operations.get("parameters", [])
        for method, op in operations.items():
            if method == "parameters":
                continue
            by_tag.setdefault(op["tags"][0], []).append(
                {
                    "method": method.upper(),
                    "path": path,
                    "id": op["operationId"],
                    "summary": op["summary"],
                    "description": op.get("description", ""),
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "required": p.get("required", False),
                            "type": _describe(p["schema"])[0],
                            "notes": p.get("description", ""),
                        }
                        for p in (*shared, *op.get("parameters", []))
                    ],
                    "body": _ref_name(op.get("requestBody", {})),
                    "responses": [
                        # Every error answer refers to a shared response with the Error schema.
                        (code, "Error" if "$ref" in response else _ref_name(response))
                        for code, response in op["responses"].items()
                    ],
                }
            )
    schemas = {
        name: [
            {
                "name": field,
                "required": field in schema.get("required", ()),
                "type": _describe(prop)[0],
                "ref": _describe(prop)[1],
                "notes": prop.get("description", ""),
            }
            for field, prop in schema.get("properties", {}).items()
        ]
        for name, schema in spec["components"]["schemas"].items()
    }
    return render_template(
        "api/docs.html",
        title=_("Tài liệu API"),
        info=spec["info"],
        by_tag=by_tag,
        schemas=schemas,
    )


def _ref_name(holder: dict[str, Any]) -> str | None:
    ref = holder.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else None


def _describe(prop: dict[str, Any]) -> tuple[str, str | None]:
    """A property's type for people, e.g. "string (date), null", and the schema it names."""
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        return name, name
    if "allOf" in prop:
        text, ref = _describe(prop["allOf"][0])
        return (text + ", null" if prop.get("nullable") else text), ref
    if prop.get("type") == "array":
        text, ref = _describe(prop.get("items", {}))
        return f"array of {text}", ref
    text = prop.get("type", "any")
    if "format" in prop:
        text += f" ({prop['format']})"
    limits = []
    if "enum" in prop:
        limits.append(" | ".join(str(v) for v in prop["enum"]))
    if "pattern" in prop:
        limits.append(prop["pattern"])
    for key, sign in (
        ("minimum", "≥"),
        ("maximum", "≤"),
        ("minLength", "len ≥"),
        ("maxLength", "len ≤"),
    ):
        if key in prop:
            limits.append(f"{sign} {prop[key]}")
    if "default" in prop:
        limits.append(f"default {prop['default']!r}")
    if limits:
        text += ": " + "; ".join(limits)
    if prop.get("nullable"):
        text += ", null"
    return text, None
