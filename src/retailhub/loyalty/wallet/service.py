"""Point wallets: an append-only ledger per account."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session


def balance(session: Session, *, tenant_id: int, account_pk: int) -> int:
    """Sum of the account's entries. STUB."""
    return 0


def reverse_for_orders(session: Session, *, tenant_id: int, order_numbers: Sequence[str]) -> None:
    """Orders returned or cancelled: reverse the points they earned (once). STUB."""


def expire_due(session: Session, *, tenant_id: int, now: datetime) -> None:
    """Write ``expire`` entries for the unspent remainder of earns past ``expires_at``. STUB."""
