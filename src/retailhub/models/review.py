from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK, RecordJSON, utcnow


class Review(Base):
    """An imported review with its ratings (kept in ``data``)."""

    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("tenant_id", "provider", "provider_review_id"),
        Index("ix_reviews_tenant_id_provider_product_id", "tenant_id", "provider_product_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(50))
    provider_review_id: Mapped[str] = mapped_column(String(100))
    provider_product_id: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(RecordJSON)
    content_hash: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
