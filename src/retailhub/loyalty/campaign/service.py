"""Campaigns: definitions, preview/initialize/finalize, and the per-account state machine.

Lifecycle: saved (upsert) → previewed (optional) → initialized (running; joins happen while
``now`` is inside ``[activeFrom, activeTo)``) → finalized (stopped for good, statistics kept).
The state machine itself is ``engine``; constraints are ``constraints``.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from typing import cast as typed

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from retailhub.config import get_settings
from retailhub.errors import Conflict, DomainError, NotFound
from retailhub.kit import clock
from retailhub.kit.sql import is_pg, upsert
from retailhub.kit.timeutil import iso
from retailhub.loyalty.account import service as account_service
from retailhub.loyalty.campaign import constraints as cons
from retailhub.loyalty.campaign import engine
from retailhub.loyalty.campaign import repository as repo
from retailhub.loyalty.campaign.schemas import CampaignIn
from retailhub.loyalty.facts import UNDONE_STATUSES, OrderFact
from retailhub.models import (
    LoyaltyAccount,
    LoyaltyCampaign,
    LoyaltyCampaignMember,
    LoyaltyNotification,
)

A = LoyaltyAccount
C = LoyaltyCampaign
M = LoyaltyCampaignMember
RUNNING_LOCK = 727276


# Validation ------------------------------------------------------------------------------


def check(body: CampaignIn) -> None:
    """Rules the schema cannot express; every error names its field."""
    if body.activeFrom and body.activeTo and body.activeFrom >= body.activeTo:
        raise DomainError("activeTo: must be later than activeFrom", field="activeTo")
    cons.parse_all(body.constraints, loc="constraints")
    index: dict[str, int] = {}
    for i, state in enumerate(body.states):
        if state.id in index:
            raise DomainError(
                f"states[{i}].id: '{state.id}' is already the id of states[{index[state.id]}]",
                field=f"states[{i}].id",
            )
        index[state.id] = i
    for i, state in enumerate(body.states):
        if state.transitionTo is not None and state.transitionTo not in index:
            raise DomainError(
                f"states[{i}].transitionTo: no state has the id '{state.transitionTo}'",
                field=f"states[{i}].transitionTo",
            )
        if state.type == "ACCOUNT":
            cons.parse_all(state.constraints, loc=f"states[{i}].constraints")
    # A loop of states that all complete at once would issue coupons/points forever.
    following = {s.id: s.transitionTo for s in body.states}
    kinds = {s.id: s.type for s in body.states}
    for i, state in enumerate(body.states):
        seen: list[str] = []
        current: str | None = state.id
        while current is not None and current not in seen:
            seen.append(current)
            current = following[current]
        if current == state.id and all(kinds[s] in engine.IMMEDIATE for s in seen):
            raise DomainError(
                f"states[{i}].transitionTo: the states {' → '.join([*seen, state.id])} form a "
                "loop of COUPON/WALLET states, which never wait",
                field=f"states[{i}].transitionTo",
            )


# Reading ---------------------------------------------------------------------------------


def get(session: Session, *, tenant_id: int, campaign_id: str) -> LoyaltyCampaign:
    campaign = repo.find(session, tenant_id=tenant_id, campaign_id=campaign_id)
    if campaign is None:
        raise NotFound(f"Campaign '{campaign_id}' not found")
    return campaign


def _locked(session: Session, *, tenant_id: int, campaign_id: str) -> LoyaltyCampaign:
    campaign = session.scalar(
        select(C)
        .where(C.tenant_id == tenant_id, C.campaign_id == campaign_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if campaign is None:
        raise NotFound(f"Campaign '{campaign_id}' not found")
    return campaign


def to_json(campaign: LoyaltyCampaign, stats: dict[str, int]) -> dict[str, Any]:
    """The campaign as the API shows it (the document's Campaign plus ``finalized``)."""
    return {
        "id": campaign.campaign_id,
        "type": campaign.type,
        "name": campaign.name,
        "activeFrom": iso(campaign.active_from),
        "activeTo": iso(campaign.active_to),
        "constraints": campaign.constraints,
        "states": [{**s, "stats": stats.get(s["id"], 0)} for s in campaign.states],
        "dynamic": campaign.dynamic,
        "notifications": campaign.notifications,
        "initialized": campaign.initialized,
        "initializedAt": iso(campaign.initialized_at),
        "initializedBy": campaign.initialized_by,
        "cnt": campaign.cnt,
        "stateStats": {s["id"]: stats.get(s["id"], 0) for s in campaign.states},
        "previewedAt": iso(campaign.previewed_at),
        "samples": campaign.samples,
        "finalized": campaign.finalized_at is not None,
        "finalizedAt": iso(campaign.finalized_at),
    }


def read(session: Session, campaign: LoyaltyCampaign) -> dict[str, Any]:
    session.flush()
    session.refresh(campaign)
    return to_json(campaign, repo.state_stats(session, [campaign.id])[campaign.id])


def list_page(
    session: Session,
    *,
    tenant_id: int,
    filters: dict[str, Any],
    sort: str,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    stmt = repo.list_query(tenant_id, filters)
    total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    column = repo.LIST_SORT[sort]
    ordered = stmt.order_by(column.desc() if descending else column.asc(), C.id)
    campaigns: list[LoyaltyCampaign] = list(session.scalars(ordered.offset(offset).limit(limit)))
    stats = repo.state_stats(session, [c.id for c in campaigns])
    return [to_json(c, stats[c.id]) for c in campaigns], total


# Writing ---------------------------------------------------------------------------------

LOCKED_WHEN_INITIALIZED = ("type", "constraints", "states")


def save(
    session: Session,
    *,
    tenant_id: int,
    body: CampaignIn,
    path_id: str | None = None,
) -> LoyaltyCampaign:
    """Create or replace a campaign (postCampaign/putCampaign)."""
    if path_id is not None and path_id != body.id:
        raise DomainError(
            f"id: '{body.id}' differs from the campaign in the path ('{path_id}')", field="id"
        )
    check(body)
    now = clock.now()
    values: dict[str, Any] = {
        "type": body.type,
        "name": body.name,
        "active_from": body.activeFrom,
        "active_to": body.activeTo,
        "dynamic": bool(body.dynamic),
        "constraints": body.dump_constraints(),
        "states": body.dump_states(),
        "notifications": body.dump_notifications(),
    }
    created = session.execute(
        upsert(session, C.__table__)
        .values(
            tenant_id=tenant_id,
            campaign_id=body.id,
            initialized=False,
            cnt=0,
            samples=[],
            created_at=now,
            updated_at=now,
            **values,
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "campaign_id"])
        .returning(C.id)
    ).scalar_one_or_none()
    campaign = _locked(session, tenant_id=tenant_id, campaign_id=body.id)
    if created is not None:
        return campaign
    current = {
        "type": campaign.type,
        "constraints": campaign.constraints,
        "states": campaign.states,
    }
    if campaign.initialized:
        for key in LOCKED_WHEN_INITIALIZED:
            if current[key] != values[key]:
                raise Conflict(
                    f"{key}: cannot change once the campaign is initialized "
                    "(create a new campaign instead)",
                    field=key,
                )
    elif current["constraints"] != values["constraints"]:
        # The preview described other constraints.
        campaign.cnt = 0
        campaign.samples = []
        campaign.previewed_at = None
    for key, value in values.items():
        setattr(campaign, key, value)
    campaign.updated_at = now
    session.flush()
    return campaign


def delete(session: Session, *, tenant_id: int, campaign_id: str) -> None:
    campaign = get(session, tenant_id=tenant_id, campaign_id=campaign_id)
    session.delete(campaign)
    session.flush()


def preview(session: Session, *, tenant_id: int, campaign_id: str) -> LoyaltyCampaign:
    """Predicted ``cnt`` and sample account ids of a campaign not yet initialized."""
    campaign = _locked(session, tenant_id=tenant_id, campaign_id=campaign_id)
    if campaign.initialized:
        raise Conflict(f"Campaign '{campaign_id}' is initialized: cnt is its live member count")
    condition = engine.account_filter(campaign, is_pg(session))
    scope = [A.tenant_id == tenant_id, condition]
    campaign.cnt = int(session.scalar(select(func.count()).select_from(A).where(*scope)) or 0)
    limit = get_settings().loyalty_preview_samples
    campaign.samples = list(
        session.scalars(select(A.account_id).where(*scope).order_by(A.id).limit(limit))
    )
    campaign.previewed_at = clock.now()
    session.flush()
    return campaign


def initialize(
    session: Session, *, tenant_id: int, campaign_id: str, client_id: str
) -> LoyaltyCampaign:
    """Start the campaign; STANDARD ones enroll every matching account now if inside their
    window (else when ``activeFrom`` is reached)."""
    if is_pg(session):
        # Serialize initializations per tenant so the running limit holds.
        session.execute(select(func.pg_advisory_xact_lock(RUNNING_LOCK, tenant_id)))
    campaign = _locked(session, tenant_id=tenant_id, campaign_id=campaign_id)
    if campaign.finalized_at is not None:
        raise Conflict(f"Campaign '{campaign_id}' is finalized and cannot run again")
    if campaign.initialized:
        raise Conflict(f"Campaign '{campaign_id}' is already initialized")
    now = clock.now()
    end = engine.utc(campaign.active_to)
    if end is not None and now >= end:
        raise Conflict(f"Campaign '{campaign_id}' ended at {iso(end)} (activeTo)")
    limit = get_settings().loyalty_max_running_campaigns
    if repo.running_count(session, tenant_id=tenant_id) >= limit:
        raise Conflict(
            f"At most {limit} campaigns may run at once: finalize one before initializing "
            f"'{campaign_id}'"
        )
    campaign.initialized = True
    campaign.initialized_at = now
    campaign.initialized_by = client_id
    campaign.cnt = 0
    session.flush()
    if campaign.type == "STANDARD" and engine.in_window(campaign, now):
        _initial_enrollment(session, campaign, now)
    return campaign


def _initial_enrollment(session: Session, campaign: LoyaltyCampaign, now: datetime) -> None:
    campaign.enrolled_at = now
    session.flush()
    campaign.cnt = engine.enroll_initial(
        session, campaign, where=[engine.account_filter(campaign, is_pg(session))], now=now
    )
    session.flush()


def finalize(
    session: Session, *, tenant_id: int, campaign_id: str, client_id: str
) -> LoyaltyCampaign:
    campaign = _locked(session, tenant_id=tenant_id, campaign_id=campaign_id)
    if not campaign.initialized:
        raise Conflict(f"Campaign '{campaign_id}' is not initialized")
    if campaign.finalized_at is not None:
        raise Conflict(f"Campaign '{campaign_id}' is already finalized")
    campaign.finalized_at = clock.now()
    campaign.finalized_by = client_id
    session.flush()
    return campaign


def _add_cnt(session: Session, campaign: LoyaltyCampaign, joined: int) -> None:
    if joined:
        session.execute(
            update(C)
            .where(C.id == campaign.id)
            .values(cnt=C.cnt + joined)
            .execution_options(synchronize_session=False)
        )
        session.expire(campaign, ["cnt"])


# Explain ---------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def explain(
    session: Session, *, tenant_id: int, campaign_id: str, account_id: str
) -> dict[str, Any]:
    """Which constraints the account meets and fails, with the values compared."""
    campaign = get(session, tenant_id=tenant_id, campaign_id=campaign_id)
    account = account_service.get(session, tenant_id=tenant_id, account_id=account_id)
    tags, venues = repo.account_facts(session, account)
    facts = cons.AccountFacts(
        counters=dict(account.counters or {}),
        properties=dict(account.properties or {}),
        tags=tags,
        venues=venues,
        first_name=account.first_name,
        created=account.created_at,
        last_order=account.last_order_at,
        birthdate=account.birthdate,
    )
    results = []
    for i, cond in enumerate(cons.parse_all(campaign.constraints)):
        results.append(
            {
                "index": i,
                "field": cond.field,
                "op": cond.op,
                "value": list(cond.raw),
                "actual": _jsonable(cons.actual(cond, facts)),
                "met": cons.evaluate(cond, facts),
            }
        )
    run = next(
        (
            m
            for c, m in repo.current_runs(session, tenant_id=tenant_id, account_pk=account.id)
            if c.id == campaign.id
        ),
        None,
    )
    now = clock.now()
    return {
        "campaign": campaign.campaign_id,
        "account": account.account_id,
        "matches": all(r["met"] for r in results),
        "constraints": results,
        "running": engine.running(campaign),
        "inWindow": engine.in_window(campaign, now),
        "member": None
        if run is None
        else {
            "state": run.state,
            "finished": run.finished_at is not None,
            "cycle": run.cycle,
            "joinedAt": iso(run.joined_at),
        },
    }


