"""Quick record: an owner's "spent 35.50 on meals, paid by WeChat" becomes a balanced entry.

The category says which account the money went to (or came from); `paid_with` says which money
account moved. Templates are the category map each business can edit.
"""

from __future__ import annotations

import datetime as dt

from app.chart import PAYMENT_ACCOUNTS
from app.clock import business_today
from app.db import fetchone
from app.errors import Unprocessable
from app.models import Category, Entry
from app.services.posting import EntryInput, LineInput, post_entry


def quick_record(
    business_id: int,
    actor_id: int,
    kind: str,
    amount_fen: int,
    category: str,
    paid_with: str,
    date: dt.date | None = None,
    memo: str = "",
) -> Entry:
    if kind not in ("income", "expense"):
        raise Unprocessable("kind: income or expense", code="invalid_kind")
    if paid_with not in PAYMENT_ACCOUNTS:
        raise Unprocessable(
            f"paid_with: one of {', '.join(PAYMENT_ACCOUNTS)}", code="invalid_paid_with"
        )
    row = fetchone(
        'SELECT "kind", "name", "account_code", "is_active" FROM "category" WHERE "business_id" = ? AND "key" = ?',
        business_id,
        category,
    )
    if row is None or not row[3]:
        raise Unprocessable(f"category: unknown category {category!r}", code="unknown_category")
    cat = Category(key=category, kind=row[0], name=row[1], account_code=row[2])
    if cat.kind != kind:
        raise Unprocessable(
            f"category {category!r} is an {cat.kind} category, not {kind}",
            code="category_kind_mismatch",
        )
    money = PAYMENT_ACCOUNTS[paid_with]
    if kind == "expense":
        lines = (LineInput(cat.account_code, debit=amount_fen), LineInput(money, credit=amount_fen))
    else:
        lines = (LineInput(money, debit=amount_fen), LineInput(cat.account_code, credit=amount_fen))
    text = memo.strip() or cat.name
    entry = EntryInput(
        date=date or business_today(),
        memo=text,
        lines=lines,
        source="quick",
        category_key=cat.key,
        paid_with=paid_with,
    )
    return post_entry(business_id, entry, actor_id)
