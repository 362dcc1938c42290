"""Request bodies and query strings, validated strictly.

Unknown fields are refused (extra="forbid") and types are strict: an amount sent as a JSON number
is refused rather than coerced, because 12.3 has already lost exactness by the time it arrives.
The same models produce the JSON Schemas in the OpenAPI document.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

AMOUNT = r"^(0|[1-9][0-9]*)(\.[0-9]{1,2})?$"
DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

Role = Literal["owner", "bookkeeper", "employee", "viewer"]
PaidWith = Literal["cash", "bank", "wechat", "alipay"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Query(BaseModel):
    """Query strings: every value arrives as text; unknown parameters are refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RegisterBody(Body):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    phone: str | None = Field(default=None, max_length=20)
    display_name: str | None = Field(default=None, max_length=64)


class LoginBody(Body):
    username: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=20)
    password: str = Field(min_length=1, max_length=256)

    @model_validator(mode="after")
    def one_identifier(self) -> LoginBody:
        if (self.username is None) == (self.phone is None):
            raise ValueError("give exactly one of username or phone")
        return self


class RefreshBody(Body):
    refresh_token: str = Field(min_length=1, max_length=200)


class LogoutBody(Body):
    refresh_token: str | None = Field(default=None, max_length=200)


class WeChatLoginBody(Body):
    code: str = Field(min_length=1, max_length=128)


class BusinessBody(Body):
    name: str = Field(min_length=1, max_length=100)
    uscc: str = Field(min_length=1, max_length=32)
    taxpayer_type: Literal["small_scale", "general"]
    industry: str = Field(default="", max_length=64)
    region: str = Field(default="", max_length=64)
    accept_uscc_check_mismatch: bool = False


class InviteBody(Body):
    role: Role


class MemberBody(Body):
    role: Role


class AccountBody(Body):
    parent: str = Field(pattern=r"^[0-9]{4,10}$")
    name: str = Field(min_length=1, max_length=64)
    name_en: str = Field(default="", max_length=64)
    code: str | None = Field(default=None, pattern=r"^[0-9]{6,12}$")


class CategoryBody(Body):
    kind: Literal["income", "expense"] | None = None
    name: str | None = Field(default=None, min_length=1, max_length=32)
    name_en: str | None = Field(default=None, max_length=32)
    account: str | None = Field(default=None, pattern=r"^[0-9]{4,12}$")
    icon: str | None = Field(default=None, max_length=32)
    is_active: bool | None = None


class LineBody(Body):
    account: str = Field(min_length=1, max_length=16)
    debit: str | None = Field(
        default=None, max_length=32, description='decimal string, e.g. "10.00"'
    )
    credit: str | None = Field(
        default=None, max_length=32, description='decimal string, e.g. "10.00"'
    )
    memo: str = Field(default="", max_length=200)


class EntryBody(Body):
    date: str | None = Field(
        default=None, pattern=DATE, description="YYYY-MM-DD, Asia/Shanghai; default today"
    )
    memo: str = Field(default="", max_length=200)
    lines: list[LineBody] = Field(min_length=2, max_length=200)
    status: Literal["posted", "draft"] = "posted"


class QuickBody(Body):
    kind: Literal["income", "expense"]
    amount: str = Field(max_length=32, description='decimal string, e.g. "35.50"')
    category: str = Field(min_length=1, max_length=32)
    paid_with: PaidWith
    date: str | None = Field(default=None, pattern=DATE)
    memo: str = Field(default="", max_length=200)


class ReverseBody(Body):
    date: str | None = Field(
        default=None, pattern=DATE, description="date of the reversing entry; default today"
    )
    memo: str | None = Field(default=None, max_length=200)


class EmptyBody(Body):
    pass


class EntriesQuery(Query):
    date_from: str | None = Field(default=None, alias="from", pattern=DATE)
    date_to: str | None = Field(default=None, alias="to", pattern=DATE)
    status: Literal["posted", "draft"] | None = None
    account: str | None = Field(default=None, pattern=r"^[0-9]{4,12}$")
    category: str | None = Field(default=None, max_length=32)
    q: str | None = Field(default=None, max_length=100)
    min_amount: str | None = Field(default=None, pattern=AMOUNT)
    max_amount: str | None = Field(default=None, pattern=AMOUNT)
    cursor: str | None = Field(default=None, max_length=64)
    limit: int = Field(default=20, ge=1, le=100)


class RangeQuery(Query):
    date_from: str | None = Field(default=None, alias="from", pattern=DATE)
    date_to: str | None = Field(default=None, alias="to", pattern=DATE)


class AsOfQuery(Query):
    as_of: str | None = Field(default=None, pattern=DATE)
