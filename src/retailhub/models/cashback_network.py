from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, utcnow


class CashbackNetwork(Base):
    """An affiliate network that reports transactions by signed postback.

    The signing secret is kept as is: checking an HMAC needs the secret itself.
    """

    __tablename__ = "cashback_networks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
