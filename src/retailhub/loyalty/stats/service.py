"""Campaign and segment statistics."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from retailhub.kit import clock
from retailhub.kit.sql import upsert
from retailhub.models import LoyaltyCampaignStat


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
