from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK


class CashbackStoreTag(Base):
    """A store's tag (b2bStores, bopisStores, extraCashback, ...), for filtering."""

    __tablename__ = "cashback_store_tags"

    store_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("cashback_stores.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
