"""The audit log: who changed a payee account, a stall's merchant or a role, and when."""
