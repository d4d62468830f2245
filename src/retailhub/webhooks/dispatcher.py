"""Delivers due webhook deliveries: a daemon thread running an asyncio loop with one HTTP
client, in ``serve`` (with workers) and in every ``worker`` process.

Each pass claims due deliveries in a short write transaction (PostgreSQL: ``FOR UPDATE SKIP
LOCKED``, so several processes share the work; SQLite: the write lock) by setting
``locked_until``, sends them concurrently, and records each outcome in its own short
transaction. A claim is fenced by its ``locked_until``: an outcome is recorded only if the
delivery was not taken over meanwhile. Every due or expiry decision reads the platform clock.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, aliased
from standardwebhooks.webhooks import Webhook

from retailhub.config import Settings, get_settings
from retailhub.db import session_scope
from retailhub.kit import clock
from retailhub.kit.sql import is_pg
from retailhub.kit.timeutil import iso
from retailhub.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

log = logging.getLogger(__name__)

D = WebhookDelivery
USER_AGENT = "Retailhub-Webhooks"
RESPONSE_CHARS = 1000
ERROR_CHARS = 500
# A claim outlives the request timeout by this much before another dispatcher may retake it.
LOCK_MARGIN = timedelta(seconds=60)
RETRY_AFTER_CAP = timedelta(hours=24)
# Jitter: each back-off is lengthened by up to this fraction.
JITTER = 0.1


@dataclass(frozen=True)
class Job:
    """A claimed delivery, with what sending it needs."""

    delivery_id: int
    endpoint_id: int
    locked_until: datetime
    msg_id: str
    body: str
    url: str
    secret: str


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int
    response: str | None
    retry_after: timedelta | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def retry_after(value: str | None) -> timedelta | None:
    """``Retry-After`` as a delay: delta-seconds or an HTTP-date (from the wall clock)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        at = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return max(at - datetime.now(UTC), timedelta(0))


