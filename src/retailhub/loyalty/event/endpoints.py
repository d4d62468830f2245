"""Loyalty API routes: event."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from retailhub.deps import WriteSessionDep
from retailhub.loyalty.deps import AccountService
from retailhub.loyalty.event import service

router = APIRouter(prefix="/loyalty-api/api", tags=["loyalty: event"])


@router.post("/events", operation_id="postEvent")
def post_event(
    session: WriteSessionDep, principal: AccountService, body: Any = Body(...)
) -> list[dict[str, Any]]:
    """Post new event(s): a JSON array (at most 1000) of relation events. Each item
    addresses its account by `account` (3-64 of `[a-zA-Z0-9._-]`; an unknown id is
    created) or by `card` (an unknown card is a 404 naming the item, e.g. `[1].card`;
    when both are given the card must be that account's). `type` INVITED_BY | INVITED |
    FRIEND | UNKNOWN and `id` (the other account, 3-64 of `[a-zA-Z0-9._-]`, not the account
    itself) are required; `ts` (date-time, default now) is the relation's `at`.
    The relation is recorded on the account and, unless `doNotProcessSymmetry`, the
    mirrored one on the other account (INVITED_BY <-> INVITED, FRIEND <-> FRIEND,
    UNKNOWN <-> UNKNOWN; the other account is created if needed). A relation the account
    already has (same id and type) is not added again. `consents` {scope ACCOUNT |
    TRANSACTION, transaction? (0-128 of `[a-zA-Z0-9_.-]`), consents: map of name (1-64 of
    `[a-zA-Z0-9_.-]`) to string (<= 64, e.g. the date-time given)}: ACCOUNT-scope
    consents are merged into the account's; TRANSACTION-scope ones are only kept with the
    event. Every event is stored (events history) and sets the account's
    `header.lastEvent`. All items are validated first: one bad item rejects the whole
    array (400 naming the first error, e.g. `[2].type`) and nothing is stored. Unknown
    item fields are ignored. Answers 200 with `[{account, type, id}]` per event."""
    return service.post_events(session, tenant_id=principal.tenant_id, body=body)
