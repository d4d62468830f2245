"""Loyalty campaigns over HTTP: validation, upsert, lists, preview/initialize/finalize, the
per-account state machine (each state type), dynamic joins, windows, BIRTHDAY enrollment,
explain, and tenant isolation."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update

from retailhub.config import get_settings
from retailhub.db import session_scope
from retailhub.loyalty import tick
from retailhub.loyalty.campaign import constraints as cons
from retailhub.loyalty.campaign import service as campaign_service
from retailhub.loyalty.facts import OrderFact
from retailhub.models import (
    LoyaltyAccount,
    LoyaltyAccountTag,
    LoyaltyAccountVenue,
    LoyaltyCampaign,
    LoyaltyCampaignMember,
    LoyaltyCoupon,
    LoyaltyNotification,
    LoyaltyWalletEntry,
    Tenant,
)
from tests.loyalty import Loyalty

T0 = datetime(2030, 3, 10, 12, 0, tzinfo=UTC)


def body(campaign_id: str = "welcome", **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": campaign_id,
        "type": "STANDARD",
        "name": "Welcome campaign",
        "constraints": [{"field": "tags.my_vip", "op": "EXISTS"}],
        "states": [{"id": "hello", "type": "MESSAGE", "title": "Hi", "message": "Welcome"}],
    }
    data.update(over)
    return data


def tenant_id(loyalty: Loyalty) -> int:
    with session_scope() as session:
        return int(session.scalar(select(Tenant.id).where(Tenant.slug == loyalty.slug)) or 0)


def account(
    loyalty: Loyalty,
    account_id: str,
    *,
    profile: dict[str, Any] | None = None,
    properties: dict[str, str] | None = None,
    tags: list[str] | None = None,
) -> None:
    """Register the account (token exchange) and set its data through the API."""
    loyalty.user_headers(account_id)
    if profile:
        r = loyalty.my_put(account_id, "/account/my/profile", profile)
        assert r.status_code == 200, r.text
    if properties or tags:
        payload = {"properties": properties or {}, "addTags": tags or []}
        r = loyalty.my_put(account_id, "/account/my/properties", payload)
        assert r.status_code == 200, r.text


def set_account(loyalty: Loyalty, account_id: str, **columns: Any) -> None:
    """Write account columns directly (data no API sets: counters, created, lastOrder)."""
    tid = tenant_id(loyalty)
    with session_scope(write=True) as session:
        session.execute(
            update(LoyaltyAccount)
            .where(LoyaltyAccount.tenant_id == tid, LoyaltyAccount.account_id == account_id)
            .values(**columns)
        )


def account_pk(loyalty: Loyalty, account_id: str) -> int:
    tid = tenant_id(loyalty)
    with session_scope() as session:
        return int(
            session.scalar(
                select(LoyaltyAccount.id).where(
                    LoyaltyAccount.tenant_id == tid, LoyaltyAccount.account_id == account_id
                )
            )
            or 0
        )


def add_rows(
    loyalty: Loyalty,
    account_id: str,
    *,
    tags: tuple[str, ...] = (),
    venues: tuple[tuple[str, int], ...] = (),
) -> None:
    tid, pk = tenant_id(loyalty), account_pk(loyalty, account_id)
    with session_scope(write=True) as session:
        for tag in tags:
            session.add(LoyaltyAccountTag(tenant_id=tid, account_pk=pk, tag=tag))
        for venue, orders in venues:
            session.add(
                LoyaltyAccountVenue(tenant_id=tid, account_pk=pk, venue=venue, orders=orders)
            )


def create(loyalty: Loyalty, data: dict[str, Any]) -> dict[str, Any]:
    r = loyalty.post("/campaign", data)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def start(loyalty: Loyalty, data: dict[str, Any]) -> dict[str, Any]:
    create(loyalty, data)
    r = loyalty.post(f"/campaign/{data['id']}/initialize")
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def members(loyalty: Loyalty, campaign_id: str) -> dict[str, tuple[str | None, int]]:
    """``{account id: (state, cycle)}`` of the campaign's runs."""
    tid = tenant_id(loyalty)
    with session_scope() as session:
        rows = session.execute(
            select(
                LoyaltyAccount.account_id, LoyaltyCampaignMember.state, LoyaltyCampaignMember.cycle
            )
            .join(LoyaltyCampaignMember, LoyaltyCampaignMember.account_pk == LoyaltyAccount.id)
            .join(LoyaltyCampaign, LoyaltyCampaign.id == LoyaltyCampaignMember.campaign_pk)
            .where(LoyaltyCampaign.tenant_id == tid, LoyaltyCampaign.campaign_id == campaign_id)
            .order_by(LoyaltyAccount.account_id, LoyaltyCampaignMember.cycle)
        )
        return {f"{a}" if c == 0 else f"{a}@{c}": (s, c) for a, s, c in rows}


def notifications(loyalty: Loyalty, account_id: str) -> list[tuple[str, str | None, bool]]:
    pk = account_pk(loyalty, account_id)
    with session_scope() as session:
        rows = session.execute(
            select(
                LoyaltyNotification.type,
                LoyaltyNotification.title,
                LoyaltyNotification.received_at,
            )
            .where(LoyaltyNotification.account_pk == pk)
            .order_by(LoyaltyNotification.id)
        )
        return [(t, title, received is not None) for t, title, received in rows]


# Validation ------------------------------------------------------------------------------

LONG = "x" * 257


def _with(path: list[Any], value: Any) -> dict[str, Any]:
    data = body(
        states=[
            {"id": "hello", "type": "MESSAGE", "title": "Hi", "message": "Welcome"},
            {"id": "gift", "type": "COUPON", "validDays": 30},
        ],
        notifications=[{"type": "DYNAMIC_JOIN", "title": "Joined", "message": "You joined"}],
    )
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


