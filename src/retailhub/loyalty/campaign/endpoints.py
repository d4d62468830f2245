"""Loyalty API routes: campaign."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from retailhub.deps import SessionDep, WriteSessionDep
from retailhub.errors import DomainError
from retailhub.kit import reactadmin
from retailhub.loyalty.campaign import repository, service
from retailhub.loyalty.campaign.schemas import TAGS, CampaignIn, MyCampaign
from retailhub.loyalty.deps import CampaignService, User


def _location(loc: tuple[Any, ...], kind: str) -> str:
    """``('body', 'states', 2, 'COUPON', 'validDays')`` → ``states[2].validDays``."""
    parts = [p for p in loc if p not in ("body", "path", "query", "header")]
    out = ""
    for i, part in enumerate(parts):
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in TAGS and i > 0 and isinstance(parts[i - 1], int):
            continue  # the discriminator's branch, not a field
        else:
            out += f".{part}" if out else str(part)
    if kind in ("union_tag_not_found", "union_tag_invalid"):
        out += ".type"
    return out


class CampaignRoute(APIRoute):
    """Validation errors name the field as ``states[2].transitionTo``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                err = exc.errors()[0]
                field = _location(tuple(err.get("loc", ())), err.get("type", ""))
                raise DomainError(
                    f"{field}: {err.get('msg', 'invalid value')}", field=field or None
                ) from None

        return route


router = APIRouter(prefix="/loyalty-api/api", tags=["loyalty: campaign"], route_class=CampaignRoute)

CampaignPath = Annotated[str, Path(min_length=3, max_length=64, pattern=r"^[a-zA-Z0-9_-]+$")]
CampaignRef = Annotated[str, Path(pattern=r"^[a-zA-Z0-9_-]+$")]
ExplainAccount = Annotated[str, Path(min_length=3, max_length=64, pattern=r"^[a-zA-Z0-9._-]+$")]

SORTABLE = frozenset(repository.LIST_SORT)


@router.get("/campaign/{campaign}", operation_id="getCampaign")
def get_campaign(
    session: SessionDep, principal: CampaignService, campaign: CampaignPath
) -> dict[str, Any]:
    """Get campaign by ID: the definition plus its lifecycle (initialized, initializedAt/By,
    cnt, stateStats, previewedAt, samples; ours: finalized, finalizedAt). Each state shows
    ``stats``, the number of accounts that finished it (as ``stateStats``)."""
    found = service.get(session, tenant_id=principal.tenant_id, campaign_id=campaign)
    return service.read(session, found)


@router.put("/campaign/{campaign}", operation_id="putCampaign")
def put_campaign(
    session: WriteSessionDep, principal: CampaignService, campaign: CampaignRef, body: CampaignIn
) -> dict[str, Any]:
    """Update campaign by ID. Works as upsert (200 with the campaign either way).

    The body's ``id`` must equal the path's (else 400 naming ``id``). Once the campaign is
    initialized, ``type``, ``constraints`` and ``states`` cannot change (409): members are
    already in its states; ``name``, ``activeFrom``/``activeTo``, ``dynamic`` and
    ``notifications`` can. Changing the constraints of a campaign not yet initialized clears
    its preview (cnt 0, samples, previewedAt). Read-only fields in the body are ignored."""
    saved = service.save(session, tenant_id=principal.tenant_id, body=body, path_id=campaign)
    return service.read(session, saved)


@router.delete("/campaign/{campaign}", operation_id="deleteCampaign", status_code=204)
def delete_campaign(
    session: WriteSessionDep, principal: CampaignService, campaign: CampaignRef
) -> Response:
    """Delete campaign by ID (irreversible): its members, statistics and notifications go
    with it; coupons it issued stay valid (no longer tied to a campaign). 204."""
    service.delete(session, tenant_id=principal.tenant_id, campaign_id=campaign)
    return Response(status_code=204)


@router.get("/campaigns", operation_id="getCampaigns")
def get_campaigns(
    request: Request, response: Response, session: SessionDep, principal: CampaignService
) -> list[dict[str, Any]]:
    """Get paginated list of campaigns (react-admin data provider, both dialects:
    ``_start/_end/_sort/_order`` answered with ``X-Total-Count``, or ``range/sort/filter``
    JSON answered with ``Content-Range: campaigns a-b/total``).

    Filters (CampaignFilter): ``q`` (id or name contains, case-insensitive), ``id`` (one or
    a list), ``name`` (contains, case-insensitive), ``type``, ``initialized`` (true/false).
    Sort: id (default), name, type, activeFrom, initializedAt."""
    query = reactadmin.parse(request, sortable=SORTABLE, default_sort="id")
    items, total = service.list_page(
        session,
        tenant_id=principal.tenant_id,
        filters=query.filter,
        sort=query.sort,
        descending=query.descending,
        offset=query.offset,
        limit=query.limit,
    )
    response.headers.update(
        reactadmin.headers(query, total=total, returned=len(items), resource="campaigns")
    )
    return items


