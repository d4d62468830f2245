"""Commission math (pure, exact decimals).

The store pays ``commission_amount`` for a sale: its percentage of the sale amount, or a fixed
amount per sale when its commission format is a currency. The shopper's cashback
(``shopperCommission``) is the publisher's share of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from retailhub.errors import DomainError

PERCENT = "%"
# The stored commission (Money columns keep 4 decimal places) and the shopper's cents.
COMMISSION_PLACES = Decimal("0.0001")
CENTS = Decimal("0.01")


@dataclass(frozen=True)
class Rate:
    """A commission: ``value`` percent of the sale, or ``value`` in currency ``format``."""

    value: Decimal
    format: str


def rate_for(
    store_value: Decimal, store_format: str, details: Sequence[Any], name: str | None
) -> Rate:
    """The store's commission, or the ``commissionDetails`` entry named ``name`` (422 when the
    store has no such entry)."""
    if name is None:
        return Rate(Decimal(store_value), store_format)
    for entry in details:
        if isinstance(entry, dict) and entry.get("name") == name:
            commission = entry.get("commission") or {}
            try:
                return Rate(Decimal(str(commission["value"])), str(commission["format"]))
            except (KeyError, InvalidOperation) as exc:
                raise DomainError(
                    f"commissionName: the store's entry '{name}' has no valid commission",
                    status=422,
                    field="commissionName",
                ) from exc
    raise DomainError(
        f"commissionName: the store has no commissionDetails entry named '{name}'",
        status=422,
        field="commissionName",
    )


def commission_amount(sale_amount: Decimal, currency: str, rate: Rate) -> Decimal:
    """What the store pays for the sale, rounded half-up to 4 places. A fixed commission in
    another currency than the sale's cannot be applied (422): we convert no currencies."""
    if rate.format == PERCENT:
        return (sale_amount * rate.value / 100).quantize(COMMISSION_PLACES, ROUND_HALF_UP)
    if rate.format != currency:
        raise DomainError(
            f"currency: the store's fixed commission is in {rate.format}, the sale in {currency}",
            status=422,
            field="currency",
        )
    return rate.value.quantize(COMMISSION_PLACES, ROUND_HALF_UP)


def shopper_commission(amount: Decimal, share: Decimal) -> Decimal:
    """The publisher's share of the commission, rounded half-up to cents."""
    return (amount * share).quantize(CENTS, ROUND_HALF_UP)
