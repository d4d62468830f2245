from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK, utcnow


class LoyaltyCampaign(Base):
    """A campaign: its definition as given (constraints, states, notifications) and its
    lifecycle (previewed → initialized → finalized)."""

    __tablename__ = "loyalty_campaigns"
    __table_args__ = (UniqueConstraint("tenant_id", "campaign_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    campaign_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(128))
    active_from: Mapped[datetime | None]
    active_to: Mapped[datetime | None]
    dynamic: Mapped[bool] = mapped_column(default=False)
    constraints: Mapped[list[Any]] = mapped_column(default=list)
    states: Mapped[list[Any]] = mapped_column(default=list)
    notifications: Mapped[list[Any]] = mapped_column(default=list)
    initialized: Mapped[bool] = mapped_column(default=False)
    initialized_at: Mapped[datetime | None]
    initialized_by: Mapped[str | None] = mapped_column(String(128))
    # When the initial enrollment ran (at initialize, or when activeFrom was reached later).
    enrolled_at: Mapped[datetime | None]
    finalized_at: Mapped[datetime | None]
    finalized_by: Mapped[str | None] = mapped_column(String(128))
    cnt: Mapped[int] = mapped_column(default=0)
    previewed_at: Mapped[datetime | None]
    samples: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