# End-user operations ---------------------------------------------------------------------


def _my_entry(campaign: LoyaltyCampaign, member: LoyaltyCampaignMember) -> dict[str, Any]:
    return {
        "id": campaign.campaign_id,
        "name": campaign.name,
        "type": campaign.type,
        "state": member.state,
        "finished": member.finished_at is not None,
        "states": campaign.states,
    }


def my_campaigns(session: Session, *, tenant_id: int, account_id: str) -> list[dict[str, Any]]:
    account = account_service.get(session, tenant_id=tenant_id, account_id=account_id)
    runs = repo.current_runs(session, tenant_id=tenant_id, account_pk=account.id)
    return [_my_entry(c, m) for c, m in runs]


def acknowledge(
    session: Session, *, tenant_id: int, campaign_id: str, account_id: str, kind: str
) -> dict[str, Any]:
    """The end user acknowledges the MESSAGE (``message``) or COUPON (``coupon``) state it
    waits in: the state completes and the account moves on."""
    campaign = get(session, tenant_id=tenant_id, campaign_id=campaign_id)
    account = account_service.get(session, tenant_id=tenant_id, account_id=account_id)
    now = clock.now()
    if not engine.running(campaign):
        raise Conflict(f"Campaign '{campaign_id}' is not running")
    if not engine.in_window(campaign, now):
        raise Conflict(f"Campaign '{campaign_id}' is outside its active window")
    defs = engine.state_defs(campaign)
    waiting = [sid for sid, s in defs.items() if s["type"] == kind]
    member = session.scalar(
        select(M)
        .where(
            M.tenant_id == tenant_id,
            M.campaign_pk == campaign.id,
            M.account_pk == account.id,
            M.state.in_(waiting),
            M.entered.is_(True),
        )
        .order_by(M.cycle.desc())
        .limit(1)
    )
    if member is None:
        what = "a message" if kind == "MESSAGE" else "a coupon"
        raise Conflict(
            f"Account '{account_id}' is not waiting for {what} in campaign '{campaign_id}': "
            "nothing to acknowledge"
        )
    state = defs[str(member.state)]
    if kind == "MESSAGE":
        session.execute(
            update(LoyaltyNotification)
            .where(
                LoyaltyNotification.tenant_id == tenant_id,
                LoyaltyNotification.campaign_pk == campaign.id,
                LoyaltyNotification.account_pk == account.id,
                LoyaltyNotification.type == "MESSAGE",
                LoyaltyNotification.state_id == state["id"],
                LoyaltyNotification.received_at.is_(None),
            )
            .values(received_at=now)
            .execution_options(synchronize_session=False)
        )
    engine.transition(session, campaign, state, where=[M.id == member.id], now=now)
    target = state.get("transitionTo")
    if target:
        engine.advance(session, campaign, now=now, pending=[target])
    session.refresh(member)
    return _my_entry(campaign, member)


