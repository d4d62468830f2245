"""Concurrent coupon locks (and wallet spends) over real HTTP: the application runs under
uvicorn on a free local port (a background thread of the test process, on the test's
database), and 50 client threads released together by a barrier call it through httpx.

Under any number of concurrent ``lock=true`` requests the holders never exceed the remaining
uses: on PostgreSQL the coupon row is locked (``SELECT … FOR UPDATE``) while the active locks
are counted; on SQLite the write transaction (``BEGIN IMMEDIATE``) serializes them."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from retailhub.db import session_scope
from retailhub.loyalty.account import service as account_service
from retailhub.loyalty.coupon import service as coupon_service
from retailhub.models import LoyaltyCoupon, LoyaltyCouponLock, LoyaltyWalletEntry
from tests.loyalty import API, Loyalty

pytestmark = pytest.mark.timeout(180)

CLIENTS = 50


def account_pk(loyalty: Loyalty, account: str) -> int:
    loyalty.user_headers(account)
    with session_scope() as session:
        return account_service.get(
            session, tenant_id=loyalty.creds["tenant_id"], account_id=account
        ).id


def issue(loyalty: Loyalty, usage_limit: int) -> str:
    pk = account_pk(loyalty, "acc-1")
    with session_scope(write=True) as session:
        return coupon_service.issue(
            session,
            tenant_id=loyalty.creds["tenant_id"],
            account_pk=pk,
            code=f"HOT-{uuid.uuid4().hex[:8]}",
            usage_limit=usage_limit,
        ).code


def together(count: int, call: Callable[[httpx.Client], httpx.Response]) -> list[httpx.Response]:
    """``count`` threads, each with its own connection, released at the same instant."""
    barrier = threading.Barrier(count)

    def one(_i: int) -> httpx.Response:
        with httpx.Client(timeout=60) as http:
            barrier.wait(timeout=30)
            return call(http)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def fire_locks(live_url: str, loyalty: Loyalty, code: str) -> list[dict[str, Any]]:
    headers = loyalty.headers
    url = f"{live_url}{API}/account/coupon/verify"
    params = {"coupon": code, "account": "acc-1", "lock": "true"}
    responses = together(CLIENTS, lambda http: http.post(url, params=params, headers=headers))
    assert [r.status_code for r in responses] == [200] * CLIENTS, [
        r.text for r in responses if r.status_code != 200
    ][:3]
    return [r.json() for r in responses]


def held_locks(loyalty: Loyalty, code: str) -> int:
    with session_scope() as session:
        stmt = (
            select(func.count())
            .select_from(LoyaltyCouponLock)
            .join(LoyaltyCoupon, LoyaltyCoupon.id == LoyaltyCouponLock.coupon_pk)
            .where(
                LoyaltyCoupon.tenant_id == loyalty.creds["tenant_id"], LoyaltyCoupon.code == code
            )
        )
        return int(session.scalar(stmt) or 0)


class TestConcurrentLocks:
    def test_fifty_locks_on_a_single_use_coupon_grant_exactly_one(
        self, live_url: str, loyalty: Loyalty
    ) -> None:
        code = issue(loyalty, usage_limit=1)
        bodies = fire_locks(live_url, loyalty, code)
        granted = [b for b in bodies if b["locked"]]
        assert len(granted) == 1
        assert granted[0]["lockExpiresAt"] is not None
        refused = [b for b in bodies if not b["locked"]]
        assert {(b["valid"], b["reason"]) for b in refused} == {(False, "LOCKED")}
        assert held_locks(loyalty, code) == 1

    def test_fifty_locks_on_a_five_use_coupon_grant_exactly_five(
        self, live_url: str, loyalty: Loyalty
    ) -> None:
        code = issue(loyalty, usage_limit=5)
        bodies = fire_locks(live_url, loyalty, code)
        assert sum(1 for b in bodies if b["locked"]) == 5
        assert sorted(b["data"]["locks"] for b in bodies if b["locked"]) == [1, 2, 3, 4, 5]
        assert {b["reason"] for b in bodies if not b["locked"]} == {"LOCKED"}
        assert held_locks(loyalty, code) == 5

    def test_a_second_wave_gets_nothing(self, live_url: str, loyalty: Loyalty) -> None:
        code = issue(loyalty, usage_limit=2)
        first = fire_locks(live_url, loyalty, code)
        second = fire_locks(live_url, loyalty, code)
        assert sum(1 for b in first if b["locked"]) == 2
        assert sum(1 for b in second if b["locked"]) == 0
        assert held_locks(loyalty, code) == 2


class TestConcurrentSpends:
    def test_twenty_spends_never_overdraw(self, live_url: str, loyalty: Loyalty) -> None:
        pk = account_pk(loyalty, "acc-1")
        assert loyalty.post("/account/acc-1/wallet/earn", {"points": 60}).status_code == 200
        assert loyalty.post("/account/acc-1/wallet/earn", {"points": 40}).status_code == 200
        headers = loyalty.headers
        url = f"{live_url}{API}/account/acc-1/wallet/spend"
        responses = together(20, lambda http: http.post(url, json={"points": 10}, headers=headers))
        codes = sorted(r.status_code for r in responses)
        assert codes == [200] * 10 + [409] * 10, [r.text for r in responses][:3]
        with session_scope() as session:
            total = session.scalar(
                select(func.sum(LoyaltyWalletEntry.points)).where(
                    LoyaltyWalletEntry.account_pk == pk
                )
            )
            spends = session.scalar(
                select(func.count()).where(
                    LoyaltyWalletEntry.account_pk == pk, LoyaltyWalletEntry.kind == "spend"
                )
            )
        assert total == 0
        # Ten spends of 10: six draw on the 60 (oldest first), four on the 40.
        assert spends == 10
