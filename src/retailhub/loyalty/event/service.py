"""Events posted for accounts: relations (with their mirror) and consents."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from retailhub.errors import DomainError, NotFound
from retailhub.kit import clock
from retailhub.loyalty.account import service as account_service
from retailhub.loyalty.campaign import service as campaign_service
from retailhub.loyalty.event.schemas import MIRROR, EventIn, parse_events
from retailhub.models import LoyaltyAccount, LoyaltyEvent


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _add_relation(account: LoyaltyAccount, other: str, kind: str, at: datetime) -> None:
    """Record ``kind`` towards ``other`` unless the account already has it (the first
    ``at`` is kept)."""
    relations = list(account.relations or [])
    if any(r.get("id") == other and r.get("type") == kind for r in relations):
        return
    relations.append({"id": other, "at": _iso(at), "type": kind})
    account.relations = relations


def post_events(session: Session, *, tenant_id: int, body: Any) -> list[dict[str, Any]]:
    """Validate every event, then apply them in order; answers one result per event."""
    now = clock.now()
    events = parse_events(body, now)
    by_card = _resolve_cards(session, tenant_id, events)
    for event in events:
        target = event.account or by_card[str(event.card)]
        if event.account is not None and event.card is not None:
            holder = by_card.get(event.card)
            if holder != event.account:
                where = f"[{event.index}].card"
                raise DomainError(
                    f"{where}: is not the card of account '{event.account}'", field=where
                )
        if target == event.other:
            where = f"[{event.index}].id"
            raise DomainError(f"{where}: an account cannot relate to itself", field=where)
        event.account = target
    ids = {str(e.account) for e in events} | {e.other for e in events if e.symmetric}
    account_service.ensure_accounts(session, tenant_id=tenant_id, account_ids=ids)
    accounts = account_service.lock_accounts(session, tenant_id=tenant_id, account_ids=ids)
    rows: list[dict[str, Any]] = []
    touched: set[int] = set()
    results = []
    for event in events:
        account = accounts[str(event.account)]
        _add_relation(account, event.other, event.type, event.ts)
        if event.symmetric:
            mirror = accounts[event.other]
            _add_relation(mirror, account.account_id, MIRROR[event.type], event.ts)
            touched.add(mirror.id)
        if event.scope == "ACCOUNT" and event.consents:
            account.consents = {**(account.consents or {}), **event.consents}
        account.last_event_at = now
        touched.add(account.id)
        rows.append(
            {
                "tenant_id": tenant_id,
                "account_pk": account.id,
                "type": event.type,
                "body": event.body(),
                "ts": event.ts,
                "created_at": now,
            }
        )
        results.append({"account": account.account_id, "type": event.type, "id": event.other})
    if rows:
        session.execute(insert(LoyaltyEvent), rows)
    session.flush()
    campaign_service.on_accounts_changed(session, tenant_id=tenant_id, account_pks=sorted(touched))
    return results


def _resolve_cards(session: Session, tenant_id: int, events: Sequence[EventIn]) -> dict[str, str]:
    cards = {e.card for e in events if e.card is not None}
    if not cards:
        return {}
    found = {
        card: account_id
        for card, account_id in session.execute(
            select(LoyaltyAccount.card, LoyaltyAccount.account_id).where(
                LoyaltyAccount.tenant_id == tenant_id, LoyaltyAccount.card.in_(sorted(cards))
            )
        )
        if card is not None
    }
    for event in events:
        if event.card is not None and event.card not in found and event.account is None:
            where = f"[{event.index}].card"
            raise NotFound(f"{where}: no account has card '{event.card}'", field=where)
    return found
