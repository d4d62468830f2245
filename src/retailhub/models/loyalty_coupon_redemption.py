from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK, utcnow


class LoyaltyCouponRedemption(Base):
    """A use of a coupon by an imported order; unique per order, so re-importing the order
    never redeems twice."""

    __tablename__ = "loyalty_coupon_redemptions"
    __table_args__ = (UniqueConstraint("tenant_id", "coupon_pk", "order_number"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    coupon_pk: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("loyalty_coupons.id", ondelete="CASCADE")
    )
    order_number: Mapped[str] = mapped_column(String(50))
    redeemed_at: Mapped[datetime] = mapped_column(default=utcnow)
