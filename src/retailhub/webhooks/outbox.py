"""Writing events: in the caller's transaction, so an event exists if and only if the change
that caused it was committed (the outbox). The dispatcher delivers them later.

An event is written once per tenant that has an enabled endpoint subscribed to its type, with
one delivery per such endpoint; an event nobody subscribed to is not written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from retailhub.kit import clock
from retailhub.kit.ids import sortable_id
from retailhub.models import WebhookDelivery, WebhookEndpoint, WebhookEvent


def new_msg_id() -> str:
    return "msg_" + sortable_id()


def subscribed_tenants(session: Session, event_type: str) -> set[int]:
    """Tenants with an enabled endpoint subscribed to ``event_type``: one read of the small
    endpoints table, so a producer of many events can skip all work when nobody listens."""
    return set(_subscribed(session, event_type, None))


def _subscribed(
    session: Session, event_type: str, tenant_ids: Iterable[int] | None
) -> dict[int, list[int]]:
    """Enabled endpoints subscribed to ``event_type``, by tenant (all tenants if None)."""
    query = select(WebhookEndpoint.id, WebhookEndpoint.tenant_id, WebhookEndpoint.event_types)
    query = query.where(WebhookEndpoint.enabled.is_(True))
    if tenant_ids is not None:
        query = query.where(WebhookEndpoint.tenant_id.in_(list(tenant_ids)))
    found: dict[int, list[int]] = {}
    for endpoint_id, tenant_id, types in session.execute(query.order_by(WebhookEndpoint.id)):
        if not types or event_type in types:
            found.setdefault(tenant_id, []).append(endpoint_id)
    return found


def _write(
    session: Session,
    *,
    tenant_id: int,
    endpoint_ids: list[int],
    event_type: str,
    data: Any,
    ordering_key: str | None,
) -> WebhookEvent:
    now = clock.now()
    event = WebhookEvent(
        msg_id=new_msg_id(),
        tenant_id=tenant_id,
        event_type=event_type,
        payload={"eventType": event_type, "data": data},
        ordering_key=ordering_key,
        created_at=now,
    )
    session.add(event)
    session.flush()
    session.add_all(
        WebhookDelivery(
            event_pk=event.id,
            endpoint_id=endpoint_id,
            tenant_id=tenant_id,
            ordering_key=ordering_key,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        for endpoint_id in endpoint_ids
    )
    session.flush()
    return event


def emit(
    session: Session,
    *,
    tenant_id: int,
    event_type: str,
    data: Any,
    ordering_key: str | None = None,
) -> WebhookEvent | None:
    """Record ``{"eventType": event_type, "data": data}`` for the tenant's subscribed
    endpoints. Events with the same ``ordering_key`` reach each endpoint in the order they
    were emitted. ``data`` must be JSON-ready (no Decimal or datetime)."""
    endpoints = _subscribed(session, event_type, [tenant_id]).get(tenant_id)
    if not endpoints:
        return None
    return _write(
        session,
        tenant_id=tenant_id,
        endpoint_ids=endpoints,
        event_type=event_type,
        data=data,
        ordering_key=ordering_key,
    )


def emit_to_subscribers(
    session: Session, *, event_type: str, data: Any, ordering_key: str | None = None
) -> int:
    """Record an event of the global catalog for every tenant subscribed to it; returns how
    many tenants get it."""
    by_tenant = _subscribed(session, event_type, None)
    for tenant_id, endpoints in by_tenant.items():
        _write(
            session,
            tenant_id=tenant_id,
            endpoint_ids=endpoints,
            event_type=event_type,
            data=data,
            ordering_key=ordering_key,
        )
    return len(by_tenant)


def emit_to_endpoint(
    session: Session, *, tenant_id: int, endpoint_id: int, event_type: str, data: Any
) -> WebhookEvent:
    """Record an event for one endpoint only, whatever it subscribed to (a test event)."""
    return _write(
        session,
        tenant_id=tenant_id,
        endpoint_ids=[endpoint_id],
        event_type=event_type,
        data=data,
        ordering_key=None,
    )


def emit_many(
    session: Session,
    *,
    tenant_id: int,
    event_type: str,
    items: Sequence[Any],
    ordering_key: str | None = None,
) -> int:
    """``emit`` for many events at once (bulk INSERTs, not one flush per event): for
    producers that write rows by the thousand. Returns how many events were written."""
    endpoints = _subscribed(session, event_type, [tenant_id]).get(tenant_id)
    if not endpoints or not items:
        return 0
    now = clock.now()
    event_ids = session.scalars(
        insert(WebhookEvent).returning(WebhookEvent.id, sort_by_parameter_order=True),
        [
            {
                "msg_id": new_msg_id(),
                "tenant_id": tenant_id,
                "event_type": event_type,
                "payload": {"eventType": event_type, "data": data},
                "ordering_key": ordering_key,
                "created_at": now,
            }
            for data in items
        ],
    ).all()
    session.execute(
        insert(WebhookDelivery),
        [
            {
                "event_pk": event_id,
                "endpoint_id": endpoint_id,
                "tenant_id": tenant_id,
                "ordering_key": ordering_key,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for event_id in event_ids
            for endpoint_id in endpoints
        ],
    )
    return len(event_ids)