# Contracts with the other loyalty modules ------------------------------------------------


def on_accounts_changed(session: Session, *, tenant_id: int, account_pks: Sequence[int]) -> None:
    """Accounts changed (import, profile, properties, tags, event): dynamic joins of running
    STANDARD campaigns, then ACCOUNT states the accounts now satisfy."""
    pks = sorted(set(account_pks))
    if not pks:
        return
    now = clock.now()
    pg = is_pg(session)
    for campaign in repo.running(session, tenant_id=tenant_id):
        if not engine.in_window(campaign, now):
            continue
        joined = 0
        if campaign.type == "STANDARD" and campaign.dynamic and campaign.enrolled_at is not None:
            condition = engine.account_filter(campaign, pg)
            for start in range(0, len(pks), engine.CHUNK):
                chunk = pks[start : start + engine.CHUNK]
                joined += engine.enroll(
                    session,
                    campaign,
                    where=[A.id.in_(chunk), condition],
                    cycle=0,
                    now=now,
                    dynamic_join=True,
                )
            _add_cnt(session, campaign, joined)
        has_account_states = any(s["type"] == "ACCOUNT" for s in campaign.states)
        if joined or has_account_states:
            engine.advance(
                session,
                campaign,
                now=now,
                pending=[campaign.states[0]["id"]] if joined else [],
                account_pks=pks if has_account_states else (),
            )


