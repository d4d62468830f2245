"""Loyalty API routes: notifications and push bookkeeping."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from retailhub.deps import SessionDep, WriteSessionDep
from retailhub.errors import DomainError
from retailhub.kit import reactadmin
from retailhub.loyalty.account import service as account_service
from retailhub.loyalty.deps import AccountService, CampaignService, User
from retailhub.loyalty.notification import service

router = APIRouter(prefix="/loyalty-api/api", tags=["loyalty: notification"])

CampaignPath = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9_-]+$", description="Campaign id")
]
SORTABLE = frozenset({"id", "createdAt"})
PUSH_ID_SCHEMA = {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,32}$", "example": "spring-sale-1"}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    """The documented request body of an operation whose body is validated by hand (so that
    every error names its field, even when the body is not the expected JSON type)."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


async def _json_body(request: Request) -> Any:
    """The request body as JSON, read here rather than by FastAPI so that a body that is not
    JSON at all is also reported against ``pushId`` (the only required field)."""
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise DomainError("pushId: the body must be JSON", field="pushId") from None


JsonBody = Annotated[Any, Depends(_json_body)]

V2_SCHEMA = {
    "type": "object",
    "required": ["pushId"],
    "properties": {"pushId": PUSH_ID_SCHEMA, "title": {"type": "string", "maxLength": 256}},
}


def _instant(value: Any, name: str) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise DomainError(f"{name}: must be an ISO 8601 date or date-time", field=name) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _text(value: Any, name: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise DomainError(f"{name}: must be a string", field=name)
    return value


def _filters(raw: dict[str, Any], *, with_account: bool) -> service.NotificationFilter:
    kind = _text(raw.get("type"), "type")
    if kind is not None and kind not in service.TYPES:
        raise DomainError(f"type: must be one of {', '.join(sorted(service.TYPES))}", field="type")
    return service.NotificationFilter(
        account=_text(raw.get("account"), "account") if with_account else None,
        campaign=_text(raw.get("campaign"), "campaign"),
        type=kind,
        since=_instant(raw.get("since"), "since"),
        until=_instant(raw.get("until"), "until"),
    )


def _list(
    request: Request,
    session: SessionDep,
    *,
    tenant_id: int,
    account_pk: int | None,
) -> JSONResponse:
    query = reactadmin.parse(request, sortable=SORTABLE, default_sort="id")
    filters = _filters(query.filter, with_account=account_pk is None)
    total, items = service.list_notifications(
        session,
        tenant_id=tenant_id,
        filters=filters,
        account_pk=account_pk,
        offset=query.offset,
        limit=query.limit,
        sort=query.sort,
        descending=query.descending,
    )
    headers = reactadmin.headers(query, total=total, returned=len(items), resource="notifications")
    return JSONResponse(items, headers=headers)


@router.get("/notifications", operation_id="getNotifications")
def get_notifications(
    request: Request, session: SessionDep, principal: AccountService
) -> JSONResponse:
    """List the notifications produced for the tenant's accounts (ours; not in the Ordering
    Stack document). Until webhooks deliver them, this list is how they are consumed.

    Each item: `{id, account, campaign, type, state, title, message, image, payload, createdAt,
    receivedAt}`, plus `coupon {code, validUntil}` on COUPON_EXPIRATION items. `type` is
    MESSAGE (a MESSAGE state entered), COUPON_EXPIRATION, DYNAMIC_JOIN or SPECIFIC_TIME.

    react-admin compatible in both dialects: `_start/_end/_sort/_order` + `X-Total-Count`, or
    `range/sort/filter` (JSON) + `Content-Range: notifications a-b/total`. Filters (plain
    query parameters or `filter` JSON): `account` (account id), `campaign` (campaign id),
    `type`, `since` (createdAt ≥, inclusive) and `until` (createdAt <, exclusive), ISO 8601
    (a value without a zone is UTC). Sort by `id` (default, ascending) or `createdAt`; 25 per
    page by default, at most 1000. Unknown filter names are ignored. Needs ROLE_LOYALTY."""
    return _list(request, session, tenant_id=principal.tenant_id, account_pk=None)


@router.get("/account/my/notifications", operation_id="getMyNotifications")
def get_my_notifications(request: Request, session: SessionDep, user: User) -> JSONResponse:
    """List the notifications produced for my account (end-user token; ours). Same items,
    paging, sorting and filters as `GET /notifications`, without the `account` filter."""
    account = account_service.get(
        session, tenant_id=user.tenant_id, account_id=str(user.account_id)
    )
    return _list(request, session, tenant_id=user.tenant_id, account_pk=account.id)


@router.post(
    "/campaign/{campaign}/push", operation_id="registerPush", openapi_extra=_body(PUSH_ID_SCHEMA)
)
def register_push(
    session: WriteSessionDep,
    principal: CampaignService,
    campaign: CampaignPath,
    body: JsonBody,
) -> dict[str, Any]:
    """Register a push sent for a campaign. The body is the push id as a JSON string
    (`"spring-sale-1"`, 1-32 characters of `[a-zA-Z0-9_-]`).

    A push id counts once per campaign: registering the same id again changes nothing (it
    keeps its title and clicks) and does not count again. The first registration adds one to
    the campaign's `pushRegistered` stat for the day. Answers `{campaign, pushId, title,
    clicks, registeredAt, new}` (`new`: this call registered it). Any campaign of the tenant
    may be given, running or not (finalized campaigns keep counting). Unknown campaign → 404.
    Needs ROLE_LOYALTY or ROLE_LOYALTY_CAMPAIGN."""
    return service.register_push(
        session,
        tenant_id=principal.tenant_id,
        campaign_id=campaign,
        push_id=service.check_push_id(body),
        title=None,
    )


@router.post(
    "/v2/campaign/{campaign}/push", operation_id="registerPushV2", openapi_extra=_body(V2_SCHEMA)
)
def register_push_v2(
    session: WriteSessionDep,
    principal: CampaignService,
    campaign: CampaignPath,
    body: JsonBody,
) -> dict[str, Any]:
    """Register a push sent for a campaign, with its title: `{pushId, title?}` (pushId 1-32
    characters of `[a-zA-Z0-9_-]`, title at most 256 characters).

    Registering a push id again replaces its title when one is given, and does not count
    again. Otherwise as registerPush."""
    if not isinstance(body, dict):
        raise DomainError("pushId: the body must be a JSON object {pushId, title}", field="pushId")
    push_id = service.check_push_id(body.get("pushId"))
    title = service.check_title(body.get("title"))
    return service.register_push(
        session, tenant_id=principal.tenant_id, campaign_id=campaign, push_id=push_id, title=title
    )


@router.post(
    "/campaign/{campaign}/push/click", operation_id="pushClick", openapi_extra=_body(PUSH_ID_SCHEMA)
)
def push_click(
    session: WriteSessionDep,
    user: User,
    campaign: CampaignPath,
    body: JsonBody,
) -> dict[str, Any]:
    """Register a click on a campaign's push (end-user token). The body is the push id as a
    JSON string. Every call counts a click (no per-account dedupe: the document counts
    clicks, and a user may open a push more than once) and adds one to the campaign's
    `pushClicked` stat for the day. Answers `{campaign, pushId, title, clicks, registeredAt}`.
    Unknown campaign, or a push id never registered for it → 404."""
    return service.click_push(
        session,
        tenant_id=user.tenant_id,
        campaign_id=campaign,
        push_id=service.check_push_id(body),
    )
