"""One page of a query's rows, with the total for page links."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select

from market.extensions import db

T = TypeVar("T")

#: The highest page number anyone asks for: beyond it the offset alone could overflow the
#: database's integers (a page far past the end is simply empty, as any page past the end).
MAX_PAGE = 1_000_000


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(query: Select[Any], page: int, per_page: int) -> Page[Any]:
    page = min(max(1, page), MAX_PAGE)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=list(rows), page=page, per_page=per_page, total=total or 0)


def paginate_list(items: Sequence[T], page: int, per_page: int) -> Page[T]:
    """One page of a list already in memory (figures computed for every market at once)."""
    page = min(max(1, page), MAX_PAGE)
    start = (page - 1) * per_page
    return Page(
        items=list(items[start : start + per_page]), page=page, per_page=per_page, total=len(items)
    )
