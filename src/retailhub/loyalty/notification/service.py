"""Notifications produced for accounts, and push statistics.

Campaign notifications (``LoyaltyCampaign.notifications``) are templates
``{type, title, message, image?, payload?}`` plus a type-specific field:

- ``COUPON_EXPIRATION {daysBefore}``: produced by :func:`tick` for every unused coupon of a
  running campaign whose ``valid_until`` falls within ``(now, now + daysBefore days]``;
- ``SPECIFIC_TIME {at}``: produced by :func:`tick` once ``now >= at`` for every account still
  in the (running, active) campaign;
- ``DYNAMIC_JOIN``: written by the campaign engine when an account joins.

Every notification carries a ``dedupe_key`` unique per tenant, so production is an
``INSERT … SELECT … ON CONFLICT DO NOTHING``: a tick that runs twice, late, or on two
machines produces each notification once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, func, literal, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from retailhub.errors import DomainError, NotFound
from retailhub.kit import clock
from retailhub.kit.sql import affected, upsert
from retailhub.loyalty.campaign import service as campaign_service
from retailhub.loyalty.stats import service as stats_service
from retailhub.models import (
    LoyaltyAccount,
    LoyaltyCampaign,
    LoyaltyCampaignMember,
    LoyaltyCoupon,
    LoyaltyNotification,
    LoyaltyPush,
)
from retailhub.models.base import UTCDateTime
from retailhub.webhooks import events, outbox

COUPON_EXPIRATION = "COUPON_EXPIRATION"
SPECIFIC_TIME = "SPECIFIC_TIME"
DYNAMIC_JOIN = "DYNAMIC_JOIN"
MESSAGE = "MESSAGE"
TYPES = frozenset({MESSAGE, COUPON_EXPIRATION, DYNAMIC_JOIN, SPECIFIC_TIME})

# How far before a SPECIFIC_TIME production later ticks still look for members (see
# ``_late_joiners_since``).
LATE_JOIN_MARGIN = timedelta(hours=1)
PUSH_ID_RE = re.compile(r"^[a-zA-Z0-9_-]{1,32}$")
TITLE_MAX = 256
# Notifications rendered and written as webhook events per round trip.
WEBHOOK_CHUNK = 1000

_N = LoyaltyNotification.__table__
COLUMNS = (
    "tenant_id",
    "account_pk",
    "campaign_pk",
    "type",
    "state_id",
    "title",
    "message",
    "image",
    "payload",
    "dedupe_key",
    "created_at",
)


# Scheduled production -----------------------------------------------------------------


def _text(template: dict[str, Any], key: str) -> str | None:
    value = template.get(key)
    return None if value is None else str(value)[:TITLE_MAX]


def _payload(template: dict[str, Any]) -> dict[str, Any]:
    payload = template.get("payload")
    return dict(payload) if isinstance(payload, dict) else {}


def _days(value: Any) -> float | None:
    try:
        days = float(value)
    except (TypeError, ValueError):
        return None
    return days if days > 0 else None


def _instant(value: Any) -> datetime | None:
    """A notification's ``at``: ISO 8601; without a zone it is UTC."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _template_columns(
    template: dict[str, Any], *, kind: str, now: datetime
) -> list[ColumnElement[Any]]:
    """The constant part of a produced row (type, texts, payload, created_at) as SQL literals."""
    return [
        literal(kind, String).label("type"),
        literal(_text(template, "title"), String).label("title"),
        literal(_text(template, "message"), String).label("message"),
        literal(_text(template, "image"), String).label("image"),
        literal(_payload(template), _N.c.payload.type).label("payload"),
        literal(now, UTCDateTime).label("created_at"),
    ]


def insert_from_select(session: Session, selection: Any) -> int:
    """``INSERT … SELECT`` of notification rows (columns in ``COLUMNS`` order), skipping
    dedupe keys already produced; returns how many rows it inserted. The campaign engine
    writes MESSAGE and DYNAMIC_JOIN notifications through it, set-based.

    When a tenant has an endpoint subscribed to LOYALTY_NOTIFICATION, the new rows' ids come
    back (RETURNING) and each becomes a webhook event in this transaction; otherwise the
    only extra cost is one read of the (small) webhook endpoints table."""
    stmt = (
        upsert(session, _N)
        .from_select(list(COLUMNS), selection)
        .on_conflict_do_nothing(index_elements=["tenant_id", "dedupe_key"])
    )
    listening = outbox.subscribed_tenants(session, events.LOYALTY_NOTIFICATION)
    if not listening:
        return affected(session, stmt)
    rows = session.execute(stmt.returning(_N.c.id, _N.c.tenant_id)).all()
    by_tenant: dict[int, list[int]] = {}
    for notification_id, tenant_id in rows:
        if tenant_id in listening:
            by_tenant.setdefault(tenant_id, []).append(notification_id)
    for tenant_id, ids in by_tenant.items():
        _emit_webhooks(session, tenant_id, ids)
    return len(rows)


