"""Market fees: the board's accounts, fee types, bills, payments, receipts and arrears."""
