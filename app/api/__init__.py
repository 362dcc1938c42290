"""The HTTP API under /api/v1. Importing the view modules registers their routes on `bp`."""

from app.api import auth, businesses, chain, ledger, live, openapi, reports, tax  # noqa: F401
from app.api.routing import bp

__all__ = ["bp"]
