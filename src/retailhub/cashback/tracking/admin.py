"""The operator's side of tracking: affiliate networks, transactions (report, change, move
many, history) and each publisher's cashback settings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from retailhub.cashback.auth import OperatorDep
from retailhub.cashback.pages import PageDep, page_body
from retailhub.cashback.tracking import params, publisher_settings, repository, service, views
from retailhub.cashback.tracking.schemas import (
    NetworkCreate,
    Status,
    StatusMove,
    TransactionPatch,
    TransactionRecord,
)
from retailhub.db import session_scope
from retailhub.deps import SessionDep
from retailhub.errors import NotFound

router = APIRouter()
TAGS: list[str | Any] = ["Operator: transactions"]


@router.post("/admin/api/networks", tags=TAGS, operation_id="createNetwork", status_code=201)
def create_network(_: OperatorDep, body: NetworkCreate) -> dict[str, Any]:
    """Register an affiliate network. The answer carries its signing secret, shown only
    here and on rotation."""
    with session_scope(write=True) as session:
        network = service.create_network(session, name=body.name)
        return views.network(network, secret=True)


@router.get("/admin/api/networks", tags=TAGS, operation_id="getNetworks")
def get_networks(_: OperatorDep, session: SessionDep) -> list[dict[str, Any]]:
    """Every network (without secrets)."""
    return [views.network(row) for row in repository.networks(session)]


@router.post(
    "/admin/api/networks/{network_id}/rotate-secret",
    tags=TAGS,
    operation_id="rotateNetworkSecret",
)
def rotate_secret(network_id: int, _: OperatorDep) -> dict[str, Any]:
    """A new signing secret (shown once); the old one stops working at once."""
    with session_scope(write=True) as session:
        return views.network(service.rotate_secret(session, network_id=network_id), secret=True)


@router.post(
    "/admin/api/networks/{network_id}/deactivate",
    tags=TAGS,
    operation_id="deactivateNetwork",
)
def deactivate_network(network_id: int, _: OperatorDep) -> dict[str, Any]:
    """The network's postbacks are refused (401) from now on."""
    with session_scope(write=True) as session:
        return views.network(service.deactivate_network(session, network_id=network_id))


def _admin_view(session: Any, transaction_id: int) -> views.ExactJSONResponse:
    found = repository.transaction(session, transaction_id=transaction_id)
    if found is None:
        raise NotFound(f"Transaction {transaction_id} not found")
    return views.ExactJSONResponse(views.admin_transaction(*found))


@router.post(
    "/admin/api/transactions",
    tags=TAGS,
    operation_id="reportTransaction",
    response_class=views.ExactJSONResponse,
    status_code=201,
)
def report_transaction(_: OperatorDep, body: TransactionRecord) -> views.ExactJSONResponse:
    """Report a sale as the operator (the postback's record): 201 when it is new, 200 when
    its store's order was known (updated or unchanged)."""
    with session_scope(write=True) as session:
        transaction, result = service.report(session, body, actor=service.OPERATOR, network_id=None)
    with session_scope() as session:
        response = _admin_view(session, transaction.id)
    response.status_code = 201 if result == service.CREATED else 200
    return response


@router.get(
    "/admin/api/transactions",
    tags=TAGS,
    operation_id="getAllTransactions",
    response_class=views.ExactJSONResponse,
)
def get_transactions(
    _: OperatorDep,
    session: SessionDep,
    page: PageDep,
    tenant: Annotated[int | None, Query(description="A publisher (tenant) id.")] = None,
    ids: str | None = None,
    status: Status | None = None,
    store_id: Annotated[int | None, Query(alias="storeId")] = None,
    shopper_id: Annotated[str | None, Query(alias="shopperId")] = None,
    modified_since: Annotated[str | None, Query(alias="modifiedSince")] = None,
) -> views.ExactJSONResponse:
    """Every publisher's transactions, by id."""
    where = repository.TransactionFilter(
        tenant_id=tenant,
        ids=params.int_list(ids, "ids"),
        status=status,
        store_id=store_id,
        shopper_id=shopper_id,
        modified_since=(
            params.instant(modified_since, "modifiedSince") if modified_since else None
        ),
    )
    total, rows = repository.transactions_page(
        session, where=where, offset=page.offset, limit=page.size
    )
    content = [views.admin_transaction(row, name) for row, name in rows]
    return views.ExactJSONResponse(page_body(content, page, total, sorted_=False))


@router.post("/admin/api/transactions/status", tags=TAGS, operation_id="moveTransactions")
def move_transactions(_: OperatorDep, body: StatusMove) -> dict[str, list[int]]:
    """Move many transactions to one status, all or nothing (see the description)."""
    with session_scope(write=True) as session:
        return service.move_many(
            session,
            ids=body.ids,
            status=body.status,
            admin_comment=body.adminComment,
            actor=service.OPERATOR,
        )


@router.get(
    "/admin/api/transactions/{transaction_id}",
    tags=TAGS,
    operation_id="getAnyTransaction",
    response_class=views.ExactJSONResponse,
)
def get_transaction(
    transaction_id: int, _: OperatorDep, session: SessionDep
) -> views.ExactJSONResponse:
    """One transaction of any publisher."""
    return _admin_view(session, transaction_id)


@router.patch(
    "/admin/api/transactions/{transaction_id}",
    tags=TAGS,
    operation_id="changeTransaction",
    response_class=views.ExactJSONResponse,
)
def change_transaction(
    transaction_id: int, _: OperatorDep, body: TransactionPatch
) -> views.ExactJSONResponse:
    """Change a transaction's status (a lifecycle step), comment or sale amount (while
    PENDING; the commission is recomputed)."""
    with session_scope(write=True) as session:
        service.patch(
            session,
            transaction_id=transaction_id,
            status=body.status,
            admin_comment=body.adminComment,
            sale_amount=body.saleAmount,
            commission_name=body.commissionName,
            actor=service.OPERATOR,
        )
    with session_scope() as session:
        return _admin_view(session, transaction_id)


@router.get(
    "/admin/api/transactions/{transaction_id}/changes",
    tags=TAGS,
    operation_id="getTransactionChanges",
)
def get_changes(transaction_id: int, _: OperatorDep, session: SessionDep) -> list[dict[str, Any]]:
    """The transaction's history, oldest first (its creation included)."""
    if repository.transaction(session, transaction_id=transaction_id) is None:
        raise NotFound(f"Transaction {transaction_id} not found")
    return [views.change(row) for row in repository.changes(session, transaction_id)]


@router.get(
    "/admin/api/publishers/{slug}/cashback-settings",
    tags=TAGS,
    operation_id="getCashbackSettings",
)
def get_settings(slug: str, _: OperatorDep, session: SessionDep) -> dict[str, Any]:
    """The publisher's share, tier and wallet credit (defaults filled in)."""
    return publisher_settings.get(session, slug=slug).as_json()


@router.put(
    "/admin/api/publishers/{slug}/cashback-settings",
    tags=TAGS,
    operation_id="putCashbackSettings",
)
def put_settings(
    slug: str, _: OperatorDep, body: publisher_settings.SettingsBody
) -> dict[str, Any]:
    """Replace the publisher's cashback settings (new transactions use them)."""
    with session_scope(write=True) as session:
        return publisher_settings.put(session, slug=slug, body=body).as_json()
