"""Campaign and segment statistics."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from retailhub.errors import DomainError
from retailhub.kit import clock
from retailhub.kit.sql import upsert
from retailhub.loyalty.campaign import service as campaign_service
from retailhub.models import (
    LoyaltyAccount,
    LoyaltyCampaign,
    LoyaltyCampaignMember,
    LoyaltyCampaignStat,
)


def bump(
    session: Session,
    *,
    tenant_id: int,
    campaign_pk: int,
    metric: str,
    by: int = 1,
    day: date | None = None,
) -> None:
    """Add ``by`` to a campaign's daily counter ``metric`` (atomic upsert).

    Metrics: ``joined``, ``finished:<state id>``, ``coupons_issued``, ``coupons_redeemed``,
    ``messages``, ``notifications``, ``push_registered``, ``push_clicked``, ``points_credited``.
    """
    if by == 0:
        return
    day = day or clock.now().date()
    stmt = upsert(session, LoyaltyCampaignStat.__table__).values(
        tenant_id=tenant_id, campaign_pk=campaign_pk, day=day, metric=metric, value=by
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["tenant_id", "campaign_pk", "day", "metric"],
            set_={"value": LoyaltyCampaignStat.__table__.c.value + stmt.excluded.value},
        )
    )


# Reading ------------------------------------------------------------------------------

SEGMENTS = ("new", "active", "lapsing", "lapsed", "vip")
MAX_SPAN_DAYS = 366
DEFAULT_SPAN_DAYS = 30
FINISHED = "finished:"
# Stored metric → response key (``finished:<state>`` is reported per state).
METRICS = {
    "joined": "joined",
    "coupons_issued": "couponsIssued",
    "coupons_redeemed": "couponsRedeemed",
    "messages": "messages",
    "notifications": "notifications",
    "push_registered": "pushRegistered",
    "push_clicked": "pushClicked",
    "points_credited": "pointsCredited",
}


def _campaign(session: Session, tenant_id: int, campaign_id: str) -> LoyaltyCampaign:
    return campaign_service.get(session, tenant_id=tenant_id, campaign_id=campaign_id)


def _state_ids(campaign: LoyaltyCampaign) -> list[str]:
    return [
        str(state["id"])
        for state in campaign.states or []
        if isinstance(state, dict) and state.get("id") is not None
    ]


def date_range(start: date | None, end: date | None) -> tuple[date, date]:
    """``[from, to]`` with defaults (the last 30 days up to today, UTC) and limits."""
    if end is None:
        end = (start + timedelta(days=DEFAULT_SPAN_DAYS - 1)) if start else clock.now().date()
    if start is None:
        start = end - timedelta(days=DEFAULT_SPAN_DAYS - 1)
    if start > end:
        raise DomainError("from: must not be after to", field="from")
    if (end - start).days + 1 > MAX_SPAN_DAYS:
        raise DomainError(f"to: the range may span at most {MAX_SPAN_DAYS} days", field="to")
    return start, end


def global_campaign_stats(session: Session, *, tenant_id: int, campaign_id: str) -> dict[str, Any]:
    """All-time totals of a campaign (every day of its counters) and its member counts."""
    campaign = _campaign(session, tenant_id, campaign_id)
    stat = LoyaltyCampaignStat
    sums: dict[str, Any] = {
        metric: value
        for metric, value in session.execute(
            select(stat.metric, func.sum(stat.value))
            .where(stat.tenant_id == tenant_id, stat.campaign_pk == campaign.id)
            .group_by(stat.metric)
        )
    }
    member = LoyaltyCampaignMember
    current, finished = session.execute(
        select(
            func.count(member.id).filter(member.state.is_not(None)),
            func.count(member.id).filter(member.finished_at.is_not(None)),
        ).where(member.tenant_id == tenant_id, member.campaign_pk == campaign.id)
    ).one()
    state_stats = {state: 0 for state in _state_ids(campaign)}
    for metric, value in sorted(sums.items()):
        if metric.startswith(FINISHED):
            state_stats[metric[len(FINISHED) :]] = int(value or 0)
    body: dict[str, Any] = {
        "campaign": campaign.campaign_id,
        "name": campaign.name,
        # The same cnt as getCampaign: accounts that joined (each once).
        "cnt": campaign.cnt,
        # Runs still in a state, and runs that finished the campaign.
        "active": int(current or 0),
        "finished": int(finished or 0),
        "stateStats": state_stats,
    }
    for metric, key in METRICS.items():
        body[key] = int(sums.get(metric) or 0)
    return body


def campaign_stats(
    session: Session, *, tenant_id: int, campaign_id: str, start: date, end: date
) -> dict[str, Any]:
    """A campaign's daily counters for every day of ``[start, end]`` (zeros included)."""
    campaign = _campaign(session, tenant_id, campaign_id)
    stat = LoyaltyCampaignStat
    rows = session.execute(
        select(stat.day, stat.metric, stat.value).where(
            stat.tenant_id == tenant_id,
            stat.campaign_pk == campaign.id,
            stat.day >= start,
            stat.day <= end,
        )
    ).all()
    states = _state_ids(campaign)
    days: dict[date, dict[str, Any]] = {}
    day = start
    while day <= end:
        entry: dict[str, Any] = {"date": day.isoformat()}
        entry.update({key: 0 for key in METRICS.values()})
        entry["finished"] = {state: 0 for state in states}
        days[day] = entry
        day += timedelta(days=1)
    for row_day, metric, value in rows:
        entry = days[row_day]
        if metric.startswith(FINISHED):
            finished = entry["finished"]
            state = metric[len(FINISHED) :]
            finished[state] = finished.get(state, 0) + int(value)
        elif metric in METRICS:
            entry[METRICS[metric]] += int(value)
    return {
        "campaign": campaign.campaign_id,
        "name": campaign.name,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "days": list(days.values()),
    }


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def segment_stats(session: Session, *, tenant_id: int, start: date, end: date) -> dict[str, Any]:
    """Per segment: accounts now in it, how many of them were created in ``[start, end]``,
    and how many ordered in it (their latest order falls in the range)."""
    since, until = _day_start(start), _day_start(end + timedelta(days=1))
    account = LoyaltyAccount
    rows = session.execute(
        select(
            account.segment,
            func.count(account.id),
            func.count(account.id).filter(account.created_at >= since, account.created_at < until),
            func.count(account.id).filter(
                account.last_order_at >= since, account.last_order_at < until
            ),
        )
        .where(account.tenant_id == tenant_id)
        .group_by(account.segment)
    ).all()
    counts = {segment: (0, 0, 0) for segment in SEGMENTS}
    for segment, accounts, joined, ordering in rows:
        counts[str(segment)] = (int(accounts), int(joined), int(ordering))
    segments = [
        {"segment": segment, "accounts": a, "joined": j, "ordering": o}
        for segment, (a, j, o) in counts.items()
    ]
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "segments": segments,
        "total": {
            "accounts": sum(s["accounts"] for s in segments),
            "joined": sum(s["joined"] for s in segments),
            "ordering": sum(s["ordering"] for s in segments),
        },
    }
