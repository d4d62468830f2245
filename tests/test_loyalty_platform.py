"""One platform: imported customers and orders drive campaigns, coupons and wallets, end to
end through the Data import API and the loyalty API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.conftest import Tenant
from tests.loyalty import Loyalty
from tests.test_loyalty_sync import NOW, iso, load, order


def create_running(loyalty: Loyalty, campaign: dict[str, Any]) -> None:
    response = loyalty.post("/campaign", campaign)
    assert response.status_code == 200, response.text
    response = loyalty.post(f"/campaign/{campaign['id']}/initialize")
    assert response.status_code == 200, response.text


class TestImportedDataDrivesCampaigns:
    def test_dynamic_join_coupon_and_redemption_by_an_imported_order(
        self, tenant: Tenant, loyalty: Loyalty, clock: Any
    ) -> None:
        clock.freeze(NOW)
        create_running(
            loyalty,
            {
                "id": "welcome",
                "type": "STANDARD",
                "name": "Welcome coupon",
                "dynamic": True,
                "constraints": [{"field": "header.firstName", "op": "EXISTS"}],
                "states": [{"id": "gift", "type": "COUPON", "validDays": 30}],
            },
        )
        load(
            tenant, "Customer", [{"customerNumber": "C-1", "email": "a@x.com", "firstName": "Ann"}]
        )

        account = loyalty.get("/account/C-1").json()
        assert account["campaigns"] == [{"id": "welcome", "state": None}]
        assert len(account["coupons"]) == 1
        code = account["coupons"][0]
        verdict = loyalty.post("/account/coupon/verify", coupon=code, account="C-1").json()
        assert (verdict["valid"], verdict["reason"]) == (True, None)

        load(tenant, "Order", [order("O-1", 1, 80, customerNumber="C-1", couponCode=code)])

        verdict = loyalty.post("/account/coupon/verify", coupon=code, account="C-1").json()
        assert (verdict["valid"], verdict["reason"]) == (False, "USED_UP")
        assert loyalty.get("/account/C-1").json()["coupons"] == []
        stats = loyalty.get("/stats/campaign/global", name="welcome").json()
        assert (stats["joined"], stats["couponsIssued"], stats["couponsRedeemed"]) == (1, 1, 1)
        assert (stats["cnt"], stats["active"], stats["finished"]) == (1, 0, 1)
        assert loyalty.get("/campaign/welcome").json()["cnt"] == 1

    def test_order_state_credits_points_that_a_cancellation_reverses(
        self, tenant: Tenant, loyalty: Loyalty, clock: Any
    ) -> None:
        # The campaign starts before the orders are placed (orders placed before an account
        # reaches an ORDER state do not count).
        clock.freeze(NOW - timedelta(days=3))
        load(tenant, "Customer", [{"customerNumber": "C-2", "email": "b@x.com", "firstName": "Bo"}])
        create_running(
            loyalty,
            {
                "id": "spend50",
                "type": "STANDARD",
                "name": "Spend 50, get 100 points",
                "constraints": [{"field": "header.firstName", "op": "EQ", "value": ["Bo"]}],
                "states": [
                    {"id": "buy", "type": "ORDER", "minTotal": 50, "transitionTo": "points"},
                    {"id": "points", "type": "WALLET", "points": 100, "expiresInDays": 365},
                ],
            },
        )
        assert loyalty.get("/account/C-2").json()["campaigns"] == [
            {"id": "spend50", "state": "buy"}
        ]
        clock.freeze(NOW)
        # Too small an order leaves the account waiting.
        load(tenant, "Order", [order("O-2", 2, 20, customerNumber="C-2")])
        assert loyalty.get("/account/C-2").json()["campaigns"] == [
            {"id": "spend50", "state": "buy"}
        ]
        load(tenant, "Order", [order("O-3", 1, 75, customerNumber="C-2")])
        account = loyalty.get("/account/C-2").json()
        assert account["campaigns"] == [{"id": "spend50", "state": None}]
        assert account["wallet"]["balance"] == 100
        wallet = loyalty.get("/account/C-2/wallet").json()
        earn = wallet["entries"][0]
        assert (earn["kind"], earn["points"], earn["orderNumber"]) == ("earn", 100, "O-3")
        assert earn["expiresAt"] == iso(NOW + timedelta(days=365))

        load(tenant, "Order", [order("O-3", 1, 75, customerNumber="C-2", status="Canceled")])

        assert loyalty.get("/account/C-2").json()["wallet"]["balance"] == 0
        kinds = [e["kind"] for e in loyalty.get("/account/C-2/wallet").json()["entries"]]
        assert sorted(kinds) == ["earn", "reverse"]
        stats = loyalty.get("/stats/campaign/global", name="spend50").json()
        assert stats["stateStats"] == {"buy": 1, "points": 1}

    def test_a_customer_of_another_tenant_never_joins(
        self, tenant: Tenant, other_tenant: Tenant, loyalty: Loyalty, clock: Any
    ) -> None:
        clock.freeze(NOW)
        create_running(
            loyalty,
            {
                "id": "everyone",
                "type": "STANDARD",
                "name": "Everyone",
                "dynamic": True,
                "constraints": [{"field": "header.firstName", "op": "EXISTS"}],
                "states": [{"id": "hi", "type": "MESSAGE", "title": "Hi", "message": "Hello"}],
            },
        )
        load(
            other_tenant,
            "Customer",
            [{"customerNumber": "X-1", "email": "x@x.com", "firstName": "Xi"}],
        )
        assert loyalty.get("/account/X-1").status_code == 404
        assert loyalty.get("/campaign/everyone").json()["cnt"] == 0
