from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK


class ImportIssue(Base):
    """A rejected record (severity ``error``) or a warning about one."""

    __tablename__ = "import_issues"
    __table_args__ = (Index("ix_import_issues_import_id_id", "import_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    import_id: Mapped[str] = mapped_column(ForeignKey("import_jobs.id", ondelete="CASCADE"))
    severity: Mapped[str] = mapped_column(String(8))
    # Position in the JSON array (REST) or line in the file (file imports).
    record_index: Mapped[int | None]
    line: Mapped[int | None]
    field: Mapped[str] = mapped_column(String(200))
    rule: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(String(500))
    value: Mapped[str | None] = mapped_column(String(300))
