from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK


class CashbackStoreCountry(Base):
    """A country a store ships to or serves (``GLOBAL``: worldwide), for filtering."""

    __tablename__ = "cashback_store_countries"

    store_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("cashback_stores.id", ondelete="CASCADE"), primary_key=True
    )
    country: Mapped[str] = mapped_column(String(8), primary_key=True, index=True)
