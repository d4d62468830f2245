"""``POST /auth-oauth2/oauth/token``: tokens for the loyalty API.

Two grants: ``client_credentials`` for a tenant's loyalty service client (roles), and RFC
8693 token exchange, by which a service client mints an end-user token for one account."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Form, Header, Request
from fastapi.responses import JSONResponse

from retailhub.auth import service
from retailhub.deps import WriteSessionDep
from retailhub.errors import DomainError
from retailhub.kit import clock
from retailhub.loyalty.account import service as account_service
from retailhub.loyalty.deps import AUDIENCE, TENANT_RE

router = APIRouter(tags=["loyalty: token"])

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCOUNT_TOKEN_TYPE = "urn:retailhub:params:oauth:token-type:account-id"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="loyalty"'
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=headers
    )


def _basic(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(value.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


@router.post("/auth-oauth2/oauth/token", operation_id="loyaltyToken")
def token(
    request: Request,
    session: WriteSessionDep,
    grant_type: Annotated[str, Form()] = "",
    client_id: Annotated[str, Form()] = "",
    client_secret: Annotated[str, Form()] = "",
    scope: Annotated[str, Form()] = "",
    subject_token: Annotated[str, Form()] = "",
    subject_token_type: Annotated[str, Form()] = "",
    x_tenant: Annotated[str | None, Header(alias="x-tenant")] = None,
) -> JSONResponse:
    """Issue a loyalty access token (a signed JWT valid for `expires_in` seconds).

    The client authenticates with HTTP Basic or with `client_id`/`client_secret` form fields
    (the `loyalty_client_id`/`loyalty_client_secret` printed by `retailhub tenants create`).

    - `grant_type=client_credentials`: a service token with the client's roles
      `ROLE_LOYALTY ROLE_LOYALTY_CAMPAIGN ROLE_LOYALTY_STATS`; `scope` (space-separated
      roles) narrows them. Answer: `{access_token, token_type, expires_in, scope}`.
    - `grant_type=urn:ietf:params:oauth:grant-type:token-exchange` (RFC 8693), with
      `subject_token=<account id>` and `subject_token_type=` (default)
      `urn:retailhub:params:oauth:token-type:account-id`: an end-user token for that
      account, for the `my` operations. The client needs `ROLE_LOYALTY`. An account id
      not seen before registers the account. Answer:
      `{access_token, issued_token_type, token_type, expires_in}`.

    `x-tenant`, when sent, must be the client's tenant. Errors follow RFC 6749:
    `401 {"error": "invalid_client"}`, `400 {"error": "unsupported_grant_type" |
    "invalid_request" | "invalid_scope"}`.
    """
    basic = _basic(request)
    if basic is not None:
        client_id, client_secret = basic
    found = service.authenticate_client(
        session, kind="loyalty", client_id=client_id, client_secret=client_secret
    )
    if found is None:
        return _oauth_error(401, "invalid_client", "Bad client credentials")
    credential, tenant = found
    if x_tenant is not None and (not TENANT_RE.match(x_tenant) or x_tenant != tenant.slug):
        return _oauth_error(400, "invalid_request", "x-tenant is not the client's tenant")
    granted = credential.scopes.split()
    if grant_type == "client_credentials":
        roles = granted
        if scope.strip():
            asked = scope.split()
            unknown = [r for r in asked if r not in granted]
            if unknown:
                return _oauth_error(400, "invalid_scope", f"Not granted: {' '.join(unknown)}")
            roles = asked
        access_token, ttl = service.issue_token(
            tenant=tenant, client_id=credential.client_id, scopes=" ".join(roles), audience=AUDIENCE
        )
        return JSONResponse(
            {
                "access_token": access_token,
                "token_type": "bearer",
                "expires_in": ttl,
                "scope": " ".join(roles),
            },
            headers={"Cache-Control": "no-store"},
        )
    if grant_type == TOKEN_EXCHANGE:
        if "ROLE_LOYALTY" not in granted:
            return _oauth_error(400, "unauthorized_client", "The client lacks ROLE_LOYALTY")
        if subject_token_type not in ("", ACCOUNT_TOKEN_TYPE):
            return _oauth_error(
                400, "invalid_request", f"subject_token_type must be {ACCOUNT_TOKEN_TYPE}"
            )
        try:
            account = account_service.ensure_account(
                session, tenant_id=tenant.id, account_id=subject_token
            )
        except DomainError:
            return _oauth_error(
                400, "invalid_request", "subject_token must be an account id (3-64 [a-zA-Z0-9._-])"
            )
        # An end-user token is a login: it is what the account's header.lastLogged shows.
        account.last_logged_at = clock.now()
        access_token, ttl = service.issue_token(
            tenant=tenant,
            client_id=credential.client_id,
            scopes="",
            audience=AUDIENCE,
            account_id=account.account_id,
        )
        return JSONResponse(
            {
                "access_token": access_token,
                "issued_token_type": ACCESS_TOKEN_TYPE,
                "token_type": "Bearer",
                "expires_in": ttl,
            },
            headers={"Cache-Control": "no-store"},
        )
    return _oauth_error(400, "unsupported_grant_type", f"Unsupported grant type '{grant_type}'")
