"""Point wallets: an append-only ledger per account.

Entries: ``earn`` (+points, optional ``expires_at``), ``spend``, ``expire`` and ``reverse``
(negative, each naming the earn it draws on). The balance is the sum of the entries.

- A spend draws on the account's unexpired earns with points left, oldest first, writing one
  ``spend`` entry per earn drawn on. It may take at most the *available* points: the unexpired
  remainders, capped by the balance (a debt left by a reversal is paid back first).
- Expiry writes, for each earn past its ``expires_at``, one ``expire`` entry for its unspent
  remainder (set-based; idempotent).
- An order returned or cancelled reverses each earn tied to it (``order_number``) once, for
  its points less what already expired. If some of those points were spent, the balance goes
  negative: the member owes them, and later earns pay the debt before they can be spent.

Writers of one account are serialized: PostgreSQL row-locks the ``loyalty_accounts`` row
(``FOR UPDATE``); on SQLite the write transaction (``BEGIN IMMEDIATE``) already does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from retailhub.errors import Conflict, DomainError
from retailhub.kit import clock
from retailhub.kit.reactadmin import ListQuery
from retailhub.kit.sql import is_pg
from retailhub.loyalty.wallet import repository
from retailhub.models import LoyaltyWalletEntry

KINDS = ("earn", "spend", "expire", "reverse")
CHUNK = 500


def balance(session: Session, *, tenant_id: int, account_pk: int) -> int:
    """Sum of the account's entries."""
    return repository.balance(session, tenant_id=tenant_id, account_pk=account_pk)


def available(session: Session, *, tenant_id: int, account_pk: int) -> int:
    """Points a spend may take now: the unexpired remainders, capped by the balance."""
    earns = repository.spendable_earns(
        session, tenant_id=tenant_id, account_pk=account_pk, now=clock.now()
    )
    total = balance(session, tenant_id=tenant_id, account_pk=account_pk)
    return max(min(sum(r for _id, r in earns), total), 0)


def earn(
    session: Session,
    *,
    tenant_id: int,
    account_pk: int,
    points: int,
    expires_at: datetime | None = None,
    source: str | None = None,
    order_number: str | None = None,
) -> LoyaltyWalletEntry:
    """Credit ``points`` (≥ 1) that expire at ``expires_at`` (None: never)."""
    if points < 1:
        raise DomainError("points: must be at least 1", field="points")
    entry = LoyaltyWalletEntry(
        tenant_id=tenant_id,
        account_pk=account_pk,
        kind="earn",
        points=points,
        expires_at=expires_at,
        source=source,
        order_number=order_number,
        created_at=clock.now(),
    )
    session.add(entry)
    session.flush()
    return entry


def spend(
    session: Session,
    *,
    tenant_id: int,
    account_pk: int,
    points: int,
    source: str | None = None,
) -> list[LoyaltyWalletEntry]:
    """Debit ``points`` (≥ 1) from the oldest unexpired earns first; 409 when fewer are
    available. One ``spend`` entry per earn drawn on."""
    if points < 1:
        raise DomainError("points: must be at least 1", field="points")
    repository.lock_account(session, account_pk)
    now = clock.now()
    earns = repository.spendable_earns(session, tenant_id=tenant_id, account_pk=account_pk, now=now)
    total = repository.balance(session, tenant_id=tenant_id, account_pk=account_pk)
    can = max(min(sum(r for _id, r in earns), total), 0)
    if points > can:
        raise Conflict(f"points: {points} requested but only {can} available", field="points")
    entries: list[LoyaltyWalletEntry] = []
    left = points
    for earn_id, remainder in earns:
        if left == 0:
            break
        take = min(left, remainder)
        entries.append(
            LoyaltyWalletEntry(
                tenant_id=tenant_id,
                account_pk=account_pk,
                kind="spend",
                points=-take,
                earn_pk=earn_id,
                source=source,
                created_at=now,
            )
        )
        left -= take
    session.add_all(entries)
    session.flush()
    return entries


def remainders(session: Session, earn_ids: Sequence[int]) -> dict[int, int]:
    """Points left on each of these earns."""
    return repository.remainders(session, earn_ids)


def entries(
    session: Session, *, tenant_id: int, account_pk: int, query: ListQuery
) -> tuple[int, list[LoyaltyWalletEntry]]:
    """One page of the account's entries (filter ``kind``) and the total."""
    kind = query.filter.get("kind")
    if kind is not None and kind not in KINDS:
        raise DomainError(f"kind: must be one of {', '.join(KINDS)}", field="kind")
    return repository.page(
        session, tenant_id=tenant_id, account_pk=account_pk, query=query, kind=kind
    )


def reverse_for_orders(session: Session, *, tenant_id: int, order_numbers: Sequence[str]) -> None:
    """Orders returned or cancelled: reverse the points they earned (once each)."""
    numbers = sorted(set(order_numbers))
    now = clock.now()
    lock = is_pg(session)
    for start in range(0, len(numbers), CHUNK):
        repository.insert_reversals(
            session,
            tenant_id=tenant_id,
            order_numbers=numbers[start : start + CHUNK],
            now=now,
            lock=lock,
        )


def expire_due(session: Session, *, tenant_id: int, now: datetime) -> None:
    """Write ``expire`` entries for the unspent remainder of earns past ``expires_at``."""
    repository.insert_expiries(session, tenant_id=tenant_id, now=now, lock=is_pg(session))
