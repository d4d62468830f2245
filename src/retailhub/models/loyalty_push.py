from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK, utcnow


class LoyaltyPush(Base):
    """A push sent for a campaign (registerPush/registerPushV2) and its clicks (pushClick)."""

    __tablename__ = "loyalty_pushes"
    __table_args__ = (UniqueConstraint("tenant_id", "campaign_pk", "push_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    campaign_pk: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("loyalty_campaigns.id", ondelete="CASCADE")
    )
    push_id: Mapped[str] = mapped_column(String(32))
    title: Mapped[str | None] = mapped_column(String(256))
    clicks: Mapped[int] = mapped_column(default=0)
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
