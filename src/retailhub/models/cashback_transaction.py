from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK, Money, utcnow


class CashbackTransaction(Base):
    """A sale reported by an affiliate network, attributed to a click's publisher and shopper.

    Status: PENDING → AVAILABLE → PAYMENT_INITIATED → PAID, or PENDING|AVAILABLE →
    NON_COMMISSIONABLE. Every change is kept in ``cashback_transaction_changes``.
    """

    __tablename__ = "cashback_transactions"
    __table_args__ = (
        # A store's order is one sale: a postback sent again updates it.
        UniqueConstraint("store_id", "order_number"),
        Index("ix_cashback_transactions_tenant_id_purchase_date", "tenant_id", "purchase_date"),
        Index("ix_cashback_transactions_tenant_id_updated_at", "tenant_id", "updated_at"),
        Index("ix_cashback_transactions_tenant_id_shopper_id", "tenant_id", "shopper_id"),
        Index("ix_cashback_transactions_tenant_id_status", "tenant_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    click_id: Mapped[str] = mapped_column(String(32), index=True)
    network_id: Mapped[int | None] = mapped_column(
        ForeignKey("cashback_networks.id", ondelete="SET NULL")
    )
    store_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("cashback_stores.id"))
    shopper_id: Mapped[str] = mapped_column(String(96))
    sid: Mapped[str | None] = mapped_column(String(96))
    order_number: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    sale_amount: Mapped[Decimal] = mapped_column(Money)
    # What the store pays the network for the sale (its commission applied to the sale).
    commission_amount: Mapped[Decimal] = mapped_column(Money)
    # The publisher's share of it, and the shopper's cashback.
    share: Mapped[Decimal] = mapped_column(Numeric(7, 4))
    tier: Mapped[str | None] = mapped_column(String(32))
    shopper_commission: Mapped[Decimal] = mapped_column(Money)
    purchase_date: Mapped[datetime]
    pending_date: Mapped[datetime | None]
    availability_date: Mapped[datetime | None]
    payment_date: Mapped[datetime | None]
    admin_comment: Mapped[str | None] = mapped_column(Text)
    is_sku_details_brand: Mapped[bool] = mapped_column(default=False)
    # Points credited to the shopper's loyalty wallet for it (None: none credited).
    wallet_points: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
