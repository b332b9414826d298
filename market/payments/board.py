"""The listening board: which merchant has money newer than a phone's cursor, per worker.

2,100 listening phones each ask every couple of seconds whether anything arrived; nearly
always nothing did. That question must cost next to nothing, so it is answered from memory:
each worker keeps, per merchant, the newest matched payment id it has seen, and reads the
payments stored since its last look (one indexed query, at most every ``REFRESH`` seconds,
whoever asks). It needs no Redis and no change to the webhook's one-statement store, and
works across hosts: every worker reads the one database. On threaded workers the question
may wait for news (a long poll, ``MARKET_LISTEN_WAIT_SECONDS``; :meth:`ListenBoard.wait`):
2,100 phones then cost ~85 answers a second instead of ~1,000, the measured choice against
polling and plain full polling (bench/bench_listen.py; docs/deploy.md, "The listening
screen").

The phone proves who it listens for with a *listen key*: the merchant id signed with
``SECRET_KEY`` (itsdangerous, its own salt), handed out by the logged-in page and its JSON
answers and good for ``KEY_SECONDS``. So the question loads no session user and touches no
table. What a key gives away is only whether a merchant has a payment above an id; the
payments themselves are served to the logged-in merchant alone (merchants.listen_payments).

Nothing is stepped over. PostgreSQL hands out ids before commit, so an insert can become
visible after one with a higher id. The board reads again from the newest id it had seen
``SETTLE`` seconds earlier, so it sees such a late row; the cursor a phone is given never
passes the newest id seen ``SETTLE`` seconds ago (``settled``), so the payments answer still
holds it; and a late row for a merchant below the newest id the phone has seen is news
(``late_at``) for a phone whose last payments answer is older than it.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque

from flask import Flask, current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from market.payments import queries

EXTENSION = "payments.listen_board"
#: Seconds between two reads of new payments by one worker.
REFRESH = 0.5
#: A payment committed up to this many seconds after a higher id is still heard.
SETTLE = 30.0
#: A held question ends after between (1 - JITTER) and all of its wait, at random.
JITTER = 0.2
#: How long a listen key is good for; every answer of the screen's JSON hands out a new one.
KEY_SECONDS = 2 * 24 * 3600
_SALT = "market.listen-key"


class ListenBoard:
    """Newest matched payment id per merchant, as one worker has seen them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: Long polls waiting, by merchant (market.merchants.views.listen_changes with wait).
        self._waiting: dict[int, set[threading.Event]] = {}
        self._waiting_lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self._latest: dict[int, int] = {}
        #: When (wall clock) a payment below a merchant's newest id was first seen.
        self._late_at: dict[int, float] = {}
        #: Ids read within the last SETTLE seconds (to tell a late one from one seen before).
        self._known: dict[int, float] = {}
        #: The newest id when this worker started: of anything at or below it the board
        #: knows nothing, so a phone that has seen less is told to ask.
        self.floor: int | None = None
        self._top = 0
        #: (monotonic time, newest id seen then), oldest first.
        self._seen: deque[tuple[float, int]] = deque()
        self._checked = float("-inf")

    def refresh(self, now: float | None = None) -> None:
        """Read payments stored since the newest id seen ``SETTLE`` seconds ago."""
        now = time.monotonic() if now is None else now
        if self.floor is None:
            self.floor = self._top = queries.latest_payment_id()
            self._seen.append((now, self._top))
            self._checked = now
            return
        # Keep one entry at least SETTLE old: it is where to read from, and ``settled``.
        while len(self._seen) > 1 and self._seen[1][0] <= now - SETTLE:
            self._seen.popleft()
        start = self._seen[0][1]
        wall = time.time()
        changed: set[int] = set()
        while True:
            rows = queries.received_since(start)
            for payment_id, merchant_id in rows:
                if payment_id in self._known:
                    continue
                self._known[payment_id] = now
                changed.add(merchant_id)
                newest = self._latest.get(merchant_id, 0)
                if payment_id > newest:
                    self._latest[merchant_id] = payment_id
                else:
                    self._late_at[merchant_id] = wall
                self._top = max(self._top, payment_id)
            if len(rows) < queries.RECEIVED_BATCH:
                break
            start = rows[-1][0]
        self._known = {i: t for i, t in self._known.items() if t > now - 2 * SETTLE}
        self._late_at = {m: t for m, t in self._late_at.items() if t > wall - 2 * SETTLE}
        self._seen.append((now, self._top))
        self._checked = now
        if changed and self._waiting:
            with self._waiting_lock:
                for merchant_id in changed & self._waiting.keys():
                    for event in self._waiting[merchant_id]:
                        event.set()

    def refresh_if_stale(self) -> None:
        now = time.monotonic()
        if now - self._checked < REFRESH:
            return
        # One thread reads; the others answer from what is there (at most REFRESH old).
        if not self._lock.acquire(blocking=self.floor is None):
            return
        try:
            if now - self._checked >= REFRESH:
                self.refresh(now)
        finally:
            self._lock.release()

    def settled(self) -> int:
        """An id at or below which every payment is committed (as far as anyone can tell):
        the newest this worker saw ``SETTLE`` seconds ago (its floor until then)."""
        self.refresh_if_stale()
        now = time.monotonic()
        # A copy first (made at once, under the GIL): a reader thread may be appending.
        old = [top for at, top in list(self._seen) if at <= now - SETTLE]
        if old:
            return old[-1]
        # Younger than SETTLE: what was there when it started (a write in flight at that
        # very moment is the one thing this can miss).
        return self.floor or 0

    def has_news(self, merchant_id: int, seen: int, asked_at: float) -> bool:
        """Whether a phone that has seen ids up to ``seen``, and last asked for the payments
        at ``asked_at`` (server wall clock), should ask for ``merchant_id``'s payments."""
        self.refresh_if_stale()
        if self.floor is None or seen < self.floor:
            return True
        if self._latest.get(merchant_id, 0) > seen:
            return True
        return self._late_at.get(merchant_id, 0.0) >= asked_at - 1.0

    def wait(self, app: Flask, merchant_id: int, seen: int, asked_at: float, timeout: float):
        """:meth:`has_news`, waiting up to ``timeout`` seconds for it to become true (a long
        poll: for threaded or async workers only). Woken by the worker's reader thread."""
        event = threading.Event()
        with self._waiting_lock:
            self._waiting.setdefault(merchant_id, set()).add(event)
            if self._reader is None:
                self._reader = threading.Thread(
                    target=self._read_while_waited, args=(app,), name="listen-board", daemon=True
                )
                self._reader.start()
        try:
            deadline = time.monotonic() + timeout
            while not self.has_news(merchant_id, seen, asked_at):
                left = deadline - time.monotonic()
                if left <= 0 or not event.wait(left):
                    return self.has_news(merchant_id, seen, asked_at)
                event.clear()
            return True
        finally:
            with self._waiting_lock:
                events = self._waiting.get(merchant_id, set())
                events.discard(event)
                if not events:
                    self._waiting.pop(merchant_id, None)

    def _read_while_waited(self, app: Flask) -> None:
        """Read new payments every REFRESH seconds while anyone waits, then stop (started
        again by the next long poll, so only after the worker was forked)."""
        from market.extensions import db

        while True:
            try:
                with app.app_context():
                    try:
                        self.refresh_if_stale()
                    finally:
                        db.session.remove()
            except Exception:
                app.logger.exception("listening board: reading new payments failed")
            time.sleep(REFRESH)
            with self._waiting_lock:
                if not self._waiting:
                    self._reader = None
                    return


