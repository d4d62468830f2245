"""Benchmark of the Listrak-compatible Data Import API, end to end over HTTP.

Starts the real server (``retailhub serve``, API and in-process workers in one process), posts
generated Product and Order payloads, follows each import to its end, re-imports the products
(every row should be ``unchanged``), samples the server's memory throughout and, on
PostgreSQL, loads the same products with a plain ``COPY`` into a typed table as a reference.

    .venv/bin/python bench/import_api.py                      # 200k products, 50k orders, PG
    .venv/bin/python bench/import_api.py --sqlite --products 20000 --orders 5000
    .venv/bin/python bench/import_api.py --payload-mb 250 --products 0 --orders 0

Sizes are in MB of 1,048,576 bytes, the unit of the API's 250 MB (262,144,000 bytes) limit.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import ijson
import orjson
import psycopg
from serverproc import ROOT, BenchError, Server

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
MB = 1 << 20
FINISHED = ("succeeded", "partially_failed", "failed")
POLL_SECONDS = 0.2
SAMPLE_SECONDS = 0.1
WRITE_CHUNK = 5000  # records serialized per write while generating a payload
SEED = 20240601


# --- data generation -----------------------------------------------------------------------

BRANDS = (
    "Northwind", "Alder & Pine", "Cobalt Trail", "Harbor Lane", "Summit Works", "Lumen",
    "Redwood Supply", "Marlowe", "Kestrel", "Bramble Co.", "Tidewater", "Ironclad",
)  # fmt: skip
CATEGORIES = {
    "Apparel": ("Tops", "Bottoms", "Outerwear", "Dresses", "Activewear"),
    "Footwear": ("Sneakers", "Boots", "Sandals", "Loafers"),
    "Home": ("Bedding", "Kitchen", "Decor", "Bath"),
    "Accessories": ("Bags", "Hats", "Belts", "Jewelry", "Scarves"),
    "Outdoor": ("Camping", "Hiking", "Cycling", "Fishing"),
}
COLORS = (
    "Black", "White", "Navy", "Heather Grey", "Olive", "Burgundy", "Sand", "Forest Green",
    "Charcoal", "Sky Blue", "Rust", "Ivory",
)  # fmt: skip
SIZES = ("XS", "S", "M", "L", "XL", "XXL", "One Size", "6", "7", "8", "9", "10", "11", "12")
# The Listrak product gender codes: M, F or N (neither / not applicable).
GENDERS = ("M", "F", "N")
ADJECTIVES = (
    "Classic", "Everyday", "Lightweight", "Heritage", "Performance", "Relaxed", "Essential",
    "Premium", "Vintage", "Tailored", "Weatherproof", "Organic",
)  # fmt: skip
NOUNS = (
    "Crewneck Tee", "Chino Pant", "Rain Jacket", "Wrap Dress", "Trail Runner", "Chelsea Boot",
    "Duvet Cover", "Chef Knife", "Canvas Tote", "Wool Beanie", "Leather Belt", "Day Pack",
    "Camp Chair", "Henley", "Fleece Pullover", "Linen Shirt",
)  # fmt: skip
_BLURB = (
    "crafted from soft breathable cotton with a relaxed fit that keeps its shape wash after "
    "wash this piece pairs easily with denim or chinos and layers well under a jacket durable "
    "stitching reinforced seams and a tagless neckline make it comfortable all day machine "
    "washable cold tumble dry low imported designed for everyday wear on the trail at the "
    "office or around town recycled materials water resistant finish adjustable hem interior "
    "pocket brushed lining"
)
WORDS = tuple(_BLURB.split())
RELATION_TYPES = ("CrossSell", "UpSell", "Similar", "Accessory")
COUPONS = ("WELCOME10", "SPRING20", "FREESHIP", "VIP15", "BFCM30")
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def _description(rng: random.Random) -> str:
    target = rng.randint(200, 400)
    words = rng.choices(WORDS, k=target // 4)
    text = " ".join(words).capitalize()
    while len(text) < target:
        text += " " + rng.choice(WORDS)
    return text[:target].rstrip() + "."


def _iso_z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def product_records(
    count: int | None, rng: random.Random, *, prefix: str = "SKU"
) -> Iterator[dict[str, Any]]:
    """Listrak Product records; endless when ``count`` is None."""
    indexes: Iterable[int] = itertools.count() if count is None else range(count)
    for i in indexes:
        sku = f"{prefix}-{i:08d}"
        brand = rng.choice(BRANDS)
        category = rng.choice(tuple(CATEGORIES))
        color, size = rng.choice(COLORS), rng.choice(SIZES)
        name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
        price = round(rng.uniform(8, 480), 2)
        qoh = rng.choice((0, rng.randint(1, 500)))
        sale_start = EPOCH + timedelta(days=rng.randint(0, 330), hours=5)
        related = rng.sample(range(max(count or 0, 1000)), 2)
        yield {
            "sku": sku,
            "title": f"{brand} {name} - {color} / {size}",
            "description": _description(rng),
            "price": price,
            "salePrice": round(price * rng.uniform(0.5, 0.95), 2),
            "msrp": round(price * rng.uniform(1.0, 1.3), 2),
            "brand": brand,
            "category": category,
            "subCategory": rng.choice(CATEGORIES[category]),
            "color": color,
            "size": size,
            "style": f"ST-{rng.randint(1000, 9999)}",
            "gender": rng.choice(GENDERS),
            "imageUrl": f"https://cdn.example-shop.com/images/{sku.lower()}.jpg",
            "linkUrl": f"https://www.example-shop.com/p/{name.lower().replace(' ', '-')}/{sku}",
            "masterSku": f"M{prefix}-{i // 6:07d}",
            "qoh": qoh,
            "inStock": qoh > 0,
            "onSale": rng.random() < 0.3,
            "isPurchasable": True,
            "isViewable": rng.random() < 0.97,
            "meta1": f"season:{rng.choice(('SS', 'FW'))}{rng.randint(22, 25)}",
            "relatedProducts": [
                {"rank": rank, "sku": f"{prefix}-{other:08d}", "type": rng.choice(RELATION_TYPES)}
                for rank, other in enumerate(related, start=1)
            ],
            "saleStartDate": _iso_z(sale_start),
            "saleEndDate": _iso_z(sale_start + timedelta(days=rng.randint(3, 30))),
        }


def order_records(count: int, products: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    """Listrak Order records of 1-4 items, referring to the generated products' skus."""
    for i in range(count):
        number = f"ORD-{i:09d}"
        customer = rng.randint(1, max(count // 3, 1))
        items: list[dict[str, Any]] = []
        for _ in range(rng.randint(1, 4)):
            price = round(rng.uniform(8, 480), 2)
            quantity = rng.randint(1, 3)
            items.append(
                {
                    "orderNumber": number,
                    "sku": f"SKU-{rng.randrange(max(products, 1000)):08d}",
                    "quantity": quantity,
                    "price": price,
                    "itemTotal": round(price * quantity, 2),
                    "status": "Completed",
                }
            )
        entered = EPOCH + timedelta(seconds=rng.randint(0, 330 * 86400))
        order: dict[str, Any] = {
            "orderNumber": number,
            "email": f"customer{customer:07d}@example.com",
            "customerNumber": f"C{customer:08d}",
            # Without a zone, as many feeds send it: Listrak reads it as US Eastern.
            "dateEntered": entered.strftime("%Y-%m-%dT%H:%M:%S"),
            "orderTotal": round(sum(item["itemTotal"] for item in items), 2),
            "status": "Completed",
            "storeNumber": str(rng.randint(1, 40)),
            "items": items,
        }
        if rng.random() < 0.2:
            order["couponCode"] = rng.choice(COUPONS)
        yield order


def write_json_array(
    path: Path, records: Iterable[dict[str, Any]], *, max_bytes: int | None = None
) -> tuple[int, int]:
    """Write records as one JSON array, a chunk at a time; stop before ``max_bytes``.
    Returns (records, bytes)."""
    count = 0
    size = 2  # the brackets
    chunk: list[bytes] = []
    with path.open("wb") as out:
        out.write(b"[")
        for record in records:
            data = orjson.dumps(record)
            added = len(data) + (1 if count else 0)
            if max_bytes is not None and size + added > max_bytes:
                break
            if count and not chunk:
                out.write(b",")
            chunk.append(data)
            size += added
            count += 1
            if len(chunk) >= WRITE_CHUNK:
                out.write(b",".join(chunk))
                chunk.clear()
        out.write(b",".join(chunk))
        out.write(b"]")
    return count, size


# --- the server and its memory -------------------------------------------------------------


def read_status_kb(pid: int, key: str) -> int | None:
    """A ``kB`` line of /proc/<pid>/status (VmRSS, VmHWM), or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (the import checker processes are the server's)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                continue
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


def tree_rss_kb(pid: int) -> int:
    return sum(read_status_kb(p, "VmRSS") or 0 for p in [pid, *descendants(pid)])


class RssSampler:
    """Samples a process's VmRSS (and its process tree's) in a background thread."""

    def __init__(self, pid: int, interval: float = SAMPLE_SECONDS) -> None:
        self.pid = pid
        self.interval = interval
        self.start_kb = read_status_kb(pid, "VmRSS") or 0
        self.peak_kb = self.start_kb
        self.tree_peak_kb = tree_rss_kb(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = read_status_kb(self.pid, "VmRSS")
            if rss is not None:
                self.peak_kb = max(self.peak_kb, rss)
                self.tree_peak_kb = max(self.tree_peak_kb, tree_rss_kb(self.pid))
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Phase:
    name: str
    entity: str
    path: Path
    records: int
    size: int
    status: str = ""
    message: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    accept_s: float = 0.0  # POST start -> 201
    wall_s: float = 0.0  # POST start -> seen finished
    server_s: float = 0.0  # finishedAt - startedAt
    queue_s: float = 0.0  # 201 -> startedAt (approximate: client and server clocks)
    rss_start_kb: int = 0
    rss_peak_kb: int = 0
    tree_peak_kb: int = 0  # the server with its checker processes

    @property
    def rate(self) -> float:
        return self.records / self.wall_s if self.wall_s else 0.0


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value)


def get_token(client: httpx.Client, client_id: str, client_secret: str) -> str:
    response = client.post(
        "/OAuth2/Token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        },
    )
    if response.status_code != 200:
        raise BenchError(f"token: {response.status_code} {response.text}")
    token: str = response.json()["access_token"]
    return token


def run_phase(client: httpx.Client, server: Server, token: str, phase: Phase) -> None:
    """POST the payload file, then poll the import until it finishes."""
    headers = {"Authorization": f"Bearer {token}"}
    print(
        f"\n[{phase.name}] POST /data/v1/{phase.entity}: {phase.records:,} records, "
        f"{phase.size / MB:,.1f} MB",
        flush=True,
    )
    with RssSampler(server.pid) as rss:
        started = time.perf_counter()
        with phase.path.open("rb") as body:
            response = client.post(
                f"/data/v1/{phase.entity}",
                content=body,
                headers={**headers, "Content-Type": "application/json"},
            )
        accepted = time.perf_counter()
        accepted_at = datetime.now(UTC)
        if response.status_code != 201:
            raise BenchError(
                f"{phase.name}: POST answered {response.status_code}: {response.text[:500]}"
            )
        resource_id = response.json()["resourceId"]
        phase.accept_s = accepted - started
        print(f"  201 in {phase.accept_s:.2f} s, resourceId {resource_id}", flush=True)
        while True:
            time.sleep(POLL_SECONDS)
            if not server.alive():
                raise BenchError(f"the server died during {phase.name}:\n{server.tail()}")
            poll = client.get(f"/data/v1/Import/{resource_id}", headers=headers)
            if poll.status_code != 200:
                raise BenchError(f"{phase.name}: GET import {poll.status_code}: {poll.text}")
            body_json: dict[str, Any] = poll.json()
            if body_json["status"] in FINISHED:
                break
        phase.wall_s = time.perf_counter() - started
    phase.rss_start_kb, phase.rss_peak_kb = rss.start_kb, rss.peak_kb
    phase.tree_peak_kb = rss.tree_peak_kb
    phase.status = body_json["status"]
    phase.message = body_json.get("message")
    phase.counts = body_json["counts"]
    if body_json.get("startedAt") and body_json.get("finishedAt"):
        started_at, finished_at = _when(body_json["startedAt"]), _when(body_json["finishedAt"])
        phase.server_s = (finished_at - started_at).total_seconds()
        phase.queue_s = max(0.0, (started_at - accepted_at).total_seconds())
    c = phase.counts
    print(
        f"  {phase.status}: received {c['received']:,}, inserted {c['inserted']:,}, "
        f"updated {c['updated']:,}, unchanged {c['unchanged']:,}, rejected {c['rejected']:,}, "
        f"duplicates {c['duplicates']:,}, warnings {c['warnings']:,}"
    )
    print(
        f"  accepted in {phase.accept_s:.2f} s; import {phase.server_s:.2f} s "
        f"(finishedAt - startedAt, started ~{phase.queue_s:.2f} s after the 201); "
        f"wall {phase.wall_s:.2f} s -> {phase.rate:,.0f} records/s"
    )
    print(
        f"  server RSS {phase.rss_start_kb / 1024:,.0f} MB at start, "
        f"peak {phase.rss_peak_kb / 1024:,.0f} MB; with its checker processes "
        f"{phase.tree_peak_kb / 1024:,.0f} MB",
        flush=True,
    )
    if phase.message:
        print(f"  message: {phase.message}")
    if c["rejected"] or c["warnings"]:
        issues = client.get(
            f"/data/v1/Import/{resource_id}/errors", headers=headers, params={"count": 5}
        ).json()
        for issue in issues.get("data", []):
            print(f"  issue: {issue}")


# --- the COPY reference (PostgreSQL) -------------------------------------------------------

# (JSON field, column, type): one typed column per field the generated feed carries.
COPY_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("sku", "sku", "varchar(100)"),
    ("title", "title", "varchar(500)"),
    ("description", "description", "varchar(4000)"),
    ("price", "price", "numeric(18,4)"),
    ("salePrice", "sale_price", "numeric(18,4)"),
    ("msrp", "msrp", "numeric(18,4)"),
    ("brand", "brand", "varchar(50)"),
    ("category", "category", "varchar(50)"),
    ("subCategory", "sub_category", "varchar(50)"),
    ("color", "color", "varchar(100)"),
    ("size", "size", "varchar(50)"),
    ("style", "style", "varchar(100)"),
    ("gender", "gender", "varchar(1)"),
    ("imageUrl", "image_url", "varchar(500)"),
    ("linkUrl", "link_url", "varchar(500)"),
    ("masterSku", "master_sku", "varchar(100)"),
    ("qoh", "qoh", "integer"),
    ("inStock", "in_stock", "boolean"),
    ("onSale", "on_sale", "boolean"),
    ("isPurchasable", "is_purchasable", "boolean"),
    ("isViewable", "is_viewable", "boolean"),
    ("meta1", "meta1", "varchar(500)"),
    ("relatedProducts", "related_products", "jsonb"),
    ("saleStartDate", "sale_start_date", "timestamptz"),
    ("saleEndDate", "sale_end_date", "timestamptz"),
)


def _csv_field(value: Any) -> str:
    """PostgreSQL CSV: NULL is an unquoted empty field; every string is quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | dict):
        value = orjson.dumps(value).decode()
    return '"' + str(value).replace('"', '""') + '"'


