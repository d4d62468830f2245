"""Networks and their signed postbacks: signature checks, unknown clicks, batches with
per-record results, idempotent re-posts, and concurrent postbacks of one order."""

from __future__ import annotations

import base64
import json
import logging
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from retailhub.db import session_scope
from retailhub.models import CashbackClick, CashbackTransaction
from tests.cashback import Operator, Publisher
from tests.test_cashback_tracking import make_click, make_store
from tests.test_cashback_transactions import record

POSTBACK = "/cashback/postback"


def new_network(operator: Operator) -> dict[str, Any]:
    response = operator.post("/networks", {"name": f"net-{uuid.uuid4().hex[:8]}"})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def signed(
    network: dict[str, Any], payload: Any, *, secret: str | None = None, age: float = 0
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    msg_id = f"msg_{uuid.uuid4().hex}"
    when = datetime.now(UTC) - timedelta(seconds=age)
    signature = Webhook(secret or network["secret"]).sign(msg_id, when, body.decode())
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": signature,
        "X-Network": network["name"],
        "Content-Type": "application/json",
    }
    return body, headers


def post(client: Any, network: dict[str, Any], payload: Any) -> Any:
    body, headers = signed(network, payload)
    return client.post(POSTBACK, content=body, headers=headers)


@pytest.fixture
def network(operator: Operator) -> dict[str, Any]:
    return new_network(operator)


@pytest.fixture
def click(client: TestClient, publisher: Publisher) -> str:
    store_id, _ = make_store(commission="10")
    return make_click(client, publisher, store_id, cp="shopper-1", sid="web")


class TestNetworks:
    def test_create_list_rotate_deactivate(self, operator: Operator) -> None:
        created = new_network(operator)
        assert created["secret"].startswith("whsec_") and created["active"] is True
        assert len(base64.b64decode(created["secret"][6:])) == 24
        listed = [n for n in operator.get("/networks").json() if n["id"] == created["id"]]
        assert listed == [{k: v for k, v in created.items() if k != "secret"}]
        duplicate = operator.post("/networks", {"name": created["name"]})
        assert duplicate.status_code == 409
        assert operator.post("/networks", {"name": "bad name!"}).status_code == 400
        rotated = operator.post(f"/networks/{created['id']}/rotate-secret").json()
        assert rotated["secret"] != created["secret"]
        off = operator.post(f"/networks/{created['id']}/deactivate").json()
        assert off["active"] is False and "secret" not in off
        assert operator.post("/networks/987654321/deactivate").status_code == 404


