"""Adoption of Chợ 4.0 against the province's targets: per-market figures, the criteria a
market must meet, the province's progress toward 60 markets (see docs/adoption.md)."""
