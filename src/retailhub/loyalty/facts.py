"""Facts passed between loyalty modules (plain data, no ORM)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

# Imported order statuses (Listrak's enum names) that undo an order: its points are reversed.
UNDONE_STATUSES = frozenset({"Returned", "Canceled"})


@dataclass(frozen=True)
class OrderFact:
    """An imported order as the loyalty engine sees it, already tied to its account."""

    account_pk: int
    order_number: str
    total: Decimal | None
    store_number: str | None
    coupon_code: str | None
    skus: tuple[str, ...]
    status: str | None
    ordered_at: datetime | None
