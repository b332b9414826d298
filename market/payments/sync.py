"""Catch-up from the notifiers: read the providers' transactions APIs and store what the
webhooks missed (``flask payments-sync``).

SePay retries a webhook for about 33 minutes and then gives up, and advises also pulling the
transactions every 15–30 minutes; Casso likewise lists transactions by API. Each transfer read
here goes through the webhook's own storing path (:func:`services.store_transfer`), so it is
matched, counted and credited exactly as a notification is, and stored once: the webhook and
the API name it by different ids, and the shared key is the transfer itself (provider, account,
bank reference, direction, amount; docs/payments-sync.md says why).

The fields relied on, as the providers document them:

SePay API v2 (``GET {MARKET_SEPAY_API_URL}/transactions``, ``Authorization: Bearer <token>``,
pages of ``page``/``per_page`` ≤ 100, 3 requests/second per IP, 429 with ``Retry-After``)::

    {"status": "success", "data": [{"id": "<uuid>", "transaction_date": "2026-01-22 16:45:30",
      "account_number": "0123456789", "va": "VA001", "transfer_type": "in", "amount_in": 500000,
      "amount_out": 0, "transaction_content": "…", "reference_number": "FT26069ABC",
      "code": null, "bank_brand_name": "ACB", …}],
     "meta": {"pagination": {"current_page": 1, "last_page": 3, "has_more": true, …}}}

Casso API v2 (``GET {MARKET_CASSO_API_URL}/transactions``, ``Authorization: Apikey <key>``,
``fromDate``/``toDate`` (YYYY-MM-DD), ``page``, ``pageSize``, ``sort=ASC``)::

    {"error": 0, "message": "success", "data": {"page": 1, "pageSize": 100, "nextPage": 2,
     "totalPages": 4, "records": [{"id": 5789, "tid": "TF2104152395814062",
     "description": "…", "amount": -193000, "when": "2021-04-15 10:03:00",
     "bankSubAccId": "8007041027107", "virtualAccount": "", "corresponsiveName": "", …}]}}

The HTTP client is the standard library's: a request has a timeout, a 429 waits its
``Retry-After`` (capped), a timeout, a connection error or a 5xx is retried a bounded number of
times, and requests to one provider are spaced to its documented rate.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from marshmallow import ValidationError

from market.payments.schemas import VN_TZ, Transfer, squeeze_name, vietnam_time

#: Requests per second each provider allows (SePay documents 3/s per IP; Casso documents no
#: number, so the same pace).
REQUESTS_PER_SECOND = 3
PAGE_SIZE = 100
MAX_ATTEMPTS = 4
#: The longest a Retry-After is obeyed; a provider asking for more is retried by the next run.
MAX_RETRY_AFTER = 30.0
#: A run never reads more pages than this per integration (a wrong filter must not loop).
MAX_PAGES = 500
#: An event id of a transfer read from an API: the API's own id, apart from webhook ids.
API_EVENT_PREFIX = "api:"


class SyncError(Exception):
    """A provider's API could not be read (refused, unreachable, or not what it documents)."""


@dataclass(frozen=True, slots=True)
class ApiTransfer:
    transfer: Transfer
    raw: dict[str, Any]


@dataclass(slots=True)
class SyncSummary:
    checked: int = 0
    new: int = 0
    failed: int = 0
    unkeyed: int = 0  # stored only if no other route can: no bank reference to share
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        return f"payments-sync: checked {self.checked}, new {self.new}, failed {self.failed}" + (
            f", without reference {self.unkeyed}" if self.unkeyed else ""
        )


class HttpClient:
    """GET JSON with a timeout, bounded retries and a minimum interval between requests.
    ``sleep`` and ``clock`` are injectable so tests never wait on the wall clock."""

    def __init__(
        self,
        *,
        timeout: float,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        per_second: float = REQUESTS_PER_SECOND,
    ) -> None:
        self.timeout = timeout
        self.sleep = sleep
        self.clock = clock
        self.interval = 1.0 / per_second
        self._last: float | None = None

    def _pace(self) -> None:
        if self._last is not None:
            wait = self.interval - (self.clock() - self._last)
            if wait > 0:
                self.sleep(wait)
        self._last = self.clock()

    def get_json(self, url: str, params: dict[str, Any], headers: dict[str, str]) -> Any:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise SyncError(f"not an http(s) URL: {url!r}")
        full = f"{url}?{urllib.parse.urlencode(params)}"
        # The scheme is checked above: a setting cannot make this read a file.
        request = urllib.request.Request(  # noqa: S310
            full, headers={**headers, "Accept": "application/json"}
        )
        problem = ""
        for _attempt in range(MAX_ATTEMPTS):
            self._pace()
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    body = response.read()
            except urllib.error.HTTPError as exc:
                if exc.code in (401, 403):
                    raise SyncError(f"refused the API token (HTTP {exc.code})") from exc
                if exc.code == 429:
                    problem = "rate limited (HTTP 429)"
                    self.sleep(_retry_after(exc.headers))
                    continue
                if exc.code >= 500:
                    problem = f"HTTP {exc.code}"
                    self.sleep(self.interval)
                    continue
                raise SyncError(f"HTTP {exc.code}") from exc
            except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
                problem = f"unreachable ({getattr(exc, 'reason', exc)})"
                self.sleep(self.interval)
                continue
            try:
                return json.loads(body)
            except ValueError as exc:
                raise SyncError("answered something other than JSON") from exc
        raise SyncError(f"gave up after {MAX_ATTEMPTS} attempts: {problem}")


