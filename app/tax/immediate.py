"""The post-posting check: threshold rules only, for postings that can move them.

It runs inside the posting's transaction (app/events), in a savepoint, so a failure here rolls
back only its own writes and never the posting. It is skipped outright unless the entry touches
revenue (5001/5051) or pays cash above the settlement threshold; then it costs one aggregated
query over the business's recent months plus, only when something fires or clears, a few row
writes. WeChat notifications are never sent from here (no network inside a transaction): the
notify sweep picks new warnings up.
"""

from __future__ import annotations

import datetime as dt
import logging

from app.db import db
from app.events import LedgerEvent
from app.money import MAX_FEN
from app.tax.evaluate import immediate_only
from app.tax.metrics import CASH, REVENUE

log = logging.getLogger("suanpan.tax")
LAST_DAY = dt.date(2099, 12, 31)  # read every posted entry (posting allows up to 2099)
CASH_LIMIT_FEN = 100_000  # below this a cash line cannot fire the cash rule


def _relevant(entry: dict) -> bool:
    for line in entry.get("lines", []):
        account = str(line.get("account", ""))
        if account.startswith(REVENUE):
            return True
        if account.startswith(CASH) and _fen(line.get("credit")) > CASH_LIMIT_FEN:
            return True
    return False


def _fen(text: object) -> int:
    if not isinstance(text, str) or not text:
        return 0
    whole, _, frac = text.partition(".")
    try:
        return min(int(whole) * 100 + int((frac + "00")[:2]), MAX_FEN)
    except ValueError:
        return 0


def on_ledger_event(event: LedgerEvent) -> None:
    if event.type not in ("entry.posted", "entry.reversed"):
        return
    entry = event.content.get("entry") or {}
    if not _relevant(entry):
        return
    from app.tax.service import check_business

    try:
        day = dt.date.fromisoformat(entry["date"])
    except (KeyError, TypeError, ValueError):
        return
    try:
        with db.atomic():
            check_business(event.business_id, day, immediate_only, until=LAST_DAY)
    except Exception:  # a tax check must never lose a posting
        log.exception("immediate tax check failed for business %s", event.business_id)
