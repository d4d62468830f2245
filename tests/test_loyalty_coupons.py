"""Coupons: verifyCoupon, verifyArbitraryAccountCoupon (lock), unlockArbitraryAccountCoupon,
redemption by imported orders, on both backends."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from retailhub.db import session_scope
from retailhub.errors import Conflict
from retailhub.loyalty.account import service as account_service
from retailhub.loyalty.coupon import service as coupon_service
from retailhub.loyalty.facts import OrderFact
from retailhub.models import (
    Job,
    LoyaltyCampaign,
    LoyaltyCampaignStat,
    LoyaltyCoupon,
    LoyaltyCouponLock,
    LoyaltyCouponRedemption,
)
from tests.conftest import Tenant
from tests.loyalty import Loyalty

T0 = datetime(2031, 3, 10, 12, 0, tzinfo=UTC)
VERIFY = "/account/coupon/verify"
UNLOCK = "/account/coupon/unlock"
MY_VERIFY = "/account/my/coupon/verify"


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


def account_pk(loyalty: Loyalty, account: str) -> int:
    loyalty.user_headers(account)  # the token exchange registers the account
    with session_scope() as session:
        found = account_service.get(
            session, tenant_id=loyalty.creds["tenant_id"], account_id=account
        )
        return found.id


def issue(loyalty: Loyalty, account: str = "acc-1", **options: Any) -> str:
    pk = account_pk(loyalty, account)
    options.setdefault("code", f"C-{uuid.uuid4().hex[:10]}")
    with session_scope(write=True) as session:
        coupon = coupon_service.issue(
            session, tenant_id=loyalty.creds["tenant_id"], account_pk=pk, **options
        )
        return coupon.code


def campaign(loyalty: Loyalty, campaign_id: str = "spring") -> int:
    with session_scope(write=True) as session:
        row = LoyaltyCampaign(
            tenant_id=loyalty.creds["tenant_id"], campaign_id=campaign_id, type="STANDARD", name="x"
        )
        session.add(row)
        session.flush()
        return row.id


def order(pk: int, number: str, code: str | None, status: str = "Completed") -> OrderFact:
    return OrderFact(
        account_pk=pk,
        order_number=number,
        total=Decimal("10"),
        store_number=None,
        coupon_code=code,
        skus=(),
        status=status,
        ordered_at=None,
    )


def redeem(loyalty: Loyalty, *orders: OrderFact) -> None:
    with session_scope(write=True) as session:
        coupon_service.redeem_from_orders(
            session, tenant_id=loyalty.creds["tenant_id"], orders=list(orders)
        )


def coupon_row(loyalty: Loyalty, code: str) -> LoyaltyCoupon:
    with session_scope() as session:
        found = session.scalar(
            select(LoyaltyCoupon).where(
                LoyaltyCoupon.tenant_id == loyalty.creds["tenant_id"], LoyaltyCoupon.code == code
            )
        )
        assert found is not None
        return found


def lock_rows(loyalty: Loyalty, code: str) -> list[LoyaltyCouponLock]:
    pk = coupon_row(loyalty, code).id
    with session_scope() as session:
        stmt = select(LoyaltyCouponLock).where(LoyaltyCouponLock.coupon_pk == pk)
        return list(session.scalars(stmt.order_by(LoyaltyCouponLock.id)))


def redemptions(loyalty: Loyalty, code: str) -> int:
    pk = coupon_row(loyalty, code).id
    with session_scope() as session:
        stmt = select(func.count()).where(LoyaltyCouponRedemption.coupon_pk == pk)
        return int(session.scalar(stmt) or 0)


def verify(loyalty: Loyalty, code: str, account: str = "acc-1", **params: Any) -> dict[str, Any]:
    response = loyalty.post(VERIFY, coupon=code, account=account, **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def lock(loyalty: Loyalty, code: str, account: str = "acc-1") -> dict[str, Any]:
    return verify(loyalty, code, account, lock="true")


class TestVerifyArbitraryAccountCoupon:
    def test_valid_coupon_answers_its_data(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        campaign(loyalty, "spring")
        with session_scope() as session:
            campaign_pk = session.scalar(
                select(LoyaltyCampaign.id).where(
                    LoyaltyCampaign.tenant_id == loyalty.creds["tenant_id"]
                )
            )
        code = issue(
            loyalty,
            code="SPRING-10_a",
            valid_days=14,
            usage_limit=2,
            campaign_pk=campaign_pk,
            state_id="coupon1",
            product_id="P-1",
            category_id="CAT-2",
            enable_key="k1",
        )
        assert verify(loyalty, code) == {
            "coupon": "SPRING-10_a",
            "account": "acc-1",
            "valid": True,
            "reason": None,
            "locked": False,
            "lockExpiresAt": None,
            "data": {
                "code": "SPRING-10_a",
                "campaign": "spring",
                "state": "coupon1",
                "validFrom": "2031-03-10T12:00:00Z",
                "validUntil": "2031-03-24T12:00:00Z",
                "usageLimit": 2,
                "used": 0,
                "locks": 0,
                "remaining": 2,
                "productId": "P-1",
                "categoryId": "CAT-2",
                "enableKey": "k1",
            },
        }

    def test_unknown_coupon(self, loyalty: Loyalty) -> None:
        account_pk(loyalty, "acc-1")
        body = verify(loyalty, "NOPE")
        assert body == {
            "coupon": "NOPE",
            "account": "acc-1",
            "valid": False,
            "reason": "UNKNOWN",
            "locked": False,
            "lockExpiresAt": None,
            "data": None,
        }

    def test_another_accounts_coupon_leaks_nothing(self, loyalty: Loyalty) -> None:
        code = issue(loyalty, "acc-2", product_id="SECRET")
        account_pk(loyalty, "acc-1")
        body = verify(loyalty, code, "acc-1")
        assert (body["valid"], body["reason"], body["data"]) == (False, "NOT_OWNER", None)
        assert "SECRET" not in str(body)

    def test_not_yet_valid(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        code = issue(loyalty)
        clock.freeze(T0 - timedelta(seconds=1))
        body = verify(loyalty, code)
        assert (body["valid"], body["reason"]) == (False, "NOT_YET_VALID")
        assert body["data"]["validFrom"] == "2031-03-10T12:00:00Z"

    def test_expired_at_valid_until(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        code = issue(loyalty, valid_days=1)
        clock.freeze(T0 + timedelta(days=1) - timedelta(seconds=1))
        assert verify(loyalty, code)["valid"] is True
        clock.freeze(T0 + timedelta(days=1))
        body = verify(loyalty, code)
        assert (body["valid"], body["reason"]) == (False, "EXPIRED")

    def test_without_end_never_expires(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        code = issue(loyalty, valid_days=None)
        clock.freeze(T0 + timedelta(days=3650))
        body = verify(loyalty, code)
        assert (body["valid"], body["data"]["validUntil"]) == (True, None)

    def test_used_up(self, loyalty: Loyalty) -> None:
        code = issue(loyalty)
        redeem(loyalty, order(account_pk(loyalty, "acc-1"), "O-1", code))
        body = verify(loyalty, code)
        assert (body["valid"], body["reason"]) == (False, "USED_UP")
        assert (body["data"]["used"], body["data"]["remaining"]) == (1, 0)

    def test_locked_when_every_use_is_reserved(self, loyalty: Loyalty) -> None:
        code = issue(loyalty)
        assert lock(loyalty, code)["locked"] is True
        body = verify(loyalty, code)
        assert (body["valid"], body["reason"], body["locked"]) == (False, "LOCKED", False)
        assert (body["data"]["locks"], body["data"]["remaining"]) == (1, 0)

    def test_used_up_wins_over_locked(self, loyalty: Loyalty) -> None:
        code = issue(loyalty, usage_limit=2)
        lock(loyalty, code)
        redeem(loyalty, order(account_pk(loyalty, "acc-9"), "O-1", code))
        redeem(loyalty, order(account_pk(loyalty, "acc-9"), "O-2", code))
        assert verify(loyalty, code)["reason"] == "USED_UP"

    def test_verify_has_no_side_effects(self, loyalty: Loyalty) -> None:
        code = issue(loyalty, usage_limit=3)
        first = verify(loyalty, code)
        second = verify(loyalty, code, lock="false")
        assert first == second
        assert first["data"]["locks"] == 0
        assert lock_rows(loyalty, code) == []
        assert coupon_row(loyalty, code).used == 0

    def test_unknown_account_is_404(self, loyalty: Loyalty) -> None:
        code = issue(loyalty)
        response = loyalty.post(VERIFY, coupon=code, account="nobody")
        assert response.status_code == 404
        assert response.json()["message"] == "Account 'nobody' not found"

    def test_invalid_coupon_names_the_field(self, loyalty: Loyalty) -> None:
        response = loyalty.post(VERIFY, coupon="bad code!", account="acc-1")
        assert response.status_code == 400
        body = response.json()
        assert (body["field"], body["error"]) == ("coupon", "Bad Request")
        assert body["message"].startswith("coupon:")

    def test_missing_coupon_names_the_field(self, loyalty: Loyalty) -> None:
        response = loyalty.post(VERIFY, account="acc-1")
        assert response.status_code == 400
        assert response.json()["field"] == "coupon"

    def test_account_too_short_names_the_field(self, loyalty: Loyalty) -> None:
        response = loyalty.post(VERIFY, coupon="ABC", account="ab")
        assert response.status_code == 400
        assert response.json()["field"] == "account"
        assert response.json()["message"].startswith("account:")

    def test_account_too_long_and_bad_characters(self, loyalty: Loyalty) -> None:
        for bad in ("a" * 65, "acc 1", "acc/1"):
            response = loyalty.post(VERIFY, coupon="ABC", account=bad)
            assert response.status_code in (400, 404), bad
            if response.status_code == 400:
                assert response.json()["field"] == "account"
        assert loyalty.post(VERIFY, coupon="ABC", account="a" * 65).status_code == 400

    def test_account_of_64_characters_is_accepted(self, loyalty: Loyalty) -> None:
        account = "a." + "b" * 62
        account_pk(loyalty, account)
        assert verify(loyalty, "ABC", account)["reason"] == "UNKNOWN"

    def test_lock_must_be_boolean(self, loyalty: Loyalty) -> None:
        response = loyalty.post(VERIFY, coupon="ABC", account="acc-1", lock="maybe")
        assert response.status_code == 400
        assert response.json()["field"] == "lock"

    def test_needs_role_loyalty(self, client: Any, loyalty: Loyalty) -> None:
        code = issue(loyalty)
        token = loyalty.service_token(scope="ROLE_LOYALTY_STATS")
        response = client.post(
            "/loyalty-api/api" + VERIFY,
            params={"coupon": code, "account": "acc-1"},
            headers={"Authorization": f"Bearer {token}", "x-tenant": loyalty.slug},
        )
        assert response.status_code == 403

    def test_end_user_token_is_refused(self, client: Any, loyalty: Loyalty) -> None:
        code = issue(loyalty)
        response = client.post(
            "/loyalty-api/api" + VERIFY,
            params={"coupon": code, "account": "acc-1"},
            headers=loyalty.user_headers("acc-1"),
        )
        assert response.status_code == 403

    def test_no_token_is_401(self, client: Any) -> None:
        response = client.post(
            "/loyalty-api/api" + VERIFY, params={"coupon": "A", "account": "abc"}
        )
        assert response.status_code == 401


class TestVerifyCoupon:
    def test_my_coupon(self, loyalty: Loyalty) -> None:
        code = issue(loyalty, usage_limit=1)
        response = loyalty.my_get("acc-1", MY_VERIFY, coupon=code)
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["coupon"], body["account"], body["valid"], body["reason"]) == (
            code,
            "acc-1",
            True,
            None,
        )
        assert body["data"]["remaining"] == 1

    def test_someone_elses_coupon(self, loyalty: Loyalty) -> None:
        code = issue(loyalty, "acc-2")
        body = loyalty.my_get("acc-1", MY_VERIFY, coupon=code).json()
        assert (body["reason"], body["data"]) == ("NOT_OWNER", None)

    def test_unknown(self, loyalty: Loyalty) -> None:
        body = loyalty.my_get("acc-1", MY_VERIFY, coupon="NOPE").json()
        assert (body["reason"], body["account"]) == ("UNKNOWN", "acc-1")

    def test_end_user_cannot_lock(self, loyalty: Loyalty) -> None:
        code = issue(loyalty)
        body = loyalty.my_get("acc-1", MY_VERIFY, coupon=code, lock="true").json()
        assert (body["valid"], body["locked"]) == (True, False)
        assert lock_rows(loyalty, code) == []

    def test_reports_locked(self, loyalty: Loyalty) -> None:
        code = issue(loyalty)
        lock(loyalty, code)
        body = loyalty.my_get("acc-1", MY_VERIFY, coupon=code).json()
        assert (body["valid"], body["reason"]) == (False, "LOCKED")

    def test_invalid_coupon_names_the_field(self, loyalty: Loyalty) -> None:
        response = loyalty.my_get("acc-1", MY_VERIFY, coupon="a*b")
        assert response.status_code == 400
        assert response.json()["field"] == "coupon"

    def test_service_token_is_refused(self, loyalty: Loyalty) -> None:
        assert loyalty.get(MY_VERIFY, coupon="ABC").status_code == 403


class TestLock:
    def test_lock_reserves_one_use_for_the_ttl(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        code = issue(loyalty)
        body = lock(loyalty, code)
        assert (body["valid"], body["reason"], body["locked"]) == (True, None, True)
        assert body["lockExpiresAt"] == "2031-03-10T12:05:00Z"
        assert (body["data"]["locks"], body["data"]["remaining"]) == (1, 0)
        [row] = lock_rows(loyalty, code)
        assert row.account_pk == account_pk(loyalty, "acc-1")

    def test_second_lock_of_a_single_use_coupon_is_refused(self, loyalty: Loyalty) -> None:
        code = issue(loyalty)
        assert lock(loyalty, code)["locked"] is True
        body = lock(loyalty, code)
        assert (body["valid"], body["reason"], body["locked"]) == (False, "LOCKED", False)
        assert body["lockExpiresAt"] is None
        assert len(lock_rows(loyalty, code)) == 1

    def test_as_many_locks_as_uses(self, loyalty: Loyalty) -> None:
        code = issue(loyalty, usage_limit=3)
        assert [lock(loyalty, code)["locked"] for _ in range(4)] == [True, True, True, False]
        assert len(lock_rows(loyalty, code)) == 3

    def test_uses_already_redeemed_count(self, loyalty: Loyalty) -> None:
        code = issue(loyalty, usage_limit=2)
        redeem(loyalty, order(account_pk(loyalty, "acc-1"), "O-1", code))
        assert [lock(loyalty, code)["locked"] for _ in range(2)] == [True, False]

    def test_an_expired_lock_stops_counting(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        code = issue(loyalty)
        lock(loyalty, code)
        clock.shift(timedelta(seconds=299))
        assert lock(loyalty, code)["reason"] == "LOCKED"
        clock.shift(timedelta(seconds=1))
        assert verify(loyalty, code)["valid"] is True
        body = lock(loyalty, code)
        assert body["locked"] is True
        assert body["lockExpiresAt"] == "2031-03-10T12:10:00Z"
        # The expired lock was cleaned up when the new one was taken.
        assert len(lock_rows(loyalty, code)) == 1

    def test_an_unusable_coupon_is_not_locked(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        code = issue(loyalty, valid_days=1)
        clock.shift(timedelta(days=2))
        body = lock(loyalty, code)
        assert (body["reason"], body["locked"]) == ("EXPIRED", False)
        assert lock_rows(loyalty, code) == []

    def test_another_accounts_coupon_is_not_locked(self, loyalty: Loyalty) -> None:
        code = issue(loyalty, "acc-2")
        account_pk(loyalty, "acc-1")
        body = lock(loyalty, code, "acc-1")
        assert (body["reason"], body["locked"]) == ("NOT_OWNER", False)
        assert lock_rows(loyalty, code) == []


class TestUnlock:
    def test_unlock_releases_the_lock(self, loyalty: Loyalty) -> None:
        code = issue(loyalty)
        lock(loyalty, code)
        response = loyalty.post(UNLOCK, coupon=code, account="acc-1")
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["valid"], body["reason"], body["locked"]) == (True, None, False)
        assert (body["data"]["locks"], body["data"]["remaining"]) == (0, 1)
        assert lock_rows(loyalty, code) == []
        assert lock(loyalty, code)["locked"] is True

    def test_unlock_releases_the_oldest_lock_only(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        code = issue(loyalty, usage_limit=2)
        lock(loyalty, code)
        clock.shift(timedelta(seconds=10))
        lock(loyalty, code)
        newer = lock_rows(loyalty, code)[1].id
        body = loyalty.post(UNLOCK, coupon=code, account="acc-1").json()
        assert (body["data"]["locks"], body["valid"]) == (1, True)
        assert [row.id for row in lock_rows(loyalty, code)] == [newer]

    def test_nothing_to_unlock_is_404(self, loyalty: Loyalty) -> None:
        code = issue(loyalty)
        response = loyalty.post(UNLOCK, coupon=code, account="acc-1")
        assert response.status_code == 404
        assert response.json()["message"] == (
            f"Coupon '{code}' has no active lock of account 'acc-1' to unlock"
        )

    def test_an_expired_lock_cannot_be_unlocked(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        code = issue(loyalty)
        lock(loyalty, code)
        clock.shift(timedelta(minutes=5))
        assert loyalty.post(UNLOCK, coupon=code, account="acc-1").status_code == 404
        assert verify(loyalty, code)["valid"] is True

    def test_unknown_or_foreign_coupon_is_404(self, loyalty: Loyalty) -> None:
        code = issue(loyalty, "acc-2")
        lock(loyalty, code, "acc-2")
        account_pk(loyalty, "acc-1")
        for coupon in ("NOPE", code):
            response = loyalty.post(UNLOCK, coupon=coupon, account="acc-1")
            assert response.status_code == 404
            assert response.json()["message"] == f"Coupon '{coupon}' of account 'acc-1' not found"
        assert len(lock_rows(loyalty, code)) == 1

    def test_validation_names_the_field(self, loyalty: Loyalty) -> None:
        response = loyalty.post(UNLOCK, coupon="a b", account="acc-1")
        assert (response.status_code, response.json()["field"]) == (400, "coupon")
        response = loyalty.post(UNLOCK, coupon="ABC", account="a")
        assert (response.status_code, response.json()["field"]) == (400, "account")
        response = loyalty.post(UNLOCK, coupon="ABC")
        assert (response.status_code, response.json()["field"]) == (400, "account")

    def test_needs_role_loyalty(self, client: Any, loyalty: Loyalty) -> None:
        token = loyalty.service_token(scope="ROLE_LOYALTY_CAMPAIGN")
        response = client.post(
            "/loyalty-api/api" + UNLOCK,
            params={"coupon": "ABC", "account": "acc-1"},
            headers={"Authorization": f"Bearer {token}", "x-tenant": loyalty.slug},
        )
        assert response.status_code == 403


class TestRedemption:
    def test_an_order_redeems_the_coupon(self, loyalty: Loyalty) -> None:
        pk = campaign(loyalty)
        code = issue(loyalty, campaign_pk=pk)
        redeem(loyalty, order(account_pk(loyalty, "acc-1"), "O-1", code))
        assert coupon_row(loyalty, code).used == 1
        assert redemptions(loyalty, code) == 1
        assert verify(loyalty, code)["reason"] == "USED_UP"
        with session_scope() as session:
            stats = session.execute(
                select(LoyaltyCampaignStat.metric, LoyaltyCampaignStat.value).where(
                    LoyaltyCampaignStat.campaign_pk == pk
                )
            ).all()
        assert [tuple(s) for s in stats] == [("coupons_redeemed", 1)]

    def test_the_same_order_twice_redeems_once(self, loyalty: Loyalty) -> None:
        pk = campaign(loyalty)
        code = issue(loyalty, usage_limit=5, campaign_pk=pk)
        acc = account_pk(loyalty, "acc-1")
        redeem(loyalty, order(acc, "O-1", code), order(acc, "O-1", code))
        redeem(loyalty, order(acc, "O-1", code))
        assert (coupon_row(loyalty, code).used, redemptions(loyalty, code)) == (1, 1)
        with session_scope() as session:
            value = session.scalar(
                select(func.sum(LoyaltyCampaignStat.value)).where(
                    LoyaltyCampaignStat.campaign_pk == pk
                )
            )
        assert value == 1

    def test_each_order_is_one_use(self, loyalty: Loyalty) -> None:
        code = issue(loyalty, usage_limit=3)
        acc = account_pk(loyalty, "acc-1")
        redeem(loyalty, order(acc, "O-1", code), order(acc, "O-2", code))
        body = verify(loyalty, code)
        assert (body["valid"], body["data"]["used"], body["data"]["remaining"]) == (True, 2, 1)

    def test_redemption_releases_a_lock(self, loyalty: Loyalty) -> None:
        code = issue(loyalty, usage_limit=2)
        lock(loyalty, code)
        lock(loyalty, code)
        redeem(loyalty, order(account_pk(loyalty, "acc-1"), "O-1", code))
        assert len(lock_rows(loyalty, code)) == 1
        body = verify(loyalty, code)
        assert (body["reason"], body["data"]["used"], body["data"]["locks"]) == ("LOCKED", 1, 1)

    def test_another_accounts_order_still_redeems(self, loyalty: Loyalty) -> None:
        code = issue(loyalty)
        lock(loyalty, code)
        redeem(loyalty, order(account_pk(loyalty, "acc-2"), "O-1", code))
        assert coupon_row(loyalty, code).used == 1
        assert lock_rows(loyalty, code) == []
        assert verify(loyalty, code)["reason"] == "USED_UP"

    def test_a_used_up_coupon_records_the_sale_anyway(self, loyalty: Loyalty) -> None:
        code = issue(loyalty)
        acc = account_pk(loyalty, "acc-1")
        redeem(loyalty, order(acc, "O-1", code), order(acc, "O-2", code))
        assert (coupon_row(loyalty, code).used, redemptions(loyalty, code)) == (2, 2)
        body = verify(loyalty, code)
        assert (body["reason"], body["data"]["remaining"]) == ("USED_UP", 0)

    def test_an_expired_coupon_records_the_sale_anyway(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        code = issue(loyalty, valid_days=1)
        clock.shift(timedelta(days=3))
        redeem(loyalty, order(account_pk(loyalty, "acc-1"), "O-1", code))
        assert coupon_row(loyalty, code).used == 1
        assert verify(loyalty, code)["reason"] == "EXPIRED"

    def test_cancelled_orders_do_not_redeem(self, loyalty: Loyalty) -> None:
        code = issue(loyalty, usage_limit=2)
        acc = account_pk(loyalty, "acc-1")
        redeem(loyalty, order(acc, "O-1", code, "Canceled"), order(acc, "O-2", code, "Returned"))
        assert (coupon_row(loyalty, code).used, redemptions(loyalty, code)) == (0, 0)

    def test_unknown_codes_and_orders_without_coupon_are_ignored(self, loyalty: Loyalty) -> None:
        code = issue(loyalty)
        acc = account_pk(loyalty, "acc-1")
        redeem(loyalty, order(acc, "O-1", "WELCOME10"), order(acc, "O-2", None))
        assert coupon_row(loyalty, code).used == 0

    def test_another_tenants_coupon_is_not_redeemed(
        self, loyalty: Loyalty, other_loyalty: Loyalty
    ) -> None:
        code = issue(loyalty)
        other_pk = account_pk(other_loyalty, "acc-1")
        redeem(other_loyalty, order(other_pk, "O-1", code))
        assert coupon_row(loyalty, code).used == 0
        assert verify(loyalty, code)["valid"] is True

    def test_imported_order_redeems(self, loyalty: Loyalty, tenant: Tenant) -> None:
        code = issue(loyalty, "C100")
        load(
            tenant,
            [
                {
                    "orderNumber": "IMP-1",
                    "customerNumber": "C100",
                    "email": "c100@example.com",
                    "status": "Completed",
                    "orderTotal": 25.0,
                    "couponCode": code,
                    "items": [{"orderNumber": "IMP-1", "sku": "S1", "quantity": 1, "price": 25}],
                }
            ],
        )
        assert (coupon_row(loyalty, code).used, redemptions(loyalty, code)) == (1, 1)
        load(
            tenant,
            [
                {
                    "orderNumber": "IMP-1",
                    "customerNumber": "C100",
                    "status": "Completed",
                    "couponCode": code,
                    "orderTotal": 26.0,
                }
            ],
        )
        assert (coupon_row(loyalty, code).used, redemptions(loyalty, code)) == (1, 1)


class TestCodesForAccount:
    def test_usable_codes_only(self, loyalty: Loyalty, clock: Any) -> None:
        clock.freeze(T0)
        usable = issue(loyalty, code="USABLE", usage_limit=2)
        issue(loyalty, code="SHORT", valid_days=1)
        used = issue(loyalty, code="USED")
        issue(loyalty, "acc-2", code="OTHERS")
        locked = issue(loyalty, code="LOCKEDONE")
        acc = account_pk(loyalty, "acc-1")
        redeem(loyalty, order(acc, "O-1", used), order(acc, "O-2", usable))
        lock(loyalty, locked)
        clock.shift(timedelta(days=2))
        with session_scope() as session:
            codes = coupon_service.codes_for_account(
                session, tenant_id=loyalty.creds["tenant_id"], account_pk=acc
            )
        assert codes == ["USABLE", "LOCKEDONE"]


class TestIssue:
    def test_duplicate_code_is_409(self, loyalty: Loyalty) -> None:
        issue(loyalty, code="DUP")
        with pytest.raises(Conflict, match="Coupon 'DUP' already exists"):
            issue(loyalty, code="DUP")

    def test_generated_code_is_verifiable(self, loyalty: Loyalty) -> None:
        code = issue(loyalty, code=None)
        assert len(code) == 12
        assert verify(loyalty, code)["valid"] is True


class TestTenantIsolation:
    def test_other_tenant_cannot_see_the_coupon(
        self, loyalty: Loyalty, other_loyalty: Loyalty
    ) -> None:
        code = issue(loyalty)
        # Unknown account in the other tenant ...
        assert other_loyalty.post(VERIFY, coupon=code, account="acc-1").status_code == 404
        # ... and once it exists there, the code is unknown to that tenant.
        account_pk(other_loyalty, "acc-1")
        body = other_loyalty.post(VERIFY, coupon=code, account="acc-1", lock="true").json()
        assert (body["reason"], body["locked"], body["data"]) == ("UNKNOWN", False, None)
        assert lock_rows(loyalty, code) == []
        assert other_loyalty.post(UNLOCK, coupon=code, account="acc-1").status_code == 404

    def test_other_tenants_token_with_this_tenant_header_is_403(
        self, client: Any, loyalty: Loyalty, other_loyalty: Loyalty
    ) -> None:
        code = issue(loyalty)
        token = other_loyalty.service_token()
        response = client.post(
            "/loyalty-api/api" + VERIFY,
            params={"coupon": code, "account": "acc-1", "lock": "true"},
            headers={"Authorization": f"Bearer {token}", "x-tenant": loyalty.slug},
        )
        assert response.status_code == 403
        assert lock_rows(loyalty, code) == []

    def test_other_tenants_user_cannot_verify(
        self, loyalty: Loyalty, other_loyalty: Loyalty
    ) -> None:
        code = issue(loyalty)
        body = other_loyalty.my_get("acc-1", MY_VERIFY, coupon=code).json()
        assert (body["reason"], body["data"]) == ("UNKNOWN", None)
