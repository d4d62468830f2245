from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK, Money, utcnow


class CashbackSkuDetail(Base):
    """A line (SKU) of a transaction's order, as the network reported it."""

    __tablename__ = "cashback_sku_details"
    __table_args__ = (
        Index("ix_cashback_sku_details_tenant_id_transaction_id", "tenant_id", "transaction_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int]
    transaction_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("cashback_transactions.id", ondelete="CASCADE")
    )
    sku: Mapped[str] = mapped_column(String(100))
    item_name: Mapped[str | None] = mapped_column(String(300))
    category: Mapped[str | None] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(default=1)
    price: Mapped[Decimal] = mapped_column(Money)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
