"""The OpenAPI document and the docs page are written from the views' own schemas."""

import re

from market.api.schemas import ErrorSchema
from market.errors import error_body


def _api_rules(app):
    return {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_document_describes_every_api_route(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    documented = {
        (re.sub(r"\{(\w+)\}", r"<\1>", path), method.upper())
        for path, item in spec["paths"].items()
        for method in item
        if method != "parameters"
    }
    routes = {(re.sub(r"<(?:[^:>]+:)?(\w+)>", r"<\1>", r), m) for r, m in _api_rules(app)}
    assert documented == routes
    for item in spec["paths"].values():
        for method, op in item.items():
            if method == "parameters":
                continue
            assert op["summary"] and op["operationId"] and op["tags"]
            assert "401" in op["responses"]
            assert any(code.startswith("2") for code in op["responses"])
    assert spec["components"]["securitySchemes"]["token"]["scheme"] == "bearer"


def test_every_list_is_paged_and_every_body_has_a_schema(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    for item in spec["paths"].values():
        get = item.get("get")
        if get and get["operationId"].startswith("list_"):
            names = {p["name"] for p in get["parameters"]}
            assert {"page", "per_page"} <= names
            ref = get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
            page = schemas[ref.rsplit("/", 1)[-1]]
            assert set(page["required"]) == {"items", "page", "per_page", "total"}
        for method in ("post", "put", "patch"):
            if method in item and "requestBody" in item[method]:
                body = item[method]["requestBody"]["content"]["application/json"]["schema"]
                assert body["$ref"].rsplit("/", 1)[-1] in schemas


def test_error_schema_is_the_shape_of_error_body():
    schema = ErrorSchema()
    assert schema.load(error_body(404, "Không tìm thấy.")) == error_body(404, "Không tìm thấy.")
    body = error_body(422, "Dữ liệu chưa đúng.", {"phone": ["Sai số."]})
    assert schema.dump(schema.load(body)) == body


def test_docs_page_lists_every_operation_without_scripts_or_outside_assets(app, client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method != "parameters":
                assert f"{method.upper()} {path}" in html
                assert f'id="op-{op["operationId"]}"' in html
    for name in spec["components"]["schemas"]:
        assert f'id="schema-{name}"' in html
    assert "<script" not in html
    assert "style=" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
