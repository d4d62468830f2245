"""API keys: a tenant's publisher key (the cashback API and the tenant's webhook routes) and
the operator's key (``/admin/api``).

A key is 256 random bits behind a readable prefix; only its SHA-256 is stored, so a lookup
is one indexed read (a password hash would cost tens of milliseconds on every request).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from retailhub.kit import clock
from retailhub.models import ApiKey, Tenant

PUBLISHER = "publisher"
OPERATOR = "operator"
_PREFIXES = {PUBLISHER: "rhk_", OPERATOR: "rho_"}


@dataclass(frozen=True)
class KeyOwner:
    kind: str
    key_id: int
    # None for the operator.
    tenant_id: int | None
    tenant_slug: str | None


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create(
    session: Session, *, kind: str, tenant: Tenant | None = None, label: str | None = None
) -> tuple[ApiKey, str]:
    """A new key; returns its row and the key itself, which is not stored."""
    if (kind == PUBLISHER) != (tenant is not None):
        raise ValueError("a publisher key belongs to a tenant; an operator key to none")
    key = _PREFIXES[kind] + secrets.token_urlsafe(32)
    row = ApiKey(
        kind=kind,
        tenant_id=tenant.id if tenant is not None else None,
        key_hash=_digest(key),
        prefix=key[:12],
        label=label,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row, key


def authenticate(session: Session, key: str, *, kind: str) -> KeyOwner | None:
    """The owner of an unrevoked key of ``kind``, or None."""
    row = session.execute(
        select(ApiKey.id, ApiKey.tenant_id, ApiKey.revoked_at, Tenant.slug)
        .outerjoin(Tenant, Tenant.id == ApiKey.tenant_id)
        .where(ApiKey.key_hash == _digest(key), ApiKey.kind == kind)
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    return KeyOwner(kind=kind, key_id=row.id, tenant_id=row.tenant_id, tenant_slug=row.slug)


def revoke(session: Session, key_id: int) -> None:
    row = session.get(ApiKey, key_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = clock.now()
