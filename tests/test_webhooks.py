"""Webhooks: management API (tenant and operator entrances), delivery to a real local HTTP
receiver that verifies Standard Webhooks signatures, retries, Retry-After, timeouts,
isolation between endpoints, auto-disable, replay, ordering, several dispatchers at once, and
the IMPORT_FINISHED and LOYALTY_NOTIFICATION producers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.cashback import Operator, Publisher
from tests.conftest import Tenant
from tests.loyalty import Loyalty
from tests.receiver import Receiver

API = "/webhooks/v1/endpoints"


def wait_for(
    check: Callable[[], Any], timeout: float = 10, tick: Callable[[], None] | None = None
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        if tick is not None:
            tick()
        time.sleep(0.05)


def register(
    publisher: Publisher, receiver: Receiver, event_types: list[str] | None = None
) -> dict[str, Any]:
    response = publisher.client.post(
        API,
        headers=publisher.headers,
        json={"url": receiver.url, "eventTypes": event_types or [], "description": "tests"},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    receiver.secret = body["secret"]
    return body


def emit(
    tenant_id: int, n: int = 1, *, key: str | None = None, kind: str = "STORE_ADDED"
) -> list[str]:
    """Emit ``n`` events for the tenant through the outbox; returns their webhook-ids."""
    from retailhub.db import session_scope
    from retailhub.webhooks import outbox

    ids = []
    with session_scope(write=True) as session:
        for i in range(n):
            event = outbox.emit(
                session, tenant_id=tenant_id, event_type=kind, data={"n": i}, ordering_key=key
            )
            assert event is not None
            ids.append(event.msg_id)
    return ids


def deliveries(publisher: Publisher, endpoint_id: int, **params: Any) -> list[dict[str, Any]]:
    response = publisher.client.get(
        f"{API}/{endpoint_id}/deliveries",
        headers=publisher.headers,
        params={"size": 1000, **params},
    )
    assert response.status_code == 200, response.text
    content: list[dict[str, Any]] = response.json()["content"]
    return content


def attempts(publisher: Publisher, endpoint_id: int, delivery_id: int) -> list[dict[str, Any]]:
    response = publisher.client.get(
        f"{API}/{endpoint_id}/deliveries/{delivery_id}/attempts", headers=publisher.headers
    )
    assert response.status_code == 200, response.text
    content: list[dict[str, Any]] = response.json()["content"]
    return content


def settle() -> None:
    """Give the dispatcher a few polls to act (when asserting that nothing happens)."""
    time.sleep(0.6)


# Delivery ---------------------------------------------------------------------------


def test_a_delivery_is_signed_per_standard_webhooks(
    publisher: Publisher, receiver: Receiver
) -> None:
    endpoint = register(publisher, receiver)
    assert endpoint["secret"].startswith("whsec_")
    [msg_id] = emit(publisher.tenant_id)
    wait_for(receiver.ids)
    [got] = receiver.received
    assert got["verified"] and got["id"] == msg_id
    assert got["body"] == {"eventType": "STORE_ADDED", "data": {"n": 0}}
    assert got["raw"] == b'{"eventType":"STORE_ADDED","data":{"n":0}}'
    assert got["headers"]["content-type"] == "application/json"
    assert got["headers"]["user-agent"] == "Retailhub-Webhooks"
    assert abs(int(got["headers"]["webhook-timestamp"]) - time.time()) < 5
    [delivery] = wait_for(lambda: deliveries(publisher, endpoint["id"], status="delivered"))
    assert delivery["msgId"] == msg_id and delivery["attempts"] == 1
    assert delivery["lastStatusCode"] == 200 and delivery["deliveredAt"]
    [attempt] = attempts(publisher, endpoint["id"], delivery["id"])
    assert attempt["statusCode"] == 200 and attempt["response"] == "ok" and attempt["error"] is None


def test_receiver_down_then_up_loses_nothing_and_keeps_order(
    publisher: Publisher, receiver: Receiver, clock: Any
) -> None:
    endpoint = register(publisher, receiver)
    receiver.down()
    ordered = emit(publisher.tenant_id, 8, key="order:1")
    loose = emit(publisher.tenant_id, 4)
    # The first of the key and the unordered ones fail once; the rest of the key waits.
    wait_for(lambda: sum(d["attempts"] for d in deliveries(publisher, endpoint["id"])) >= 5)
    pending = deliveries(publisher, endpoint["id"], status="pending")
    assert len(pending) == 12
    assert {d["lastError"] is not None for d in pending if d["attempts"]} == {True}
    receiver.up()
    wait_for(
        lambda: len(set(receiver.ids())) == 12,
        tick=lambda: clock.shift(timedelta(seconds=10)),
        timeout=20,
    )
    settle()
    ids = receiver.ids()
    assert sorted(ids) == sorted(ordered + loose) and len(ids) == 12
    assert [i for i in ids if i in ordered] == ordered
    assert all(r["verified"] for r in receiver.received)
    assert len(deliveries(publisher, endpoint["id"], status="delivered")) == 12


def test_retry_after_is_honoured(publisher: Publisher, receiver: Receiver, clock: Any) -> None:
    endpoint = register(publisher, receiver)
    receiver.status, receiver.headers = 503, {"Retry-After": "600"}
    emit(publisher.tenant_id)
    [delivery] = wait_for(
        lambda: [d for d in deliveries(publisher, endpoint["id"]) if d["attempts"] == 1]
    )
    assert delivery["lastStatusCode"] == 503 and delivery["status"] == "pending"
    due = datetime.fromisoformat(delivery["nextAttemptAt"].replace("Z", "+00:00"))
    assert due - clock.now() > timedelta(seconds=590)
    receiver.status, receiver.headers = 200, {}
    clock.shift(timedelta(seconds=30))  # past the schedule's 5 s, before Retry-After
    settle()
    assert len(receiver.ids()) == 1
    clock.shift(timedelta(seconds=600))
    wait_for(lambda: len(receiver.ids()) == 2)
    assert receiver.ids()[0] == receiver.ids()[1]


def test_retry_after_as_an_http_date() -> None:
    from email.utils import format_datetime

    from retailhub.webhooks.dispatcher import retry_after

    later = datetime.now(UTC) + timedelta(hours=2)
    wait = retry_after(format_datetime(later, usegmt=True))
    assert wait is not None and timedelta(minutes=119) < wait <= timedelta(hours=2)
    assert retry_after("120") == timedelta(seconds=120)
    assert retry_after("soon") is None


def test_a_timeout_is_a_failed_attempt(
    publisher: Publisher, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retailhub.config import get_settings

    monkeypatch.setattr(get_settings(), "webhook_timeout_seconds", 0.3)
    endpoint = register(publisher, receiver)
    receiver.delay = 2
    emit(publisher.tenant_id)
    [delivery] = wait_for(
        lambda: [d for d in deliveries(publisher, endpoint["id"]) if d["attempts"] == 1]
    )
    assert delivery["status"] == "pending" and delivery["lastStatusCode"] is None
    assert delivery["lastError"] == "Timed out after 0.3 s"
    [attempt] = attempts(publisher, endpoint["id"], delivery["id"])
    assert attempt["error"] == "Timed out after 0.3 s" and 250 <= attempt["durationMs"] < 2000


def test_a_slow_endpoint_does_not_delay_another_tenant(
    publisher: Publisher,
    other_publisher: Publisher,
    receiver: Receiver,
    other_receiver: Receiver,
) -> None:
    slow = register(publisher, receiver)
    register(other_publisher, other_receiver)
    receiver.delay = 4
    emit(publisher.tenant_id, 12)
    time.sleep(0.3)  # the slow endpoint's requests are under way
    started = time.monotonic()
    [fast] = emit(other_publisher.tenant_id)
    wait_for(other_receiver.ids, timeout=3)
    assert other_receiver.ids() == [fast]
    assert time.monotonic() - started < 2
    # The slow endpoint never holds more than its share.
    from retailhub.config import get_settings

    in_flight = [d for d in deliveries(publisher, slow["id"]) if d["status"] == "pending"]
    assert len(in_flight) == 12 and receiver.ids() == []
    assert get_settings().webhook_endpoint_concurrency == 4
    receiver.release.set()
    wait_for(lambda: len(receiver.ids()) == 12, timeout=10)


def test_retries_end_in_failed_then_a_replay_delivers_with_the_same_id(
    publisher: Publisher, receiver: Receiver, clock: Any
) -> None:
    endpoint = register(publisher, receiver)
    receiver.status = 500
    msg_ids = emit(publisher.tenant_id, 2)
    wait_for(lambda: all(d["attempts"] == 1 for d in deliveries(publisher, endpoint["id"])))
    clock.shift(timedelta(hours=81))
    wait_for(lambda: len(deliveries(publisher, endpoint["id"], status="failed")) == 2)
    failed = deliveries(publisher, endpoint["id"], status="failed")
    for delivery in failed:
        assert delivery["attempts"] == 2 and delivery["nextAttemptAt"] is None
        log = attempts(publisher, endpoint["id"], delivery["id"])
        assert [a["statusCode"] for a in log] == [500, 500]
        assert log[0]["response"] == "ok" and log[0]["error"] == "HTTP 500"
    assert len(receiver.ids()) == 4
    receiver.status = 200

    # One delivery replayed.
    first = failed[-1]
    response = publisher.client.post(
        f"{API}/{endpoint['id']}/deliveries/{first['id']}/replay", headers=publisher.headers
    )
    assert response.status_code == 200 and response.json()["status"] == "pending"
    wait_for(lambda: len(receiver.ids()) == 5)
    assert receiver.ids()[-1] == first["msgId"]
    assert len(deliveries(publisher, endpoint["id"], status="delivered")) == 1

    # Every failed one since a time.
    since = (clock.now() - timedelta(hours=1)).isoformat()
    response = publisher.client.post(
        f"{API}/{endpoint['id']}/replay", headers=publisher.headers, json={"since": since}
    )
    assert response.status_code == 200 and response.json() == {"replayed": 0}
    since = (clock.now() - timedelta(hours=100)).isoformat()
    response = publisher.client.post(
        f"{API}/{endpoint['id']}/replay", headers=publisher.headers, json={"since": since}
    )
    assert response.json() == {"replayed": 1}
    wait_for(lambda: len(receiver.ids()) == 6)
    assert sorted(receiver.ids()[-2:]) == sorted(msg_ids)
    assert len(deliveries(publisher, endpoint["id"], status="delivered")) == 2
    response = publisher.client.post(
        f"{API}/{endpoint['id']}/replay",
        headers=publisher.headers,
        json={"since": since, "status": "pending"},
    )
    assert response.status_code == 400 and response.json()["field"] == "status"


def test_a_delivery_failed_for_good_stops_holding_back_its_ordering_key(
    publisher: Publisher, receiver: Receiver, clock: Any
) -> None:
    endpoint = register(publisher, receiver)
    receiver.status = 500
    [first] = emit(publisher.tenant_id, key="order:9")
    wait_for(lambda: receiver.ids() == [first])
    [second] = emit(publisher.tenant_id, key="order:9")
    settle()
    # The second waits behind the first, which is still being retried.
    assert receiver.ids() == [first]
    clock.shift(timedelta(hours=81))
    wait_for(lambda: deliveries(publisher, endpoint["id"], status="failed"))
    receiver.status = 200
    wait_for(lambda: second in receiver.ids())
    assert receiver.ids() == [first, first, second]
    [failed] = deliveries(publisher, endpoint["id"], status="failed")
    [delivered] = wait_for(lambda: deliveries(publisher, endpoint["id"], status="delivered"))
    assert (failed["msgId"], delivered["msgId"]) == (first, second)


def test_a_failing_endpoint_is_disabled_and_resumes_when_enabled(
    publisher: Publisher, receiver: Receiver, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retailhub.config import get_settings

    monkeypatch.setattr(get_settings(), "webhook_disable_after_hours", 1.0)
    endpoint = register(publisher, receiver)
    url = f"{API}/{endpoint['id']}"
    receiver.status = 500
    [msg_id] = emit(publisher.tenant_id)
    wait_for(lambda: deliveries(publisher, endpoint["id"])[0]["attempts"] == 1)
    clock.shift(timedelta(hours=2))
    wait_for(lambda: deliveries(publisher, endpoint["id"])[0]["attempts"] == 2)
    body = wait_for(
        lambda: (
            (r := publisher.client.get(url, headers=publisher.headers).json())["enabled"] is False
            and r
        )
    )
    assert body["disabledReason"].startswith("Every attempt failed since")
    assert body["disabledAt"] and body["failingSince"]
    # Disabled: the pending delivery waits, however late it gets.
    receiver.status = 200
    clock.shift(timedelta(hours=1))
    settle()
    assert len(receiver.ids()) == 2
    assert deliveries(publisher, endpoint["id"])[0]["status"] == "pending"
    response = publisher.client.patch(url, headers=publisher.headers, json={"enabled": True})
    assert response.status_code == 200, response.text
    assert response.json()["enabled"] is True and response.json()["disabledReason"] is None
    wait_for(lambda: len(receiver.ids()) == 3)
    assert receiver.ids() == [msg_id] * 3
    assert wait_for(lambda: deliveries(publisher, endpoint["id"], status="delivered"))
    assert publisher.client.get(url, headers=publisher.headers).json()["failingSince"] is None


def test_two_dispatchers_never_deliver_one_delivery_twice(
    publisher: Publisher, receiver: Receiver
) -> None:
    from retailhub.webhooks.dispatcher import Dispatcher

    register(publisher, receiver)
    receiver.delay = 0.02
    extra = [Dispatcher(poll_seconds=0.01, endpoint_concurrency=8) for _ in range(2)]
    for dispatcher in extra:
        dispatcher.start()
    try:
        msg_ids = emit(publisher.tenant_id, 60)
        passes = [Dispatcher(endpoint_concurrency=8) for _ in range(2)]
        threads = [threading.Thread(target=d.deliver_due) for d in passes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wait_for(lambda: len(receiver.ids()) >= 60, timeout=20)
        settle()
    finally:
        for dispatcher in extra:
            dispatcher.stop()
    assert sorted(receiver.ids()) == sorted(msg_ids)


def test_deliver_due_counts_one_pass(publisher: Publisher, receiver: Receiver) -> None:
    from retailhub.webhooks.dispatcher import Dispatcher

    endpoint = register(publisher, receiver)
    response = publisher.client.patch(
        f"{API}/{endpoint['id']}", headers=publisher.headers, json={"enabled": False}
    )
    assert response.json()["disabledReason"] == "Disabled by request."
    assert Dispatcher().deliver_due() == {"claimed": 0, "delivered": 0, "failed": 0}


# Management API ------------------------------------------------------------------------


def test_endpoint_management(publisher: Publisher, receiver: Receiver) -> None:
    headers = publisher.headers
    client = publisher.client
    created = register(publisher, receiver, ["IMPORT_FINISHED"])
    url = f"{API}/{created['id']}"
    assert created["eventTypes"] == ["IMPORT_FINISHED"] and created["enabled"] is True
    assert created["tenant"] == publisher.slug
    listed = client.get(API, headers=headers).json()
    assert [e["id"] for e in listed["content"]] == [created["id"]]
    assert "secret" not in listed["content"][0] and listed["totalElements"] == 1
    assert "secret" not in client.get(url, headers=headers).json()
    assert client.get(url + "/secret", headers=headers).json() == {"secret": created["secret"]}

    patched = client.patch(
        url, headers=headers, json={"eventTypes": [], "description": "all of them"}
    ).json()
    assert patched["eventTypes"] == [] and patched["description"] == "all of them"
    assert patched["url"] == receiver.url

    rotated = client.post(url + "/rotate-secret", headers=headers).json()
    assert rotated["secret"] != created["secret"] and rotated["secret"].startswith("whsec_")
    receiver.secret = rotated["secret"]
    response = client.post(url + "/test", headers=headers)
    assert response.status_code == 200 and response.json()["eventType"] == "WEBHOOK_TEST"
    wait_for(receiver.ids)
    assert receiver.received[0]["verified"]
    assert receiver.received[0]["body"]["data"]["endpointId"] == created["id"]

    assert client.delete(url, headers=headers).status_code == 204
    assert client.get(url, headers=headers).status_code == 404


def test_validation_names_the_field(publisher: Publisher) -> None:
    def create(body: dict[str, Any]) -> dict[str, Any]:
        response = publisher.client.post(API, headers=publisher.headers, json=body)
        assert response.status_code == 400, response.text
        result: dict[str, Any] = response.json()
        return result

    bad = create({"url": "http://example.com/h", "eventTypes": ["STORE_ADDED", "NOPE"]})
    assert bad["field"] == "eventTypes[1]" and bad["error"] == "Bad Request"
    assert create({"url": "ftp://example.com/h"})["field"] == "url"
    assert create({"url": "http:///nohost"})["field"] == "url"
    assert create({"eventTypes": []})["field"] == "url"
    assert create({"url": "http://x.example", "eventTypes": ["WEBHOOK_TEST"]})["field"] == (
        "eventTypes[0]"
    )


def test_a_tenant_sees_only_its_endpoints(
    publisher: Publisher, other_publisher: Publisher, receiver: Receiver
) -> None:
    endpoint = register(publisher, receiver)
    [msg_id] = emit(publisher.tenant_id)
    wait_for(receiver.ids)
    [delivery] = deliveries(publisher, endpoint["id"])
    client, other = publisher.client, other_publisher.headers
    base = f"{API}/{endpoint['id']}"
    for method, path in (
        ("GET", ""),
        ("GET", "/secret"),
        ("PATCH", ""),
        ("DELETE", ""),
        ("POST", "/rotate-secret"),
        ("GET", "/deliveries"),
        ("GET", f"/deliveries/{delivery['id']}/attempts"),
        ("POST", f"/deliveries/{delivery['id']}/replay"),
        ("POST", "/replay"),
        ("POST", "/test"),
    ):
        body = {"since": "2020-01-01T00:00:00Z"} if path == "/replay" else {}
        response = client.request(method, base + path, headers=other, json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"] == "Not Found"
    assert client.get(API, headers=other).json()["totalElements"] == 0
    wrong = {"Authorization": "Bearer nope"}
    assert client.get(API, headers=wrong).status_code == 401
    assert client.get(base, headers={}).status_code == 401
    assert client.get(base, headers={"Authorization": f"Bearer {publisher.key}"}).status_code == 200
    assert receiver.ids() == [msg_id]


def test_operator_entrance(
    operator: Operator, publisher: Publisher, other_publisher: Publisher, receiver: Receiver
) -> None:
    response = operator.post(
        "/webhooks", {"tenant": publisher.slug, "url": receiver.url, "eventTypes": []}
    )
    assert response.status_code == 201, response.text
    created = response.json()
    receiver.secret = created["secret"]
    assert created["tenant"] == publisher.slug
    listed = operator.get("/webhooks", tenant=publisher.slug).json()
    assert [e["id"] for e in listed["content"]] == [created["id"]]
    # The tenant sees the operator's endpoint; the operator sees the tenant's deliveries.
    assert (
        publisher.client.get(f"{API}/{created['id']}", headers=publisher.headers).status_code == 200
    )
    [msg_id] = emit(publisher.tenant_id)
    wait_for(receiver.ids)
    log = operator.get(f"/webhooks/{created['id']}/deliveries").json()["content"]
    assert [d["msgId"] for d in log] == [msg_id]
    assert (
        operator.post("/webhooks", {"tenant": "nobody-here", "url": receiver.url}).json()["field"]
        == "tenant"
    )
    # Operator routes want the operator key.
    client = operator.client
    assert client.get("/admin/api/webhooks", headers=publisher.headers).status_code == 401
    assert client.get("/admin/api/webhooks").status_code == 401
    denied = client.post(
        "/admin/api/webhooks",
        headers=other_publisher.headers,
        json={"tenant": publisher.slug, "url": receiver.url},
    )
    assert denied.status_code == 401


# Producers ---------------------------------------------------------------------------


def test_import_finished(tenant: Tenant, publisher: Publisher, receiver: Receiver) -> None:
    register(publisher, receiver, ["IMPORT_FINISHED"])
    done = tenant.run("Product", [{"sku": "S1"}, {"title": "no sku"}])
    second = tenant.run("Customer", [{"email": "w@example.com"}])
    wait_for(lambda: len(receiver.ids()) == 2)
    first, then = receiver.received
    assert first["verified"] and first["body"]["eventType"] == "IMPORT_FINISHED"
    data = first["body"]["data"]
    assert data["importId"] == done["resourceId"] and data["entity"] == "Product"
    assert data["source"] == "api" and data["status"] == "partially_failed"
    assert (data["received"], data["inserted"], data["rejected"]) == (2, 1, 1)
    assert set(data) == {
        "importId", "entity", "source", "fileName", "status", "message", "received",
        "inserted", "updated", "unchanged", "rejected", "duplicates", "warnings",
        "createdAt", "finishedAt",
    }  # fmt: skip
    assert data["finishedAt"].endswith("Z") and data["fileName"] is None
    assert then["body"]["data"]["importId"] == second["resourceId"]
    assert then["body"]["data"]["status"] == "succeeded"


def test_loyalty_notifications(
    client: TestClient, loyalty: Loyalty, publisher: Publisher, receiver: Receiver
) -> None:
    register(publisher, receiver, ["LOYALTY_NOTIFICATION"])
    for account in ("acc-1", "acc-2"):
        loyalty.user_headers(account)
    body = {
        "id": "hooked",
        "type": "STANDARD",
        "name": "Webhook campaign",
        "constraints": [{"field": "header.created", "op": "EXISTS"}],
        "states": [{"id": "m", "type": "MESSAGE", "title": "Hello", "message": "Welcome"}],
    }
    assert loyalty.post("/campaign", body).status_code == 200
    assert loyalty.post("/campaign/hooked/initialize").status_code == 200
    wait_for(lambda: len(receiver.ids()) == 2)
    listed = loyalty.get("/notifications", campaign="hooked").json()
    sent = sorted((r["body"]["data"] for r in receiver.received), key=lambda d: d["id"])
    assert sent == sorted(listed, key=lambda d: d["id"])
    assert {d["account"] for d in sent} == {"acc-1", "acc-2"}
    assert {r["body"]["eventType"] for r in receiver.received} == {"LOYALTY_NOTIFICATION"}
    assert all(r["verified"] for r in receiver.received)


def test_no_event_without_a_subscribed_endpoint(publisher: Publisher, receiver: Receiver) -> None:
    from retailhub.db import session_scope
    from retailhub.webhooks import outbox

    register(publisher, receiver, ["IMPORT_FINISHED"])
    with session_scope(write=True) as session:
        assert (
            outbox.emit(session, tenant_id=publisher.tenant_id, event_type="STORE_ADDED", data={})
            is None
        )
    settle()
    assert receiver.ids() == []
