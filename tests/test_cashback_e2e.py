"""The cashback network end to end, across modules: a shopper's click through the tracking
redirect, the affiliate network's signed postback, the operator's status moves, the shopper's
loyalty wallet, and the publisher's webhooks at a real receiver that verifies every
signature."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.cashback import Operator, Publisher
from tests.loyalty import Loyalty
from tests.receiver import Receiver
from tests.test_cashback_postback import new_network, post
from tests.test_cashback_tracking import make_click, make_store
from tests.test_cashback_transactions import move, record, set_settings
from tests.test_webhooks import register, wait_for


def test_click_postback_available_credits_the_wallet_and_reaches_the_webhook(
    client: TestClient,
    publisher: Publisher,
    operator: Operator,
    loyalty: Loyalty,
    receiver: Receiver,
) -> None:
    register(publisher, receiver, ["NEW_TRANSACTION", "TRANSACTION_STATUS_UPDATE"])
    set_settings(
        operator, publisher, share="0.8", walletCredit={"enabled": True, "pointsPerUnit": "10"}
    )
    store_id, _ = make_store(commission="4")
    click_id = make_click(client, publisher, store_id, cp="member-e2e", sid="app")

    network = new_network(operator)
    answer = post(client, network, record(click_id, saleAmount="250.00", orderNumber="E2E-1"))
    assert answer.status_code in (200, 201), answer.text
    [created] = publisher.get("/v2/transactions", shopperId="member-e2e").json()["content"]
    # 250.00 at 4 % = 10.00 commission; at a 0.8 share, 8.00 for the shopper.
    assert (created["status"], created["shopperCommission"]) == ("PENDING", 8)
    assert created["storeId"] == store_id and created["sid"] == "app"

    def balance() -> int:
        response = client.get("/loyalty-api/api/account/member-e2e/wallet", headers=loyalty.headers)
        assert response.status_code == 200, response.text
        return int(response.json()["balance"])

    assert move(operator, created["id"], "AVAILABLE").json()["walletPoints"] == 80
    assert balance() == 80
    moved = move(operator, created["id"], "NON_COMMISSIONABLE", adminComment="Order returned")
    assert moved.status_code == 200, moved.text
    assert balance() == 0

    wait_for(lambda: len(receiver.received) >= 3)
    assert all(r["verified"] for r in receiver.received)
    seen: list[tuple[str, Any]] = [
        (r["body"]["eventType"], r["body"]["data"]["changes"]) for r in receiver.received
    ]
    assert seen == [
        ("NEW_TRANSACTION", {"newStatus": "PENDING"}),
        ("TRANSACTION_STATUS_UPDATE", {"newStatus": "AVAILABLE", "oldStatus": "PENDING"}),
        (
            "TRANSACTION_STATUS_UPDATE",
            {"newStatus": "NON_COMMISSIONABLE", "oldStatus": "AVAILABLE"},
        ),
    ]
    assert all(r["body"]["data"]["transactions"] == [created["id"]] for r in receiver.received)
    assert len({r["id"] for r in receiver.received}) == 3