_DELETE = object()
CASES: list[tuple[str, list[Any], Any, str]] = [
    ("id too long", ["id"], "a" * 65, "id"),
    ("id bad characters", ["id"], "a b", "id"),
    ("id empty", ["id"], "", "id"),
    ("type missing", ["type"], _DELETE, "type"),
    ("type unknown", ["type"], "WEEKLY", "type"),
    ("name too short", ["name"], "ab", "name"),
    ("name too long", ["name"], "n" * 129, "name"),
    ("activeFrom not a date-time", ["activeFrom"], "soon", "activeFrom"),
    ("constraints empty", ["constraints"], [], "constraints"),
    ("constraints 17", ["constraints"], [{"field": "tags.a", "op": "EXISTS"}] * 17, "constraints"),
    ("field unknown", ["constraints", 0, "field"], "header.email", "constraints[0].field"),
    ("field too long", ["constraints", 0, "field"], "tags." + "t" * 60, "constraints[0].field"),
    ("op unknown", ["constraints", 0, "op"], "LIKE", "constraints[0].op"),
    (
        "17 values",
        ["constraints", 0],
        {"field": "properties.p", "op": "IN", "value": ["a"] * 17},
        "constraints[0].value",
    ),
    (
        "EQ without value",
        ["constraints", 0],
        {"field": "properties.p", "op": "EQ"},
        "constraints[0].value",
    ),
    (
        "EQ with two values",
        ["constraints", 0],
        {"field": "properties.p", "op": "EQ", "value": ["a", "b"]},
        "constraints[0].value",
    ),
    (
        "IN without values",
        ["constraints", 0],
        {"field": "properties.p", "op": "IN", "value": []},
        "constraints[0].value",
    ),
    (
        "EXISTS with a value",
        ["constraints", 0],
        {"field": "tags.vip", "op": "EXISTS", "value": ["x"]},
        "constraints[0].value",
    ),
    (
        "counter not a number",
        ["constraints", 0],
        {"field": "counters.orders", "op": "GT", "value": ["many"]},
        "constraints[0].value[0]",
    ),
    (
        "created not a date",
        ["constraints", 0],
        {"field": "header.created", "op": "GT", "value": ["yesterday"]},
        "constraints[0].value[0]",
    ),
    (
        "birthdate not a date",
        ["constraints", 0],
        {"field": "header.birthdate", "op": "EQ", "value": ["2000-01-01T00:00:00Z"]},
        "constraints[0].value[0]",
    ),
    (
        "tag with GT",
        ["constraints", 0],
        {"field": "tags.vip", "op": "GT", "value": ["1"]},
        "constraints[0].op",
    ),
    ("states empty", ["states"], [], "states"),
    (
        "states 11",
        ["states"],
        [{"id": f"s{i}", "type": "MESSAGE", "title": "t", "message": "m"} for i in range(11)],
        "states",
    ),
    ("state id too long", ["states", 0, "id"], "s" * 33, "states[0].id"),
    ("state id bad characters", ["states", 0, "id"], "a.b", "states[0].id"),
    ("state type missing", ["states", 0, "type"], _DELETE, "states[0].type"),
    ("state type unknown", ["states", 0, "type"], "PUSH", "states[0].type"),
    ("state ids repeat", ["states", 1, "id"], "hello", "states[1].id"),
    ("transitionTo unknown", ["states", 0, "transitionTo"], "nowhere", "states[0].transitionTo"),
    ("transitionTo too long", ["states", 0, "transitionTo"], "t" * 33, "states[0].transitionTo"),
    ("coupon validDays 0", ["states", 1, "validDays"], 0, "states[1].validDays"),
    ("coupon validDays missing", ["states", 1, "validDays"], _DELETE, "states[1].validDays"),
    ("coupon usageLimit 0", ["states", 1, "usageLimit"], 0, "states[1].usageLimit"),
    ("coupon enableKey too long", ["states", 1, "enableKey"], "k" * 65, "states[1].enableKey"),
    (
        "wallet points 0",
        ["states", 1],
        {"id": "pts", "type": "WALLET", "points": 0},
        "states[1].points",
    ),
    (
        "wallet expiresInDays 0",
        ["states", 1],
        {"id": "pts", "type": "WALLET", "points": 5, "expiresInDays": 0},
        "states[1].expiresInDays",
    ),
    ("message title missing", ["states", 0, "title"], _DELETE, "states[0].title"),
    ("message title too long", ["states", 0, "title"], LONG, "states[0].title"),
    ("message image too long", ["states", 0, "image"], LONG, "states[0].image"),
    ("message payload not strings", ["states", 0, "payload"], {"k": 1}, "states[0].payload.k"),
    (
        "account constraints empty",
        ["states", 1],
        {"id": "acc", "type": "ACCOUNT", "constraints": []},
        "states[1].constraints",
    ),
    (
        "account constraint value",
        ["states", 1],
        {
            "id": "acc",
            "type": "ACCOUNT",
            "constraints": [{"field": "counters.orders", "op": "GTE", "value": ["x"]}],
        },
        "states[1].constraints[0].value[0]",
    ),
    (
        "order minTotal negative",
        ["states", 1],
        {"id": "buy", "type": "ORDER", "minTotal": -1},
        "states[1].minTotal",
    ),
    (
        "order couponUsed not a boolean",
        ["states", 1],
        {"id": "buy", "type": "ORDER", "couponUsed": "maybe"},
        "states[1].couponUsed",
    ),
    (
        "loop of immediate states",
        ["states"],
        [
            {"id": "a", "type": "COUPON", "validDays": 1, "transitionTo": "b"},
            {"id": "b", "type": "WALLET", "points": 1, "transitionTo": "a"},
        ],
        "states[0].transitionTo",
    ),
    (
        "notifications 4",
        ["notifications"],
        [{"type": "DYNAMIC_JOIN", "title": "t", "message": "m"}] * 4,
        "notifications",
    ),
    (
        "notification title missing",
        ["notifications", 0, "title"],
        _DELETE,
        "notifications[0].title",
    ),
    (
        "notification message too long",
        ["notifications", 0, "message"],
        LONG,
        "notifications[0].message",
    ),
    ("notification image too long", ["notifications", 0, "image"], LONG, "notifications[0].image"),
    ("notification type unknown", ["notifications", 0, "type"], "EMAIL", "notifications[0].type"),
    (
        "coupon expiration without daysBefore",
        ["notifications", 0, "type"],
        "COUPON_EXPIRATION",
        "notifications[0].daysBefore",
    ),
    (
        "specific time without a valid at",
        ["notifications", 0],
        {"type": "SPECIFIC_TIME", "title": "t", "message": "m", "at": "noon"},
        "notifications[0].at",
    ),
    (
        "notification payload not strings",
        ["notifications", 0, "payload"],
        {"deeplink": ["x"]},
        "notifications[0].payload.deeplink",
    ),
]


