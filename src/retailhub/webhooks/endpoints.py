"""Webhook endpoint management: one implementation, two entrances. The operator manages every
tenant's endpoints under ``/admin/api/webhooks``; a tenant manages its own under
``/webhooks/v1/endpoints`` with its publisher key.

No ``from __future__ import annotations`` here: the routes are declared in a function whose
``Scope`` alias is local, and FastAPI can only resolve evaluated annotations of such."""

from collections.abc import Callable
from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from retailhub.cashback.auth import OperatorDep, PublisherDep
from retailhub.cashback.pages import PageDep
from retailhub.db import session_scope
from retailhub.deps import SessionDep
from retailhub.errors import DomainError
from retailhub.webhooks import service

router = APIRouter()


class EndpointIn(BaseModel):
    url: str = Field(description="Where events are POSTed (http or https).")
    eventTypes: list[str] = Field(
        default_factory=list, description="Event types to receive; empty: every type."
    )
    description: str | None = None


class OperatorEndpointIn(EndpointIn):
    tenant: str = Field(description="The slug of the tenant the endpoint belongs to.")


class EndpointPatch(BaseModel):
    url: str | None = None
    eventTypes: list[str] | None = None
    description: str | None = None
    enabled: bool | None = None


class ReplayIn(BaseModel):
    since: datetime = Field(description="Replay deliveries created at or after this instant.")
    status: str = Field(default="failed", description="Which deliveries: failed or delivered.")


def _operator_scope(_: OperatorDep) -> int | None:
    return None


