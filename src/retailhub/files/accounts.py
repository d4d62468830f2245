"""Logins of the file servers: a tenant's SFTP/FTP username and password (one pair serves
both protocols), and, for SFTP, the tenant's registered SSH public keys."""

from __future__ import annotations

from sqlalchemy import select

from retailhub.auth import service as auth_service
from retailhub.db import session_scope
from retailhub.models import Credential, SshKey, Tenant

KIND = "sftp"


def authenticate(username: str, password: str) -> str | None:
    """The tenant slug a username and password log in as, or None."""
    with session_scope() as session:
        row = session.execute(
            select(Credential.secret_hash, Tenant.slug)
            .join(Tenant, Tenant.id == Credential.tenant_id)
            .where(
                Credential.kind == KIND,
                Credential.client_id == username,
                Credential.active.is_(True),
            )
        ).first()
    if row is None or not auth_service.verify_secret(row.secret_hash, password):
        return None
    return str(row.slug)


def tenant_of(username: str) -> str | None:
    """The slug of the tenant an active SFTP/FTP username belongs to."""
    with session_scope() as session:
        slug = session.scalar(
            select(Tenant.slug)
            .join(Credential, Credential.tenant_id == Tenant.id)
            .where(
                Credential.kind == KIND,
                Credential.client_id == username,
                Credential.active.is_(True),
            )
        )
    return None if slug is None else str(slug)


def public_keys(username: str) -> list[str]:
    """The OpenSSH public keys (authorized_keys lines) that log in as this username."""
    with session_scope() as session:
        return list(
            session.scalars(
                select(SshKey.public_key)
                .join(Credential, Credential.tenant_id == SshKey.tenant_id)
                .where(
                    Credential.kind == KIND,
                    Credential.client_id == username,
                    Credential.active.is_(True),
                )
            )
        )