def _emit_webhooks(session: Session, tenant_id: int, ids: list[int]) -> None:
    """LOYALTY_NOTIFICATION events for new notifications, each rendered as
    ``GET /notifications`` lists it, a chunk at a time. Unordered: no ordering key."""
    for start in range(0, len(ids), WEBHOOK_CHUNK):
        chunk = ids[start : start + WEBHOOK_CHUNK]
        found = session.execute(
            select(LoyaltyNotification, LoyaltyAccount.account_id, LoyaltyCampaign.campaign_id)
            .join(LoyaltyAccount, LoyaltyAccount.id == LoyaltyNotification.account_pk)
            .outerjoin(LoyaltyCampaign, LoyaltyCampaign.id == LoyaltyNotification.campaign_pk)
            .where(LoyaltyNotification.id.in_(chunk))
            .order_by(LoyaltyNotification.id)
        ).all()
        coupons = _coupons(session, tenant_id, [row[0] for row in found])
        outbox.emit_many(
            session,
            tenant_id=tenant_id,
            event_type=events.LOYALTY_NOTIFICATION,
            items=[_render(n, account, campaign, coupons) for n, account, campaign in found],
        )
        # The rows were only needed to render them: don't keep a million in the session.
        for row in found:
            session.expunge(row[0])


def _coupon_expiration(
    session: Session,
    campaign: LoyaltyCampaign,
    template: dict[str, Any],
    *,
    now: datetime,
) -> int:
    days = _days(template.get("daysBefore"))
    if days is None:
        return 0
    consts = _template_columns(template, kind=COUPON_EXPIRATION, now=now)
    selection = select(
        LoyaltyCoupon.tenant_id,
        LoyaltyCoupon.account_pk,
        LoyaltyCoupon.campaign_pk,
        consts[0],
        LoyaltyCoupon.state_id,
        *consts[1:5],
        (literal("cexp:", String) + cast(LoyaltyCoupon.id, String)).label("dedupe_key"),
        consts[5],
    ).where(
        LoyaltyCoupon.tenant_id == campaign.tenant_id,
        LoyaltyCoupon.campaign_pk == campaign.id,
        LoyaltyCoupon.used < LoyaltyCoupon.usage_limit,
        LoyaltyCoupon.valid_until > now,
        LoyaltyCoupon.valid_until <= now + timedelta(days=days),
    )
    return insert_from_select(session, selection)


def _specific_time(
    session: Session,
    campaign: LoyaltyCampaign,
    template: dict[str, Any],
    index: int,
    *,
    now: datetime,
) -> int:
    at = _instant(template.get("at"))
    if at is None or now < at:
        return 0
    consts = _template_columns(template, kind=SPECIFIC_TIME, now=now)
    prefix = f"time:{campaign.id}:{index}:"
    member = LoyaltyCampaignMember
    late = _late_joiners_since(session, campaign, prefix, at)
    selection = (
        select(
            member.tenant_id,
            member.account_pk,
            member.campaign_pk,
            consts[0],
            literal(None, String).label("state_id"),
            *consts[1:5],
            (literal(prefix, String) + cast(member.account_pk, String)).label("dedupe_key"),
            consts[5],
        )
        .where(
            member.tenant_id == campaign.tenant_id,
            member.campaign_pk == campaign.id,
            member.state.is_not(None),
            *([] if late is None else [member.joined_at >= late]),
        )
        # A BIRTHDAY campaign can hold several runs of one account: one notification each.
        .distinct()
    )
    return insert_from_select(session, selection)


def _late_joiners_since(
    session: Session, campaign: LoyaltyCampaign, prefix: str, at: datetime
) -> datetime | None:
    """Once a SPECIFIC_TIME notification has gone out, later ticks only need to look at
    members who joined since: without this, every tick of a campaign with a million members
    would re-try a million inserts. The first row produced (found through the created_at
    index, right after ``at``) dates that production; the margin covers enrollments that
    were still uncommitted when it ran."""
    first = session.scalar(
        select(LoyaltyNotification.created_at)
        .where(
            LoyaltyNotification.tenant_id == campaign.tenant_id,
            LoyaltyNotification.created_at >= at,
            LoyaltyNotification.campaign_pk == campaign.id,
            LoyaltyNotification.type == SPECIFIC_TIME,
            LoyaltyNotification.dedupe_key.startswith(prefix, autoescape=True),
        )
        .order_by(LoyaltyNotification.created_at)
        .limit(1)
    )
    aware = _aware(first)
    return None if aware is None else aware - LATE_JOIN_MARGIN


