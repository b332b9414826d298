"""Payments: the shopper's pay page, the merchant's collect mode ("soundbox"), and the bank
notifications (SePay, Casso webhooks) that tell a stall its money arrived."""
