from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK, utcnow


class LoyaltyEvent(Base):
    """An event posted for an account (postEvent), kept as received: relation events and
    consents (TRANSACTION-scoped consents live only here)."""

    __tablename__ = "loyalty_events"
    __table_args__ = (Index("ix_loyalty_events_tenant_id_account_pk", "tenant_id", "account_pk"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    account_pk: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("loyalty_accounts.id", ondelete="CASCADE")
    )
    type: Mapped[str] = mapped_column(String(24))
    body: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ts: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