def json_to_csv(source: Path, target: Path) -> int:
    count = 0
    with source.open("rb") as src, target.open("w", encoding="utf-8", newline="") as out:
        for record in ijson.items(src, "item", use_float=True):
            out.write(",".join(_csv_field(record.get(f)) for f, _c, _t in COPY_COLUMNS) + "\n")
            count += 1
    return count


@dataclass
class CopyResult:
    name: str
    records: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


def copy_reference(conninfo: str, phase: Phase, csv_path: Path) -> CopyResult:
    records = json_to_csv(phase.path, csv_path)
    columns = ", ".join(column for _f, column, _t in COPY_COLUMNS)
    ddl = ", ".join(f"{column} {kind}" for _f, column, kind in COPY_COLUMNS)
    with psycopg.connect(conninfo) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_products")
        conn.execute(f"CREATE TABLE bench_products ({ddl}, PRIMARY KEY (sku))")
        conn.commit()
        started = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(f"COPY bench_products ({columns}) FROM STDIN (FORMAT csv)") as copy,
            csv_path.open("rb") as data,
        ):
            while block := data.read(MB):
                copy.write(block)
        conn.commit()
        seconds = time.perf_counter() - started
        loaded = conn.execute("SELECT count(*) FROM bench_products").fetchone()
        conn.execute("DROP TABLE bench_products")
        conn.commit()
    if loaded is None or loaded[0] != records:
        raise BenchError(f"COPY loaded {loaded} rows, expected {records}")
    csv_path.unlink()
    result = CopyResult(phase.name, records, seconds)
    print(
        f"\n[COPY reference: {phase.name}] {records:,} rows in {seconds:.2f} s "
        f"-> {result.rate:,.0f} records/s",
        flush=True,
    )
    return result


