"""Loyalty API routes: stats."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from retailhub.deps import SessionDep
from retailhub.loyalty.deps import StatsService
from retailhub.loyalty.stats import service

router = APIRouter(prefix="/loyalty-api/api", tags=["loyalty: stats"])

CampaignName = Annotated[
    str,
    Query(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9_-]+$", description="Campaign id"),
]
From = Annotated[date | None, Query(alias="from", description="First day (inclusive, UTC)")]
To = Annotated[date | None, Query(alias="to", description="Last day (inclusive, UTC)")]


@router.get("/stats/campaign/global", operation_id="globalCampaignStats")
def global_campaign_stats(
    session: SessionDep, principal: StatsService, name: CampaignName
) -> dict[str, Any]:
    """All-time statistics of one campaign; `name` is the campaign's id.

    Answers `{campaign, name, cnt, joined, finished, stateStats, couponsIssued,
    couponsRedeemed, messages, notifications, pushRegistered, pushClicked, pointsCredited}`:
    `cnt` is the number of accounts in the campaign now (a current state), `finished` the
    number of runs that completed the last state (a BIRTHDAY campaign counts one run per
    account and year), `stateStats` how many accounts completed each state (every state of
    the definition listed, zeros included). The other counters are sums over every day of the
    daily statistics, which survive finalize. Unknown campaign → 404. Needs ROLE_LOYALTY or
    ROLE_LOYALTY_STATS."""
    return service.global_campaign_stats(session, tenant_id=principal.tenant_id, campaign_id=name)


@router.get("/stats/campaign", operation_id="campaignStats")
def campaign_stats(
    session: SessionDep,
    principal: StatsService,
    name: CampaignName,
    start: From = None,
    end: To = None,
) -> dict[str, Any]:
    """Daily statistics of one campaign over `from`..`to` (dates, both inclusive, UTC days).

    Defaults: `to` is today, `from` 29 days before `to` (30 days); given only `from`, `to`
    is 29 days after it. `from` after `to` → 400 (field `from`); more than 366 days → 400
    (field `to`). Answers `{campaign, name, from, to, days: [{date, joined, finished {state:
    n}, couponsIssued, couponsRedeemed, pushRegistered, pushClicked, messages, notifications,
    pointsCredited}]}` with every day of the range present, oldest first, zeros included;
    `finished` lists every state of the definition. Unknown campaign → 404. Needs ROLE_LOYALTY
    or ROLE_LOYALTY_STATS."""
    start, end = service.date_range(start, end)
    return service.campaign_stats(
        session, tenant_id=principal.tenant_id, campaign_id=name, start=start, end=end
    )


@router.get("/stats/segments", operation_id="segmentStats")
def segment_stats(
    session: SessionDep, principal: StatsService, start: From = None, end: To = None
) -> dict[str, Any]:
    """Accounts per segment, with activity over `from`..`to` (dates, inclusive, UTC days;
    same defaults and limits as campaignStats).

    Answers `{from, to, segments: [{segment, accounts, joined, ordering}], total {accounts,
    joined, ordering}}`, segments in the order new, active, lapsing, lapsed, vip (all listed,
    zeros included). `accounts` is the segment's size now; `joined` how many of those accounts
    were created within the range; `ordering` how many of them placed their latest order
    within the range. Accounts are grouped by their current segment. Needs ROLE_LOYALTY or
    ROLE_LOYALTY_STATS."""
    start, end = service.date_range(start, end)
    return service.segment_stats(session, tenant_id=principal.tenant_id, start=start, end=end)
