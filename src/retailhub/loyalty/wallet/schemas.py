"""Wallet bodies and answers (ours: the Loyalty API document has no wallet operations)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from retailhub.kit.timeutil import iso
from retailhub.models import LoyaltyWalletEntry


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class EarnRequest(_Camel):
    points: int = Field(ge=1, le=1_000_000_000, description="Points to credit")
    expires_in_days: int | None = Field(
        default=None,
        ge=1,
        le=3650,
        description="They expire this many days from now; absent: never",
    )
    source: str | None = Field(default=None, max_length=160, description='Default "api"')
    order_number: str | None = Field(
        default=None,
        max_length=50,
        description="The order that earned them: returned or cancelled by a later import, "
        "it reverses them",
    )


class SpendRequest(_Camel):
    points: int = Field(ge=1, le=1_000_000_000, description="Points to debit")
    reference: str | None = Field(
        default=None, max_length=160, description="What they pay for (kept as the source)"
    )


class WalletEntryRead(_Camel):
    id: int
    kind: Literal["earn", "spend", "expire", "reverse"]
    points: int = Field(description="Positive for earn, negative otherwise")
    earn_id: int | None = Field(description="The earn a spend/expire/reverse draws on")
    remaining: int | None = Field(description="Earns: points left on it; others: null")
    expires_at: str | None
    source: str | None
    order_number: str | None
    created_at: str | None


class WalletRead(_Camel):
    account: str
    balance: int = Field(description="Sum of every entry (negative: a debt)")
    available: int = Field(
        description="Points a spend may take now: unexpired remainders, capped by the balance"
    )
    entries: list[WalletEntryRead]


def entry_read(entry: LoyaltyWalletEntry, remaining: dict[int, int]) -> WalletEntryRead:
    return WalletEntryRead(
        id=entry.id,
        kind=entry.kind,
        points=entry.points,
        earn_id=entry.earn_pk,
        remaining=remaining.get(entry.id) if entry.kind == "earn" else None,
        expires_at=iso(entry.expires_at),
        source=entry.source,
        order_number=entry.order_number,
        created_at=iso(entry.created_at),
    )
