"""Login throttling: repeated failures per account and per client IP get 429 with Retry-After.

Counters live in the database so every web worker sees the same numbers.
"""

from __future__ import annotations

import datetime as dt
import math

from app.clock import utcnow
from app.db import write_transaction
from app.errors import TooManyRequests
from app.models import LoginThrottle


def _active(row: LoginThrottle | None, window: int, now: dt.datetime) -> LoginThrottle | None:
    if row is None or (now - row.window_start).total_seconds() >= window:
        return None
    return row


def check(limits: dict[str, int], window: int) -> None:
    """Raise 429 if any key in `limits` ({key: max failures}) has used up its failures."""
    now = utcnow()
    rows = {r.key: r for r in LoginThrottle.select().where(LoginThrottle.key.in_(list(limits)))}
    worst = 0
    for key, limit in limits.items():
        row = _active(rows.get(key), window, now)
        if row is not None and row.failures >= limit:
            remaining = window - (now - row.window_start).total_seconds()
            worst = max(worst, math.ceil(remaining))
    if worst:
        raise TooManyRequests(
            "Too many failed logins; try again later",
            code="login_throttled",
            headers={"Retry-After": str(max(worst, 1))},
            details={"retry_after": max(worst, 1)},
        )


def record_failure(keys: list[str], window: int) -> None:
    now = utcnow()
    with write_transaction():
        for key in keys:
            row = LoginThrottle.get_or_none(LoginThrottle.key == key)
            if row is None:
                LoginThrottle.create(key=key, failures=1, window_start=now)
            elif _active(row, window, now) is None:
                LoginThrottle.update(failures=1, window_start=now).where(
                    LoginThrottle.key == key
                ).execute()
            else:
                LoginThrottle.update(failures=LoginThrottle.failures + 1).where(
                    LoginThrottle.key == key
                ).execute()


def reset(key: str) -> None:
    LoginThrottle.delete().where(LoginThrottle.key == key).execute()
