"""Receipts (原始凭证): photo pipeline, fapiao QR reading, and the receipts table's service."""
