"""The per-account campaign state machine, set-based.

A member row (``loyalty_campaign_members``) holds an account's current state in a campaign
and whether that state's action was performed (``entered``). The engine works on every
member of a campaign at once:

1. members entering a state (``entered`` false) get its action in one ``INSERT … SELECT``:
   COUPON issues a coupon, WALLET credits points, MESSAGE records a message notification;
   ACCOUNT, ORDER and MESSAGE then wait (``entered`` true);
2. COUPON and WALLET complete at once; ACCOUNT completes as soon as the account meets the
   state's constraints (checked on entry and whenever the account changes); MESSAGE on the
   ``message`` call; ORDER when a matching order is imported;
3. completing moves the member to ``transitionTo`` (none: finished, ``state`` NULL) and adds
   to the ``finished:<state>`` statistic.

``advance`` repeats 1 and 2 until no member moves, for at most ``2 * len(states) + 1``
rounds:
a loop of states that all complete at once (an ACCOUNT state whose constraints the account
keeps meeting) would otherwise never end. Members still entering a state after the cap have
its action performed by the campaign's next ``advance`` (the next change, order or tick).
Loops made only of COUPON and WALLET states are refused when the campaign is saved.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    cast,
    false,
    func,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from retailhub.kit.sql import affected, is_pg, upsert
from retailhub.loyalty.campaign import constraints as cons
from retailhub.loyalty.notification import service as notification_service
from retailhub.loyalty.stats import service as stats_service
from retailhub.models import (
    LoyaltyAccount,
    LoyaltyCampaign,
    LoyaltyCampaignMember,
    LoyaltyCoupon,
    LoyaltyWalletEntry,
)
from retailhub.models.base import JSONType, UTCDateTime

A = LoyaltyAccount
M = LoyaltyCampaignMember
IMMEDIATE = frozenset({"COUPON", "WALLET"})
WAITING = frozenset({"ACCOUNT", "MESSAGE", "ORDER"})
CHUNK = 5000


rows = affected


def utc(value: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive; they were stored as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def running(campaign: LoyaltyCampaign) -> bool:
    return campaign.initialized and campaign.finalized_at is None


def in_window(campaign: LoyaltyCampaign, now: datetime) -> bool:
    start, end = utc(campaign.active_from), utc(campaign.active_to)
    return (start is None or start <= now) and (end is None or now < end)


def live(campaign: LoyaltyCampaign, now: datetime) -> bool:
    """Running and inside its window: joins and transitions happen."""
    return running(campaign) and in_window(campaign, now)


def state_defs(campaign: LoyaltyCampaign) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in campaign.states}


def account_filter(campaign: LoyaltyCampaign, pg: bool) -> ColumnElement[bool]:
    """The campaign's constraints as one condition over ``loyalty_accounts``."""
    return cons.where(cons.parse_all(campaign.constraints), pg=pg)


def _member_scope(campaign: LoyaltyCampaign) -> list[ColumnElement[bool]]:
    return [M.tenant_id == campaign.tenant_id, M.campaign_pk == campaign.id]


def _dt(value: datetime | None) -> Any:
    return literal(value, UTCDateTime)


def _str(value: str | None) -> Any:
    return literal(value, String)


# Enrollment ------------------------------------------------------------------------------


def enroll(
    session: Session,
    campaign: LoyaltyCampaign,
    *,
    where: Sequence[ColumnElement[bool]],
    cycle: int,
    now: datetime,
    dynamic_join: bool = False,
    landing: tuple[str | None, bool] | None = None,
) -> int:
    """Add every account of the tenant matching ``where`` (and not yet a member for this
    cycle) in the first state, entering it (or ``landing``: a state, None for finished, and
    whether its action is done), in one ``INSERT … SELECT``; returns how many joined."""
    first, entered = (campaign.states[0]["id"], False) if landing is None else landing
    columns = [
        "tenant_id",
        "campaign_pk",
        "account_pk",
        "cycle",
        "state",
        "entered",
        "order_number",
        "joined_at",
        "state_at",
        "finished_at",
    ]
    source = select(
        literal(campaign.tenant_id, Integer),
        literal(campaign.id, Integer),
        A.id,
        literal(cycle, Integer),
        _str(first),
        true() if entered else false(),
        _str(None),
        _dt(now),
        _dt(now),
        _dt(now if first is None else None),
    ).where(A.tenant_id == campaign.tenant_id, *where)
    stmt = (
        upsert(session, M.__table__)
        .from_select(columns, source)
        .on_conflict_do_nothing(index_elements=["tenant_id", "campaign_pk", "account_pk", "cycle"])
    )
    joined: list[int] = []
    if dynamic_join:
        joined = list(session.execute(stmt.returning(M.account_pk)).scalars())
        count = len(joined)
    else:
        count = rows(session, stmt)
    if not count:
        return 0
    stats_service.bump(
        session, tenant_id=campaign.tenant_id, campaign_pk=campaign.id, metric="joined", by=count
    )
    if dynamic_join:
        _join_notifications(session, campaign, joined, cycle=cycle, now=now)
    return count


