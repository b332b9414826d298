"""Merchants and the bank accounts their stalls are paid into."""