@router.post("/campaign", operation_id="postCampaign")
def post_campaign(
    session: WriteSessionDep, principal: CampaignService, body: CampaignIn
) -> dict[str, Any]:
    """Create campaign. Works as upsert: the same rules as putCampaign (200 either way).

    Validation beyond the field limits: state ids unique; ``transitionTo`` names a state;
    ``activeFrom`` < ``activeTo``; constraint values parse for their field and op (numbers
    for counters/venues and ordering ops on properties, dates or date-times for
    header.created/lastOrder, dates for header.birthdate, ``true``/``false`` for tags;
    EXISTS no value, IN 1 to 16, others exactly one); no loop made only of COUPON/WALLET
    states. Date-times without a zone are UTC."""
    saved = service.save(session, tenant_id=principal.tenant_id, body=body)
    return service.read(session, saved)


@router.post("/campaign/{campaign}/preview", operation_id="previewCampaign")
def preview_campaign(
    session: WriteSessionDep, principal: CampaignService, campaign: CampaignRef
) -> dict[str, Any]:
    """Preview matching accounts for campaign: sets ``cnt`` (accounts matching the
    constraints now), ``samples`` (up to ``loyalty_preview_samples`` account ids, oldest
    accounts first) and ``previewedAt``; answers the campaign. BIRTHDAY campaigns count
    every matching account, whatever its birthday. 409 once initialized (cnt is then the
    live member count)."""
    found = service.preview(session, tenant_id=principal.tenant_id, campaign_id=campaign)
    return service.read(session, found)


@router.post("/campaign/{campaign}/initialize", operation_id="initializeCampaign")
def initialize_campaign(
    session: WriteSessionDep, principal: CampaignService, campaign: CampaignRef
) -> dict[str, Any]:
    """Initialize campaign: it runs (``initialized``, ``initializedAt``, ``initializedBy`` =
    the client id). A STANDARD campaign inside its window enrolls every matching account
    in its first state now (set-based), performing that state's action; before
    ``activeFrom`` it enrolls them when ``activeFrom`` is reached. A BIRTHDAY campaign
    enrolls accounts around their birthday on the periodic tick. ``cnt`` becomes the member
    count. 409 when already initialized or finalized, when ``activeTo`` has passed, or when
    ``loyalty_max_running_campaigns`` campaigns (initialized, not finalized) already run."""
    found = service.initialize(
        session,
        tenant_id=principal.tenant_id,
        campaign_id=campaign,
        client_id=principal.client_id,
    )
    return service.read(session, found)


@router.post("/campaign/{campaign}/finalize", operation_id="finalizeCampaign")
def finalize_campaign(
    session: WriteSessionDep, principal: CampaignService, campaign: CampaignRef
) -> dict[str, Any]:
    """Finalize campaign: stops it for good (``finalized``, ``finalizedAt``; no more joins
    or transitions; ``message`` answers 409); members, coupons, points and statistics stay.
    ``initialized`` stays true. It no longer counts toward the running limit and cannot be
    initialized again. 409 when not initialized or already finalized."""
    found = service.finalize(
        session,
        tenant_id=principal.tenant_id,
        campaign_id=campaign,
        client_id=principal.client_id,
    )
    return service.read(session, found)


@router.get("/campaign/{campaign}/explain/{account}", operation_id="explainCampaign")
def explain_campaign(
    session: SessionDep, principal: CampaignService, campaign: CampaignRef, account: ExplainAccount
) -> dict[str, Any]:
    """(Ours) Why an account does or does not fall into a campaign: each constraint with
    the values compared (``value``, the account's ``actual`` value) and ``met``;
    ``matches`` when all are met; whether the campaign runs and is inside its window; and
    the account's run (``member``: state, finished, cycle, joinedAt) if it joined."""
    return service.explain(
        session, tenant_id=principal.tenant_id, campaign_id=campaign, account_id=account
    )


@router.post("/campaign/{campaign}/message", operation_id="message")
def message(session: WriteSessionDep, user: User, campaign: CampaignRef) -> dict[str, Any]:
    """Mark message received and proceed to next state: completes the MESSAGE state the
    account waits in (its message notification gets ``received_at``) and answers the
    account's run of the campaign like getMyCampaigns. 409 when the account does not wait
    in a MESSAGE state, or the campaign is not running or outside its window."""
    return service.acknowledge(
        session,
        tenant_id=user.tenant_id,
        campaign_id=campaign,
        account_id=str(user.account_id),
        kind="MESSAGE",
    )


@router.post("/campaign/{campaign}/coupon", operation_id="coupon", deprecated=True)
def coupon(session: WriteSessionDep, user: User, campaign: CampaignRef) -> dict[str, Any]:
    """DEPRECATED. Mark coupon received and proceed to next state. Our COUPON states
    complete as soon as the coupon is issued, so this answers 409 ("nothing to
    acknowledge") unless the account still waits in a COUPON state."""
    return service.acknowledge(
        session,
        tenant_id=user.tenant_id,
        campaign_id=campaign,
        account_id=str(user.account_id),
        kind="COUPON",
    )


@router.get("/account/my/campaigns", operation_id="getMyCampaigns", response_model=list[MyCampaign])
def get_my_campaigns(session: SessionDep, user: User) -> list[dict[str, Any]]:
    """Get my campaigns and their state: every campaign the account joined (its latest run;
    for BIRTHDAY campaigns this year's) with id, name, type, ``state`` (the current state
    id, null once finished), ``finished`` and the campaign's state definitions."""
    return service.my_campaigns(session, tenant_id=user.tenant_id, account_id=str(user.account_id))
