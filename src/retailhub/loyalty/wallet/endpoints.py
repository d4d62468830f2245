"""Loyalty API routes: wallet (ours; the Ordering Stack Loyalty API document has no wallet
operations, its wallets live in a separate Wallet API)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from retailhub.db import session_scope
from retailhub.deps import SessionDep
from retailhub.errors import DomainError
from retailhub.kit import clock, reactadmin
from retailhub.loyalty.account import service as account_service
from retailhub.loyalty.deps import AccountService, User
from retailhub.loyalty.wallet import service
from retailhub.loyalty.wallet.repository import SORTS
from retailhub.loyalty.wallet.schemas import (
    EarnRequest,
    SpendRequest,
    WalletEntryRead,
    WalletRead,
    entry_read,
)
from retailhub.models import LoyaltyAccount, LoyaltyWalletEntry

router = APIRouter(prefix="/loyalty-api/api", tags=["loyalty: wallet"])

ACCOUNT_RE = re.compile(r"^[a-zA-Z0-9._-]{3,64}$")

LIST_DOC = """
Ours (the document has no wallet operations). The answer is `{account, balance, available,
entries}`: `balance` is the sum of every entry (negative when reversed points had been spent),
`available` what a spend may take now. `entries` is one page, newest first unless sorted,
react-admin style: `_start/_end/_sort/_order` or `range/sort/filter` (JSON); sortable `id`,
`createdAt`, `points`, `kind`; filter `kind` (earn, spend, expire, reverse); the total number of
entries in `X-Total-Count` and `Content-Range: entries a-b/total`. Entry: `{id, kind, points,
earnId, remaining, expiresAt, source, orderNumber, createdAt}` (`remaining`: points left on an
earn).
"""


def _list_doc(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Append the shared part of the docstring (read by the route decorator above it)."""
    endpoint.__doc__ = (endpoint.__doc__ or "") + LIST_DOC
    return endpoint


def _account(session: Session, tenant_id: int, account: str) -> LoyaltyAccount:
    if not ACCOUNT_RE.match(account):
        raise DomainError("account: must be 3-64 characters of [a-zA-Z0-9._-]", field="account")
    return account_service.get(session, tenant_id=tenant_id, account_id=account)


def _entries(session: Session, rows: list[LoyaltyWalletEntry]) -> list[WalletEntryRead]:
    left = service.remainders(session, [e.id for e in rows if e.kind == "earn"])
    return [entry_read(e, left) for e in rows]


def _wallet(
    session: Session, request: Request, response: Response, tenant_id: int, account: LoyaltyAccount
) -> WalletRead:
    query = reactadmin.parse(request, sortable=set(SORTS), default_sort="id")
    params = request.query_params
    if not ("sort" in params or "_sort" in params or "_order" in params):
        query = reactadmin.ListQuery(
            offset=query.offset, limit=query.limit, sort="id", descending=True, filter=query.filter
        )
    total, rows = service.entries(session, tenant_id=tenant_id, account_pk=account.id, query=query)
    response.headers.update(
        reactadmin.headers(query, total=total, returned=len(rows), resource="entries")
    )
    return _read(session, tenant_id, account, rows)


def _read(
    session: Session, tenant_id: int, account: LoyaltyAccount, rows: list[LoyaltyWalletEntry]
) -> WalletRead:
    return WalletRead(
        account=account.account_id,
        balance=service.balance(session, tenant_id=tenant_id, account_pk=account.id),
        available=service.available(session, tenant_id=tenant_id, account_pk=account.id),
        entries=_entries(session, rows),
    )


@router.get("/account/my/wallet", operation_id="getMyWallet", response_model=WalletRead)
@_list_doc
def get_my_wallet(
    session: SessionDep, user: User, request: Request, response: Response
) -> WalletRead:
    """My point wallet (end-user token)."""
    account = account_service.get(
        session, tenant_id=user.tenant_id, account_id=str(user.account_id)
    )
    return _wallet(session, request, response, user.tenant_id, account)


@router.get("/account/{account}/wallet", operation_id="getWallet", response_model=WalletRead)
@_list_doc
def get_wallet(
    session: SessionDep,
    principal: AccountService,
    account: str,
    request: Request,
    response: Response,
) -> WalletRead:
    """An account's point wallet (service token, ROLE_LOYALTY); 404 for an unknown account."""
    found = _account(session, principal.tenant_id, account)
    return _wallet(session, request, response, principal.tenant_id, found)


@router.post("/account/{account}/wallet/earn", operation_id="earnPoints", response_model=WalletRead)
def earn_points(principal: AccountService, account: str, body: EarnRequest) -> WalletRead:
    """Ours: credit points to an account (service token, ROLE_LOYALTY). Body `{points ≥ 1,
    expiresInDays?, source? (default "api"), orderNumber?}`; points without `expiresInDays`
    never expire; with `orderNumber`, a later import returning or cancelling that order
    reverses them. 200 with `{account, balance, available, entries}` where `entries` is the
    entry written. 404 for an unknown account."""
    # The transaction is opened here rather than by WriteSessionDep: see the coupon
    # endpoints (UNIT_OF_WORK) for why writers keep one worker thread from lock to commit.
    with session_scope(write=True) as session:
        found = _account(session, principal.tenant_id, account)
        expires_at = None
        if body.expires_in_days is not None:
            expires_at = clock.now() + timedelta(days=body.expires_in_days)
        entry = service.earn(
            session,
            tenant_id=principal.tenant_id,
            account_pk=found.id,
            points=body.points,
            expires_at=expires_at,
            source=body.source or "api",
            order_number=body.order_number,
        )
        return _read(session, principal.tenant_id, found, [entry])


@router.post(
    "/account/{account}/wallet/spend", operation_id="spendPoints", response_model=WalletRead
)
def spend_points(principal: AccountService, account: str, body: SpendRequest) -> WalletRead:
    """Ours: debit points from an account (service token, ROLE_LOYALTY). Body `{points ≥ 1,
    reference?}`. Points are taken from the oldest unexpired earns first (by the time they
    were earned), one `spend` entry per earn drawn on (`reference` kept as their source).
    409 when fewer points are `available` (unexpired points, capped by the balance) and
    nothing is written. Spends of one account are serialized. 200 with `{account, balance,
    available, entries}` where `entries` are the entries written."""
    with session_scope(write=True) as session:
        found = _account(session, principal.tenant_id, account)
        written = service.spend(
            session,
            tenant_id=principal.tenant_id,
            account_pk=found.id,
            points=body.points,
            source=body.reference,
        )
        return _read(session, principal.tenant_id, found, written)
