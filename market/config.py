"""Settings: defaults, overridden by the environment (``MARKET_*``, ``DATABASE_URL``, ``SECRET_KEY``).

Development and testing get a throwaway secret key; production refuses to start without one.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

ENVIRONMENTS = ("development", "testing", "production")


class ConfigError(RuntimeError):
    """The environment does not describe a runnable configuration."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _proxy_count(value: str | None) -> int:
    """How many proxies in front of the app set X-Forwarded-*; 0 trusts none."""
    text = (value or "0").strip()
    if not text.isdigit():
        raise ConfigError(
            f"MARKET_PROXY_FIX must be a number of proxies (0, 1, 2...), not {text!r}"
        )
    return int(text)


def _seconds(name: str, value: str | None, default: float = 5.0) -> float:
    """A duration in seconds from 0 to an hour (0: never cached)."""
    if value is None or not value.strip():
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 3600:
        raise ConfigError(f"{name} must be a number of seconds from 0 to 3600, not {value!r}")
    return seconds


def _days(value: str | None) -> int:
    """How long an activation code lives (MARKET_ACTIVATION_CODE_DAYS), 1 to 90 days."""
    text = (value or "7").strip()
    if not text.isdigit() or not 1 <= int(text) <= 90:
        raise ConfigError(f"MARKET_ACTIVATION_CODE_DAYS must be 1 to 90 days, not {text!r}")
    return int(text)


def _market_hours(value: str | None) -> tuple[int, int]:
    """``MARKET_HOURS``, "05:00-19:00": when the markets trade, Vietnam time, as minutes
    after midnight (opening, closing); closing after opening, on the same day."""
    text = (value or "05:00-19:00").strip()
    try:
        opening, closing = (
            int(hours) * 60 + int(minutes)
            for hours, minutes in (part.strip().split(":") for part in text.split("-"))
        )
    except ValueError:
        opening = closing = -1
    if not 0 <= opening < closing <= 24 * 60:
        raise ConfigError(f"MARKET_HOURS must be opening-closing like 05:00-19:00, not {text!r}")
    return opening, closing


def _silence_minutes(value: str | None) -> int:
    text = (value or "120").strip()
    if not text.isdigit() or not 5 <= int(text) <= 24 * 60:
        raise ConfigError(
            f"MARKET_INTEGRATION_SILENCE_MINUTES must be 5 to 1440 minutes, not {text!r}"
        )
    return int(text)


def _adoption() -> dict[str, Any]:
    """Chợ 4.0 targets (``MARKET_ADOPTION_*``). The defaults follow Thái Nguyên's 2022 plan: at
    least 60 Chợ 4.0 markets by the end of 2025, every stall of such a market with a QR, ~2,100
    merchants to onboard; a stall is an active cashless stall from 20 payments in 30 days."""

    def number(name: str, default: str, low: float, high: float, kind: type) -> Any:
        text = os.environ.get(f"MARKET_ADOPTION_{name}", default).strip()
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise ConfigError(
                f"MARKET_ADOPTION_{name} must be between {low} and {high}, not {text!r}"
            )
        return value

    deadline = os.environ.get("MARKET_ADOPTION_DEADLINE", "2025-12-31").strip()
    try:
        deadline_date = date.fromisoformat(deadline)
    except ValueError:
        raise ConfigError(
            f"MARKET_ADOPTION_DEADLINE must be a date like 2025-12-31, not {deadline!r}"
        ) from None
    return {
        "ADOPTION_TARGET_MARKETS": number("TARGET_MARKETS", "60", 1, 10_000, int),
        "ADOPTION_DEADLINE": deadline_date,
        "ADOPTION_QR_SHARE": number("QR_SHARE", "1.0", 0.01, 1.0, float),
        "ADOPTION_ACTIVE_MIN_PAYMENTS": number("ACTIVE_MIN_PAYMENTS", "20", 1, 100_000, int),
        "ADOPTION_BASELINE_MERCHANTS": number("BASELINE_MERCHANTS", "2100", 1, 10_000_000, int),
        # How long a worker serves the figures' counts before computing them again (0: never
        # cached); the pages, exports and API state it (market.adoption.cache).
        "ADOPTION_CACHE_SECONDS": number("CACHE_SECONDS", "60", 0, 3600, int),
    }


def _fees() -> dict[str, Any]:
    """``MARKET_FEES_CASHLESS_SHARE``: the share of a market's fee amount collected in its last
    closed billing period that must be paid cashless for ``fees_cashless`` to be met when it
    is measured (docs/fees.md says why 0.9)."""
    text = os.environ.get("MARKET_FEES_CASHLESS_SHARE", "0.9").strip()
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0.01 <= value <= 1.0:
        raise ConfigError(f"MARKET_FEES_CASHLESS_SHARE must be between 0.01 and 1.0, not {text!r}")
    return {"FEES_CASHLESS_SHARE": value}