def _retry_after(headers: Any) -> float:
    text = (headers.get("Retry-After") or headers.get("x-sepay-userapi-retry-after") or "1").strip()
    try:
        seconds = float(text)
    except ValueError:
        seconds = 1.0
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _vietnam_day(moment: datetime) -> str:
    return moment.astimezone(VN_TZ).strftime("%Y-%m-%d")


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _amount(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("not an amount")
    if isinstance(value, int):
        return value
    number = float(value)  # SePay's older API writes "18067000.00"
    if not number.is_integer():
        raise ValueError("not a whole number of dong")
    return int(number)


def _event_id(value: Any) -> str:
    text = _text(value)
    if not text:
        raise ValueError("no transaction id")
    return (API_EVENT_PREFIX + text)[:64]


def sepay_transfer(record: dict[str, Any]) -> Transfer:
    """One SePay API v2 transaction as a :class:`Transfer` (ValueError if it is not one)."""
    kind = _text(record.get("transfer_type"))
    if kind not in ("in", "out"):
        raise ValueError("transfer_type is neither in nor out")
    amount = _amount(record.get("amount_in") if kind == "in" else record.get("amount_out"))
    if amount < 0:
        raise ValueError("negative amount")
    content = _text(record.get("transaction_content"))
    code = _text(record.get("code"))
    if code:
        content = f"{content} {code}".strip()
    return Transfer(
        provider="sepay",
        event_id=_event_id(record.get("id")),
        direction=kind,
        amount=amount,
        account_number=_text(record.get("account_number")),
        sub_account=_text(record.get("va")),
        bank=_text(record.get("bank_brand_name")),
        content=content,
        reference_code=_text(record.get("reference_number"))[:100],
        transaction_at=vietnam_time(_text(record.get("transaction_date"))),
    )


def casso_transfer(record: dict[str, Any]) -> Transfer:
    """One Casso API v2 transaction as a :class:`Transfer` (ValueError if it is not one)."""
    amount = _amount(record.get("amount"))
    return Transfer(
        provider="casso",
        event_id=_event_id(record.get("id")),
        direction="out" if amount < 0 else "in",
        amount=abs(amount),
        account_number=_text(record.get("bankSubAccId")),
        sub_account=_text(record.get("virtualAccount")),
        bank=_text(record.get("bankCodeName")),
        content=_text(record.get("description")),
        reference_code=_text(record.get("tid"))[:100],
        transaction_at=vietnam_time(_text(record.get("when")).replace("T", " ")),
        payer_name=squeeze_name(_text(record.get("corresponsiveName"))),
    )


def _records(client, url, params, headers, read_page) -> Iterator[dict[str, Any]]:
    page = 1
    while page <= MAX_PAGES:
        answer = client.get_json(url, params | {"page": page}, headers)
        try:
            records, more = read_page(answer)
        except (KeyError, TypeError, AttributeError) as exc:
            raise SyncError("answered a page in an undocumented shape") from exc
        yield from records
        if not more or not records:
            return
        page += 1


def _sepay_page(answer: Any) -> tuple[list, bool]:
    if answer.get("status") not in (None, "success"):
        raise SyncError(f"SePay: {answer.get('message') or answer.get('status')}")
    pagination = (answer.get("meta") or {}).get("pagination") or {}
    more = bool(pagination.get("has_more")) or (
        int(pagination.get("current_page") or 1) < int(pagination.get("last_page") or 1)
    )
    return list(answer["data"]), more


def _casso_page(answer: Any) -> tuple[list, bool]:
    if answer.get("error") not in (0, None):
        raise SyncError(f"Casso: {answer.get('message') or answer.get('error')}")
    data = answer["data"]
    more = int(data.get("page") or 1) < int(data.get("totalPages") or 1)
    return list(data["records"]), more


def provider_transfers(
    provider: str, base_url: str, token: str, client: HttpClient, since: datetime, until: datetime
) -> Iterator[ApiTransfer | ValueError]:
    """The transfers of [since, until] a provider's API lists (a ValueError in place of a
    record that is not a transfer). The window is asked of the API by day and checked here by
    the transaction's time, and the pages stop once a whole page is older than ``since``."""
    base = base_url.rstrip("/") + "/transactions"
    days = {"from": _vietnam_day(since), "to": _vietnam_day(until)}
    if provider == "sepay":
        headers = {"Authorization": f"Bearer {token}"}
        params = {"per_page": PAGE_SIZE, "from_date": days["from"], "to_date": days["to"]}
        read_page, to_transfer = _sepay_page, sepay_transfer
    else:
        headers = {"Authorization": f"Apikey {token}"}
        params = {
            "pageSize": PAGE_SIZE,
            "fromDate": days["from"],
            "toDate": days["to"],
            "sort": "ASC",
        }
        read_page, to_transfer = _casso_page, casso_transfer
    for record in _records(client, base, params, headers, read_page):
        try:
            transfer = to_transfer(record)
        except (ValueError, TypeError, ValidationError) as exc:
            yield ValueError(str(exc))
            continue
        at = transfer.transaction_at
        if at is not None and not (since <= at <= until):
            continue
        yield ApiTransfer(transfer, record)


# --- one run at a time -----------------------------------------------------------------------

#: The PostgreSQL advisory lock key of the sync (any constant both hosts agree on).
ADVISORY_KEY = zlib.crc32(b"market.payments.sync")


@contextlib.contextmanager
def run_lock(engine) -> Iterator[bool]:
    """Yield True when this process holds the sync lock for the block, False when another run
    (on any host) holds it. PostgreSQL: a session advisory lock, released when the block ends
    or the connection drops (a killed run never leaves it held). SQLite: one host only, an
    exclusive ``flock`` on a file next to the database."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            held = connection.exec_driver_sql(
                f"SELECT pg_try_advisory_lock({ADVISORY_KEY})"
            ).scalar()
            connection.commit()
            try:
                yield bool(held)
            finally:
                if held:
                    connection.exec_driver_sql(f"SELECT pg_advisory_unlock({ADVISORY_KEY})")
                    connection.commit()
        return
    database = engine.url.database or ""
    path = (database if database and database != ":memory:" else "market") + ".sync-lock"
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def window(hours: float, now: datetime) -> tuple[datetime, datetime]:
    return now - timedelta(hours=hours), now


# --- the run ---------------------------------------------------------------------------------


def sync_payments(
    *,
    hours: float,
    now: datetime,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> SyncSummary | None:
    """Store every transfer of the last ``hours`` that the providers' APIs list and we do not
    have, for each enabled integration with an API token. None when another run holds the
    lock (on any host). A provider that fails is counted and reported; the others still run."""
    from flask import current_app

    from market.extensions import db
    from market.payments import queries, services

    config = current_app.config
    urls = {"sepay": config["SEPAY_API_URL"], "casso": config["CASSO_API_URL"]}
    since, until = window(hours, now)
    with run_lock(db.engine) as held:
        if not held:
            return None
        summary = SyncSummary()
        tokens = [
            (i.provider, i.api_token, {a.account_number for a in i.accounts})
            for i in queries.all_integrations()
            if i.enabled and i.api_token
        ]
        db.session.rollback()  # nothing of the session is held while the APIs are read
        for provider, token, watched in tokens:
            client = HttpClient(timeout=config["PAYMENTS_SYNC_TIMEOUT"], sleep=sleep, clock=clock)
            try:
                for item in provider_transfers(
                    provider, urls[provider], token, client, since, until
                ):
                    summary.checked += 1
                    if isinstance(item, ValueError):
                        summary.failed += 1
                        summary.errors.append(f"{provider}: {item}")
                        continue
                    if watched and item.transfer.account_number not in watched:
                        # Another integration's account (one company's token may list
                        # accounts of boards that have their own integration).
                        summary.checked -= 1
                        continue
                    if not item.transfer.reference_code:
                        # Nothing the webhook's copy shares with this one but the amount:
                        # storing it could count one payment twice. Left to the webhook
                        # and to the unmatched review.
                        summary.unkeyed += 1
                        continue
                    raw = json.dumps(item.raw, ensure_ascii=False, sort_keys=True).encode()
                    try:
                        stored = services.store_transfer(item.transfer, raw, now)
                    except services.StorageUnavailable as exc:
                        summary.failed += 1
                        summary.errors.append(f"{provider}: {exc}")
                        continue
                    if stored is not None:
                        summary.new += 1
            except SyncError as exc:
                summary.failed += 1
                summary.errors.append(f"{provider}: {exc}")
        return summary
