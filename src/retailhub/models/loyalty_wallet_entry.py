from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK, utcnow


class LoyaltyWalletEntry(Base):
    """An append-only point ledger row. ``kind`` is earn (+, with ``expires_at``), spend,
    expire or reverse (negative, each naming the earn entry it draws on in ``earn_pk``).
    The balance is the sum of ``points``; an earn's remainder is its points plus the
    entries that name it."""

    __tablename__ = "loyalty_wallet_entries"
    __table_args__ = (
        Index("ix_loyalty_wallet_entries_tenant_id_account_pk", "tenant_id", "account_pk"),
        Index("ix_loyalty_wallet_entries_tenant_id_order_number", "tenant_id", "order_number"),
        Index("ix_loyalty_wallet_entries_earn_pk", "earn_pk"),
        # The expiry sweep reads a tenant's earns by expiry time.
        Index("ix_loyalty_wallet_entries_expiry", "tenant_id", "kind", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    # No foreign key to tenants: the engine writes these rows by the hundred thousand, and
    # their tenant follows from their account's (whose deletion cascades here).
    tenant_id: Mapped[int]
    account_pk: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("loyalty_accounts.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(8))
    points: Mapped[int] = mapped_column(BigInteger)
    earn_pk: Mapped[int | None] = mapped_column(
        BigIntPK, ForeignKey("loyalty_wallet_entries.id", ondelete="CASCADE")
    )
    expires_at: Mapped[datetime | None]
    # What caused it: "campaign:<id>/<state>", "order:<number>", "cashback:<id>", "api".
    source: Mapped[str | None] = mapped_column(String(160))
    order_number: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