def _join_notifications(
    session: Session,
    campaign: LoyaltyCampaign,
    account_pks: list[int],
    *,
    cycle: int,
    now: datetime,
) -> None:
    template = next((n for n in campaign.notifications if n["type"] == "DYNAMIC_JOIN"), None)
    if template is None or not account_pks:
        return
    made = 0
    for start in range(0, len(account_pks), CHUNK):
        chunk = account_pks[start : start + CHUNK]
        source = select(
            literal(campaign.tenant_id, Integer),
            M.account_pk,
            literal(campaign.id, Integer),
            _str("DYNAMIC_JOIN"),
            _str(None),
            _str(template.get("title")),
            _str(template.get("message")),
            _str(template.get("image")),
            literal(template.get("payload") or {}, JSONType),
            literal(f"join:{campaign.id}:", String)
            + cast(M.account_pk, String)
            + literal(f":{cycle}", String),
            _dt(now),
        ).where(*_member_scope(campaign), M.cycle == cycle, M.account_pk.in_(chunk))
        made += _insert_notifications(session, source)
    stats_service.bump(
        session,
        tenant_id=campaign.tenant_id,
        campaign_pk=campaign.id,
        metric="notifications",
        by=made,
    )


def _insert_notifications(session: Session, source: Any) -> int:
    return notification_service.insert_from_select(session, source)


# Actions ---------------------------------------------------------------------------------


def _entering(campaign: LoyaltyCampaign, state_id: str) -> list[ColumnElement[bool]]:
    return [*_member_scope(campaign), M.state == state_id, M.entered.is_(False)]


def _coupon_code(session: Session) -> Any:
    if is_pg(session):
        uuid_text = cast(func.gen_random_uuid(), String)
        return func.upper(func.substr(func.replace(uuid_text, "-", ""), 1, 16))
    return func.upper(func.hex(func.randomblob(8)))


def _act(
    session: Session,
    campaign: LoyaltyCampaign,
    state: dict[str, Any],
    now: datetime,
    where: Sequence[ColumnElement[bool]] | None = None,
) -> int:
    """Perform ``state``'s action for every member entering it (or every member matching
    ``where``); returns rows affected."""
    kind, sid = state["type"], state["id"]
    tenant_id = campaign.tenant_id
    entering = _entering(campaign, sid) if where is None else [*_member_scope(campaign), *where]
    if kind == "COUPON":
        source = select(
            literal(tenant_id, Integer),
            _coupon_code(session),
            M.account_pk,
            literal(campaign.id, Integer),
            _str(sid),
            _dt(now),
            _dt(now + timedelta(days=int(state["validDays"]))),
            literal(int(state.get("usageLimit") or 1), Integer),
            literal(0, Integer),
            _str(state.get("productId")),
            _str(state.get("categoryId")),
            _str(state.get("enableKey")),
            _dt(now),
        ).where(*entering)
        stmt = insert(LoyaltyCoupon).from_select(
            [
                "tenant_id",
                "code",
                "account_pk",
                "campaign_pk",
                "state_id",
                "valid_from",
                "valid_until",
                "usage_limit",
                "used",
                "product_id",
                "category_id",
                "enable_key",
                "created_at",
            ],
            source,
        )
        count = rows(session, stmt)
        _bump(session, campaign, "coupons_issued", count)
        return count
    if kind == "WALLET":
        points = int(state["points"])
        days = state.get("expiresInDays")
        source = select(
            literal(tenant_id, Integer),
            M.account_pk,
            _str("earn"),
            literal(points, Integer),
            _dt(now + timedelta(days=int(days)) if days else None),
            _str(f"campaign:{campaign.campaign_id}/{sid}"),
            M.order_number,
            _dt(now),
        ).where(*entering)
        stmt = insert(LoyaltyWalletEntry).from_select(
            [
                "tenant_id",
                "account_pk",
                "kind",
                "points",
                "expires_at",
                "source",
                "order_number",
                "created_at",
            ],
            source,
        )
        count = rows(session, stmt)
        _bump(session, campaign, "points_credited", count * points)
        return count
    if kind == "MESSAGE":
        source = select(
            literal(tenant_id, Integer),
            M.account_pk,
            literal(campaign.id, Integer),
            _str("MESSAGE"),
            _str(sid),
            _str(state.get("title")),
            _str(state.get("message")),
            _str(state.get("image")),
            literal(state.get("payload") or {}, JSONType),
            literal(f"msg:{campaign.id}:{sid}:", String)
            + cast(M.account_pk, String)
            + literal(":", String)
            + cast(M.cycle, String),
            _dt(now),
        ).where(*entering)
        count = _insert_notifications(session, source)
        _bump(session, campaign, "messages", count)
        return count
    return 0


def _bump(session: Session, campaign: LoyaltyCampaign, metric: str, by: int) -> None:
    stats_service.bump(
        session, tenant_id=campaign.tenant_id, campaign_pk=campaign.id, metric=metric, by=by
    )


