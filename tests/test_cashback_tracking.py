"""Tracking links and clicks: the redirect (302 once the click is committed, by the group
commit writer), its refusals, concurrent redirects through a real server, and the
publisher's click list and click.

Also the helpers the transaction and postback tests share: stores written straight into the
catalog (unique ids per test), clicks made through the redirect, and a live uvicorn server.
"""

from __future__ import annotations

import secrets
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from retailhub.cashback.tracking import clicks
from retailhub.db import session_scope
from retailhub.models import CashbackClick, CashbackDeal, CashbackStore
from tests.cashback import Publisher

TRACKING = "/cashback/v1/stores/{}/tracking"


def make_store(
    *,
    commission: str = "5",
    fmt: str = "%",
    details: list[Any] | None = None,
    url: str | None = None,
    active: bool = True,
    name: str | None = None,
) -> tuple[int, str]:
    """A catalog store of this test's own (id and name unique): its id and name."""
    store_id = 10**12 + secrets.randbelow(10**12)
    name = name or f"Store {uuid.uuid4().hex[:10]}"
    with session_scope(write=True) as session:
        session.add(
            CashbackStore(
                id=store_id,
                name=name,
                url=url or f"https://shop.example/{store_id}",
                seo_friendly_id=f"store-{store_id}",
                commission_value=Decimal(commission),
                commission_format=fmt,
                commission_details=details or [],
                active=active,
                name_key=name.lower(),
            )
        )
    return store_id, name


def make_deal(store_id: int) -> int:
    with session_scope(write=True) as session:
        deal = CashbackDeal(store_id=store_id, title="Deal", deal_type="COUPON")
        session.add(deal)
        session.flush()
        return deal.id


def click_id_of(location: str) -> str:
    return parse_qs(urlsplit(location).query)["clickId"][0]


def make_click(
    client: TestClient, publisher: Publisher, store_id: int, cp: str = "shopper-1", **extra: Any
) -> str:
    """A click made through the tracking redirect: its id."""
    response = client.get(
        TRACKING.format(store_id),
        params={"cid": publisher.cid, "cp": cp, **extra},
        follow_redirects=False,
    )
    assert response.status_code == 302, response.text
    return click_id_of(response.headers["location"])