def backoff(schedule: list[float], attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: the schedule's value (its last one
    repeats), lengthened by a little jitter so retries of many deliveries spread out."""
    seconds = schedule[min(attempts, len(schedule)) - 1] if schedule else 60.0
    return timedelta(seconds=seconds * (1 + random.uniform(0, JITTER)))


def signed_headers(secret: str, msg_id: str, body: str) -> dict[str, str]:
    """The Standard Webhooks headers. The timestamp is the wall clock's: receivers compare it
    with their own clock to refuse replayed requests."""
    now = datetime.now(UTC)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, now, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


class Dispatcher:
    """Runs in ``serve`` (with workers) and in every ``worker``. Constructor arguments
    override the settings (tests); otherwise settings are read on every pass."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        poll_seconds: float | None = None,
        timeout_seconds: float | None = None,
        concurrency: int | None = None,
        endpoint_concurrency: int | None = None,
    ) -> None:
        self._settings = settings
        self._poll = poll_seconds
        self._timeout = timeout_seconds
        self._concurrency = concurrency
        self._endpoint_concurrency = endpoint_concurrency
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._wake: asyncio.Event | None = None
        # Deliveries this dispatcher is sending: never claimed twice, even if a shifted
        # clock makes their claims look expired.
        self._busy: dict[int, int] = {}

    # Settings ---------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        return self._settings or get_settings()

    @property
    def poll_seconds(self) -> float:
        return self._poll if self._poll is not None else self.settings.webhook_poll_seconds

    @property
    def timeout_seconds(self) -> float:
        return self._timeout if self._timeout is not None else self.settings.webhook_timeout_seconds

    @property
    def concurrency(self) -> int:
        return self._concurrency or self.settings.webhook_concurrency

    @property
    def endpoint_concurrency(self) -> int:
        return self._endpoint_concurrency or self.settings.webhook_endpoint_concurrency

    # Lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="webhook-dispatcher", daemon=True
        )
        self._thread.start()
        ready.wait(5)

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        ready.set()
        try:
            loop.run_until_complete(self._main())
        finally:
            loop.close()
            self._loop = None

    async def _main(self) -> None:
        assert self._stopping is not None and self._wake is not None
        tasks: set[asyncio.Task[bool]] = set()
        async with self._client() as client:
            while not self._stopping.is_set():
                free = self.concurrency - len(self._busy)
                jobs: list[Job] = []
                if free > 0:
                    try:
                        jobs = await self._claim_async(free)
                    except Exception:
                        log.exception("Claiming webhook deliveries failed")
                for job in jobs:
                    task = asyncio.create_task(self._deliver(client, job))
                    tasks.add(task)
                    task.add_done_callback(self._finished(tasks))
                if jobs and len(jobs) == free:
                    # Full: the next claim waits for a free slot.
                    await self._sleep(None)
                elif not jobs:
                    await self._sleep(self.poll_seconds)
            # Give requests under way a moment to finish; the rest are retaken once their
            # claims expire.
            if tasks:
                await asyncio.wait(tasks, timeout=2)
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    def _finished(self, tasks: set[asyncio.Task[bool]]) -> Any:
        def done(task: asyncio.Task[bool]) -> None:
            tasks.discard(task)
            if self._wake is not None:
                self._wake.set()

        return done

    async def _sleep(self, seconds: float | None) -> None:
        """Until a delivery finishes, the dispatcher stops, or ``seconds`` pass."""
        assert self._stopping is not None and self._wake is not None
        self._wake.clear()
        waiters = [
            asyncio.ensure_future(self._wake.wait()),
            asyncio.ensure_future(self._stopping.wait()),
        ]
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()

    def _client(self) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=20)
        return httpx.AsyncClient(follow_redirects=False, limits=limits, timeout=None)

    def deliver_due(self) -> dict[str, int]:
        """One pass, synchronously: claim what is due now (up to the concurrency), send it
        and record the outcomes. Returns ``{claimed, delivered, failed}`` (failed: attempts
        that failed)."""

        async def one_pass() -> dict[str, int]:
            jobs = await self._claim_async(self.concurrency - len(self._busy))
            async with self._client() as client:
                results = await asyncio.gather(*(self._deliver(client, job) for job in jobs))
            delivered = sum(1 for ok in results if ok)
            return {"claimed": len(jobs), "delivered": delivered, "failed": len(jobs) - delivered}

        return asyncio.run(one_pass())

    # Claiming ---------------------------------------------------------------------------

    async def _claim_async(self, limit: int) -> list[Job]:
        """Claim in a worker thread (the database is synchronous) with a snapshot of the
        sends under way; this loop's thread alone changes ``_busy``."""
        jobs = await asyncio.to_thread(self._claim, limit, dict(self._busy))
        for job in jobs:
            self._busy[job.delivery_id] = job.endpoint_id
        return jobs

    def _candidates(
        self, session: Session, now: datetime, limit: int, busy: dict[int, int]
    ) -> list[tuple[int, int]]:
        """Due deliveries as (id, endpoint_id), fairly across endpoints: each endpoint's
        oldest first, round-robin (rank within the endpoint), skipping endpoints already at
        their cap. A delivery waits while an older one of its endpoint and ordering key is
        still pending."""
        earlier = aliased(WebhookDelivery)
        blocked = (
            select(earlier.id)
            .where(
                earlier.endpoint_id == D.endpoint_id,
                earlier.ordering_key == D.ordering_key,
                earlier.id < D.id,
                earlier.status == "pending",
            )
            .exists()
        )
        in_flight = (
            select(D.endpoint_id, func.count().label("n"))
            .where(D.status == "pending", D.locked_until > now)
            .group_by(D.endpoint_id)
            .subquery()
        )
        rank = func.row_number().over(partition_by=D.endpoint_id, order_by=D.id)
        due = (
            select(
                D.id,
                D.endpoint_id,
                rank.label("rank"),
                func.coalesce(in_flight.c.n, 0).label("busy"),
            )
            .join(WebhookEndpoint, WebhookEndpoint.id == D.endpoint_id)
            .outerjoin(in_flight, in_flight.c.endpoint_id == D.endpoint_id)
            .where(
                D.status == "pending",
                D.next_attempt_at <= now,
                or_(D.locked_until.is_(None), D.locked_until <= now),
                WebhookEndpoint.enabled.is_(True),
                or_(D.ordering_key.is_(None), ~blocked),
                *([D.id.not_in(list(busy))] if busy else []),
            )
            .subquery()
        )
        rows = session.execute(
            select(due.c.id, due.c.endpoint_id)
            .where(due.c.rank + due.c.busy <= self.endpoint_concurrency)
            .order_by(due.c.rank, due.c.id)
            .limit(limit)
        ).all()
        return [(row[0], row[1]) for row in rows]

    def _pick(
        self, candidates: list[tuple[int, int]], limit: int, busy: dict[int, int]
    ) -> list[int]:
        """Candidates within this dispatcher's own per-endpoint cap (its sends under way)."""
        per_endpoint = Counter(busy.values())
        picked: list[int] = []
        for delivery_id, endpoint_id in candidates:
            if len(picked) >= limit:
                break
            if per_endpoint[endpoint_id] < self.endpoint_concurrency:
                per_endpoint[endpoint_id] += 1
                picked.append(delivery_id)
        return picked

    def _claim(self, limit: int, busy: dict[int, int]) -> list[Job]:
        now = clock.now()
        # A read first: an idle dispatcher never takes SQLite's write lock.
        with session_scope() as session:
            if not self._candidates(session, now, 1, busy):
                return []
        with session_scope(write=True) as session:
            now = clock.now()
            ids = self._pick(self._candidates(session, now, limit, busy), limit, busy)
            if ids and is_pg(session):
                # Another process may be claiming the same rows: take only those nobody
                # holds, and re-check them once held.
                ids = list(
                    session.scalars(
                        select(D.id)
                        .where(
                            D.id.in_(ids),
                            D.status == "pending",
                            or_(D.locked_until.is_(None), D.locked_until <= now),
                        )
                        .with_for_update(skip_locked=True)
                    )
                )
            if not ids:
                return []
            locked_until = now + timedelta(seconds=self.timeout_seconds) + LOCK_MARGIN
            session.execute(update(D).where(D.id.in_(ids)).values(locked_until=locked_until))
            rows = session.execute(
                select(D.id, D.endpoint_id, WebhookEvent.msg_id, WebhookEvent.payload)
                .add_columns(WebhookEndpoint.url, WebhookEndpoint.secret)
                .join(WebhookEvent, WebhookEvent.id == D.event_pk)
                .join(WebhookEndpoint, WebhookEndpoint.id == D.endpoint_id)
                .where(D.id.in_(ids))
                .order_by(D.id)
            ).all()
        return [
            Job(
                delivery_id=row[0],
                endpoint_id=row[1],
                locked_until=locked_until,
                msg_id=row[2],
                body=json.dumps(row[3], separators=(",", ":"), ensure_ascii=False),
                url=row[4],
                secret=row[5],
            )
            for row in rows
        ]

    # Sending ----------------------------------------------------------------------------

    async def _deliver(self, client: httpx.AsyncClient, job: Job) -> bool:
        try:
            outcome = await self._send(client, job)
            await asyncio.to_thread(self._record, job, outcome)
            return outcome.ok
        except Exception:
            log.exception("Webhook delivery %s failed unexpectedly", job.delivery_id)
            return False
        finally:
            self._busy.pop(job.delivery_id, None)

    async def _send(self, client: httpx.AsyncClient, job: Job) -> Outcome:
        timeout = self.timeout_seconds
        started = time.monotonic()
        status: int | None = None
        text: str | None = None
        error: str | None = None
        wait: timedelta | None = None
        try:
            async with asyncio.timeout(timeout):
                headers = signed_headers(job.secret, job.msg_id, job.body)
                async with client.stream(
                    "POST", job.url, content=job.body.encode(), headers=headers
                ) as response:
                    status = response.status_code
                    wait = retry_after(response.headers.get("retry-after"))
                    text = await _prefix(response)
        except TimeoutError:
            error = f"Timed out after {timeout:g} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if error is None and status is not None and not 200 <= status < 300:
            error = f"HTTP {status}"
        return Outcome(
            status_code=status,
            error=error[:ERROR_CHARS] if error else None,
            duration_ms=int((time.monotonic() - started) * 1000),
            response=text,
            retry_after=wait,
        )

    # Recording --------------------------------------------------------------------------

    def _record(self, job: Job, outcome: Outcome) -> None:
        settings = self.settings
        with session_scope(write=True) as session:
            now = clock.now()
            delivery = session.scalar(
                select(D).where(D.id == job.delivery_id, D.locked_until == job.locked_until)
            )
            if delivery is None:
                return  # Deleted, or taken over by another dispatcher after our claim expired.
            endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
            assert endpoint is not None
            started = self._run_started(session, delivery, now)
            session.add(
                WebhookAttempt(
                    delivery_id=delivery.id,
                    tenant_id=delivery.tenant_id,
                    attempted_at=now,
                    status_code=outcome.status_code,
                    error=outcome.error,
                    duration_ms=outcome.duration_ms,
                    response_body=outcome.response,
                )
            )
            delivery.attempts += 1
            delivery.locked_until = None
            delivery.last_status_code = outcome.status_code
            delivery.last_error = outcome.error
            if outcome.ok:
                delivery.status = "delivered"
                delivery.delivered_at = now
                delivery.next_attempt_at = None
                endpoint.failing_since = None
                return
            if now - started > timedelta(hours=settings.webhook_retry_hours):
                delivery.status = "failed"
                delivery.next_attempt_at = None
            else:
                delivery.next_attempt_at = now + _wait(settings, delivery.attempts, outcome)
            self._failing(endpoint, now, settings)

    @staticmethod
    def _run_started(session: Session, delivery: WebhookDelivery, now: datetime) -> datetime:
        """When the current run of attempts began: its first attempt (``attempts`` counts
        the attempts since the delivery was created or last replayed)."""
        if delivery.attempts == 0:
            return now
        first = session.scalar(
            select(WebhookAttempt.attempted_at)
            .where(WebhookAttempt.delivery_id == delivery.id)
            .order_by(WebhookAttempt.id.desc())
            .offset(delivery.attempts - 1)
            .limit(1)
        )
        return _aware(first) or now

    @staticmethod
    def _failing(endpoint: WebhookEndpoint, now: datetime, settings: Settings) -> None:
        """Count a failure against the endpoint; disable it once it has failed without a
        success for ``webhook_disable_after_hours``."""
        since = _aware(endpoint.failing_since)
        if since is None:
            endpoint.failing_since = now
            return
        if endpoint.enabled and now - since >= timedelta(
            hours=settings.webhook_disable_after_hours
        ):
            endpoint.enabled = False
            endpoint.disabled_at = now
            endpoint.disabled_reason = (
                f"Every attempt failed since {iso(since)}: disabled after "
                f"{settings.webhook_disable_after_hours:g} h without a success."
            )
            endpoint.updated_at = now


def _wait(settings: Settings, attempts: int, outcome: Outcome) -> timedelta:
    """The back-off, or the receiver's ``Retry-After`` when it asks for longer (≤ 24 h)."""
    wait = backoff(settings.webhook_retry_schedule, attempts)
    if outcome.retry_after is not None:
        wait = max(wait, min(outcome.retry_after, RETRY_AFTER_CAP))
    return wait


async def _prefix(response: httpx.Response) -> str:
    """The first ``RESPONSE_CHARS`` characters of the answer, without reading all of it."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= RESPONSE_CHARS * 4:
            break
    return b"".join(chunks).decode("utf-8", errors="replace")[:RESPONSE_CHARS]