# --- orchestration -------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--products",
        type=int,
        default=200_000,
        metavar="N",
        help="Product records to import, then re-import (0: skip)",
    )
    parser.add_argument(
        "--orders", type=int, default=50_000, metavar="N", help="Order records to import (0: skip)"
    )
    parser.add_argument(
        "--payload-mb",
        type=float,
        default=0,
        metavar="M",
        help="Also import one products payload of about M MB (its record count "
        "follows from the size; 250 is the API's limit); 0: skip",
    )
    backend = parser.add_mutually_exclusive_group()
    backend.add_argument(
        "--database-url",
        metavar="URL",
        help="PostgreSQL database to use (SQLAlchemy form, "
        "postgresql+psycopg://...); default: a fresh rh_bench_* database "
        f"on {PG_SERVER}, dropped at the end",
    )
    backend.add_argument(
        "--sqlite", action="store_true", help="Run on a fresh SQLite data dir (no COPY reference)"
    )
    parser.add_argument("--port", type=int, default=8765, help="Port of the server")
    args = parser.parse_args(argv)
    if min(args.products, args.orders, args.payload_mb) < 0:
        parser.error("sizes cannot be negative")
    if args.database_url and not args.database_url.startswith("postgresql"):
        parser.error("--database-url must be a PostgreSQL URL (use --sqlite for SQLite)")
    if not (args.products or args.orders or args.payload_mb):
        parser.error("nothing to do: --products, --orders and --payload-mb are all 0")
    return args


