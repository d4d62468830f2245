"""Loyalty API routes: accounts (read, profile, properties), lists, counts and exports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import StreamingResponse

from retailhub.db import session_scope
from retailhub.deps import SessionDep, WriteSessionDep
from retailhub.kit import reactadmin
from retailhub.loyalty.account import counters, repository, service
from retailhub.loyalty.account.schemas import (
    ProfileUpdate,
    account_read,
    account_summary,
    iso,
    tags_of,
    venues_of,
)
from retailhub.loyalty.deps import AccountService, User
from retailhub.models import LoyaltyAccount

router = APIRouter(prefix="/loyalty-api/api", tags=["loyalty: account"])

FILTER_DOC = """
AccountFilter (react-admin: either loose query parameters with `_start/_end/_sort/_order`,
or `filter` as a JSON object with `range=[0,24]` and `sort=["id","ASC"]`): `id`, `card`,
`email` (case-insensitive), `phone`, `tag`, `segment` and `campaign` (member of the campaign
with this id, in any state) match exactly, each taking a string or a list (any of them);
`createdFrom`/`createdTo` and `lastOrderFrom`/`lastOrderTo` take a date or a date-time
(a date as `…To` includes that whole day; bounds are inclusive); `q` is free text matched
case-insensitively inside id, email, first and last name, card and phone. All given
fields must hold (AND). Unknown filter fields are refused (400)."""


def _list_query(request: Request) -> reactadmin.ListQuery:
    return reactadmin.parse(request, sortable=set(repository.SORTS), default_sort="id")


@router.get("/account/my", operation_id="getMyAccount")
def get_my_account(session: SessionDep, user: User) -> dict[str, Any]:
    """Get my account: the account of the end-user token, in the same shape as getAccount."""
    account = service.get(session, tenant_id=user.tenant_id, account_id=str(user.account_id))
    return account_read(session, account)


@router.put("/account/my/profile", operation_id="setMyProfile")
def set_my_profile(
    session: WriteSessionDep, user: User, body: ProfileUpdate = Body(...)
) -> dict[str, Any]:
    """Set my profile: `firstName`, `lastName` (0-128 characters), `birthdate` (date),
    `sex` (MALE, FEMALE, OTHER). Only the fields sent change; an explicit null clears one.
    Unknown fields are ignored. Answers the updated account. Dynamic campaigns re-evaluate
    the account at once."""
    account = service.get(session, tenant_id=user.tenant_id, account_id=str(user.account_id))
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    service.set_profile(session, account, changes)
    return account_read(session, account)


@router.put("/account/my/properties", operation_id="setMyProperties")
def set_my_properties(
    session: WriteSessionDep, user: User, body: Any = Body(...)
) -> dict[str, Any]:
    """Set my properties and tags. `properties` is merged into the account's map (a null
    value removes a key; names are 1-64 characters of `[a-zA-Z0-9_.-]`, values strings of
    at most 1024 characters, at most 100 properties per account). `addTags` and
    `removeTags` take 0-16 tags each, each at most 64 characters matching
    `my_([a-zA-Z0-9_.-]+)` (other tags are the platform's: 400 naming the item, e.g.
    `addTags[1]`); a tag in both lists ends up removed. Answers the updated account.
    Dynamic campaigns re-evaluate the account at once."""
    account = service.get(session, tenant_id=user.tenant_id, account_id=str(user.account_id))
    service.set_properties(session, account, body)
    return account_read(session, account)


@router.get("/account/card/{card}", operation_id="getAccountByCard")
def get_account_by_card(
    session: SessionDep, principal: AccountService, card: str
) -> dict[str, Any]:
    """Get account by card id (3-64 characters of `[a-zA-Z0-9._-]`); 404 when no account
    of the tenant holds the card. An imported customer's Listrak `loyalty.rewardsID`
    becomes its account's card."""
    found = service.get_by_card(session, tenant_id=principal.tenant_id, card=card)
    return account_read(session, found)


@router.get("/account/{account}", operation_id="getAccount")
def get_account(session: SessionDep, principal: AccountService, account: str) -> dict[str, Any]:
    """Get account. The body: `id`, `card`, `mgm`, `header` {phone, email, pushId,
    firstName, lastName, birthdate, sex, created, lastEvent, lastLogged, lastOrder},
    `consents` {scope: ACCOUNT, consents}, `tags`, `importantTags`, `venues` (store
    numbers, most used first), `properties`, `counters` (orders, value, orders_30d,
    value_30d, orders_90d, value_90d, orders_365d, value_365d: numbers), `relations`
    [{id, at, type}], `coupons` (codes still usable), `campaigns` [{id, state}], `segment`
    (new, vip, active, lapsing, lapsed) and `wallet` {balance (points, ours), imported
    (the Listrak customer's `loyalty` block, when it has one)}. Dates are UTC ISO 8601."""
    service.check_account_id(account)
    found = service.get(session, tenant_id=principal.tenant_id, account_id=account)
    return account_read(session, found)


