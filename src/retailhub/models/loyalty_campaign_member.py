from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK, utcnow


class LoyaltyCampaignMember(Base):
    """An account's run through a campaign: its current state (None once finished).

    ``cycle`` is 0 for STANDARD campaigns and the year for BIRTHDAY ones, which an account
    runs once a year. ``entered`` says whether the current state's action was performed."""

    __tablename__ = "loyalty_campaign_members"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id",
            "campaign_pk",
            "account_pk",
            "cycle",
            name="uq_loyalty_campaign_members_run",
        ),
        Index("ix_loyalty_campaign_members_campaign_state", "tenant_id", "campaign_pk", "state"),
        Index("ix_loyalty_campaign_members_tenant_id_account_pk", "tenant_id", "account_pk"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    # No foreign key to tenants: the engine writes these rows by the hundred thousand, and
    # their tenant follows from their account's (whose deletion cascades here).
    tenant_id: Mapped[int]
    campaign_pk: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("loyalty_campaigns.id", ondelete="CASCADE")
    )
    account_pk: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("loyalty_accounts.id", ondelete="CASCADE")
    )
    cycle: Mapped[int] = mapped_column(default=0)
    state: Mapped[str | None] = mapped_column(String(32))
    entered: Mapped[bool] = mapped_column(default=False)
    # The imported order that completed the latest ORDER state (so a WALLET state's points
    # can be reversed if that order is later cancelled or returned).
    order_number: Mapped[str | None] = mapped_column(String(50))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    state_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
