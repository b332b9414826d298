"""Tests of the pure ``market.qr`` package."""
