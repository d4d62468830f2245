"""Campaign request bodies (the document's Campaign, Constraint, state and notification
definitions). Read-only fields sent back by clients (``stats``, ``cnt``, ``initialized`` …)
are ignored. Date-times without a zone are UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
)

from retailhub.loyalty.campaign.constraints import FIELD_PATTERN

ID_PATTERN = r"^[a-zA-Z0-9_-]+$"


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDateTime = Annotated[datetime, AfterValidator(_utc)]
CampaignId = Annotated[str, StringConstraints(max_length=64, pattern=ID_PATTERN)]
StateId = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=ID_PATTERN)]
Text256 = Annotated[str, StringConstraints(max_length=256)]
Ref = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Payload = dict[str, str]

TAGS = frozenset(
    {
        "ACCOUNT",
        "COUPON",
        "MESSAGE",
        "ORDER",
        "WALLET",
        "COUPON_EXPIRATION",
        "DYNAMIC_JOIN",
        "SPECIFIC_TIME",
    }
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Constraint(_Model):
    field: Annotated[str, StringConstraints(max_length=64, pattern=FIELD_PATTERN)]
    op: Literal["EQ", "NE", "IN", "GT", "GTE", "LT", "LTE", "EXISTS"]
    value: Annotated[list[str], Field(max_length=16)] | None = None


class _State(_Model):
    id: StateId
    transitionTo: StateId | None = None
    # Read-only (how many accounts finished the state); ignored on input.
    stats: int | None = None


class AccountState(_State):
    """Waits until the account meets its own constraints."""

    type: Literal["ACCOUNT"]
    constraints: Annotated[list[Constraint], Field(min_length=1, max_length=16)]


class CouponState(_State):
    """Issues a coupon valid ``validDays`` days, usable ``usageLimit`` times."""

    type: Literal["COUPON"]
    validDays: Annotated[int, Field(ge=1, le=3650)]
    usageLimit: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    productId: Ref | None = None
    categoryId: Ref | None = None
    enableKey: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None


class MessageState(_State):
    """Sends a message; completes when the app acknowledges it (``message``)."""

    type: Literal["MESSAGE"]
    title: Text256
    message: Text256
    image: Text256 | None = None
    payload: Payload | None = None


class OrderState(_State):
    """Waits for an imported order meeting every condition given."""

    type: Literal["ORDER"]
    minTotal: (
        Annotated[
            Decimal,
            Field(ge=0, max_digits=18, decimal_places=4),
            PlainSerializer(float, return_type=float, when_used="json"),
        ]
        | None
    ) = None
    storeNumber: Ref | None = None
    sku: Ref | None = None
    couponUsed: bool | None = None


class WalletState(_State):
    """Credits ``points`` to the wallet, expiring after ``expiresInDays`` (never if absent)."""

    type: Literal["WALLET"]
    points: Annotated[int, Field(ge=1, le=1_000_000_000)]
    expiresInDays: Annotated[int, Field(ge=1, le=3650)] | None = None


State = Annotated[
    AccountState | CouponState | MessageState | OrderState | WalletState,
    Field(discriminator="type"),
]


class _Notification(_Model):
    title: Text256
    message: Text256
    image: Text256 | None = None
    payload: Payload | None = None


class CouponExpirationNotification(_Notification):
    """Sent ``daysBefore`` days before a coupon issued by the campaign expires."""

    type: Literal["COUPON_EXPIRATION"]
    daysBefore: Annotated[int, Field(ge=0, le=365)]


class DynamicJoinNotification(_Notification):
    """Sent to an account when it joins the running campaign dynamically."""

    type: Literal["DYNAMIC_JOIN"]


class SpecificTimeNotification(_Notification):
    """Sent to every member of the campaign at ``at``."""

    type: Literal["SPECIFIC_TIME"]
    at: UtcDateTime


Notification = Annotated[
    CouponExpirationNotification | DynamicJoinNotification | SpecificTimeNotification,
    Field(discriminator="type"),
]


class CampaignIn(_Model):
    """A campaign definition (postCampaign / putCampaign body)."""

    id: CampaignId
    type: Literal["STANDARD", "BIRTHDAY"]
    name: Annotated[str, StringConstraints(min_length=3, max_length=128)]
    activeFrom: UtcDateTime | None = None
    activeTo: UtcDateTime | None = None
    constraints: Annotated[list[Constraint], Field(min_length=1, max_length=16)]
    states: Annotated[list[State], Field(min_length=1, max_length=10)]
    dynamic: bool | None = None
    notifications: Annotated[list[Notification], Field(max_length=3)] | None = None

    def dump_constraints(self) -> list[dict[str, Any]]:
        return [c.model_dump(exclude_none=True) for c in self.constraints]

    def dump_states(self) -> list[dict[str, Any]]:
        return [
            s.model_dump(mode="json", exclude_none=True, exclude={"stats"}) for s in self.states
        ]

    def dump_notifications(self) -> list[dict[str, Any]]:
        return [n.model_dump(mode="json", exclude_none=True) for n in self.notifications or []]


class MyCampaign(BaseModel):
    """One of the account's campaigns (getMyCampaigns)."""

    id: str
    name: str
    type: str
    state: str | None
    finished: bool
    states: list[dict[str, Any]]
