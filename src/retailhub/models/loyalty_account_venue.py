from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK


class LoyaltyAccountVenue(Base):
    """A venue (imported order's ``storeNumber``) where the account ordered, with how often."""

    __tablename__ = "loyalty_account_venues"
    __table_args__ = (Index("ix_loyalty_account_venues_tenant_id_venue", "tenant_id", "venue"),)

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    account_pk: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("loyalty_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    venue: Mapped[str] = mapped_column(String(100), primary_key=True)
    orders: Mapped[int] = mapped_column(default=0)
    last_order_at: Mapped[datetime | None]
