"""A demo business with three months of realistic entries, for trying Suanpan out, and a rule
contract at work: supplier bills paid on their due day, the large one waiting for the owner.

Everything is written through the same services a user's requests use (the single posting
function included), so the demo books are as valid as real ones. Passwords are random and written
to instance/, never to git.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from pathlib import Path

from app.clock import business_today
from app.models import Business, User
from app.services import auth, businesses
from app.services.posting import EntryInput, LineInput, post_entry
from app.services.quick import quick_record

DEMO_USCC = "91310115MA1K3BTP2B"
DEMO_NAME = "小林咖啡馆 (演示)"
PEOPLE = [
    ("demo_owner", "owner", "林老板"),
    ("demo_bookkeeper", "bookkeeper", "王会计"),
    ("demo_employee", "employee", "小张"),
]


def ensure_demo(logins_path: Path, months: int = 3, seed: int = 2026) -> tuple[bool, list[str]]:
    existing = Business.get_or_none(Business.name == DEMO_NAME)
    if existing is not None and logins_path.exists():
        return False, logins_path.read_text(encoding="utf-8").splitlines()
    if existing is not None:
        return False, [
            "(the demo exists but its logins file is gone; create a user with `flask user create`)"
        ]
    logins = []
    users = {}
    for username, role, name in PEOPLE:
        password = "Demo-" + secrets.token_urlsafe(9)
        users[role] = auth.register(username, password, display_name=name)
        logins.append(f"{role:<10} username={username}  password={password}")
    business = businesses.create_business(
        users["owner"].id,
        DEMO_NAME,
        DEMO_USCC,
        "small_scale",
        industry="餐饮",
        region="上海市浦东新区",
    )
    for role in ("bookkeeper", "employee"):
        _, token = businesses.create_invite(business.id, users["owner"].id, role, 24)
        businesses.accept_invite(token, users[role].id)
    seed_entries(business.id, users["owner"].id, users["bookkeeper"].id, months, seed)
    seed_contracts(business.id, users["owner"].id, users["bookkeeper"].id)
    logins_path.parent.mkdir(parents=True, exist_ok=True)
    logins_path.write_text("\n".join(logins) + "\n", encoding="utf-8")
    logins_path.chmod(0o600)
    return True, logins


def seed_contracts(business_id: int, owner_id: int, bookkeeper_id: int) -> None:
    """The pay-bills template deployed (paid by hand: no WeChat Pay in the demo), and three
    approved supplier bills: one due today (the scheduler pays it; the bookkeeper marks it
    paid), one above the approval line (it waits in the owner's 审批 tab), one due next week."""
    from app.contracts import service as contracts
    from app.contracts import templates
    from app.payments import books

    doc = templates.build("pay_bills", {"approval_above": "2000.00"}, None)
    made = contracts.create_contract(business_id, owner_id, doc, template="pay_bills")
    contracts.deploy(business_id, made["id"], owner_id, None)
    today = business_today()
    for supplier, amount, due, ref in (
        ("鲜奶供应商", 128_000, today, "FP-2026-031"),
        ("咖啡豆贸易行", 356_000, today, "FP-2026-032"),
        ("纸杯包装厂", 46_000, today + dt.timedelta(days=7), "FP-2026-033"),
    ):
        bill = books.create_bill(
            business_id,
            bookkeeper_id,
            supplier=supplier,
            amount=amount,
            due_date=due,
            reference=ref,
        )
        books.approve_bill(business_id, bill["id"], owner_id)


def _month_starts(today: dt.date, months: int) -> list[dt.date]:
    first = today.replace(day=1)
    out = []
    for _ in range(months):
        out.append(first)
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return sorted(out)


def seed_entries(
    business_id: int, owner_id: int, bookkeeper_id: int, months: int, seed: int
) -> int:
    """A café's months: capital in, rent and wages, daily takings by WeChat/Alipay/cash, supplies."""
    rng = random.Random(seed)
    today = business_today()
    starts = _month_starts(today, months)
    count = 0
    post_entry(
        business_id,
        EntryInput(
            starts[0],
            "股东投入资本金",
            (LineInput("1002", debit=20_000_000), LineInput("3001", credit=20_000_000)),
        ),
        bookkeeper_id,
    )
    count += 1
    for start in starts:
        end = min(today, (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1))
        quick_record(business_id, owner_id, "expense", 850_000, "rent", "bank", start, "店铺租金")
        day = start
        while day <= end:
            for paid_with, lo, hi in (
                ("wechat", 90_000, 260_000),
                ("alipay", 20_000, 90_000),
                ("cash", 5_000, 30_000),
            ):
                quick_record(
                    business_id,
                    owner_id,
                    "income",
                    rng.randint(lo, hi),
                    "sales",
                    paid_with,
                    day,
                    "当日营业额",
                )
                count += 1
            if rng.random() < 0.35:
                quick_record(
                    business_id,
                    owner_id,
                    "expense",
                    rng.randint(30_000, 160_000),
                    "purchase",
                    "wechat",
                    day,
                    "咖啡豆/牛奶进货",
                )
                count += 1
            if rng.random() < 0.08:
                quick_record(
                    business_id,
                    owner_id,
                    "expense",
                    rng.randint(2_000, 30_000),
                    "office",
                    "alipay",
                    day,
                    "办公用品",
                )
                count += 1
            if rng.random() < 0.05:
                quick_record(
                    business_id,
                    owner_id,
                    "expense",
                    rng.randint(10_000, 80_000),
                    "meals",
                    "cash",
                    day,
                    "客户招待",
                )
                count += 1
            day += dt.timedelta(days=1)
        if end.day >= 25 or end < today:
            quick_record(
                business_id,
                owner_id,
                "expense",
                rng.randint(120_000, 180_000),
                "utilities",
                "bank",
                min(end, start.replace(day=25)),
                "水电费",
            )
            quick_record(
                business_id,
                owner_id,
                "expense",
                1_800_000,
                "salary",
                "bank",
                min(end, start.replace(day=25)),
                "员工工资",
            )
            count += 2
    return count


def demo_users() -> list[User]:
    return list(User.select().where(User.username.in_([p[0] for p in PEOPLE])))
