"""The money side of market fees: payments reconciled to bills (bank notifications, cash,
imported statements), their receipts, balances and arrears, and the measured criterion."""
