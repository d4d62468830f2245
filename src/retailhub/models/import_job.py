from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, utcnow

_FILE_DROP = text("source <> 'api' AND status NOT IN ('failed', 'duplicate')")


class ImportJob(Base):
    """One import: a REST payload or a dropped file, and what became of each record."""

    __tablename__ = "import_jobs"
    __table_args__ = (
        Index("ix_import_jobs_tenant_id_created_at", "tenant_id", "created_at"),
        # A file's content is imported once per tenant and entity: a second drop of the same
        # bytes is a duplicate, unless the first import failed.
        Index(
            "uq_import_jobs_file_content",
            "tenant_id",
            "entity",
            "payload_sha256",
            unique=True,
            sqlite_where=_FILE_DROP,
            postgresql_where=_FILE_DROP,
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    # Customer | Order | OrderItem | Product | RatingSummary | Review
    entity: Mapped[str] = mapped_column(String(32))
    # api | sftp | ftp | cli
    source: Mapped[str] = mapped_column(String(16), default="api")
    file_name: Mapped[str | None] = mapped_column(String(255))
    # queued | running | succeeded | partially_failed | failed | duplicate (a file whose
    # content was imported before; nothing is imported from it)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    payload_bytes: Mapped[int] = mapped_column(default=0)
    payload_sha256: Mapped[str | None] = mapped_column(String(64))

    received: Mapped[int] = mapped_column(default=0)
    inserted: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)
    warnings: Mapped[int] = mapped_column(default=0)
    # Records consumed so far: the checkpoint a resumed job skips to.
    processed: Mapped[int] = mapped_column(default=0)
    message: Mapped[str | None] = mapped_column(Text)

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
