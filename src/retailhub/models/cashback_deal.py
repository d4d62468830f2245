from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK, utcnow


class CashbackDeal(Base):
    """A deal of a catalog store: COUPON, FREE_SHIPPING, SALE_DISCOUNT or NEW_PRODUCT."""

    __tablename__ = "cashback_deals"
    __table_args__ = (
        Index("ix_cashback_deals_store_id_start_date", "store_id", "start_date"),
        Index("ix_cashback_deals_deal_type_start_date", "deal_type", "start_date"),
        Index("ix_cashback_deals_start_date", "start_date"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("cashback_stores.id", ondelete="CASCADE")
    )
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    deal_type: Mapped[str] = mapped_column(String(16))
    coupon_code: Mapped[str | None] = mapped_column(String(100))
    start_date: Mapped[datetime | None]
    end_date: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