class TestValidation:
    @pytest.mark.parametrize(("case", "path", "value", "field"), CASES, ids=[c[0] for c in CASES])
    def test_limit(
        self, loyalty: Loyalty, case: str, path: list[Any], value: Any, field: str
    ) -> None:
        r = loyalty.post("/campaign", _with(path, value))
        assert r.status_code == 400, r.text
        answer = r.json()
        assert answer["field"] == field, answer
        assert answer["message"].startswith(field), answer
        assert answer["error"] == "Bad Request"

    def test_the_base_body_is_valid(self, loyalty: Loyalty) -> None:
        r = loyalty.post("/campaign", _with(["name"], "Fine name"))
        assert r.status_code == 200, r.text

    def test_active_from_must_precede_active_to(self, loyalty: Loyalty) -> None:
        data = body(activeFrom="2030-01-02T00:00:00Z", activeTo="2030-01-01T00:00:00Z")
        r = loyalty.post("/campaign", data)
        assert r.status_code == 400
        assert r.json()["field"] == "activeTo"

    def test_put_path_must_match_body_id(self, loyalty: Loyalty) -> None:
        r = loyalty.put("/campaign/other", body("welcome"))
        assert r.status_code == 400
        assert r.json()["field"] == "id"

    def test_get_path_is_3_to_64(self, loyalty: Loyalty) -> None:
        r = loyalty.get("/campaign/ab")
        assert r.status_code == 400
        assert r.json()["field"] == "campaign"


# Definitions -----------------------------------------------------------------------------


class TestDefinition:
    def test_post_creates_and_get_reads(self, loyalty: Loyalty) -> None:
        data = body(
            activeFrom="2030-01-01T00:00:00",
            activeTo="2030-12-31T00:00:00+02:00",
            dynamic=True,
            notifications=[
                {"type": "COUPON_EXPIRATION", "title": "t", "message": "m", "daysBefore": 3}
            ],
            states=[
                {
                    "id": "gift",
                    "type": "COUPON",
                    "validDays": 7,
                    "transitionTo": "buy",
                    "stats": 99,
                },
                {"id": "buy", "type": "ORDER", "minTotal": 20.5, "storeNumber": "S1"},
            ],
        )
        created = create(loyalty, data)
        r = loyalty.get("/campaign/welcome")
        assert r.status_code == 200
        assert r.json() == created
        assert created == {
            "id": "welcome",
            "type": "STANDARD",
            "name": "Welcome campaign",
            "activeFrom": "2030-01-01T00:00:00Z",
            "activeTo": "2030-12-30T22:00:00Z",
            "constraints": [{"field": "tags.my_vip", "op": "EXISTS"}],
            "states": [
                {
                    "id": "gift",
                    "type": "COUPON",
                    "validDays": 7,
                    "usageLimit": 1,
                    "transitionTo": "buy",
                    "stats": 0,
                },
                {"id": "buy", "type": "ORDER", "minTotal": 20.5, "storeNumber": "S1", "stats": 0},
            ],
            "dynamic": True,
            "notifications": [
                {"type": "COUPON_EXPIRATION", "title": "t", "message": "m", "daysBefore": 3}
            ],
            "initialized": False,
            "initializedAt": None,
            "initializedBy": None,
            "cnt": 0,
            "stateStats": {"gift": 0, "buy": 0},
            "previewedAt": None,
            "samples": [],
            "finalized": False,
            "finalizedAt": None,
        }

    def test_put_upserts(self, loyalty: Loyalty) -> None:
        r = loyalty.put("/campaign/welcome", body())
        assert r.status_code == 200
        r = loyalty.put("/campaign/welcome", body(name="Renamed"))
        assert r.status_code == 200
        assert r.json()["name"] == "Renamed"
        r = loyalty.post("/campaign", body(name="Again"))
        assert loyalty.get("/campaign/welcome").json()["name"] == "Again"
        assert loyalty.get("/campaigns").headers["X-Total-Count"] == "1"

    def test_unknown_is_404(self, loyalty: Loyalty) -> None:
        r = loyalty.get("/campaign/nothing")
        assert r.status_code == 404
        assert r.json()["message"] == "Campaign 'nothing' not found"
        assert loyalty.delete("/campaign/nothing").status_code == 404
        assert loyalty.post("/campaign/nothing/initialize").status_code == 404

    def test_delete(self, loyalty: Loyalty) -> None:
        account(loyalty, "acc-1", tags=["my_vip"])
        start(loyalty, body(states=[{"id": "gift", "type": "COUPON", "validDays": 5}]))
        r = loyalty.delete("/campaign/welcome")
        assert r.status_code == 204
        assert loyalty.get("/campaign/welcome").status_code == 404
        assert members(loyalty, "welcome") == {}
        with session_scope() as session:
            coupon = session.scalars(
                select(LoyaltyCoupon).where(
                    LoyaltyCoupon.account_pk == account_pk(loyalty, "acc-1")
                )
            ).one()
            assert (coupon.campaign_pk, coupon.state_id) == (None, "gift")
        # The id is free again.
        assert loyalty.post("/campaign", body()).json()["initialized"] is False

    def test_initialized_campaign_keeps_its_states_and_constraints(self, loyalty: Loyalty) -> None:
        start(loyalty, body())
        r = loyalty.put(
            "/campaign/welcome", body(constraints=[{"field": "tags.x", "op": "EXISTS"}])
        )
        assert r.status_code == 409
        assert r.json()["field"] == "constraints"
        changed = body(states=[{"id": "other", "type": "MESSAGE", "title": "t", "message": "m"}])
        assert loyalty.put("/campaign/welcome", changed).json()["field"] == "states"
        assert loyalty.put("/campaign/welcome", body(type="BIRTHDAY")).json()["field"] == "type"
        r = loyalty.put("/campaign/welcome", body(name="New name", dynamic=True))
        assert r.status_code == 200
        assert (r.json()["name"], r.json()["dynamic"], r.json()["initialized"]) == (
            "New name",
            True,
            True,
        )

    def test_changing_constraints_clears_the_preview(self, loyalty: Loyalty) -> None:
        account(loyalty, "acc-1", tags=["my_vip"])
        create(loyalty, body())
        assert loyalty.post("/campaign/welcome/preview").json()["cnt"] == 1
        r = loyalty.put(
            "/campaign/welcome", body(constraints=[{"field": "tags.my_x", "op": "EXISTS"}])
        )
        assert (r.json()["cnt"], r.json()["samples"], r.json()["previewedAt"]) == (0, [], None)

    def test_service_role_required(self, client: Any, loyalty: Loyalty) -> None:
        token = loyalty.service_token(scope="ROLE_LOYALTY_STATS")
        r = client.get(
            "/loyalty-api/api/campaigns",
            headers={"Authorization": f"Bearer {token}", "x-tenant": loyalty.slug},
        )
        assert r.status_code == 403
        token = loyalty.service_token(scope="ROLE_LOYALTY_CAMPAIGN")
        r = client.get(
            "/loyalty-api/api/campaigns",
            headers={"Authorization": f"Bearer {token}", "x-tenant": loyalty.slug},
        )
        assert r.status_code == 200


