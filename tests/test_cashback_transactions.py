"""Transactions: commission math (pure and through HTTP), the status lifecycle (every legal
and illegal move), amount changes, history, bulk moves, webhook events, the shopper's wallet,
the publisher's reads (every filter, Spring pages, isolation) and concurrent moves through a
real server."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from retailhub.cashback.tracking import commission
from retailhub.db import session_scope
from retailhub.errors import DomainError
from retailhub.models import CashbackTransaction, WebhookEndpoint, WebhookEvent
from tests.cashback import Operator, Publisher
from tests.loyalty import Loyalty
from tests.test_cashback_tracking import make_click, make_store

STATUSES = ["PENDING", "AVAILABLE", "PAYMENT_INITIATED", "PAID", "NON_COMMISSIONABLE"]
LEGAL = {
    ("PENDING", "AVAILABLE"),
    ("PENDING", "NON_COMMISSIONABLE"),
    ("AVAILABLE", "PAYMENT_INITIATED"),
    ("AVAILABLE", "NON_COMMISSIONABLE"),
    ("PAYMENT_INITIATED", "PAID"),
}
# How to reach each status from PENDING.
PATHS = {
    "PENDING": [],
    "AVAILABLE": ["AVAILABLE"],
    "PAYMENT_INITIATED": ["AVAILABLE", "PAYMENT_INITIATED"],
    "PAID": ["AVAILABLE", "PAYMENT_INITIATED", "PAID"],
    "NON_COMMISSIONABLE": ["NON_COMMISSIONABLE"],
}


def record(click_id: str, **fields: Any) -> dict[str, Any]:
    body = {
        "clickId": click_id,
        "orderNumber": f"order-{uuid.uuid4().hex[:10]}",
        "saleAmount": "100.00",
        "currency": "USD",
        "purchaseDate": "2024-05-01T10:00:00Z",
    }
    body.update(fields)
    return body


def report(operator: Operator, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    response = operator.post("/transactions", body)
    assert response.status_code == status, response.text
    result: dict[str, Any] = response.json()
    return result


def move(operator: Operator, transaction_id: int, status: str, **extra: Any) -> Any:
    return operator.patch(f"/transactions/{transaction_id}", {"status": status, **extra})


def set_settings(operator: Operator, publisher: Publisher, **settings: Any) -> None:
    response = operator.put(f"/publishers/{publisher.slug}/cashback-settings", settings)
    assert response.status_code == 200, response.text


def subscribe(publisher: Publisher) -> None:
    with session_scope(write=True) as session:
        session.add(
            WebhookEndpoint(
                tenant_id=publisher.tenant_id,
                url="https://hooks.example/in",
                event_types=[],
                secret="whsec_" + "A" * 32,
                enabled=True,
            )
        )


STATUS_UPDATE = "TRANSACTION_STATUS_UPDATE"


def event(event_type: str, ids: list[int], **changes: str) -> dict[str, Any]:
    return {"eventType": event_type, "data": {"transactions": ids, "changes": changes}}


def events_of(publisher: Publisher) -> list[WebhookEvent]:
    with session_scope() as session:
        query = (
            select(WebhookEvent)
            .where(WebhookEvent.tenant_id == publisher.tenant_id)
            .order_by(WebhookEvent.id)
        )
        return list(session.scalars(query))


@pytest.fixture
def new_transaction(
    client: TestClient, publisher: Publisher, operator: Operator
) -> Callable[..., dict[str, Any]]:
    store_id, _ = make_store(commission="10")

    def create(**fields: Any) -> dict[str, Any]:
        click_id = make_click(client, publisher, store_id)
        return report(operator, record(click_id, **fields))

    return create


class TestCommissionMath:
    @pytest.mark.parametrize(
        ("sale", "value", "fmt", "currency", "expected"),
        [
            ("100", "5", "%", "USD", "5.0000"),
            ("18.49", "5", "%", "USD", "0.9245"),
            ("18.49", "2.5", "%", "USD", "0.4623"),  # 0.46225 → half-up
            ("0.01", "0.5", "%", "USD", "0.0001"),  # 0.00005 → half-up
            ("0.01", "0.49", "%", "USD", "0.0000"),
            ("250", "7.5", "USD", "USD", "7.5000"),
            ("250", "7.5", "usd", "USD", None),
            ("250", "7.5", "EUR", "USD", None),
        ],
    )
    def test_commission_amount(
        self, sale: str, value: str, fmt: str, currency: str, expected: str | None
    ) -> None:
        rate = commission.Rate(Decimal(value), fmt)
        if expected is None:
            with pytest.raises(DomainError) as caught:
                commission.commission_amount(Decimal(sale), currency, rate)
            assert caught.value.status == 422 and caught.value.field == "currency"
            return
        amount = commission.commission_amount(Decimal(sale), currency, rate)
        assert str(amount) == expected

    @pytest.mark.parametrize(
        ("amount", "share", "expected"),
        [
            ("5.0000", "1", "5.00"),
            ("0.9245", "0.70", "0.65"),  # 0.64715
            ("0.0150", "0.5", "0.01"),  # 0.0075 → half-up
            ("0.0149", "0.5", "0.01"),  # 0.00745
            ("0.0090", "0.5", "0.00"),  # 0.0045
            ("1.0050", "1", "1.01"),  # 1.005 → half-up, never banker's
            ("2.0000", "0", "0.00"),
        ],
    )
    def test_shopper_commission_rounds_half_up_to_cents(
        self, amount: str, share: str, expected: str
    ) -> None:
        assert str(commission.shopper_commission(Decimal(amount), Decimal(share))) == expected

    def test_a_named_detail_overrides_the_store_commission(self) -> None:
        details = [{"name": "Electronics", "commission": {"value": "2", "format": "%"}}]
        rate = commission.rate_for(Decimal("5"), "%", details, "Electronics")
        assert rate == commission.Rate(Decimal("2"), "%")
        assert commission.rate_for(Decimal("5"), "%", details, None).value == Decimal("5")
        with pytest.raises(DomainError) as caught:
            commission.rate_for(Decimal("5"), "%", details, "Books")
        assert caught.value.status == 422 and caught.value.field == "commissionName"


class TestCommissionThroughHttp:
    def test_percent_and_share_exact_in_json(
        self, client: TestClient, publisher: Publisher, operator: Operator
    ) -> None:
        set_settings(operator, publisher, share="0.70", tier="T2")
        store_id, name = make_store(commission="5")
        click_id = make_click(client, publisher, store_id, cp="shopper-9", sid="web")
        created = report(operator, record(click_id, saleAmount=18.49, orderNumber="A-1"))
        assert created["commissionAmount"] == 0.9245
        assert created["share"] == "0.7000" or Decimal(created["share"]) == Decimal("0.7")
        response = publisher.get(f"/v2/transactions/{created['id']}")
        assert '"saleAmount":18.49' in response.text
        assert '"shopperCommission":0.65' in response.text
        body = response.json()
        assert body["tier"] == "T2" and body["storeName"] == name and body["storeId"] == store_id
        assert body["shopperId"] == "shopper-9" and body["sid"] == "web"
        assert body["orderNumber"] == "A-1" and body["status"] == "PENDING"
        assert body["pendingDate"] is not None and body["availabilityDate"] is None
        assert body["isSkuDetailsBrand"] is False
        click = publisher.get(f"/v2/clicks/{click_id}").json()
        assert click["transactionId"] == str(created["id"])

    def test_fixed_commission_and_details(
        self, client: TestClient, publisher: Publisher, operator: Operator
    ) -> None:
        details = [{"name": "Books", "commission": {"value": "1.5", "format": "%"}}]
        store_id, _ = make_store(commission="4.25", fmt="USD", details=details)
        click_id = make_click(client, publisher, store_id)
        fixed = report(operator, record(click_id, saleAmount="80"))
        assert fixed["shopperCommission"] == 4.25
        detailed = report(operator, record(click_id, saleAmount="80", commissionName="Books"))
        assert detailed["shopperCommission"] == 1.2
        other_currency = operator.post("/transactions", record(click_id, currency="EUR"))
        assert other_currency.status_code == 422
        assert other_currency.json()["field"] == "currency"
        unknown = operator.post("/transactions", record(click_id, commissionName="Toys"))
        assert unknown.status_code == 422 and unknown.json()["field"] == "commissionName"

    def test_settings_defaults_and_validation(
        self, publisher: Publisher, operator: Operator
    ) -> None:
        path = f"/publishers/{publisher.slug}/cashback-settings"
        assert operator.get(path).json() == {
            "share": "1",
            "tier": "T1",
            "walletCredit": {"enabled": False, "pointsPerUnit": "100"},
        }
        for bad in ({"share": "1.5"}, {"share": "-0.1"}, {"tier": ""}, {"other": 1}):
            response = operator.put(path, bad)
            assert response.status_code == 400, bad
        assert operator.get("/publishers/no-such-publisher/cashback-settings").status_code == 404
        stored = operator.put(path, {"share": "0.5", "walletCredit": {"enabled": True}}).json()
        assert stored["share"] == "0.5" and stored["walletCredit"]["enabled"] is True
        assert operator.get(path).json() == stored


class TestLifecycle:
    @pytest.mark.parametrize(
        ("old", "new"), [(old, new) for old in STATUSES for new in STATUSES if old != new]
    )
    def test_every_move(
        self, operator: Operator, new_transaction: Callable[..., dict[str, Any]], old: str, new: str
    ) -> None:
        created = new_transaction()
        for step in PATHS[old]:
            assert move(operator, created["id"], step, adminComment="why").status_code == 200
        response = move(operator, created["id"], new, adminComment="because")
        if (old, new) in LEGAL:
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["status"] == new
            assert (body["availabilityDate"] is not None) == (
                new == "AVAILABLE" or old in ("AVAILABLE", "PAYMENT_INITIATED")
            )
            assert (body["paymentDate"] is not None) == (new == "PAID")
        else:
            assert response.status_code == 409, response.text
            assert response.json()["message"] == f"status: cannot move from {old} to {new}"
            assert operator.get(f"/transactions/{created['id']}").json()["status"] == old

    def test_same_status_changes_nothing(
        self, operator: Operator, new_transaction: Callable[..., dict[str, Any]]
    ) -> None:
        created = new_transaction()
        assert move(operator, created["id"], "PENDING").status_code == 200
        assert len(operator.get(f"/transactions/{created['id']}/changes").json()) == 1

    def test_non_commissionable_needs_a_comment(
        self, operator: Operator, new_transaction: Callable[..., dict[str, Any]]
    ) -> None:
        created = new_transaction()
        response = move(operator, created["id"], "NON_COMMISSIONABLE")
        assert response.status_code == 400 and response.json()["field"] == "adminComment"
        done = move(operator, created["id"], "NON_COMMISSIONABLE", adminComment="Returned")
        assert done.json()["adminComment"] == "Returned"

    def test_unknown_transaction_is_404(self, operator: Operator) -> None:
        assert move(operator, 987_654_321, "AVAILABLE").status_code == 404

    def test_amounts_change_only_while_pending_and_are_recorded(
        self, operator: Operator, new_transaction: Callable[..., dict[str, Any]], clock: Any
    ) -> None:
        created = new_transaction()
        changed = operator.patch(f"/transactions/{created['id']}", {"saleAmount": "120.50"})
        assert changed.status_code == 200
        assert changed.json()["shopperCommission"] == 12.05
        assert changed.json()["commissionAmount"] == 12.05
        assert move(operator, created["id"], "AVAILABLE").status_code == 200
        late = operator.patch(f"/transactions/{created['id']}", {"saleAmount": "1"})
        assert late.status_code == 409 and late.json()["field"] == "saleAmount"
        history = operator.get(f"/transactions/{created['id']}/changes").json()
        assert [(h["oldStatus"], h["newStatus"]) for h in history] == [
            (None, "PENDING"),
            ("PENDING", "PENDING"),
            ("PENDING", "AVAILABLE"),
        ]
        assert history[1]["oldSaleAmount"] == "100.00"
        assert history[1]["newSaleAmount"] == "120.50"
        assert history[1]["oldShopperCommission"] == "10.00"
        assert history[1]["newShopperCommission"] == "12.05"
        assert {h["actor"] for h in history} == {"operator"}
        assert all(h["changedAt"].endswith("Z") for h in history)


class TestBulkMoves:
    def test_all_or_nothing(
        self, operator: Operator, new_transaction: Callable[..., dict[str, Any]]
    ) -> None:
        first, second, third = (new_transaction()["id"] for _ in range(3))
        for tid in (first, second):
            assert move(operator, tid, "AVAILABLE").status_code == 200
        refused = operator.post(
            "/transactions/status", {"ids": [first, second, third], "status": "PAYMENT_INITIATED"}
        )
        assert refused.status_code == 409
        assert (
            f"transaction {third}: cannot move from PENDING to PAYMENT_INITIATED"
            in (refused.json()["message"])
        )
        assert operator.get(f"/transactions/{first}").json()["status"] == "AVAILABLE"
        missing = operator.post(
            "/transactions/status", {"ids": [first, 987_654_321], "status": "PAID"}
        )
        assert missing.status_code == 404 and missing.json()["field"] == "ids"
        done = operator.post(
            "/transactions/status", {"ids": [second, first], "status": "PAYMENT_INITIATED"}
        )
        assert done.status_code == 200
        assert done.json() == {"updated": sorted([first, second]), "unchanged": []}
        again = operator.post(
            "/transactions/status", {"ids": [first], "status": "PAYMENT_INITIATED"}
        )
        assert again.json() == {"updated": [], "unchanged": [first]}


class TestWebhookEvents:
    def test_transaction_events_are_written_in_order(
        self,
        client: TestClient,
        publisher: Publisher,
        other_publisher: Publisher,
        operator: Operator,
    ) -> None:
        subscribe(publisher)
        subscribe(other_publisher)
        store_id, _ = make_store(commission="10")
        mine = [
            report(operator, record(make_click(client, publisher, store_id)))["id"]
            for _ in range(2)
        ]
        theirs = report(operator, record(make_click(client, other_publisher, store_id)))["id"]
        operator.patch(f"/transactions/{mine[0]}", {"saleAmount": "18.49"})
        move(operator, mine[1], "AVAILABLE")
        operator.post("/transactions/status", {"ids": [*mine, theirs], "status": "AVAILABLE"})
        operator.post("/transactions/status", {"ids": mine, "status": "PAYMENT_INITIATED"})
        payloads = [(e.payload, e.ordering_key) for e in events_of(publisher)]
        key = f"transactions:{publisher.tenant_id}"
        assert {k for _p, k in payloads} == {key}
        assert [p for p, _k in payloads] == [
            event("NEW_TRANSACTION", [mine[0]], newStatus="PENDING"),
            event("NEW_TRANSACTION", [mine[1]], newStatus="PENDING"),
            event(
                "CASHBACK_VALUE_CHANGE",
                [mine[0]],
                newCashbackValue="1.85",
                oldCashbackValue="10.00",
                newSaleAmount="18.49",
                oldSaleAmount="100.00",
            ),
            event(
                "TRANSACTION_STATUS_UPDATE", [mine[1]], newStatus="AVAILABLE", oldStatus="PENDING"
            ),
            event(
                "TRANSACTION_STATUS_UPDATE", [mine[0]], newStatus="AVAILABLE", oldStatus="PENDING"
            ),
            event(
                "TRANSACTION_STATUS_UPDATE",
                mine,
                newStatus="PAYMENT_INITIATED",
                oldStatus="AVAILABLE",
            ),
        ]
        other = [e.payload["eventType"] for e in events_of(other_publisher)]
        assert other == ["NEW_TRANSACTION", "TRANSACTION_STATUS_UPDATE"]


class TestWallet:
    def test_available_credits_and_non_commissionable_reverses_once(
        self,
        client: TestClient,
        publisher: Publisher,
        operator: Operator,
        loyalty: Loyalty,
    ) -> None:
        set_settings(
            operator,
            publisher,
            share="0.5",
            walletCredit={"enabled": True, "pointsPerUnit": "100"},
        )
        store_id, _ = make_store(commission="3")
        click_id = make_click(client, publisher, store_id, cp="member-42")
        created = report(operator, record(click_id, saleAmount="33.33"))
        # 33.33 * 3% = 0.9999 → * 0.5 = 0.49995 → 0.50 → 50 points
        assert created["shopperCommission"] == 0.5
        wallet = "/loyalty-api/api/account/member-42/wallet"

        def balance() -> int:
            response = client.get(wallet, headers=loyalty.headers)
            assert response.status_code == 200, response.text
            return int(response.json()["balance"])

        available = move(operator, created["id"], "AVAILABLE").json()
        assert available["walletPoints"] == 50
        assert balance() == 50
        reversed_ = move(operator, created["id"], "NON_COMMISSIONABLE", adminComment="Returned")
        assert reversed_.status_code == 200
        assert balance() == 0

    def test_no_credit_when_disabled(
        self, client: TestClient, publisher: Publisher, operator: Operator
    ) -> None:
        store_id, _ = make_store(commission="10")
        created = report(operator, record(make_click(client, publisher, store_id)))
        assert move(operator, created["id"], "AVAILABLE").json()["walletPoints"] is None


class TestPublisherReads:
    @pytest.fixture
    def seeded(
        self, client: TestClient, publisher: Publisher, operator: Operator, clock: Any
    ) -> dict[str, Any]:
        from datetime import UTC, datetime

        first, _ = make_store(commission="10")
        second, _ = make_store(commission="10")
        rows = [
            (first, "anna", "web", "USD", "2024-01-10T12:00:00Z", None),
            (first, "bob", "app", "EUR", "2024-01-11T00:00:00Z", "Late report"),
            (second, "anna", "app", "USD", "2024-01-12T23:59:59Z", None),
            (second, "carl", None, "USD", "2024-01-13T00:00:00Z", "missing CASHBACK value"),
        ]
        ids = []
        clock.freeze(datetime(2024, 2, 1, tzinfo=UTC))
        for store_id, cp, sid, currency, when, comment in rows:
            extra = {"sid": sid} if sid else {}
            click_id = make_click(client, publisher, store_id, cp=cp, **extra)
            fields: dict[str, Any] = {"currency": currency, "purchaseDate": when}
            if comment:
                fields["adminComment"] = comment
            if store_id == second and cp == "anna":
                fields["skus"] = [
                    {
                        "sku": "S-1",
                        "itemName": "Pen",
                        "category": "Office",
                        "quantity": 2,
                        "price": "1.5",
                    },
                    {
                        "sku": "S-2",
                        "itemName": "Ink",
                        "category": "Office",
                        "quantity": 1,
                        "price": 20.54,
                    },
                ]
            fields["saleAmount"] = "10" if currency == "USD" else "20"
            created = operator.post("/transactions", record(click_id, **fields))
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
        clock.freeze(datetime(2024, 2, 5, tzinfo=UTC))
        operator.post("/transactions/status", {"ids": ids[:2], "status": "AVAILABLE"})
        operator.post("/transactions/status", {"ids": ids[:2], "status": "PAYMENT_INITIATED"})
        clock.freeze(datetime(2024, 2, 7, 8, tzinfo=UTC))
        operator.post("/transactions/status", {"ids": [ids[0]], "status": "PAID"})
        return {"ids": ids, "first": first, "second": second}

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({}, [0, 1, 2, 3]),
            ({"ids": "IDS0,IDS2"}, [0, 2]),
            ({"shopperId": "anna"}, [0, 2]),
            ({"sid": "app"}, [1, 2]),
            ({"sid": "web,app"}, [0, 1, 2]),
            ({"storeId": "SECOND"}, [2, 3]),
            ({"status": "PENDING"}, [2, 3]),
            ({"status": "PAID"}, [0]),
            ({"currency": "eur"}, [1]),
            ({"startDate": "2024-01-11"}, [1, 2, 3]),
            ({"endDate": "2024-01-12"}, [0, 1, 2]),
            ({"startDate": "2024-01-11T00:00:00Z", "endDate": "2024-01-12T00:00:00Z"}, [1, 2]),
            ({"paidStartDate": "2024-02-07", "paidEndDate": "2024-02-07"}, [0]),
            ({"paidEndDate": "2024-02-06"}, []),
            ({"adminComment": "cashback"}, [3]),
            ({"adminComment": "LATE"}, [1]),
            ({"modifiedSince": "2024-02-05T00:00:00Z"}, [0, 1]),
            ({"modifiedSince": "2024-02-07T08:00:00Z"}, [0]),
        ],
    )
    def test_filters(
        self,
        publisher: Publisher,
        seeded: dict[str, Any],
        params: dict[str, str],
        expected: list[int],
    ) -> None:
        ids = seeded["ids"]
        values = {
            k: str(seeded["second"])
            if v == "SECOND"
            else v.replace("IDS0", str(ids[0])).replace("IDS2", str(ids[2]))
            for k, v in params.items()
        }
        body = publisher.get("/v2/transactions", **values).json()
        assert [t["id"] for t in body["content"]] == [ids[i] for i in expected]
        assert body["totalElements"] == len(expected)

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"status": "DONE"}, "status"),
            ({"ids": "1,x"}, "ids"),
            ({"startDate": "yesterday"}, "startDate"),
            ({"modifiedSince": "soon"}, "modifiedSince"),
            ({"size": 1001}, "size"),
        ],
    )
    def test_bad_parameters_are_400(
        self, publisher: Publisher, params: dict[str, Any], field: str
    ) -> None:
        response = publisher.get("/v2/transactions", **params)
        assert response.status_code == 400 and response.json()["field"] == field

    def test_pages_and_dates(self, publisher: Publisher, seeded: dict[str, Any]) -> None:
        ids = seeded["ids"]
        body = publisher.get("/v2/transactions", size=3, page=1).json()
        assert [t["id"] for t in body["content"]] == [ids[3]]
        assert body["totalPages"] == 2 and body["last"] is True and body["first"] is False
        assert body["numberOfElements"] == 1 and body["pageable"]["offset"] == 3
        assert body["sort"]["sorted"] is False
        paid = publisher.get(f"/v2/transactions/{ids[0]}").json()
        assert paid["paymentDate"] == "2024-02-07T08:00:00Z"
        assert paid["availabilityDate"] == "2024-02-05T00:00:00Z"
        assert paid["pendingDate"] == "2024-02-01T00:00:00Z"
        assert paid["lastUpdate"] == "2024-02-07T08:00:00Z"
        assert paid["purchaseDate"] == "2024-01-10T12:00:00Z"

    def test_sku_details(self, publisher: Publisher, seeded: dict[str, Any]) -> None:
        ids = seeded["ids"]
        body = publisher.get("/v2/sku-details").json()
        assert body["totalElements"] == 2
        first = body["content"][0]
        assert first == {
            "transactionId": ids[2],
            "sku": "S-1",
            "itemName": "Pen",
            "category": "Office",
            "quantity": 2,
            "price": "1.50",
            "shopperId": "anna",
            "orderNumber": first["orderNumber"],
            "purchaseDate": "2024-01-12T23:59:59Z",
            "storeName": first["storeName"],
        }
        assert body["content"][1]["price"] == "20.54"
        assert publisher.get(f"/v2/transactions/{ids[2]}").json()["isSkuDetailsBrand"] is True
        for params, count in [
            ({"transactionId": ids[2]}, 2),
            ({"transactionId": ids[0]}, 0),
            ({"startDate": "2024-01-13"}, 0),
            ({"startDate": "2024-01-12", "endDate": "2024-01-12"}, 2),
            ({"endDate": "2024-01-11"}, 0),
            ({"size": 1, "page": 1}, 2),
        ]:
            page = publisher.get("/v2/sku-details", **params).json()
            assert page["totalElements"] == count, params
        second_page = publisher.get("/v2/sku-details", size=1, page=1).json()
        assert [s["sku"] for s in second_page["content"]] == ["S-2"]
        assert second_page["totalPages"] == 2 and second_page["last"] is True

    def test_isolation(
        self, publisher: Publisher, other_publisher: Publisher, seeded: dict[str, Any]
    ) -> None:
        ids = seeded["ids"]
        assert other_publisher.get("/v2/transactions").json()["totalElements"] == 0
        assert other_publisher.get(f"/v2/transactions/{ids[0]}").status_code == 404
        assert other_publisher.get("/v2/sku-details").json()["totalElements"] == 0
        assert other_publisher.get("/v2/sku-details", transactionId=ids[2]).json()["content"] == []
        assert publisher.get(f"/v2/transactions/{ids[0]}").status_code == 200

    def test_operator_lists_across_publishers(
        self, operator: Operator, publisher: Publisher, seeded: dict[str, Any]
    ) -> None:
        body = operator.get("/transactions", tenant=publisher.tenant_id).json()
        assert [t["id"] for t in body["content"]] == seeded["ids"]
        assert {t["tenantId"] for t in body["content"]} == {publisher.tenant_id}
        one = operator.get("/transactions", ids=str(seeded["ids"][1]), status="PAYMENT_INITIATED")
        assert one.json()["totalElements"] == 1


def race(url: str, headers: dict[str, str], bodies: list[dict[str, Any]]) -> list[int]:
    """PATCH ``url`` with each body at the same instant, one thread each: the statuses."""
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = []

    def call(body: dict[str, Any]) -> None:
        with httpx.Client(timeout=30, headers=headers) as http:
            barrier.wait()
            statuses.append(http.patch(url, json=body).status_code)

    threads = [threading.Thread(target=call, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.mark.timeout(120)
def test_concurrent_conflicting_moves_one_wins(
    live_url: str, operator: Operator, new_transaction: Callable[..., dict[str, Any]]
) -> None:
    bodies = [
        {"status": "PAYMENT_INITIATED"},
        {"status": "NON_COMMISSIONABLE", "adminComment": "fraud"},
    ]
    for _ in range(3):
        created = new_transaction()
        assert move(operator, created["id"], "AVAILABLE").status_code == 200
        url = f"{live_url}/admin/api/transactions/{created['id']}"
        assert sorted(race(url, operator.headers, bodies)) == [200, 409]
        history = operator.get(f"/transactions/{created['id']}/changes").json()
        assert len(history) == 3
        with session_scope() as session:
            final = session.get_one(CashbackTransaction, created["id"]).status
        assert history[-1]["newStatus"] == final
