"""Request bodies of the postback and the operator's transaction routes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Status = Literal["PENDING", "AVAILABLE", "PAYMENT_INITIATED", "PAID", "NON_COMMISSIONABLE"]
Amount = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=4)]
MAX_RECORDS = 1000


def _utc(value: datetime) -> datetime:
    """Instants without a zone are UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class SkuLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Annotated[str, Field(min_length=1, max_length=100)]
    itemName: Annotated[str | None, Field(max_length=300)] = None
    category: Annotated[str | None, Field(max_length=200)] = None
    quantity: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    price: Amount


class TransactionRecord(BaseModel):
    """One sale, as a network's postback or the operator reports it."""

    model_config = ConfigDict(extra="forbid")

    clickId: Annotated[str, Field(min_length=1, max_length=32)]
    orderNumber: Annotated[str, Field(min_length=1, max_length=100)]
    saleAmount: Amount
    currency: Annotated[str, Field(pattern=r"^[A-Za-z]{3}$")]
    purchaseDate: datetime
    status: Status = "PENDING"
    commissionName: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    adminComment: Annotated[str | None, Field(max_length=2000)] = None
    skus: Annotated[list[SkuLine] | None, Field(max_length=1000)] = None

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("purchaseDate")
    @classmethod
    def _purchase_utc(cls, value: datetime) -> datetime:
        return _utc(value)


class TransactionPatch(BaseModel):
    """``PATCH /admin/api/transactions/{id}``."""

    model_config = ConfigDict(extra="forbid")

    status: Status | None = None
    adminComment: Annotated[str | None, Field(max_length=2000)] = None
    saleAmount: Amount | None = None
    commissionName: Annotated[str | None, Field(min_length=1, max_length=200)] = None


class StatusMove(BaseModel):
    """``POST /admin/api/transactions/status``: move many transactions at once."""

    model_config = ConfigDict(extra="forbid")

    ids: Annotated[list[int], Field(min_length=1, max_length=MAX_RECORDS)]
    status: Status
    adminComment: Annotated[str | None, Field(max_length=2000)] = None


class NetworkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
