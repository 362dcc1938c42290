"""Notifier: tell people about new or escalated warnings, through channels.

`Channel` is the interface. The in-app channel records that the warning is on the dashboard
(the API lists it); the WeChat channel sends a one-time subscription message to owners and
bookkeepers with a WeChat login and an unused subscription credit. A credit is consumed per
message (china-facts §10: one acceptance allows exactly one message); a send that did not
happen (network error, bad template) gives the credit back; 43101 (the user refused or has no
subscription left) zeroes it. Sends happen outside any database transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from peewee import fn

from app.clock import utcnow
from app.db import write_transaction
from app.models import Membership, User
from app.models.tax import TaxNotification, TaxWarning, WeChatSubscription
from app.tax.service import RANK, warning_dict
from app.tax.wechat_subscribe import SubscribeMessageClient, WeChatSendError

log = logging.getLogger("suanpan.tax")
RECIPIENT_ROLES = ("owner", "bookkeeper")


@dataclass(frozen=True)
class Delivery:
    user_id: int | None
    status: str  # sent | skipped | failed
    detail: str = ""


class Channel(Protocol):
    name: str

    def deliver(self, warning: dict[str, Any], recipients: Sequence[User]) -> list[Delivery]: ...


class InAppChannel:
    """The dashboard lists open warnings itself; this records that they were put there."""

    name = "in_app"

    def deliver(self, warning: dict[str, Any], recipients: Sequence[User]) -> list[Delivery]:
        return [Delivery(None, "sent", "listed at GET .../tax/warnings")]


# --- one-time subscription credits -------------------------------------------------------------


def add_credit(user_id: int, template_id: str, n: int = 1) -> WeChatSubscription:
    """Record `accept` results from wx.requestSubscribeMessage: one credit each."""
    with write_transaction():
        row = WeChatSubscription.get_or_none(
            (WeChatSubscription.user == user_id) & (WeChatSubscription.template_id == template_id)
        )
        if row is None:
            return WeChatSubscription.create(
                user=user_id, template_id=template_id, credits=n, accepted_total=n
            )
        WeChatSubscription.update(
            credits=WeChatSubscription.credits + n,
            accepted_total=WeChatSubscription.accepted_total + n,
            updated_at=utcnow(),
        ).where(WeChatSubscription.id == row.id).execute()
        return WeChatSubscription.get_by_id(row.id)


def take_credit(user_id: int, template_id: str) -> bool:
    """Consume one credit atomically; False when there is none."""
    with write_transaction():
        n = (
            WeChatSubscription.update(
                credits=WeChatSubscription.credits - 1,
                consumed_total=WeChatSubscription.consumed_total + 1,
                updated_at=utcnow(),
            )
            .where(
                (WeChatSubscription.user == user_id)
                & (WeChatSubscription.template_id == template_id)
                & (WeChatSubscription.credits > 0)
            )
            .execute()
        )
    return n == 1


def _give_back(user_id: int, template_id: str) -> None:
    with write_transaction():
        WeChatSubscription.update(
            credits=WeChatSubscription.credits + 1,
            consumed_total=WeChatSubscription.consumed_total - 1,
        ).where(
            (WeChatSubscription.user == user_id) & (WeChatSubscription.template_id == template_id)
        ).execute()


def _zero(user_id: int, template_id: str) -> None:
    with write_transaction():
        WeChatSubscription.update(credits=0).where(
            (WeChatSubscription.user == user_id) & (WeChatSubscription.template_id == template_id)
        ).execute()


class WeChatSubscribeChannel:
    name = "wechat"

    def __init__(
        self,
        client: SubscribeMessageClient,
        template_id: str,
        fields: dict[str, str],
        page: str = "",
        state: str = "formal",
    ) -> None:
        self.client = client
        self.template_id = template_id
        self.fields = fields  # template key -> warning field: title|severity|period|date|rule
        self.page = page
        self.state = state

    def data(self, warning: dict[str, Any]) -> dict[str, str]:
        sources = {
            "title": warning["title"]["zh"],
            "severity": "预警" if warning["severity"] == "alert" else "提醒",
            "period": warning["period"],
            "date": warning["as_of"],
            "rule": warning["rule_id"],
            "message": warning["message"]["zh"],
        }
        return {key: sources[src] for key, src in self.fields.items()}

    def deliver(self, warning: dict[str, Any], recipients: Sequence[User]) -> list[Delivery]:
        out = []
        for user in recipients:
            if not user.wechat_openid:
                out.append(Delivery(user.id, "skipped", "no WeChat login"))
                continue
            if not take_credit(user.id, self.template_id):
                out.append(Delivery(user.id, "skipped", "no subscription credit"))
                continue
            try:
                result = self.client.send(
                    user.wechat_openid, self.template_id, self.data(warning), self.page, self.state
                )
            except WeChatSendError as exc:
                _give_back(user.id, self.template_id)
                out.append(Delivery(user.id, "failed", str(exc)[:200]))
                continue
            if result.ok:
                out.append(Delivery(user.id, "sent"))
            else:
                if result.errcode == 43101:
                    _zero(user.id, self.template_id)
                else:
                    _give_back(user.id, self.template_id)
                out.append(Delivery(user.id, "failed", f"{result.errcode} {result.errmsg}"[:200]))
        return out


# --- the sweep ---------------------------------------------------------------------------------


def recipients(business_id: int) -> list[User]:
    return list(
        User.select()
        .join(Membership, on=(Membership.user == User.id))
        .where((Membership.business == business_id) & (Membership.role.in_(RECIPIENT_ROLES)))
        .order_by(User.id)
    )


def notify_pending(channels: Sequence[Channel], business_id: int | None = None) -> int:
    """Deliver every open warning whose severity was not yet delivered; returns how many."""
    cond = (TaxWarning.state == "open") & (
        (TaxWarning.notified_severity == "")
        | ((TaxWarning.notified_severity == "warn") & (TaxWarning.severity == "alert"))
    )
    if business_id is not None:
        cond &= TaxWarning.business == business_id
    rows = list(TaxWarning.select().where(cond).order_by(TaxWarning.id))
    done = 0
    for w in rows:
        payload = warning_dict(w, {})
        people = recipients(w.business_id)
        log_rows = []
        for channel in channels:
            for d in channel.deliver(payload, people):
                log_rows.append(
                    {
                        "warning": w.id,
                        "user": d.user_id,
                        "channel": channel.name,
                        "severity": w.severity,
                        "status": d.status,
                        "detail": d.detail,
                        "created_at": utcnow(),
                    }
                )
        with write_transaction():
            if log_rows:
                TaxNotification.insert_many(log_rows).execute()
            TaxWarning.update(notified_severity=w.severity).where(
                (TaxWarning.id == w.id) & (fn.COALESCE(TaxWarning.notified_severity, "") != "alert")
            ).execute()
        done += 1
        if RANK[w.severity] == 0:  # pragma: no cover - severities are warn/alert
            log.warning("warning %s has no severity", w.id)
    return done