def _tenant_scope(publisher: PublisherDep) -> int | None:
    return publisher.tenant_id


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _routes(prefix: str, tags: list[str | Enum], scope: Callable[..., int | None], op: str) -> None:
    """Register the management routes under ``prefix``; ``scope`` yields the caller's tenant
    (None: the operator, who sees every tenant). ``op`` prefixes the operation ids."""
    Scope = Annotated[int | None, Depends(scope)]

    def name(base: str) -> str:
        return op + base[0].upper() + base[1:] if op else base

    @router.get(prefix, tags=tags, operation_id=name("getWebhookEndpoints"))
    def list_endpoints(
        session: SessionDep,
        tenant_id: Scope,
        page: PageDep,
        tenant: Annotated[str | None, Query(description="Operator: one tenant's (slug).")] = None,
    ) -> dict[str, Any]:
        """The endpoints, by id (secrets are not listed: `GET …/{id}/secret`)."""
        return service.list_endpoints(
            session, tenant_id, page, tenant_slug=tenant if tenant_id is None else None
        )

    @router.get(prefix + "/{endpointId}", tags=tags, operation_id=name("getWebhookEndpoint"))
    def get_endpoint(session: SessionDep, tenant_id: Scope, endpointId: int) -> dict[str, Any]:
        return service.show(session, service.get(session, endpointId, tenant_id))

    @router.get(
        prefix + "/{endpointId}/secret", tags=tags, operation_id=name("getWebhookEndpointSecret")
    )
    def get_secret(session: SessionDep, tenant_id: Scope, endpointId: int) -> dict[str, Any]:
        """The `whsec_` secret the endpoint's requests are signed with."""
        return {"secret": service.get(session, endpointId, tenant_id).secret}

    @router.patch(prefix + "/{endpointId}", tags=tags, operation_id=name("updateWebhookEndpoint"))
    def patch_endpoint(tenant_id: Scope, endpointId: int, body: EndpointPatch) -> dict[str, Any]:
        """Change the fields sent. `enabled: true` re-enables a disabled endpoint: its
        waiting deliveries go out again."""
        with session_scope(write=True) as session:
            endpoint = service.get(session, endpointId, tenant_id)
            return service.update_endpoint(
                session, endpoint, body.model_dump(include=body.model_fields_set)
            )

    @router.delete(
        prefix + "/{endpointId}",
        tags=tags,
        status_code=204,
        operation_id=name("deleteWebhookEndpoint"),
    )
    def delete_endpoint(tenant_id: Scope, endpointId: int) -> Response:
        with session_scope(write=True) as session:
            service.remove(session, service.get(session, endpointId, tenant_id))
        return Response(status_code=204)

    @router.post(
        prefix + "/{endpointId}/rotate-secret",
        tags=tags,
        operation_id=name("rotateWebhookEndpointSecret"),
    )
    def rotate(tenant_id: Scope, endpointId: int) -> dict[str, Any]:
        """A new secret, used from the next request on (the old one stops at once)."""
        with session_scope(write=True) as session:
            return service.rotate_secret(session, service.get(session, endpointId, tenant_id))

    @router.get(
        prefix + "/{endpointId}/deliveries", tags=tags, operation_id=name("getWebhookDeliveries")
    )
    def list_deliveries(
        session: SessionDep,
        tenant_id: Scope,
        endpointId: int,
        page: PageDep,
        status: Annotated[str | None, Query(description="pending, delivered or failed")] = None,
    ) -> dict[str, Any]:
        """The delivery log, newest first."""
        endpoint = service.get(session, endpointId, tenant_id)
        return service.deliveries(session, endpoint, page, status)

    @router.get(
        prefix + "/{endpointId}/deliveries/{deliveryId}/attempts",
        tags=tags,
        operation_id=name("getWebhookDeliveryAttempts"),
    )
    def list_attempts(
        session: SessionDep, tenant_id: Scope, endpointId: int, deliveryId: int, page: PageDep
    ) -> dict[str, Any]:
        endpoint = service.get(session, endpointId, tenant_id)
        return service.attempts(session, endpoint, deliveryId, page)

    @router.post(
        prefix + "/{endpointId}/deliveries/{deliveryId}/replay",
        tags=tags,
        operation_id=name("replayWebhookDelivery"),
    )
    def replay_one(tenant_id: Scope, endpointId: int, deliveryId: int) -> dict[str, Any]:
        """Send the delivery again (same webhook-id), due now."""
        with session_scope(write=True) as session:
            endpoint = service.get(session, endpointId, tenant_id)
            return service.replay(session, endpoint, deliveryId)

    @router.post(
        prefix + "/{endpointId}/replay", tags=tags, operation_id=name("replayWebhookDeliveries")
    )
    def replay_many(tenant_id: Scope, endpointId: int, body: ReplayIn) -> dict[str, Any]:
        """Send again every delivery created since `since` in `status` (default failed)."""
        status = service.check_status(body.status, allowed=("failed", "delivered"))
        assert status is not None
        with session_scope(write=True) as session:
            endpoint = service.get(session, endpointId, tenant_id)
            return service.replay_since(session, endpoint, _aware(body.since), status)

    @router.post(prefix + "/{endpointId}/test", tags=tags, operation_id=name("testWebhookEndpoint"))
    def send_test(tenant_id: Scope, endpointId: int) -> dict[str, Any]:
        """Send a `WEBHOOK_TEST` event to this endpoint only."""
        with session_scope(write=True) as session:
            return service.send_test(session, service.get(session, endpointId, tenant_id))


_routes("/admin/api/webhooks", ["operator: webhooks"], _operator_scope, "admin")
_routes("/webhooks/v1/endpoints", ["webhooks"], _tenant_scope, "")


@router.post(
    "/admin/api/webhooks",
    tags=["operator: webhooks"],
    status_code=201,
    operation_id="adminCreateWebhookEndpoint",
)
def operator_create(_: OperatorDep, body: OperatorEndpointIn) -> dict[str, Any]:
    """Register an endpoint of the tenant `tenant` (slug); the answer shows its secret."""
    with session_scope(write=True) as session:
        tenant_id = service.tenant_by_slug(session, body.tenant)
        return _create(session, tenant_id, body)


@router.post(
    "/webhooks/v1/endpoints",
    tags=["webhooks"],
    status_code=201,
    operation_id="createWebhookEndpoint",
)
def tenant_create(publisher: PublisherDep, body: EndpointIn) -> dict[str, Any]:
    """Register an endpoint of the caller's; the answer shows its secret."""
    with session_scope(write=True) as session:
        return _create(session, publisher.tenant_id, body)


def _create(session: Session, tenant_id: int, body: EndpointIn) -> dict[str, Any]:
    if not body.url:
        raise DomainError("url: is required", field="url")
    return service.create(
        session,
        tenant_id=tenant_id,
        url=body.url,
        event_types=body.eventTypes,
        description=body.description,
    )
