"""Point wallets: earn, FIFO spend, expiry, reversal by returned orders, reading the ledger,
on both backends."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from retailhub.db import session_scope
from retailhub.loyalty import tick
from retailhub.loyalty.account import service as account_service
from retailhub.loyalty.wallet import service as wallet_service
from retailhub.models import Job, LoyaltyWalletEntry
from tests.conftest import Tenant
from tests.loyalty import Loyalty

T0 = datetime(2031, 6, 1, 8, 0, tzinfo=UTC)


def load(tenant: Tenant, records: list[dict[str, Any]]) -> None:
    """Import orders and wait for the import and its loyalty sync jobs."""
    result = tenant.run("Order", records)
    assert result["status"] == "succeeded", result
    deadline = time.monotonic() + 60
    while True:
        with session_scope() as session:
            statuses = list(
                session.scalars(
                    select(Job.status).where(
                        Job.tenant_id == tenant.creds["tenant_id"], Job.task == "loyalty.sync"
                    )
                )
            )
        assert "failed" not in statuses
        if statuses and all(s == "succeeded" for s in statuses):
            return
        assert time.monotonic() < deadline, f"loyalty sync did not finish: {statuses}"
        time.sleep(0.05)


def account_pk(loyalty: Loyalty, account: str = "acc-1") -> int:
    loyalty.user_headers(account)  # the token exchange registers the account
    with session_scope() as session:
        return account_service.get(
            session, tenant_id=loyalty.creds["tenant_id"], account_id=account
        ).id


def earn(loyalty: Loyalty, points: int, account: str = "acc-1", **body: Any) -> dict[str, Any]:
    account_pk(loyalty, account)
    response = loyalty.post(f"/account/{account}/wallet/earn", {"points": points, **body})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def spend(loyalty: Loyalty, points: int, account: str = "acc-1", **body: Any) -> Any:
    return loyalty.post(f"/account/{account}/wallet/spend", {"points": points, **body})


def wallet(loyalty: Loyalty, account: str = "acc-1", **params: Any) -> dict[str, Any]:
    response = loyalty.get(f"/account/{account}/wallet", **params)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def ledger(loyalty: Loyalty, account: str = "acc-1") -> list[tuple[str, int, int | None]]:
    """(kind, points, earn id) of every entry, oldest first."""
    pk = account_pk(loyalty, account)
    with session_scope() as session:
        rows = session.execute(
            select(LoyaltyWalletEntry.kind, LoyaltyWalletEntry.points, LoyaltyWalletEntry.earn_pk)
            .where(LoyaltyWalletEntry.account_pk == pk)
            .order_by(LoyaltyWalletEntry.id)
        ).all()
    return [(str(r[0]), int(r[1]), r[2]) for r in rows]


def expire(loyalty: Loyalty, now: datetime) -> None:
    with session_scope(write=True) as session:
        wallet_service.expire_due(session, tenant_id=loyalty.creds["tenant_id"], now=now)


def reverse(loyalty: Loyalty, *numbers: str) -> None:
    with session_scope(write=True) as session:
        wallet_service.reverse_for_orders(
            session, tenant_id=loyalty.creds["tenant_id"], order_numbers=list(numbers)
        )


class TestEarn:
    def test_earn_answers_the_new_balance_and_the_entry(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        body = earn(loyalty, 120, expiresInDays=30, source="welcome", orderNumber="O-1")
        [entry] = body["entries"]
        assert body == {
            "account": "acc-1",
            "balance": 120,
            "available": 120,
            "entries": [
                {
                    "id": entry["id"],
                    "kind": "earn",
                    "points": 120,
                    "earnId": None,
                    "remaining": 120,
                    "expiresAt": "2031-07-01T08:00:00Z",
                    "source": "welcome",
                    "orderNumber": "O-1",
                    "createdAt": "2031-06-01T08:00:00Z",
                }
            ],
        }

    def test_defaults_never_expire_and_source_api(self, loyalty: Loyalty) -> None:
        [entry] = earn(loyalty, 5)["entries"]
        assert (entry["expiresAt"], entry["source"], entry["orderNumber"]) == (None, "api", None)

    def test_balance_adds_up(self, loyalty: Loyalty) -> None:
        earn(loyalty, 5)
        assert earn(loyalty, 7)["balance"] == 12

    def test_validation_names_the_field(self, loyalty: Loyalty) -> None:
        account_pk(loyalty)
        cases = [
            ({"points": 0}, "points"),
            ({"points": -3}, "points"),
            ({"points": "many"}, "points"),
            ({}, "points"),
            ({"points": 1, "expiresInDays": 0}, "expiresInDays"),
            ({"points": 1, "source": "x" * 161}, "source"),
            ({"points": 1, "orderNumber": "x" * 51}, "orderNumber"),
        ]
        for body, field in cases:
            response = loyalty.post("/account/acc-1/wallet/earn", body)
            assert response.status_code == 400, body
            assert response.json()["field"] == field, (body, response.json())
        assert wallet(loyalty)["balance"] == 0

    def test_unknown_account_is_404(self, loyalty: Loyalty) -> None:
        response = loyalty.post("/account/nobody/wallet/earn", {"points": 1})
        assert response.status_code == 404

    def test_bad_account_id_names_the_field(self, loyalty: Loyalty) -> None:
        response = loyalty.post("/account/ab/wallet/earn", {"points": 1})
        assert (response.status_code, response.json()["field"]) == (400, "account")

    def test_needs_role_loyalty(self, client: Any, loyalty: Loyalty) -> None:
        account_pk(loyalty)
        token = loyalty.service_token(scope="ROLE_LOYALTY_STATS")
        response = client.post(
            "/loyalty-api/api/account/acc-1/wallet/earn",
            json={"points": 1},
            headers={"Authorization": f"Bearer {token}", "x-tenant": loyalty.slug},
        )
        assert response.status_code == 403

    def test_end_user_cannot_earn(self, loyalty: Loyalty) -> None:
        response = loyalty.my_post("acc-1", "/account/acc-1/wallet/earn", {"points": 1})
        assert response.status_code == 403


class TestSpend:
    def test_fifo_across_three_earns_with_different_expiries(
        self, loyalty: Loyalty, clock: Any
    ) -> None:
        clock.freeze(T0)
        a = earn(loyalty, 100, expiresInDays=30)["entries"][0]["id"]
        clock.shift(timedelta(minutes=1))
        b = earn(loyalty, 50, expiresInDays=10)["entries"][0]["id"]
        clock.shift(timedelta(minutes=1))
        c = earn(loyalty, 70)["entries"][0]["id"]
        response = spend(loyalty, 120, reference="order P-1")
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["balance"], body["available"]) == (100, 100)
        assert [(e["kind"], e["points"], e["earnId"], e["source"]) for e in body["entries"]] == [
            ("spend", -100, a, "order P-1"),
            ("spend", -20, b, "order P-1"),
        ]
        body = spend(loyalty, 50).json()
        assert [(e["points"], e["earnId"]) for e in body["entries"]] == [(-30, b), (-20, c)]
        earns = {e["id"]: e["remaining"] for e in wallet(loyalty, kind="earn")["entries"]}
        assert earns == {a: 0, b: 0, c: 50}
        assert wallet(loyalty)["balance"] == 50

    def test_spend_more_than_the_balance_is_409(self, loyalty: Loyalty) -> None:
        earn(loyalty, 30)
        response = spend(loyalty, 31)
        assert response.status_code == 409
        body = response.json()
        assert (body["error"], body["field"]) == ("Conflict", "points")
        assert body["message"] == "points: 31 requested but only 30 available"
        assert ledger(loyalty) == [("earn", 30, None)]

    def test_expired_points_cannot_be_spent(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        earn(loyalty, 40, expiresInDays=1)
        earn(loyalty, 10)
        clock.shift(timedelta(days=1))
        # Not expired by the ledger yet (no tick ran), but past its expiry: not spendable.
        body = wallet(loyalty)
        assert (body["balance"], body["available"]) == (50, 10)
        assert spend(loyalty, 11).status_code == 409
        assert spend(loyalty, 10).status_code == 200

    def test_spend_on_an_empty_wallet_is_409(self, loyalty: Loyalty) -> None:
        account_pk(loyalty)
        response = spend(loyalty, 1)
        assert response.status_code == 409
        assert response.json()["message"] == "points: 1 requested but only 0 available"

    def test_validation_names_the_field(self, loyalty: Loyalty) -> None:
        earn(loyalty, 10)
        for body, field in (
            ({"points": 0}, "points"),
            ({"points": 1, "reference": "r" * 161}, "reference"),
        ):
            response = loyalty.post("/account/acc-1/wallet/spend", body)
            assert (response.status_code, response.json()["field"]) == (400, field)

    def test_unknown_account_is_404(self, loyalty: Loyalty) -> None:
        assert spend(loyalty, 1, "nobody").status_code == 404


class TestExpiry:
    def test_tick_expires_the_unspent_remainder_once(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        a = earn(loyalty, 100, expiresInDays=10)["entries"][0]["id"]
        earn(loyalty, 25)
        assert spend(loyalty, 30).status_code == 200
        clock.shift(timedelta(days=10) - timedelta(seconds=1))
        tick.run_once()
        assert wallet(loyalty)["balance"] == 95
        clock.shift(timedelta(seconds=1))
        tick.run_once()
        tick.run_once()
        assert ledger(loyalty) == [
            ("earn", 100, None),
            ("earn", 25, None),
            ("spend", -30, a),
            ("expire", -70, a),
        ]
        body = wallet(loyalty)
        assert (body["balance"], body["available"]) == (25, 25)
        assert body["entries"][0]["kind"] == "expire"
        assert body["entries"][0]["source"] == "expiry"

    def test_a_fully_spent_earn_writes_no_expiry(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        earn(loyalty, 10, expiresInDays=1)
        spend(loyalty, 10)
        expire(loyalty, T0 + timedelta(days=2))
        assert [kind for kind, _p, _e in ledger(loyalty)] == ["earn", "spend"]

    def test_expiry_is_per_tenant(
        self, loyalty: Loyalty, other_loyalty: Loyalty, clock: Any
    ) -> None:
        clock.freeze(T0)
        earn(loyalty, 10, expiresInDays=1)
        earn(other_loyalty, 10, expiresInDays=1)
        expire(loyalty, T0 + timedelta(days=2))
        assert wallet(loyalty)["balance"] == 0
        assert wallet(other_loyalty)["balance"] == 10


class TestReversal:
    def test_reverses_the_points_of_the_order_once(self, loyalty: Loyalty) -> None:
        a = earn(loyalty, 80, orderNumber="O-1")["entries"][0]["id"]
        earn(loyalty, 20, orderNumber="O-2")
        reverse(loyalty, "O-1")
        reverse(loyalty, "O-1", "O-9")
        assert ledger(loyalty)[2:] == [("reverse", -80, a)]
        body = wallet(loyalty)
        assert (body["balance"], body["available"]) == (20, 20)
        assert body["entries"][0]["orderNumber"] == "O-1"

    def test_spent_points_leave_a_debt(self, loyalty: Loyalty) -> None:
        earn(loyalty, 100, orderNumber="O-1")
        spend(loyalty, 60)
        reverse(loyalty, "O-1")
        body = wallet(loyalty)
        assert (body["balance"], body["available"]) == (-60, 0)
        # Later points pay the debt back before they can be spent.
        body = earn(loyalty, 100)
        assert (body["balance"], body["available"]) == (40, 40)
        assert spend(loyalty, 41).status_code == 409
        assert spend(loyalty, 40).status_code == 200
        assert wallet(loyalty)["balance"] == 0

    def test_expired_points_are_not_reversed_again(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        a = earn(loyalty, 100, expiresInDays=5, orderNumber="O-1")["entries"][0]["id"]
        spend(loyalty, 30)
        expire(loyalty, T0 + timedelta(days=6))
        reverse(loyalty, "O-1")
        assert ledger(loyalty) == [
            ("earn", 100, None),
            ("spend", -30, a),
            ("expire", -70, a),
            ("reverse", -30, a),
        ]
        assert wallet(loyalty)["balance"] == -30

    def test_reversal_then_expiry_expires_nothing(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        earn(loyalty, 100, expiresInDays=5, orderNumber="O-1")
        reverse(loyalty, "O-1")
        expire(loyalty, T0 + timedelta(days=6))
        assert [kind for kind, _p, _e in ledger(loyalty)] == ["earn", "reverse"]
        assert wallet(loyalty)["balance"] == 0

    def test_a_returned_import_reverses(self, loyalty: Loyalty, tenant: Tenant) -> None:
        order = {
            "orderNumber": "W-1",
            "customerNumber": "C200",
            "email": "c200@example.com",
            "status": "Completed",
            "orderTotal": 50.0,
        }
        load(tenant, [order])
        earn(loyalty, 50, "C200", orderNumber="W-1")
        load(tenant, [{**order, "status": "Returned"}])
        load(tenant, [{**order, "status": "Returned"}])
        assert [(k, p) for k, p, _e in ledger(loyalty, "C200")] == [("earn", 50), ("reverse", -50)]
        assert wallet(loyalty, "C200")["balance"] == 0


class TestReadWallet:
    def test_entries_newest_first_with_react_admin_headers(self, loyalty: Loyalty) -> None:
        for points in (1, 2, 3):
            earn(loyalty, points)
        response = loyalty.get("/account/acc-1/wallet")
        assert response.status_code == 200
        assert [e["points"] for e in response.json()["entries"]] == [3, 2, 1]
        assert response.headers["X-Total-Count"] == "3"
        assert response.headers["Content-Range"] == "entries 0-2/3"

    def test_json_server_paging_and_sort(self, loyalty: Loyalty) -> None:
        for points in (5, 1, 3, 2):
            earn(loyalty, points)
        response = loyalty.get(
            "/account/acc-1/wallet", _start=1, _end=3, _sort="points", _order="ASC"
        )
        assert [e["points"] for e in response.json()["entries"]] == [2, 3]
        assert response.headers["X-Total-Count"] == "4"
        assert response.headers["Content-Range"] == "entries 1-2/4"
        assert response.json()["balance"] == 11

    def test_simple_rest_range_and_filter(self, loyalty: Loyalty) -> None:
        earn(loyalty, 10)
        earn(loyalty, 20)
        spend(loyalty, 15)
        response = loyalty.get("/account/acc-1/wallet", range="[0,0]", filter='{"kind":"earn"}')
        assert [e["points"] for e in response.json()["entries"]] == [20]
        assert response.headers["Content-Range"] == "entries 0-0/2"

    def test_unknown_kind_and_sort_name_the_field(self, loyalty: Loyalty) -> None:
        account_pk(loyalty)
        response = loyalty.get("/account/acc-1/wallet", kind="gift")
        assert (response.status_code, response.json()["field"]) == (400, "kind")
        response = loyalty.get("/account/acc-1/wallet", _sort="secret")
        assert (response.status_code, response.json()["field"]) == (400, "sort")

    def test_empty_wallet(self, loyalty: Loyalty) -> None:
        account_pk(loyalty)
        response = loyalty.get("/account/acc-1/wallet")
        assert response.json() == {"account": "acc-1", "balance": 0, "available": 0, "entries": []}
        assert response.headers["Content-Range"] == "entries */0"

    def test_my_wallet(self, loyalty: Loyalty) -> None:
        earn(loyalty, 9)
        earn(loyalty, 4, "acc-2")
        response = loyalty.my_get("acc-1", "/account/my/wallet")
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["account"], body["balance"], len(body["entries"])) == ("acc-1", 9, 1)
        assert response.headers["X-Total-Count"] == "1"

    def test_my_wallet_needs_a_user_token(self, loyalty: Loyalty) -> None:
        assert loyalty.get("/account/my/wallet").status_code == 403

    def test_service_wallet_needs_a_service_token(self, loyalty: Loyalty) -> None:
        account_pk(loyalty)
        assert loyalty.my_get("acc-1", "/account/acc-1/wallet").status_code == 403

    def test_unknown_account_is_404(self, loyalty: Loyalty) -> None:
        assert loyalty.get("/account/nobody/wallet").status_code == 404


class TestTenantIsolation:
    def test_other_tenant_cannot_read_or_spend(
        self, client: Any, loyalty: Loyalty, other_loyalty: Loyalty
    ) -> None:
        earn(loyalty, 50)
        assert other_loyalty.get("/account/acc-1/wallet").status_code == 404
        assert spend(other_loyalty, 1).status_code == 404
        token = other_loyalty.service_token()
        response = client.get(
            "/loyalty-api/api/account/acc-1/wallet",
            headers={"Authorization": f"Bearer {token}", "x-tenant": loyalty.slug},
        )
        assert response.status_code == 403
        account_pk(other_loyalty, "acc-1")
        assert wallet(other_loyalty)["balance"] == 0
        assert wallet(loyalty)["balance"] == 50