class TestSignature:
    def test_valid_signature_creates_the_transaction(
        self, client: TestClient, publisher: Publisher, network: dict[str, Any], click: str
    ) -> None:
        response = post(client, network, record(click, orderNumber="N-1"))
        assert response.status_code == 201, response.text
        assert response.json()["result"] == "created"
        tid = response.json()["transactionId"]
        body = publisher.get(f"/v2/transactions/{tid}").json()
        assert body["shopperId"] == "shopper-1" and body["sid"] == "web"
        assert body["orderNumber"] == "N-1" and body["shopperCommission"] == 10

    @pytest.mark.parametrize("problem", ["wrong secret", "tampered", "stale", "future", "none"])
    def test_bad_signatures_are_401(
        self, client: TestClient, network: dict[str, Any], click: str, problem: str
    ) -> None:
        payload = record(click)
        if problem == "wrong secret":
            body, headers = signed(network, payload, secret="whsec_" + "B" * 32)
        elif problem == "stale":
            body, headers = signed(network, payload, age=6 * 60)
        elif problem == "future":
            body, headers = signed(network, payload, age=-6 * 60)
        else:
            body, headers = signed(network, payload)
        if problem == "tampered":
            body = body.replace(b'"100.00"', b'"900.00"')
        if problem == "none":
            del headers["webhook-signature"]
        response = client.post(POSTBACK, content=body, headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["status"] == 401

    def test_unknown_missing_and_inactive_networks_are_401(
        self, client: TestClient, operator: Operator, network: dict[str, Any], click: str
    ) -> None:
        body, headers = signed(network, record(click))
        for name in ("no-such-network", None):
            changed = dict(headers)
            if name is None:
                del changed["X-Network"]
            else:
                changed["X-Network"] = name
            assert client.post(POSTBACK, content=body, headers=changed).status_code == 401
        operator.post(f"/networks/{network['id']}/deactivate")
        assert client.post(POSTBACK, content=body, headers=headers).status_code == 401

    def test_a_rotated_secret_stops_the_old_one(
        self, client: TestClient, operator: Operator, network: dict[str, Any], click: str
    ) -> None:
        body, headers = signed(network, record(click))
        rotated = operator.post(f"/networks/{network['id']}/rotate-secret").json()
        assert client.post(POSTBACK, content=body, headers=headers).status_code == 401
        assert post(client, rotated, record(click)).status_code == 201


class TestRecords:
    def test_unknown_click_is_rejected_and_logged(
        self,
        client: TestClient,
        network: dict[str, Any],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        with caplog.at_level(logging.WARNING, "retailhub.cashback.tracking.service"):
            response = post(client, network, record("f" * 32))
        assert response.status_code == 422
        assert response.json()["field"] == "clickId"
        assert "f" * 32 in response.json()["message"]
        assert any("f" * 32 in r.getMessage() for r in caplog.records)

    def test_invalid_json_and_records_are_400(
        self, client: TestClient, network: dict[str, Any], click: str
    ) -> None:
        body, headers = signed(network, None)
        body = b"{not json"
        headers["webhook-signature"] = Webhook(network["secret"]).sign(
            headers["webhook-id"],
            datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC),
            body.decode(),
        )
        assert client.post(POSTBACK, content=body, headers=headers).status_code == 400
        missing = post(client, network, {"clickId": click})
        assert missing.status_code == 400 and missing.json()["field"] == "orderNumber"
        assert post(client, network, []).status_code == 400

    def test_idempotent_repost_and_updates(
        self,
        client: TestClient,
        operator: Operator,
        network: dict[str, Any],
        click: str,
    ) -> None:
        first = record(click, orderNumber="R-1")
        created = post(client, network, first).json()
        assert post(client, network, first).json() == {
            "result": "unchanged",
            "transactionId": created["transactionId"],
        }
        changed = post(client, network, {**first, "saleAmount": "50"})
        assert changed.status_code == 200 and changed.json()["result"] == "updated"
        available = post(client, network, {**first, "saleAmount": "50", "status": "AVAILABLE"})
        assert available.json()["result"] == "updated"
        late = post(client, network, {**first, "saleAmount": "60", "status": "AVAILABLE"})
        assert late.status_code == 409
        backwards = post(client, network, {**first, "saleAmount": "50", "status": "PENDING"})
        assert backwards.status_code == 409
        assert "from AVAILABLE to PENDING" in backwards.json()["message"]
        tid = created["transactionId"]
        history = operator.get(f"/transactions/{tid}/changes").json()
        assert [(h["oldStatus"], h["newStatus"]) for h in history] == [
            (None, "PENDING"),
            ("PENDING", "PENDING"),
            ("PENDING", "AVAILABLE"),
        ]
        assert {h["actor"] for h in history} == {f"network:{network['name']}"}
        stored = operator.get(f"/transactions/{tid}").json()
        assert stored["saleAmount"] == 50 and stored["networkId"] == network["id"]

    def test_the_same_order_from_another_click_is_409(
        self, client: TestClient, publisher: Publisher, network: dict[str, Any], click: str
    ) -> None:
        assert post(client, network, record(click, orderNumber="X-1")).status_code == 201
        with session_scope() as session:
            store_id = session.get_one(CashbackClick, click).store_id
        other_click = make_click(client, publisher, store_id, cp="someone-else")
        response = post(client, network, record(other_click, orderNumber="X-1"))
        assert response.status_code == 409 and response.json()["field"] == "orderNumber"

    def test_a_new_record_may_arrive_available(
        self, client: TestClient, operator: Operator, network: dict[str, Any], click: str
    ) -> None:
        response = post(client, network, record(click, status="AVAILABLE"))
        tid = response.json()["transactionId"]
        history = operator.get(f"/transactions/{tid}/changes").json()
        assert [h["newStatus"] for h in history] == ["PENDING", "AVAILABLE"]
        assert post(client, network, record(click, status="PAID")).status_code == 409

    def test_an_array_keeps_the_good_records(
        self, client: TestClient, publisher: Publisher, network: dict[str, Any], click: str
    ) -> None:
        good = record(click, orderNumber="B-1")
        payload = [
            good,
            record("0" * 32),
            {"clickId": click},
            record(click, orderNumber="B-2", skus=[{"sku": "A", "price": "5"}]),
            good,
        ]
        response = post(client, network, payload)
        assert response.status_code == 200
        body = response.json()
        assert (body["received"], body["created"], body["unchanged"], body["rejected"]) == (
            5,
            2,
            1,
            2,
        )
        results = body["results"]
        assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
        assert [r["status"] for r in results] == [201, 422, 400, 201, 200]
        assert results[1]["field"] == "clickId" and results[2]["field"] == "orderNumber"
        assert results[4]["transactionId"] == results[0]["transactionId"]
        listed = publisher.get("/v2/transactions").json()
        assert {t["orderNumber"] for t in listed["content"]} == {"B-1", "B-2"}
        skus = publisher.get("/v2/sku-details", transactionId=results[3]["transactionId"]).json()
        assert [s["sku"] for s in skus["content"]] == ["A"]


@pytest.mark.timeout(120)
def test_concurrent_postbacks_of_one_order_make_one_transaction(
    live_url: str, network: dict[str, Any], click: str
) -> None:
    order = f"C-{uuid.uuid4().hex[:8]}"
    count = 20
    barrier = threading.Barrier(count)
    results: list[tuple[int, Any]] = []

    def send() -> None:
        body, headers = signed(network, record(click, orderNumber=order))
        with httpx.Client(timeout=30) as http:
            barrier.wait()
            response = http.post(f"{live_url}{POSTBACK}", content=body, headers=headers)
        results.append((response.status_code, response.json()))

    threads = [threading.Thread(target=send) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in results) == [200] * (count - 1) + [201]
    assert len({body["transactionId"] for _, body in results}) == 1
    with session_scope() as session:
        stored = session.scalar(
            select(func.count()).where(CashbackTransaction.order_number == order)
        )
    assert stored == 1
