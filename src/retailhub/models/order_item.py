from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK, RecordJSON, utcnow


class OrderItem(Base):
    """A line of an order. Keyed by order number, not by a foreign key: item files may
    arrive before their order file, and the items join the order when it arrives."""

    __tablename__ = "order_items"
    __table_args__ = (
        UniqueConstraint("tenant_id", "order_number", "line_no"),
        Index("ix_order_items_tenant_id_sku", "tenant_id", "sku"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    order_number: Mapped[str] = mapped_column(String(50))
    line_no: Mapped[int]
    sku: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[int | None]
    price: Mapped[Decimal | None]
    data: Mapped[dict[str, Any]] = mapped_column(RecordJSON)
    # Set for items imported on their own (an order item file), to tell unchanged ones.
    content_hash: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
