from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK, RecordJSON, utcnow


class Product(Base):
    """An imported product. ``data`` holds the whole validated record in API field names;
    the typed columns are the ones filtered on or used by other domains."""

    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("tenant_id", "sku"),
        Index("ix_products_tenant_id_master_sku", "tenant_id", "master_sku"),
        Index("ix_products_tenant_id_category", "tenant_id", "category"),
        Index("ix_products_tenant_id_brand", "tenant_id", "brand"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(100))
    master_sku: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(500))
    brand: Mapped[str | None] = mapped_column(String(50))
    category: Mapped[str | None] = mapped_column(String(50))
    price: Mapped[Decimal | None]
    data: Mapped[dict[str, Any]] = mapped_column(RecordJSON)
    content_hash: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
