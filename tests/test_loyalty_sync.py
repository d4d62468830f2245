"""Imported customers and orders become loyalty accounts (the ``loyalty.sync`` job)."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from tests.conftest import Tenant
from tests.loyalty import Loyalty


def tenant_pk(slug: str) -> int:
    from retailhub.db import session_scope
    from retailhub.models import Tenant as TenantRow

    with session_scope() as session:
        pk = session.scalar(select(TenantRow.id).where(TenantRow.slug == slug))
        assert pk is not None
        return int(pk)


def wait_synced(tenant: Tenant, timeout: float = 60) -> None:
    """Wait until every loyalty sync job of the tenant has run (and none failed)."""
    from retailhub.db import session_scope
    from retailhub.models import Job

    pk = tenant_pk(tenant.slug)
    deadline = time.monotonic() + timeout
    while True:
        with session_scope() as session:
            statuses = list(
                session.scalars(
                    select(Job.status).where(Job.tenant_id == pk, Job.task == "loyalty.sync")
                )
            )
        assert "failed" not in statuses
        if all(s == "succeeded" for s in statuses):
            return
        assert time.monotonic() < deadline, f"loyalty sync did not finish: {statuses}"
        time.sleep(0.05)


def load(tenant: Tenant, entity: str, records: list[dict[str, Any]]) -> None:
    """Import records (REST) and wait for the import and its loyalty sync."""
    result = tenant.run(entity, records)
    assert result["status"] == "succeeded", result
    wait_synced(tenant)


def email_id(email: str) -> str:
    return "e-" + hashlib.sha256(email.lower().encode()).hexdigest()[:24]


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def order(number: str, days_ago: float, total: float, **extra: Any) -> dict[str, Any]:
    return {
        "orderNumber": number,
        "dateEntered": iso(NOW - timedelta(days=days_ago)),
        "orderTotal": total,
        "status": "Completed",
        **extra,
    }


class TestCustomerSync:
    def test_customer_becomes_account_with_header(self, tenant: Tenant, loyalty: Loyalty) -> None:
        load(
            tenant,
            "Customer",
            [
                {
                    "customerNumber": "C-100",
                    "email": "Ann@Example.com",
                    "firstName": "Ann",
                    "lastName": "Lee",
                    "birthday": "1990-04-15T00:00:00Z",
                    "mobilePhone": "+1 555 0100",
                }
            ],
        )
        response = loyalty.get("/account/C-100")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["id"] == "C-100"
        header = body["header"]
        assert header["email"] == "ann@example.com"
        assert header["firstName"] == "Ann"
        assert header["lastName"] == "Lee"
        assert header["birthdate"] == "1990-04-15"
        assert header["phone"] == "+1 555 0100"
        assert header["lastOrder"] is None
        assert body["segment"] == "new"
        assert body["counters"] == {
            "orders": 0,
            "value": 0,
            "orders_30d": 0,
            "value_30d": 0,
            "orders_90d": 0,
            "value_90d": 0,
            "orders_365d": 0,
            "value_365d": 0,
        }
        assert body["wallet"] == {"balance": 0}

    def test_account_id_rule(self, tenant: Tenant, loyalty: Loyalty) -> None:
        load(
            tenant,
            "Customer",
            [
                {"customerNumber": "N.1_ok-2", "email": "a@example.com"},
                {"customerNumber": "x", "email": "Short@Example.com"},
                {"email": "only@example.com"},
                {"customerNumber": "bad#num"},
            ],
        )
        ids = {
            "N.1_ok-2": "a@example.com",
            email_id("short@example.com"): "short@example.com",
            email_id("only@example.com"): "only@example.com",
            "n-" + hashlib.sha256(b"bad#num").hexdigest()[:24]: None,
        }
        for account_id, email in ids.items():
            response = loyalty.get(f"/account/{account_id}")
            assert response.status_code == 200, (account_id, response.text)
            assert response.json()["header"]["email"] == email
        listed = loyalty.get("/accounts")
        assert sorted(a["id"] for a in listed.json()) == sorted(ids)

    def test_reimport_changes_the_header(self, tenant: Tenant, loyalty: Loyalty) -> None:
        load(tenant, "Customer", [{"customerNumber": "C-1", "email": "c1@x.com", "firstName": "A"}])
        load(
            tenant,
            "Customer",
            [
                {
                    "customerNumber": "C-1",
                    "email": "c1@x.com",
                    "firstName": "Bea",
                    "lastName": "Moss",
                    "birthday": "1985-12-31T00:00:00Z",
                    "homePhone": "555-1",
                }
            ],
        )
        header = loyalty.get("/account/C-1").json()["header"]
        assert (header["firstName"], header["lastName"], header["birthdate"], header["phone"]) == (
            "Bea",
            "Moss",
            "1985-12-31",
            "555-1",
        )
        assert len(loyalty.get("/accounts").json()) == 1

    def test_registered_account_is_linked_not_duplicated(
        self, tenant: Tenant, loyalty: Loyalty
    ) -> None:
        assert loyalty.my_get("C-7", "/account/my").json()["header"]["email"] is None
        load(tenant, "Customer", [{"customerNumber": "C-7", "email": "seven@x.com"}])
        body = loyalty.my_get("C-7", "/account/my").json()
        assert body["id"] == "C-7"
        assert body["header"]["email"] == "seven@x.com"
        assert [a["id"] for a in loyalty.get("/accounts").json()] == ["C-7"]

    def test_listrak_loyalty_block(self, tenant: Tenant, loyalty: Loyalty) -> None:
        block = {"availablePoints": 120, "rewardsID": "CARD-1", "referralCode": "REF9"}
        load(tenant, "Customer", [{"customerNumber": "C-2", "email": "c2@x.com", "loyalty": block}])
        body = loyalty.get("/account/C-2").json()
        assert body["card"] == "CARD-1"
        assert body["mgm"] == "REF9"
        assert body["wallet"] == {"balance": 0, "imported": block}
        assert loyalty.get("/account/card/CARD-1").json()["id"] == "C-2"

    def test_unchanged_reimport_queues_no_sync(self, tenant: Tenant) -> None:
        from retailhub.db import session_scope
        from retailhub.models import Job

        records = [{"customerNumber": "C-3", "email": "c3@x.com"}]
        load(tenant, "Customer", records)
        load(tenant, "Customer", records)
        with session_scope() as session:
            jobs = list(
                session.scalars(
                    select(Job.args).where(
                        Job.tenant_id == tenant_pk(tenant.slug), Job.task == "loyalty.sync"
                    )
                )
            )
        assert jobs == [{"entity": "Customer", "keys": [["C-3", "c3@x.com"]]}]


class TestOrderSync:
    def test_orders_update_counters_last_order_venues_segment(
        self, tenant: Tenant, loyalty: Loyalty, clock: Any
    ) -> None:
        clock.freeze(NOW)
        load(tenant, "Customer", [{"customerNumber": "C-1", "email": "c1@x.com"}])
        load(
            tenant,
            "Order",
            [
                order("O1", 10, 50.5, customerNumber="C-1", storeNumber="S1"),
                order("O2", 60, 20, customerNumber="C-1", storeNumber="S2"),
                order("O3", 200, 30, email="C1@X.com", storeNumber="S1"),
            ],
        )
        body = loyalty.get("/account/C-1").json()
        assert body["counters"] == {
            "orders": 3,
            "value": 100.5,
            "orders_30d": 1,
            "value_30d": 50.5,
            "orders_90d": 2,
            "value_90d": 70.5,
            "orders_365d": 3,
            "value_365d": 100.5,
        }
        assert body["header"]["lastOrder"] == iso(NOW - timedelta(days=10))
        assert body["venues"] == ["S1", "S2"]
        assert body["segment"] == "active"

    def test_order_of_an_unknown_buyer_creates_the_account(
        self, tenant: Tenant, loyalty: Loyalty, clock: Any
    ) -> None:
        clock.freeze(NOW)
        load(
            tenant,
            "Order",
            [
                order("O1", 400, 10, customerNumber="C-9", email="nine@x.com"),
                order("O2", 100, 5, email="Guest@X.com"),
            ],
        )
        nine = loyalty.get("/account/C-9").json()
        assert (nine["header"]["email"], nine["counters"]["orders"], nine["segment"]) == (
            "nine@x.com",
            1,
            "lapsed",
        )
        guest = loyalty.get(f"/account/{email_id('guest@x.com')}").json()
        assert (guest["counters"]["orders"], guest["segment"]) == (1, "lapsing")
        # The customer imported later is the same account.
        load(tenant, "Customer", [{"customerNumber": "C-9", "firstName": "Nina"}])
        nine = loyalty.get("/account/C-9").json()
        assert (nine["header"]["firstName"], nine["counters"]["orders"]) == ("Nina", 1)
        assert len(loyalty.get("/accounts").json()) == 2

    def test_order_with_an_unknown_number_goes_to_the_email_account(
        self, tenant: Tenant, loyalty: Loyalty, clock: Any
    ) -> None:
        clock.freeze(NOW)
        load(tenant, "Customer", [{"customerNumber": "C-1", "email": "c1@x.com"}])
        load(tenant, "Order", [order("O1", 1, 12.25, customerNumber="POS-77", email="c1@x.com")])
        body = loyalty.get("/account/C-1").json()
        assert (body["counters"]["orders"], body["counters"]["value"]) == (1, 12.25)
        assert [a["id"] for a in loyalty.get("/accounts").json()] == ["C-1"]

    def test_returned_order_leaves_the_counters(
        self, tenant: Tenant, loyalty: Loyalty, clock: Any
    ) -> None:
        clock.freeze(NOW)
        load(
            tenant,
            "Order",
            [
                order("O1", 5, 40, customerNumber="C-1", storeNumber="S1"),
                order("O2", 3, 60, customerNumber="C-1", storeNumber="S2"),
            ],
        )
        assert loyalty.get("/account/C-1").json()["counters"]["orders"] == 2
        load(tenant, "Order", [order("O2", 3, 60, customerNumber="C-1", status="Returned")])
        body = loyalty.get("/account/C-1").json()
        assert (body["counters"]["orders"], body["counters"]["value_30d"]) == (1, 40)
        assert body["header"]["lastOrder"] == iso(NOW - timedelta(days=5))
        assert body["venues"] == ["S1"]
        load(tenant, "Order", [order("O1", 5, 40, customerNumber="C-1", status="Canceled")])
        body = loyalty.get("/account/C-1").json()
        assert (body["counters"]["orders"], body["segment"], body["header"]["lastOrder"]) == (
            0,
            "new",
            None,
        )
        assert body["venues"] == []

    def test_vip_by_count_and_by_value(self, tenant: Tenant, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(NOW)
        many = [order(f"A{i}", 300 + i, 1, customerNumber="C-A") for i in range(10)]
        load(tenant, "Order", [*many, order("B1", 200, 1000, customerNumber="C-B")])
        assert loyalty.get("/account/C-A").json()["segment"] == "vip"
        assert loyalty.get("/account/C-B").json()["segment"] == "vip"
        load(tenant, "Order", [order("B1", 200, 999.99, customerNumber="C-B")])
        assert loyalty.get("/account/C-B").json()["segment"] == "lapsing"

    def test_windows_follow_the_clock_through_the_tick(
        self, tenant: Tenant, loyalty: Loyalty, clock: Any
    ) -> None:
        from retailhub.loyalty import tick

        clock.freeze(NOW)
        load(tenant, "Order", [order("O1", 10, 25, customerNumber="C-1")])
        assert loyalty.get("/account/C-1").json()["segment"] == "active"
        clock.shift(timedelta(days=100))
        tick.run_once()
        body = loyalty.get("/account/C-1").json()
        assert body["counters"] == {
            "orders": 1,
            "value": 25,
            "orders_30d": 0,
            "value_30d": 0,
            "orders_90d": 0,
            "value_90d": 0,
            "orders_365d": 1,
            "value_365d": 25,
        }
        assert body["segment"] == "lapsing"
        clock.shift(timedelta(days=300))
        tick.run_once()
        body = loyalty.get("/account/C-1").json()
        assert (body["counters"]["orders_365d"], body["segment"]) == (0, "lapsed")

    def test_windows_refresh_once_a_day(self, tenant: Tenant, loyalty: Loyalty, clock: Any) -> None:
        from retailhub.db import session_scope
        from retailhub.loyalty import tick
        from retailhub.models import Tenant as TenantRow

        clock.freeze(NOW)
        load(tenant, "Order", [order("O1", 29.8, 25, customerNumber="C-1")])
        tick.run_once()
        with session_scope() as session:
            row = session.get(TenantRow, tenant_pk(tenant.slug))
            assert row is not None
            assert row.settings["loyalty_windows_refreshed"] == "2024-06-01"
        clock.shift(timedelta(hours=11))  # same day: no refresh
        tick.run_once()
        assert loyalty.get("/account/C-1").json()["counters"]["orders_30d"] == 1
        clock.shift(timedelta(hours=1))  # the next day
        tick.run_once()
        assert loyalty.get("/account/C-1").json()["counters"]["orders_30d"] == 0

    def test_other_modules_hear_of_the_orders(
        self, tenant: Tenant, loyalty: Loyalty, clock: Any, monkeypatch: Any
    ) -> None:
        from retailhub.loyalty.campaign import service as campaign_service
        from retailhub.loyalty.coupon import service as coupon_service
        from retailhub.loyalty.wallet import service as wallet_service

        calls: list[tuple[str, Any]] = []
        monkeypatch.setattr(
            coupon_service,
            "redeem_from_orders",
            lambda s, *, tenant_id, orders: calls.append(("redeem", orders)),
        )
        monkeypatch.setattr(
            wallet_service,
            "reverse_for_orders",
            lambda s, *, tenant_id, order_numbers: calls.append(("reverse", order_numbers)),
        )
        monkeypatch.setattr(
            campaign_service,
            "on_orders",
            lambda s, *, tenant_id, orders: calls.append(("orders", orders)),
        )
        monkeypatch.setattr(
            campaign_service,
            "on_accounts_changed",
            lambda s, *, tenant_id, account_pks: calls.append(("changed", len(account_pks))),
        )
        clock.freeze(NOW)
        load(
            tenant,
            "Order",
            [
                order(
                    "O1",
                    1,
                    30,
                    customerNumber="C-1",
                    storeNumber="S1",
                    couponCode="WELCOME",
                    items=[
                        {"orderNumber": "O1", "sku": "SKU-B"},
                        {"orderNumber": "O1", "sku": "SKU-A"},
                    ],
                ),
                order("O2", 2, 15, customerNumber="C-1", status="Returned"),
            ],
        )
        assert [c[0] for c in calls] == ["redeem", "reverse", "orders", "changed"]
        (fact,) = calls[0][1]
        assert fact.order_number == "O1"
        assert (fact.total, fact.store_number, fact.coupon_code, fact.skus, fact.status) == (
            30,
            "S1",
            "WELCOME",
            ("SKU-B", "SKU-A"),
            "Completed",
        )
        assert fact.ordered_at.replace(tzinfo=UTC) == NOW - timedelta(days=1)
        assert calls[1][1] == ["O2"]
        assert calls[2][1] == calls[0][1]
        assert calls[3][1] == 1

    def test_order_items_resync_their_orders(self, tenant: Tenant, clock: Any) -> None:
        """Order item files (no REST route) queue the sync of the items' orders."""
        from retailhub.db import session_scope
        from retailhub.loyalty.account import sync
        from retailhub.models import Job

        clock.freeze(NOW)
        load(tenant, "Order", [order("O1", 1, 30, customerNumber="C-1")])
        pk = tenant_pk(tenant.slug)
        with session_scope(write=True) as session:
            keys = [("O2", "S"), ("O1", "T"), ("O1", "S")]
            sync.enqueue(session, tenant_id=pk, entity="OrderItem", keys=keys)
        wait_synced(tenant)
        with session_scope() as session:
            jobs = list(
                session.scalars(
                    select(Job.args)
                    .where(Job.tenant_id == pk, Job.task == "loyalty.sync")
                    .order_by(Job.id)
                )
            )
        assert jobs == [
            {"entity": "Order", "keys": ["O1"]},
            {"entity": "Order", "keys": ["O1", "O2"]},
        ]

    def test_sync_is_idempotent(self, tenant: Tenant, loyalty: Loyalty, clock: Any) -> None:
        from retailhub.db import session_scope
        from retailhub.loyalty.account import sync

        clock.freeze(NOW)
        load(tenant, "Customer", [{"customerNumber": "C-1", "email": "c1@x.com"}])
        load(tenant, "Order", [order("O1", 1, 30, customerNumber="C-1", storeNumber="S")])
        before = loyalty.get("/account/C-1").json()
        with session_scope(write=True) as session:
            pk = tenant_pk(tenant.slug)
            sync.sync(session, tenant_id=pk, entity="Customer", keys=[["C-1", "c1@x.com"]])
            sync.sync(session, tenant_id=pk, entity="Order", keys=["O1"])
        assert loyalty.get("/account/C-1").json() == before
        assert len(loyalty.get("/accounts").json()) == 1

    def test_tenant_isolation(
        self, tenant: Tenant, loyalty: Loyalty, other_loyalty: Loyalty
    ) -> None:
        load(tenant, "Customer", [{"customerNumber": "C-1", "email": "c1@x.com"}])
        assert other_loyalty.get("/account/C-1").status_code == 404
        assert other_loyalty.get("/accounts").json() == []
        assert other_loyalty.get("/accounts/count").json() == {"count": 0}
