"""Account endpoints: read (by id, card, my), profile, properties and tags, lists,
counts and exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Tenant
from tests.loyalty import API, Loyalty
from tests.test_loyalty_sync import NOW, iso, load, order, tenant_pk

CUSTOMERS = [
    {
        "customerNumber": "A-001",
        "email": "ann@example.com",
        "firstName": "Ann",
        "lastName": "Archer",
        "mobilePhone": "555-0001",
        "loyalty": {"rewardsID": "CARD-A"},
    },
    {
        "customerNumber": "B-002",
        "email": "bob@example.com",
        "firstName": "Bob",
        "lastName": "Baker",
    },
    {"customerNumber": "C-003", "email": "cy@example.org", "firstName": "Cy", "lastName": "Cole"},
]


def error(response: Any, status: int, field: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status
    assert body["field"] == field, body
    assert field in body["message"], body
    message: str = body["message"]
    return message


@pytest.fixture
def three(tenant: Tenant, loyalty: Loyalty, clock: Any) -> Loyalty:
    """A-001 (created NOW-2d, card, ordered 5 days ago, active), B-002 (created NOW-1d,
    ordered 200 days ago, lapsing), C-003 (created NOW, no orders, new); A-001 holds tag
    my_vegan, B-002 my_vegan and my_kids."""
    clock.freeze(NOW)
    load(tenant, "Customer", CUSTOMERS)
    set_created(tenant, {"A-001": NOW - timedelta(days=2), "B-002": NOW - timedelta(days=1)})
    load(
        tenant,
        "Order",
        [
            order("O1", 5, 10, customerNumber="A-001", storeNumber="S1"),
            order("O2", 200, 20, customerNumber="B-002"),
        ],
    )
    assert (
        loyalty.my_put("A-001", "/account/my/properties", {"addTags": ["my_vegan"]}).status_code
        == 200
    )
    response = loyalty.my_put(
        "B-002", "/account/my/properties", {"addTags": ["my_vegan", "my_kids"]}
    )
    assert response.status_code == 200
    return loyalty


def set_created(tenant: Tenant, created: dict[str, datetime]) -> None:
    from sqlalchemy import update

    from retailhub.db import session_scope
    from retailhub.models import LoyaltyAccount

    pk = tenant_pk(tenant.slug)
    with session_scope(write=True) as session:
        for account_id, at in created.items():
            session.execute(
                update(LoyaltyAccount)
                .where(LoyaltyAccount.tenant_id == pk, LoyaltyAccount.account_id == account_id)
                .values(created_at=at)
            )


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [a["id"] for a in response.json()]


class TestGetAccount:
    def test_by_id_card_and_my(self, three: Loyalty) -> None:
        by_id = three.get("/account/A-001").json()
        assert by_id["card"] == "CARD-A"
        assert three.get("/account/card/CARD-A").json() == by_id
        assert three.my_get("A-001", "/account/my").json() == by_id
        assert set(by_id) == {
            "id", "card", "mgm", "header", "consents", "tags", "importantTags", "venues",
            "properties", "counters", "relations", "coupons", "campaigns", "segment", "wallet",
        }  # fmt: skip
        assert by_id["header"] == {
            "phone": "555-0001",
            "email": "ann@example.com",
            "pushId": None,
            "firstName": "Ann",
            "lastName": "Archer",
            "birthdate": None,
            "sex": None,
            "created": iso(NOW - timedelta(days=2)),
            "lastEvent": None,
            # The end-user token minted by the fixture's my_put is the latest login.
            "lastLogged": iso(NOW),
            "lastOrder": iso(NOW - timedelta(days=5)),
        }
        assert by_id["consents"] == {"scope": "ACCOUNT", "consents": {}}
        assert (by_id["tags"], by_id["venues"], by_id["segment"]) == (
            ["my_vegan"],
            ["S1"],
            "active",
        )

    def test_unknown_and_invalid(self, loyalty: Loyalty) -> None:
        assert loyalty.get("/account/nobody").status_code == 404
        assert loyalty.get("/account/card/NO-CARD").status_code == 404
        error(loyalty.get("/account/a$b"), 400, "account")
        error(loyalty.get("/account/card/x"), 400, "card")

    def test_roles(self, client: TestClient, loyalty: Loyalty) -> None:
        loyalty.my_get("U-1", "/account/my")
        assert client.get(API + "/account/U-1").status_code == 401
        assert (
            client.get(API + "/account/U-1", headers=loyalty.user_headers("U-1")).status_code == 403
        )
        assert loyalty.get("/account/my").status_code == 403
        token = loyalty.service_token(scope="ROLE_LOYALTY_STATS")
        headers = {"Authorization": f"Bearer {token}", "x-tenant": loyalty.slug}
        assert client.get(API + "/account/U-1", headers=headers).status_code == 403

    def test_tenant_isolation(self, three: Loyalty, other_loyalty: Loyalty) -> None:
        assert other_loyalty.get("/account/A-001").status_code == 404
        assert other_loyalty.get("/account/card/CARD-A").status_code == 404
        assert ids(other_loyalty.get("/accounts")) == []
        assert other_loyalty.get("/accounts/count").json() == {"count": 0}
        export = other_loyalty.get("/accounts/export")
        assert export.text.count("\r\n") == 1
        # Another tenant's token may not name this tenant.
        client = other_loyalty.client
        headers = {**other_loyalty.headers, "x-tenant": three.slug}
        assert client.get(API + "/account/A-001", headers=headers).status_code == 403


class TestProfile:
    def test_given_fields_change(self, loyalty: Loyalty) -> None:
        response = loyalty.my_put(
            "P-1",
            "/account/my/profile",
            {"firstName": "Zoe", "lastName": "Ng", "birthdate": "1999-02-28", "sex": "FEMALE"},
        )
        assert response.status_code == 200, response.text
        header = response.json()["header"]
        assert (header["firstName"], header["lastName"], header["birthdate"], header["sex"]) == (
            "Zoe",
            "Ng",
            "1999-02-28",
            "FEMALE",
        )
        header = loyalty.my_put("P-1", "/account/my/profile", {"lastName": "Li"}).json()["header"]
        assert (header["firstName"], header["lastName"], header["sex"]) == ("Zoe", "Li", "FEMALE")
        header = loyalty.my_put("P-1", "/account/my/profile", {"sex": None}).json()["header"]
        assert (header["sex"], header["birthdate"]) == (None, "1999-02-28")
        assert loyalty.get("/account/P-1").json()["header"]["lastName"] == "Li"

    def test_birthday_md_is_kept(self, tenant: Tenant, loyalty: Loyalty) -> None:
        from sqlalchemy import select

        from retailhub.db import session_scope
        from retailhub.models import LoyaltyAccount

        loyalty.my_put("P-2", "/account/my/profile", {"birthdate": "2001-11-09"})
        with session_scope() as session:
            md = session.scalar(
                select(LoyaltyAccount.birthday_md).where(
                    LoyaltyAccount.tenant_id == tenant_pk(tenant.slug),
                    LoyaltyAccount.account_id == "P-2",
                )
            )
        assert md == 1109

    def test_limits(self, loyalty: Loyalty) -> None:
        path = "/account/my/profile"
        assert loyalty.my_put("P-3", path, {"firstName": "x" * 128}).status_code == 200
        assert loyalty.my_put("P-3", path, {"firstName": ""}).status_code == 200
        error(loyalty.my_put("P-3", path, {"firstName": "x" * 129}), 400, "firstName")
        error(loyalty.my_put("P-3", path, {"lastName": "y" * 129}), 400, "lastName")
        error(loyalty.my_put("P-3", path, {"birthdate": "1999-02-30"}), 400, "birthdate")
        error(loyalty.my_put("P-3", path, {"sex": "M"}), 400, "sex")
        assert loyalty.get("/account/P-3").json()["header"]["firstName"] == ""

    def test_service_token_is_refused(self, loyalty: Loyalty) -> None:
        assert loyalty.put("/account/my/profile", {"firstName": "A"}).status_code == 403


class TestProperties:
    def test_merge_and_remove(self, loyalty: Loyalty) -> None:
        path = "/account/my/properties"
        body = loyalty.my_put("R-1", path, {"properties": {"diet": "vegan", "city": "Oslo"}}).json()
        assert body["properties"] == {"diet": "vegan", "city": "Oslo"}
        body = loyalty.my_put("R-1", path, {"properties": {"diet": None, "pet": "cat"}}).json()
        assert body["properties"] == {"city": "Oslo", "pet": "cat"}
        assert loyalty.get("/account/R-1").json()["properties"] == {"city": "Oslo", "pet": "cat"}

    def test_tags(self, loyalty: Loyalty) -> None:
        path = "/account/my/properties"
        body = loyalty.my_put("R-2", path, {"addTags": ["my_b", "my_a", "my_a"]}).json()
        assert body["tags"] == ["my_a", "my_b"]
        body = loyalty.my_put(
            "R-2", path, {"addTags": ["my_c"], "removeTags": ["my_a", "my_zz"]}
        ).json()
        assert body["tags"] == ["my_b", "my_c"]
        body = loyalty.my_put("R-2", path, {"addTags": ["my_d"], "removeTags": ["my_d"]}).json()
        assert body["tags"] == ["my_b", "my_c"]

    def test_limits(self, loyalty: Loyalty) -> None:
        path = "/account/my/properties"
        sixteen = [f"my_{i}" for i in range(16)]
        assert loyalty.my_put("R-3", path, {"addTags": sixteen}).status_code == 200
        error(loyalty.my_put("R-3", path, {"addTags": [*sixteen, "my_x"]}), 400, "addTags")
        error(loyalty.my_put("R-3", path, {"removeTags": [*sixteen, "my_x"]}), 400, "removeTags")
        assert loyalty.my_put("R-3", path, {"addTags": ["my_" + "t" * 61]}).status_code == 200
        error(
            loyalty.my_put("R-3", path, {"addTags": ["my_a", "my_" + "t" * 62]}), 400, "addTags[1]"
        )
        message = error(
            loyalty.my_put("R-3", path, {"addTags": ["my_a", "vip"]}), 400, "addTags[1]"
        )
        assert "my_" in message
        error(loyalty.my_put("R-3", path, {"removeTags": ["my_"]}), 400, "removeTags[0]")
        error(loyalty.my_put("R-3", path, {"removeTags": ["my_a b"]}), 400, "removeTags[0]")
        error(loyalty.my_put("R-3", path, {"addTags": [7]}), 400, "addTags[0]")
        error(loyalty.my_put("R-3", path, {"addTags": "my_a"}), 400, "addTags")
        error(loyalty.my_put("R-3", path, {"properties": {"a": 1}}), 400, "properties.a")
        error(loyalty.my_put("R-3", path, {"properties": {"a b": "x"}}), 400, "properties.a b")
        error(loyalty.my_put("R-3", path, {"properties": {"a": "x" * 1025}}), 400, "properties.a")
        error(loyalty.my_put("R-3", path, {"properties": []}), 400, "properties")
        many = {f"k{i}": "v" for i in range(101)}
        error(loyalty.my_put("R-3", path, {"properties": many}), 400, "properties")
        # Nothing of a refused request is stored.
        body = loyalty.get("/account/R-3").json()
        assert body["properties"] == {}
        assert len(body["tags"]) == 17

    def test_changes_reach_dynamic_campaigns(self, loyalty: Loyalty, monkeypatch: Any) -> None:
        from retailhub.loyalty.campaign import service as campaign_service

        seen: list[list[int]] = []
        monkeypatch.setattr(
            campaign_service,
            "on_accounts_changed",
            lambda s, *, tenant_id, account_pks: seen.append(list(account_pks)),
        )
        loyalty.my_get("R-4", "/account/my")
        loyalty.my_put("R-4", "/account/my/properties", {"addTags": ["my_a"]})
        loyalty.my_put("R-4", "/account/my/profile", {"firstName": "R"})
        assert len(seen) == 2 and seen[0] == seen[1] and len(seen[0]) == 1


class TestLists:
    def test_json_server_dialect(self, three: Loyalty) -> None:
        response = three.get("/accounts", _start=0, _end=2, _sort="created", _order="DESC")
        assert ids(response) == ["C-003", "B-002"]
        assert response.headers["X-Total-Count"] == "3"
        assert response.headers["Content-Range"] == "accounts 0-1/3"
        response = three.get("/accounts", _start=2, _end=10, _sort="created", _order="DESC")
        assert ids(response) == ["A-001"]
        assert response.headers["Content-Range"] == "accounts 2-2/3"

    def test_simple_rest_dialect(self, three: Loyalty) -> None:
        response = three.get(
            "/accounts",
            range="[0,0]",
            sort='["lastOrder","ASC"]',
            filter=json.dumps({"tag": "my_vegan"}),
        )
        assert ids(response) == ["B-002"]
        assert response.headers["X-Total-Count"] == "2"
        assert response.headers["Content-Range"] == "accounts 0-0/2"

    def test_sorts(self, three: Loyalty) -> None:
        assert ids(three.get("/accounts")) == ["A-001", "B-002", "C-003"]
        assert ids(three.get("/accounts", _sort="id", _order="DESC")) == ["C-003", "B-002", "A-001"]
        # Missing values last, either way.
        assert ids(three.get("/accounts", _sort="lastOrder")) == ["B-002", "A-001", "C-003"]
        assert ids(three.get("/accounts", _sort="lastOrder", _order="DESC")) == [
            "A-001",
            "B-002",
            "C-003",
        ]
        assert ids(three.get("/accounts", _sort="email", _order="DESC")) == [
            "C-003",
            "B-002",
            "A-001",
        ]
        assert ids(three.get("/accounts", _sort="segment")) == ["A-001", "B-002", "C-003"]
        error(three.get("/accounts", _sort="card"), 400, "sort")

    FILTER_CASES: list[tuple[dict[str, Any], list[str]]] = [
        ({"id": "B-002"}, ["B-002"]),
        ({"id": ["A-001", "C-003"]}, ["A-001", "C-003"]),
        ({"card": "CARD-A"}, ["A-001"]),
        ({"email": "BOB@example.com"}, ["B-002"]),
        ({"phone": "555-0001"}, ["A-001"]),
        ({"tag": "my_kids"}, ["B-002"]),
        ({"segment": "new"}, ["C-003"]),
        ({"segment": ["active", "lapsing"]}, ["A-001", "B-002"]),
        ({"createdFrom": iso(NOW - timedelta(days=1))}, ["B-002", "C-003"]),
        ({"createdTo": iso(NOW - timedelta(days=1))}, ["A-001", "B-002"]),
        ({"createdTo": (NOW - timedelta(days=2)).date().isoformat()}, ["A-001"]),
        ({"createdFrom": NOW.date().isoformat()}, ["C-003"]),
        ({"lastOrderFrom": (NOW - timedelta(days=30)).date().isoformat()}, ["A-001"]),
        ({"lastOrderTo": iso(NOW - timedelta(days=30))}, ["B-002"]),
        ({"q": "EXAMPLE.COM"}, ["A-001", "B-002"]),
        ({"q": "cole"}, ["C-003"]),
        ({"q": "card-"}, ["A-001"]),
        ({"q": "0001"}, ["A-001"]),
        ({"q": "b-00"}, ["B-002"]),
        ({"q": "%"}, []),
        ({"tag": "my_vegan", "segment": "lapsing"}, ["B-002"]),
    ]

    def test_filters(self, three: Loyalty) -> None:
        """Every AccountFilter field, as JSON ``filter`` and as loose parameters."""
        for filters, expected in self.FILTER_CASES:
            assert ids(three.get("/accounts", filter=json.dumps(filters))) == expected, filters
            if not any(isinstance(v, list) for v in filters.values()):
                assert ids(three.get("/accounts", **filters)) == expected, filters
            count = three.get("/accounts/count", filter=json.dumps(filters))
            assert count.json() == {"count": len(expected)}, filters
            assert count.headers["X-Total-Count"] == str(len(expected))

    def test_campaign_filter(self, tenant: Tenant, three: Loyalty) -> None:
        from sqlalchemy import select

        from retailhub.db import session_scope
        from retailhub.models import LoyaltyAccount, LoyaltyCampaign, LoyaltyCampaignMember

        pk = tenant_pk(tenant.slug)
        with session_scope(write=True) as session:
            campaign = LoyaltyCampaign(
                tenant_id=pk, campaign_id="spring", type="STANDARD", name="Spring"
            )
            session.add(campaign)
            session.flush()
            account_pk = session.scalar(
                select(LoyaltyAccount.id).where(
                    LoyaltyAccount.tenant_id == pk, LoyaltyAccount.account_id == "B-002"
                )
            )
            assert account_pk is not None
            session.add(
                LoyaltyCampaignMember(
                    tenant_id=pk, campaign_pk=campaign.id, account_pk=account_pk, state="s1"
                )
            )
        assert ids(three.get("/accounts", campaign="spring")) == ["B-002"]
        assert ids(three.get("/accounts", campaign="autumn")) == []

    def test_bad_filters(self, three: Loyalty) -> None:
        error(three.get("/accounts", color="red"), 400, "color")
        error(three.get("/accounts", createdFrom="yesterday"), 400, "createdFrom")
        error(three.get("/accounts", filter="{"), 400, "filter")
        error(three.get("/accounts", filter='{"id": {"a": 1}}'), 400, "id")
        error(three.get("/accounts", range="[0]"), 400, "range")
        error(three.get("/accounts/count", color="red"), 400, "color")
        error(three.get("/accounts/export", color="red"), 400, "color")
        error(three.get("/accounts/export/contacts", lastOrderTo="x"), 400, "lastOrderTo")

    def test_cors_exposes_the_totals(self, client: TestClient, three: Loyalty) -> None:
        headers = {**three.headers, "Origin": "https://admin.example.com"}
        response = client.get(API + "/accounts", headers=headers)
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] in ("*", "https://admin.example.com")
        exposed = {
            h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
        }
        assert {"x-total-count", "content-range"} <= exposed

    def test_items_are_account_summaries(self, three: Loyalty) -> None:
        (item,) = three.get("/accounts", id="A-001").json()
        full = three.get("/account/A-001").json()
        for key in ("coupons", "campaigns", "wallet"):
            full.pop(key)
        assert item == full


def read_csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.text)))


class TestExports:
    def test_export_columns(self, three: Loyalty) -> None:
        rows = read_csv(three.get("/accounts/export", tag="my_vegan"))
        assert rows[0] == [
            "id", "card", "email", "phone", "firstName", "lastName", "birthdate", "sex",
            "created", "lastOrder", "segment", "tags", "orders", "value", "orders_30d",
            "value_30d", "orders_90d", "value_90d", "orders_365d", "value_365d",
        ]  # fmt: skip
        assert rows[1:] == [
            [
                "A-001", "CARD-A", "ann@example.com", "555-0001", "Ann", "Archer", "", "",
                iso(NOW - timedelta(days=2)), iso(NOW - timedelta(days=5)), "active",
                "my_vegan", "1", "10", "1", "10", "1", "10", "1", "10",
            ],
            [
                "B-002", "", "bob@example.com", "", "Bob", "Baker", "", "",
                iso(NOW - timedelta(days=1)), iso(NOW - timedelta(days=200)), "lapsing",
                "my_kids|my_vegan", "1", "20", "0", "0", "0", "0", "1", "20",
            ],
        ]  # fmt: skip

    def test_export_ignores_paging(self, three: Loyalty) -> None:
        rows = read_csv(three.get("/accounts/export", _start=0, _end=1, range="[0,0]"))
        assert [r[0] for r in rows[1:]] == ["A-001", "B-002", "C-003"]

    def test_contact_export(self, three: Loyalty) -> None:
        three.post(
            "/events",
            [{"account": "C-003", "type": "FRIEND", "id": "A-001", "doNotProcessSymmetry": True,
              "consents": {"scope": "ACCOUNT", "consents": {"EMAIL": "2024-06-01T12:00:00Z"}}}],
        )  # fmt: skip
        rows = read_csv(three.get("/accounts/export/contacts", q="c"))
        assert rows == [
            ["id", "email", "phone", "firstName", "lastName", "consents"],
            ["A-001", "ann@example.com", "555-0001", "Ann", "Archer", "{}"],
            ["B-002", "bob@example.com", "", "Bob", "Baker", "{}"],
            ["C-003", "cy@example.org", "", "Cy", "Cole", '{"EMAIL":"2024-06-01T12:00:00Z"}'],
        ]

    def test_large_export_streams(
        self, client: TestClient, tenant: Tenant, loyalty: Loyalty
    ) -> None:
        from sqlalchemy import text

        from retailhub.db import session_scope

        pk = tenant_pk(tenant.slug)
        with session_scope(write=True) as session:
            session.execute(
                text(
                    "WITH RECURSIVE n(i) AS "
                    "(SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) "
                    "INSERT INTO loyalty_accounts (tenant_id, account_id, email, properties, "
                    "counters, consents, important_tags, relations, segment, created_at, "
                    "updated_at) "
                    "SELECT :t, 'bulk-' || i, 'b' || i || '@x.com', '{}', '{}', '{}', '[]', '[]', "
                    "'new', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM n"
                ),
                {"t": pk},
            )
        rows = 0
        chunks = 0
        with client.stream("GET", API + "/accounts/export", headers=loyalty.headers) as response:
            assert response.status_code == 200
            assert "content-length" not in response.headers
            for chunk in response.iter_text():
                rows += chunk.count("\r\n")
                chunks += 1
        assert rows == 20001
        assert chunks > 1
        contacts = client.get(API + "/accounts/export/contacts", headers=loyalty.headers)
        assert contacts.text.count("\r\n") == 20001
        assert loyalty.get("/accounts/count").json() == {"count": 20000}
        response = loyalty.get("/accounts", _start=19990, _end=20000, _sort="id")
        assert response.headers["X-Total-Count"] == "20000"
        assert len(response.json()) == 10


def test_iso_helper() -> None:
    assert iso(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2024-01-02T03:04:05Z"
