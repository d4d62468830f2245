from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK


class LoyaltyAccountTag(Base):
    """One tag of an account (``tags.X`` constraints test for the row)."""

    __tablename__ = "loyalty_account_tags"
    __table_args__ = (Index("ix_loyalty_account_tags_tenant_id_tag", "tenant_id", "tag"),)

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    account_pk: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("loyalty_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)
