from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK, RecordJSON, utcnow


class Order(Base):
    """An imported order (without its items, which live in ``order_items``)."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "order_number"),
        Index("ix_orders_tenant_id_email", "tenant_id", "email"),
        Index("ix_orders_tenant_id_customer_number", "tenant_id", "customer_number"),
        Index("ix_orders_tenant_id_date_entered", "tenant_id", "date_entered"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    order_number: Mapped[str] = mapped_column(String(50))
    customer_number: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(100))
    date_entered: Mapped[datetime | None]
    order_total: Mapped[Decimal | None]
    status: Mapped[str | None] = mapped_column(String(20))
    store_number: Mapped[str | None] = mapped_column(String(100))
    coupon_code: Mapped[str | None] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(RecordJSON)
    content_hash: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
