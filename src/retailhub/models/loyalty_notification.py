from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK, utcnow


class LoyaltyNotification(Base):
    """A message or push notification produced for an account: a MESSAGE state entered, or a
    campaign notification (COUPON_EXPIRATION, DYNAMIC_JOIN, SPECIFIC_TIME) due.

    ``dedupe_key`` makes scheduled production idempotent (a tick that runs twice, or a job
    retried, produces each notification once)."""

    __tablename__ = "loyalty_notifications"
    __table_args__ = (
        UniqueConstraint("tenant_id", "dedupe_key"),
        Index("ix_loyalty_notifications_tenant_id_account_pk", "tenant_id", "account_pk"),
        Index("ix_loyalty_notifications_tenant_id_created_at", "tenant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    # No foreign key to tenants: the engine writes these rows by the hundred thousand, and
    # their tenant follows from their account's (whose deletion cascades here).
    tenant_id: Mapped[int]
    account_pk: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("loyalty_accounts.id", ondelete="CASCADE")
    )
    campaign_pk: Mapped[int | None] = mapped_column(
        BigIntPK, ForeignKey("loyalty_campaigns.id", ondelete="CASCADE")
    )
    # MESSAGE | COUPON_EXPIRATION | DYNAMIC_JOIN | SPECIFIC_TIME
    type: Mapped[str] = mapped_column(String(24))
    state_id: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str | None] = mapped_column(String(256))
    message: Mapped[str | None] = mapped_column(String(256))
    image: Mapped[str | None] = mapped_column(String(256))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    dedupe_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_at: Mapped[datetime | None]
