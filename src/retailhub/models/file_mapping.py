from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, utcnow


class FileMapping(Base):
    """A tenant's own file-name pattern for an import entity, beside the standard names."""

    __tablename__ = "file_mappings"
    __table_args__ = (UniqueConstraint("tenant_id", "pattern"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    # A shell-style pattern (``*``, ``?``, ``[...]``) matched case-insensitively against
    # the whole file name.
    pattern: Mapped[str] = mapped_column(String(255))
    # Product | Order | OrderItem | Customer
    entity: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
