"""The store catalog through HTTP: publisher reads with every filter over a seeded catalog of
a few hundred stores, page arithmetic, the operator's writes, logos and store events."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.cashback import Operator, Publisher

N = 300
HOMES = ["US", "FR", "BR", "JP", "DE"]
COUNTRIES = [["GLOBAL"], ["US", "CA"], ["US"], ["GB", "FR", "DE"]]


class Catalog:
    """A catalog of N stores unique to this module (ids from a random base, names carrying
    ``tag``), with the expected answer of any filter computed from the same records."""

    def __init__(self) -> None:
        self.tag = "q" + uuid.uuid4().hex[:10]
        self.base = random.randint(10**9, 4 * 10**9)
        self.cat_a, self.cat_b = f"Alpha {self.tag}", f"Beta {self.tag}"
        self.records = [self._record(i) for i in range(N)]

    def _record(self, i: int) -> dict[str, Any]:
        record: dict[str, Any] = {
            "id": self.base + i,
            "name": f"{self.tag} Store {i:03d}",
            "url": f"https://store{i}.example.com/",
            "description": f"Sells {'computers' if i % 10 == 0 else 'shoes'}.",
            "commission": {"value": "2.5", "format": "%"}
            if i % 2
            else {"value": 3, "format": "USD"},
            "home": HOMES[i % 5],
            "countries": COUNTRIES[i % 4],
            "categories": [self.cat_a] if i % 3 == 0 else [self.cat_b] if i % 3 == 1 else [],
            "tags": ["topStores", "b2bStores"]
            if i % 6 == 0
            else ["topStores"]
            if i % 6 == 1
            else [],
            "storeTerms": f"Terms {i}",
        }
        if i % 7 == 0:
            record["address"] = {"line1": f"{i} Main St", "city": "Springfield", "country": "US"}
        return record

    def ids(self, keep: Callable[[int, dict[str, Any]], bool]) -> list[int]:
        return [r["id"] for i, r in enumerate(self.records) if keep(i, r)]


@pytest.fixture(scope="module")
def catalog(client: TestClient, tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    from retailhub.cashback.catalog.importer import import_stores

    seeded = Catalog()
    path = Path(tmp_path_factory.mktemp("catalog")) / "stores.json"
    path.write_text(json.dumps(seeded.records))
    summary = import_stores(path)
    assert (summary["imported"], summary["inserted"], summary["rejected"]) == (N, N, 0)
    return seeded


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.text
    body = response.json()
    content = body["content"] if isinstance(body, dict) else body
    return [store["id"] for store in content]


def _all(publisher: Publisher, catalog: Catalog, **params: Any) -> list[int]:
    return _ids(publisher.get("/v1/stores", name=catalog.tag, size=1000, **params))


class TestStoreFilters:
    def test_name_matches_name_and_description_case_insensitively(
        self, publisher: Publisher, catalog: Catalog
    ) -> None:
        assert _all(publisher, catalog) == catalog.ids(lambda i, r: True)
        found = _ids(
            publisher.get(
                "/v1/stores", name="COMPUTERS", size=1000, ids=_csv(catalog.ids(lambda i, r: True))
            )
        )
        assert found == catalog.ids(lambda i, r: i % 10 == 0)

    def test_categories_any_of_the_given(self, publisher: Publisher, catalog: Catalog) -> None:
        cats = {
            c["name"]: c["seoFriendlyId"] for c in publisher.get("/v1/stores/categories").json()
        }
        a, b = cats[catalog.cat_a], cats[catalog.cat_b]
        assert a == catalog.cat_a.lower().replace(" ", "-")
        assert _all(publisher, catalog, categories=a) == catalog.ids(lambda i, r: i % 3 == 0)
        assert _all(publisher, catalog, categories=f"{a},{b}") == catalog.ids(
            lambda i, r: i % 3 != 2
        )
        store = publisher.get(f"/v1/stores/{catalog.base}").json()
        assert store["categories"] == [catalog.cat_a]

    def test_ids(self, publisher: Publisher, catalog: Catalog) -> None:
        wanted = [catalog.base + 5, catalog.base + 17, catalog.base + 299]
        assert _ids(publisher.get("/v1/stores", ids=_csv(wanted))) == wanted

    def test_home_countries_regions_and_all(self, publisher: Publisher, catalog: Catalog) -> None:
        assert _all(publisher, catalog, home="US") == catalog.ids(lambda i, r: r["home"] == "US")
        assert _all(publisher, catalog, home="jp,LATAM") == catalog.ids(
            lambda i, r: r["home"] in ("JP", "BR")
        )
        assert _all(publisher, catalog, home="EU") == catalog.ids(
            lambda i, r: r["home"] in ("FR", "DE")
        )
        assert _all(publisher, catalog, home="ALL") == catalog.ids(lambda i, r: True)

    def test_countries_narrow_and_global_widens(
        self, publisher: Publisher, catalog: Catalog
    ) -> None:
        assert _all(publisher, catalog, countries="US") == catalog.ids(lambda i, r: i % 4 in (1, 2))
        assert _all(publisher, catalog, countries="US,CA") == catalog.ids(lambda i, r: i % 4 == 1)
        assert _all(publisher, catalog, countries="GLOBAL") == catalog.ids(lambda i, r: i % 4 == 0)
        assert _all(publisher, catalog, countries="GLOBAL,US,CA") == catalog.ids(
            lambda i, r: i % 4 in (0, 1)
        )

    def test_has_address(self, publisher: Publisher, catalog: Catalog) -> None:
        assert _all(publisher, catalog, hasAddress="true") == catalog.ids(lambda i, r: i % 7 == 0)
        assert _all(publisher, catalog, hasAddress="false") == catalog.ids(lambda i, r: i % 7 != 0)

    def test_tags_all_required(self, publisher: Publisher, catalog: Catalog) -> None:
        assert _all(publisher, catalog, tagName="topStores") == catalog.ids(
            lambda i, r: i % 6 in (0, 1)
        )
        assert _all(publisher, catalog, tagName="topStores,b2bStores") == catalog.ids(
            lambda i, r: i % 6 == 0
        )

    def test_filters_combine(self, publisher: Publisher, catalog: Catalog) -> None:
        found = _all(publisher, catalog, home="US", countries="GLOBAL", tagName="topStores")
        assert found == catalog.ids(lambda i, r: i % 5 == 0 and i % 4 == 0 and i % 6 in (0, 1))
        assert found

    def test_sort_by_name(self, publisher: Publisher, catalog: Catalog) -> None:
        everything = catalog.ids(lambda i, r: True)
        assert _all(publisher, catalog, sort="name,asc") == everything
        desc = publisher.get("/v1/stores", name=catalog.tag, size=5, sort="name,desc").json()
        assert [s["id"] for s in desc["content"]] == everything[::-1][:5]
        assert desc["sort"] == {"sorted": True, "unsorted": False, "empty": False}

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"countries": "XX"}, "countries"),
            ({"home": "MARS"}, "home"),
            ({"ids": "1,two"}, "ids"),
            ({"tagName": "cheapStores"}, "tagName"),
            (
                {
                    "tagName": "topStores,b2bStores,bopisStores,extraCashback,"
                    "newCustomers,toolbarAllowed"
                },
                "tagName",
            ),
            ({"sort": "id,asc"}, "sort"),
            ({"sort": "name,up"}, "sort"),
            ({"hasAddress": "maybe"}, "hasAddress"),
            ({"size": "1001"}, "size"),
            ({"page": "-1"}, "page"),
        ],
    )
    def test_invalid_values_answer_400_naming_the_parameter(
        self, publisher: Publisher, params: dict[str, str], field: str
    ) -> None:
        response = publisher.get("/v1/stores", **params)
        assert response.status_code == 400, response.text
        assert response.json()["field"] == field


class TestPages:
    def test_spring_page_arithmetic(self, publisher: Publisher, catalog: Catalog) -> None:
        everything = catalog.ids(lambda i, r: True)
        pages = {
            n: publisher.get("/v1/stores", name=catalog.tag, size=40, page=n).json()
            for n in (0, 3, 7, 8)
        }
        for n, body in pages.items():
            assert (body["totalElements"], body["totalPages"], body["size"]) == (N, 8, 40)
            assert body["number"] == body["pageable"]["pageNumber"] == n
            assert body["pageable"]["offset"] == n * 40
            assert [s["id"] for s in body["content"]] == everything[n * 40 : n * 40 + 40]
        assert (pages[0]["first"], pages[0]["last"], pages[0]["numberOfElements"]) == (
            True,
            False,
            40,
        )
        assert (pages[3]["first"], pages[3]["last"], pages[3]["numberOfElements"]) == (
            False,
            False,
            40,
        )
        assert (pages[7]["first"], pages[7]["last"], pages[7]["numberOfElements"]) == (
            False,
            True,
            20,
        )
        assert (pages[8]["last"], pages[8]["empty"], pages[8]["numberOfElements"]) == (
            True,
            True,
            0,
        )
        assert pages[0]["sort"] == {"sorted": False, "unsorted": True, "empty": True}


class TestStoreJson:
    def test_store_in_the_documents_shape(self, publisher: Publisher, catalog: Catalog) -> None:
        store = publisher.get(f"/v1/stores/{catalog.base + 1}").json()
        base = "http://testserver"
        assert store == {
            "id": catalog.base + 1,
            "name": f"{catalog.tag} Store 001",
            "url": "https://store1.example.com/",
            "seoFriendlyId": f"{catalog.tag}-store-001",
            "language": "en",
            "description": "Sells shoes.",
            "trackingUrl": (
                f"{base}/cashback/v1/stores/{catalog.base + 1}/tracking?cid={publisher.cid}&cp="
            ),
            "imageUrl": None,
            "commission": {"value": 2.5, "format": "%"},
            "commissionDetails": [],
            "home": "FR",
            "countries": ["US", "CA"],
            "categories": [catalog.cat_b],
            "storeTerms": "Terms 1",
            "generalTerms": None,
            "specificTerms": None,
        }

    def test_address_and_its_absence(self, publisher: Publisher, catalog: Catalog) -> None:
        assert publisher.get(f"/v1/stores/{catalog.base + 7}/address").json() == {
            "storeId": catalog.base + 7,
            "line1": "7 Main St",
            "line2": None,
            "city": "Springfield",
            "region": None,
            "zip": None,
            "country": "US",
        }
        missing = publisher.get(f"/v1/stores/{catalog.base + 8}/address")
        assert missing.status_code == 404
        assert publisher.get("/v1/stores/1999999999999/address").status_code == 404

    def test_unknown_store_is_404(self, publisher: Publisher) -> None:
        response = publisher.get("/v1/stores/1999999999999")
        assert response.status_code == 404
        assert response.json()["error"] == "Not Found"

    def test_tracking_links_carry_each_publishers_cid(
        self, publisher: Publisher, other_publisher: Publisher, catalog: Catalog
    ) -> None:
        mine = publisher.get(f"/v1/stores/{catalog.base}").json()["trackingUrl"]
        theirs = other_publisher.get(f"/v1/stores/{catalog.base}").json()["trackingUrl"]
        assert mine.endswith(f"cid={publisher.cid}&cp=")
        assert theirs.endswith(f"cid={other_publisher.cid}&cp=")


class TestAuth:
    @pytest.mark.parametrize(
        "path",
        [
            "/v1/stores",
            "/v1/stores/categories",
            "/v1/stores/search?term=abc",
            "/v1/deals",
            "/v1/stores/1",
        ],
    )
    @pytest.mark.parametrize("header", [None, "wrong", "Bearer wrong"])
    def test_wrong_or_missing_key_is_401(
        self, client: TestClient, path: str, header: str | None
    ) -> None:
        headers = {"Authorization": header} if header else {}
        response = client.get("/cashback" + path, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"] == "Unauthorized"

    def test_bearer_form_of_the_publisher_key(
        self, client: TestClient, publisher: Publisher
    ) -> None:
        response = client.get(
            "/cashback/v1/stores/categories", headers={"Authorization": f"Bearer {publisher.key}"}
        )
        assert response.status_code == 200

    def test_operator_api_refuses_a_publisher_key(
        self, client: TestClient, publisher: Publisher
    ) -> None:
        response = client.get("/admin/api/stores", headers={"Authorization": publisher.key})
        assert response.status_code == 401


def _csv(ids: list[int]) -> str:
    return ",".join(map(str, ids))


def _store(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "url": "https://shop.example.com/",
        "commission": {"value": "5", "format": "%"},
        "countries": ["US"],
        **extra,
    }


@pytest.fixture
def store_id() -> int:
    return random.randint(5 * 10**9, 9 * 10**9)


class TestOperatorStores:
    def test_create_get_patch_put_and_soft_delete(
        self, operator: Operator, publisher: Publisher, store_id: int
    ) -> None:
        name = "Shop " + uuid.uuid4().hex[:8]
        created = operator.post(
            "/stores",
            _store(
                name,
                id=store_id,
                tags=["bopisStores"],
                categories=[f"Cat {name}"],
                alternativeContent=[{"language": "fr", "description": "Bonjour"}],
                commissionDetails=[{"name": "Hotels", "commission": {"value": 8, "format": "%"}}],
            ),
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert (body["id"], body["tags"], body["active"]) == (store_id, ["bopisStores"], True)
        assert body["commissionDetails"] == [
            {"name": "Hotels", "commission": {"value": 8, "format": "%"}}
        ]
        assert operator.post("/stores", _store(name, id=store_id)).status_code == 409

        alt = publisher.get(f"/v1/stores/{store_id}/alternative-content").json()
        assert alt == [
            {
                "language": "fr",
                "isDefault": False,
                "description": "Bonjour",
                "storeTerms": None,
                "generalTerms": None,
                "specificTerms": None,
            }
        ]

        patched = operator.patch(
            f"/stores/{store_id}", {"home": "CA", "countries": ["CA", "GLOBAL"]}
        )
        assert patched.status_code == 200, patched.text
        assert (patched.json()["home"], patched.json()["countries"]) == ("CA", ["CA", "GLOBAL"])
        assert patched.json()["tags"] == ["bopisStores"]
        assert _ids(publisher.get("/v1/stores", ids=store_id, tagName="bopisStores")) == [store_id]
        assert _ids(publisher.get("/v1/stores", ids=store_id, countries="CA")) == [store_id]
        assert _ids(publisher.get("/v1/stores", ids=store_id, countries="US")) == []

        replaced = operator.put(f"/stores/{store_id}", _store(name + " II"))
        assert replaced.status_code == 200
        assert (replaced.json()["tags"], replaced.json()["categories"]) == ([], [])
        assert _ids(publisher.get("/v1/stores", ids=store_id, tagName="bopisStores")) == []
        assert _ids(publisher.get("/v1/stores", name="shop", ids=store_id)) == [store_id]

        assert operator.delete(f"/stores/{store_id}").status_code == 204
        assert publisher.get(f"/v1/stores/{store_id}").status_code == 404
        assert _ids(publisher.get("/v1/stores", ids=store_id)) == []
        assert operator.get(f"/stores/{store_id}").json()["active"] is False
        listed = operator.get("/stores", size=1000, page=0).json()
        assert listed["totalElements"] >= 1
        assert operator.put(f"/stores/{store_id}", _store(name)).json()["active"] is True
        assert publisher.get(f"/v1/stores/{store_id}").status_code == 200

    def test_put_creates_with_the_paths_id_and_generated_ids_follow(
        self, operator: Operator, store_id: int
    ) -> None:
        assert (
            operator.put(f"/stores/{store_id}", _store("Put " + uuid.uuid4().hex)).status_code
            == 201
        )
        generated = operator.post("/stores", _store("Gen " + uuid.uuid4().hex))
        assert generated.status_code == 201, generated.text
        assert generated.json()["id"] > store_id
        assert operator.get("/stores/1999999999999").status_code == 404
        assert operator.delete("/stores/1999999999999").status_code == 404

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"commission": {"value": "101", "format": "%"}}, "commission"),
            ({"commission": {"value": "-1", "format": "USD"}}, "commission.value"),
            ({"commission": {"value": "1", "format": "dollars"}}, "commission"),
            ({"url": "ftp://shop.example.com"}, "url"),
            ({"countries": ["US", "ZZ"]}, "countries"),
            ({"home": "USA"}, "home"),
            ({"tags": ["topStores", "bestStores"]}, "tags"),
            ({"name": ""}, "name"),
            ({"seoFriendlyId": "Not A Slug"}, "seoFriendlyId"),
            ({"unknownField": 1}, "unknownField"),
        ],
    )
    def test_validation_names_the_field(
        self, operator: Operator, change: dict[str, Any], field: str
    ) -> None:
        response = operator.post("/stores", _store("Bad " + uuid.uuid4().hex) | change)
        assert response.status_code == 400, response.text
        assert response.json()["field"] == field

    def test_patch_validates_the_merged_store(self, operator: Operator, store_id: int) -> None:
        operator.put(f"/stores/{store_id}", _store("Patch " + uuid.uuid4().hex))
        response = operator.patch(f"/stores/{store_id}", {"countries": ["NOPE"]})
        assert (response.status_code, response.json()["field"]) == (400, "countries")


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


class TestLogos:
    def test_upload_serve_revalidate_and_delete(
        self, client: TestClient, operator: Operator, publisher: Publisher, store_id: int
    ) -> None:
        operator.put(f"/stores/{store_id}", _store("Logo " + uuid.uuid4().hex))
        headers = operator.headers | {"Content-Type": "image/png"}
        put = client.put(f"/admin/api/stores/{store_id}/logo", content=PNG, headers=headers)
        assert put.status_code == 204, put.text
        image_url = publisher.get(f"/v1/stores/{store_id}").json()["imageUrl"]
        assert image_url == f"http://testserver/cashback/resources/stores/{store_id}/logo"

        got = client.get(image_url)
        assert (got.status_code, got.content, got.headers["content-type"]) == (
            200,
            PNG,
            "image/png",
        )
        assert "public" in got.headers["cache-control"]
        again = client.get(image_url, headers={"If-None-Match": got.headers["etag"]})
        assert again.status_code == 304

        assert operator.delete(f"/stores/{store_id}/logo").status_code == 204
        assert client.get(image_url).status_code == 404
        assert publisher.get(f"/v1/stores/{store_id}").json()["imageUrl"] is None

    def test_wrong_type_and_size(
        self, client: TestClient, operator: Operator, store_id: int
    ) -> None:
        operator.put(f"/stores/{store_id}", _store("Logo " + uuid.uuid4().hex))
        url = f"/admin/api/stores/{store_id}/logo"
        text = client.put(
            url, content=b"hi", headers=operator.headers | {"Content-Type": "text/plain"}
        )
        assert text.status_code == 415
        big = b"x" * (1024 * 1024 + 1)
        huge = client.put(
            url, content=big, headers=operator.headers | {"Content-Type": "image/gif"}
        )
        assert huge.status_code == 400
        unknown = client.put(
            "/admin/api/stores/1999999999999/logo",
            content=PNG,
            headers=operator.headers | {"Content-Type": "image/png"},
        )
        assert unknown.status_code == 404


class TestCategories:
    def test_crud_and_slug_uniqueness(self, operator: Operator, publisher: Publisher) -> None:
        name = "Garden & Home " + uuid.uuid4().hex[:6]
        created = operator.post("/categories", {"name": name})
        assert created.status_code == 201
        slug = created.json()["seoFriendlyId"]
        assert slug == "garden-home-" + name[-6:]
        assert operator.post("/categories", {"name": name}).status_code == 409
        clash = operator.post("/categories", {"name": name + "x", "seoFriendlyId": slug})
        assert clash.status_code == 409
        listed = publisher.get("/v1/stores/categories").json()
        assert {"name": name, "seoFriendlyId": slug} in listed
        assert [c["name"] for c in listed] == sorted(c["name"] for c in listed)
        category_id = created.json()["id"]
        renamed = operator.put(f"/categories/{category_id}", {"name": name + " 2"})
        assert renamed.json()["name"] == name + " 2"
        assert operator.delete(f"/categories/{category_id}").status_code == 204
        assert operator.delete(f"/categories/{category_id}").status_code == 404


def _endpoint(tenant_id: int) -> None:
    from retailhub.db import session_scope
    from retailhub.models import WebhookEndpoint

    with session_scope(write=True) as session:
        columns = WebhookEndpoint.__table__.columns.keys()
        values: dict[str, Any] = {"tenant_id": tenant_id, "url": "https://hooks.example.com/x"}
        for key, value in (("secret", "whsec_" + "a" * 32), ("enabled", True), ("event_types", [])):
            if key in columns:
                values[key] = value
        session.add(WebhookEndpoint(**values))


def _events(tenant_id: int, event_type: str) -> list[Any]:
    from sqlalchemy import select

    from retailhub.db import session_scope
    from retailhub.models import WebhookEvent

    with session_scope() as session:
        query = select(WebhookEvent.payload).where(
            WebhookEvent.tenant_id == tenant_id, WebhookEvent.event_type == event_type
        )
        return [payload["data"] for payload in session.scalars(query.order_by(WebhookEvent.id))]


class TestStoreEvents:
    def test_each_change_writes_its_event(
        self, operator: Operator, publisher: Publisher, store_id: int
    ) -> None:
        _endpoint(publisher.tenant_id)
        name = "Evented " + uuid.uuid4().hex[:8]
        who = {"id": store_id, "name": name}
        operator.put(f"/stores/{store_id}", _store(name, storeTerms="Old terms"))
        assert who in _events(publisher.tenant_id, "STORE_ADDED")[-1]

        operator.patch(
            f"/stores/{store_id}",
            {
                "commission": {"value": "12", "format": "%"},
                "storeTerms": "New terms",
                "countries": ["US", "CA"],
            },
        )
        assert _events(publisher.tenant_id, "STORE_CASHBACK_CHANGE")[-1] == [
            who
            | {
                "newCashback": {"value": "12.0", "format": "%"},
                "oldCashback": {"value": "5.0", "format": "%"},
            }
        ]
        assert _events(publisher.tenant_id, "STORE_TERMS_CHANGE")[-1] == [
            who | {"newTerms": "New terms", "oldTerms": "Old terms"}
        ]
        assert _events(publisher.tenant_id, "STORE_COUNTRY_CHANGE")[-1] == [
            who | {"newCountries": ["US", "CA"], "oldCountries": ["US"]}
        ]
        operator.delete(f"/stores/{store_id}")
        assert _events(publisher.tenant_id, "STORE_REMOVED")[-1] == [who]
        operator.patch(f"/stores/{store_id}", {"active": True})
        assert _events(publisher.tenant_id, "STORE_ADDED")[-1] == [who]

    def test_an_unchanged_write_sends_nothing(
        self, operator: Operator, publisher: Publisher, store_id: int
    ) -> None:
        _endpoint(publisher.tenant_id)
        operator.put(f"/stores/{store_id}", _store("Same " + uuid.uuid4().hex))
        before = len(_events(publisher.tenant_id, "STORE_ADDED"))
        operator.patch(f"/stores/{store_id}", {"countries": ["US"]})
        assert len(_events(publisher.tenant_id, "STORE_ADDED")) == before
        assert _events(publisher.tenant_id, "STORE_COUNTRY_CHANGE") == []


class TestDeals:
    @pytest.fixture
    def deals(self, operator: Operator, store_id: int) -> dict[str, Any]:
        other = store_id + 1
        operator.put(f"/stores/{store_id}", _store("Deals " + uuid.uuid4().hex[:8]))
        operator.put(f"/stores/{other}", _store("Deals " + uuid.uuid4().hex[:8]))
        specs = [
            (store_id, "COUPON", "2025-04-01T00:00:00Z", "2025-04-10T00:00:00Z", "B3KPQ"),
            (store_id, "SALE_DISCOUNT", "2025-04-10T12:00:00Z", "2025-04-20T00:00:00Z", None),
            (store_id, "FREE_SHIPPING", None, None, None),
            (other, "NEW_PRODUCT", "2025-05-01T00:00:00Z", "2025-05-02T00:00:00Z", None),
        ]
        ids = []
        for sid, kind, start, end, code in specs:
            body = {
                "storeId": sid,
                "title": f"{kind} deal",
                "dealType": kind,
                "couponCode": code,
                "startDate": start,
                "endDate": end,
            }
            response = operator.post("/deals", body)
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
        return {"store": store_id, "other": other, "ids": ids}

    def _deal_ids(self, publisher: Publisher, **params: Any) -> list[int]:
        return _ids(publisher.get("/v1/deals", **params))

    def test_filters(self, publisher: Publisher, deals: dict[str, Any]) -> None:
        d, both = deals["ids"], f"{deals['store']},{deals['other']}"
        assert self._deal_ids(publisher, storeId=both) == d
        assert self._deal_ids(publisher, id=deals["store"]) == d[:3]
        assert self._deal_ids(publisher, storeId=both, dealType="COUPON") == [d[0]]
        assert self._deal_ids(
            publisher, storeId=both, startDate="2025-04-11", endDate="2025-04-30"
        ) == [d[1], d[2]]
        assert self._deal_ids(publisher, storeId=both, endDate="2025-04-10") == [d[0], d[1], d[2]]
        assert self._deal_ids(publisher, storeId=both, endDate="2025-04-10T00:00:00Z") == [
            d[0],
            d[2],
        ]
        assert self._deal_ids(publisher, storeId=both, startDate="2025-04-21T00:00:00Z") == [
            d[2],
            d[3],
        ]
        page = publisher.get("/v1/deals", storeId=both, size=3, page=1).json()
        assert (page["totalElements"], page["totalPages"], page["numberOfElements"]) == (4, 2, 1)

    def test_deal_json_and_hidden_with_its_store(
        self, operator: Operator, publisher: Publisher, deals: dict[str, Any]
    ) -> None:
        deal = publisher.get(f"/v1/deals/{deals['ids'][0]}").json()
        assert deal["trackingUrl"].endswith(f"cid={publisher.cid}&cp=&dealId={deals['ids'][0]}")
        assert (deal["storeId"], deal["dealType"], deal["couponCode"]) == (
            deals["store"],
            "COUPON",
            "B3KPQ",
        )
        assert (deal["startDate"], deal["endDate"]) == (
            "2025-04-01T00:00:00Z",
            "2025-04-10T00:00:00Z",
        )
        assert deal["lastUpdate"].endswith("Z")
        operator.delete(f"/stores/{deals['store']}")
        assert publisher.get(f"/v1/deals/{deals['ids'][0]}").status_code == 404
        assert self._deal_ids(publisher, id=deals["store"]) == []

    def test_operator_deal_crud_and_validation(
        self, operator: Operator, deals: dict[str, Any]
    ) -> None:
        deal_id = deals["ids"][2]
        body = {"storeId": deals["store"], "title": "Renamed", "dealType": "SALE_DISCOUNT"}
        assert operator.put(f"/deals/{deal_id}", body).json()["title"] == "Renamed"
        bad_type = operator.post("/deals", body | {"dealType": "GIVEAWAY"})
        assert (bad_type.status_code, bad_type.json()["field"]) == (400, "dealType")
        no_store = operator.post("/deals", body | {"storeId": 1999999999999})
        assert (no_store.status_code, no_store.json()["field"]) == (400, "storeId")
        assert operator.delete(f"/deals/{deal_id}").status_code == 204
        assert operator.get(f"/deals/{deal_id}").status_code == 404

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"dealType": "NOPE"}, "dealType"),
            ({"startDate": "04/10/2025"}, "startDate"),
            ({"storeId": "x"}, "storeId"),
        ],
    )
    def test_invalid_filters(
        self, publisher: Publisher, params: dict[str, str], field: str
    ) -> None:
        response = publisher.get("/v1/deals", **params)
        assert (response.status_code, response.json()["field"]) == (400, field)
