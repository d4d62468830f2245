"""Order aggregates of accounts (``counters``, ``header.lastOrder``, venues, segment),
recomputed from the imported orders with set-based SQL.

Which orders belong to an account: an order whose ``customerNumber`` is the account's
``customer_number``; else (the order has no number, or no account has it) an order whose
``email`` is the account's email. Returned and Canceled orders
(``retailhub.loyalty.facts.UNDONE_STATUSES``) count for nothing: not in the counters, not in
``lastOrder``, not in the venues.

Counters (numbers): ``orders``/``value`` (lifetime), and ``orders_30d``/``value_30d``,
``orders_90d``/``value_90d``, ``orders_365d``/``value_365d`` over the days before ``now``
(orders without a date count only in the lifetime counters). Values are order totals
rounded to 4 decimals.

Segment: ``new`` (no orders), ``vip`` (``orders_365d`` >= 10 or ``value_365d`` >= 1000),
``active`` (last order at most 90 days ago), ``lapsing`` (at most 365 days ago), ``lapsed``
(older, or orders without a date).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from retailhub.kit.sql import is_pg
from retailhub.loyalty.facts import UNDONE_STATUSES
from retailhub.models import LoyaltyAccount, LoyaltyAccountVenue, Order

WINDOWS = (30, 90, 365)
COUNTER_KEYS = (
    "orders",
    "value",
    *(f"{kind}_{days}d" for days in WINDOWS for kind in ("orders", "value")),
)
ZERO_COUNTERS: dict[str, Any] = dict.fromkeys(COUNTER_KEYS, 0)

VIP_ORDERS_365D = 10
VIP_VALUE_365D = 1000
ACTIVE_DAYS = 90
LAPSING_DAYS = 365

# Accounts recomputed per statement (keeps IN lists under every driver's parameter limit).
CHUNK = 2000

ACCOUNTS = cast(Table, LoyaltyAccount.__table__)
ORDERS = cast(Table, Order.__table__)
VENUES = cast(Table, LoyaltyAccountVenue.__table__)


def _owned_orders(tenant_id: int, scope: Any) -> Subquery:
    """(account_pk, order_id) of the orders belonging to the accounts ``scope`` selects
    (``scope(accounts_alias)`` -> where clause)."""
    acc = ACCOUNTS.alias("own_acc")
    other = ACCOUNTS.alias("own_other")
    o = ORDERS
    by_number = (
        select(acc.c.id.label("account_pk"), o.c.id.label("order_id"))
        .join(
            o,
            and_(o.c.tenant_id == acc.c.tenant_id, o.c.customer_number == acc.c.customer_number),
        )
        .where(acc.c.tenant_id == tenant_id, scope(acc))
    )
    number_unclaimed = or_(
        o.c.customer_number.is_(None),
        ~exists().where(
            other.c.tenant_id == o.c.tenant_id, other.c.customer_number == o.c.customer_number
        ),
    )
    by_email = (
        select(acc.c.id.label("account_pk"), o.c.id.label("order_id"))
        .join(o, and_(o.c.tenant_id == acc.c.tenant_id, o.c.email == acc.c.email))
        .where(acc.c.tenant_id == tenant_id, scope(acc), number_unclaimed)
    )
    return union(by_number, by_email).subquery("owned")


def _counted_orders(tenant_id: int, scope: Any) -> Subquery:
    owned = _owned_orders(tenant_id, scope)
    o = ORDERS
    return (
        select(
            owned.c.account_pk,
            o.c.date_entered,
            o.c.order_total,
            o.c.store_number,
        )
        .join(o, o.c.id == owned.c.order_id)
        .where(or_(o.c.status.is_(None), o.c.status.not_in(sorted(UNDONE_STATUSES))))
        .subquery("counted")
    )


def _aggregates(tenant_id: int, scope: Any, now: datetime) -> Subquery:
    counted = _counted_orders(tenant_id, scope)
    acc = ACCOUNTS.alias("agg_acc")
    total = counted.c.order_total
    cols: list[Any] = [
        acc.c.id.label("pk"),
        func.count(counted.c.account_pk).label("orders"),
        func.round(func.coalesce(func.sum(total), 0), 4).label("value"),
    ]
    for days in WINDOWS:
        inside = counted.c.date_entered >= now - timedelta(days=days)
        cols.append(func.coalesce(func.sum(case((inside, 1), else_=0)), 0).label(f"o{days}"))
        cols.append(
            func.round(func.coalesce(func.sum(case((inside, total), else_=0)), 0), 4).label(
                f"v{days}"
            )
        )
    cols.append(func.max(counted.c.date_entered).label("last"))
    return (
        select(*cols)
        .select_from(acc.outerjoin(counted, counted.c.account_pk == acc.c.id))
        .where(acc.c.tenant_id == tenant_id, scope(acc))
        .group_by(acc.c.id)
        .subquery("agg")
    )


def _json_object(session: Session, pairs: list[tuple[str, Any]]) -> Any:
    args: list[Any] = []
    for key, value in pairs:
        args += [literal_column(f"'{key}'"), value]
    return func.jsonb_build_object(*args) if is_pg(session) else func.json_object(*args)


def _merge_counters(session: Session, obj: Any) -> Any:
    column = ACCOUNTS.c.counters
    return column.op("||")(obj) if is_pg(session) else func.json_patch(column, obj)


def segment_case(
    *, orders: Any, orders_365d: Any, value_365d: Any, last: Any, now: datetime
) -> ColumnElement[Any]:
    """The segment rule (see the module docstring) as a SQL CASE."""
    return case(
        (orders == 0, literal("new")),
        (or_(orders_365d >= VIP_ORDERS_365D, value_365d >= VIP_VALUE_365D), literal("vip")),
        (last >= now - timedelta(days=ACTIVE_DAYS), literal("active")),
        (last >= now - timedelta(days=LAPSING_DAYS), literal("lapsing")),
        else_=literal("lapsed"),
    )


def _update_counters(session: Session, tenant_id: int, scope: Any, now: datetime) -> None:
    agg = _aggregates(tenant_id, scope, now)
    pairs: list[tuple[str, Any]] = [("orders", agg.c.orders), ("value", agg.c.value)]
    for days in WINDOWS:
        pairs += [(f"orders_{days}d", agg.c[f"o{days}"]), (f"value_{days}d", agg.c[f"v{days}"])]
    session.execute(
        update(ACCOUNTS)
        .where(ACCOUNTS.c.id == agg.c.pk)
        .values(
            counters=_merge_counters(session, _json_object(session, pairs)),
            last_order_at=agg.c["last"],
            segment=segment_case(
                orders=agg.c.orders,
                orders_365d=agg.c.o365,
                value_365d=agg.c.v365,
                last=agg.c["last"],
                now=now,
            ),
        )
    )


def _rebuild_venues(session: Session, tenant_id: int, pks: Sequence[int], now: datetime) -> None:
    session.execute(
        delete(VENUES).where(VENUES.c.tenant_id == tenant_id, VENUES.c.account_pk.in_(pks))
    )
    counted = _counted_orders(tenant_id, lambda acc: acc.c.id.in_(pks))
    rows = (
        select(
            literal(tenant_id),
            counted.c.account_pk,
            counted.c.store_number,
            func.count(),
            func.max(counted.c.date_entered),
        )
        .where(counted.c.store_number.is_not(None))
        .group_by(counted.c.account_pk, counted.c.store_number)
    )
    session.execute(
        insert(VENUES).from_select(
            ["tenant_id", "account_pk", "venue", "orders", "last_order_at"], rows
        )
    )


def recompute(
    session: Session, *, tenant_id: int, account_pks: Sequence[int], now: datetime
) -> None:
    """Counters, lastOrder, segment and venues of these accounts, from their orders."""
    pks = sorted(set(account_pks))
    for start in range(0, len(pks), CHUNK):
        chunk = pks[start : start + CHUNK]
        _update_counters(session, tenant_id, lambda acc, c=chunk: acc.c.id.in_(c), now)
        _rebuild_venues(session, tenant_id, chunk, now)


def refresh_tenant(session: Session, *, tenant_id: int, now: datetime) -> None:
    """As time passes, orders leave the 30/90/365-day windows and accounts change segment:
    recompute every account of the tenant that has ordered (one statement). Accounts
    without orders are ``new`` with zero counters whatever the date."""
    _update_counters(session, tenant_id, lambda acc: acc.c.last_order_at.is_not(None), now)
