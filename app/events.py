"""Ledger events: every change to the books announces itself here, inside its own transaction.

The chain (issue: signed Merkle log) subscribes to these so that a leaf is appended in the same
database transaction as the change it records: no change without its leaf, no leaf without its
change. Subscribers must not commit or open their own connections.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.db import db


@dataclass(frozen=True)
class LedgerEvent:
    type: str  # e.g. entry.posted, entry.reversed, period.closed, membership.granted
    business_id: int
    actor_id: int | None
    content: dict[str, Any]


Listener = Callable[[LedgerEvent], None]
_listeners: list[Listener] = []


def subscribe(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def unsubscribe(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def emit(event: LedgerEvent) -> None:
    """Hand the event to every listener; must be called inside the change's transaction."""
    if not db.obj.in_transaction():
        raise RuntimeError(f"ledger event {event.type} emitted outside a transaction")
    for listener in list(_listeners):
        listener(event)