class TestRedirect:
    def test_records_the_click_and_redirects_with_its_id(
        self, client: TestClient, publisher: Publisher
    ) -> None:
        store_id, name = make_store(url="https://shop.example/landing?utm=x#top")
        response = client.get(
            TRACKING.format(store_id),
            params={"cid": publisher.cid, "cp": "shopper-7", "sid": "mobile-app"},
            follow_redirects=False,
        )
        assert response.status_code == 302
        assert response.headers["cache-control"] == "no-store"
        location = response.headers["location"]
        click_id = click_id_of(location)
        assert location == f"https://shop.example/landing?utm=x&clickId={click_id}#top"
        assert len(click_id) == 32 and int(click_id, 16) >= 0 and click_id == click_id.lower()
        found = publisher.get(f"/v2/clicks/{click_id}")
        assert found.status_code == 200
        body = found.json()
        assert body["id"] == click_id
        assert body["storeId"] == store_id and body["storeName"] == name
        assert body["shopperId"] == "shopper-7" and body["sid"] == "mobile-app"
        assert body["transactionId"] is None
        assert body["clickDate"].endswith("Z")

    def test_placeholder_in_the_store_url_takes_the_click_id(
        self, client: TestClient, publisher: Publisher
    ) -> None:
        store_id, _ = make_store(url="https://net.example/c?sub={clickId}&to=shop")
        response = client.get(
            TRACKING.format(store_id),
            params={"cid": publisher.cid, "cp": "s"},
            follow_redirects=False,
        )
        location = response.headers["location"]
        click_id = parse_qs(urlsplit(location).query)["sub"][0]
        assert location == f"https://net.example/c?sub={click_id}&to=shop"
        assert publisher.get(f"/v2/clicks/{click_id}").status_code == 200

    def test_a_deal_of_the_store_is_accepted(
        self, client: TestClient, publisher: Publisher
    ) -> None:
        store_id, _ = make_store()
        deal_id = make_deal(store_id)
        click_id = make_click(client, publisher, store_id, dealId=deal_id)
        with session_scope() as session:
            assert session.get_one(CashbackClick, click_id).deal_id == deal_id

    @pytest.mark.parametrize(
        ("params", "status", "field"),
        [
            ({"cp": "s"}, 400, "cid"),
            ({"cid": "abc", "cp": "s"}, 400, "cid"),
            ({"cid": "CID"}, 400, "cp"),
            ({"cid": "CID", "cp": ""}, 400, "cp"),
            ({"cid": "CID", "cp": "x" * 97}, 400, "cp"),
            ({"cid": "CID", "cp": "s", "sid": "y" * 97}, 400, "sid"),
            ({"cid": 999_999_999, "cp": "s"}, 404, "cid"),
            ({"cid": "CID", "cp": "s", "dealId": "DEAL"}, 404, "dealId"),
        ],
    )
    def test_refusals_name_the_parameter(
        self,
        client: TestClient,
        publisher: Publisher,
        params: dict[str, Any],
        status: int,
        field: str,
    ) -> None:
        store_id, _ = make_store()
        other_store, _ = make_store()
        foreign_deal = make_deal(other_store)
        values = {
            k: publisher.cid if v == "CID" else foreign_deal if v == "DEAL" else v
            for k, v in params.items()
        }
        response = client.get(TRACKING.format(store_id), params=values, follow_redirects=False)
        assert response.status_code == status, response.text
        assert response.json()["field"] == field
        assert publisher.get("/v2/clicks").json()["totalElements"] == 0

    def test_unknown_and_inactive_stores_are_404(
        self, client: TestClient, publisher: Publisher
    ) -> None:
        inactive, _ = make_store(active=False)
        for store_id in (inactive, 1):
            response = client.get(
                TRACKING.format(store_id),
                params={"cid": publisher.cid, "cp": "s"},
                follow_redirects=False,
            )
            assert response.status_code == 404
            assert response.json()["message"] == f"Store {store_id} not found"
        assert publisher.get("/v2/clicks").json()["totalElements"] == 0

    def test_a_batch_that_cannot_be_written_answers_503_and_keeps_nothing(
        self, client: TestClient, publisher: Publisher, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        store_id, _ = make_store()

        def broken(*_args: Any) -> None:
            raise OSError("the database went away")

        monkeypatch.setattr(clicks, "insert_rows", broken)
        response = client.get(
            TRACKING.format(store_id),
            params={"cid": publisher.cid, "cp": "s"},
            follow_redirects=False,
        )
        assert response.status_code == 503, response.text
        assert "location" not in response.headers
        monkeypatch.undo()
        assert publisher.get("/v2/clicks", storeId=store_id).json()["totalElements"] == 0
        make_click(client, publisher, store_id)
        assert publisher.get("/v2/clicks", storeId=store_id).json()["totalElements"] == 1

    def test_the_max_lengths_are_accepted(self, client: TestClient, publisher: Publisher) -> None:
        store_id, _ = make_store()
        click_id = make_click(client, publisher, store_id, cp="c" * 96, sid="s" * 96)
        body = publisher.get(f"/v2/clicks/{click_id}").json()
        assert body["shopperId"] == "c" * 96 and body["sid"] == "s" * 96


@pytest.mark.timeout(120)
def test_200_concurrent_redirects_are_all_recorded(live_url: str, publisher: Publisher) -> None:
    store_id, _ = make_store()
    url = f"{live_url}{TRACKING.format(store_id)}"

    def four(n: int) -> list[str]:
        found = []
        with httpx.Client(timeout=30) as http:
            for k in range(4):
                params = {"cid": publisher.cid, "cp": f"shopper-{n}-{k}"}
                response = http.get(url, params=params)
                assert response.status_code == 302, response.text
                found.append(click_id_of(response.headers["location"]))
        return found

    with ThreadPoolExecutor(max_workers=50) as pool:
        ids = [click_id for four_ids in pool.map(four, range(50)) for click_id in four_ids]
    assert len(set(ids)) == 200
    with session_scope() as session:
        stored = set(
            session.scalars(select(CashbackClick.id).where(CashbackClick.store_id == store_id))
        )
        shoppers = session.scalar(
            select(func.count(func.distinct(CashbackClick.shopper_id))).where(
                CashbackClick.store_id == store_id
            )
        )
    assert stored == set(ids)
    assert shoppers == 200


class TestClickList:
    @pytest.fixture
    def clicks(self, client: TestClient, publisher: Publisher, clock: Any) -> dict[str, Any]:
        """Five clicks on two stores over three days."""
        first, _ = make_store(name=f"Alpha Shoes {uuid.uuid4().hex[:6]}")
        second, second_name = make_store(name=f"Beta Books {uuid.uuid4().hex[:6]}")
        start = datetime(2024, 3, 1, 23, 30, tzinfo=UTC)
        plan = [
            (first, "anna", None, 0),
            (first, "anna", "web", 1),
            (second, "bob", "web", 2),
            (second, "anna", "mobile", 25),
            (first, "bob", "mobile", 49),
        ]
        ids = []
        for store_id, cp, sid, hours in plan:
            clock.freeze(start + timedelta(hours=hours))
            extra = {"sid": sid} if sid else {}
            ids.append(make_click(client, publisher, store_id, cp=cp, **extra))
        return {"ids": ids, "first": first, "second": second, "second_name": second_name}

    def test_newest_first_by_default_with_spring_pages(
        self, publisher: Publisher, clicks: dict[str, Any]
    ) -> None:
        ids = clicks["ids"]
        body = publisher.get("/v2/clicks", size=2, page=1).json()
        assert [c["id"] for c in body["content"]] == [ids[2], ids[1]]
        assert body["totalElements"] == 5 and body["totalPages"] == 3
        assert body["number"] == 1 and body["size"] == 2 and body["numberOfElements"] == 2
        assert body["first"] is False and body["last"] is False and body["empty"] is False
        assert body["pageable"]["offset"] == 2 and body["sort"]["sorted"] is True
        last = publisher.get("/v2/clicks", size=2, page=2).json()
        assert [c["id"] for c in last["content"]] == [ids[0]]
        assert last["last"] is True and last["numberOfElements"] == 1
        beyond = publisher.get("/v2/clicks", size=2, page=5).json()
        assert beyond["content"] == [] and beyond["empty"] is True

    def test_sort(self, publisher: Publisher, clicks: dict[str, Any]) -> None:
        ids = clicks["ids"]
        ascending = publisher.get("/v2/clicks", sort="clickDate,asc").json()
        assert [c["id"] for c in ascending["content"]] == ids
        descending = publisher.get("/v2/clicks", sort="clickDate,desc").json()
        assert [c["id"] for c in descending["content"]] == ids[::-1]
        bad = publisher.get("/v2/clicks", sort="storeName,asc")
        assert bad.status_code == 400 and bad.json()["field"] == "sort"

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"shopperId": "anna"}, [0, 1, 3]),
            ({"sid": "web"}, [1, 2]),
            ({"storeId": "FIRST"}, [0, 1, 4]),
            ({"storeName": "beta books"}, [2, 3]),
            ({"storeName": "SHOES"}, [0, 1, 4]),
            ({"clickDateStart": "2024-03-02"}, [1, 2, 3, 4]),
            ({"clickDateEnd": "2024-03-02"}, [0, 1, 2]),
            ({"clickDateStart": "2024-03-03", "clickDateEnd": "2024-03-03"}, [3]),
            ({"shopperId": "bob", "sid": "mobile"}, [4]),
        ],
    )
    def test_filters(
        self,
        publisher: Publisher,
        clicks: dict[str, Any],
        params: dict[str, str],
        expected: list[int],
    ) -> None:
        values = {k: clicks["first"] if v == "FIRST" else v for k, v in params.items()}
        body = publisher.get("/v2/clicks", sort="clickDate,asc", **values).json()
        assert [c["id"] for c in body["content"]] == [clicks["ids"][i] for i in expected]
        assert body["totalElements"] == len(expected)

    def test_bad_dates_are_400(self, publisher: Publisher) -> None:
        response = publisher.get("/v2/clicks", clickDateStart="March")
        assert response.status_code == 400 and response.json()["field"] == "clickDateStart"

    def test_publishers_see_only_their_clicks(
        self, publisher: Publisher, other_publisher: Publisher, clicks: dict[str, Any]
    ) -> None:
        assert other_publisher.get("/v2/clicks").json()["totalElements"] == 0
        response = other_publisher.get(f"/v2/clicks/{clicks['ids'][0]}")
        assert response.status_code == 404
        assert publisher.get(f"/v2/clicks/{clicks['ids'][0]}").status_code == 200

    def test_a_key_is_required(self, client: TestClient) -> None:
        assert client.get("/cashback/v2/clicks").status_code == 401
