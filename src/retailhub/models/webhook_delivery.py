from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK, utcnow


class WebhookDelivery(Base):
    """One event to one endpoint: pending until delivered, retried with back-off, failed
    when its retries are spent (a replay makes it pending again)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        Index(
            "ix_webhook_deliveries_endpoint_id_ordering_key",
            "endpoint_id",
            "ordering_key",
            "id",
        ),
        Index("ix_webhook_deliveries_tenant_id_created_at", "tenant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    event_pk: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True
    )
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    tenant_id: Mapped[int]
    ordering_key: Mapped[str | None] = mapped_column(String(120))
    # pending | delivered | failed
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    # A dispatcher that took it holds it until then (another may take it after).
    locked_until: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
