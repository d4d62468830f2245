"""Credentials (hashed secrets) and signed access tokens."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from retailhub.config import get_settings
from retailhub.models import Credential, Tenant

# Client secrets are 256 random bits, so the hash need not be slow to resist guessing;
# argon2 with modest cost still keeps a leaked table useless.
_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)

DATA_SCOPES = ("Customer", "Order", "Product", "Review")
LOYALTY_ROLES = ("ROLE_LOYALTY", "ROLE_LOYALTY_CAMPAIGN", "ROLE_LOYALTY_STATS")
ALGORITHM = "HS256"
ISSUER = "retailhub"


@dataclass(frozen=True)
class TokenInfo:
    tenant_id: int
    tenant_slug: str
    client_id: str
    scopes: frozenset[str]
    audience: str
    # Loyalty end-user tokens (RFC 8693 exchange) name the account they act for.
    account_id: str | None = None


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(secret_hash: str, secret: str) -> bool:
    try:
        return _hasher.verify(secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def create_credential(
    session: Session, *, tenant: Tenant, kind: str, scopes: str = "", client_id: str | None = None
) -> tuple[Credential, str]:
    """Create a credential; returns it with its secret, which is not stored."""
    secret = secrets.token_urlsafe(32)
    credential = Credential(
        tenant_id=tenant.id,
        kind=kind,
        client_id=client_id or secrets.token_hex(12),
        secret_hash=hash_secret(secret),
        scopes=scopes,
    )
    session.add(credential)
    session.flush()
    return credential, secret


def authenticate_client(
    session: Session, *, kind: str, client_id: str, client_secret: str
) -> tuple[Credential, Tenant] | None:
    row = session.execute(
        select(Credential, Tenant)
        .join(Tenant, Tenant.id == Credential.tenant_id)
        .where(Credential.kind == kind, Credential.client_id == client_id)
    ).first()
    if row is None:
        # Spend the same time as a real check so ids cannot be probed by timing.
        verify_secret(_DUMMY_HASH, client_secret)
        return None
    credential, tenant = row
    if not credential.active or not verify_secret(credential.secret_hash, client_secret):
        return None
    return credential, tenant


def issue_token(
    *,
    tenant: Tenant,
    client_id: str,
    scopes: str,
    audience: str,
    ttl: int | None = None,
    account_id: str | None = None,
) -> tuple[str, int]:
    settings = get_settings()
    ttl = ttl if ttl is not None else settings.token_ttl_seconds
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": audience,
        "sub": client_id,
        "tid": tenant.id,
        "tenant": tenant.slug,
        "scope": scopes,
        "iat": now,
        "exp": now + ttl,
        "jti": secrets.token_hex(8),
    }
    if account_id is not None:
        # An end-user token: the account is the subject, the service client the actor.
        claims["sub"] = account_id
        claims["act"] = {"sub": client_id}
        claims["account"] = account_id
    return jwt.encode(claims, settings.token_secret(), algorithm=ALGORITHM), ttl


def decode_token(token: str, *, audience: str) -> TokenInfo | None:
    try:
        claims = jwt.decode(
            token,
            get_settings().token_secret(),
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "aud", "iss", "sub"]},
        )
    except jwt.PyJWTError:
        return None
    return TokenInfo(
        tenant_id=int(claims["tid"]),
        tenant_slug=str(claims["tenant"]),
        client_id=str(claims["sub"]),
        scopes=frozenset(str(claims.get("scope", "")).split()),
        audience=audience,
        account_id=str(claims["account"]) if claims.get("account") else None,
    )


_DUMMY_HASH = hash_secret(secrets.token_urlsafe(32))
