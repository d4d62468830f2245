from __future__ import annotations

from sqlalchemy import ForeignKey, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base


class ImportPayload(Base):
    """An accepted payload, zlib-compressed in ordered chunks.

    Kept in the database so that the 201 means "committed", and so that a worker on any
    machine can read it. Deleted when the import finishes.
    """

    __tablename__ = "import_payloads"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    import_id: Mapped[str] = mapped_column(
        ForeignKey("import_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
