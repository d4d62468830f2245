"""Managing webhook endpoints and their delivery log, for the operator (every tenant) and for
a tenant (its own endpoints only: another tenant's endpoint is not found)."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from retailhub.cashback.pages import PageRequest, page_body
from retailhub.errors import DomainError, NotFound
from retailhub.kit import clock
from retailhub.kit.sql import affected
from retailhub.kit.timeutil import iso
from retailhub.models import Tenant, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from retailhub.webhooks import outbox
from retailhub.webhooks.events import EVENT_TYPES

# Sent by POST …/{id}/test to that endpoint only; not a type one can subscribe to.
WEBHOOK_TEST = "WEBHOOK_TEST"
STATUSES = ("pending", "delivered", "failed")
URL_MAX = 2048
DESCRIPTION_MAX = 200


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def check_url(value: Any) -> str:
    if not isinstance(value, str) or len(value) > URL_MAX:
        raise DomainError(f"url: must be a string of at most {URL_MAX} characters", field="url")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DomainError("url: must be an http or https URL with a host", field="url")
    return value


def check_event_types(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise DomainError("eventTypes: must be a list of event type names", field="eventTypes")
    for index, name in enumerate(value):
        if name not in EVENT_TYPES:
            field = f"eventTypes[{index}]"
            raise DomainError(
                f"{field}: unknown event type {name!r}; one of {', '.join(EVENT_TYPES)}",
                field=field,
            )
    return list(dict.fromkeys(value))


def check_description(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > DESCRIPTION_MAX:
        raise DomainError(
            f"description: must be a string of at most {DESCRIPTION_MAX} characters",
            field="description",
        )
    return value


def tenant_by_slug(session: Session, slug: Any) -> int:
    tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == slug)) if slug else None
    if tenant_id is None:
        raise DomainError(f"tenant: no tenant {slug!r}", field="tenant")
    return tenant_id


def render(endpoint: WebhookEndpoint, slug: str, *, with_secret: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": endpoint.id,
        "tenant": slug,
        "url": endpoint.url,
        "description": endpoint.description,
        "eventTypes": list(endpoint.event_types or []),
        "enabled": endpoint.enabled,
        "disabledReason": endpoint.disabled_reason,
        "disabledAt": iso(endpoint.disabled_at),
        "failingSince": iso(endpoint.failing_since),
        "createdAt": iso(endpoint.created_at),
        "updatedAt": iso(endpoint.updated_at),
    }
    if with_secret:
        body["secret"] = endpoint.secret
    return body


def _slug(session: Session, tenant_id: int) -> str:
    return session.scalar(select(Tenant.slug).where(Tenant.id == tenant_id)) or ""


def get(session: Session, endpoint_id: int, tenant_id: int | None) -> WebhookEndpoint:
    """The endpoint, if the caller may see it (``tenant_id`` None: the operator)."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or (tenant_id is not None and endpoint.tenant_id != tenant_id):
        raise NotFound(f"No webhook endpoint {endpoint_id}")
    return endpoint


