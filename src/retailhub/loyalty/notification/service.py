"""Notifications produced for accounts, and push statistics."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session


def tick(session: Session, *, tenant_id: int, now: datetime) -> None:
    """Produce due COUPON_EXPIRATION and SPECIFIC_TIME notifications (idempotent). STUB."""