class TestList:
    @pytest.fixture
    def three(self, loyalty: Loyalty) -> None:
        create(loyalty, body("alpha", name="Spring promo"))
        create(loyalty, body("beta", name="Birthday gift", type="BIRTHDAY"))
        create(loyalty, body("gamma", name="Summer promo"))
        assert loyalty.post("/campaign/gamma/initialize").status_code == 200

    def test_json_server_dialect(self, loyalty: Loyalty, three: None) -> None:
        r = loyalty.get("/campaigns", _start=0, _end=2, _sort="name", _order="DESC")
        assert r.status_code == 200
        assert [c["id"] for c in r.json()] == ["gamma", "alpha"]
        assert r.headers["X-Total-Count"] == "3"
        assert r.headers["Content-Range"] == "campaigns 0-1/3"
        assert "X-Total-Count" in r.headers["Access-Control-Expose-Headers"]

    def test_simple_rest_dialect(self, loyalty: Loyalty, three: None) -> None:
        r = loyalty.get("/campaigns", range="[1,5]", sort='["id","ASC"]', filter='{"q":"PROMO"}')
        assert [c["id"] for c in r.json()] == ["gamma"]
        assert r.headers["Content-Range"] == "campaigns 1-1/2"
        assert r.headers["X-Total-Count"] == "2"

    def test_filters(self, loyalty: Loyalty, three: None) -> None:
        def ids(**params: Any) -> list[str]:
            return [c["id"] for c in loyalty.get("/campaigns", **params).json()]

        assert ids(type="BIRTHDAY") == ["beta"]
        assert ids(initialized="true") == ["gamma"]
        assert ids(initialized="false") == ["alpha", "beta"]
        assert ids(name="promo") == ["alpha", "gamma"]
        assert ids(filter='{"id":["alpha","beta"]}') == ["alpha", "beta"]
        assert ids(id="beta") == ["beta"]

    def test_unknown_sort_is_400(self, loyalty: Loyalty) -> None:
        r = loyalty.get("/campaigns", _sort="cnt")
        assert r.status_code == 400
        assert r.json()["field"] == "sort"


# Lifecycle -------------------------------------------------------------------------------


