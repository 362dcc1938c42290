"""Peewee models, grouped by domain. ALL_MODELS is what migrations and schema checks compare."""

from app.models.businesses import Business, Invite, Membership
from app.models.chain import ChainAlert, ChainBlock, ChainHash, ChainLeaf
from app.models.claims import Claim, ClaimAction, ClaimPolicy, EmployeePayable, Receipt
from app.models.contracts import Contract, ContractCursor, ContractRun, ContractVersion
from app.models.idempotency import IdempotencyRecord
from app.models.ledger import Account, Category, ClosedPeriod, Entry, EntryLine
from app.models.payments import Bill, Payment, PaymentNotice, Receivable
from app.models.tax import (
    EntryInvoice,
    TaxMonthSales,
    TaxNotification,
    TaxProfile,
    TaxRun,
    TaxWarning,
    WeChatSubscription,
)
from app.models.users import AuthSession, LoginThrottle, RefreshToken, User

ALL_MODELS = [
    User,
    AuthSession,
    RefreshToken,
    LoginThrottle,
    Business,
    Membership,
    Invite,
    Account,
    Category,
    Entry,
    EntryLine,
    ClosedPeriod,
    IdempotencyRecord,
    ChainLeaf,
    ChainHash,
    ChainBlock,
    ChainAlert,
    TaxProfile,
    TaxWarning,
    TaxRun,
    EntryInvoice,
    WeChatSubscription,
    TaxNotification,
    TaxMonthSales,
    Claim,
    Receipt,
    ClaimAction,
    ClaimPolicy,
    EmployeePayable,
    Contract,
    ContractVersion,
    ContractRun,
    ContractCursor,
    Bill,
    Receivable,
    Payment,
    PaymentNotice,
]

__all__ = [m.__name__ for m in ALL_MODELS] + ["ALL_MODELS"]
