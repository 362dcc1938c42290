"""Payments: bills and receivables, the payment state machine and its providers (docs/contracts.md)."""
