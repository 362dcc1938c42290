"""Payment providers behind one interface.

`submit` is called with the payment's `out_no`, which never changes across retries: a provider
that already has that order number must answer with the existing order rather than pay again
(WeChat Pay's transfer-bills does, keyed by out_bill_no). A provider raises `ProviderError` for a
failure worth retrying and `ProviderRefused` for one that is final.

`query` asks where a submitted payment stands. Notifications get lost (our server down, a
network cut, WeChat giving up after its retries), so the scheduler asks instead of waiting for
ever (china-facts §9.3: "query the order if no callback arrives"). `cancel` withdraws a
submission the payee has not accepted yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from app.models import Payment


class ProviderError(Exception):
    """Transient: the scheduler retries with backoff."""


class ProviderRefused(Exception):
    """Final: the payment fails and is not retried."""


class ProviderNotFound(ProviderRefused):
    """The provider has no such payment (it never arrived there)."""


@dataclass(frozen=True)
class Submitted:
    """Where a payment stands at the provider."""

    status: str  # submitted (still waiting) | succeeded | failed | cancelled
    provider_ref: str = ""
    reason: str = ""  # why it failed or was cancelled, in the provider's words
    confirm_package: str = ""  # what the payee confirms with, when the provider asks them to
    waiting_for_payee: bool | None = None  # None: the provider does not say


class Provider(Protocol):
    name: str

    def submit(self, payment: Payment) -> Submitted: ...

    def query(self, payment: Payment) -> Submitted: ...

    def cancel(self, payment: Payment) -> Submitted: ...


class ManualProvider:
    """A bookkeeper pays outside the app and marks the payment paid with a reference."""

    name = "manual"

    def submit(self, payment: Payment) -> Submitted:
        return Submitted("submitted")

    def query(self, payment: Payment) -> Submitted:
        return Submitted("submitted")  # only the bookkeeper knows; they mark it paid

    def cancel(self, payment: Payment) -> Submitted:
        return Submitted("cancelled")  # nothing was sent anywhere


PROVIDERS: dict[str, Provider] = {"manual": ManualProvider()}


def provider(name: str) -> Provider:
    found = PROVIDERS.get(name)
    if found is None and name == "wechatpay":
        from app.payments import wechatpay  # built from the app's configuration when set

        found = wechatpay.provider()
    if found is None:
        raise ProviderRefused(f"payment method {name} is not configured")
    return found
