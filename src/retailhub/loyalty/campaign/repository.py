"""Every campaign query that is not part of the set-based engine."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from retailhub.models import (
    LoyaltyAccount,
    LoyaltyAccountTag,
    LoyaltyAccountVenue,
    LoyaltyCampaign,
    LoyaltyCampaignMember,
    LoyaltyCampaignStat,
)

C = LoyaltyCampaign
M = LoyaltyCampaignMember


def find(session: Session, *, tenant_id: int, campaign_id: str) -> LoyaltyCampaign | None:
    return session.scalar(select(C).where(C.tenant_id == tenant_id, C.campaign_id == campaign_id))


def running_count(session: Session, *, tenant_id: int, exclude_pk: int | None = None) -> int:
    stmt = select(func.count()).where(
        C.tenant_id == tenant_id, C.initialized.is_(True), C.finalized_at.is_(None)
    )
    if exclude_pk is not None:
        stmt = stmt.where(C.id != exclude_pk)
    return int(session.scalar(stmt) or 0)


def running(session: Session, *, tenant_id: int) -> list[LoyaltyCampaign]:
    return list(
        session.scalars(
            select(C)
            .where(C.tenant_id == tenant_id, C.initialized.is_(True), C.finalized_at.is_(None))
            .order_by(C.id)
        )
    )


def state_stats(session: Session, campaign_pks: Sequence[int]) -> dict[int, dict[str, int]]:
    """``{campaign_pk: {state id: accounts that finished it}}`` from the daily counters."""
    out: dict[int, dict[str, int]] = {pk: {} for pk in campaign_pks}
    if not campaign_pks:
        return out
    rows = session.execute(
        select(
            LoyaltyCampaignStat.campaign_pk,
            LoyaltyCampaignStat.metric,
            func.sum(LoyaltyCampaignStat.value),
        )
        .where(
            LoyaltyCampaignStat.campaign_pk.in_(list(campaign_pks)),
            LoyaltyCampaignStat.metric.like("finished:%"),
        )
        .group_by(LoyaltyCampaignStat.campaign_pk, LoyaltyCampaignStat.metric)
    )
    for pk, metric, total in rows:
        out[pk][metric.split(":", 1)[1]] = int(total or 0)
    return out


LIST_SORT = {
    "id": C.campaign_id,
    "name": C.name,
    "type": C.type,
    "activeFrom": C.active_from,
    "initializedAt": C.initialized_at,
}


def list_query(tenant_id: int, filters: dict[str, Any]) -> Select[Any]:
    stmt = select(C).where(C.tenant_id == tenant_id)
    q = filters.get("q")
    if q:
        pattern = f"%{str(q).lower()}%"
        stmt = stmt.where(
            or_(func.lower(C.campaign_id).like(pattern), func.lower(C.name).like(pattern))
        )
    ids = filters.get("id")
    if ids is not None:
        stmt = stmt.where(
            C.campaign_id.in_([str(i) for i in ids] if isinstance(ids, list) else [str(ids)])
        )
    name = filters.get("name")
    if name:
        stmt = stmt.where(func.lower(C.name).like(f"%{str(name).lower()}%"))
    kind = filters.get("type")
    if kind:
        stmt = stmt.where(C.type == str(kind).upper())
    initialized = filters.get("initialized")
    if initialized is not None and initialized != "":
        flag = initialized if isinstance(initialized, bool) else str(initialized).lower() == "true"
        stmt = stmt.where(C.initialized.is_(flag))
    return stmt


def current_runs(
    session: Session, *, tenant_id: int, account_pk: int
) -> list[tuple[LoyaltyCampaign, LoyaltyCampaignMember]]:
    """The account's latest run of each campaign it joined (BIRTHDAY: this year's)."""
    latest = (
        select(M.campaign_pk, func.max(M.cycle).label("cycle"))
        .where(M.tenant_id == tenant_id, M.account_pk == account_pk)
        .group_by(M.campaign_pk)
        .subquery()
    )
    rows = session.execute(
        select(C, M)
        .join(M, M.campaign_pk == C.id)
        .join(latest, (latest.c.campaign_pk == M.campaign_pk) & (latest.c.cycle == M.cycle))
        .where(M.tenant_id == tenant_id, M.account_pk == account_pk)
        .order_by(C.campaign_id)
    )
    return [(c, m) for c, m in rows]


def account_facts(session: Session, account: LoyaltyAccount) -> tuple[set[str], dict[str, int]]:
    tags = set(
        session.scalars(
            select(LoyaltyAccountTag.tag).where(
                LoyaltyAccountTag.tenant_id == account.tenant_id,
                LoyaltyAccountTag.account_pk == account.id,
            )
        )
    )
    venues = {
        venue: int(orders or 0)
        for venue, orders in session.execute(
            select(LoyaltyAccountVenue.venue, LoyaltyAccountVenue.orders).where(
                LoyaltyAccountVenue.tenant_id == account.tenant_id,
                LoyaltyAccountVenue.account_pk == account.id,
            )
        )
    }
    return tags, venues
