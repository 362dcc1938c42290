"""The HTTP API under /api/v1. Importing the view modules registers their routes on `bp`."""

from app.api import (  # noqa: F401
    auth,
    bills,
    businesses,
    chain,
    claims,
    contracts,
    ledger,
    live,
    openapi,
    payments,
    receipts,
    reports,
    tax,
)
from app.api.routing import bp

__all__ = ["bp"]
