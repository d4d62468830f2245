from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, utcnow


class CashbackCategory(Base):
    """A store category of the network's global catalog."""

    __tablename__ = "cashback_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    seo_friendly_id: Mapped[str] = mapped_column(String(140), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