def _database_url(instance_path: Path) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{instance_path / 'market.sqlite3'}"
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants a driver name.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the settings for one app: defaults < environment < ``overrides``."""
    overrides = dict(overrides or {})
    env = overrides.get("ENV") or os.environ.get("MARKET_ENV", "development")
    if env not in ENVIRONMENTS:
        raise ConfigError(f"MARKET_ENV must be one of {ENVIRONMENTS}, not {env!r}")
    production = env == "production"

    settings: dict[str, Any] = {
        "ENV": env,
        "TESTING": env == "testing",
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": _database_url(instance_path),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(os.environ.get("MARKET_SECURE_COOKIES"), production),
        "REMEMBER_COOKIE_SECURE": _bool(os.environ.get("MARKET_SECURE_COOKIES"), production),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "LANGUAGES": ("vi", "en"),
        "RATELIMIT_STORAGE_URI": os.environ.get("MARKET_REDIS_URL", "memory://"),
        # If Redis goes away each process counts on its own until it is back: logins keep
        # working (still limited, per process) instead of failing with 500.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_RATE_LIMIT": os.environ.get("MARKET_LOGIN_RATE_LIMIT", "10 per minute"),
        # The pay page's saved QR card is public and costs ~25 ms of CPU to draw (text and
        # zlib; bench/bench_pay_card.py): a shopper saves one or two, a script thousands.
        "PAY_CARD_RATE_LIMIT": os.environ.get("MARKET_PAY_CARD_RATE_LIMIT", "30 per minute"),
        "LOGIN_ACCOUNT_RATE_LIMIT": os.environ.get(
            "MARKET_LOGIN_ACCOUNT_RATE_LIMIT", "5 per minute"
        ),
        "ACTIVATION_RATE_LIMIT": os.environ.get("MARKET_ACTIVATION_RATE_LIMIT", "10 per hour"),
        "ACTIVATION_CODE_DAYS": _days(os.environ.get("MARKET_ACTIVATION_CODE_DAYS")),
        # Exports and other requests that hold a worker for long, per user (market.limits).
        "HEAVY_RATE_LIMIT": os.environ.get("MARKET_HEAVY_RATE_LIMIT", "10 per minute"),
        # Wrong or revoked API tokens per address; past it the API answers 429.
        "API_TOKEN_FAILURE_LIMIT": os.environ.get(
            "MARKET_API_TOKEN_FAILURE_LIMIT", "20 per minute"
        ),
        "PUBLIC_BASE_URL": os.environ.get("MARKET_PUBLIC_BASE_URL", "http://127.0.0.1:8000"),
        "PAGE_SIZE": 50,
        # How long a worker trusts the webhook secrets it read (market.payments.services).
        "INTEGRATION_CACHE_SECONDS": _seconds(
            "MARKET_INTEGRATION_CACHE_SECONDS", os.environ.get("MARKET_INTEGRATION_CACHE_SECONDS")
        ),
        # How long the listening screen's question may wait for news (a long poll): 0 on
        # sync workers (a waiting request would hold a whole worker); docs/deploy.md.
        "LISTEN_WAIT_SECONDS": _seconds(
            "MARKET_LISTEN_WAIT_SECONDS", os.environ.get("MARKET_LISTEN_WAIT_SECONDS"), 0.0
        ),
        # The providers' transactions APIs (flask payments-sync); staging and tests point
        # them at another server.
        "SEPAY_API_URL": os.environ.get("MARKET_SEPAY_API_URL", "https://userapi.sepay.vn/v2"),
        "CASSO_API_URL": os.environ.get("MARKET_CASSO_API_URL", "https://oauth.casso.vn/v2"),
        "PAYMENTS_SYNC_TIMEOUT": 20.0,
        # The admin screen warns about an integration silent for this many minutes of market
        # hours (market.payments.health).
        "MARKET_HOURS": _market_hours(os.environ.get("MARKET_HOURS")),
        "INTEGRATION_SILENCE_MINUTES": _silence_minutes(
            os.environ.get("MARKET_INTEGRATION_SILENCE_MINUTES")
        ),
        **_adoption(),
        **_fees(),
        "PROXY_FIX": _proxy_count(os.environ.get("MARKET_PROXY_FIX")),
    }
    settings.update(overrides)

    if not settings["SECRET_KEY"]:
        if production:
            raise ConfigError("SECRET_KEY must be set in production (MARKET_ENV=production)")
        settings["SECRET_KEY"] = os.urandom(32).hex() if env == "testing" else "dev-only-not-secret"
    return settings