def create(
    session: Session, *, tenant_id: int, url: Any, event_types: Any, description: Any
) -> dict[str, Any]:
    now = clock.now()
    endpoint = WebhookEndpoint(
        tenant_id=tenant_id,
        url=check_url(url),
        event_types=check_event_types(event_types if event_types is not None else []),
        description=check_description(description),
        secret=new_secret(),
        enabled=True,
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    session.flush()
    return render(endpoint, _slug(session, tenant_id), with_secret=True)


def list_endpoints(
    session: Session, tenant_id: int | None, page: PageRequest, *, tenant_slug: str | None = None
) -> dict[str, Any]:
    query = select(WebhookEndpoint, Tenant.slug).join(
        Tenant, Tenant.id == WebhookEndpoint.tenant_id
    )
    if tenant_id is not None:
        query = query.where(WebhookEndpoint.tenant_id == tenant_id)
    if tenant_slug is not None:
        query = query.where(Tenant.slug == tenant_slug)
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = session.execute(
        query.order_by(WebhookEndpoint.id).offset(page.offset).limit(page.size)
    ).all()
    return page_body([render(e, slug) for e, slug in rows], page, total, sorted_=False)


def show(session: Session, endpoint: WebhookEndpoint) -> dict[str, Any]:
    return render(endpoint, _slug(session, endpoint.tenant_id))


def update_endpoint(
    session: Session, endpoint: WebhookEndpoint, changes: dict[str, Any]
) -> dict[str, Any]:
    """Apply the fields present in ``changes``. Enabling an endpoint clears its disabled
    state and its run of failures; its waiting deliveries go out again."""
    if "url" in changes:
        endpoint.url = check_url(changes["url"])
    if "eventTypes" in changes:
        endpoint.event_types = check_event_types(changes["eventTypes"] or [])
    if "description" in changes:
        endpoint.description = check_description(changes["description"])
    if "enabled" in changes:
        enabled = changes["enabled"]
        if not isinstance(enabled, bool):
            raise DomainError("enabled: must be true or false", field="enabled")
        if enabled and not endpoint.enabled:
            endpoint.disabled_reason = None
            endpoint.disabled_at = None
            endpoint.failing_since = None
        elif not enabled and endpoint.enabled:
            endpoint.disabled_reason = "Disabled by request."
            endpoint.disabled_at = clock.now()
        endpoint.enabled = enabled
    endpoint.updated_at = clock.now()
    session.flush()
    return show(session, endpoint)


def remove(session: Session, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint; its deliveries and their attempts go with it (cascade)."""
    session.execute(delete(WebhookEndpoint).where(WebhookEndpoint.id == endpoint.id))


def rotate_secret(session: Session, endpoint: WebhookEndpoint) -> dict[str, Any]:
    endpoint.secret = new_secret()
    endpoint.updated_at = clock.now()
    session.flush()
    return render(endpoint, _slug(session, endpoint.tenant_id), with_secret=True)


# Delivery log -----------------------------------------------------------------------


def _render_delivery(delivery: WebhookDelivery, event: WebhookEvent) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "eventType": event.event_type,
        "msgId": event.msg_id,
        "orderingKey": delivery.ordering_key,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "lastStatusCode": delivery.last_status_code,
        "lastError": delivery.last_error,
        "nextAttemptAt": iso(delivery.next_attempt_at) if delivery.status == "pending" else None,
        "deliveredAt": iso(delivery.delivered_at),
        "createdAt": iso(delivery.created_at),
    }


def check_status(value: str | None, *, allowed: tuple[str, ...] = STATUSES) -> str | None:
    if value is not None and value not in allowed:
        raise DomainError(f"status: must be one of {', '.join(allowed)}", field="status")
    return value


def deliveries(
    session: Session, endpoint: WebhookEndpoint, page: PageRequest, status: str | None
) -> dict[str, Any]:
    """The endpoint's deliveries, newest first."""
    conditions = [WebhookDelivery.endpoint_id == endpoint.id]
    if check_status(status) is not None:
        conditions.append(WebhookDelivery.status == status)
    total = int(
        session.scalar(select(func.count()).select_from(WebhookDelivery).where(*conditions)) or 0
    )
    rows = session.execute(
        select(WebhookDelivery, WebhookEvent)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_pk)
        .where(*conditions)
        .order_by(WebhookDelivery.id.desc())
        .offset(page.offset)
        .limit(page.size)
    ).all()
    return page_body([_render_delivery(d, e) for d, e in rows], page, total, sorted_=False)


def _delivery(session: Session, endpoint: WebhookEndpoint, delivery_id: int) -> WebhookDelivery:
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint.id:
        raise NotFound(f"No delivery {delivery_id} of webhook endpoint {endpoint.id}")
    return delivery


def attempts(
    session: Session, endpoint: WebhookEndpoint, delivery_id: int, page: PageRequest
) -> dict[str, Any]:
    """Every HTTP attempt of a delivery, oldest first."""
    delivery = _delivery(session, endpoint, delivery_id)
    condition = WebhookAttempt.delivery_id == delivery.id
    total = int(
        session.scalar(select(func.count()).select_from(WebhookAttempt).where(condition)) or 0
    )
    rows = session.scalars(
        select(WebhookAttempt)
        .where(condition)
        .order_by(WebhookAttempt.id)
        .offset(page.offset)
        .limit(page.size)
    ).all()
    content = [
        {
            "id": a.id,
            "attemptedAt": iso(a.attempted_at),
            "statusCode": a.status_code,
            "error": a.error,
            "durationMs": a.duration_ms,
            "response": a.response_body,
        }
        for a in rows
    ]
    return page_body(content, page, total, sorted_=False)


def _replay_values() -> dict[str, Any]:
    """Pending again and due now, with a fresh retry schedule and retry window; the event
    (so its webhook-id) is the same."""
    return {
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": clock.now(),
        "delivered_at": None,
    }


def replay(session: Session, endpoint: WebhookEndpoint, delivery_id: int) -> dict[str, Any]:
    delivery = _delivery(session, endpoint, delivery_id)
    session.execute(
        update(WebhookDelivery).where(WebhookDelivery.id == delivery.id).values(**_replay_values())
    )
    session.refresh(delivery)
    event = session.get(WebhookEvent, delivery.event_pk)
    assert event is not None
    return _render_delivery(delivery, event)


def replay_since(
    session: Session, endpoint: WebhookEndpoint, since: datetime, status: str
) -> dict[str, Any]:
    """Replay the endpoint's deliveries created since ``since`` in ``status``."""
    replayed = affected(
        session,
        update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.status == status,
            WebhookDelivery.created_at >= since,
        )
        .values(**_replay_values()),
    )
    return {"replayed": replayed}


def send_test(session: Session, endpoint: WebhookEndpoint) -> dict[str, Any]:
    event = outbox.emit_to_endpoint(
        session,
        tenant_id=endpoint.tenant_id,
        endpoint_id=endpoint.id,
        event_type=WEBHOOK_TEST,
        data={"endpointId": endpoint.id, "message": "A test event from Retailhub."},
    )
    return {"msgId": event.msg_id, "eventType": WEBHOOK_TEST}
