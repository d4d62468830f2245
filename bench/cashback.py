"""Benchmark of the cashback network's two hot paths, end to end over HTTP on PostgreSQL:
store search (``GET /cashback/v1/stores/search``) and the tracking redirect
(``GET /cashback/v1/stores/{id}/tracking``, which records a click and answers 302).

Creates a throwaway database, starts the real server (``retailhub serve --no-workers
--no-file-servers --processes P``: API processes only), seeds a catalog of N stores (names,
descriptions, countries, tags, categories; COPY) and M deals (``generate_series``), then drives
each path with ``wrk`` (C clients over two threads, for S seconds; install it with
``apt-get install wrk``):

- search, with the catalog cache on (the default ``RETAILHUB_CASHBACK_CACHE_SECONDS``) and off
  (``=0``: every request reaches the database), over a mix of terms: words of many
  descriptions, prefixes of store names, and terms nothing matches, some narrowed by country;
- the redirect, each request for a random store and shopper; afterwards every 302 the clients
  received must be a click row in the database.

It prints requests/s and latency percentiles (p50, p95, p99, max) per run, and the targets:
search p95 < 50 ms, redirect p99 < 25 ms.

    .venv/bin/python bench/cashback.py                          # 50,000 stores, 200,000 deals
    .venv/bin/python bench/cashback.py --stores 5000 --deals 20000 --seconds 5
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import httpx
import psycopg
from serverproc import BenchError, Server

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
SEED = 20261124


def words(text: str, sep: str | None = None) -> list[str]:
    return text.split(sep)


COUNTRIES = ["US", "CA", "GB", "FR", "DE", "ES", "IT", "AU", "NL", "SE", "MX", "BR", "JP", "IN"]
TAGS = ["b2bStores", "bopisStores", "extraCashback", "newCustomers", "toolbarAllowed", "topStores"]
CATEGORIES = words(
    "Apparel,Automotive,Babies & Kids,Beauty,Books,Computers,Electronics,Food & Drink,"
    "Gifts,Health,Home & Garden,Jewelry,Office,Outdoors,Pets,Shoes,Sports,Toys,Travel,"
    "Games,Music,Movies,Crafts,Tools,Furniture,Luggage,Watches,Wine,Flowers,Software",
    ",",
)
NOUNS = words(
    "laptop computer monitor keyboard mouse headphones speaker camera lens tripod phone "
    "tablet charger cable router printer desk chair sofa lamp rug curtain pillow blanket "
    "mattress towel cookware knife blender coffee tea wine chocolate snack vitamin "
    "protein shampoo perfume lipstick skincare razor sneaker boot sandal jacket coat "
    "dress shirt jeans sweater sock hat scarf glove bag backpack suitcase wallet watch "
    "ring necklace earring bracelet toy puzzle game doll bicycle helmet tent sleeping "
    "kayak fishing golf tennis yoga treadmill dumbbell garden plant seed grill patio tool "
    "drill saw paint hammer tire battery wiper oil flower gift card book novel magazine "
    "vinyl guitar piano drum software antivirus hosting domain flight hotel cruise rental "
    "insurance pet food leash aquarium diaper stroller crib formula"
)
ADJECTIVES = words(
    "premium affordable organic handmade vintage modern classic sustainable luxury eco "
    "wireless smart portable compact professional outdoor indoor kids family designer "
    "budget refurbished custom local imported artisan rugged lightweight"
)
SYLLABLES = words(
    "ka lo mi ra ve to sun bri nor tex vol mar den fox ar el ix on um zen pro max ly co "
    "bel cor dia fin gal hal jun kir lum mon nex oro pix quin rio sol tor ul vir wex yal"
)
SUFFIXES = ["", "", "", " Store", " Shop", " Outfitters", " Supply", " Co", " Labs", " Home"]

WRK_SCRIPT = r"""
local threads = {}
function setup(thread)
  thread:set("offset", #threads * 7919)
  table.insert(threads, thread)
end
function init(args)
  paths = {}
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  counter = offset
  ok, redirects, other = 0, 0, 0
end
function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end
function response(status, headers, body)
  if status == 200 then ok = ok + 1
  elseif status == 302 then redirects = redirects + 1
  else other = other + 1 end
end
function done(summary, latency, requests)
  local o, r, x = 0, 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok"); r = r + t:get("redirects"); x = x + t:get("other")
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT {\"requests\": %d, \"micros\": %d, \"p50\": %d, \"p95\": %d, \"p99\": %d, "
    .. "\"max\": %d, \"ok\": %d, \"redirects\": %d, \"other\": %d, \"socket_errors\": %d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, o, r, x,
    e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass
class Figures:
    label: str
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    ok: int
    redirects: int
    other: int
    socket_errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def line(self) -> str:
        return (
            f"{self.label:<34} {self.rate:8,.0f} req/s   p50 {self.p50_ms:6.1f} ms   "
            f"p95 {self.p95_ms:6.1f} ms   p99 {self.p99_ms:6.1f} ms   max {self.max_ms:7.1f} ms"
            f"   non-2xx/3xx {self.other}, socket errors {self.socket_errors}"
        )


# --- seeding -------------------------------------------------------------------------------


def store_name(rng: random.Random) -> str:
    word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
    return word.capitalize() + rng.choice(SUFFIXES)


def description(rng: random.Random) -> str:
    nouns = rng.sample(NOUNS, 4)
    return (
        f"{rng.choice(ADJECTIVES).capitalize()} {nouns[0]}s, {nouns[1]}s and {nouns[2]} "
        f"accessories for {rng.choice(['home', 'work', 'travel', 'families', 'everyone'])}. "
        f"Shop {rng.choice(ADJECTIVES)} {nouns[3]} deals with free shipping over $50."
    )


def seed(conninfo: str, stores: int, deals: int) -> list[str]:
    """The catalog; returns the store names (search terms are drawn from them)."""
    rng = random.Random(SEED)
    started = time.perf_counter()
    now = datetime.now(UTC)
    names: list[str] = []
    with psycopg.connect(conninfo) as conn:
        conn.execute(
            "INSERT INTO cashback_categories (id, name, seo_friendly_id, created_at) "
            "SELECT i, c, lower(regexp_replace(c, '[^A-Za-z]+', '-', 'g')), now() "
            "FROM unnest(%s::text[]) WITH ORDINALITY AS t(c, i)",
            (CATEGORIES,),
        )
        columns = (
            "id, name, url, seo_friendly_id, language, description, commission_value, "
            "commission_format, commission_details, home, countries, tags, store_terms, "
            "general_terms, specific_terms, address, alternative_content, name_key, "
            "search_text, active, created_at, updated_at"
        )
        countries: list[tuple[int, str]] = []
        tags: list[tuple[int, str]] = []
        categories: list[tuple[int, int]] = []
        with conn.cursor() as cur:
            with cur.copy(f"COPY cashback_stores ({columns}) FROM STDIN") as copy:
                for store_id in range(1, stores + 1):
                    name = store_name(rng)
                    names.append(name)
                    text = description(rng)
                    served = rng.sample(COUNTRIES, rng.randint(1, 4))
                    if rng.random() < 0.2:
                        served.insert(0, "GLOBAL")
                    carried = rng.sample(TAGS, rng.randint(0, 3))
                    percent = rng.random() < 0.85
                    copy.write_row(
                        (
                            store_id,
                            name,
                            f"https://www.{name.lower().replace(' ', '-')}-{store_id}.example/",
                            f"{name.lower().replace(' ', '-')}-{store_id}",
                            "en",
                            text,
                            round(rng.uniform(0.5, 15), 2) if percent else rng.choice([2, 5, 10]),
                            "%" if percent else "USD",
                            "[]",
                            served[-1],
                            json.dumps(served),
                            json.dumps(carried),
                            f"Terms of {name}.",
                            "Not all purchases are eligible for cashback.",
                            None,
                            None,
                            "[]",
                            name.lower(),
                            text.lower(),
                            True,
                            now,
                            now,
                        )
                    )
                    countries += [(store_id, c) for c in served]
                    tags += [(store_id, t) for t in carried]
                    picked = rng.sample(range(1, len(CATEGORIES) + 1), rng.randint(1, 2))
                    categories += [(store_id, c) for c in picked]
            with cur.copy("COPY cashback_store_countries (store_id, country) FROM STDIN") as c:
                for row in countries:
                    c.write_row(row)
            with cur.copy("COPY cashback_store_tags (store_id, tag) FROM STDIN") as c:
                for row in tags:
                    c.write_row(row)
            with cur.copy("COPY cashback_store_categories (store_id, category_id) FROM STDIN") as c:
                for row in categories:
                    c.write_row(row)
        conn.execute(
            """
            INSERT INTO cashback_deals (store_id, title, description, deal_type, coupon_code,
                start_date, end_date, created_at, updated_at)
            SELECT 1 + g %% %(stores)s, 'Deal ' || g, 'Save on selected items.',
                (ARRAY['COUPON', 'FREE_SHIPPING', 'SALE_DISCOUNT', 'NEW_PRODUCT'])[1 + g %% 4],
                CASE WHEN g %% 4 = 0 THEN 'CODE' || g END,
                now() - (g %% 30) * interval '1 day', now() + (1 + g %% 60) * interval '1 day',
                now(), now()
            FROM generate_series(1, %(deals)s) AS g
            """,
            {"stores": stores, "deals": deals},
        )
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('cashback_stores', 'id'), %s)", (stores,)
        )
        for table in ("cashback_stores", "cashback_store_countries", "cashback_deals"):
            conn.execute(f"ANALYZE {table}")
        conn.commit()
    print(f"seeded {stores:,} stores and {deals:,} deals in {time.perf_counter() - started:.1f} s")
    return names


