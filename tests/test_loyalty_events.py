"""postEvent: relations with their mirror, consents, card addressing, validation."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Tenant
from tests.loyalty import API, Loyalty
from tests.test_loyalty_sync import load, tenant_pk

TS = "2024-03-01T10:00:00Z"


def relations(loyalty: Loyalty, account: str) -> list[dict[str, Any]]:
    response = loyalty.get(f"/account/{account}")
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()["relations"]
    return result


def stored_events(tenant: Tenant) -> list[tuple[str, str, dict[str, Any]]]:
    from sqlalchemy import select

    from retailhub.db import session_scope
    from retailhub.models import LoyaltyAccount, LoyaltyEvent

    with session_scope() as session:
        rows = session.execute(
            select(LoyaltyAccount.account_id, LoyaltyEvent.type, LoyaltyEvent.body)
            .join(LoyaltyAccount, LoyaltyAccount.id == LoyaltyEvent.account_pk)
            .where(LoyaltyEvent.tenant_id == tenant_pk(tenant.slug))
            .order_by(LoyaltyEvent.id)
        )
        return [(a, t, b) for a, t, b in rows]


def bad(response: Any, status: int, field: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert (body["status"], body["field"]) == (status, field), body
    assert body["message"].startswith(field)


class TestRelations:
    def test_symmetry(self, loyalty: Loyalty) -> None:
        response = loyalty.post(
            "/events",
            [
                {"account": "ann", "type": "INVITED_BY", "id": "bob", "ts": TS},
                {"account": "ann", "type": "FRIEND", "id": "cyd", "ts": TS},
                {"account": "dan", "type": "UNKNOWN", "id": "ann", "ts": TS},
                {"account": "bob", "type": "INVITED", "id": "eve", "ts": TS},
            ],
        )
        assert response.status_code == 200, response.text
        assert response.json() == [
            {"account": "ann", "type": "INVITED_BY", "id": "bob"},
            {"account": "ann", "type": "FRIEND", "id": "cyd"},
            {"account": "dan", "type": "UNKNOWN", "id": "ann"},
            {"account": "bob", "type": "INVITED", "id": "eve"},
        ]
        assert relations(loyalty, "ann") == [
            {"id": "bob", "at": TS, "type": "INVITED_BY"},
            {"id": "cyd", "at": TS, "type": "FRIEND"},
            {"id": "dan", "at": TS, "type": "UNKNOWN"},
        ]
        assert relations(loyalty, "bob") == [
            {"id": "ann", "at": TS, "type": "INVITED"},
            {"id": "eve", "at": TS, "type": "INVITED"},
        ]
        assert relations(loyalty, "cyd") == [{"id": "ann", "at": TS, "type": "FRIEND"}]
        assert relations(loyalty, "dan") == [{"id": "ann", "at": TS, "type": "UNKNOWN"}]
        assert relations(loyalty, "eve") == [{"id": "bob", "at": TS, "type": "INVITED_BY"}]

    def test_do_not_process_symmetry(self, loyalty: Loyalty) -> None:
        body = [{"account": "ann", "type": "FRIEND", "id": "zed", "doNotProcessSymmetry": True}]
        assert loyalty.post("/events", body).status_code == 200
        assert [r["id"] for r in relations(loyalty, "ann")] == ["zed"]
        assert loyalty.get("/account/zed").status_code == 404

    def test_no_duplicates_on_repost(self, loyalty: Loyalty) -> None:
        body = [{"account": "ann", "type": "FRIEND", "id": "bob", "ts": TS}]
        assert loyalty.post("/events", body).status_code == 200
        later = [{"account": "bob", "type": "FRIEND", "id": "ann", "ts": "2024-05-01T00:00:00Z"}]
        assert loyalty.post("/events", later).status_code == 200
        assert loyalty.post("/events", body).status_code == 200
        assert relations(loyalty, "ann") == [{"id": "bob", "at": TS, "type": "FRIEND"}]
        assert relations(loyalty, "bob") == [{"id": "ann", "at": TS, "type": "FRIEND"}]

    def test_existing_accounts_keep_their_data(self, tenant: Tenant, loyalty: Loyalty) -> None:
        load(tenant, "Customer", [{"customerNumber": "C-1", "email": "c1@x.com"}])
        body = [{"account": "new-1", "type": "INVITED_BY", "id": "C-1"}]
        assert loyalty.post("/events", body).status_code == 200
        account = loyalty.get("/account/C-1").json()
        assert account["header"]["email"] == "c1@x.com"
        assert [(r["id"], r["type"]) for r in account["relations"]] == [("new-1", "INVITED")]

    def test_last_event_and_history(self, tenant: Tenant, loyalty: Loyalty, clock: Any) -> None:
        from datetime import UTC, datetime

        clock.freeze(datetime(2024, 6, 1, 8, 30, tzinfo=UTC))
        body = [{"account": "ann", "type": "FRIEND", "id": "bob", "ts": TS}]
        assert loyalty.post("/events", body).status_code == 200
        assert loyalty.get("/account/ann").json()["header"]["lastEvent"] == "2024-06-01T08:30:00Z"
        assert loyalty.get("/account/bob").json()["header"]["lastEvent"] is None
        assert stored_events(tenant) == [
            (
                "ann",
                "FRIEND",
                {
                    "type": "FRIEND",
                    "id": "bob",
                    "ts": TS,
                    "doNotProcessSymmetry": False,
                    "account": "ann",
                },
            )
        ]


class TestConsents:
    def test_account_scope_merges(self, loyalty: Loyalty) -> None:
        def post(consents: dict[str, str]) -> None:
            event = {
                "account": "ann",
                "type": "UNKNOWN",
                "id": "bob",
                "doNotProcessSymmetry": True,
                "consents": {"scope": "ACCOUNT", "consents": consents},
            }
            assert loyalty.post("/events", [event]).status_code == 200

        post({"TERMS_AND_CONDITIONS": TS, "COMMUNICATION_EMAIL": TS})
        post({"COMMUNICATION_EMAIL": "2024-04-01T00:00:00Z"})
        assert loyalty.get("/account/ann").json()["consents"] == {
            "scope": "ACCOUNT",
            "consents": {"TERMS_AND_CONDITIONS": TS, "COMMUNICATION_EMAIL": "2024-04-01T00:00:00Z"},
        }

    def test_transaction_scope_lives_only_in_the_event(
        self, tenant: Tenant, loyalty: Loyalty
    ) -> None:
        consents = {"scope": "TRANSACTION", "transaction": "order-9.1", "consents": {"SMS": TS}}
        event = {"account": "ann", "type": "FRIEND", "id": "bob", "ts": TS, "consents": consents}
        assert loyalty.post("/events", [event]).status_code == 200
        assert loyalty.get("/account/ann").json()["consents"] == {
            "scope": "ACCOUNT",
            "consents": {},
        }
        ((_account, _type, stored),) = stored_events(tenant)
        assert stored["consents"] == consents


class TestCard:
    def test_card_addresses_the_account(self, tenant: Tenant, loyalty: Loyalty) -> None:
        block = {"rewardsID": "CARD-7"}
        load(tenant, "Customer", [{"customerNumber": "C-7", "email": "c7@x.com", "loyalty": block}])
        body = [{"card": "CARD-7", "type": "INVITED", "id": "friend-1", "ts": TS}]
        response = loyalty.post("/events", body)
        assert response.status_code == 200, response.text
        assert response.json() == [{"account": "C-7", "type": "INVITED", "id": "friend-1"}]
        assert relations(loyalty, "C-7") == [{"id": "friend-1", "at": TS, "type": "INVITED"}]
        assert relations(loyalty, "friend-1") == [{"id": "C-7", "at": TS, "type": "INVITED_BY"}]
        both = [{"account": "C-7", "card": "CARD-7", "type": "FRIEND", "id": "x-1"}]
        assert loyalty.post("/events", both).status_code == 200

    def test_unknown_card_rejects_the_array(self, loyalty: Loyalty) -> None:
        body = [
            {"account": "ann", "type": "FRIEND", "id": "bob"},
            {"card": "NO-SUCH", "type": "FRIEND", "id": "bob"},
        ]
        bad(loyalty.post("/events", body), 404, "[1].card")
        assert loyalty.get("/account/ann").status_code == 404

    def test_card_of_another_account(self, tenant: Tenant, loyalty: Loyalty) -> None:
        load(tenant, "Customer", [{"customerNumber": "C-7", "loyalty": {"rewardsID": "CARD-7"}}])
        body = [{"account": "ann", "card": "CARD-7", "type": "FRIEND", "id": "bob"}]
        bad(loyalty.post("/events", body), 400, "[0].card")


class TestValidation:
    def test_each_field(self, loyalty: Loyalty) -> None:
        ok = {"account": "ann", "type": "FRIEND", "id": "bob"}
        cases: list[tuple[Any, str]] = [
            ({**ok, "type": "ENEMY"}, "[1].type"),
            ({"account": "ann", "id": "bob"}, "[1].type"),
            ({**ok, "id": None}, "[1].id"),
            ({**ok, "id": "b b"}, "[1].id"),
            ({**ok, "id": "ann"}, "[1].id"),
            ({**ok, "account": "ab"}, "[1].account"),
            ({**ok, "account": "a" * 65}, "[1].account"),
            ({"type": "FRIEND", "id": "bob"}, "[1].account"),
            ({**ok, "account": None, "card": "c$d"}, "[1].card"),
            ({**ok, "ts": "yesterday"}, "[1].ts"),
            ({**ok, "doNotProcessSymmetry": "yes"}, "[1].doNotProcessSymmetry"),
            ({**ok, "consents": "all"}, "[1].consents"),
            ({**ok, "consents": {"scope": "GLOBAL", "consents": {}}}, "[1].consents.scope"),
            ({**ok, "consents": {"scope": "ACCOUNT"}}, "[1].consents.consents"),
            (
                {
                    **ok,
                    "consents": {"scope": "TRANSACTION", "transaction": "t" * 129, "consents": {}},
                },
                "[1].consents.transaction",
            ),
            (
                {**ok, "consents": {"scope": "TRANSACTION", "transaction": "a b", "consents": {}}},
                "[1].consents.transaction",
            ),
            (
                {**ok, "consents": {"scope": "ACCOUNT", "consents": {"A": 1}}},
                "[1].consents.consents.A",
            ),
            ("text", "[1]"),
        ]
        for item, field in cases:
            bad(loyalty.post("/events", [ok, item]), 400, field)
        bad(loyalty.post("/events", {"account": "ann"}), 400, "body")
        bad(loyalty.post("/events", [ok] * 1001), 400, "body")
        # Nothing was stored by any refused request.
        assert loyalty.get("/account/ann").status_code == 404
        long_ok = {
            **ok,
            "consents": {"scope": "TRANSACTION", "transaction": "t" * 128, "consents": {}},
        }
        assert loyalty.post("/events", [long_ok]).status_code == 200
        assert loyalty.post("/events", []).json() == []

    def test_roles_and_tenants(
        self, client: TestClient, loyalty: Loyalty, other_loyalty: Loyalty
    ) -> None:
        body = [{"account": "ann", "type": "FRIEND", "id": "bob"}]
        assert client.post(API + "/events", json=body).status_code == 401
        headers = loyalty.user_headers("ann")
        assert client.post(API + "/events", json=body, headers=headers).status_code == 403
        token = loyalty.service_token(scope="ROLE_LOYALTY_CAMPAIGN")
        headers = {"Authorization": f"Bearer {token}", "x-tenant": loyalty.slug}
        assert client.post(API + "/events", json=body, headers=headers).status_code == 403
        assert other_loyalty.post("/events", body).status_code == 200
        assert other_loyalty.get("/account/ann").json()["relations"][0]["id"] == "bob"
        # This tenant's "ann" (created by its token exchange) is untouched.
        assert loyalty.get("/account/ann").json()["relations"] == []
        assert loyalty.get("/account/bob").status_code == 404
