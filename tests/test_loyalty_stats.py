"""Loyalty stats: globalCampaignStats, campaignStats (every day of a range), segmentStats."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.loyalty import API, Loyalty
from tests.test_loyalty_notifications import T0, account, campaign, member, tenant_pk

STATES: list[dict[str, Any]] = [
    {"id": "welcome", "type": "MESSAGE", "title": "Hi", "message": "Welcome", "transitionTo": "c"},
    {"id": "c", "type": "COUPON", "validDays": 7},
]


def bump(loyalty: Loyalty, campaign_pk: int, metric: str, by: int, day: date) -> None:
    from retailhub.db import session_scope
    from retailhub.loyalty.stats import service as stats_service

    with session_scope(write=True) as session:
        stats_service.bump(
            session,
            tenant_id=tenant_pk(loyalty),
            campaign_pk=campaign_pk,
            metric=metric,
            by=by,
            day=day,
        )


def set_account(loyalty: Loyalty, account_id: str, **values: Any) -> None:
    from retailhub.db import session_scope
    from retailhub.models import LoyaltyAccount

    account(loyalty, account_id)
    with session_scope(write=True) as session:
        session.execute(
            update(LoyaltyAccount)
            .where(
                LoyaltyAccount.tenant_id == tenant_pk(loyalty),
                LoyaltyAccount.account_id == account_id,
            )
            .values(**values)
        )


def zero_day(day: str, **values: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "date": day,
        "joined": 0,
        "finished": {"welcome": 0, "c": 0},
        "couponsIssued": 0,
        "couponsRedeemed": 0,
        "pushRegistered": 0,
        "pushClicked": 0,
        "messages": 0,
        "notifications": 0,
        "pointsCredited": 0,
    }
    entry.update(values)
    return entry


def stats_campaign(loyalty: Loyalty) -> int:
    """'promo': counters on 2029-12-31, 2030-01-02 (twice for joined) and 2030-01-05."""
    pk = campaign(loyalty, "promo", states=STATES)
    bump(loyalty, pk, "joined", 1, date(2029, 12, 31))
    bump(loyalty, pk, "joined", 2, date(2030, 1, 2))
    bump(loyalty, pk, "joined", 1, date(2030, 1, 2))
    bump(loyalty, pk, "finished:welcome", 2, date(2030, 1, 2))
    bump(loyalty, pk, "finished:c", 1, date(2030, 1, 2))
    bump(loyalty, pk, "finished:old-state", 4, date(2030, 1, 2))
    bump(loyalty, pk, "coupons_issued", 1, date(2030, 1, 2))
    bump(loyalty, pk, "coupons_redeemed", 1, date(2030, 1, 5))
    bump(loyalty, pk, "messages", 3, date(2030, 1, 2))
    bump(loyalty, pk, "notifications", 5, date(2030, 1, 5))
    bump(loyalty, pk, "points_credited", 150, date(2030, 1, 5))
    bump(loyalty, pk, "push_registered", 1, date(2029, 12, 31))
    bump(loyalty, pk, "push_clicked", 7, date(2030, 1, 5))
    return pk


def get_ok(loyalty: Loyalty, path: str, **params: Any) -> dict[str, Any]:
    response = loyalty.get(path, **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class TestGlobalCampaignStats:
    def test_sums_every_day_and_counts_members(self, loyalty: Loyalty) -> None:
        pk = stats_campaign(loyalty)
        member(loyalty, pk, account(loyalty, "acc-1"), state="welcome")
        member(loyalty, pk, account(loyalty, "acc-2"), state="c")
        member(loyalty, pk, account(loyalty, "acc-3"), state=None)
        assert get_ok(loyalty, "/stats/campaign/global", name="promo") == {
            "campaign": "promo",
            "name": "Campaign promo",
            "cnt": 0,  # the campaign row's cnt: these members were written without the engine
            "active": 2,
            "finished": 1,
            "stateStats": {"welcome": 2, "c": 1, "old-state": 4},
            "joined": 4,
            "couponsIssued": 1,
            "couponsRedeemed": 1,
            "messages": 3,
            "notifications": 5,
            "pushRegistered": 1,
            "pushClicked": 7,
            "pointsCredited": 150,
        }

    def test_a_new_campaign_is_all_zeros(self, loyalty: Loyalty) -> None:
        campaign(loyalty, "fresh", states=STATES, initialized=False)
        body = get_ok(loyalty, "/stats/campaign/global", name="fresh")
        assert body["stateStats"] == {"welcome": 0, "c": 0}
        assert {k: v for k, v in body.items() if isinstance(v, int)} == {
            "cnt": 0,
            "active": 0,
            "finished": 0,
            "joined": 0,
            "couponsIssued": 0,
            "couponsRedeemed": 0,
            "messages": 0,
            "notifications": 0,
            "pushRegistered": 0,
            "pushClicked": 0,
            "pointsCredited": 0,
        }

    def test_stats_survive_finalize(self, loyalty: Loyalty) -> None:
        pk = campaign(loyalty, "done", states=STATES, finalized=True)
        bump(loyalty, pk, "joined", 3, date(2030, 1, 1))
        assert get_ok(loyalty, "/stats/campaign/global", name="done")["joined"] == 3

    def test_name_is_validated(self, loyalty: Loyalty) -> None:
        for params in ({}, {"name": "a.b"}, {"name": ""}, {"name": "x" * 65}):
            response = loyalty.get("/stats/campaign/global", **params)
            assert response.status_code == 400, params
            assert response.json()["field"] == "name", params
        response = loyalty.get("/stats/campaign/global", name="unknown")
        assert response.status_code == 404
        assert response.json()["message"] == "Campaign 'unknown' not found"


class TestCampaignStats:
    def test_every_day_of_the_range_with_zeros(self, loyalty: Loyalty) -> None:
        stats_campaign(loyalty)
        body = get_ok(
            loyalty, "/stats/campaign", name="promo", **{"from": "2030-01-01"}, to="2030-01-05"
        )
        assert body == {
            "campaign": "promo",
            "name": "Campaign promo",
            "from": "2030-01-01",
            "to": "2030-01-05",
            "days": [
                zero_day("2030-01-01"),
                zero_day(
                    "2030-01-02",
                    joined=3,
                    finished={"welcome": 2, "c": 1, "old-state": 4},
                    couponsIssued=1,
                    messages=3,
                ),
                zero_day("2030-01-03"),
                zero_day("2030-01-04"),
                zero_day(
                    "2030-01-05",
                    couponsRedeemed=1,
                    notifications=5,
                    pointsCredited=150,
                    pushClicked=7,
                ),
            ],
        }

    def test_a_single_day(self, loyalty: Loyalty) -> None:
        stats_campaign(loyalty)
        body = get_ok(
            loyalty, "/stats/campaign", name="promo", **{"from": "2029-12-31"}, to="2029-12-31"
        )
        assert body["days"] == [zero_day("2029-12-31", joined=1, pushRegistered=1)]

    def test_default_is_the_last_30_days(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(datetime(2030, 1, 5, 23, 59, tzinfo=UTC))
        stats_campaign(loyalty)
        body = get_ok(loyalty, "/stats/campaign", name="promo")
        assert (body["from"], body["to"]) == ("2029-12-07", "2030-01-05")
        assert len(body["days"]) == 30
        assert body["days"][0]["date"] == "2029-12-07"
        assert body["days"][-1]["pushClicked"] == 7
        assert sum(day["joined"] for day in body["days"]) == 4

    def test_from_alone_spans_30_days_and_to_alone_ends_there(self, loyalty: Loyalty) -> None:
        stats_campaign(loyalty)
        body = get_ok(loyalty, "/stats/campaign", name="promo", **{"from": "2030-01-02"})
        assert (body["from"], body["to"], len(body["days"])) == ("2030-01-02", "2030-01-31", 30)
        body = get_ok(loyalty, "/stats/campaign", name="promo", to="2030-01-02")
        assert (body["from"], body["to"]) == ("2029-12-04", "2030-01-02")

    def test_span_limit(self, loyalty: Loyalty) -> None:
        stats_campaign(loyalty)
        body = get_ok(
            loyalty, "/stats/campaign", name="promo", **{"from": "2029-01-01"}, to="2030-01-01"
        )
        assert len(body["days"]) == 366
        response = loyalty.get(
            "/stats/campaign", name="promo", **{"from": "2029-01-01"}, to="2030-01-02"
        )
        assert response.status_code == 400
        assert response.json()["field"] == "to"
        assert response.json()["message"] == "to: the range may span at most 366 days"

    def test_bad_parameters_name_the_field(self, loyalty: Loyalty) -> None:
        stats_campaign(loyalty)
        for params, field in (
            ({"from": "2030-01-05", "to": "2030-01-04"}, "from"),
            ({"from": "yesterday"}, "from"),
            ({"to": "2030-02-30"}, "to"),
            ({"name": "a b"}, "name"),
        ):
            response = loyalty.get("/stats/campaign", **{"name": "promo", **params})
            assert response.status_code == 400, params
            assert response.json()["field"] == field, params
        response = loyalty.get("/stats/campaign", **{"from": "2030-01-01"})
        assert response.status_code == 400
        assert response.json()["field"] == "name"
        assert loyalty.get("/stats/campaign", name="nope").status_code == 404


class TestSegmentStats:
    def test_counts_per_segment(self, loyalty: Loyalty) -> None:
        inside = datetime(2030, 1, 3, 10, tzinfo=UTC)
        before = datetime(2029, 12, 31, 23, 59, tzinfo=UTC)
        last_second = datetime(2030, 1, 5, 23, 59, 59, tzinfo=UTC)
        set_account(loyalty, "n-1", segment="new", created_at=inside)
        set_account(loyalty, "n-2", segment="new", created_at=last_second)
        set_account(loyalty, "a-1", segment="active", created_at=before, last_order_at=inside)
        set_account(loyalty, "a-2", segment="active", created_at=inside, last_order_at=last_second)
        set_account(loyalty, "l-1", segment="lapsing", created_at=before, last_order_at=before)
        set_account(
            loyalty,
            "v-1",
            segment="vip",
            created_at=before,
            last_order_at=datetime(2030, 1, 6, tzinfo=UTC),
        )
        body = get_ok(loyalty, "/stats/segments", **{"from": "2030-01-01"}, to="2030-01-05")
        assert body == {
            "from": "2030-01-01",
            "to": "2030-01-05",
            "segments": [
                {"segment": "new", "accounts": 2, "joined": 2, "ordering": 0},
                {"segment": "active", "accounts": 2, "joined": 1, "ordering": 2},
                {"segment": "lapsing", "accounts": 1, "joined": 0, "ordering": 0},
                {"segment": "lapsed", "accounts": 0, "joined": 0, "ordering": 0},
                {"segment": "vip", "accounts": 1, "joined": 0, "ordering": 0},
            ],
            "total": {"accounts": 6, "joined": 3, "ordering": 2},
        }

    def test_no_accounts_lists_every_segment_with_zeros(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        body = get_ok(loyalty, "/stats/segments")
        assert (body["from"], body["to"]) == ("2029-12-12", "2030-01-10")
        assert [s["segment"] for s in body["segments"]] == [
            "new",
            "active",
            "lapsing",
            "lapsed",
            "vip",
        ]
        assert body["total"] == {"accounts": 0, "joined": 0, "ordering": 0}

    def test_bad_range(self, loyalty: Loyalty) -> None:
        response = loyalty.get("/stats/segments", **{"from": "2030-01-02"}, to="2030-01-01")
        assert response.status_code == 400
        assert response.json()["field"] == "from"
        assert response.json()["message"] == "from: must not be after to"
        response = loyalty.get("/stats/segments", **{"from": "2030-1-x"})
        assert response.status_code == 400
        assert response.json()["field"] == "from"
        response = loyalty.get("/stats/segments", **{"from": "2020-01-01"}, to="2030-01-01")
        assert response.status_code == 400
        assert response.json()["field"] == "to"


class TestAccess:
    def _status(self, client: TestClient, loyalty: Loyalty, scope: str, path: str) -> int:
        token = loyalty.service_token(scope=scope)
        headers = {"Authorization": f"Bearer {token}", "x-tenant": loyalty.slug}
        status: int = client.get(f"{API}{path}", headers=headers).status_code
        return status

    def test_stats_role_reads_stats_but_cannot_register_pushes(
        self, client: TestClient, loyalty: Loyalty
    ) -> None:
        stats_campaign(loyalty)
        for path in (
            "/stats/campaign/global?name=promo",
            "/stats/campaign?name=promo",
            "/stats/segments",
        ):
            assert self._status(client, loyalty, "ROLE_LOYALTY_STATS", path) == 200, path
            assert self._status(client, loyalty, "ROLE_LOYALTY", path) == 200, path
            assert self._status(client, loyalty, "ROLE_LOYALTY_CAMPAIGN", path) == 403, path
        token = loyalty.service_token(scope="ROLE_LOYALTY_STATS")
        headers = {"Authorization": f"Bearer {token}", "x-tenant": loyalty.slug}
        response = client.post(f"{API}/campaign/promo/push", headers=headers, json="p-1")
        assert response.status_code == 403

    def test_users_and_anonymous_callers_are_refused(
        self, client: TestClient, loyalty: Loyalty
    ) -> None:
        stats_campaign(loyalty)
        user = loyalty.user_headers("acc-1")
        assert client.get(f"{API}/stats/segments", headers=user).status_code == 403
        assert client.get(f"{API}/stats/campaign/global?name=promo").status_code == 401

    def test_tenant_isolation(
        self, client: TestClient, loyalty: Loyalty, other_loyalty: Loyalty
    ) -> None:
        stats_campaign(loyalty)
        set_account(loyalty, "a-1", segment="active")
        assert other_loyalty.get("/stats/campaign/global", name="promo").status_code == 404
        assert other_loyalty.get("/stats/campaign", name="promo").status_code == 404
        other = get_ok(other_loyalty, "/stats/segments")
        assert other["total"] == {"accounts": 0, "joined": 0, "ordering": 0}
        mine = get_ok(loyalty, "/stats/segments")
        assert mine["segments"][1] == {
            "segment": "active",
            "accounts": 1,
            "joined": 1,
            "ordering": 0,
        }
        headers = {**loyalty.headers, "x-tenant": other_loyalty.slug}
        assert client.get(f"{API}/stats/segments", headers=headers).status_code == 403
