"""Who may see and change what. Pure functions of a user and the object's market.

Views hide other markets' objects (404); services refuse a change a user may not make
(403). Both call these, so the rules live in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from market.auth.models import User

if TYPE_CHECKING:
    from market.markets.models import Market, Stall
    from market.merchants.models import PayeeAccount


def _assigned(user: User, market_id: int) -> bool:
    return market_id in user.market_ids


def can_view_market(user: User, market: Market) -> bool:
    if user.role == "admin":
        return True
    return user.role in ("manager", "helper") and _assigned(user, market.id)


def can_create_market(user: User) -> bool:
    return user.role == "admin"


def can_edit_market(user: User, market: Market) -> bool:
    return user.role == "admin" or (user.role == "manager" and _assigned(user, market.id))


def can_onboard(user: User, market: Market) -> bool:
    """Add and edit stalls and merchants, import files."""
    return can_view_market(user, market)


def can_edit_merchant(user: User, held_market_ids: Iterable[int]) -> bool:
    """A merchant's personal data (name, phone, tax code, consent) are shared by every
    market where they hold a stall: only someone who may onboard in all of those markets
    changes them (the province always). ``held_market_ids``: those markets (none for a
    merchant who holds no stall). See docs/hardening.md."""
    if user.role == "admin":
        return True
    return user.role in ("manager", "helper") and all(
        _assigned(user, market_id) for market_id in held_market_ids
    )


def can_view_stall(user: User, stall: Stall) -> bool:
    if user.role == "merchant":
        return user.merchant_id is not None and stall.merchant_id == user.merchant_id
    return can_view_market(user, stall.market)


def can_set_payee(user: User, stall: Stall, current: PayeeAccount | None) -> bool:
    """Helpers may set a payee only while the current one is not yet verified."""
    if user.role in ("admin", "manager"):
        return can_view_market(user, stall.market)
    if user.role == "helper":
        return can_view_market(user, stall.market) and (current is None or not current.verified)
    return False


def can_verify_payees(user: User) -> bool:
    """Whose role verifies payee accounts at all (the pending-changes page)."""
    return user.role in ("admin", "manager")


def can_verify_payee(user: User, market: Market) -> bool:
    """Whose role lets them verify payee accounts of this market: its managers and the
    province. Whether they may verify a given account (four-eyes: not their own change) is
    decided in ``market.merchants.services.verify_refusal``."""
    return is_market_manager(user, market)


def is_market_manager(user: User, market: Market) -> bool:
    return user.role == "admin" or (user.role == "manager" and _assigned(user, market.id))


def can_view_audit(user: User, market: Market) -> bool:
    return is_market_manager(user, market)


def can_manage_users(user: User) -> bool:
    return user.role == "admin"


def can_print_market(user: User, market: Market) -> bool:
    """Whole-market print kits: the province and the market's managers."""
    return is_market_manager(user, market)


def can_audit_stickers(user: User, market: Market) -> bool:
    """Photograph stickers on a market walk: managers and helpers of the market."""
    return can_view_market(user, market)


def can_manage_fees(user: User, market: Market) -> bool:
    """The board's money: its collection account, fee types and rates, billing, credit
    notes. The market's managers and the province."""
    return is_market_manager(user, market)


def can_view_fees(user: User, market: Market) -> bool:
    """A market's bills and notices, and entering meter readings on a market walk: its
    managers and helpers, and the province. (A merchant sees their own bills on /me.)"""
    return can_view_market(user, market)
