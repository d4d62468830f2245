from __future__ import annotations

from sqlalchemy import ForeignKey, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base


class ImportPayload(Base):
    """An accepted payload as ordered chunks of whole records (JSON lines, zlib-compressed).

    Kept in the database so that the 201 means "committed", and so that a worker on any
    machine can read it. A chunk is the unit of checking, writing and checkpointing.
    Deleted when the import finishes.
    """

    __tablename__ = "import_payloads"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    import_id: Mapped[str] = mapped_column(
        ForeignKey("import_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(primary_key=True)
    records: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)
