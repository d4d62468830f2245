"""Imported customers and orders into loyalty accounts (the ``loyalty.sync`` job).

Each import batch that inserted or updated customers, orders or order items enqueues one
job, in the batch's own transaction, with the keys of those records. The job is idempotent
(it recomputes from the stored data), works set-based per batch, and runs one at a time
per tenant (an advisory lock on PostgreSQL, the write lock on SQLite).

Customers: the customer's account is the one already linked to it; else an unlinked
account with the customer's account id (``service.account_id_for``), customer number or
email, in that order (for instance one registered by token exchange, or one created by
an earlier order import); else a new account. Header fields (email, firstName, lastName,
birthdate, phone = mobilePhone, homePhone or workPhone) take the imported value when the
import carries one. The customer's Listrak ``loyalty.rewardsID`` becomes the account's
``card`` when it is a valid card id (3-64 of ``[a-zA-Z0-9._-]``) that no other account
holds, and ``loyalty.referralCode`` its ``mgm``.

Orders: the account with the order's customer number, else the one with its email, else
a new one (same id rule); then counters, lastOrder, venues and segment of those accounts
are recomputed (``counters``), and coupons, wallets and campaigns hear of the orders.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, exists, func, select, update
from sqlalchemy.orm import Session

from retailhub import tasks
from retailhub.db import session_scope
from retailhub.kit import clock
from retailhub.kit.sql import is_pg, upsert
from retailhub.loyalty.account import counters
from retailhub.loyalty.account.service import ACCOUNT_ID_RE, account_id_for, new_account_row
from retailhub.loyalty.campaign import service as campaign_service
from retailhub.loyalty.coupon import service as coupon_service
from retailhub.loyalty.facts import UNDONE_STATUSES, OrderFact
from retailhub.loyalty.wallet import service as wallet_service
from retailhub.models import Customer, Job, LoyaltyAccount, Order, OrderItem

TASK = "loyalty.sync"
ENTITIES = ("Customer", "Order", "OrderItem")
SYNC_LOCK = 727276
IN_CHUNK = 1000

ACCOUNTS = cast(Table, LoyaltyAccount.__table__)


def enqueue(session: Session, *, tenant_id: int, entity: str, keys: Sequence[Any]) -> None:
    """Queue the sync of these imported records (call in the transaction that wrote them).
    Keys: ``[customerNumber, email]`` pairs for customers, order numbers for orders,
    ``[orderNumber, sku]`` pairs for order items."""
    if entity not in ENTITIES or not keys:
        return
    if entity == "Customer":
        args_keys: list[Any] = [list(k) for k in keys]
    elif entity == "Order":
        args_keys = sorted({k[0] if isinstance(k, list | tuple) else k for k in keys})
    else:
        args_keys = sorted({k[0] if isinstance(k, list | tuple) else k for k in keys})
        entity = "Order"  # items only change an order's skus
    tasks.enqueue(session, TASK, {"entity": entity, "keys": args_keys}, tenant_id=tenant_id)


@tasks.task(TASK)
def run_sync(job: Job) -> None:
    assert job.tenant_id is not None
    with session_scope(write=True) as session:
        tasks.heartbeat(session, job)
        sync(session, tenant_id=job.tenant_id, entity=job.args["entity"], keys=job.args["keys"])


def sync(session: Session, *, tenant_id: int, entity: str, keys: Sequence[Any]) -> None:
    if is_pg(session):
        session.connection().exec_driver_sql(
            "SELECT pg_advisory_xact_lock(%s, %s)", (SYNC_LOCK, tenant_id)
        )
    now = clock.now()
    if entity == "Customer":
        pks = sync_customers(session, tenant_id=tenant_id, keys=keys, now=now)
    elif entity in ("Order", "OrderItem"):
        pks = sync_orders(session, tenant_id=tenant_id, order_numbers=keys, now=now)
    else:
        raise ValueError(f"no loyalty sync for {entity!r}")
    if pks:
        campaign_service.on_accounts_changed(session, tenant_id=tenant_id, account_pks=sorted(pks))


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = sorted(set(values))
    for start in range(0, len(items), IN_CHUNK):
        yield items[start : start + IN_CHUNK]


# Customers ---------------------------------------------------------------------------


def _phone(data: dict[str, Any]) -> str | None:
    for key in ("mobilePhone", "homePhone", "workPhone"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:32]
    return None


def _mgm(loyalty: dict[str, Any]) -> str | None:
    code = loyalty.get("referralCode")
    return code if isinstance(code, str) and 0 < len(code) <= 64 else None


def _birthdate(value: datetime | None) -> date | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.date()


def sync_customers(
    session: Session, *, tenant_id: int, keys: Sequence[Any], now: datetime
) -> set[int]:
    numbers = [k[0] for k in keys if k[0]]
    emails = [k[1] for k in keys if k[1]]
    found: dict[int, Customer] = {}
    pairs: list[tuple[Any, list[str]]] = [
        (Customer.customer_number, numbers),
        (Customer.email, emails),
    ]
    for column, values in pairs:
        for chunk in _chunks(values):
            for customer in session.scalars(
                select(Customer).where(Customer.tenant_id == tenant_id, column.in_(chunk))
            ):
                found[customer.id] = customer
    if not found:
        return set()
    customers = [found[cid] for cid in sorted(found)]

    linked: dict[int, int] = {}  # customer id -> account pk
    for chunk in _chunks(found):
        for pk, cid in session.execute(
            select(ACCOUNTS.c.id, ACCOUNTS.c.customer_id).where(
                ACCOUNTS.c.tenant_id == tenant_id, ACCOUNTS.c.customer_id.in_(chunk)
            )
        ):
            linked[cid] = pk

    unlinked = [c for c in customers if c.id not in linked]
    wanted = {c.id: account_id_for(c.customer_number, c.email) for c in unlinked}
    by_id: dict[str, int] = {}
    by_number: dict[str, int] = {}
    by_email: dict[str, int] = {}
    taken: set[int] = set(linked.values())
    lookups = (
        (ACCOUNTS.c.account_id, [w for w in wanted.values() if w], by_id),
        (
            ACCOUNTS.c.customer_number,
            [c.customer_number for c in unlinked if c.customer_number],
            by_number,
        ),
        (ACCOUNTS.c.email, [c.email for c in unlinked if c.email], by_email),
    )
    linked_elsewhere: set[str] = set()
    for column, values, index in lookups:
        for chunk in _chunks(values):
            rows = session.execute(
                select(column, ACCOUNTS.c.id, ACCOUNTS.c.customer_id)
                .where(ACCOUNTS.c.tenant_id == tenant_id, column.in_(chunk))
                .order_by(ACCOUNTS.c.id)
            )
            for value, pk, cid in rows:
                if cid is not None:
                    if column is ACCOUNTS.c.account_id:
                        linked_elsewhere.add(value)
                    continue
                index.setdefault(value, pk)

    inserts: list[dict[str, Any]] = []
    for customer in unlinked:
        candidates = (
            by_id.get(wanted[customer.id] or ""),
            by_number.get(customer.customer_number or ""),
            by_email.get(customer.email or ""),
        )
        pk = next((p for p in candidates if p is not None and p not in taken), None)
        if pk is not None:
            linked[customer.id] = pk
            taken.add(pk)
            continue
        account_id = wanted[customer.id]
        if account_id is None or account_id in linked_elsewhere:
            # The id is held by the account of another customer: a stable id of this one.
            account_id = "c-" + str(customer.id)
        linked_elsewhere.add(account_id)
        inserts.append(new_account_row(tenant_id, account_id, now, customer_id=customer.id))
    if inserts:
        session.execute(
            upsert(session, ACCOUNTS)
            .values(inserts)
            .on_conflict_do_nothing(index_elements=["tenant_id", "account_id"])
        )
        new_ids = [row["account_id"] for row in inserts]
        for chunk in _chunks(new_ids):
            for pk, cid in session.execute(
                select(ACCOUNTS.c.id, ACCOUNTS.c.customer_id).where(
                    ACCOUNTS.c.tenant_id == tenant_id, ACCOUNTS.c.account_id.in_(chunk)
                )
            ):
                if cid is not None:
                    linked[cid] = pk

    header_rows: list[dict[str, Any]] = []
    card_rows = []
    for customer in customers:
        pk = linked.get(customer.id)
        if pk is None:  # created concurrently under its id; the next sync links it
            continue
        born = _birthdate(customer.birthday)
        data = customer.data if isinstance(customer.data, dict) else {}
        block = data.get("loyalty")
        loyalty: dict[str, Any] = block if isinstance(block, dict) else {}
        header_rows.append(
            {
                "b_pk": pk,
                "b_customer_id": customer.id,
                "b_customer_number": customer.customer_number,
                "b_email": customer.email,
                "b_first_name": customer.first_name,
                "b_last_name": customer.last_name,
                "b_birthdate": born,
                "b_birthday_md": born.month * 100 + born.day if born else None,
                "b_phone": _phone(data),
                "b_mgm": _mgm(loyalty),
                "b_updated_at": now,
            }
        )
        card = loyalty.get("rewardsID") if loyalty else None
        if isinstance(card, str) and ACCOUNT_ID_RE.match(card):
            card_rows.append({"b_pk": pk, "b_card": card})
    _update_headers(session, header_rows)
    _assign_cards(session, tenant_id, card_rows)
    pks = {int(row["b_pk"]) for row in header_rows}
    counters.recompute(session, tenant_id=tenant_id, account_pks=sorted(pks), now=now)
    return pks


def _update_headers(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    keep = (
        "customer_number",
        "email",
        "first_name",
        "last_name",
        "birthdate",
        "birthday_md",
        "phone",
        "mgm",
    )
    values: dict[str, Any] = {
        c: func.coalesce(bindparam(f"b_{c}", type_=ACCOUNTS.c[c].type), ACCOUNTS.c[c]) for c in keep
    }
    values["customer_id"] = bindparam("b_customer_id")
    values["updated_at"] = bindparam("b_updated_at", type_=ACCOUNTS.c.updated_at.type)
    stmt = update(ACCOUNTS).where(ACCOUNTS.c.id == bindparam("b_pk")).values(values)
    session.connection().execute(stmt, sorted(rows, key=lambda r: r["b_pk"]))


def _assign_cards(session: Session, tenant_id: int, rows: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    unique = []
    for row in rows:
        if row["b_card"] not in seen:
            seen.add(row["b_card"])
            unique.append(row)
    if not unique:
        return
    other = ACCOUNTS.alias("card_holder")
    stmt = (
        update(ACCOUNTS)
        .where(
            ACCOUNTS.c.id == bindparam("b_pk"),
            ~exists().where(
                other.c.tenant_id == tenant_id,
                other.c.card == bindparam("b_card"),
                other.c.id != bindparam("b_pk"),
            ),
        )
        .values(card=bindparam("b_card"))
    )
    session.connection().execute(stmt, unique)


# Orders ------------------------------------------------------------------------------


def _index(session: Session, tenant_id: int, column: Any, values: Iterable[str]) -> dict[str, int]:
    """The lowest account pk per value of ``column``."""
    found: dict[str, int] = {}
    for chunk in _chunks(values):
        for value, pk in session.execute(
            select(column, func.min(ACCOUNTS.c.id))
            .where(ACCOUNTS.c.tenant_id == tenant_id, column.in_(chunk))
            .group_by(column)
        ):
            found[value] = pk
    return found


def sync_orders(
    session: Session, *, tenant_id: int, order_numbers: Sequence[str], now: datetime
) -> set[int]:
    orders: list[Any] = []
    for chunk in _chunks(order_numbers):
        orders += session.execute(
            select(
                Order.order_number,
                Order.customer_number,
                Order.email,
                Order.order_total,
                Order.store_number,
                Order.coupon_code,
                Order.status,
                Order.date_entered,
            ).where(Order.tenant_id == tenant_id, Order.order_number.in_(chunk))
        ).all()
    if not orders:
        return set()

    def resolve() -> tuple[dict[str, int], dict[str, int]]:
        return (
            _index(
                session,
                tenant_id,
                ACCOUNTS.c.customer_number,
                {o.customer_number for o in orders if o.customer_number},
            ),
            _index(session, tenant_id, ACCOUNTS.c.email, {o.email for o in orders if o.email}),
        )

    by_number, by_email = resolve()
    missing: dict[str, dict[str, Any]] = {}
    for o in orders:
        if by_number.get(o.customer_number or "") or by_email.get(o.email or ""):
            continue
        account_id = account_id_for(o.customer_number, o.email)
        if account_id is not None and account_id not in missing:
            missing[account_id] = new_account_row(
                tenant_id, account_id, now, customer_number=o.customer_number, email=o.email
            )
    if missing:
        stmt = upsert(session, ACCOUNTS).values([missing[k] for k in sorted(missing)])
        stmt = stmt.on_conflict_do_update(
            index_elements=["tenant_id", "account_id"],
            set_={
                "customer_number": func.coalesce(
                    ACCOUNTS.c.customer_number, stmt.excluded.customer_number
                ),
                "email": func.coalesce(ACCOUNTS.c.email, stmt.excluded.email),
            },
        )
        session.execute(stmt)
        by_number, by_email = resolve()

    owner: dict[str, int] = {}
    for o in orders:
        pk = by_number.get(o.customer_number or "") or by_email.get(o.email or "")
        if pk is not None:
            owner[o.order_number] = pk
    pks = set(owner.values())
    counters.recompute(session, tenant_id=tenant_id, account_pks=sorted(pks), now=now)

    skus: dict[str, list[str]] = {}
    for chunk in _chunks(owner):
        for number, sku in session.execute(
            select(OrderItem.order_number, OrderItem.sku)
            .where(OrderItem.tenant_id == tenant_id, OrderItem.order_number.in_(chunk))
            .order_by(OrderItem.order_number, OrderItem.line_no)
        ):
            skus.setdefault(number, []).append(sku)
    facts = [
        OrderFact(
            account_pk=owner[o.order_number],
            order_number=o.order_number,
            total=o.order_total,
            store_number=o.store_number,
            coupon_code=o.coupon_code,
            skus=tuple(skus.get(o.order_number, ())),
            status=o.status,
            ordered_at=o.date_entered,
        )
        for o in sorted(orders, key=lambda o: o.order_number)
        if o.order_number in owner
    ]
    live = [f for f in facts if f.status not in UNDONE_STATUSES]
    undone = [f.order_number for f in facts if f.status in UNDONE_STATUSES]
    if live:
        coupon_service.redeem_from_orders(session, tenant_id=tenant_id, orders=live)
    if undone:
        wallet_service.reverse_for_orders(session, tenant_id=tenant_id, order_numbers=undone)
    if live:
        campaign_service.on_orders(session, tenant_id=tenant_id, orders=live)
    return pks