class TestPreviewAndInitialize:
    def test_preview_counts_and_samples(self, loyalty: Loyalty) -> None:
        for i in range(4):
            account(loyalty, f"acc-{i}", tags=["my_vip"] if i != 2 else ["my_other"])
        create(loyalty, body())
        r = loyalty.post("/campaign/welcome/preview")
        assert r.status_code == 200
        assert r.json()["cnt"] == 3
        assert r.json()["samples"] == ["acc-0", "acc-1", "acc-3"]
        assert r.json()["previewedAt"] is not None
        assert r.json()["initialized"] is False

    def test_preview_samples_are_capped(
        self, loyalty: Loyalty, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "loyalty_preview_samples", 2)
        for i in range(3):
            account(loyalty, f"acc-{i}", tags=["my_vip"])
        create(loyalty, body())
        r = loyalty.post("/campaign/welcome/preview")
        assert (r.json()["cnt"], r.json()["samples"]) == (3, ["acc-0", "acc-1"])

    def test_initialize_enrolls_exactly_the_matching_accounts(self, loyalty: Loyalty) -> None:
        account(loyalty, "acc-1", tags=["my_vip"])
        account(loyalty, "acc-2", tags=["my_vip"], properties={"plan": "gold"})
        account(loyalty, "acc-3", properties={"plan": "gold"})
        data = body(
            constraints=[
                {"field": "tags.my_vip", "op": "EXISTS"},
                {"field": "properties.plan", "op": "EQ", "value": ["gold"]},
            ]
        )
        started = start(loyalty, data)
        assert started["initialized"] is True
        assert started["initializedAt"] is not None
        assert started["initializedBy"] == loyalty.creds["loyalty_client_id"]
        assert started["cnt"] == 1
        assert members(loyalty, "welcome") == {"acc-2": ("hello", 0)}
        assert notifications(loyalty, "acc-2") == [("MESSAGE", "Hi", False)]
        assert notifications(loyalty, "acc-1") == []

    def test_initialize_twice_is_409(self, loyalty: Loyalty) -> None:
        start(loyalty, body())
        r = loyalty.post("/campaign/welcome/initialize")
        assert r.status_code == 409
        assert r.json()["message"] == "Campaign 'welcome' is already initialized"

    def test_preview_after_initialize_is_409(self, loyalty: Loyalty) -> None:
        start(loyalty, body())
        assert loyalty.post("/campaign/welcome/preview").status_code == 409

    def test_running_limit(self, loyalty: Loyalty, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(get_settings(), "loyalty_max_running_campaigns", 2)
        start(loyalty, body("one"))
        start(loyalty, body("two"))
        create(loyalty, body("three"))
        r = loyalty.post("/campaign/three/initialize")
        assert r.status_code == 409
        assert r.json()["message"].startswith("At most 2 campaigns may run at once")
        assert loyalty.post("/campaign/one/finalize").status_code == 200
        assert loyalty.post("/campaign/three/initialize").status_code == 200

    def test_finalize_stops_and_keeps_stats(self, loyalty: Loyalty) -> None:
        account(loyalty, "acc-1", tags=["my_vip"])
        start(loyalty, body(dynamic=True))
        r = loyalty.post("/campaign/welcome/finalize")
        assert r.status_code == 200
        assert (r.json()["finalized"], r.json()["initialized"], r.json()["cnt"]) == (True, True, 1)
        assert r.json()["finalizedAt"] is not None
        # No more joins nor transitions.
        account(loyalty, "acc-2", tags=["my_vip"])
        assert members(loyalty, "welcome") == {"acc-1": ("hello", 0)}
        r = loyalty.my_post("acc-1", "/campaign/welcome/message")
        assert r.status_code == 409
        assert r.json()["message"] == "Campaign 'welcome' is not running"
        assert loyalty.post("/campaign/welcome/finalize").status_code == 409
        assert loyalty.post("/campaign/welcome/initialize").status_code == 409

    def test_finalize_needs_initialize(self, loyalty: Loyalty) -> None:
        create(loyalty, body())
        assert loyalty.post("/campaign/welcome/finalize").status_code == 409

    def test_initialize_after_active_to_is_409(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        create(loyalty, body(activeTo="2030-03-01T00:00:00Z"))
        r = loyalty.post("/campaign/welcome/initialize")
        assert r.status_code == 409

    def test_tenant_isolation(self, loyalty: Loyalty, other_loyalty: Loyalty) -> None:
        create(loyalty, body())
        assert other_loyalty.get("/campaign/welcome").status_code == 404
        assert other_loyalty.post("/campaign/welcome/initialize").status_code == 404
        assert other_loyalty.get("/campaigns").headers["X-Total-Count"] == "0"
        assert loyalty.get("/campaign/welcome").json()["initialized"] is False
        # The other tenant may use the same id.
        assert other_loyalty.post("/campaign", body()).status_code == 200


# State machine ---------------------------------------------------------------------------


class TestStates:
    def test_coupon_then_wallet(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        account(loyalty, "acc-1", tags=["my_vip"])
        start(
            loyalty,
            body(
                states=[
                    {
                        "id": "gift",
                        "type": "COUPON",
                        "validDays": 14,
                        "usageLimit": 2,
                        "productId": "P1",
                        "enableKey": "K",
                        "transitionTo": "points",
                    },
                    {"id": "points", "type": "WALLET", "points": 50, "expiresInDays": 30},
                ]
            ),
        )
        assert members(loyalty, "welcome") == {"acc-1": (None, 0)}
        pk = account_pk(loyalty, "acc-1")
        with session_scope() as session:
            coupon = session.scalars(
                select(LoyaltyCoupon).where(LoyaltyCoupon.account_pk == pk)
            ).one()
            assert len(coupon.code) == 16 and coupon.code == coupon.code.upper()
            int(coupon.code, 16)
            assert coupon.valid_until is not None
            assert coupon.valid_until.replace(tzinfo=UTC) == T0 + timedelta(days=14)
            assert (coupon.usage_limit, coupon.product_id, coupon.enable_key, coupon.state_id) == (
                2,
                "P1",
                "K",
                "gift",
            )
            entry = session.scalars(
                select(LoyaltyWalletEntry).where(LoyaltyWalletEntry.account_pk == pk)
            ).one()
            assert (entry.kind, entry.points, entry.source) == (
                "earn",
                50,
                "campaign:welcome/points",
            )
            assert entry.expires_at is not None
            assert entry.expires_at.replace(tzinfo=UTC) == T0 + timedelta(days=30)
        campaign = loyalty.get("/campaign/welcome").json()
        assert campaign["stateStats"] == {"gift": 1, "points": 1}
        assert [s["stats"] for s in campaign["states"]] == [1, 1]

    def test_message_completes_on_message_call(self, loyalty: Loyalty) -> None:
        account(loyalty, "acc-1", tags=["my_vip"])
        start(
            loyalty,
            body(
                states=[
                    {
                        "id": "hello",
                        "type": "MESSAGE",
                        "title": "Hi",
                        "message": "Fill in",
                        "payload": {"form": "f1"},
                        "transitionTo": "gift",
                    },
                    {"id": "gift", "type": "COUPON", "validDays": 5},
                ]
            ),
        )
        r = loyalty.my_get("acc-1", "/account/my/campaigns")
        assert r.status_code == 200
        assert r.json() == [
            {
                "id": "welcome",
                "name": "Welcome campaign",
                "type": "STANDARD",
                "state": "hello",
                "finished": False,
                "states": [
                    {
                        "id": "hello",
                        "type": "MESSAGE",
                        "title": "Hi",
                        "message": "Fill in",
                        "payload": {"form": "f1"},
                        "transitionTo": "gift",
                    },
                    {"id": "gift", "type": "COUPON", "validDays": 5, "usageLimit": 1},
                ],
            }
        ]
        r = loyalty.my_post("acc-1", "/campaign/welcome/message")
        assert r.status_code == 200, r.text
        assert (r.json()["state"], r.json()["finished"]) == (None, True)
        assert notifications(loyalty, "acc-1") == [("MESSAGE", "Hi", True)]
        with session_scope() as session:
            assert (
                session.scalar(
                    select(func.count()).where(
                        LoyaltyCoupon.account_pk == account_pk(loyalty, "acc-1")
                    )
                )
                == 1
            )
        r = loyalty.my_post("acc-1", "/campaign/welcome/message")
        assert r.status_code == 409
        assert "not waiting for a message" in r.json()["message"]
        assert loyalty.get("/campaign/welcome").json()["stateStats"] == {"hello": 1, "gift": 1}

    def test_message_needs_a_member(self, loyalty: Loyalty) -> None:
        account(loyalty, "acc-1")
        start(loyalty, body())
        r = loyalty.my_post("acc-1", "/campaign/welcome/message")
        assert r.status_code == 409
        assert loyalty.my_post("acc-1", "/campaign/nothing/message").status_code == 404

    def test_coupon_acknowledgement_is_409(self, loyalty: Loyalty) -> None:
        account(loyalty, "acc-1", tags=["my_vip"])
        start(loyalty, body(states=[{"id": "gift", "type": "COUPON", "validDays": 5}]))
        r = loyalty.my_post("acc-1", "/campaign/welcome/coupon")
        assert r.status_code == 409
        assert "nothing to acknowledge" in r.json()["message"]

    def test_account_state_waits_for_the_account(self, loyalty: Loyalty) -> None:
        account(loyalty, "acc-1", tags=["my_vip"])
        account(loyalty, "acc-2", tags=["my_vip"], profile={"birthdate": "1990-04-01"})
        start(
            loyalty,
            body(
                states=[
                    {
                        "id": "fill",
                        "type": "ACCOUNT",
                        "constraints": [{"field": "header.birthdate", "op": "EXISTS"}],
                        "transitionTo": "reward",
                    },
                    {"id": "reward", "type": "WALLET", "points": 10},
                ]
            ),
        )
        # acc-2 already meets it: straight through.
        assert members(loyalty, "welcome") == {"acc-1": ("fill", 0), "acc-2": (None, 0)}
        account(loyalty, "acc-1", properties={"unrelated": "x"})
        assert members(loyalty, "welcome")["acc-1"] == ("fill", 0)
        account(loyalty, "acc-1", profile={"birthdate": "1991-05-02"})
        assert members(loyalty, "welcome")["acc-1"] == (None, 0)
        assert loyalty.get("/campaign/welcome").json()["stateStats"] == {"fill": 2, "reward": 2}

    def test_account_state_on_a_tag(self, loyalty: Loyalty) -> None:
        account(loyalty, "acc-1", tags=["my_vip"])
        start(
            loyalty,
            body(
                states=[
                    {
                        "id": "wait",
                        "type": "ACCOUNT",
                        "constraints": [{"field": "tags.my_done", "op": "EXISTS"}],
                    },
                ]
            ),
        )
        assert members(loyalty, "welcome") == {"acc-1": ("wait", 0)}
        account(loyalty, "acc-1", tags=["my_done"])
        assert members(loyalty, "welcome") == {"acc-1": (None, 0)}

    def test_order_state(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        account(loyalty, "acc-1", tags=["my_vip"])
        account(loyalty, "acc-2", tags=["my_vip"])
        start(
            loyalty,
            body(
                states=[
                    {
                        "id": "buy",
                        "type": "ORDER",
                        "minTotal": 20,
                        "storeNumber": "S1",
                        "sku": "SKU-1",
                        "couponUsed": True,
                        "transitionTo": "points",
                    },
                    {"id": "points", "type": "WALLET", "points": 7},
                ]
            ),
        )
        tid = tenant_id(loyalty)
        pk1, pk2 = account_pk(loyalty, "acc-1"), account_pk(loyalty, "acc-2")

        def order(pk: int, number: str, **over: Any) -> OrderFact:
            data: dict[str, Any] = {
                "account_pk": pk,
                "order_number": number,
                "total": Decimal("25.00"),
                "store_number": "S1",
                "coupon_code": "ABC",
                "skus": ("SKU-1", "SKU-2"),
                "status": "Completed",
                "ordered_at": T0 + timedelta(hours=1),
            }
            data.update(over)
            return OrderFact(**data)

        misses = [
            order(pk1, "o-1", total=Decimal("19.99")),
            order(pk1, "o-2", store_number="S2"),
            order(pk1, "o-3", skus=("SKU-3",)),
            order(pk1, "o-4", coupon_code=None),
            order(pk1, "o-5", status="Canceled"),
            order(pk1, "o-6", ordered_at=T0 - timedelta(days=1)),
        ]
        with session_scope(write=True) as session:
            campaign_service.on_orders(session, tenant_id=tid, orders=misses)
        assert members(loyalty, "welcome") == {"acc-1": ("buy", 0), "acc-2": ("buy", 0)}
        with session_scope(write=True) as session:
            campaign_service.on_orders(
                session, tenant_id=tid, orders=[order(pk1, "o-7"), order(pk2, "o-8", total=None)]
            )
        assert members(loyalty, "welcome") == {"acc-1": (None, 0), "acc-2": ("buy", 0)}
        with session_scope() as session:
            entry = session.scalars(
                select(LoyaltyWalletEntry).where(LoyaltyWalletEntry.account_pk == pk1)
            ).one()
            assert (entry.points, entry.order_number) == (7, "o-7")
        assert loyalty.get("/campaign/welcome").json()["stateStats"] == {"buy": 1, "points": 1}

    def test_states_show_on_the_account(self, loyalty: Loyalty) -> None:
        account(loyalty, "acc-1", tags=["my_vip"])
        start(loyalty, body())
        with session_scope() as session:
            states = campaign_service.states_for_account(
                session, tenant_id=tenant_id(loyalty), account_pk=account_pk(loyalty, "acc-1")
            )
        assert states == [{"id": "welcome", "state": "hello"}]


class TestDynamic:
    def test_dynamic_join_on_change(self, loyalty: Loyalty) -> None:
        account(loyalty, "acc-1")
        start(
            loyalty,
            body(
                dynamic=True,
                notifications=[{"type": "DYNAMIC_JOIN", "title": "Welcome aboard", "message": "m"}],
            ),
        )
        assert members(loyalty, "welcome") == {}
        account(loyalty, "acc-1", tags=["my_vip"])
        assert members(loyalty, "welcome") == {"acc-1": ("hello", 0)}
        assert notifications(loyalty, "acc-1") == [
            ("DYNAMIC_JOIN", "Welcome aboard", False),
            ("MESSAGE", "Hi", False),
        ]
        assert loyalty.get("/campaign/welcome").json()["cnt"] == 1
        # Joins once: leaving and matching again changes nothing.
        loyalty.my_put("acc-1", "/account/my/properties", {"removeTags": ["my_vip"]})
        account(loyalty, "acc-1", tags=["my_vip"])
        assert loyalty.get("/campaign/welcome").json()["cnt"] == 1
        assert len(notifications(loyalty, "acc-1")) == 2

    def test_static_campaign_does_not_take_joins(self, loyalty: Loyalty) -> None:
        account(loyalty, "acc-1")
        start(loyalty, body(dynamic=False))
        account(loyalty, "acc-1", tags=["my_vip"])
        assert members(loyalty, "welcome") == {}

    def test_dynamic_join_from_a_customer_import(self, loyalty: Loyalty, tenant: Any) -> None:
        start(
            loyalty,
            body(
                dynamic=True,
                constraints=[{"field": "header.firstName", "op": "EQ", "value": ["Ann"]}],
            ),
        )
        result = tenant.run(
            "Customer",
            [
                {"customerNumber": "C-001", "email": "ann@example.com", "firstName": "Ann"},
                {"customerNumber": "C-002", "email": "bob@example.com", "firstName": "Bob"},
            ],
        )
        assert result["status"] == "succeeded", result
        deadline = time.monotonic() + 20
        while members(loyalty, "welcome") == {} and time.monotonic() < deadline:
            time.sleep(0.05)  # the loyalty sync job runs after the import
        assert members(loyalty, "welcome") == {"C-001": ("hello", 0)}


class TestWindow:
    def test_window_delays_enrollment_until_active_from(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        account(loyalty, "acc-1", tags=["my_vip"])
        start(loyalty, body(activeFrom="2030-03-11T00:00:00Z", activeTo="2030-03-20T00:00:00Z"))
        assert members(loyalty, "welcome") == {}
        tick.run_once()
        assert members(loyalty, "welcome") == {}
        clock.freeze(datetime(2030, 3, 11, 0, 0, tzinfo=UTC))
        tick.run_once()
        tick.run_once()
        assert members(loyalty, "welcome") == {"acc-1": ("hello", 0)}
        assert loyalty.get("/campaign/welcome").json()["cnt"] == 1

    def test_nothing_happens_after_active_to(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        account(loyalty, "acc-1", tags=["my_vip"])
        start(loyalty, body(dynamic=True, activeTo="2030-03-11T00:00:00Z"))
        clock.freeze(datetime(2030, 3, 11, 0, 0, tzinfo=UTC))
        r = loyalty.my_post("acc-1", "/campaign/welcome/message")
        assert r.status_code == 409
        assert r.json()["message"] == "Campaign 'welcome' is outside its active window"
        account(loyalty, "acc-2", tags=["my_vip"])
        assert members(loyalty, "welcome") == {"acc-1": ("hello", 0)}


class TestBirthday:
    def _campaign(self, loyalty: Loyalty) -> None:
        start(
            loyalty,
            body(
                "bday",
                type="BIRTHDAY",
                constraints=[{"field": "header.birthdate", "op": "EXISTS"}],
                states=[{"id": "gift", "type": "COUPON", "validDays": 10}],
            ),
        )

    def test_yearly_enrollment(
        self, loyalty: Loyalty, clock: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "loyalty_birthday_days_before", 7)
        clock.freeze(datetime(2030, 12, 28, 8, 0, tzinfo=UTC))
        account(loyalty, "jan-3", profile={"birthdate": "1990-01-03"})
        account(loyalty, "jan-5", profile={"birthdate": "1985-01-05"})
        account(loyalty, "dec-28", profile={"birthdate": "2000-12-28"})
        account(loyalty, "jun-1", profile={"birthdate": "1970-06-01"})
        self._campaign(loyalty)
        assert members(loyalty, "bday") == {}  # BIRTHDAY campaigns enroll on the tick
        tick.run_once()
        tick.run_once()
        # Dec 28 .. Jan 4: year wrap, the January birthday belongs to 2031.
        assert members(loyalty, "bday") == {"dec-28@2030": (None, 2030), "jan-3@2031": (None, 2031)}
        clock.freeze(datetime(2030, 12, 29, 8, 0, tzinfo=UTC))
        tick.run_once()
        assert set(members(loyalty, "bday")) == {"dec-28@2030", "jan-3@2031", "jan-5@2031"}
        # The next year: each enrolled again, once.
        clock.freeze(datetime(2031, 12, 28, 8, 0, tzinfo=UTC))
        tick.run_once()
        clock.freeze(datetime(2031, 12, 29, 8, 0, tzinfo=UTC))
        tick.run_once()
        tick.run_once()
        assert set(members(loyalty, "bday")) == {
            "dec-28@2030",
            "jan-3@2031",
            "jan-5@2031",
            "dec-28@2031",
            "jan-3@2032",
            "jan-5@2032",
        }
        with session_scope() as session:
            assert (
                session.scalar(
                    select(func.count()).where(
                        LoyaltyCoupon.account_pk == account_pk(loyalty, "jan-3")
                    )
                )
                == 2
            )
        campaign = loyalty.get("/campaign/bday").json()
        assert campaign["cnt"] == 3
        assert campaign["stateStats"] == {"gift": 6}

    def test_feb_29_in_a_common_year(
        self, loyalty: Loyalty, clock: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "loyalty_birthday_days_before", 0)
        account(loyalty, "leap", profile={"birthdate": "2000-02-29"})
        self._campaign(loyalty)
        clock.freeze(datetime(2031, 2, 27, 8, 0, tzinfo=UTC))
        tick.run_once()
        assert members(loyalty, "bday") == {}
        clock.freeze(datetime(2031, 2, 28, 8, 0, tzinfo=UTC))
        tick.run_once()
        assert members(loyalty, "bday") == {"leap@2031": (None, 2031)}
        clock.freeze(datetime(2032, 2, 28, 8, 0, tzinfo=UTC))
        tick.run_once()
        assert "leap@2032" not in members(loyalty, "bday")
        clock.freeze(datetime(2032, 2, 29, 8, 0, tzinfo=UTC))
        tick.run_once()
        assert "leap@2032" in members(loyalty, "bday")

    def test_birthday_cycles_pure(self) -> None:
        assert campaign_service.birthday_cycles(date(2030, 12, 30), 3) == {
            2030: [1230, 1231],
            2031: [101, 102],
        }
        assert campaign_service.birthday_cycles(date(2031, 2, 27), 1) == {2031: [227, 228, 229]}
        assert campaign_service.birthday_cycles(date(2032, 2, 28), 0) == {2032: [228]}


# Explain and agreement -------------------------------------------------------------------


class TestExplain:
    def test_explain(self, loyalty: Loyalty) -> None:
        account(loyalty, "acc-1", tags=["my_vip"], properties={"plan": "silver"})
        set_account(loyalty, "acc-1", counters={"orders": 3})
        create(
            loyalty,
            body(
                constraints=[
                    {"field": "tags.my_vip", "op": "EXISTS"},
                    {"field": "properties.plan", "op": "EQ", "value": ["gold"]},
                    {"field": "counters.orders", "op": "GTE", "value": ["2"]},
                ]
            ),
        )
        r = loyalty.get("/campaign/welcome/explain/acc-1")
        assert r.status_code == 200, r.text
        assert r.json() == {
            "campaign": "welcome",
            "account": "acc-1",
            "matches": False,
            "constraints": [
                {
                    "index": 0,
                    "field": "tags.my_vip",
                    "op": "EXISTS",
                    "value": [],
                    "actual": True,
                    "met": True,
                },
                {
                    "index": 1,
                    "field": "properties.plan",
                    "op": "EQ",
                    "value": ["gold"],
                    "actual": "silver",
                    "met": False,
                },
                {
                    "index": 2,
                    "field": "counters.orders",
                    "op": "GTE",
                    "value": ["2"],
                    "actual": 3,
                    "met": True,
                },
            ],
            "running": False,
            "inWindow": True,
            "member": None,
        }
        assert loyalty.get("/campaign/welcome/explain/nobody").status_code == 404

    def test_sql_and_python_agree(self, loyalty: Loyalty) -> None:
        accounts = {
            "a-1": {
                "counters": {"orders": 3, "value": 120.5},
                "properties": {"plan": "gold", "age": "42"},
                "first_name": "Ann",
                "birthdate": date(1990, 5, 1),
                "last_order_at": datetime(2030, 1, 5, 10, tzinfo=UTC),
            },
            "a-2": {
                "counters": {"orders": 0},
                "properties": {"plan": "silver", "age": "x"},
                "first_name": "Bob",
                "birthdate": None,
                "last_order_at": None,
            },
            "a-3": {
                "counters": {},
                "properties": {"age": "7.5"},
                "first_name": None,
                "birthdate": date(2001, 12, 31),
                "last_order_at": datetime(2030, 1, 6, 0, tzinfo=UTC),
            },
        }
        for account_id, columns in accounts.items():
            account(loyalty, account_id)
            set_account(loyalty, account_id, **columns)
        add_rows(loyalty, "a-1", tags=("vip",), venues=(("S1", 4),))
        add_rows(loyalty, "a-3", tags=("vip", "new"), venues=(("S2", 1),))
        probes = [
            ("counters.orders", "GT", ["0"]),
            ("counters.orders", "EQ", ["0"]),
            ("counters.orders", "EXISTS", []),
            ("counters.value", "LTE", ["120.5"]),
            ("counters.orders", "IN", ["0", "3"]),
            ("counters.orders", "NE", ["3"]),
            ("properties.plan", "EQ", ["gold"]),
            ("properties.plan", "NE", ["gold"]),
            ("properties.plan", "IN", ["gold", "silver"]),
            ("properties.plan", "EXISTS", []),
            ("properties.age", "GT", ["10"]),
            ("properties.age", "LT", ["10"]),
            ("tags.vip", "EXISTS", []),
            ("tags.vip", "EQ", ["false"]),
            ("tags.new", "NE", ["true"]),
            ("venues.S1", "EXISTS", []),
            ("venues.S1", "GTE", ["2"]),
            ("venues.S2", "LT", ["1"]),
            ("header.firstName", "EQ", ["Ann"]),
            ("header.firstName", "NE", ["Ann"]),
            ("header.firstName", "IN", ["Ann", "Bob"]),
            ("header.firstName", "EXISTS", []),
            ("header.birthdate", "LT", ["2000-01-01"]),
            ("header.birthdate", "EQ", ["2001-12-31"]),
            ("header.birthdate", "NE", ["2001-12-31"]),
            ("header.lastOrder", "EQ", ["2030-01-05"]),
            ("header.lastOrder", "GT", ["2030-01-05"]),
            ("header.lastOrder", "LTE", ["2030-01-05"]),
            ("header.lastOrder", "GTE", ["2030-01-05T10:00:00Z"]),
            ("header.lastOrder", "LT", ["2030-01-06T00:00:00"]),
            ("header.lastOrder", "NE", ["2030-01-05"]),
            ("header.lastOrder", "IN", ["2030-01-01", "2030-01-06"]),
            ("header.created", "GT", ["2000-01-01"]),
        ]
        tid = tenant_id(loyalty)
        with session_scope() as session:
            from retailhub.kit.sql import is_pg
            from retailhub.loyalty.campaign import repository

            pg = is_pg(session)
            rows = list(
                session.scalars(select(LoyaltyAccount).where(LoyaltyAccount.tenant_id == tid))
            )
            facts = {}
            for row in rows:
                tags, venues = repository.account_facts(session, row)
                facts[row.account_id] = cons.AccountFacts(
                    counters=row.counters,
                    properties=row.properties,
                    tags=tags,
                    venues=venues,
                    first_name=row.first_name,
                    created=row.created_at,
                    last_order=row.last_order_at,
                    birthdate=row.birthdate,
                )
            for field, op, value in probes:
                cond = cons.parse(field, op, value, loc="c")
                in_sql = set(
                    session.scalars(
                        select(LoyaltyAccount.account_id).where(
                            LoyaltyAccount.tenant_id == tid, cons.to_sql(cond, pg=pg)
                        )
                    )
                )
                in_python = {a for a, f in facts.items() if cons.evaluate(cond, f)}
                assert in_sql == in_python, (field, op, value, in_sql, in_python)
        expected = {
            ("counters.orders", "GT"): {"a-1"},
            ("properties.plan", "NE"): {"a-2", "a-3"},
            ("properties.age", "GT"): {"a-1"},
            ("header.lastOrder", "GT"): {"a-3"},
        }
        with session_scope() as session:
            for (field, op), want in expected.items():
                value = next(v for f, o, v in probes if (f, o) == (field, op))
                cond = cons.parse(field, op, value, loc="c")
                got = set(
                    session.scalars(
                        select(LoyaltyAccount.account_id).where(
                            LoyaltyAccount.tenant_id == tid, cons.to_sql(cond, pg=is_pg(session))
                        )
                    )
                )
                assert got == want, (field, op)