# Transitions -----------------------------------------------------------------------------


def transition(
    session: Session,
    campaign: LoyaltyCampaign,
    state: dict[str, Any],
    *,
    where: Sequence[ColumnElement[bool]],
    now: datetime,
    order_number: Any = None,
) -> int:
    """Complete ``state`` for the members in it matching ``where``: move them to
    ``transitionTo`` (or finish them) and count ``finished:<state>``."""
    target = state.get("transitionTo")
    values: dict[str, Any] = {"state": target, "entered": False, "state_at": now}
    if target is None:
        values["finished_at"] = now
    if order_number is not None:
        values["order_number"] = order_number
    stmt = (
        update(M)
        .where(*_member_scope(campaign), M.state == state["id"], *where)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    count = rows(session, stmt)
    _bump(session, campaign, f"finished:{state['id']}", count)
    return count


def satisfies(campaign: LoyaltyCampaign, state: dict[str, Any], pg: bool) -> ColumnElement[bool]:
    """Members whose account meets an ACCOUNT state's constraints."""
    conds = cons.parse_all(state.get("constraints") or [])
    return M.account_pk.in_(
        select(A.id).where(A.tenant_id == campaign.tenant_id, cons.where(conds, pg=pg))
    )


def advance(
    session: Session,
    campaign: LoyaltyCampaign,
    *,
    now: datetime,
    pending: Sequence[str] | None = None,
    account_pks: Sequence[int] = (),
) -> None:
    """Perform entries and immediate completions until no member moves.

    ``pending``: states members may be entering (None: every state). ``account_pks``:
    accounts that changed, whose waiting ACCOUNT states are checked again."""
    pg = is_pg(session)
    states = list(campaign.states)
    todo = {s["id"] for s in states} if pending is None else set(pending)
    recheck = {s["id"] for s in states if s["type"] == "ACCOUNT"} if account_pks else set()
    for _ in range(2 * len(states) + 1):
        if not todo and not recheck:
            return
        for state in states:
            kind, sid = state["type"], state["id"]
            target = state.get("transitionTo")
            if sid in recheck:
                recheck.discard(sid)
                check = satisfies(campaign, state, pg)
                for start in range(0, len(account_pks), CHUNK):
                    chunk = list(account_pks[start : start + CHUNK])
                    where = [M.entered.is_(True), M.account_pk.in_(chunk), check]
                    if transition(session, campaign, state, where=where, now=now) and target:
                        todo.add(target)
            if sid not in todo:
                continue
            todo.discard(sid)
            _act(session, campaign, state, now)
            if kind in IMMEDIATE:
                moved = transition(session, campaign, state, where=[M.entered.is_(False)], now=now)
                if moved and target:
                    todo.add(target)
                continue
            if kind == "ACCOUNT":
                where = [M.entered.is_(False), satisfies(campaign, state, pg)]
                if transition(session, campaign, state, where=where, now=now) and target:
                    todo.add(target)
            session.execute(
                update(M)
                .where(*_entering(campaign, sid))
                .values(entered=True)
                .execution_options(synchronize_session=False)
            )


def enroll_initial(
    session: Session,
    campaign: LoyaltyCampaign,
    *,
    where: Sequence[ColumnElement[bool]],
    now: datetime,
) -> int:
    """The initial enrollment of a STANDARD campaign (it has no members yet), the one
    that may touch millions of accounts: the COUPON/WALLET states at the head of the flow
    complete at once for everybody, so members are inserted straight into the first state
    that waits (or finished), and each action runs once over all of them; no UPDATE of
    every member is needed."""
    defs = state_defs(campaign)
    chain: list[str] = []
    landing: str | None = campaign.states[0]["id"]
    while landing is not None and defs[landing]["type"] in IMMEDIATE and landing not in chain:
        chain.append(landing)
        landing = defs[landing].get("transitionTo")
    waits = landing is not None and landing not in chain
    count = enroll(session, campaign, where=where, cycle=0, now=now, landing=(landing, waits))
    if not count:
        return 0
    everybody = [M.cycle == 0]
    for sid in chain:
        _act(session, campaign, defs[sid], now, where=everybody)
        _bump(session, campaign, f"finished:{sid}", count)
    if landing is None:
        return count
    if not waits:
        advance(session, campaign, now=now, pending=[landing])
        return count
    state = defs[landing]
    _act(session, campaign, state, now, where=everybody)
    if state["type"] == "ACCOUNT":
        check = [M.entered.is_(True), satisfies(campaign, state, is_pg(session))]
        if transition(session, campaign, state, where=check, now=now) and state.get("transitionTo"):
            advance(session, campaign, now=now, pending=[state["transitionTo"]])
    return count


def member_count(session: Session, campaign: LoyaltyCampaign) -> int:
    """Distinct accounts that ever joined the campaign."""
    return int(
        session.scalar(
            select(func.count(func.distinct(M.account_pk))).where(*_member_scope(campaign))
        )
        or 0
    )
