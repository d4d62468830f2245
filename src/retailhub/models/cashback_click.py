from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK


class CashbackClick(Base):
    """A shopper's click on a publisher's tracking link (written by the redirect, in batches).

    No foreign keys: the redirect is the network's hottest write, and its store and
    publisher were checked when the click was taken.
    """

    __tablename__ = "cashback_clicks"
    __table_args__ = (
        Index("ix_cashback_clicks_tenant_id_click_date", "tenant_id", "click_date"),
        Index("ix_cashback_clicks_tenant_id_shopper_id", "tenant_id", "shopper_id"),
        Index("ix_cashback_clicks_tenant_id_store_id", "tenant_id", "store_id"),
    )

    # 32 lower-case hex characters.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[int]
    store_id: Mapped[int] = mapped_column(BigIntPK)
    deal_id: Mapped[int | None] = mapped_column(BigInteger)
    # cp: the publisher's shopper id (the loyalty account id when the loyalty engine is used).
    shopper_id: Mapped[str] = mapped_column(String(96))
    sid: Mapped[str | None] = mapped_column(String(96))
    click_date: Mapped[datetime]
    # The first transaction attributed to this click.
    transaction_id: Mapped[int | None] = mapped_column(BigInteger)
