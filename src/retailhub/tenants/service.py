from __future__ import annotations

import re
import secrets
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from retailhub.auth import api_keys
from retailhub.auth import service as auth_service
from retailhub.errors import Conflict, DomainError, NotFound
from retailhub.models import FileMapping, SshKey, Tenant

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
    # The SFTP/FTP login is the tenant's slug, which users recognize in a client's prompt.
    sftp, sftp_password = auth_service.create_credential(
        session, tenant=tenant, kind="sftp", client_id=slug
    )
    loyalty, loyalty_secret = auth_service.create_credential(
        session,
        tenant=tenant,
        kind="loyalty",
        scopes=" ".join(auth_service.LOYALTY_ROLES),
        client_id=f"{slug}-loyalty-{secrets.token_hex(6)}",
    )
    _key, cashback_key = api_keys.create(
        session, kind=api_keys.PUBLISHER, tenant=tenant, label="created with the tenant"
    )
    return {
        "tenant": tenant.slug,
        "tenant_id": tenant.id,
        "data_client_id": data.client_id,
        "data_client_secret": data_secret,
        "sftp_username": sftp.client_id,
        "sftp_password": sftp_password,
        "loyalty_client_id": loyalty.client_id,
        "loyalty_client_secret": loyalty_secret,
        # The publisher key of the cashback API (and of the tenant's webhook routes).
        "cashback_api_key": cashback_key,
        "cashback_publisher_id": tenant.id,
    }


def require(session: Session, slug: str) -> Tenant:
    tenant = get_by_slug(session, slug)
    if tenant is None:
        raise NotFound(f"no tenant '{slug}'")
    return tenant


def add_ssh_key(session: Session, *, slug: str, public_key: str) -> str:
    """Register an OpenSSH public key for the tenant's SFTP login; returns its fingerprint."""
    import asyncssh

    tenant = require(session, slug)
    line = public_key.strip()
    try:
        key = asyncssh.import_public_key(line)
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise DomainError(f"not an OpenSSH public key: {exc}") from None
    fingerprint = key.get_fingerprint("sha256")
    exists = session.scalar(
        select(SshKey).where(SshKey.tenant_id == tenant.id, SshKey.fingerprint == fingerprint)
    )
    if exists is None:
        session.add(SshKey(tenant_id=tenant.id, public_key=line, fingerprint=fingerprint))
    return fingerprint


FILE_ENTITIES = ("Product", "Order", "OrderItem", "Customer")


def map_files(session: Session, *, slug: str, pattern: str, entity: str) -> None:
    """Import files whose name matches ``pattern`` (shell-style, case-insensitive) as
    ``entity``, beside the standard Listrak names."""
    tenant = require(session, slug)
    by_lower = {e.lower(): e for e in FILE_ENTITIES}
    if entity.lower() not in by_lower:
        raise DomainError(f"entity must be one of {', '.join(FILE_ENTITIES)}")
    if not pattern.strip() or "/" in pattern:
        raise DomainError("a pattern matches a file name, without folders")
    mapping = session.scalar(
        select(FileMapping).where(
            FileMapping.tenant_id == tenant.id, FileMapping.pattern == pattern
        )
    )
    if mapping is None:
        session.add(
            FileMapping(tenant_id=tenant.id, pattern=pattern, entity=by_lower[entity.lower()])
        )
    else:
        mapping.entity = by_lower[entity.lower()]