def search_paths(names: list[str], count: int) -> list[str]:
    """Requests mixing description words (many matches), name prefixes (few), terms that
    match nothing, a quarter of them narrowed to a country."""
    rng = random.Random(SEED + 1)
    paths = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.6:
            term = rng.choice(NOUNS)
        elif roll < 0.9:
            name = rng.choice(names)
            term = name[: rng.randint(3, min(6, len(name)))]
        else:
            term = secrets.token_hex(4)
        page = rng.choice([0, 0, 0, 1])
        path = f"/cashback/v1/stores/search?term={quote(term)}&size=20&page={page}"
        if rng.random() < 0.25:
            path += f"&countries={rng.choice(COUNTRIES)}"
        paths.append(path)
    return paths


def redirect_paths(cid: str, stores: int, count: int) -> list[str]:
    rng = random.Random(SEED + 2)
    return [
        f"/cashback/v1/stores/{rng.randint(1, stores)}/tracking?cid={cid}"
        f"&cp=shopper-{rng.randint(1, 1_000_000)}&sid=bench"
        for _ in range(count)
    ]


# --- the load ------------------------------------------------------------------------------


def run_wrk(
    label: str, server: Server, paths: list[str], args: argparse.Namespace, headers: list[str]
) -> Figures:
    work = server.log_path.parent
    script, listing = work / "bench.lua", work / f"{label.split()[0]}.paths"
    script.write_text(WRK_SCRIPT)
    listing.write_text("\n".join(paths) + "\n")
    command = ["wrk", "-t", str(args.threads), "-c", str(args.clients)]
    command += ["-d", f"{args.seconds}s", "--timeout", "10s", "-s", str(script)]
    for header in headers:
        command += ["-H", header]
    command += [server.base_url, "--", str(listing)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    result = next((ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if done.returncode != 0 or result is None:
        raise BenchError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    data = json.loads(result.removeprefix("RESULT "))
    return Figures(
        label=label,
        requests=data["requests"],
        seconds=data["micros"] / 1e6,
        p50_ms=data["p50"] / 1000,
        p95_ms=data["p95"] / 1000,
        p99_ms=data["p99"] / 1000,
        max_ms=data["max"] / 1000,
        ok=data["ok"],
        redirects=data["redirects"],
        other=data["other"],
        socket_errors=data["socket_errors"],
    )


def warm(server: Server, paths: list[str], headers: dict[str, str], settle: float = 0) -> None:
    """A few requests, each on a new connection so that every API process sees some (the
    kernel spreads connections over them); then ``settle`` seconds for what they start in
    the background (the search index)."""
    for path in paths[:50]:
        response = httpx.get(server.base_url + path, headers=headers, timeout=30)
        if response.status_code not in (200, 302):
            raise BenchError(f"GET {path}: {response.status_code} {response.text[:300]}")
    time.sleep(settle)


def clicks(conninfo: str) -> int:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT count(*) FROM cashback_clicks").fetchone()
    return int(row[0]) if row else 0


def run(args: argparse.Namespace, work: Path, database_url: str) -> int:
    conninfo = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    results: list[Figures] = []
    names: list[str] = []
    for cache in ("on", "off"):
        env = {} if cache == "on" else {"RETAILHUB_CASHBACK_CACHE_SECONDS": "0"}
        server = Server(work, database_url, processes=args.processes, env=env)
        try:
            server.start()
            creds = server.credentials()
            if not names:
                names = seed(conninfo, args.stores, args.deals)
            key = creds["cashback_api_key"]
            paths = search_paths(names, 20_000)
            warm(server, paths, {"Authorization": key}, settle=5 if cache == "on" else 0)
            results.append(
                run_wrk(f"search (cache {cache})", server, paths, args, [f"Authorization: {key}"])
            )
            if cache == "on":
                paths = redirect_paths(str(creds["cashback_publisher_id"]), args.stores, 20_000)
                warm(server, paths, {})
                before = clicks(conninfo)
                redirect = run_wrk("tracking redirect", server, paths, args, [])
                results.append(redirect)
                recorded = clicks(conninfo) - before
        finally:
            server.stop()
        problems = server.problems()
    print(
        f"\n{args.clients} clients ({args.threads} wrk threads) for {args.seconds} s each, "
        f"{args.processes} API process(es), PostgreSQL, {os.cpu_count()} CPUs shared by "
        f"clients, server and database\n"
    )
    for figures in results:
        print(figures.line())
    print(
        f"\nclicks recorded during the redirect run: {recorded:,}; 302s received: "
        f"{redirect.redirects:,} (the server counts clicks it committed before answering, so "
        f"these match unless a connection was cut mid-answer)"
    )
    print(f"server log: {len(problems)} warning/error line(s)")
    for line in problems[:10]:
        print("  " + line)
    print(
        f"targets: search p95 < 50 ms (cache on: {results[0].p95_ms:.1f} ms, off: "
        f"{results[-1].p95_ms:.1f} ms); redirect p99 < 25 ms ({redirect.p99_ms:.1f} ms)"
    )
    return 1 if redirect.other or recorded < redirect.redirects else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", type=int, default=50_000)
    parser.add_argument("--deals", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=50, help="concurrent connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--seconds", type=int, default=20, help="per run")
    parser.add_argument("--processes", type=int, default=2, help="API processes")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("this benchmark drives the load with wrk: apt-get install wrk", file=sys.stderr)
        return 2
    name = f"rh_bench_{secrets.token_hex(4)}"
    admin = f"{PG_SERVER}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        with tempfile.TemporaryDirectory(prefix="rh-bench-") as tmp:
            url = f"{PG_SERVER.replace('postgresql://', 'postgresql+psycopg://')}/{name}"
            return run(args, Path(tmp), url)
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        print(f"dropped database {name}")


if __name__ == "__main__":
    sys.exit(main())
