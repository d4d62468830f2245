"""Benchmark of campaign targeting: preview and initialize over a million accounts.

Creates a throwaway PostgreSQL database, seeds N loyalty accounts in SQL (counters,
properties, tags, created dates spread over three years), starts the real server
(``retailhub serve --no-file-servers``) and, over HTTP, creates a campaign with three
constraints and two states (a COUPON issued on entry, then an ORDER wait), previews it and
initializes it. Initialize enrolls every matching account, issues their coupons and moves
them on, in set-based SQL. Prints the time of each step and the rows it produced.

    .venv/bin/python bench/loyalty_campaign.py                 # 1,000,000 accounts
    .venv/bin/python bench/loyalty_campaign.py --accounts 100000

Target (issue 4): initialize of 1,000,000 accounts with three constraints in at most 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / ".venv" / "bin" / "retailhub"
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
API = "/loyalty-api/api"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(conninfo: str, tenant_id: int, accounts: int) -> float:
    """Accounts with realistic spreads: orders 0-29, value, a tier property for a third,
    a VIP tag for 5 %, creation dates over three years."""
    started = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            """
            INSERT INTO loyalty_accounts (
                tenant_id, account_id, email, first_name, birthdate, birthday_md,
                properties, counters, consents, important_tags, relations, segment,
                created_at, updated_at, last_order_at)
            SELECT %(t)s, 'm' || i, 'm' || i || '@example.com', 'Member' || (i %% 997),
                   DATE '1960-01-01' + (i %% 15000),
                   EXTRACT(MONTH FROM DATE '1960-01-01' + (i %% 15000))::int * 100
                     + EXTRACT(DAY FROM DATE '1960-01-01' + (i %% 15000))::int,
                   CASE i %% 3 WHEN 0 THEN '{"tier": "gold"}'::jsonb
                               WHEN 1 THEN '{"tier": "silver"}'::jsonb
                               ELSE '{}'::jsonb END,
                   jsonb_build_object('orders', i %% 30, 'value', (i %% 30) * 41.5,
                                      'orders_365d', i %% 12),
                   '{}'::jsonb, '[]'::jsonb, '[]'::jsonb, 'active',
                   now() - make_interval(days => i %% 1095), now(),
                   now() - make_interval(days => i %% 400)
            FROM generate_series(1, %(n)s) AS i
            """,
            {"t": tenant_id, "n": accounts},
        )
        conn.execute(
            """
            INSERT INTO loyalty_account_tags (tenant_id, account_pk, tag)
            SELECT tenant_id, id, 'vip' FROM loyalty_accounts
            WHERE tenant_id = %s AND id %% 20 = 0
            """,
            (tenant_id,),
        )
        conn.execute("ANALYZE loyalty_accounts")
        conn.execute("ANALYZE loyalty_account_tags")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    args = parser.parse_args()

    dbname = f"rh_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {dbname}")
    conninfo = f"{PG_SERVER}/{dbname}"
    data_dir = Path(tempfile.mkdtemp(prefix="rh-bench-loyalty-"))
    env = {
        **os.environ,
        "RETAILHUB_DATA_DIR": str(data_dir),
        "RETAILHUB_DATABASE_URL": conninfo.replace("postgresql://", "postgresql+psycopg://"),
        "RETAILHUB_SECRET_KEY": secrets.token_urlsafe(32),
    }
    port = free_port()
    server: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run([str(SERVER), "db", "upgrade"], env=env, check=True, capture_output=True)
        created = subprocess.run(
            [str(SERVER), "tenants", "create", "bench", "--json"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        creds: dict[str, Any] = json.loads(created.stdout)
        seconds = seed(conninfo, int(creds["tenant_id"]), args.accounts)
        print(f"seeded {args.accounts:,} accounts in {seconds:.1f} s")

        server = subprocess.Popen(
            [str(SERVER), "serve", "--port", str(port), "--no-file-servers", "--no-workers"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=600) as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if http.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start")
                time.sleep(0.2)
            token = http.post(
                "/auth-oauth2/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(creds["loyalty_client_id"], creds["loyalty_client_secret"]),
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}", "x-tenant": "bench"}
            campaign = {
                "id": "bench-welcome",
                "type": "STANDARD",
                "name": "Welcome back, frequent buyers",
                "constraints": [
                    {"field": "counters.orders", "op": "GTE", "value": ["3"]},
                    {"field": "properties.tier", "op": "IN", "value": ["gold", "silver"]},
                    {"field": "header.created", "op": "LT", "value": ["2100-01-01T00:00:00Z"]},
                ],
                "states": [
                    {"id": "coupon", "type": "COUPON", "validDays": 30, "transitionTo": "buy"},
                    {"id": "buy", "type": "ORDER", "minTotal": 50},
                ],
                "dynamic": False,
            }
            response = http.post(f"{API}/campaign", json=campaign, headers=headers)
            response.raise_for_status()
            started = time.perf_counter()
            response = http.post(f"{API}/campaign/bench-welcome/preview", headers=headers)
            response.raise_for_status()
            preview_s = time.perf_counter() - started
            predicted = response.json()["cnt"]
            started = time.perf_counter()
            response = http.post(f"{API}/campaign/bench-welcome/initialize", headers=headers)
            response.raise_for_status()
            initialize_s = time.perf_counter() - started
            enrolled = response.json()["cnt"]
        with psycopg.connect(conninfo) as conn:
            coupons = conn.execute("SELECT count(*) FROM loyalty_coupons").fetchone()
            waiting = conn.execute(
                "SELECT count(*) FROM loyalty_campaign_members WHERE state = 'buy'"
            ).fetchone()
        print(f"preview:    {preview_s:6.2f} s  (cnt {predicted:,})")
        print(
            f"initialize: {initialize_s:6.2f} s  (enrolled {enrolled:,}, coupons "
            f"{coupons[0] if coupons else 0:,}, waiting in ORDER {waiting[0] if waiting else 0:,})"
        )
        target = 30.0
        verdict = "met" if initialize_s <= target else "NOT met"
        print(f"target: initialize <= {target:.0f} s for 1,000,000 accounts: {verdict}")
        return 0
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")


if __name__ == "__main__":
    sys.exit(main())
