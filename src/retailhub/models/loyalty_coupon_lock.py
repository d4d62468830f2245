from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK, utcnow


class LoyaltyCouponLock(Base):
    """One reserved use of a coupon, held until ``expires_at``, unlock or redemption."""

    __tablename__ = "loyalty_coupon_locks"
    __table_args__ = (
        Index("ix_loyalty_coupon_locks_tenant_id_coupon_pk", "tenant_id", "coupon_pk"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    coupon_pk: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("loyalty_coupons.id", ondelete="CASCADE")
    )
    account_pk: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("loyalty_accounts.id", ondelete="CASCADE")
    )
    locked_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