def code_version() -> str:
    """The commit the server runs, flagged when ``src`` has uncommitted changes."""
    try:
        git = ["git", "-C", str(ROOT)]
        head = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--", "src"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head} (uncommitted changes in src/)" if dirty else head


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _sqlalchemy(url: str) -> str:
    if url.startswith("postgresql://"):
        return url.replace("postgresql://", "postgresql+psycopg://", 1)
    return url


def build_phases(args: argparse.Namespace, work: Path) -> list[Phase]:
    rng = random.Random(SEED)
    phases: list[Phase] = []
    started = time.perf_counter()
    if args.products:
        path = work / "products.json"
        count, size = write_json_array(path, product_records(args.products, rng))
        phases.append(Phase("products", "Product", path, count, size))
    if args.orders:
        path = work / "orders.json"
        count, size = write_json_array(path, order_records(args.orders, args.products, rng))
        phases.append(Phase("orders", "Order", path, count, size))
    if args.products:
        first = phases[0]
        phases.append(Phase("products re-import", "Product", first.path, first.records, first.size))
    if args.payload_mb:
        path = work / "payload.json"
        records = product_records(None, rng, prefix="BIG")
        count, size = write_json_array(path, records, max_bytes=int(args.payload_mb * MB))
        phases.append(
            Phase(f"products {args.payload_mb:g} MB payload", "Product", path, count, size)
        )
    for phase in phases:
        if "re-import" not in phase.name:
            print(
                f"generated {phase.path.name}: {phase.records:,} records, "
                f"{phase.size:,} bytes ({phase.size / MB:,.1f} MB)"
            )
    print(f"payloads generated in {time.perf_counter() - started:.1f} s")
    return phases


