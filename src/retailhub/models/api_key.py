from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, utcnow


class ApiKey(Base):
    """A bearer API key: a tenant's publisher key (the cashback API, the tenant's webhook
    routes) or an operator key (``/admin/api``, no tenant).

    Keys are 256 random bits, so their SHA-256 is kept (looked up by index on every
    request, unlike a slow password hash); the key itself is shown once at creation.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    # publisher | operator
    kind: Mapped[str] = mapped_column(String(16))
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The key's first characters, to tell keys apart in listings.
    prefix: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
