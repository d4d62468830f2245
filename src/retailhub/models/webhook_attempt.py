from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK, utcnow


class WebhookAttempt(Base):
    """One HTTP attempt of a delivery: the delivery log."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    tenant_id: Mapped[int]
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(default=0)
    # The first 1,000 characters of the answer.
    response_body: Mapped[str | None] = mapped_column(Text)
