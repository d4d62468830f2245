"""The publisher's tracking links, clicks, transactions and SKU details, and the networks'
postback."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse

from retailhub.cashback.auth import PublisherDep
from retailhub.cashback.pages import PageDep, page_body
from retailhub.cashback.tracking import clicks, params, repository, service, views
from retailhub.cashback.tracking.schemas import MAX_RECORDS, Status
from retailhub.db import session_scope
from retailhub.deps import SessionDep
from retailhub.errors import DomainError, NotFound
from retailhub.kit import clock

router = APIRouter()
CLICK_SORTS = {"clickDate": False, "clickDate,asc": False, "clickDate,desc": True}


@router.get(
    "/cashback/v1/stores/{store_id}/tracking",
    tags=["User Tracking"],
    operation_id="trackStore",
    status_code=302,
    response_class=RedirectResponse,
)
async def track(
    store_id: int,
    cid: Annotated[int, Query(description="The publisher id (from the trackingUrl).")],
    cp: Annotated[str, Query(min_length=1, max_length=96, description="The shopper id.")],
    sid: Annotated[str | None, Query(max_length=96, description="A SubID.")] = None,
    deal_id: Annotated[
        int | None, Query(alias="dealId", description="A deal of the store.")
    ] = None,
) -> RedirectResponse:
    """Record the shopper's click and redirect (302) to the store. Opened by the shopper's
    browser, so no API key: ``cid`` names the publisher. The redirect goes to the store's URL
    with ``{clickId}`` replaced by the click id, or with ``clickId=<id>`` added to its query;
    it is sent once the click is committed."""
    location = await clicks.record(
        click_id=uuid.uuid4().hex,
        tenant_id=cid,
        store_id=store_id,
        deal_id=deal_id,
        shopper_id=cp,
        sid=sid,
        click_date=clock.now(),
    )
    return RedirectResponse(location, status_code=302, headers={"Cache-Control": "no-store"})


@router.get("/cashback/v2/clicks", tags=["Click Data"], operation_id="getClickData")
def get_clicks(
    publisher: PublisherDep,
    session: SessionDep,
    page: PageDep,
    sort: str = "clickDate,desc",
    shopper_id: Annotated[str | None, Query(alias="shopperId")] = None,
    sid: str | None = None,
    store_id: Annotated[int | None, Query(alias="storeId")] = None,
    store_name: Annotated[str | None, Query(alias="storeName")] = None,
    click_date_start: Annotated[str | None, Query(alias="clickDateStart")] = None,
    click_date_end: Annotated[str | None, Query(alias="clickDateEnd")] = None,
) -> dict[str, Any]:
    """The publisher's clicks, newest first unless ``sort=clickDate,asc``. ``storeName``
    matches a case-insensitive part of the name; the click dates are inclusive UTC days."""
    if sort not in CLICK_SORTS:
        raise DomainError("sort: expected clickDate,asc or clickDate,desc", field="sort")
    where = repository.ClickFilter(
        shopper_id=shopper_id,
        sid=sid,
        store_id=store_id,
        store_name=store_name,
        start=params.day_start(click_date_start, "clickDateStart"),
        before=params.day_after(click_date_end, "clickDateEnd"),
    )
    total, rows = repository.clicks_page(
        session,
        tenant_id=publisher.tenant_id,
        where=where,
        descending=CLICK_SORTS[sort],
        offset=page.offset,
        limit=page.size,
    )
    content = [views.click(row, name) for row, name in rows]
    return page_body(content, page, total, sorted_=True)


@router.get("/cashback/v2/clicks/{click_id}", tags=["Click Data"], operation_id="getClick")
def get_click(click_id: str, publisher: PublisherDep, session: SessionDep) -> dict[str, Any]:
    """One of the publisher's clicks (another publisher's is 404)."""
    found = repository.click(session, tenant_id=publisher.tenant_id, click_id=click_id)
    if found is None:
        raise NotFound(f"Click '{click_id}' not found")
    return views.click(*found)


@router.get(
    "/cashback/v2/transactions",
    tags=["Transactions"],
    operation_id="getTransactions",
    response_class=views.ExactJSONResponse,
)
def get_transactions(
    publisher: PublisherDep,
    session: SessionDep,
    page: PageDep,
    ids: str | None = None,
    shopper_id: Annotated[str | None, Query(alias="shopperId")] = None,
    sid: str | None = None,
    store_id: Annotated[int | None, Query(alias="storeId")] = None,
    status: Status | None = None,
    currency: str | None = None,
    start_date: Annotated[str | None, Query(alias="startDate")] = None,
    end_date: Annotated[str | None, Query(alias="endDate")] = None,
    paid_start_date: Annotated[str | None, Query(alias="paidStartDate")] = None,
    paid_end_date: Annotated[str | None, Query(alias="paidEndDate")] = None,
    admin_comment: Annotated[str | None, Query(alias="adminComment")] = None,
    modified_since: Annotated[str | None, Query(alias="modifiedSince")] = None,
) -> views.ExactJSONResponse:
    """The publisher's transactions by id. Dates are inclusive UTC days (purchase date;
    ``paid…`` the payment date); ``adminComment`` matches a case-insensitive part;
    ``modifiedSince`` (ours) keeps those changed at or after an instant."""
    where = repository.TransactionFilter(
        tenant_id=publisher.tenant_id,
        ids=params.int_list(ids, "ids"),
        shopper_id=shopper_id,
        sids=params.str_list(sid),
        store_id=store_id,
        status=status,
        currency=currency,
        purchased_from=params.day_start(start_date, "startDate"),
        purchased_before=params.day_after(end_date, "endDate"),
        paid_from=params.day_start(paid_start_date, "paidStartDate"),
        paid_before=params.day_after(paid_end_date, "paidEndDate"),
        admin_comment=admin_comment,
        modified_since=(
            params.instant(modified_since, "modifiedSince") if modified_since else None
        ),
    )
    total, rows = repository.transactions_page(
        session, where=where, offset=page.offset, limit=page.size
    )
    content = [views.transaction(row, name) for row, name in rows]
    return views.ExactJSONResponse(page_body(content, page, total, sorted_=False))


@router.get(
    "/cashback/v2/transactions/{transaction_id}",
    tags=["Transactions"],
    operation_id="getTransaction",
    response_class=views.ExactJSONResponse,
)
def get_transaction(
    transaction_id: int, publisher: PublisherDep, session: SessionDep
) -> views.ExactJSONResponse:
    """One of the publisher's transactions (another publisher's is 404)."""
    found = repository.transaction(
        session, transaction_id=transaction_id, tenant_id=publisher.tenant_id
    )
    if found is None:
        raise NotFound(f"Transaction {transaction_id} not found")
    return views.ExactJSONResponse(views.transaction(*found))


@router.get("/cashback/v2/sku-details", tags=["SKU Details"], operation_id="getSkuDetails")
def get_sku_details(
    publisher: PublisherDep,
    session: SessionDep,
    page: PageDep,
    transaction_id: Annotated[int | None, Query(alias="transactionId")] = None,
    start_date: Annotated[str | None, Query(alias="startDate")] = None,
    end_date: Annotated[str | None, Query(alias="endDate")] = None,
) -> dict[str, Any]:
    """The SKU lines of the publisher's transactions (dates: inclusive UTC days of the
    purchase date), by transaction and line."""
    total, rows = repository.sku_page(
        session,
        tenant_id=publisher.tenant_id,
        transaction_id=transaction_id,
        purchased_from=params.day_start(start_date, "startDate"),
        purchased_before=params.day_after(end_date, "endDate"),
        offset=page.offset,
        limit=page.size,
    )
    content = [views.sku_detail(line, parent, name) for line, parent, name in rows]
    return page_body(content, page, total, sorted_=False)


def _postback(body: bytes, headers: dict[str, str], network_name: str | None) -> tuple[int, Any]:
    with session_scope(write=True) as session:
        network = service.authenticate_postback(
            session, name=network_name, body=body, headers=headers
        )
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise DomainError(f"The request body is not valid JSON: {exc}.") from exc
        actor = service.network_actor(network)
        if isinstance(payload, list):
            if not 1 <= len(payload) <= MAX_RECORDS:
                raise DomainError(f"The array must hold 1 to {MAX_RECORDS} records.")
            results = service.report_batch(session, payload, actor=actor, network_id=network.id)
            return 200, _summary(results)
        record = service.parse_record(payload)
        transaction, result = service.report(session, record, actor=actor, network_id=network.id)
        status = 201 if result == service.CREATED else 200
        return status, {"result": result, "transactionId": transaction.id}


def _summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    counts = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    for result in results:
        counts[result.get("result", "rejected")] += 1
    return {"received": len(results), **counts, "results": results}


@router.post("/cashback/postback", tags=["Postback"], operation_id="postTransactions")
async def postback(
    request: Request,
    x_network: Annotated[str | None, Header(alias="X-Network")] = None,
) -> views.ExactJSONResponse:
    """A network reports sales: one record or an array (see the description). Signed per
    Standard Webhooks with the network's secret; ``X-Network`` names the network."""
    body = await request.body()
    status, content = await run_in_threadpool(_postback, body, dict(request.headers), x_network)
    return views.ExactJSONResponse(content, status_code=status)
