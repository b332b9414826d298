"""Page parameters and the page envelope ``{items, page, per_page, total}`` of every list."""

from __future__ import annotations

import functools

from marshmallow import EXCLUDE, Schema, fields, validate

from market.pagination import MAX_PAGE, Page

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200


class PageQuerySchema(Schema):
    """Base of every list's query parameters; unknown parameters are ignored."""

    class Meta:
        unknown = EXCLUDE

    page = fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=MAX_PAGE),
        metadata={"description": "Page number, from 1."},
    )
    per_page = fields.Integer(
        load_default=DEFAULT_PER_PAGE,
        validate=validate.Range(min=1, max=MAX_PER_PAGE),
        metadata={"description": f"Items per page, at most {MAX_PER_PAGE}."},
    )


@functools.cache
def page_schema(item: type[Schema]) -> type[Schema]:
    """The envelope around ``item``: one class per item schema, named after it."""
    name = item.__name__.removesuffix("Schema") + "PageSchema"
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item), required=True),
            "page": fields.Integer(required=True),
            "per_page": fields.Integer(required=True),
            "total": fields.Integer(required=True, metadata={"description": "Items on all pages."}),
        },
        name=name,
    )


def page_of(page: Page, items: list) -> dict:
    """A page's envelope with ``items`` made from its rows."""
    return {"items": items, "page": page.page, "per_page": page.per_page, "total": page.total}
