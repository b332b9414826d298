"""Chợ 4.0: cashless traditional markets paid by VietQR."""
