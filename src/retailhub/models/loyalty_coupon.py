from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK, utcnow


class LoyaltyCoupon(Base):
    """A coupon issued to one account (by a campaign's COUPON state). ``used`` counts
    redemptions (rows of ``loyalty_coupon_redemptions``)."""

    __tablename__ = "loyalty_coupons"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        Index("ix_loyalty_coupons_tenant_id_account_pk", "tenant_id", "account_pk"),
        Index("ix_loyalty_coupons_tenant_id_valid_until", "tenant_id", "valid_until"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    # No foreign key to tenants: the engine writes these rows by the hundred thousand, and
    # their tenant follows from their account's (whose deletion cascades here).
    tenant_id: Mapped[int]
    code: Mapped[str] = mapped_column(String(64))
    account_pk: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("loyalty_accounts.id", ondelete="CASCADE")
    )
    campaign_pk: Mapped[int | None] = mapped_column(
        BigIntPK, ForeignKey("loyalty_campaigns.id", ondelete="SET NULL")
    )
    state_id: Mapped[str | None] = mapped_column(String(32))
    valid_from: Mapped[datetime] = mapped_column(default=utcnow)
    valid_until: Mapped[datetime | None]
    usage_limit: Mapped[int] = mapped_column(default=1)
    used: Mapped[int] = mapped_column(default=0)
    product_id: Mapped[str | None] = mapped_column(String(100))
    category_id: Mapped[str | None] = mapped_column(String(100))
    enable_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
