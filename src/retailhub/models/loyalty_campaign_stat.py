from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK


class LoyaltyCampaignStat(Base):
    """A daily counter of a campaign: ``joined``, ``finished:<state>``, ``coupons_issued``,
    ``coupons_redeemed``, ``push_registered``, ``push_clicked``, ``messages``, … — added
    to with upserts, so stats survive finalize and cost one row per metric and day."""

    __tablename__ = "loyalty_campaign_stats"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    campaign_pk: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("loyalty_campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    metric: Mapped[str] = mapped_column(String(48), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)