@router.get("/accounts", operation_id="getAccounts")
def get_accounts(
    request: Request, response: Response, session: SessionDep, principal: AccountService
) -> list[dict[str, Any]]:
    """Get paginated list of accounts (react-admin compatible). Sort by `id`, `created`,
    `lastOrder`, `email` or `segment` (default `id` ascending; missing values last); at
    most 1000 per page (default 25). Answers `X-Total-Count` and `Content-Range`
    (`accounts 0-24/319`), exposed to browsers through CORS. Items are accounts without
    `coupons`, `campaigns` and `wallet` (getAccount has them)."""
    query = _list_query(request)
    rows, total = repository.list_accounts(
        session,
        tenant_id=principal.tenant_id,
        filters=query.filter,
        sort=query.sort,
        descending=query.descending,
        offset=query.offset,
        limit=query.limit,
    )
    pks = [a.id for a in rows]
    tags = tags_of(session, principal.tenant_id, pks)
    venues = venues_of(session, principal.tenant_id, pks)
    response.headers.update(
        reactadmin.headers(query, total=total, returned=len(rows), resource="accounts")
    )
    return [account_summary(a, tags=tags[a.id], venues=venues[a.id]) for a in rows]


get_accounts.__doc__ = (get_accounts.__doc__ or "") + FILTER_DOC


@router.get("/accounts/count", operation_id="getAccountsCount")
def get_accounts_count(
    request: Request, response: Response, session: SessionDep, principal: AccountService
) -> dict[str, int]:
    """Get count of accounts matching the AccountFilter: `{"count": N}` (also in
    `X-Total-Count`). Paging and sort parameters are accepted and ignored."""
    query = _list_query(request)
    total = repository.count_accounts(session, tenant_id=principal.tenant_id, filters=query.filter)
    response.headers["X-Total-Count"] = str(total)
    response.headers["Access-Control-Expose-Headers"] = reactadmin.EXPOSED
    return {"count": total}


get_accounts_count.__doc__ = (get_accounts_count.__doc__ or "") + FILTER_DOC

EXPORT_HEADER = [
    "id",
    "card",
    "email",
    "phone",
    "firstName",
    "lastName",
    "birthdate",
    "sex",
    "created",
    "lastOrder",
    "segment",
    "tags",
    *counters.COUNTER_KEYS,
]
CONTACT_HEADER = ["id", "email", "phone", "firstName", "lastName", "consents"]
A = LoyaltyAccount


def _csv(rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def _number(value: Any) -> str:
    if value is None:
        return "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _export_rows(tenant_id: int, filters: dict[str, Any]) -> Iterator[str]:
    yield _csv([EXPORT_HEADER])
    columns = [
        A.account_id,
        A.card,
        A.email,
        A.phone,
        A.first_name,
        A.last_name,
        A.birthdate,
        A.sex,
        A.created_at,
        A.last_order_at,
        A.segment,
        A.counters,
    ]
    with session_scope() as session:
        stmt = repository.export_select(tenant_id, filters, columns)
        for part in repository.stream(session, stmt):
            tags = tags_of(session, tenant_id, [row[0] for row in part])
            lines = []
            for (
                pk,
                aid,
                card,
                email,
                phone,
                first,
                last,
                born,
                sex,
                created,
                last_order,
                seg,
                cnt,
            ) in part:
                cnt = cnt or {}
                lines.append(
                    [
                        aid,
                        card or "",
                        email or "",
                        phone or "",
                        first or "",
                        last or "",
                        born.isoformat() if born else "",
                        sex or "",
                        iso(created) or "",
                        iso(last_order) or "",
                        seg,
                        "|".join(tags[pk]),
                        *(_number(cnt.get(k)) for k in counters.COUNTER_KEYS),
                    ]
                )
            yield _csv(lines)


def _contact_rows(tenant_id: int, filters: dict[str, Any]) -> Iterator[str]:
    yield _csv([CONTACT_HEADER])
    columns = [A.account_id, A.email, A.phone, A.first_name, A.last_name, A.consents]
    with session_scope() as session:
        stmt = repository.export_select(tenant_id, filters, columns)
        for part in repository.stream(session, stmt):
            yield _csv(
                [
                    [
                        aid,
                        email or "",
                        phone or "",
                        first or "",
                        last or "",
                        json.dumps(consents or {}, sort_keys=True, separators=(",", ":")),
                    ]
                    for _pk, aid, email, phone, first, last, consents in part
                ]
            )


def _streamed(rows: Iterator[str], filename: str) -> StreamingResponse:
    return StreamingResponse(
        rows,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/accounts/export", operation_id="export")
def export(request: Request, principal: AccountService) -> StreamingResponse:
    """Export accounts matching the AccountFilter as CSV (UTF-8, header row, CRLF), all of
    them (paging is ignored), streamed with constant memory in account creation order.
    Columns: id, card, email, phone, firstName, lastName, birthdate, sex, created,
    lastOrder, segment, tags (joined by `|`), then one column per counter (orders, value,
    orders_30d, value_30d, orders_90d, value_90d, orders_365d, value_365d). The wallet
    balance is not exported (getAccount shows it)."""
    query = _list_query(request)
    repository.conditions(principal.tenant_id, query.filter)  # a bad filter is a 400 now
    return _streamed(_export_rows(principal.tenant_id, query.filter), "accounts.csv")


export.__doc__ = (export.__doc__ or "") + FILTER_DOC


@router.get("/accounts/export/contacts", operation_id="contactExport")
def contact_export(request: Request, principal: AccountService) -> StreamingResponse:
    """Export contact information of the accounts matching the AccountFilter as CSV, all
    of them, streamed like `export`. Columns: id, email, phone, firstName, lastName,
    consents (the ACCOUNT-scope consents as a JSON object, keys sorted)."""
    query = _list_query(request)
    repository.conditions(principal.tenant_id, query.filter)
    return _streamed(_contact_rows(principal.tenant_id, query.filter), "contacts.csv")


contact_export.__doc__ = (contact_export.__doc__ or "") + FILTER_DOC
