"""What changed in a business's books since a client last looked: the live dashboard's feed.

The feed is read from the database, not from a process's memory, so a client served by any web
worker sees changes made through every other worker.
"""

from __future__ import annotations

from typing import Any

from peewee import fn

from app.models import Entry
from app.services.entries import entry_dict


def latest_entry_id(business_id: int) -> int:
    return Entry.select(fn.MAX(Entry.id)).where(Entry.business == business_id).scalar() or 0


def posted_since(business_id: int, after_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """Entries posted with an id above `after_id` (ids grow with time), oldest first."""
    rows = (
        Entry.select()
        .where((Entry.business == business_id) & (Entry.id > after_id) & (Entry.status == "posted"))
        .order_by(Entry.id)
        .limit(limit)
    )
    return [entry_dict(r) for r in rows]
