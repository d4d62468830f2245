from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK, RecordJSON, utcnow


class WebhookEvent(Base):
    """An event of a tenant's, written in the same transaction as the change (the outbox)."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_tenant_id_created_at", "tenant_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    # The Standard Webhooks ``webhook-id``: the same on every attempt and replay.
    msg_id: Mapped[str] = mapped_column(String(40), unique=True)
    tenant_id: Mapped[int]
    event_type: Mapped[str] = mapped_column(String(64))
    # The body sent: {"eventType": ..., "data": ...}.
    payload: Mapped[dict[str, Any]] = mapped_column(RecordJSON)
    # Events sharing a key (e.g. "transaction:42") reach each endpoint in order.
    ordering_key: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