def held_for(wait: float) -> float:
    """How long to hold a question that may wait ``wait`` seconds. Phones that began together
    (the morning's opening, the pool's restart, a network coming back) would otherwise all
    come back together every ``wait`` seconds, a burst of thousands of requests in a second
    or two; ending each at a random point of the last fifth spreads them out within a few
    rounds. Nothing is late for it: news ends a wait at once."""
    return wait * random.uniform(1 - JITTER, 1.0)  # noqa: S311 - spreading load, not a secret


def board(app: Flask | None = None) -> ListenBoard:
    app = app or current_app
    found = app.extensions.get(EXTENSION)
    if found is None:
        found = app.extensions.setdefault(EXTENSION, ListenBoard())
    return found


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def listen_key(merchant_id: int) -> str:
    return _serializer().dumps(merchant_id)


#: Keys this worker has checked: (secret, key) -> (merchant id, signed at). Checking a
#: signature cost more than the rest of the question (bench/bench_listen.py).
_checked_keys: dict[tuple[str, str], tuple[int, float]] = {}
_CHECKED_MAX = 20_000


def merchant_of_key(key: str | None, *, max_age: int = KEY_SECONDS) -> int | None:
    """The merchant a listen key was made for, or None (absent, forged, expired)."""
    if not key or len(key) > 200:
        return None
    secret = current_app.config["SECRET_KEY"]
    hit = _checked_keys.get((secret, key))
    if hit is None:
        try:
            merchant_id, signed_at = _serializer().loads(
                key, max_age=max_age, return_timestamp=True
            )
        except BadSignature:
            return None
        if not isinstance(merchant_id, int):
            return None
        if len(_checked_keys) >= _CHECKED_MAX:
            _checked_keys.clear()
        hit = _checked_keys[(secret, key)] = (merchant_id, signed_at.timestamp())
    merchant_id, signed_at = hit
    return merchant_id if time.time() - signed_at <= max_age else None
