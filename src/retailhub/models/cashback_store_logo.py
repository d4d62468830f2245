from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK, utcnow


class CashbackStoreLogo(Base):
    """A store's logo image, kept apart so catalog reads never load it."""

    __tablename__ = "cashback_store_logos"

    store_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("cashback_stores.id", ondelete="CASCADE"), primary_key=True
    )
    content_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    # Hex SHA-256 of ``data``: the ETag.
    digest: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
