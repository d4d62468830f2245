"""Benchmark of coupon verify+lock (verifyArbitraryAccountCoupon with ``lock=true``) under
concurrent clients, end to end over HTTP, on PostgreSQL.

Creates a throwaway database, starts the real server (``retailhub serve --no-workers
--no-file-servers``: the API alone), seeds N accounts with one single-use coupon each (plain
SQL, ``generate_series``), plus a few contended coupons (single-use and three-use ones), then
runs C client threads for S seconds. Each request is ``POST /account/coupon/verify?lock=true``
against a contended coupon (``--hot-share`` of the requests) or a random distinct one. A
granted lock on a contended coupon is unlocked by that client half of the time, and locks
live ``--lock-seconds`` (short, so contended coupons are granted again and again).

A monitor counts double-locks in SQL throughout the run and at its end: coupons whose
holders (``used`` + active locks) exceed their usage limit. It must stay 0.

    .venv/bin/python bench/loyalty_coupon_lock.py                    # 1M accounts, 50 clients, 20 s
    .venv/bin/python bench/loyalty_coupon_lock.py --accounts 100000 --seconds 10
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from serverproc import BenchError, Server

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
API = "/loyalty-api/api"
SEED = 20240611

DOUBLE_LOCKS = """
SELECT count(*) FROM (
    SELECT c.id
    FROM loyalty_coupons c
    JOIN loyalty_coupon_locks l ON l.coupon_pk = c.id AND l.expires_at > now()
    WHERE c.tenant_id = %(tenant)s
    GROUP BY c.id, c.used, c.usage_limit
    HAVING c.used + count(*) > c.usage_limit
) AS over
"""


# --- seeding -------------------------------------------------------------------------------


def seed(conninfo: str, tenant_id: int, accounts: int, hot1: int, hot3: int) -> None:
    """N accounts ``b-<n>`` each with a single-use coupon ``BC-<n>``; the first ``hot1``
    accounts also get a contended single-use coupon ``H1-<n>``, the next ``hot3`` a
    three-use ``H3-<n>``."""
    started = time.perf_counter()
    with psycopg.connect(conninfo) as conn:
        conn.execute(
            """
            INSERT INTO loyalty_accounts (tenant_id, account_id, properties, counters, consents,
                important_tags, relations, segment, created_at, updated_at)
            SELECT %(t)s, 'b-' || g, '{}', '{}', '{}', '[]', '[]', 'new', now(), now()
            FROM generate_series(1, %(n)s::int) AS g
            """,
            {"t": tenant_id, "n": accounts},
        )
        conn.execute(
            """
            INSERT INTO loyalty_coupons (tenant_id, code, account_pk, valid_from, valid_until,
                usage_limit, used, created_at)
            SELECT tenant_id, 'BC-' || substr(account_id, 3), id, now() - interval '1 day',
                now() + interval '30 days', 1, 0, now()
            FROM loyalty_accounts WHERE tenant_id = %(t)s
            """,
            {"t": tenant_id},
        )
        for prefix, first, count, limit in (("H1", 1, hot1, 1), ("H3", hot1 + 1, hot3, 3)):
            conn.execute(
                """
                INSERT INTO loyalty_coupons (tenant_id, code, account_pk, valid_from,
                    valid_until, usage_limit, used, created_at)
                SELECT tenant_id, %(p)s || '-' || substr(account_id, 3), id,
                    now() - interval '1 day', now() + interval '30 days', %(l)s, 0, now()
                FROM loyalty_accounts
                WHERE tenant_id = %(t)s AND account_id IN (
                    SELECT 'b-' || g FROM generate_series(%(a)s::int, %(b)s::int) AS g)
                """,
                {"t": tenant_id, "p": prefix, "l": limit, "a": first, "b": first + count - 1},
            )
        conn.execute("ANALYZE loyalty_accounts")
        conn.execute("ANALYZE loyalty_coupons")
        conn.commit()
    print(
        f"seeded {accounts:,} accounts and {accounts + hot1 + hot3:,} coupons "
        f"in {time.perf_counter() - started:.1f} s"
    )


# --- the load ------------------------------------------------------------------------------


@dataclass
class Stats:
    lock_latencies: list[float] = field(default_factory=list)
    unlock_latencies: list[float] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def count(self, key: str) -> None:
        self.outcomes[key] = self.outcomes.get(key, 0) + 1


def client_loop(
    base_url: str,
    headers: dict[str, str],
    args: argparse.Namespace,
    start: threading.Barrier,
    deadline_box: list[float],
    seed_value: int,
    stats: Stats,
) -> None:
    rng = random.Random(seed_value)
    url = f"{base_url}{API}/account/coupon/verify"
    unlock_url = f"{base_url}{API}/account/coupon/unlock"
    hot = [(f"H1-{n}", f"b-{n}") for n in range(1, args.hot1 + 1)]
    hot += [(f"H3-{n}", f"b-{n}") for n in range(args.hot1 + 1, args.hot1 + args.hot3 + 1)]
    with httpx.Client(headers=headers, timeout=60) as http:
        start.wait()
        deadline = deadline_box[0]
        while time.monotonic() < deadline:
            if hot and rng.random() < args.hot_share:
                code, account = rng.choice(hot)
                contended = True
            else:
                n = rng.randint(1, args.accounts)
                code, account = f"BC-{n}", f"b-{n}"
                contended = False
            params = {"coupon": code, "account": account, "lock": "true"}
            t0 = time.perf_counter()
            try:
                response = http.post(url, params=params)
            except httpx.HTTPError as exc:
                stats.errors.append(f"lock: {exc!r}")
                continue
            stats.lock_latencies.append(time.perf_counter() - t0)
            if response.status_code != 200:
                stats.count(f"HTTP {response.status_code}")
                stats.errors.append(response.text[:200])
                continue
            body = response.json()
            stats.count("locked" if body["locked"] else str(body["reason"]))
            if body["locked"] and contended and rng.random() < 0.5:
                t0 = time.perf_counter()
                response = http.post(unlock_url, params={"coupon": code, "account": account})
                stats.unlock_latencies.append(time.perf_counter() - t0)
                stats.count(f"unlock {response.status_code}")


def monitor(conninfo: str, tenant_id: int, stop: threading.Event, seen: list[int]) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        while not stop.wait(0.5):
            row = conn.execute(DOUBLE_LOCKS, {"tenant": tenant_id}).fetchone()
            seen.append(int(row[0]) if row else 0)


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1000


def token(base_url: str, creds: dict[str, str]) -> str:
    response = httpx.post(
        f"{base_url}/auth-oauth2/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(creds["loyalty_client_id"], creds["loyalty_client_secret"]),
    )
    if response.status_code != 200:
        raise BenchError(f"token: {response.status_code} {response.text}")
    return str(response.json()["access_token"])


def run(args: argparse.Namespace, work: Path, database_url: str) -> int:
    conninfo = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    server = Server(
        work,
        database_url,
        env={"RETAILHUB_LOYALTY_COUPON_LOCK_SECONDS": str(args.lock_seconds)},
    )
    try:
        server.start()
        creds = server.credentials()
        with psycopg.connect(conninfo) as conn:
            row = conn.execute("SELECT id FROM tenants WHERE slug = %s", (creds["tenant"],))
            found = row.fetchone()
        if found is None:
            raise BenchError("no demo tenant")
        tenant_id = int(found[0])
        seed(conninfo, tenant_id, args.accounts, args.hot1, args.hot3)
        headers = {"Authorization": f"Bearer {token(server.base_url, creds)}"}
        headers["x-tenant"] = creds["tenant"]
        stats = [Stats() for _ in range(args.clients)]
        barrier = threading.Barrier(args.clients + 1)
        deadline_box = [0.0]
        threads = [
            threading.Thread(
                target=client_loop,
                args=(server.base_url, headers, args, barrier, deadline_box, SEED + i, stats[i]),
                daemon=True,
            )
            for i in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        stop, seen = threading.Event(), []
        watcher = threading.Thread(target=monitor, args=(conninfo, tenant_id, stop, seen))
        print(
            f"\n{args.clients} clients for {args.seconds:g} s against {server.base_url} "
            f"({args.hot_share:.0%} of requests on {args.hot1} single-use and {args.hot3} "
            f"three-use contended coupons; locks live {args.lock_seconds} s)",
            flush=True,
        )
        deadline_box[0] = time.monotonic() + args.seconds
        started = time.perf_counter()
        watcher.start()
        barrier.wait()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        stop.set()
        watcher.join()
        with psycopg.connect(conninfo) as conn:
            row = conn.execute(DOUBLE_LOCKS, {"tenant": tenant_id}).fetchone()
            final = int(row[0]) if row else 0
            held = conn.execute(
                "SELECT count(*) FROM loyalty_coupon_locks WHERE tenant_id = %s", (tenant_id,)
            ).fetchone()
    finally:
        code = server.stop()
        print(f"server stopped (exit code {code})")

    locks = [x for s in stats for x in s.lock_latencies]
    unlocks = [x for s in stats for x in s.unlock_latencies]
    outcomes: dict[str, int] = {}
    for s in stats:
        for key, value in s.outcomes.items():
            outcomes[key] = outcomes.get(key, 0) + value
    errors = [e for s in stats for e in s.errors]
    total = len(locks) + len(unlocks)
    print(f"\n===== summary (PostgreSQL, {args.accounts:,} accounts) =====")
    print(
        f"verify+lock: {len(locks):,} requests in {elapsed:.1f} s -> "
        f"{len(locks) / elapsed:,.0f} requests/s; latency p50 {pct(locks, 0.5):.1f} ms, "
        f"p99 {pct(locks, 0.99):.1f} ms, max {pct(locks, 1.0):.1f} ms"
    )
    if unlocks:
        print(
            f"unlock: {len(unlocks):,} requests; p50 {pct(unlocks, 0.5):.1f} ms, "
            f"p99 {pct(unlocks, 0.99):.1f} ms"
        )
    print(f"all requests: {total / elapsed:,.0f} requests/s")
    print("outcomes: " + ", ".join(f"{k} {v:,}" for k, v in sorted(outcomes.items())))
    print(f"lock rows at the end: {held[0] if held else 0:,}")
    print(
        f"double-locks (holders > usage limit): {final} at the end, max {max(seen, default=0)} "
        f"over {len(seen)} samples during the run"
    )
    print(f"client errors: {len(errors)}")
    for line in errors[:5]:
        print(f"  {line}")
    problems = server.problems()
    print(f"server log: {len(problems)} warning/error line(s)")
    for line in problems[:10]:
        print(f"  {line}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"host: {os.cpu_count()} CPUs (clients and server share them), load {load}")
    return 1 if final or max(seen, default=0) or errors else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--accounts", type=int, default=1_000_000, help="accounts to seed")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=20, help="length of the run")
    parser.add_argument("--hot1", type=int, default=5, help="contended single-use coupons")
    parser.add_argument("--hot3", type=int, default=5, help="contended three-use coupons")
    parser.add_argument(
        "--hot-share", type=float, default=0.3, help="share of requests on contended coupons"
    )
    parser.add_argument("--lock-seconds", type=int, default=1, help="lock TTL of the server")
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="an empty PostgreSQL database to use (SQLAlchemy form); default: a fresh "
        f"rh_bench_* database on {PG_SERVER}, dropped at the end",
    )
    args = parser.parse_args(argv)
    if args.accounts < args.hot1 + args.hot3 or args.clients < 1 or args.seconds <= 0:
        parser.error("need accounts >= hot1 + hot3, clients >= 1 and seconds > 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    admin = f"{PG_SERVER}/postgres"
    dbname: str | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="rh-bench-") as tmp:
            if args.database_url:
                database_url = args.database_url
            else:
                dbname = f"rh_bench_{secrets.token_hex(4)}"
                with psycopg.connect(admin, autocommit=True) as conn:
                    conn.execute(f"CREATE DATABASE {dbname}")
                database_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{dbname}"
                print(f"created database {dbname}")
            return run(args, Path(tmp), database_url)
    except BenchError as exc:
        print(f"\nbenchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if dbname is not None:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
            print(f"dropped database {dbname}")


if __name__ == "__main__":
    sys.exit(main())