def _order_matches(state: dict[str, Any], order: OrderFact) -> bool:
    if state.get("minTotal") is not None and (
        order.total is None or Decimal(str(order.total)) < Decimal(str(state["minTotal"]))
    ):
        return False
    if state.get("storeNumber") is not None and order.store_number != state["storeNumber"]:
        return False
    if state.get("sku") is not None and state["sku"] not in order.skus:
        return False
    return not (state.get("couponUsed") and not order.coupon_code)


def on_orders(session: Session, *, tenant_id: int, orders: Sequence[OrderFact]) -> None:
    """Imported orders complete the ORDER states they satisfy (the member keeps the order
    number, so a WALLET state after it credits points that the order's cancellation can
    reverse). Returned/cancelled orders and orders placed before the account reached the
    state do not count."""
    placed = [o for o in orders if o.status not in UNDONE_STATUSES]
    if not placed:
        return
    now = clock.now()
    by_account: dict[int, list[OrderFact]] = {}
    for order in sorted(placed, key=lambda o: (o.ordered_at is None, engine.utc(o.ordered_at))):
        by_account.setdefault(order.account_pk, []).append(order)
    pks = sorted(by_account)
    for campaign in repo.running(session, tenant_id=tenant_id):
        if not engine.in_window(campaign, now):
            continue
        defs = {s["id"]: s for s in campaign.states if s["type"] == "ORDER"}
        if not defs:
            continue
        done: dict[str, list[tuple[int, str]]] = {}
        for start in range(0, len(pks), engine.CHUNK):
            chunk = pks[start : start + engine.CHUNK]
            rows = session.execute(
                select(M.id, M.account_pk, M.state, M.state_at).where(
                    M.tenant_id == tenant_id,
                    M.campaign_pk == campaign.id,
                    M.state.in_(list(defs)),
                    M.entered.is_(True),
                    M.account_pk.in_(chunk),
                )
            )
            for member_pk, account_pk, sid, state_at in rows:
                since = engine.utc(state_at)
                for order in by_account[account_pk]:
                    at = engine.utc(order.ordered_at)
                    if at is not None and since is not None and at < since:
                        continue
                    if _order_matches(defs[str(sid)], order):
                        done.setdefault(str(sid), []).append((member_pk, order.order_number))
                        break
        pending: list[str] = []
        for sid, completed in done.items():
            table = typed(Table, M.__table__)
            session.connection().execute(
                update(table)
                .where(table.c.id == bindparam("member_pk"))
                .values(order_number=bindparam("number")),
                [{"member_pk": pk, "number": number} for pk, number in completed],
            )
            ids = [pk for pk, _ in completed]
            for start in range(0, len(ids), engine.CHUNK):
                engine.transition(
                    session,
                    campaign,
                    defs[sid],
                    where=[M.id.in_(ids[start : start + engine.CHUNK])],
                    now=now,
                )
            if defs[sid].get("transitionTo"):
                pending.append(defs[sid]["transitionTo"])
        if pending:
            engine.advance(session, campaign, now=now, pending=pending)


