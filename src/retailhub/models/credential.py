from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, utcnow


class Credential(Base):
    """A tenant's integration secret (Data API client, SFTP login, loyalty client, API key).

    Only the argon2 hash of the secret is kept; the secret is shown once at creation.
    """

    __tablename__ = "credentials"
    __table_args__ = (UniqueConstraint("kind", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    # data | sftp | loyalty | cashback
    kind: Mapped[str] = mapped_column(String(16))
    client_id: Mapped[str] = mapped_column(String(128))
    secret_hash: Mapped[str] = mapped_column(String(255))
    # Space-separated scopes or roles granted to tokens issued for this credential.
    scopes: Mapped[str] = mapped_column(String(500), default="")
    # Listrak lets a merchant pause an integration; paused credentials get no tokens.
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
