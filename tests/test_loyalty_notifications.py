"""Loyalty notifications (COUPON_EXPIRATION and SPECIFIC_TIME produced by the tick), their
listing, and push bookkeeping (registerPush, registerPushV2, pushClick)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.loyalty import API, Loyalty

T0 = datetime(2030, 1, 10, 12, 0, tzinfo=UTC)
MESSAGE_STATE = {"id": "s1", "type": "MESSAGE", "title": "Hello", "message": "Welcome"}


# Setup through the ORM (campaign rows as the campaign engine stores them) ------------


def tenant_pk(loyalty: Loyalty) -> int:
    from retailhub.db import session_scope
    from retailhub.models import Tenant

    with session_scope() as session:
        pk = session.scalar(select(Tenant.id).where(Tenant.slug == loyalty.slug))
        assert pk is not None
        return pk


def account(loyalty: Loyalty, account_id: str) -> int:
    """Register ``account_id`` (token exchange) and return its account_pk."""
    from retailhub.db import session_scope
    from retailhub.loyalty.account import service as account_service

    loyalty.user_headers(account_id)
    with session_scope() as session:
        return account_service.get(session, tenant_id=tenant_pk(loyalty), account_id=account_id).id


def campaign(
    loyalty: Loyalty,
    campaign_id: str,
    *,
    notifications: list[dict[str, Any]] | None = None,
    initialized: bool = True,
    finalized: bool = False,
    active_from: datetime | None = None,
    active_to: datetime | None = None,
    states: list[dict[str, Any]] | None = None,
) -> int:
    """A campaign row: running (initialized, enrolled) unless told otherwise. Its constraint
    matches no account, so the campaign engine never enrolls anyone by itself."""
    from retailhub.db import session_scope
    from retailhub.models import LoyaltyCampaign

    with session_scope(write=True) as session:
        row = LoyaltyCampaign(
            tenant_id=tenant_pk(loyalty),
            campaign_id=campaign_id,
            type="STANDARD",
            name=f"Campaign {campaign_id}",
            active_from=active_from,
            active_to=active_to,
            dynamic=False,
            constraints=[{"field": "tags.h4-nobody", "op": "EXISTS"}],
            states=states if states is not None else [MESSAGE_STATE],
            notifications=notifications or [],
            initialized=initialized,
            initialized_at=T0 - timedelta(days=30) if initialized else None,
            enrolled_at=T0 - timedelta(days=30) if initialized else None,
            finalized_at=T0 - timedelta(days=1) if finalized else None,
        )
        session.add(row)
        session.flush()
        return row.id


def member(
    loyalty: Loyalty,
    campaign_pk: int,
    account_pk: int,
    *,
    state: str | None = "s1",
    cycle: int = 0,
    joined_at: datetime = T0 - timedelta(days=20),
) -> None:
    from retailhub.db import session_scope
    from retailhub.models import LoyaltyCampaignMember

    with session_scope(write=True) as session:
        session.add(
            LoyaltyCampaignMember(
                tenant_id=tenant_pk(loyalty),
                campaign_pk=campaign_pk,
                account_pk=account_pk,
                cycle=cycle,
                state=state,
                entered=True,
                joined_at=joined_at,
                state_at=joined_at,
                finished_at=None if state else T0 - timedelta(days=2),
            )
        )


def coupon(
    loyalty: Loyalty,
    campaign_pk: int | None,
    account_pk: int,
    code: str,
    valid_until: datetime,
    *,
    used: int = 0,
    usage_limit: int = 1,
) -> int:
    from retailhub.db import session_scope
    from retailhub.models import LoyaltyCoupon

    with session_scope(write=True) as session:
        row = LoyaltyCoupon(
            tenant_id=tenant_pk(loyalty),
            code=code,
            account_pk=account_pk,
            campaign_pk=campaign_pk,
            state_id="s1",
            valid_from=T0 - timedelta(days=10),
            valid_until=valid_until,
            usage_limit=usage_limit,
            used=used,
        )
        session.add(row)
        session.flush()
        return row.id


def tick() -> None:
    from retailhub.loyalty.tick import run_once

    run_once()


def listed(loyalty: Loyalty, **params: Any) -> list[dict[str, Any]]:
    response = loyalty.get("/notifications", _end=1000, **params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()
    return items


def summary(items: list[dict[str, Any]]) -> list[tuple[str, str | None, str]]:
    return [(item["type"], item["campaign"], item["account"]) for item in items]


def global_stats(loyalty: Loyalty, campaign_id: str) -> dict[str, Any]:
    response = loyalty.get("/stats/campaign/global", name=campaign_id)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


EXPIRY = {
    "type": "COUPON_EXPIRATION",
    "daysBefore": 3,
    "title": "Your coupon expires soon",
    "message": "Use it before it is gone",
    "payload": {"screen": "coupons"},
}


def at_time(at: datetime) -> dict[str, Any]:
    return {
        "type": "SPECIFIC_TIME",
        "at": at.isoformat().replace("+00:00", "Z"),
        "title": "Flash sale",
        "message": "Starts now",
        "image": "https://cdn.example.com/sale.png",
    }


# Production ------------------------------------------------------------------------------


class TestCouponExpiration:
    def test_only_unused_coupons_expiring_within_days_before(
        self, loyalty: Loyalty, clock: Any
    ) -> None:
        clock.freeze(T0)
        a1, a2 = account(loyalty, "acc-1"), account(loyalty, "acc-2")
        pk = campaign(loyalty, "exp", notifications=[EXPIRY])
        other = campaign(loyalty, "no-notif")
        coupon(loyalty, pk, a1, "DUE-1", T0 + timedelta(days=2))
        coupon(loyalty, pk, a2, "LATER-1", T0 + timedelta(days=5))
        coupon(loyalty, pk, a1, "GONE-1", T0 - timedelta(hours=1))
        coupon(loyalty, pk, a2, "USED-1", T0 + timedelta(days=1), used=1)
        coupon(loyalty, pk, a2, "EDGE-1", T0 + timedelta(days=3))
        coupon(loyalty, other, a1, "OTHER-1", T0 + timedelta(days=1))

        tick()

        items = listed(loyalty, _sort="id")
        assert sorted((i["coupon"]["code"], i["account"]) for i in items) == [
            ("DUE-1", "acc-1"),
            ("EDGE-1", "acc-2"),
        ]
        first = next(i for i in items if i["coupon"]["code"] == "DUE-1")
        assert first == {
            "id": first["id"],
            "account": "acc-1",
            "campaign": "exp",
            "type": "COUPON_EXPIRATION",
            "state": "s1",
            "title": "Your coupon expires soon",
            "message": "Use it before it is gone",
            "image": None,
            "payload": {"screen": "coupons"},
            "createdAt": "2030-01-10T12:00:00Z",
            "receivedAt": None,
            "coupon": {"code": "DUE-1", "validUntil": "2030-01-12T12:00:00Z"},
        }
        assert global_stats(loyalty, "exp")["notifications"] == 2

    def test_later_ticks_catch_coupons_entering_the_window(
        self, loyalty: Loyalty, clock: Any
    ) -> None:
        clock.freeze(T0)
        a1 = account(loyalty, "acc-1")
        pk = campaign(loyalty, "exp", notifications=[EXPIRY])
        coupon(loyalty, pk, a1, "SOON", T0 + timedelta(days=1))
        coupon(loyalty, pk, a1, "LATER", T0 + timedelta(days=5))
        tick()
        assert [i["coupon"]["code"] for i in listed(loyalty)] == ["SOON"]

        clock.shift(timedelta(days=2, hours=1))
        tick()
        assert [i["coupon"]["code"] for i in listed(loyalty)] == ["SOON", "LATER"]
        assert global_stats(loyalty, "exp")["notifications"] == 2

    def test_a_second_tick_produces_nothing_more(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        a1 = account(loyalty, "acc-1")
        pk = campaign(loyalty, "exp", notifications=[EXPIRY])
        coupon(loyalty, pk, a1, "C-1", T0 + timedelta(days=1))
        tick()
        tick()
        clock.shift(timedelta(hours=1))
        tick()
        assert len(listed(loyalty)) == 1
        assert global_stats(loyalty, "exp")["notifications"] == 1

    def test_finalized_or_not_initialized_campaigns_produce_nothing(
        self, loyalty: Loyalty, clock: Any
    ) -> None:
        clock.freeze(T0)
        a1 = account(loyalty, "acc-1")
        done = campaign(loyalty, "done", notifications=[EXPIRY], finalized=True)
        draft = campaign(loyalty, "draft", notifications=[EXPIRY], initialized=False)
        coupon(loyalty, done, a1, "C-DONE", T0 + timedelta(days=1))
        coupon(loyalty, draft, a1, "C-DRAFT", T0 + timedelta(days=1))
        tick()
        assert listed(loyalty) == []

    def test_reminders_continue_after_active_to(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        a1 = account(loyalty, "acc-1")
        pk = campaign(loyalty, "ended", notifications=[EXPIRY], active_to=T0 - timedelta(days=1))
        coupon(loyalty, pk, a1, "C-1", T0 + timedelta(days=1))
        tick()
        assert summary(listed(loyalty)) == [("COUPON_EXPIRATION", "ended", "acc-1")]


class TestSpecificTime:
    def test_every_current_member_once_the_time_comes(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        at = T0 + timedelta(hours=2)
        pk = campaign(loyalty, "sale", notifications=[EXPIRY, at_time(at)])
        member(loyalty, pk, account(loyalty, "acc-1"))
        member(loyalty, pk, account(loyalty, "acc-2"))
        member(loyalty, pk, account(loyalty, "acc-3"), state=None)
        account(loyalty, "acc-4")

        tick()
        assert listed(loyalty) == []

        clock.freeze(at)
        tick()
        items = listed(loyalty)
        assert sorted(summary(items)) == [
            ("SPECIFIC_TIME", "sale", "acc-1"),
            ("SPECIFIC_TIME", "sale", "acc-2"),
        ]
        assert {(i["title"], i["message"], i["image"], i["createdAt"]) for i in items} == {
            ("Flash sale", "Starts now", "https://cdn.example.com/sale.png", "2030-01-10T14:00:00Z")
        }
        assert "coupon" not in items[0]
        assert global_stats(loyalty, "sale")["notifications"] == 2

    def test_idempotent_and_members_joining_later_get_it_too(
        self, loyalty: Loyalty, clock: Any
    ) -> None:
        clock.freeze(T0)
        pk = campaign(loyalty, "sale", notifications=[at_time(T0 - timedelta(minutes=5))])
        member(loyalty, pk, account(loyalty, "acc-1"))
        tick()
        tick()
        assert summary(listed(loyalty)) == [("SPECIFIC_TIME", "sale", "acc-1")]

        clock.shift(timedelta(days=2))
        member(loyalty, pk, account(loyalty, "acc-2"), joined_at=clock.now())
        # Joined (by the clock) long before the first production: not looked at again.
        member(loyalty, pk, account(loyalty, "acc-3"), joined_at=T0 - timedelta(hours=2))
        clock.shift(timedelta(minutes=1))
        tick()
        assert sorted(summary(listed(loyalty))) == [
            ("SPECIFIC_TIME", "sale", "acc-1"),
            ("SPECIFIC_TIME", "sale", "acc-2"),
        ]
        assert global_stats(loyalty, "sale")["notifications"] == 2

    def test_two_time_notifications_each_produce(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        first, second = at_time(T0 - timedelta(hours=1)), at_time(T0 - timedelta(minutes=1))
        second["title"] = "Last call"
        pk = campaign(loyalty, "sale", notifications=[first, second])
        member(loyalty, pk, account(loyalty, "acc-1"))
        tick()
        assert sorted(i["title"] for i in listed(loyalty)) == ["Flash sale", "Last call"]

    def test_one_notification_per_account_across_birthday_cycles(
        self, loyalty: Loyalty, clock: Any
    ) -> None:
        clock.freeze(T0)
        pk = campaign(loyalty, "bday", notifications=[at_time(T0 - timedelta(hours=1))])
        a1 = account(loyalty, "acc-1")
        member(loyalty, pk, a1, cycle=2029)
        member(loyalty, pk, a1, cycle=2030)
        tick()
        assert summary(listed(loyalty)) == [("SPECIFIC_TIME", "bday", "acc-1")]

    def test_nothing_outside_active_from_and_to(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        at = T0 - timedelta(hours=1)
        ended = campaign(
            loyalty, "ended", notifications=[at_time(at)], active_to=T0 - timedelta(minutes=1)
        )
        future = campaign(
            loyalty, "future", notifications=[at_time(at)], active_from=T0 + timedelta(days=1)
        )
        member(loyalty, ended, account(loyalty, "acc-1"))
        member(loyalty, future, account(loyalty, "acc-1"))
        tick()
        assert listed(loyalty) == []

        clock.freeze(T0 + timedelta(days=1))
        tick()
        assert summary(listed(loyalty)) == [("SPECIFIC_TIME", "future", "acc-1")]

    def test_nothing_for_finalized_campaigns(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        pk = campaign(
            loyalty, "done", notifications=[at_time(T0 - timedelta(hours=1))], finalized=True
        )
        member(loyalty, pk, account(loyalty, "acc-1"))
        tick()
        assert listed(loyalty) == []


# Listing ---------------------------------------------------------------------------------


def _two_campaigns(loyalty: Loyalty, clock: Any) -> None:
    """acc-1 and acc-2 in 'sale' (SPECIFIC_TIME at T0) and acc-1's coupon of 'exp' expiring,
    produced at T0 (SPECIFIC_TIME) and T0 + 1 day (COUPON_EXPIRATION)."""
    clock.freeze(T0)
    a1, a2 = account(loyalty, "acc-1"), account(loyalty, "acc-2")
    sale = campaign(loyalty, "sale", notifications=[at_time(T0)])
    member(loyalty, sale, a1)
    member(loyalty, sale, a2)
    exp = campaign(loyalty, "exp", notifications=[EXPIRY])
    coupon(loyalty, exp, a1, "C-1", T0 + timedelta(days=3, hours=1))
    tick()
    clock.freeze(T0 + timedelta(days=1))
    tick()


class TestListNotifications:
    def test_filters(self, loyalty: Loyalty, clock: Any) -> None:
        _two_campaigns(loyalty, clock)
        assert len(listed(loyalty)) == 3
        assert sorted(summary(listed(loyalty, account="acc-1"))) == [
            ("COUPON_EXPIRATION", "exp", "acc-1"),
            ("SPECIFIC_TIME", "sale", "acc-1"),
        ]
        assert summary(listed(loyalty, campaign="exp")) == [("COUPON_EXPIRATION", "exp", "acc-1")]
        assert len(listed(loyalty, type="SPECIFIC_TIME")) == 2
        assert summary(listed(loyalty, since="2030-01-11")) == [
            ("COUPON_EXPIRATION", "exp", "acc-1")
        ]
        assert len(listed(loyalty, until="2030-01-11T00:00:00Z")) == 2
        assert listed(loyalty, account="nobody") == []
        assert listed(loyalty, campaign="nothing") == []

    def test_json_server_dialect(self, loyalty: Loyalty, clock: Any) -> None:
        _two_campaigns(loyalty, clock)
        response = loyalty.get("/notifications", _start=0, _end=2, _sort="createdAt", _order="DESC")
        assert response.status_code == 200
        assert response.headers["X-Total-Count"] == "3"
        assert response.headers["Content-Range"] == "notifications 0-1/3"
        assert [i["type"] for i in response.json()] == ["COUPON_EXPIRATION", "SPECIFIC_TIME"]

    def test_simple_rest_dialect(self, loyalty: Loyalty, clock: Any) -> None:
        _two_campaigns(loyalty, clock)
        response = loyalty.get(
            "/notifications",
            range="[1,5]",
            sort='["id","ASC"]',
            filter='{"type":"SPECIFIC_TIME"}',
        )
        assert response.status_code == 200
        assert response.headers["Content-Range"] == "notifications 1-1/2"
        assert response.headers["X-Total-Count"] == "2"
        assert len(response.json()) == 1

    def test_empty_list(self, loyalty: Loyalty) -> None:
        response = loyalty.get("/notifications")
        assert response.status_code == 200
        assert response.json() == []
        assert response.headers["Content-Range"] == "notifications */0"

    def test_bad_parameters_name_the_field(self, loyalty: Loyalty) -> None:
        for params, field in (
            ({"type": "EMAIL"}, "type"),
            ({"since": "yesterday"}, "since"),
            ({"until": "2030-13-01"}, "until"),
            ({"_sort": "title"}, "sort"),
            ({"_start": "x"}, "_start"),
            ({"filter": "{bad"}, "filter"),
        ):
            response = loyalty.get("/notifications", **params)
            assert response.status_code == 400, params
            body = response.json()
            assert body["field"] == field, params
            assert body["message"].startswith(f"{field}:"), params

    def test_my_notifications_are_only_mine(self, loyalty: Loyalty, clock: Any) -> None:
        _two_campaigns(loyalty, clock)
        # The account filter does not apply here: it is always my account.
        response = loyalty.my_get(
            "acc-2", "/account/my/notifications", filter='{"account": "acc-1"}'
        )
        assert response.status_code == 200
        assert summary(response.json()) == [("SPECIFIC_TIME", "sale", "acc-2")]
        assert response.headers["X-Total-Count"] == "1"
        response = loyalty.my_get("acc-1", "/account/my/notifications", type="COUPON_EXPIRATION")
        assert summary(response.json()) == [("COUPON_EXPIRATION", "exp", "acc-1")]

    def test_roles(self, client: TestClient, loyalty: Loyalty) -> None:
        token = loyalty.service_token(scope="ROLE_LOYALTY_STATS")
        headers = {"Authorization": f"Bearer {token}", "x-tenant": loyalty.slug}
        assert client.get(f"{API}/notifications", headers=headers).status_code == 403
        user = loyalty.user_headers("acc-1")
        assert client.get(f"{API}/notifications", headers=user).status_code == 403
        mine = client.get(f"{API}/account/my/notifications", headers=loyalty.headers)
        assert mine.status_code == 403
        assert client.get(f"{API}/notifications").status_code == 401

    def test_tenant_isolation(self, loyalty: Loyalty, other_loyalty: Loyalty, clock: Any) -> None:
        _two_campaigns(loyalty, clock)
        assert listed(other_loyalty) == []
        assert listed(other_loyalty, campaign="sale") == []
        other = other_loyalty.my_get("acc-1", "/account/my/notifications")
        assert other.status_code == 200
        assert other.json() == []


# Push bookkeeping ------------------------------------------------------------------------


def _push_stats(loyalty: Loyalty, campaign_id: str) -> tuple[int, int]:
    stats = global_stats(loyalty, campaign_id)
    return stats["pushRegistered"], stats["pushClicked"]


class TestRegisterPush:
    def test_v1_string_body(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        campaign(loyalty, "promo")
        response = loyalty.post("/campaign/promo/push", "push-1")
        assert response.status_code == 200, response.text
        assert response.json() == {
            "campaign": "promo",
            "pushId": "push-1",
            "title": None,
            "clicks": 0,
            "registeredAt": "2030-01-10T12:00:00Z",
            "new": True,
        }
        again = loyalty.post("/campaign/promo/push", "push-1")
        assert again.json()["new"] is False
        assert loyalty.post("/campaign/promo/push", "push-2").json()["new"] is True
        assert _push_stats(loyalty, "promo") == (2, 0)
        day = loyalty.get("/stats/campaign", name="promo", **{"from": "2030-01-10"}).json()
        assert day["days"][0]["pushRegistered"] == 2

    def test_v2_object_body_and_title_update(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        campaign(loyalty, "promo")
        response = loyalty.post("/v2/campaign/promo/push", {"pushId": "p_1", "title": "Sale"})
        assert response.status_code == 200, response.text
        assert (response.json()["title"], response.json()["new"]) == ("Sale", True)
        response = loyalty.post("/v2/campaign/promo/push", {"pushId": "p_1", "title": "Sale!"})
        assert (response.json()["title"], response.json()["new"]) == ("Sale!", False)
        # v1 re-registration and v2 without a title keep the title.
        assert loyalty.post("/campaign/promo/push", "p_1").json()["title"] == "Sale!"
        response = loyalty.post("/v2/campaign/promo/push", {"pushId": "p_1"})
        assert response.json()["title"] == "Sale!"
        assert _push_stats(loyalty, "promo") == (1, 0)

    def test_same_push_id_in_two_campaigns(self, loyalty: Loyalty) -> None:
        campaign(loyalty, "one")
        campaign(loyalty, "two")
        assert loyalty.post("/campaign/one/push", "p").json()["new"] is True
        assert loyalty.post("/campaign/two/push", "p").json()["new"] is True
        assert _push_stats(loyalty, "one") == (1, 0)
        assert _push_stats(loyalty, "two") == (1, 0)

    def test_v1_validation(self, loyalty: Loyalty) -> None:
        campaign(loyalty, "promo")
        for body in (None, 12, "", "a" * 33, "a b", {"pushId": "x"}, ["x"]):
            response = loyalty.post("/campaign/promo/push", body)
            assert response.status_code == 400, body
            assert response.json()["field"] == "pushId", body
            assert response.json()["message"].startswith("pushId:"), body
        assert loyalty.post("/campaign/promo/push", "a" * 32).status_code == 200

    def test_a_body_that_is_not_json_names_push_id(
        self, client: TestClient, loyalty: Loyalty
    ) -> None:
        campaign(loyalty, "promo")
        headers = {**loyalty.headers, "content-type": "application/json"}
        for path in ("/campaign/promo/push", "/v2/campaign/promo/push"):
            response = client.post(f"{API}{path}", headers=headers, content=b'"unterminated')
            assert response.status_code == 400, path
            assert response.json()["field"] == "pushId", path
            assert response.json()["message"] == "pushId: the body must be JSON", path
        click = client.post(
            f"{API}/campaign/promo/push/click",
            headers={**loyalty.user_headers("acc-1"), "content-type": "application/json"},
            content=b"{",
        )
        assert click.status_code == 400
        assert click.json()["field"] == "pushId"

    def test_v2_validation(self, loyalty: Loyalty) -> None:
        campaign(loyalty, "promo")
        for body, field in (
            (None, "pushId"),
            ("p-1", "pushId"),
            ({}, "pushId"),
            ({"pushId": ""}, "pushId"),
            ({"pushId": "x" * 33}, "pushId"),
            ({"pushId": "a.b"}, "pushId"),
            ({"pushId": "ok", "title": 5}, "title"),
            ({"pushId": "ok", "title": "t" * 257}, "title"),
        ):
            response = loyalty.post("/v2/campaign/promo/push", body)
            assert response.status_code == 400, body
            assert response.json()["field"] == field, body
            assert response.json()["message"].startswith(f"{field}:"), body
        ok = loyalty.post("/v2/campaign/promo/push", {"pushId": "ok", "title": "t" * 256})
        assert ok.status_code == 200
        assert _push_stats(loyalty, "promo") == (1, 0)

    def test_campaign_path_is_validated(self, loyalty: Loyalty) -> None:
        for path in ("/campaign/a.b/push", "/v2/campaign/a.b/push", f"/campaign/{'c' * 65}/push"):
            response = loyalty.post(path, "p-1")
            assert response.status_code == 400, path
            assert response.json()["field"] == "campaign", path

    def test_unknown_campaign_is_404(self, loyalty: Loyalty) -> None:
        assert loyalty.post("/campaign/nope/push", "p-1").status_code == 404
        assert loyalty.post("/v2/campaign/nope/push", {"pushId": "p-1"}).status_code == 404

    def test_roles(self, client: TestClient, loyalty: Loyalty) -> None:
        campaign(loyalty, "promo")

        def register(scope: str) -> int:
            token = loyalty.service_token(scope=scope)
            headers = {"Authorization": f"Bearer {token}", "x-tenant": loyalty.slug}
            url = f"{API}/campaign/promo/push"
            status: int = client.post(url, headers=headers, json="p-1").status_code
            return status

        assert register("ROLE_LOYALTY_STATS") == 403
        assert register("ROLE_LOYALTY_CAMPAIGN") == 200
        assert register("ROLE_LOYALTY") == 200
        user = loyalty.user_headers("acc-1")
        assert client.post(f"{API}/campaign/promo/push", headers=user, json="p").status_code == 403
        assert client.post(f"{API}/campaign/promo/push", json="p").status_code == 401

    def test_tenant_isolation(self, loyalty: Loyalty, other_loyalty: Loyalty) -> None:
        campaign(loyalty, "promo")
        assert other_loyalty.post("/campaign/promo/push", "p-1").status_code == 404
        assert (
            other_loyalty.my_post("acc-1", "/campaign/promo/push/click", "p-1").status_code == 404
        )
        loyalty.post("/campaign/promo/push", "p-1")
        assert (
            other_loyalty.my_post("acc-1", "/campaign/promo/push/click", "p-1").status_code == 404
        )
        assert _push_stats(loyalty, "promo") == (1, 0)


class TestPushClick:
    def test_clicks_count_and_show_in_stats(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        campaign(loyalty, "promo")
        loyalty.post("/v2/campaign/promo/push", {"pushId": "p-1", "title": "Sale"})
        first = loyalty.my_post("acc-1", "/campaign/promo/push/click", "p-1")
        assert first.status_code == 200, first.text
        assert first.json() == {
            "campaign": "promo",
            "pushId": "p-1",
            "title": "Sale",
            "clicks": 1,
            "registeredAt": "2030-01-10T12:00:00Z",
        }
        clock.shift(timedelta(days=1))
        assert loyalty.my_post("acc-2", "/campaign/promo/push/click", "p-1").json()["clicks"] == 2
        assert loyalty.my_post("acc-1", "/campaign/promo/push/click", "p-1").json()["clicks"] == 3
        assert _push_stats(loyalty, "promo") == (1, 3)
        days = loyalty.get(
            "/stats/campaign", name="promo", **{"from": "2030-01-10", "to": "2030-01-11"}
        ).json()["days"]
        assert [(d["date"], d["pushRegistered"], d["pushClicked"]) for d in days] == [
            ("2030-01-10", 1, 1),
            ("2030-01-11", 0, 2),
        ]

    def test_unknown_push_or_campaign_is_404(self, loyalty: Loyalty) -> None:
        campaign(loyalty, "promo")
        response = loyalty.my_post("acc-1", "/campaign/promo/push/click", "never")
        assert response.status_code == 404
        assert response.json()["error"] == "Not Found"
        assert loyalty.my_post("acc-1", "/campaign/nope/push/click", "p-1").status_code == 404
        assert _push_stats(loyalty, "promo") == (0, 0)

    def test_validation(self, loyalty: Loyalty) -> None:
        campaign(loyalty, "promo")
        loyalty.post("/campaign/promo/push", "p-1")
        for body in (None, 1, "", "x" * 33, "a/b", {"pushId": "p-1"}):
            response = loyalty.my_post("acc-1", "/campaign/promo/push/click", body)
            assert response.status_code == 400, body
            assert response.json()["field"] == "pushId", body
        response = loyalty.my_post("acc-1", "/campaign/a.b/push/click", "p-1")
        assert response.status_code == 400
        assert response.json()["field"] == "campaign"
        assert _push_stats(loyalty, "promo") == (1, 0)

    def test_needs_an_end_user_token(self, client: TestClient, loyalty: Loyalty) -> None:
        campaign(loyalty, "promo")
        loyalty.post("/campaign/promo/push", "p-1")
        url = f"{API}/campaign/promo/push/click"
        assert client.post(url, headers=loyalty.headers, json="p-1").status_code == 403
        assert client.post(url, json="p-1").status_code == 401
        assert _push_stats(loyalty, "promo") == (1, 0)


class TestThroughTheCampaignApi:
    """The same production for a campaign created and run through the campaign API."""

    BODY: dict[str, Any] = {
        "id": "e2e",
        "type": "STANDARD",
        "name": "E2E campaign",
        "constraints": [{"field": "header.created", "op": "EXISTS"}],
        "states": [
            {"id": "c", "type": "COUPON", "validDays": 5, "transitionTo": "m"},
            {"id": "m", "type": "MESSAGE", "title": "Thanks", "message": "Enjoy"},
        ],
        "notifications": [
            {"type": "COUPON_EXPIRATION", "daysBefore": 2, "title": "Expiring", "message": "Use"},
            {
                "type": "SPECIFIC_TIME",
                "at": "2030-01-10T13:00:00Z",
                "title": "Now",
                "message": "Go",
            },
        ],
    }

    def test_specific_time_then_coupon_expiration_then_finalize(
        self, loyalty: Loyalty, clock: Any
    ) -> None:
        clock.freeze(T0)
        account(loyalty, "acc-1")
        account(loyalty, "acc-2")
        assert loyalty.post("/campaign", self.BODY).status_code == 200
        assert loyalty.post("/campaign/e2e/initialize").status_code == 200
        tick()
        assert listed(loyalty, type="SPECIFIC_TIME") == []
        assert listed(loyalty, type="COUPON_EXPIRATION") == []

        clock.freeze(T0 + timedelta(hours=1))
        tick()
        assert sorted(summary(listed(loyalty, type="SPECIFIC_TIME"))) == [
            ("SPECIFIC_TIME", "e2e", "acc-1"),
            ("SPECIFIC_TIME", "e2e", "acc-2"),
        ]
        assert listed(loyalty, type="COUPON_EXPIRATION") == []

        clock.freeze(T0 + timedelta(days=3, minutes=1))
        tick()
        tick()
        expiring = listed(loyalty, type="COUPON_EXPIRATION")
        assert sorted(summary(expiring)) == [
            ("COUPON_EXPIRATION", "e2e", "acc-1"),
            ("COUPON_EXPIRATION", "e2e", "acc-2"),
        ]
        assert {i["coupon"]["validUntil"] for i in expiring} == {"2030-01-15T12:00:00Z"}
        assert global_stats(loyalty, "e2e")["notifications"] == 4

        assert loyalty.post("/campaign/e2e/finalize").status_code == 200
        clock.freeze(T0 + timedelta(days=4))
        tick()
        assert len(listed(loyalty, campaign="e2e", type="COUPON_EXPIRATION")) == 2
        assert global_stats(loyalty, "e2e")["notifications"] == 4

    def test_pushes_of_a_campaign_from_the_api(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        assert loyalty.post("/campaign", self.BODY).status_code == 200
        assert loyalty.post("/campaign/e2e/push", "p-1").status_code == 200
        assert loyalty.my_post("acc-1", "/campaign/e2e/push/click", "p-1").status_code == 200
        assert _push_stats(loyalty, "e2e") == (1, 1)
