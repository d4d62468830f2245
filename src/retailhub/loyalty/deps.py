"""Who is calling the loyalty API: a tenant's service client (roles, ``x-tenant``) or an
end user acting for one account (a token minted by RFC 8693 exchange)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from retailhub.auth.service import decode_token
from retailhub.errors import DomainError, Forbidden, Unauthorized

TENANT_RE = re.compile(r"^[a-zA-Z0-9_-]{3,64}$")
AUDIENCE = "loyalty"


@dataclass(frozen=True)
class Principal:
    tenant_id: int
    tenant_slug: str
    client_id: str
    roles: frozenset[str]
    # Set for end-user tokens: the account the caller is.
    account_id: str | None = None


def _principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    info = None
    if scheme.lower() == "bearer" and value.strip():
        info = decode_token(value.strip(), audience=AUDIENCE)
    if info is None:
        raise Unauthorized("Full authentication is required to access this resource")
    return Principal(
        tenant_id=info.tenant_id,
        tenant_slug=info.tenant_slug,
        client_id=info.client_id,
        roles=info.scopes,
        account_id=info.account_id,
    )


def service(*roles: str) -> Callable[..., Principal]:
    """A service token holding one of ``roles``; ``x-tenant``, when sent, must be its tenant."""

    def dependency(
        principal: Annotated[Principal, Depends(_principal)],
        x_tenant: Annotated[str | None, Header(alias="x-tenant")] = None,
    ) -> Principal:
        if x_tenant is not None:
            if not TENANT_RE.match(x_tenant):
                raise DomainError("x-tenant: must be 3-64 characters of [a-zA-Z0-9_-]")
            if x_tenant != principal.tenant_slug:
                raise Forbidden(f"The token does not grant access to tenant '{x_tenant}'")
        if principal.account_id is not None or not principal.roles.intersection(roles):
            raise Forbidden(f"Access is denied: one of the roles {', '.join(roles)} is required")
        return principal

    return dependency


def user(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
    """An end-user token (the ``my`` operations); its tenant comes from the token."""
    if principal.account_id is None:
        raise Forbidden("Access is denied: this operation needs an end-user (account) token")
    return principal


ROLE_LOYALTY = "ROLE_LOYALTY"
ROLE_CAMPAIGN = "ROLE_LOYALTY_CAMPAIGN"
ROLE_STATS = "ROLE_LOYALTY_STATS"

# Service principals by operation family (any of the roles).
AccountService = Annotated[Principal, Depends(service(ROLE_LOYALTY))]
CampaignService = Annotated[Principal, Depends(service(ROLE_LOYALTY, ROLE_CAMPAIGN))]
StatsService = Annotated[Principal, Depends(service(ROLE_LOYALTY, ROLE_STATS))]
User = Annotated[Principal, Depends(user)]