def run(args: argparse.Namespace, work: Path, database_url: str | None) -> None:
    phases = build_phases(args, work)
    backend = "sqlite" if database_url is None else "postgresql"
    backend += f", code {code_version()}"
    server = Server(work, database_url, port=args.port, api_only=False)
    copies: list[tuple[Phase, CopyResult]] = []
    hwm_kb: int | None = None
    baseline_kb = 0
    try:
        server.start()
        print(f"\nserver pid {server.pid} on {server.base_url} ({backend})")
        creds = server.credentials()
        client_id, client_secret = creds["data_client_id"], creds["data_client_secret"]
        timeout = httpx.Timeout(1800, connect=10)
        with httpx.Client(base_url=server.base_url, timeout=timeout) as client:
            baseline_kb = read_status_kb(server.pid, "VmRSS") or 0
            print(f"server RSS baseline (before the first POST): {baseline_kb / 1024:,.0f} MB")
            for phase in phases:
                token = get_token(client, client_id, client_secret)  # fresh: 1 h lifetime
                run_phase(client, server, token, phase)
        hwm_kb = read_status_kb(server.pid, "VmHWM")
        if database_url is not None:
            conninfo = _libpq(database_url)
            for phase in phases:
                if phase.entity == "Product" and "re-import" not in phase.name:
                    copies.append((phase, copy_reference(conninfo, phase, work / "copy.csv")))
    finally:
        code = server.stop()
        if code is not None:
            print(f"\nserver stopped (exit code {code})")
    wrong = report(backend, phases, copies, baseline_kb, hwm_kb, server)
    if wrong:
        raise BenchError(f"{wrong} import(s) did not end as expected (the lines marked !!)")


