"""Loyalty API routes: accounts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from retailhub.deps import SessionDep
from retailhub.loyalty.account import service
from retailhub.loyalty.deps import AccountService, User

router = APIRouter(prefix="/loyalty-api/api", tags=["loyalty: account"])


@router.get("/account/my", operation_id="getMyAccount")
def get_my_account(session: SessionDep, user: User) -> dict[str, Any]:
    """Get my account (the account of the end-user token)."""
    account = service.get(session, tenant_id=user.tenant_id, account_id=str(user.account_id))
    return {"id": account.account_id}


@router.get("/account/{account}", operation_id="getAccount")
def get_account(session: SessionDep, principal: AccountService, account: str) -> dict[str, Any]:
    """Get account."""
    found = service.get(session, tenant_id=principal.tenant_id, account_id=account)
    return {"id": found.account_id}
