"""The payment state machine: created -> awaiting_approval -> submitted -> succeeded | failed |
cancelled, every transition a `payment.<state>` chain leaf.

Never paid twice: the provider is always asked with the payment's one `out_no`; success is
applied once, under the business lock, and only from a state that can still succeed, so a
callback delivered twice or a retry that races a callback posts one entry. Provider calls run
outside any database transaction (a slow provider must not hold the write lock); the attempt
is counted before the call and its result recorded after, each in its own transaction.

A submitted payment is not left to the provider's notification alone: `reconcile_due` (the
scheduler) asks the provider where it stands, first a minute after submission and then less
often as it ages (up to every POLL_MAX_SECONDS), so a lost notification delays the books but
never loses the payment. Each answer is applied exactly as a notification would be.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from app.chart import PAYMENT_ACCOUNTS
from app.clock import business_today, iso_utc, utcnow
from app.db import write_transaction
from app.errors import ApiError, Conflict, Forbidden, NotFound, Unprocessable, UpstreamError
from app.events import LedgerEvent, emit
from app.models import Bill, Payment
from app.money import format_fen
from app.payments.providers import (
    ProviderError,
    ProviderNotFound,
    ProviderRefused,
    Submitted,
    provider,
)
from app.services.posting import EntryInput, LineInput, post_entry

MAX_ATTEMPTS = 6
BACKOFF_SECONDS = (30, 120, 600, 1800, 7200)  # after attempt 1, 2, ...
POLL_FIRST_SECONDS = 60  # first status query after submission
POLL_MAX_SECONDS = 6 * 3600  # a payee who never confirms is asked about every 6 hours
FINAL = ("succeeded", "failed", "cancelled")
TRANSITIONS = {
    "created": ("awaiting_approval", "submitted", "succeeded", "failed", "cancelled"),
    "awaiting_approval": ("created", "cancelled"),
    "submitted": ("succeeded", "failed", "cancelled"),
}


def _lock(business_id: int) -> None:
    from app.services.posting import _lock_business

    _lock_business(business_id)


def payment_dict(p: Payment) -> dict[str, Any]:
    return {
        "id": p.id,
        "out_no": p.out_no,
        "provider": p.provider,
        "payee": p.payee,
        "payee_name": p.payee_name,
        "amount": format_fen(p.amount),
        "from_account": p.from_account,
        "to_account": p.to_account,
        "memo": p.memo,
        "target": {"kind": p.target_kind, "id": p.target_id} if p.target_kind else None,
        "status": p.status,
        "approval_roles": [r for r in p.approval_roles.split(",") if r],
        "approved_by": p.approved_by_id,
        "attempts": p.attempts,
        "next_attempt_at": iso_utc(p.next_attempt_at),
        "provider_ref": p.provider_ref,
        "waiting_for_payee": p.status == "submitted" and bool(p.confirm_package),
        "last_error": p.last_error,
        "entry": p.entry_id,
        "run": p.run_id,
        "business_date": p.business_date.isoformat(),
        "created_at": iso_utc(p.created_at),
        "updated_at": iso_utc(p.updated_at),
    }


def _move(p: Payment, to: str, actor_id: int | None, **extra: Any) -> None:
    """One transition, checked against the machine, recorded on the chain."""
    if to not in TRANSITIONS.get(p.status, ()):
        raise Conflict(
            f"payment {p.id} is {p.status}; it cannot become {to}",
            code="payment_state",
            details={"status": p.status, "to": to},
        )
    before = p.status
    p.status = to
    p.updated_at = utcnow()
    p.save()
    emit(
        LedgerEvent(
            f"payment.{to}",
            p.business_id,
            actor_id,
            {
                "payment": p.id,
                "out_no": p.out_no,
                "from": before,
                "amount": format_fen(p.amount),
                "payee": p.payee,
                "provider": p.provider,
                **extra,
            },
        )
    )


def create_payment(
    business_id: int,
    actor_id: int | None,
    *,
    payee: str,
    amount: int,
    from_account: str,
    to_account: str,
    method: str,
    memo: str = "",
    payee_name: str = "",
    target_kind: str = "",
    target_id: int | None = None,
    approval_roles: list[str] | None = None,
    run_id: int | None = None,
    out_no: str | None = None,
) -> Payment:
    """Create a payment (inside the caller's transaction) and move it on: to approval when
    required, else it waits for submission (the engine submits right after commit)."""
    now = utcnow()
    p = Payment.create(
        business=business_id,
        run=run_id,
        out_no=out_no or f"SP{business_id}X{uuid.uuid4().hex[:24]}",
        provider=method,
        payee=payee,
        payee_name=payee_name,
        amount=amount,
        from_account=from_account,
        to_account=to_account,
        memo=memo[:200],
        target_kind=target_kind,
        target_id=target_id,
        status="created",
        approval_roles=",".join(approval_roles or []),
        next_attempt_at=now,
        business_date=business_today(),
        created_at=now,
        updated_at=now,
    )
    emit(
        LedgerEvent(
            "payment.created",
            business_id,
            actor_id,
            {
                "payment": p.id,
                "out_no": p.out_no,
                "amount": format_fen(amount),
                "payee": payee,
                "provider": method,
                "run": run_id,
                "target": {"kind": target_kind, "id": target_id} if target_kind else None,
            },
        )
    )
    if approval_roles:
        _move(p, "awaiting_approval", actor_id, roles=approval_roles)
    return p


def _load(business_id: int, payment_id: int) -> Payment:
    p = Payment.get_or_none((Payment.id == payment_id) & (Payment.business == business_id))
    if p is None:
        raise NotFound("Payment not found", code="payment_not_found")
    return p


def get_payment(business_id: int, payment_id: int) -> dict[str, Any]:
    return payment_dict(_load(business_id, payment_id))


def list_payments(business_id: int, status: str | None = None) -> list[dict[str, Any]]:
    q = Payment.select().where(Payment.business == business_id)
    if status:
        q = q.where(Payment.status == status)
    return [payment_dict(p) for p in q.order_by(Payment.id.desc()).limit(200)]


def approve(business_id: int, payment_id: int, actor_id: int, role: str) -> dict[str, Any]:
    with write_transaction():
        _lock(business_id)
        p = _load(business_id, payment_id)
        roles = [r for r in p.approval_roles.split(",") if r]
        if p.status != "awaiting_approval":
            raise Conflict(f"payment {p.id} is {p.status}", code="payment_state")
        if role not in roles:
            raise Forbidden(
                f"This payment needs approval by {', '.join(roles)}",
                code="forbidden_role",
                details={"role": role, "allowed": roles},
            )
        p.approved_by = actor_id
        p.next_attempt_at = utcnow()
        _move(p, "created", actor_id, approved=True)
    submit(business_id, payment_id)
    return get_payment(business_id, payment_id)


def cancel(business_id: int, payment_id: int, actor_id: int, reason: str) -> dict[str, Any]:
    """Cancel a payment that has not succeeded. One the provider already has is withdrawn
    there first (WeChat Pay: a transfer the payee has not confirmed); if the money already
    moved, the provider refuses and so do we."""
    with write_transaction():
        _lock(business_id)
        p = _load(business_id, payment_id)
        # A payment still "created" after an attempt may have reached the provider anyway
        # (the answer timed out), so it is withdrawn there too before it is cancelled here.
        at_provider = p.provider != "manual" and (
            p.status == "submitted" or (p.status == "created" and p.attempts > 0)
        )
        if not at_provider:
            _close(p, "cancelled", actor_id, reason[:200] or "cancelled")
    if at_provider:
        try:
            result = provider(p.provider).cancel(p)
        except ProviderNotFound:
            if p.status != "created":
                raise UpstreamError(
                    "the provider does not know this payment", code="provider_error"
                ) from None
            result = Submitted("cancelled")  # it never got there
        except ProviderRefused as e:
            reconcile(business_id, payment_id)  # the refusal usually means it already paid
            raise Conflict(
                f"the provider would not cancel it: {e}",
                code="payment_state",
                details={"status": _load(business_id, payment_id).status},
            ) from None
        except ProviderError as e:
            raise UpstreamError(
                f"could not reach the provider: {e}", code="provider_error"
            ) from None
        if result.status == "cancelled":
            result = Submitted("cancelled", result.provider_ref, reason[:200] or result.reason)
        apply_state(business_id, payment_id, result, actor_id)
        if result.status == "submitted":  # CANCELING: ask again soon
            with write_transaction():
                Payment.update(next_attempt_at=utcnow()).where(Payment.id == payment_id).execute()
    return get_payment(business_id, payment_id)


def _close(p: Payment, to: str, actor_id: int | None, reason: str) -> None:
    """Failed or cancelled: a bill being paid goes back to approved, to be paid again."""
    p.last_error = reason[:300]
    _move(
        p, to, actor_id, **({"error": p.last_error} if to == "failed" else {"reason": p.last_error})
    )
    if p.target_kind == "bill":
        Bill.update(status="approved", updated_at=utcnow()).where(
            (Bill.id == p.target_id) & (Bill.status == "paying")
        ).execute()


def mark_paid(business_id: int, payment_id: int, actor_id: int, reference: str) -> dict[str, Any]:
    """Manual provider: the bookkeeper paid outside and says so, with the bank's reference."""
    p = _load(business_id, payment_id)
    if p.provider != "manual":
        raise Conflict("only manual payments are marked paid by hand", code="payment_state")
    succeed(business_id, payment_id, actor_id, reference)
    return get_payment(business_id, payment_id)


def submit(business_id: int, payment_id: int) -> str:
    """One submission attempt; returns the status afterwards. Safe to call again at any time."""
    with write_transaction():
        _lock(business_id)
        p = _load(business_id, payment_id)
        if p.status != "created":
            return p.status
        p.attempts += 1
        p.updated_at = utcnow()
        p.save()
    try:
        result = provider(p.provider).submit(p)
    except ProviderRefused as e:
        with write_transaction():
            _lock(business_id)
            p = _load(business_id, payment_id)
            if p.status == "created":
                _close(p, "failed", None, str(e))
        return "failed"
    except ProviderError as e:
        with write_transaction():
            _lock(business_id)
            p = _load(business_id, payment_id)
            if p.status != "created":
                return p.status
            p.last_error = str(e)[:300]
            if p.attempts >= MAX_ATTEMPTS:
                _close(p, "failed", None, p.last_error)
                return "failed"
            delay = BACKOFF_SECONDS[min(p.attempts, len(BACKOFF_SECONDS)) - 1]
            p.next_attempt_at = utcnow() + dt.timedelta(seconds=delay)
            p.save()
            emit(
                LedgerEvent(
                    "payment.retry",
                    business_id,
                    None,
                    {
                        "payment": p.id,
                        "attempt": p.attempts,
                        "error": p.last_error,
                        "next_attempt_at": iso_utc(p.next_attempt_at),
                    },
                )
            )
        return "created"
    with write_transaction():
        _lock(business_id)
        p = _load(business_id, payment_id)
        if p.status == "created":
            p.provider_ref = result.provider_ref[:100]
            p.confirm_package = result.confirm_package
            p.next_attempt_at = utcnow() + dt.timedelta(seconds=POLL_FIRST_SECONDS)
            _move(p, "submitted", None, provider_ref=p.provider_ref)
    _apply_or_note(business_id, payment_id, result)
    return _load(business_id, payment_id).status


def _apply_or_note(business_id: int, payment_id: int, result: Submitted) -> bool:
    """apply_state for an answer from the provider. If the money moved but our books refuse
    the posting (an account deactivated since the contract was deployed, a closed month), the
    payment stays `submitted` with the reason in last_error: the scheduler's next status
    query posts it once the books are fixed, so the payment is never lost or doubled."""
    try:
        return apply_state(business_id, payment_id, result)
    except ApiError as e:
        with write_transaction():
            Payment.update(
                last_error=f"paid at the provider, but the books refused it: {e}"[:300]
            ).where(Payment.id == payment_id).execute()
        return False


def apply_state(
    business_id: int, payment_id: int, result: Submitted, actor_id: int | None = None
) -> bool:
    """What the provider says (an answer, a notification or a query), applied once.
    False when it changes nothing: still waiting, or already final."""
    if result.status == "succeeded":
        return succeed(business_id, payment_id, actor_id, result.provider_ref)
    if result.status in ("failed", "cancelled"):
        with write_transaction():
            _lock(business_id)
            p = _load(business_id, payment_id)
            if p.status in FINAL:
                return False
            _close(p, result.status, actor_id, result.reason or f"provider: {result.status}")
        return True
    return False


def succeed(business_id: int, payment_id: int, actor_id: int | None, reference: str) -> bool:
    """Apply success once: post the effect through post_entry. False if already applied."""
    with write_transaction():
        _lock(business_id)
        p = _load(business_id, payment_id)
        if p.status == "succeeded":
            return False
        if p.status not in ("submitted", "created"):
            raise Conflict(f"payment {p.id} is {p.status}", code="payment_state")
        actor = actor_id or _run_actor(p)
        p.entry = _post_effect(p, actor)
        p.provider_ref = (reference or p.provider_ref)[:100]
        _move(p, "succeeded", actor_id, reference=p.provider_ref, entry=p.entry_id)
    return True


def _run_actor(p: Payment) -> int | None:
    from app.models import Contract, ContractRun

    if p.run_id is None:
        return None
    run = ContractRun.get_by_id(p.run_id)
    return Contract.get_by_id(run.contract_id).deployed_by_id


def _post_effect(p: Payment, actor_id: int | None) -> int:
    """The books: the claim's own reimbursement service, or one entry Dr to / Cr from."""
    if p.target_kind == "claim":
        from app.models import Claim
        from app.services.claims import reimburse_claim

        paid_with = {v: k for k, v in PAYMENT_ACCOUNTS.items()}.get(p.from_account)
        if paid_with is None:
            raise Unprocessable(
                f"a claim is reimbursed from cash, bank, WeChat or Alipay, not {p.from_account}",
                code="invalid_account",
            )
        reimburse_claim(p.business_id, p.target_id, actor_id, "owner", paid_with)
        return Claim.get_by_id(p.target_id).payment_entry_id
    entry = post_entry(
        p.business_id,
        EntryInput(
            date=business_today(),
            memo=(p.memo or f"付款 {p.payee_name or p.payee}")[:200],
            lines=(
                LineInput(p.to_account, debit=p.amount),
                LineInput(p.from_account, credit=p.amount),
            ),
            source="contract",
        ),
        actor_id,
    )
    if p.target_kind == "bill":
        Bill.update(status="paid", entry=entry.id, updated_at=utcnow()).where(
            Bill.id == p.target_id
        ).execute()
    return entry.id


def due_payments(now: dt.datetime, limit: int = 100) -> list[tuple[int, int]]:
    """(business, payment) pairs whose next attempt is due: what the scheduler retries."""
    rows = (
        Payment.select(Payment.business, Payment.id)
        .where((Payment.status == "created") & (Payment.next_attempt_at <= now))
        .order_by(Payment.next_attempt_at)
        .limit(limit)
    )
    return [(r.business_id, r.id) for r in rows]


def retry_due(now: dt.datetime | None = None) -> int:
    """The scheduler's job: one attempt for every payment that is due. Returns how many."""
    pairs = due_payments(now or utcnow())
    for business_id, payment_id in pairs:
        submit(business_id, payment_id)
    return len(pairs)


def reconcile(business_id: int, payment_id: int, now: dt.datetime | None = None) -> str:
    """Ask the provider about one submitted payment and apply the answer; schedule the next
    question while it is still pending. Returns the status afterwards."""
    p = _load(business_id, payment_id)
    if p.status != "submitted":
        return p.status
    now = now or utcnow()
    try:
        result = provider(p.provider).query(p)
        error = ""
    except (ProviderError, ProviderRefused) as e:  # money may be in flight: never give up here
        result, error = Submitted("submitted"), str(e)[:300]
    if _apply_or_note(business_id, payment_id, result):
        return _load(business_id, payment_id).status
    with write_transaction():
        _lock(business_id)
        p = _load(business_id, payment_id)
        if p.status == "submitted":
            age = max(0.0, (now - p.updated_at).total_seconds())
            delay = min(POLL_MAX_SECONDS, max(POLL_FIRST_SECONDS, age / 2))
            p.next_attempt_at = now + dt.timedelta(seconds=delay)
            if error:
                p.last_error = error
            if result.waiting_for_payee is False:  # accepted, in transit: nothing to confirm
                p.confirm_package = ""
            p.save()
    return p.status


def due_queries(now: dt.datetime, limit: int = 100) -> list[tuple[int, int]]:
    """(business, payment) pairs submitted to a provider that can be asked, and due."""
    rows = (
        Payment.select(Payment.business, Payment.id)
        .where(
            (Payment.status == "submitted")
            & (Payment.provider != "manual")
            & (Payment.next_attempt_at <= now)
        )
        .order_by(Payment.next_attempt_at)
        .limit(limit)
    )
    return [(r.business_id, r.id) for r in rows]


def reconcile_due(now: dt.datetime | None = None) -> int:
    """The scheduler's job: ask about every submitted payment that is due. Returns how many."""
    now = now or utcnow()
    pairs = due_queries(now)
    for business_id, payment_id in pairs:
        reconcile(business_id, payment_id, now)
    return len(pairs)


def _payee_ids(user_id: int) -> list[str]:
    """How a payment names this user as its payee."""
    from app.models import User

    user = User.get_or_none(User.id == user_id)
    ids = [f"user:{user_id}"]
    if user is not None and user.wechat_openid:
        ids.append(f"openid:{user.wechat_openid}")
    return ids


def to_confirm(business_id: int, user_id: int) -> list[dict[str, Any]]:
    """The caller's own transfers waiting for them to accept (商家转账's confirmation step),
    with what the mini program passes to wx.requestMerchantTransfer."""
    from app.models import User
    from app.payments import wechatpay

    s = wechatpay.settings()
    rows = (
        Payment.select()
        .where(
            (Payment.business == business_id)
            & (Payment.status == "submitted")
            & (Payment.provider == "wechatpay")
            & (Payment.confirm_package != "")
            & Payment.payee.in_(_payee_ids(user_id))
        )
        .order_by(Payment.id)
    )
    own_openid = User.get_by_id(user_id).wechat_openid or ""
    out = []
    for p in rows:
        openid = p.payee.removeprefix("openid:") if p.payee.startswith("openid:") else ""
        out.append(
            {
                "id": p.id,
                "amount": format_fen(p.amount),
                "memo": p.memo,
                "created_at": iso_utc(p.created_at),
                "confirm": {
                    "mchId": s.mchid if s else "",
                    "appId": s.appid if s else "",
                    "package": p.confirm_package,
                    "openId": openid or own_openid,
                },
            }
        )
    return out


def refresh(business_id: int, payment_id: int, user_id: int, role: str) -> dict[str, Any]:
    """Ask the provider now (the payee just confirmed, or a bookkeeper wants to know). Only
    the payee and the people who pay may; for anyone else the payment does not exist."""
    p = _load(business_id, payment_id)
    if role not in ("owner", "bookkeeper") and p.payee not in _payee_ids(user_id):
        raise NotFound("Payment not found", code="payment_not_found")
    reconcile(business_id, payment_id)
    d = get_payment(business_id, payment_id)
    if role not in ("owner", "bookkeeper"):  # the payee sees their payment, not the books
        d = {k: d[k] for k in ("id", "amount", "memo", "status", "waiting_for_payee")}
    return d
