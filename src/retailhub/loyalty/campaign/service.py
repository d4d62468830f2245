"""Campaigns: definitions, preview/initialize/finalize, and the per-account state machine."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from retailhub.loyalty.facts import OrderFact


def on_accounts_changed(session: Session, *, tenant_id: int, account_pks: Sequence[int]) -> None:
    """Accounts changed (import, profile, properties, tags, event): dynamic joins and ACCOUNT
    states that the accounts now satisfy. STUB: implemented by the campaign module."""


def on_orders(session: Session, *, tenant_id: int, orders: Sequence[OrderFact]) -> None:
    """Imported orders: complete ORDER states they satisfy. STUB."""


def states_for_account(
    session: Session, *, tenant_id: int, account_pk: int
) -> list[dict[str, Any]]:
    """The account's campaigns as ``[{"id": campaign id, "state": state id | None}]``. STUB."""
    return []


def tick(session: Session, *, tenant_id: int, now: datetime) -> None:
    """Time-driven campaign work (BIRTHDAY enrollment, activeFrom reached). STUB."""
