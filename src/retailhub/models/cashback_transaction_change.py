from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK, Money, utcnow


class CashbackTransactionChange(Base):
    """One change of a transaction: its creation, a status change or an amount change."""

    __tablename__ = "cashback_transaction_changes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    transaction_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("cashback_transactions.id", ondelete="CASCADE"), index=True
    )
    tenant_id: Mapped[int]
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "network:<name>", "operator", "system".
    actor: Mapped[str] = mapped_column(String(120))
    old_status: Mapped[str | None] = mapped_column(String(20))
    new_status: Mapped[str | None] = mapped_column(String(20))
    old_sale_amount: Mapped[Decimal | None] = mapped_column(Money)
    new_sale_amount: Mapped[Decimal | None] = mapped_column(Money)
    old_shopper_commission: Mapped[Decimal | None] = mapped_column(Money)
    new_shopper_commission: Mapped[Decimal | None] = mapped_column(Money)
    admin_comment: Mapped[str | None] = mapped_column(Text)