def _in_window(campaign: LoyaltyCampaign, now: datetime) -> bool:
    start, end = _aware(campaign.active_from), _aware(campaign.active_to)
    return (start is None or start <= now) and (end is None or now <= end)


def tick(session: Session, *, tenant_id: int, now: datetime) -> None:
    """Produce due COUPON_EXPIRATION and SPECIFIC_TIME notifications (idempotent).

    Only running campaigns (initialized, not finalized) produce. COUPON_EXPIRATION reminders
    are also produced after ``activeTo`` (the coupons outlive the campaign's joining window);
    SPECIFIC_TIME ones only inside ``activeFrom``/``activeTo``. Each produced row adds to the
    campaign's ``notifications`` counter for ``now``'s day."""
    now = _aware(now) or clock.now()
    campaigns = session.scalars(
        select(LoyaltyCampaign).where(
            LoyaltyCampaign.tenant_id == tenant_id,
            LoyaltyCampaign.initialized.is_(True),
            LoyaltyCampaign.finalized_at.is_(None),
        )
    ).all()
    for campaign in campaigns:
        produced = 0
        for index, template in enumerate(campaign.notifications or []):
            if not isinstance(template, dict):
                continue
            kind = template.get("type")
            if kind == COUPON_EXPIRATION:
                produced += _coupon_expiration(session, campaign, template, now=now)
            elif kind == SPECIFIC_TIME and _in_window(campaign, now):
                produced += _specific_time(session, campaign, template, index, now=now)
        stats_service.bump(
            session,
            tenant_id=tenant_id,
            campaign_pk=campaign.id,
            metric="notifications",
            by=produced,
            day=now.date(),
        )


