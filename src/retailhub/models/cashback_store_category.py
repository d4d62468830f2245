from __future__ import annotations

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK


class CashbackStoreCategory(Base):
    """A store's membership in a category."""

    __tablename__ = "cashback_store_categories"

    store_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("cashback_stores.id", ondelete="CASCADE"), primary_key=True
    )
    category_id: Mapped[int] = mapped_column(
        ForeignKey("cashback_categories.id", ondelete="CASCADE"), primary_key=True, index=True
    )