def report(
    backend: str,
    phases: list[Phase],
    copies: list[tuple[Phase, CopyResult]],
    baseline_kb: int,
    hwm_kb: int | None,
    server: Server,
) -> int:
    """Print the figures; returns how many imports did not end as expected."""
    print(f"\n===== summary ({backend}) =====")
    wrong = 0
    for p in phases:
        c = p.counts
        outcome = (
            f"inserted {c['inserted']:,}, updated {c['updated']:,}, "
            f"unchanged {c['unchanged']:,}, rejected {c['rejected']:,}"
        )
        print(
            f"{p.name}: {p.records:,} records ({p.size / MB:,.1f} MB), accepted in "
            f"{p.accept_s:.1f} s, imported in {p.wall_s:.1f} s (server {p.server_s:.1f} s) "
            f"-> {p.rate:,.0f} records/s [{p.status}: {outcome}]"
        )
        if "re-import" in p.name and c.get("unchanged") != p.records:
            print(f"  !! re-import: expected {p.records:,} unchanged, got {c.get('unchanged')}")
            wrong += 1
        elif "re-import" not in p.name and c.get("inserted") != p.records:
            print(f"  !! expected {p.records:,} inserted, got {c.get('inserted')}")
            wrong += 1
    for phase, copy in copies:
        print(
            f"COPY reference ({phase.name}): {copy.records:,} records in {copy.seconds:.1f} s "
            f"-> {copy.rate:,.0f} records/s; API/COPY time ratio "
            f"{phase.wall_s / copy.seconds:.1f}x end to end, "
            f"{phase.server_s / copy.seconds:.1f}x server import only"
        )
    peak_kb = max([p.rss_peak_kb for p in phases] + [hwm_kb or 0])
    print(
        f"server RSS: baseline {baseline_kb / 1024:,.0f} MB, peak {peak_kb / 1024:,.0f} MB, "
        f"growth {(peak_kb - baseline_kb) / 1024:,.0f} MB "
        f"(VmHWM {(hwm_kb or 0) / 1024:,.0f} MB)"
    )
    tree_kb = max(p.tree_peak_kb for p in phases) if phases else 0
    print(f"server + checker processes RSS peak: {tree_kb / 1024:,.0f} MB")
    for p in phases:
        print(
            f"  {p.name}: peak {p.rss_peak_kb / 1024:,.0f} MB, "
            f"+{(p.rss_peak_kb - p.rss_start_kb) / 1024:,.0f} MB over the phase's start, "
            f"+{(p.rss_peak_kb - baseline_kb) / 1024:,.0f} MB over baseline"
        )
    problems = server.problems()
    print(f"server log: {len(problems)} warning/error line(s)")
    for line in problems[:10]:
        print(f"  {line}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"host: {os.cpu_count()} CPUs, load average {load} (1/5/15 min) at the end")
    return wrong


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    dbname: str | None = None
    admin = f"{PG_SERVER}/postgres"
    try:
        with tempfile.TemporaryDirectory(prefix="rh-bench-") as tmp:
            database_url: str | None = None
            if args.database_url:
                database_url = _sqlalchemy(args.database_url)
            elif not args.sqlite:
                dbname = f"rh_bench_{secrets.token_hex(4)}"
                with psycopg.connect(admin, autocommit=True) as conn:
                    conn.execute(f"CREATE DATABASE {dbname}")
                database_url = f"{_sqlalchemy(PG_SERVER)}/{dbname}"
                print(f"created database {dbname}")
            run(args, Path(tmp), database_url)
    except BenchError as exc:
        print(f"\nbenchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if dbname is not None:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
            print(f"dropped database {dbname}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
