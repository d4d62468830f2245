from __future__ import annotations

import re
import secrets
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from retailhub.auth import service as auth_service
from retailhub.errors import Conflict, DomainError
from retailhub.models import Tenant

SLUG_RE = re.compile(r"^[a-zA-Z0-9_-]{3,64}$")


def count_tenants(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Tenant)) or 0)


def get_by_slug(session: Session, slug: str) -> Tenant | None:
    return session.scalar(select(Tenant).where(Tenant.slug == slug))


def create_tenant(session: Session, *, slug: str, name: str | None = None) -> dict[str, Any]:
    """Create a tenant with its integrations; returns the credentials, shown only now."""
    if not SLUG_RE.match(slug):
        raise DomainError("tenant slug must be 3-64 characters of [a-zA-Z0-9_-]")
    if get_by_slug(session, slug) is not None:
        raise Conflict(f"tenant '{slug}' already exists")
    tenant = Tenant(slug=slug, name=name or slug, settings={})
    session.add(tenant)
    session.flush()
    data, data_secret = auth_service.create_credential(
        session,
        tenant=tenant,
        kind="data",
        scopes=" ".join(auth_service.DATA_SCOPES),
        client_id=f"{slug}-{secrets.token_hex(8)}",
    )
    return {
        "tenant": tenant.slug,
        "tenant_id": tenant.id,
        "data_client_id": data.client_id,
        "data_client_secret": data_secret,
    }
