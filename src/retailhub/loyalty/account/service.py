"""Accounts: the loyalty member records."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from retailhub.errors import DomainError, NotFound
from retailhub.kit import clock
from retailhub.kit.sql import upsert
from retailhub.models import LoyaltyAccount

ACCOUNT_ID_RE = re.compile(r"^[a-zA-Z0-9._-]{3,64}$")


def check_account_id(value: str, field: str = "account") -> str:
    if not ACCOUNT_ID_RE.match(value):
        raise DomainError(f"{field}: must be 3-64 characters of [a-zA-Z0-9._-]")
    return value


def get(session: Session, *, tenant_id: int, account_id: str) -> LoyaltyAccount:
    account = session.scalar(
        select(LoyaltyAccount).where(
            LoyaltyAccount.tenant_id == tenant_id, LoyaltyAccount.account_id == account_id
        )
    )
    if account is None:
        raise NotFound(f"Account '{account_id}' not found")
    return account


def ensure_account(session: Session, *, tenant_id: int, account_id: str) -> LoyaltyAccount:
    """The account with this id, created (registered) if it does not exist yet."""
    check_account_id(account_id)
    now = clock.now()
    session.execute(
        upsert(session, LoyaltyAccount.__table__)
        .values(
            tenant_id=tenant_id,
            account_id=account_id,
            properties={},
            counters={},
            consents={},
            important_tags=[],
            relations=[],
            segment="new",
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "account_id"])
    )
    return get(session, tenant_id=tenant_id, account_id=account_id)


def refresh_windows(session: Session, *, tenant_id: int, now: datetime) -> None:
    """Recompute the 30/90/365-day order counters and segments as time passes. STUB."""
