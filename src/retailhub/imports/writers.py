"""Set-based writes of one batch of valid records.

PostgreSQL: ``COPY`` into a temporary staging table, then one ``INSERT … SELECT … ON CONFLICT
DO UPDATE … WHERE content_hash differs RETURNING`` that classifies every row as inserted,
updated or (not returned) unchanged. SQLite: the batch's stored hashes are read under the
write lock the batch transaction already holds, then one ``executemany`` upsert.

Rows are written in key order so that two imports touching the same keys lock them in the
same order and cannot deadlock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
import psycopg
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from retailhub.imports.entities import EntitySpec
from retailhub.imports.issues import Issue
from retailhub.kit.sql import insert_rows, raw_connection, sqlite_value
from retailhub.models import OrderItem

Key = tuple[Any, ...]
INSERTED, UPDATED, UNCHANGED = "inserted", "updated", "unchanged"


@dataclass(slots=True)
class Prepared:
    """A valid record ready to write."""

    index: int
    key: Key
    record: dict[str, Any]  # the validated record, kept where a writer needs more of it
    data: str  # canonical JSON of what is stored
    hash: str
    columns: tuple[Any, ...]  # the entity's typed columns (EntitySpec.column_names)
    items: list[dict[str, Any]] | None = None  # an order's items, when it carries them
    outcome: str | Issue | None = None


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def upsert_rows(
    session: Session,
    *,
    table: str,
    key_columns: Sequence[str],
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> dict[Key, str]:
    """Upsert rows whose first columns are ``tenant_id`` + ``key_columns`` and which carry
    ``content_hash``; returns inserted/updated per changed key (absent: unchanged)."""
    if not rows:
        return {}
    nkey = 1 + len(key_columns)
    all_cols = list(columns)
    conflict = ", ".join(["tenant_id", *key_columns])
    updates = [c for c in all_cols[nkey:] if c != "created_at"]
    set_clause = ", ".join(f"{c} = EXCLUDED.{c}" for c in updates)
    if _is_pg(session):
        return _pg_upsert(session, table, key_columns, all_cols, conflict, set_clause, rows)
    return _sqlite_upsert(session, table, key_columns, all_cols, conflict, set_clause, rows)


def _pg_upsert(
    session: Session,
    table: str,
    key_columns: Sequence[str],
    cols: list[str],
    conflict: str,
    set_clause: str,
    rows: Sequence[tuple[Any, ...]],
) -> dict[Key, str]:
    """Read the batch's stored hashes first: unchanged rows cost nothing more, new rows are
    copied straight into the table, and only changed rows go through staging and upsert.
    A new row that another import inserted meanwhile makes the direct copy fail on the
    unique key; it is then undone to its savepoint and the rows take the upsert path."""
    nkey = 1 + len(key_columns)
    hash_pos = cols.index("content_hash")
    existing = _pg_existing_hashes(session, table, key_columns, rows[0][0], rows, nkey)
    fresh, changed = [], []
    for row in rows:
        stored = existing.get(row[1:nkey])
        if stored is None:
            fresh.append(row)
        elif stored != row[hash_pos]:
            changed.append(row)
    result: dict[Key, str] = {}
    if fresh:
        try:
            with session.begin_nested():
                _copy_rows(session, table, cols, fresh)
            result.update((row[1:nkey], INSERTED) for row in fresh)
        except (IntegrityError, psycopg.errors.UniqueViolation):
            changed.extend(fresh)
    if changed:
        result.update(
            _pg_staged_upsert(session, table, key_columns, cols, conflict, set_clause, changed)
        )
    return result


def _pg_existing_hashes(
    session: Session,
    table: str,
    key_columns: Sequence[str],
    tenant_id: int,
    rows: Sequence[tuple[Any, ...]],
    nkey: int,
) -> dict[Key, str]:
    arrays = [[row[i] for row in rows] for i in range(1, nkey)]
    keys = ", ".join(key_columns)
    unnest = ", ".join("%s::text[]" for _ in key_columns)
    with raw_connection(session).cursor() as cur:
        cur.execute(
            f"SELECT {keys}, content_hash FROM {table} "
            f"WHERE tenant_id = %s AND ({keys}) IN (SELECT * FROM unnest({unnest}))",
            (tenant_id, *arrays),
        )
        return {tuple(r[:-1]): r[-1] for r in cur.fetchall()}


def _copy_rows(
    session: Session, table: str, cols: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    statement = f"COPY {table} ({', '.join(cols)}) FROM STDIN"
    with raw_connection(session).cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _pg_staged_upsert(
    session: Session,
    table: str,
    key_columns: Sequence[str],
    cols: list[str],
    conflict: str,
    set_clause: str,
    rows: Sequence[tuple[Any, ...]],
) -> dict[Key, str]:
    stage = f"_stage_{table}"
    col_list = ", ".join(cols)
    keys = ", ".join(key_columns)
    with raw_connection(session).cursor() as cur:
        cur.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "
            f"SELECT {col_list} FROM {table} WITH NO DATA"
        )
    _copy_rows(session, stage, cols, rows)
    with raw_connection(session).cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} AS t ({col_list}) SELECT {col_list} FROM {stage} "
            f"ORDER BY {keys} "
            f"ON CONFLICT ({conflict}) DO UPDATE SET {set_clause} "
            f"WHERE t.content_hash <> EXCLUDED.content_hash "
            f"RETURNING {keys}, (t.xmax = 0)"
        )
        result = {tuple(r[:-1]): (INSERTED if r[-1] else UPDATED) for r in cur.fetchall()}
        cur.execute(f"TRUNCATE {stage}")
    return result


def _sqlite_upsert(
    session: Session,
    table: str,
    key_columns: Sequence[str],
    cols: list[str],
    conflict: str,
    set_clause: str,
    rows: Sequence[tuple[Any, ...]],
) -> dict[Key, str]:
    nkey = 1 + len(key_columns)
    hash_pos = cols.index("content_hash")
    tenant_id = rows[0][0]
    existing = _sqlite_existing_hashes(session, table, key_columns, tenant_id, rows, nkey)
    result: dict[Key, str] = {}
    todo = []
    for row in rows:
        key = tuple(row[1:nkey])
        stored = existing.get(key)
        if stored == row[hash_pos]:
            continue
        result[key] = INSERTED if stored is None else UPDATED
        todo.append(tuple(sqlite_value(v) for v in row))
    if todo:
        placeholders = ", ".join("?" for _ in cols)
        session.connection().exec_driver_sql(
            f"INSERT INTO {table} AS t ({', '.join(cols)}) VALUES ({placeholders}) "
            f"ON CONFLICT ({conflict}) DO UPDATE SET {set_clause} "
            f"WHERE t.content_hash <> EXCLUDED.content_hash",
            todo,
        )
    return result


def _sqlite_existing_hashes(
    session: Session,
    table: str,
    key_columns: Sequence[str],
    tenant_id: int,
    rows: Sequence[tuple[Any, ...]],
    nkey: int,
) -> dict[Key, str]:
    found: dict[Key, str] = {}
    keys = [tuple(r[1:nkey]) for r in rows]
    width = len(key_columns)
    cols = ", ".join(key_columns)
    for start in range(0, len(keys), 400):
        chunk = keys[start : start + 400]
        values = ", ".join("(" + ", ".join("?" * width) + ")" for _ in chunk)
        params = [tenant_id, *(v for k in chunk for v in k)]
        sql = (
            f"SELECT {cols}, content_hash FROM {table} WHERE tenant_id = ? "
            f"AND ({cols}) IN (VALUES {values})"
        )
        for r in session.connection().exec_driver_sql(sql, tuple(params)):
            found[tuple(r[:-1])] = r[-1]
    return found


# --- per entity -------------------------------------------------------------------------


def write_batch(
    session: Session, spec: EntitySpec, tenant_id: int, items: list[Prepared], now: datetime
) -> None:
    """Write valid, de-duplicated records; sets ``outcome`` on each item."""
    if spec.name == "Customer":
        _write_customers(session, spec, tenant_id, items, now)
    elif spec.name == "RatingSummary":
        _write_rating_summaries(session, tenant_id, items, now)
    elif spec.name == "OrderItem":
        _write_order_items(session, tenant_id, items, now)
    else:
        _write_simple(session, spec, tenant_id, items, now)
        if spec.name == "Order":
            _replace_order_items(session, tenant_id, items, now)


def _write_simple(
    session: Session, spec: EntitySpec, tenant_id: int, items: list[Prepared], now: datetime
) -> None:
    if not items:
        return
    cols = [
        "tenant_id",
        *spec.key_columns,
        *spec.column_names,
        "data",
        "content_hash",
        "created_at",
        "updated_at",
    ]
    rows = [(tenant_id, *it.key, *it.columns, it.data, it.hash, now, now) for it in items]
    changed = upsert_rows(
        session, table=spec.table, key_columns=spec.key_columns, columns=cols, rows=rows
    )
    for it in items:
        it.outcome = changed.get(it.key, UNCHANGED)


def _replace_order_items(
    session: Session, tenant_id: int, items: list[Prepared], now: datetime
) -> None:
    """An order that carries ``items`` replaces its items as a set, in the same transaction
    that changed the order (whose row lock keeps two imports of one order apart)."""
    replaced = [it for it in items if it.outcome != UNCHANGED and it.items is not None]
    if not replaced:
        return
    numbers = [it.key[0] for it in replaced]
    _lock_order_items(session, tenant_id)
    if _is_pg(session):
        with raw_connection(session).cursor() as cur:
            cur.execute(
                "DELETE FROM order_items WHERE tenant_id = %s AND order_number = ANY(%s)",
                (tenant_id, numbers),
            )
    else:
        for start in range(0, len(numbers), 500):
            session.execute(
                delete(OrderItem).where(
                    OrderItem.tenant_id == tenant_id,
                    OrderItem.order_number.in_(numbers[start : start + 500]),
                )
            )
    rows = []
    for it in replaced:
        for line_no, item in enumerate(it.items or (), start=1):
            rows.append(
                (
                    tenant_id,
                    it.key[0],
                    line_no,
                    item["sku"],
                    item.get("quantity"),
                    None if item.get("price") is None else Decimal(repr(item["price"])),
                    orjson.dumps(item, option=orjson.OPT_UTC_Z).decode(),
                    now,
                )
            )
    cols = [
        "tenant_id",
        "order_number",
        "line_no",
        "sku",
        "quantity",
        "price",
        "data",
        "created_at",
    ]
    insert_rows(session, "order_items", cols, rows)


# Writers of a tenant's order items take turns (PostgreSQL; SQLite has one writer anyway):
# line numbers are allocated from what the table holds.
_ORDER_ITEMS_LOCK = 7301


def _lock_order_items(session: Session, tenant_id: int) -> None:
    if _is_pg(session):
        session.connection().exec_driver_sql(
            "SELECT pg_advisory_xact_lock(%s, %s)", (_ORDER_ITEMS_LOCK, tenant_id)
        )


def _write_order_items(
    session: Session, tenant_id: int, items: list[Prepared], now: datetime
) -> None:
    """Items imported on their own, keyed by (order number, sku): an item whose order has
    a line with that sku updates the first such line; any other gets the order's next line
    number, whether or not the order itself was imported yet."""
    if not items:
        return
    _lock_order_items(session, tenant_id)
    numbers = sorted({it.key[0] for it in items})
    first: dict[Key, tuple[int, str | None]] = {}
    last_line: dict[str, int] = {}
    for number, sku, line_no, stored in _order_lines(session, tenant_id, numbers):
        if (number, sku) not in first:
            first[(number, sku)] = (line_no, stored)
        last_line[number] = max(line_no, last_line.get(number, 0))
    updates, inserts = [], []
    for it in sorted(items, key=lambda it: it.key):
        quantity, price = it.columns
        found = first.get(it.key)
        if found is None:
            line_no = last_line.get(it.key[0], 0) + 1
            last_line[it.key[0]] = line_no
            inserts.append(
                (tenant_id, it.key[0], line_no, it.key[1], quantity, price, it.data, it.hash, now)
            )
            it.outcome = INSERTED
        elif found[1] == it.hash:
            it.outcome = UNCHANGED
        else:
            updates.append((quantity, price, it.data, it.hash, tenant_id, it.key[0], found[0]))
            it.outcome = UPDATED
    if updates:
        cast = "::json" if _is_pg(session) else ""
        mark = "%s" if _is_pg(session) else "?"
        sql = (
            f"UPDATE order_items SET quantity = {mark}, price = {mark}, data = {mark}{cast}, "
            f"content_hash = {mark} WHERE tenant_id = {mark} AND order_number = {mark} "
            f"AND line_no = {mark}"
        )
        if _is_pg(session):
            with raw_connection(session).cursor() as cur:
                cur.executemany(sql, updates)
        else:
            session.connection().exec_driver_sql(
                sql, [tuple(sqlite_value(v) for v in row) for row in updates]
            )
    cols = [
        "tenant_id",
        "order_number",
        "line_no",
        "sku",
        "quantity",
        "price",
        "data",
        "content_hash",
        "created_at",
    ]
    insert_rows(session, "order_items", cols, inserts)


def _order_lines(
    session: Session, tenant_id: int, numbers: list[str]
) -> list[tuple[str, str, int, str | None]]:
    """(order number, sku, line number, content hash) of the orders' stored lines, in line
    order."""
    rows: list[tuple[str, str, int, str | None]] = []
    if _is_pg(session):
        with raw_connection(session).cursor() as cur:
            cur.execute(
                "SELECT order_number, sku, line_no, content_hash FROM order_items "
                "WHERE tenant_id = %s AND order_number = ANY(%s) ORDER BY order_number, line_no",
                (tenant_id, numbers),
            )
            rows.extend(cur.fetchall())
        return rows
    for start in range(0, len(numbers), 500):
        chunk = numbers[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        rows.extend(
            session.connection().exec_driver_sql(
                "SELECT order_number, sku, line_no, content_hash FROM order_items "
                f"WHERE tenant_id = ? AND order_number IN ({marks}) "
                "ORDER BY order_number, line_no",
                (tenant_id, *chunk),
            )
        )
    return rows


def _write_rating_summaries(
    session: Session, tenant_id: int, items: list[Prepared], now: datetime
) -> None:
    cols = [
        "tenant_id",
        "provider",
        "provider_product_id",
        "provider_rating_summary_id",
        "data",
        "content_hash",
        "created_at",
        "updated_at",
    ]
    rows = []
    for it in items:
        provider, product = it.key
        for summary in it.record.get("ratingSummaries") or []:
            data = orjson.dumps(
                {"provider": provider, "providerProductID": product, **summary},
                option=orjson.OPT_UTC_Z | orjson.OPT_SORT_KEYS,
            )
            rows.append(
                (
                    tenant_id,
                    provider,
                    product,
                    summary["providerRatingSummaryID"],
                    data.decode(),
                    content_hash(data),
                    now,
                    now,
                )
            )
    # The last occurrence of a summary id within one record wins.
    unique = {r[1:4]: r for r in rows}
    changed = upsert_rows(
        session,
        table="rating_summaries",
        key_columns=("provider", "provider_product_id", "provider_rating_summary_id"),
        columns=cols,
        rows=sorted(unique.values(), key=lambda r: r[1:4]),
    )
    for it in items:
        outcomes = {v for k, v in changed.items() if k[:2] == it.key}
        it.outcome = INSERTED if INSERTED in outcomes else UPDATED if outcomes else UNCHANGED


def _write_customers(
    session: Session, spec: EntitySpec, tenant_id: int, items: list[Prepared], now: datetime
) -> None:
    """Customers match on customerNumber first, then on email (lower-cased). A record whose
    number and email point at two different customers is rejected rather than merging them.
    Within a batch, a later record for the same customer supersedes the earlier one."""
    pg = _is_pg(session)
    conn = session.connection()
    mark = "%s" if pg else "?"
    if pg:
        # One customer batch per tenant at a time: matching reads, then writes.
        conn.exec_driver_sql(
            "SELECT pg_advisory_xact_lock(hashtext('customers'), %s)", (tenant_id,)
        )
    stored: dict[int, tuple[str | None, str | None, str]] = {}
    by_number: dict[str, int] = {}
    by_email: dict[str, int] = {}
    lookups = (
        ("customer_number", sorted({it.key[0] for it in items if it.key[0]})),
        ("email", sorted({it.key[1] for it in items if it.key[1]})),
    )
    for column, values in lookups:
        for start in range(0, len(values), 500):
            chunk = values[start : start + 500]
            sql = (
                f"SELECT id, customer_number, email, content_hash FROM customers "
                f"WHERE tenant_id = {mark} AND {column} IN ({', '.join(mark for _ in chunk)})"
            )
            for cid, number, email, digest in conn.exec_driver_sql(sql, (tenant_id, *chunk)):
                stored[cid] = (number, email, digest)
                if number:
                    by_number[number] = cid
                if email:
                    by_email[email] = cid

    # Within one group no two records share a number or an email (see pipeline.tokens),
    # but two can still reach one stored customer (one by number, one by email): the later
    # one is written in a second pass, after the first, so that it wins.
    winners: dict[tuple[str, int], Prepared] = {}
    later: list[Prepared] = []
    for it in items:
        number, email = it.key
        hit_n = by_number.get(number) if number else None
        hit_e = by_email.get(email) if email else None
        if hit_n is not None and hit_e is not None and hit_n != hit_e:
            it.outcome = Issue(
                "error",
                "email",
                "conflict",
                f"customerNumber '{number}' and email '{email}' belong to two different "
                "customers; they are not merged.",
                value=email,
            )
            continue
        target = hit_n if hit_n is not None else hit_e
        slot = ("id", target) if target is not None else ("new", it.index)
        if slot in winners:
            later.append(it)
        else:
            winners[slot] = it

    cols = list(spec.column_names)
    updates, inserts = [], []
    for (kind, ref), it in winners.items():
        number, email = it.key
        extra = it.columns
        if kind == "new":
            it.outcome = INSERTED
            inserts.append((tenant_id, number, email, *extra, it.data, it.hash, now, now))
            continue
        old_number, old_email, digest = stored[ref]
        if digest == it.hash:
            it.outcome = UNCHANGED
            continue
        it.outcome = UPDATED
        updates.append(
            (
                *extra,
                number or old_number,
                email or old_email,
                it.data,
                it.hash,
                now,
                ref,
            )
        )
    if updates:
        names = [*cols, "customer_number", "email", "data", "content_hash", "updated_at"]
        sql = f"UPDATE customers SET {', '.join(f'{c} = {mark}' for c in names)} WHERE id = {mark}"
        ordered = sorted(updates, key=lambda r: r[-1])
        params = ordered if pg else [tuple(sqlite_value(v) for v in row) for row in ordered]
        if pg:
            with raw_connection(session).cursor() as cur:
                cur.executemany(sql, params)
        else:
            conn.exec_driver_sql(sql, params)
    if inserts:
        all_cols = [
            "tenant_id",
            "customer_number",
            "email",
            *cols,
            "data",
            "content_hash",
            "created_at",
            "updated_at",
        ]
        insert_rows(session, "customers", all_cols, inserts)
    if later:
        _write_customers(session, spec, tenant_id, later, now)


def content_hash(data: bytes) -> str:
    import hashlib

    return hashlib.blake2b(data, digest_size=16).hexdigest()
