"""``POST /OAuth2/Token``: Listrak's client-credentials token endpoint."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import JSONResponse

from retailhub.auth import service
from retailhub.deps import SessionDep

router = APIRouter(tags=["OAuth2"])


def _invalid() -> JSONResponse:
    # Listrak answers bad credentials with exactly this body and status.
    return JSONResponse({"error": "Invalid Credentials"}, status_code=400)


@router.post("/OAuth2/Token", operation_id="OAuth2_Token")
def token(
    session: SessionDep,
    grant_type: Annotated[str, Form()] = "",
    client_id: Annotated[str, Form()] = "",
    client_secret: Annotated[str, Form()] = "",
) -> JSONResponse:
    """Issue a bearer token (client credentials grant) for a tenant's Data integration.

    The token is a signed JWT valid for `expires_in` seconds, carrying the tenant and the
    integration's scopes (`Customer`, `Order`, `Product`, `Review`). Bad or paused
    credentials get `400 {"error": "Invalid Credentials"}` as Listrak answers;
    an unsupported `grant_type` gets `400 {"error": "unsupported_grant_type"}`.
    """
    if grant_type != "client_credentials":
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
    found = service.authenticate_client(
        session, kind="data", client_id=client_id, client_secret=client_secret
    )
    if found is None:
        return _invalid()
    credential, tenant = found
    access_token, ttl = service.issue_token(
        tenant=tenant, client_id=credential.client_id, scopes=credential.scopes, audience="data"
    )
    return JSONResponse(
        {"access_token": access_token, "token_type": "bearer", "expires_in": ttl},
        headers={"Cache-Control": "no-store"},
    )
