"""API shapes of the adoption figures (``/api/v1/adoption``, ``/api/v1/markets/<code>/adoption``).

Figures are counts and amounts in dong, as integers; shares are left to the reader (a count
and its denominator are both given), so nothing is rounded twice. ``qr_share`` in the
settings is the only fraction, and is output only.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from market.adoption.criteria import CRITERIA
from market.adoption.queries import STAGES
from market.api.schemas import UtcDateTime
from market.markets.models import MARKET_STATUSES


def _count(description: str) -> fields.Integer:
    return fields.Integer(required=True, metadata={"description": description})


class AdoptionWindowSchema(Schema):
    start = fields.Date(required=True, metadata={"description": "First day (Vietnam time)."})
    last = fields.Date(required=True, metadata={"description": "Last day, today."})


class AdoptionSettingsSchema(Schema):
    target_markets = _count("Chợ 4.0 markets the province aims for.")
    deadline = fields.Date(required=True, metadata={"description": "By when."})
    qr_share = fields.Float(
        dump_only=True,
        metadata={"description": "Share of active stalls that must have a QR (1.0 = all)."},
    )
    active_min_payments = _count("Payments in 30 days that make an active cashless stall.")
    baseline_merchants = _count("Merchants the province plans to onboard.")


class AdoptionCriterionSchema(Schema):
    key = fields.String(required=True, validate=validate.OneOf(CRITERIA))
    met = fields.Boolean(required=True)
    value = _count("What the market has: stalls with a QR, or 1/0 for a declaration.")
    required = _count("What it needs.")
    shortfall = _count("How much is missing (0 when met).")
    since = fields.Date(
        required=True, allow_none=True, metadata={"description": "Declared from (yes/no ones)."}
    )
    measured = fields.Boolean(
        required=True,
        metadata={
            "description": (
                "fees_cashless measured from the fees collected in the market's last closed "
                "billing period (value: dong paid cashless, required: the share of the amount "
                "collected it needs), rather than declared."
            )
        },
    )


class MarketAdoptionSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    unit = fields.String(
        required=True,
        metadata={"description": "Commune or ward today (`Phường Gia Sàng`); empty if none."},
    )
    district = fields.String(
        required=True, metadata={"description": "Former district (before 1 July 2025)."}
    )
    former_province = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(MARKET_STATUSES))
    stage = fields.String(
        required=True,
        validate=validate.OneOf(STAGES),
        metadata={
            "description": "`qualifies`; `in_progress`; `not_started`: no active stall yet "
            "(such a market is never listed as close to qualifying)."
        },
    )
    active_stalls = _count("Stalls with status active.")
    stalls_with_qr = _count("Active stalls whose current payee account is verified.")
    stalls_with_current_sticker = _count(
        "Active stalls with a QR whose sticker was printed after the payee was set."
    )
    paying_stalls = _count("Active stalls that received a payment in the last 30 days.")
    active_cashless_stalls = _count(
        "Active stalls with at least `active_min_payments` payments in the last 30 days."
    )
    audited_stalls = _count("Active stalls whose sticker has been photo-checked.")
    failed_audits = _count("Active stalls whose last sticker check did not match.")
    merchants_onboarded = _count("Distinct merchants holding an active stall with a QR.")
    payments = _count("Payments received in the last 30 days (all stalls of the market).")
    amount = _count("Dong received in the last 30 days.")
    unwatched_stalls = _count(
        "Active stalls with a QR whose account no enabled notifier integration watches: their "
        "payments may not be known, so they are counted apart from paying stalls."
    )
    fees_cashless_since = fields.Date(required=True, allow_none=True)
    ecommerce_listed_since = fields.Date(required=True, allow_none=True)
    ecommerce_note = fields.String(required=True, allow_none=True)
    qualifies = fields.Boolean(required=True, metadata={"description": "Every criterion met."})
    criteria = fields.List(fields.Nested(AdoptionCriterionSchema), required=True)


class AdoptionSeriesSchema(Schema):
    start = fields.Date(required=True)
    last = fields.Date(required=True)
    payments = _count("Payments received.")
    amount = _count("Dong received.")


class AdoptionWeekSchema(AdoptionSeriesSchema):
    iso_year = fields.Integer(required=True)
    iso_week = fields.Integer(required=True)
    stalls_onboarded = _count("Stalls whose first payee account was verified that week.")
    stalls_onboarded_total = _count("Stalls onboarded up to the end of that week.")


class AdoptionDistrictSchema(Schema):
    district = fields.String(
        required=True, metadata={"description": "Former district (before 1 July 2025)."}
    )
    markets = _count("Markets in scope.")
    qualifying = _count("Of which qualify as Chợ 4.0.")
    not_started = _count("Of which have no active stall yet.")
    active_stalls = _count("Active stalls.")
    stalls_with_qr = _count("Active stalls with a QR.")
    paying_stalls = _count("Active stalls paid in the last 30 days.")


class AdoptionUnitSchema(Schema):
    unit = fields.String(
        required=True,
        attribute="district",
        metadata={"description": "Commune or ward (`Phường Gia Sàng`); empty: markets in none."},
    )
    markets = _count("Markets in scope.")
    qualifying = _count("Of which qualify as Chợ 4.0.")
    not_started = _count("Of which have no active stall yet.")
    active_stalls = _count("Active stalls.")
    stalls_with_qr = _count("Active stalls with a QR.")
    paying_stalls = _count("Active stalls paid in the last 30 days.")


class AdoptionTargetSchema(Schema):
    title = fields.String(required=True, metadata={"description": "e.g. the plan it comes from."})
    markets = _count("Chợ 4.0 markets the target asks for.")
    deadline = fields.Date(required=True)
    former_province = fields.String(
        required=True,
        metadata={"description": "Counts only that former province's markets; empty: all."},
    )
    count = _count("Markets it counts that qualify today.")
    state = fields.String(
        required=True,
        validate=validate.OneOf(("reached", "missed", "open")),
        metadata={"description": "`missed`: the deadline passed before it was reached."},
    )
    reached_on = fields.Date(
        required=True, allow_none=True, metadata={"description": "First day seen reached."}
    )


class AdoptionTotalsSchema(Schema):
    markets = _count("Markets in scope.")
    qualifying = _count("Of which qualify as Chợ 4.0.")
    not_started = _count("Of which have no active stall yet.")
    active_stalls = _count("Active stalls.")
    stalls_with_qr = _count("Active stalls with a QR.")
    stalls_with_current_sticker = _count("Active stalls with a current printed sticker.")
    audited_stalls = _count("Active stalls whose sticker has been photo-checked.")
    failed_audits = _count("Active stalls whose last sticker check failed.")
    paying_stalls = _count("Active stalls paid in the last 30 days.")
    active_cashless_stalls = _count("Active cashless stalls.")
    payments = _count("Payments in the last 30 days.")
    amount = _count("Dong received in the last 30 days.")
    merchants_onboarded = _count("Distinct merchants with a QR (each counted once).")
    unwatched_stalls = _count("Active stalls with a QR that no notifier integration watches.")


class AdoptionClosestSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    lacks = fields.List(
        fields.Nested(AdoptionCriterionSchema),
        required=True,
        metadata={"description": "The criteria not met yet, with their shortfall."},
    )


class _ReportSchema(Schema):
    computed_at = UtcDateTime(
        required=True, metadata={"description": "When the counts were computed."}
    )
    max_age_seconds = fields.Integer(
        required=True,
        metadata={
            "description": "The counts are served from a cache and may be up to this many "
            "seconds old (0: computed for this request). Each market's registry entry and "
            "declared criteria are always current."
        },
    )
    today = fields.Date(required=True, metadata={"description": "Today in Vietnam."})
    window = fields.Nested(AdoptionWindowSchema, required=True)
    settings = fields.Nested(AdoptionSettingsSchema, required=True)


class ProvinceAdoptionSchema(_ReportSchema):
    scope = fields.String(
        required=True,
        validate=validate.OneOf(("province", "markets")),
        metadata={"description": "`province`: every market; `markets`: a manager's own."},
    )
    days_to_deadline = fields.Integer(required=True)
    totals = fields.Nested(AdoptionTotalsSchema, required=True)
    targets = fields.List(
        fields.Nested(AdoptionTargetSchema),
        required=True,
        metadata={
            "description": "The province's dated targets, by deadline; `count` counts the "
            "markets in scope (a manager's: their own)."
        },
    )
    units = fields.List(
        fields.Nested(AdoptionUnitSchema),
        required=True,
        metadata={"description": "By commune/ward, in Vietnamese alphabetical order."},
    )
    districts = fields.List(
        fields.Nested(AdoptionDistrictSchema),
        required=True,
        metadata={"description": "By former district (before 1 July 2025)."},
    )
    weekly = fields.List(
        fields.Nested(AdoptionWeekSchema),
        required=True,
        metadata={"description": "The last 12 ISO weeks, oldest first."},
    )
    closest = fields.List(
        fields.Nested(AdoptionClosestSchema),
        required=True,
        metadata={"description": "Markets closest to qualifying, closest first."},
    )
    markets = fields.List(fields.Nested(MarketAdoptionSchema), required=True)


class MarketAdoptionReportSchema(_ReportSchema):
    market = fields.Nested(MarketAdoptionSchema, required=True)
    daily = fields.List(fields.Nested(AdoptionSeriesSchema), required=True)
    weekly = fields.List(
        fields.Nested(AdoptionSeriesSchema),
        required=True,
        metadata={"description": "The last 12 ISO weeks, oldest first."},
    )
    monthly = fields.List(
        fields.Nested(AdoptionSeriesSchema),
        required=True,
        metadata={"description": "The last 12 calendar months, oldest first."},
    )
