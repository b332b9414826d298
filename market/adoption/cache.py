"""The figures as served: each worker keeps the counts of a report for a short, stated time.

A report's SQL (``queries.count_figures``: a GROUP BY over the stalls and up to stalls × 30
rollup rows) costs ~100 ms with 60 markets × 250 stalls; officials refreshing the dashboard
would spend that on every view, on the same workers that answer shoppers and banks. So each
worker keeps the ``Counts`` of a scope (the province, a manager's markets, one market) for
``ADOPTION_CACHE_SECONDS`` (``MARKET_ADOPTION_CACHE_SECONDS``, default 60; 0 turns it off) and
computes them again on the first request after that, or when the Vietnam day has turned.

What is and is not stale:

* the counts (stalls, QR, stickers, audits, merchants, payments, series) are at most
  ``ADOPTION_CACHE_SECONDS`` old, and the page, exports and API say when they were computed
  (``computed_at``) and how old they may be (``max_age_seconds``);
* each market's own registry entry (name, district, status, the declared criteria) is read on
  every request and the criteria judged on it, so a manager's declaration shows at once;
* the key is the whole input of the counts: the markets in scope (their ids), the settings and
  the kind of report; a manager given a new market gets a new key.

The dashboard page's content (``templates/adoption/_dashboard.html``: a few hundred table
cells, each escaped, some translated), the API's JSON body (a marshmallow dump of every
market) and the CSV / XLSX exports cost more to make than the counts cost to fetch from
here, so they are kept too, with the counts they show: per language and per state of the
registry entries shown, and dropped when their counts are computed again. They hold no form,
token or name, only what the scope's report says.

The entries live on the app (``app.extensions``), one set per worker process; several workers
or hosts each compute once per period. Computing is serialised per worker (one lock), so
threads of one worker never compute the same counts twice at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from datetime import datetime
from typing import Any

from flask import Flask, current_app, request

from market.adoption import queries
from market.adoption.criteria import Settings
from market.adoption.periods import vietnam_date
from market.auth.models import User
from market.markets.models import Market

EXTENSION = "adoption_figures"
#: More entries than this (scopes × kinds) and the expired ones are dropped.
MAX_ENTRIES = 512


class FiguresCache:
    """``key -> Counts`` of one worker, each entry good for ``seconds`` after it was computed
    and on the same Vietnam day."""

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        self._entries: dict[Hashable, queries.Counts] = {}
        self._pages: dict[Hashable, tuple[queries.Counts, Any]] = {}
        self._lock = threading.Lock()

    def fresh(self, counts: queries.Counts, now: datetime) -> bool:
        age = (now - counts.computed_at).total_seconds()
        return 0 <= age < self.seconds and counts.today == vietnam_date(now)

    def counts(
        self, key: Hashable, now: datetime, compute: Callable[[], queries.Counts]
    ) -> queries.Counts:
        if self.seconds <= 0:
            return compute()
        hit = self._entries.get(key)
        if hit is not None and self.fresh(hit, now):
            return hit
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and self.fresh(hit, now):
                return hit
            if len(self._entries) >= MAX_ENTRIES:
                self._entries = {k: v for k, v in self._entries.items() if self.fresh(v, now)}
            counts = compute()
            self._entries[key] = counts
            return counts

    def rendered(self, key: Hashable, counts: queries.Counts, render: Callable[[], Any]) -> Any:
        """What ``render`` made of ``counts`` under ``key``, kept while ``counts`` are the
        ones served (the same object)."""
        if self.seconds <= 0:
            return render()
        hit = self._pages.get(key)
        if hit is not None and hit[0] is counts:
            return hit[1]
        html = render()
        if len(self._pages) >= MAX_ENTRIES:
            self._pages = {}
        self._pages[key] = (counts, html)
        return html

    def clear(self) -> None:
        self._entries.clear()
        self._pages.clear()


def figures_cache(app: Flask | None = None) -> FiguresCache:
    """This worker's cache for ``app`` (the current one by default)."""
    app = app or current_app._get_current_object()
    cache = app.extensions.get(EXTENSION)
    if cache is None:
        cache = app.extensions[EXTENSION] = FiguresCache(app.config["ADOPTION_CACHE_SECONDS"])
    return cache


def province_report(
    user: User, settings: Settings, *, now: datetime, targets: Sequence = ()
) -> queries.ProvinceReport:
    """The user's dashboard (the province for an admin, a manager's markets), its counts from
    this worker's cache when fresh, with its progress against ``targets``."""
    return _province(user, settings, now, targets)[0]()


def province_page(
    user: User,
    settings: Settings,
    *,
    now: datetime,
    locale: str,
    render: Callable[[queries.ProvinceReport], Any],
    targets: Sequence = (),
) -> Any:
    """What ``render`` makes of the user's report (the dashboard's content; the API's JSON
    body with ``locale="json"``; an export file with ``"csv:vi"``...), kept with the report's
    counts for this language and these registry entries."""
    report, counts, markets = _province(user, settings, now, targets)
    registry = tuple(
        (
            m.id,
            m.code,
            m.name,
            m.district,
            m.admin_unit.full_name if m.admin_unit is not None else "",
            m.former_province,
            m.status,
            m.fees_cashless_since,
            m.ecommerce_listed_since,
            m.ecommerce_note,
        )
        for m in markets
    )
    scope = "province" if user.role == "admin" else "markets"
    key = (
        "page",
        scope,
        settings,
        locale,
        request.script_root,
        registry,
        queries.target_key(targets),
    )
    return figures_cache().rendered(key, counts, lambda: render(report()))


def _province(user: User, settings: Settings, now: datetime, targets: Sequence = ()):
    """(a function building the report, its counts, its markets)."""
    markets = queries.dashboard_markets(user)
    ids = tuple(m.id for m in markets)
    cache = figures_cache()
    counts = cache.counts(
        ("province", ids, settings),
        now,
        lambda: queries.count_figures(ids, settings, now=now, series="province"),
    )

    def report() -> queries.ProvinceReport:
        built = queries.province_report(
            markets,
            settings,
            scope="province" if user.role == "admin" else "markets",
            now=now,
            counts=counts,
        )
        built.max_age_seconds = cache.seconds
        built.targets = queries.target_progress(targets, built.markets, built.today)
        return built

    return report, counts, markets


def market_report(market: Market, settings: Settings, *, now: datetime) -> queries.MarketReport:
    """One market's figures (the caller has checked the user may see them)."""
    cache = figures_cache()
    counts = cache.counts(
        ("market", market.id, settings),
        now,
        lambda: queries.count_figures([market.id], settings, now=now, series="market"),
    )
    report = queries.market_report(market, settings, now=now, counts=counts)
    report.max_age_seconds = cache.seconds
    return report