# Listing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotificationFilter:
    account: str | None = None
    campaign: str | None = None
    type: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _conditions(
    tenant_id: int, account_pk: int | None, filters: NotificationFilter
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [LoyaltyNotification.tenant_id == tenant_id]
    if account_pk is not None:
        conditions.append(LoyaltyNotification.account_pk == account_pk)
    if filters.account is not None:
        conditions.append(
            LoyaltyNotification.account_pk.in_(
                select(LoyaltyAccount.id).where(
                    LoyaltyAccount.tenant_id == tenant_id,
                    LoyaltyAccount.account_id == filters.account,
                )
            )
        )
    if filters.campaign is not None:
        conditions.append(
            LoyaltyNotification.campaign_pk.in_(
                select(LoyaltyCampaign.id).where(
                    LoyaltyCampaign.tenant_id == tenant_id,
                    LoyaltyCampaign.campaign_id == filters.campaign,
                )
            )
        )
    if filters.type is not None:
        conditions.append(LoyaltyNotification.type == filters.type)
    if filters.since is not None:
        conditions.append(LoyaltyNotification.created_at >= filters.since)
    if filters.until is not None:
        conditions.append(LoyaltyNotification.created_at < filters.until)
    return conditions


def list_notifications(
    session: Session,
    *,
    tenant_id: int,
    filters: NotificationFilter,
    account_pk: int | None = None,
    offset: int,
    limit: int,
    sort: str,
    descending: bool,
) -> tuple[int, list[dict[str, Any]]]:
    """One page of notifications (and the total), newest or oldest first."""
    conditions = _conditions(tenant_id, account_pk, filters)
    total = int(session.scalar(select(func.count()).select_from(_N).where(and_(*conditions))) or 0)
    column = LoyaltyNotification.created_at if sort == "createdAt" else LoyaltyNotification.id
    order = (
        [column.desc(), LoyaltyNotification.id.desc()]
        if descending
        else [
            column.asc(),
            LoyaltyNotification.id.asc(),
        ]
    )
    rows = session.execute(
        select(LoyaltyNotification, LoyaltyAccount.account_id, LoyaltyCampaign.campaign_id)
        .join(LoyaltyAccount, LoyaltyAccount.id == LoyaltyNotification.account_pk)
        .outerjoin(LoyaltyCampaign, LoyaltyCampaign.id == LoyaltyNotification.campaign_pk)
        .where(*conditions)
        .order_by(*order)
        .offset(offset)
        .limit(limit)
    ).all()
    coupons = _coupons(session, tenant_id, [row[0] for row in rows])
    return total, [
        _render(notification, account_id, campaign_id, coupons)
        for notification, account_id, campaign_id in rows
    ]


def _coupon_pk(notification: LoyaltyNotification) -> int | None:
    if notification.type != COUPON_EXPIRATION:
        return None
    _, _, rest = notification.dedupe_key.partition(":")
    return int(rest) if rest.isdigit() else None


def _coupons(
    session: Session, tenant_id: int, notifications: list[LoyaltyNotification]
) -> dict[int, LoyaltyCoupon]:
    pks = {pk for pk in map(_coupon_pk, notifications) if pk is not None}
    if not pks:
        return {}
    found = session.scalars(
        select(LoyaltyCoupon).where(LoyaltyCoupon.tenant_id == tenant_id, LoyaltyCoupon.id.in_(pks))
    )
    return {coupon.id: coupon for coupon in found}


def _iso(value: datetime | None) -> str | None:
    aware = _aware(value)
    return None if aware is None else aware.isoformat().replace("+00:00", "Z")


def _render(
    notification: LoyaltyNotification,
    account_id: str,
    campaign_id: str | None,
    coupons: dict[int, LoyaltyCoupon],
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": notification.id,
        "account": account_id,
        "campaign": campaign_id,
        "type": notification.type,
        "state": notification.state_id,
        "title": notification.title,
        "message": notification.message,
        "image": notification.image,
        "payload": notification.payload or {},
        "createdAt": _iso(notification.created_at),
        "receivedAt": _iso(notification.received_at),
    }
    pk = _coupon_pk(notification)
    coupon = coupons.get(pk) if pk is not None else None
    if coupon is not None:
        body["coupon"] = {"code": coupon.code, "validUntil": _iso(coupon.valid_until)}
    return body


# Push bookkeeping ---------------------------------------------------------------------


def check_push_id(value: Any) -> str:
    if not isinstance(value, str) or not PUSH_ID_RE.match(value):
        raise DomainError(
            "pushId: must be a JSON string of 1-32 characters of [a-zA-Z0-9_-]", field="pushId"
        )
    return value


def check_title(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise DomainError("title: must be a string", field="title")
    if len(value) > TITLE_MAX:
        raise DomainError(f"title: must be at most {TITLE_MAX} characters", field="title")
    return value


def _campaign(session: Session, tenant_id: int, campaign_id: str) -> LoyaltyCampaign:
    return campaign_service.get(session, tenant_id=tenant_id, campaign_id=campaign_id)


def _push_body(campaign: LoyaltyCampaign, push: LoyaltyPush) -> dict[str, Any]:
    return {
        "campaign": campaign.campaign_id,
        "pushId": push.push_id,
        "title": push.title,
        "clicks": push.clicks,
        "registeredAt": _iso(push.registered_at),
    }


def _push(session: Session, tenant_id: int, campaign_pk: int, push_id: str) -> LoyaltyPush | None:
    return session.scalar(
        select(LoyaltyPush)
        .where(
            LoyaltyPush.tenant_id == tenant_id,
            LoyaltyPush.campaign_pk == campaign_pk,
            LoyaltyPush.push_id == push_id,
        )
        .execution_options(populate_existing=True)
    )


def register_push(
    session: Session, *, tenant_id: int, campaign_id: str, push_id: str, title: str | None
) -> dict[str, Any]:
    """Record a push sent for a campaign. A pushId counts once per campaign: registering it
    again only replaces its title (when one is given) and leaves the counter alone."""
    campaign = _campaign(session, tenant_id, campaign_id)
    now = clock.now()
    inserted = affected(
        session,
        upsert(session, LoyaltyPush.__table__)
        .values(
            tenant_id=tenant_id,
            campaign_pk=campaign.id,
            push_id=push_id,
            title=title,
            clicks=0,
            registered_at=now,
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "campaign_pk", "push_id"]),
    )
    if inserted:
        stats_service.bump(
            session, tenant_id=tenant_id, campaign_pk=campaign.id, metric="push_registered"
        )
    elif title is not None:
        session.execute(
            update(LoyaltyPush)
            .where(
                LoyaltyPush.tenant_id == tenant_id,
                LoyaltyPush.campaign_pk == campaign.id,
                LoyaltyPush.push_id == push_id,
            )
            .values(title=title)
        )
    push = _push(session, tenant_id, campaign.id, push_id)
    assert push is not None
    return {**_push_body(campaign, push), "new": bool(inserted)}


def click_push(
    session: Session, *, tenant_id: int, campaign_id: str, push_id: str
) -> dict[str, Any]:
    """Count one click on a registered push (atomic increment)."""
    campaign = _campaign(session, tenant_id, campaign_id)
    updated = affected(
        session,
        update(LoyaltyPush)
        .where(
            LoyaltyPush.tenant_id == tenant_id,
            LoyaltyPush.campaign_pk == campaign.id,
            LoyaltyPush.push_id == push_id,
        )
        .values(clicks=LoyaltyPush.clicks + 1),
    )
    if not updated:
        raise NotFound(f"Push '{push_id}' is not registered for campaign '{campaign_id}'")
    stats_service.bump(session, tenant_id=tenant_id, campaign_pk=campaign.id, metric="push_clicked")
    push = _push(session, tenant_id, campaign.id, push_id)
    assert push is not None
    return _push_body(campaign, push)