def states_for_account(
    session: Session, *, tenant_id: int, account_pk: int
) -> list[dict[str, Any]]:
    """The account's campaigns as ``[{"id": campaign id, "state": state id | None}]`` (its
    latest run of each; None once finished)."""
    runs = repo.current_runs(session, tenant_id=tenant_id, account_pk=account_pk)
    return [{"id": c.campaign_id, "state": m.state} for c, m in runs]


def birthday_cycles(today: date, days_before: int) -> dict[int, list[int]]:
    """``{year: [birthday_md, …]}``: birthdays from today through ``days_before`` days ahead,
    keyed by the year of that occurrence. Feb 29 birthdays fall on Feb 28 in other years."""
    out: dict[int, set[int]] = {}
    for k in range(days_before + 1):
        day = today + timedelta(days=k)
        mds = out.setdefault(day.year, set())
        mds.add(day.month * 100 + day.day)
        if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
            mds.add(229)
    return {year: sorted(mds) for year, mds in out.items()}


def tick(session: Session, *, tenant_id: int, now: datetime) -> None:
    """Time-driven campaign work: STANDARD campaigns whose ``activeFrom`` was reached enroll
    their accounts; BIRTHDAY campaigns enroll accounts whose birthday is within
    ``loyalty_birthday_days_before`` days (once per birthday year). Idempotent."""
    pg = is_pg(session)
    days = get_settings().loyalty_birthday_days_before
    for campaign in repo.running(session, tenant_id=tenant_id):
        if not engine.in_window(campaign, now):
            continue
        if campaign.type == "STANDARD":
            if campaign.enrolled_at is None:
                _initial_enrollment(session, campaign, now)
            continue
        condition = engine.account_filter(campaign, pg)
        joined = 0
        for year, mds in birthday_cycles(now.date(), days).items():
            joined += engine.enroll(
                session,
                campaign,
                where=[A.birthday_md.in_(mds), condition],
                cycle=year,
                now=now,
            )
        if campaign.enrolled_at is None:
            campaign.enrolled_at = now
        if joined:
            campaign.cnt = engine.member_count(session, campaign)
            session.flush()
            engine.advance(session, campaign, now=now, pending=[campaign.states[0]["id"]])
