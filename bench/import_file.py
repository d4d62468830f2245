"""Benchmark of the file import (``retailhub import``), against PostgreSQL's ``\\copy``.

Generates a Listrak product feed with every column of the product file specification
(``Listrak_Product_Feed_*.csv``, cached by rows and seed), loads it with ``psql \\copy`` into
an equivalent typed table as the reference, then imports it with the command line into an
empty tenant, and again with ``--force`` (every row ``unchanged``), timing the whole command
and sampling the memory of its process tree (the command and its checker processes). The
same on the embedded SQLite, and an ``.xlsx`` feed on PostgreSQL.

    .venv/bin/python bench/import_file.py                        # 1,000,000 rows
    .venv/bin/python bench/import_file.py --rows 20000 --xlsx-rows 5000
    .venv/bin/python bench/import_file.py --skip-sqlite --skip-xlsx --keep

Sizes are in MB of 1,048,576 bytes.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import psycopg
from import_api import (
    ADJECTIVES,
    BRANDS,
    CATEGORIES,
    COLORS,
    EPOCH,
    MB,
    NOUNS,
    RssSampler,
    _iso_z,
    code_version,
)
from serverproc import BenchError

ROOT = Path(__file__).resolve().parents[1]
RETAILHUB = ROOT / ".venv" / "bin" / "retailhub"
ADMIN_URL = "postgresql://root@127.0.0.1:5432/postgres"
SEED = 20240601
# Part of the cached files' names: bump it when the generated content changes.
GENERATOR = 1
WRITE_CHUNK = 10_000  # rows per csv writerows() call
SAMPLE_SECONDS = 0.05
TENANT = "bench"
XLSX_TENANT = "bench-xlsx"

# --- the product file: its columns, and the typed table COPY loads them into ---------------

RELATED = range(1, 26)
# (column, PostgreSQL type), in the order of Listrak's product schema specification.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("sku", "varchar(100)"),
    ("title", "varchar(500)"),
    ("description", "varchar(4000)"),
    ("price", "numeric(18,4)"),
    ("saleprice", "numeric(18,4)"),
    ("salestartdate", "timestamptz"),
    ("saleenddate", "timestamptz"),
    ("onsale", "boolean"),
    ("imageurl", "varchar(500)"),
    ("linkurl", "varchar(500)"),
    ("brand", "varchar(50)"),
    ("category", "varchar(50)"),
    ("subcategory", "varchar(50)"),
    ("mastersku", "varchar(100)"),
    ("qoh", "integer"),
    ("instock", "boolean"),
    ("discontinued", "boolean"),
    ("ispurchasable", "boolean"),
    ("isclearance", "boolean"),
    ("isoutlet", "boolean"),
    ("color", "varchar(100)"),
    ("style", "varchar(100)"),
    ("size", "varchar(50)"),
    ("gender", "varchar(1)"),
    ("msrp", "numeric(18,4)"),
    ("unitcost", "numeric(18,4)"),
    ("reviewproductid", "varchar(100)"),
    ("reviewurl", "varchar(500)"),
    *((f"meta{n}", "varchar(500)") for n in range(1, 6)),
    *((f"related_sku{n}", "varchar(100)") for n in RELATED),
    *((f"related_type{n}", "varchar(100)") for n in RELATED),
    *((f"related_rank{n}", "integer") for n in RELATED),
)
HEADER = [name for name, _ in COLUMNS]
# How an .xlsx feed stores the typed columns: numbers and booleans as such, the rest as text
# (sale dates too: an Excel date cell has no zone, and the import would read it as US Eastern).
XLSX_NUMBERS = frozenset(
    i for i, (_, kind) in enumerate(COLUMNS) if kind.startswith(("numeric", "integer"))
)
XLSX_BOOLEANS = frozenset(i for i, (_, kind) in enumerate(COLUMNS) if kind == "boolean")

# --- data generation -----------------------------------------------------------------------

SIZES = {
    "Apparel": ("Extra Small", "Small", "Medium", "Large", "X-Large", "XX-Large"),
    "Footwear": ("6", "6.5", "7", "7.5", "8", "8.5", "9", "9.5", "10", "10.5", "11", "12"),
    "Home": ("Twin", "Full", "Queen", "King", "One Size"),
    "Accessories": ("One Size", "Small/Medium", "Large/X-Large"),
    "Outdoor": ("One Size", "Regular", "Long"),
}
MULTICOLORS = ("Blue/Green/Red", "Black/White", "Navy/Sand", "Olive/Rust")
GENDER_WORDS = {"F": "Women's", "M": "Men's", "N": "Unisex"}
MATERIALS = (
    "100% organic cotton", "a cotton/polyester blend", "merino wool", "recycled nylon",
    "full-grain leather", "washed linen", "ripstop polyester",
)  # fmt: skip
RELATION_TYPES = ("Cross-sell", "Similar", "Accessory", "Up-sell")
TAGS = ("new-arrival", "bestseller", "online-only", "gift-idea", "eco", "staff-pick")
# Sentences of the descriptions: commas, quotes (inches, a quoted fit name), semicolons.
SENTENCES = (
    "By the water or anywhere in the sun, enjoy the outdoors in this comfortable, "
    "lightweight {noun}.",
    "Made of {material}, it keeps its shape wash after wash.",
    'Our "{adj}" fit sits close to the body without feeling tight.',
    "Pairs easily with denim, chinos or shorts; layer it under a jacket when the weather turns.",
    "Reinforced seams, a tagless label and a brushed interior keep it comfortable all day.",
    "Machine wash cold, tumble dry low; do not bleach.",
    "Model is 5'10\" and wears a size Medium.",
    'Measures 12" x 9" x 4", and folds flat for travel.',
    "A water-resistant finish sheds light rain, so you can stay out longer.",
    "Recycled materials, from the thread to the trims, reduce its footprint.",
    "Backed by our lifetime guarantee: if it ever fails, we'll repair or replace it.",
    "An interior pocket holds keys, cards and a phone.",
    "Designed in Portland, Oregon, and imported.",
)


@cache
def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def _description(rng: random.Random, noun: str, adj: str) -> str:
    target = rng.randint(200, 400)
    material = rng.choice(MATERIALS)
    parts: list[str] = []
    size = -1
    for sentence in rng.sample(SENTENCES, len(SENTENCES)):
        parts.append(sentence.format(noun=noun.lower(), material=material, adj=adj))
        size += len(parts[-1]) + 1
        if size >= target:
            break
    return " ".join(parts)


def feed_rows(count: int, seed: int) -> Iterator[list[str]]:
    """Rows of a product feed, as the file's cells (one per ``HEADER`` column). Products come
    in groups of 1-8 variants of one master (sharing title, description, brand...), differing
    by color and size. Every row is valid by the product rules, and none draws a warning:
    a product gives either sale dates or ``onsale``, never both."""
    rng = random.Random(seed)
    recent = ["GIFTBOX-01", "CARE-KIT-01"]  # skus to relate to: the last ones generated
    gap = [""] * (len(RELATED) - 2)  # related products 3..25
    variants = 0
    master = 1_000_000
    m: dict[str, Any] = {}
    for i in range(count):
        if variants == 0:
            variants = rng.randint(1, 8)
            master += rng.randint(1, 9)
            category = rng.choice(tuple(CATEGORIES))
            gender = rng.choice(("F", "M", "N"))
            noun, adj = rng.choice(NOUNS), rng.choice(ADJECTIVES)
            meta = rng.sample(TAGS, rng.randint(1, 3))
            m = {
                "brand": rng.choice(BRANDS),
                "category": category,
                "subcategory": rng.choice(CATEGORIES[category]),
                "gender": gender,
                "noun": noun,
                "adj": adj,
                "style": rng.choice(ADJECTIVES),
                "title": rng.randrange(3),
                "description": _description(rng, noun, adj),
                "price": round(rng.uniform(8, 480), 2),
                "sale": rng.random(),
                "review": str(40_000 + master % 100_000),
                "meta": (
                    ",".join(meta),
                    f"season:{rng.choice(('SS', 'FW'))}{rng.randint(22, 25)}",
                    rng.choice(MATERIALS),
                    f"collection:{_slug(rng.choice(BRANDS))}",
                    rng.choice(("", "fit:relaxed", "fit:slim")),
                ),
            }
        variants -= 1
        color = rng.choice(MULTICOLORS) if rng.random() < 0.05 else rng.choice(COLORS)
        size = rng.choice(SIZES[m["category"]])
        sku = f"{master}-{_slug(color)}-{variants + 1}"
        gword, noun, adj = GENDER_WORDS[m["gender"]], m["noun"], m["adj"]
        if m["title"] == 0:
            title = f"{m['brand']} {gword} {adj} {noun} - {color} / {size}"
        elif m["title"] == 1:
            title = f'{gword} {noun}, "{adj}" Fit - {color}, {size}'
        else:
            title = f"{adj} {noun}, {color}"
        price = m["price"]
        sale, sale_price, start, end, onsale = m["sale"], "", "", "", ""
        if sale < 0.35:  # a sale window
            sale_price = f"{price * rng.uniform(0.5, 0.9):.2f}"
            begins = EPOCH + timedelta(days=rng.randint(0, 330), hours=rng.randint(0, 23))
            start = _iso_z(begins)
            end = _iso_z(begins + timedelta(days=rng.randint(3, 30)))
        elif sale < 0.45:  # on sale now, no dates
            sale_price, onsale = f"{price * rng.uniform(0.5, 0.9):.2f}", "true"
        elif sale < 0.85:
            onsale = "false"
        qoh = 0 if rng.random() < 0.1 else rng.randint(1, 500)
        discontinued = rng.random() < 0.02
        first, second = rng.randrange(len(recent)), rng.randrange(len(recent) - 1)
        related = (recent[first], recent[second + (second >= first)])
        recent.append(sku)
        if len(recent) > 2000:
            recent[i % 2000] = recent.pop()
        yield [
            sku,
            title,
            m["description"],
            f"{price:.2f}",
            sale_price,
            start,
            end,
            onsale,
            f"https://cdn.example-shop.com/images/{sku}.jpg",
            f"https://www.example-shop.com/{_slug(m['category'])}/{_slug(adj + ' ' + noun)}"
            f"-{master}.html?color={color.replace(' ', '%20')}",
            m["brand"],
            m["category"],
            m["subcategory"],
            str(master),
            str(qoh),
            "true" if qoh else "false",
            "true" if discontinued else "false",
            "false" if discontinued else "true",
            "true" if rng.random() < 0.05 else "false",
            "true" if rng.random() < 0.03 else "false",
            color,
            m["style"],
            size,
            m["gender"],
            f"{price * rng.uniform(1.0, 1.3):.2f}",
            f"{price * rng.uniform(0.25, 0.6):.2f}",
            m["review"],
            f"https://reviews.example-reviews.com/?reviewproductid={m['review']}",
            *m["meta"],
            related[0],
            related[1],
            *gap,
            rng.choice(RELATION_TYPES),
            rng.choice(RELATION_TYPES),
            *gap,
            "1",
            "2",
            *gap,
        ]


def cached_file(directory: Path, rows: int, seed: int, suffix: str) -> Path:
    """Where a generated feed is kept; its name is one the import recognizes as products."""
    return directory / f"Listrak_Product_Feed_{rows}-{seed}-{GENERATOR}{suffix}"


def write_csv(path: Path, rows: int, seed: int) -> None:
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(HEADER)
        chunk: list[list[str]] = []
        for row in feed_rows(rows, seed):
            chunk.append(row)
            if len(chunk) == WRITE_CHUNK:
                writer.writerows(chunk)
                chunk.clear()
        writer.writerows(chunk)
    os.replace(partial, path)


def write_xlsx(path: Path, rows: int, seed: int) -> None:
    import xlsxwriter  # a development dependency

    partial = path.with_name(path.name + ".partial")
    book = xlsxwriter.Workbook(
        str(partial),
        {"constant_memory": True, "strings_to_urls": False, "strings_to_formulas": False},
    )
    sheet = book.add_worksheet("Products")
    sheet.write_row(0, 0, HEADER)
    for r, row in enumerate(feed_rows(rows, seed), start=1):
        cells: list[Any] = list(row)
        for i in XLSX_NUMBERS:
            if cells[i]:
                cells[i] = float(cells[i]) if "." in cells[i] else int(cells[i])
        for i in XLSX_BOOLEANS:
            if cells[i]:
                cells[i] = cells[i] == "true"
        sheet.write_row(r, 0, cells)
    book.close()
    os.replace(partial, path)


def generate(directory: Path, rows: int, seed: int, suffix: str) -> Path:
    path = cached_file(directory, rows, seed, suffix)
    if path.exists():
        print(f"reusing {path} ({path.stat().st_size / MB:,.1f} MB)", flush=True)
        return path
    directory.mkdir(parents=True, exist_ok=True)
    print(f"generating {path} ...", flush=True)
    started = time.perf_counter()
    (write_xlsx if suffix == ".xlsx" else write_csv)(path, rows, seed)
    print(
        f"  {rows:,} rows, {path.stat().st_size / MB:,.1f} MB "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return path


# --- the reference: psql \copy -------------------------------------------------------------


def checkpoint(conninfo: str) -> None:
    """Flush what earlier steps left dirty, so that no step pays for the one before it."""
    try:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("CHECKPOINT")
    except psycopg.errors.InsufficientPrivilege:
        pass


def psql_copy(conninfo: str, path: Path, rows: int) -> float:
    """``\\copy`` the file into a fresh typed table keyed by sku; returns the seconds taken."""
    if "'" in str(path):
        raise BenchError(f"the feed's path cannot hold a quote for \\copy: {path}")
    ddl = ", ".join(f"{name} {kind}" for name, kind in COLUMNS)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE bench_copy_products ({ddl}, PRIMARY KEY (sku))")
    checkpoint(conninfo)
    command = f"\\copy bench_copy_products FROM '{path}' WITH (FORMAT csv, HEADER true)"
    started = time.perf_counter()
    done = subprocess.run(
        ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c", command],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0 or done.stdout.strip() != f"COPY {rows}":
        raise BenchError(f"psql \\copy: exit {done.returncode}: {done.stdout}{done.stderr}")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("DROP TABLE bench_copy_products")
    return seconds


# --- the command line and its memory -------------------------------------------------------


@dataclass
class Run:
    """One ``retailhub import``: wall time, memory, and the JSON summary it printed."""

    label: str
    rows: int
    seconds: float = 0.0
    exit_code: int | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    tree_peak_kb: int = 0  # the command and its checker processes, sampled
    main_peak_kb: int = 0  # the command alone, sampled
    largest_kb: int = 0  # the largest single process of the tree (wait4's ru_maxrss)
    cpu_s: float = 0.0  # user + system time of the command and its checker processes
    problems: list[str] = field(default_factory=list)
    first_issues: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def cli_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETAILHUB_")}
    env["RETAILHUB_DATA_DIR"] = str(data_dir)
    if database_url is not None:
        env["RETAILHUB_DATABASE_URL"] = database_url
    return env


def create_tenant(slug: str, env: dict[str, str], cwd: Path) -> None:
    done = subprocess.run(
        [str(RETAILHUB), "tenants", "create", slug, "--json"],
        env=env, cwd=cwd, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise BenchError(f"tenants create {slug}: exit {done.returncode}:\n{done.stderr}")
    json.loads(done.stdout)  # its credentials: not needed here


def run_import(
    result: Run, path: Path, slug: str, env: dict[str, str], logs: Path, *, force: bool = False
) -> Run:
    """Run ``retailhub import`` to its end, sampling the memory of its process tree."""
    command = [str(RETAILHUB), "import", str(path), "--tenant", slug]
    if force:
        command.append("--force")
    name = _slug(result.label)
    out_path, err_path = logs / f"{name}.stdout", logs / f"{name}.stderr"
    print(f"\n[{result.label}] {' '.join(command[1:])}", flush=True)
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, env=env, cwd=logs, stdout=out, stderr=err)
        with RssSampler(proc.pid, SAMPLE_SECONDS) as rss:
            _, status, usage = os.wait4(proc.pid, 0)
            result.seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    result.exit_code = proc.returncode
    result.tree_peak_kb, result.main_peak_kb = rss.tree_peak_kb, rss.peak_kb
    result.largest_kb = usage.ru_maxrss
    result.cpu_s = usage.ru_utime + usage.ru_stime
    lines = out_path.read_text(errors="replace").splitlines()
    summaries = [line for line in lines if line.startswith("{")]
    if summaries:
        result.summary = json.loads(summaries[-1])
    else:
        tail = "\n".join(err_path.read_text(errors="replace").splitlines()[-30:])
        result.problems.append(f"no JSON summary (exit {result.exit_code}); stderr:\n{tail}")
    s = result.summary
    if s:
        print(
            f"  {s.get('status')}: inserted {s.get('inserted', 0):,}, "
            f"updated {s.get('updated', 0):,}, unchanged {s.get('unchanged', 0):,}, "
            f"rejected {s.get('rejected', 0):,}, warnings {s.get('warnings', 0):,}; "
            f"job {s.get('seconds', 0):.1f} s"
        )
    tree, main, largest = result.tree_peak_kb, result.main_peak_kb, result.largest_kb
    print(
        f"  exit {result.exit_code}, {result.seconds:.1f} s -> {result.rate:,.0f} rows/s "
        f"(CPU {result.cpu_s:.1f} s, checkers included); "
        f"peak RSS {tree / 1024:,.0f} MB with checkers (command alone {main / 1024:,.0f} MB, "
        f"largest process {largest / 1024:,.0f} MB)",
        flush=True,
    )
    # The command prints the first rejected rows on stderr, before the summary.
    result.first_issues = [
        line for line in err_path.read_text(errors="replace").splitlines() if line[:5] == "line "
    ]
    return result


def expect(result: Run, **counts: int) -> None:
    """The run's exit status is 0 and its summary has these counts; else a problem."""
    if not result.summary:
        return
    if result.exit_code != 0:
        result.problems.append(f"exit status {result.exit_code} ({result.summary.get('status')})")
    for key, wanted in counts.items():
        if result.summary.get(key) != wanted:
            result.problems.append(f"{key} {result.summary.get(key)}, expected {wanted:,}")
    if result.problems:
        issues = (result.summary.get("message"), result.summary.get("report"))
        result.problems += [f"{x}" for x in issues if x] + result.first_issues[:5]


def import_twice(
    label: str, path: Path, rows: int, env: dict[str, str], logs: Path
) -> tuple[Run, Run]:
    """(b) into an empty tenant, (c) the same file again with --force: all unchanged."""
    first = run_import(Run(f"{label} import", rows), path, TENANT, env, logs)
    expect(first, inserted=rows, rejected=0)
    again = run_import(Run(f"{label} again", rows), path, TENANT, env, logs, force=True)
    expect(again, unchanged=rows, rejected=0)
    return first, again


# --- orchestration -------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="Rows of the CSV feed")
    parser.add_argument("--seed", type=int, default=SEED, help="Seed of the generated data")
    parser.add_argument(
        "--xlsx-rows", type=int, default=100_000, metavar="N", help="Rows of the XLSX feed"
    )
    parser.add_argument("--skip-sqlite", action="store_true", help="No SQLite imports")
    parser.add_argument("--skip-xlsx", action="store_true", help="No XLSX import")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="Keep the run's directory (data dirs, command output) and its database",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()),
        help="Where the generated feeds are cached (rh-bench-files/) and each run's "
        "directory is made",
    )
    parser.add_argument(
        "--admin-url",
        default=ADMIN_URL,
        help="PostgreSQL server (libpq URL) where a fresh database is made for the run",
    )
    args = parser.parse_args(argv)
    if args.rows < 1 or args.xlsx_rows < 1:
        parser.error("--rows and --xlsx-rows must be at least 1")
    return args


def database_urls(admin_url: str, dbname: str) -> tuple[str, str]:
    """The libpq and SQLAlchemy URLs of database ``dbname`` on the admin URL's server."""
    base = admin_url.rsplit("/", 1)[0]
    return (
        f"{base}/{dbname}",
        f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{dbname}",
    )


def server_facts(conninfo: str) -> str:
    with psycopg.connect(conninfo) as conn:
        facts = [
            f"{name} {conn.execute(f'SHOW {name}').fetchone()[0]}"  # type: ignore[index]
            for name in ("server_version", "shared_buffers", "synchronous_commit", "max_wal_size")
        ]
    return ", ".join(facts)


@dataclass
class Results:
    rows: int
    size: int
    copy_s: float = 0.0
    runs: list[Run] = field(default_factory=list)
    xlsx_rows: int = 0
    xlsx_size: int = 0


def run_all(args: argparse.Namespace, work: Path, conninfo: str, url: str) -> Results:
    cache = args.workdir / "rh-bench-files"
    feed = generate(cache, args.rows, args.seed, ".csv")
    xlsx = None if args.skip_xlsx else generate(cache, args.xlsx_rows, args.seed, ".xlsx")
    results = Results(args.rows, feed.stat().st_size)
    print(f"\nPostgreSQL: {server_facts(conninfo)}")

    print(f"\n[(a) psql \\copy] {args.rows:,} rows into a typed table keyed by sku", flush=True)
    results.copy_s = psql_copy(conninfo, feed, args.rows)
    print(f"  {results.copy_s:.1f} s -> {args.rows / results.copy_s:,.0f} rows/s", flush=True)

    logs = work / "logs"
    logs.mkdir()
    env = cli_env(work / "pg-data", url)
    create_tenant(TENANT, env, logs)
    checkpoint(conninfo)
    first, again = import_twice("PG", feed, args.rows, env, logs)
    results.runs += [first, again]
    if xlsx is not None:
        create_tenant(XLSX_TENANT, env, logs)
        checkpoint(conninfo)
        book = run_import(Run("PG xlsx", args.xlsx_rows), xlsx, XLSX_TENANT, env, logs)
        expect(book, inserted=args.xlsx_rows, rejected=0)
        results.runs.append(book)
        results.xlsx_rows, results.xlsx_size = args.xlsx_rows, xlsx.stat().st_size
    if not args.skip_sqlite:
        env = cli_env(work / "sqlite-data", None)
        create_tenant(TENANT, env, logs)
        results.runs += import_twice("SQLite", feed, args.rows, env, logs)
    return results


def report(results: Results, version: str) -> int:
    """The table of figures; returns the number of runs with problems."""
    copy_s = results.copy_s
    print(f"\n===== summary (code {version}) =====")
    print(f"rows: {results.rows:,}  file: {results.size / MB:,.0f} MB")
    print(f"(a) psql \\copy          : {copy_s:6.1f} s  {results.rows / copy_s:9,.0f} rows/s")
    names = {
        "PG import": "(b) retailhub import PG",
        "PG again": "(c) again (unchanged)",
        "PG xlsx": f"XLSX {results.xlsx_rows:,} rows PG",
        "SQLite import": "SQLite (b) import",
        "SQLite again": "SQLite (c) again",
    }
    failed = 0
    for r in results.runs:
        name = names[r.label].ljust(24)
        ratio = " " * 9
        if r.rows == results.rows:
            ratio = f"{'c' if r.label.endswith('again') else 'b'}/a {r.seconds / copy_s:5.2f}"
        job = r.summary.get("seconds")
        print(
            f"{name}: {r.seconds:6.1f} s  {r.rate:9,.0f} rows/s  {ratio}  "
            f"peak {r.tree_peak_kb / 1024:5,.0f} MB  "
            + (f"(job {job:.1f} s, " if job is not None else "(")
            + f"CPU {r.cpu_s:.0f} s)"
        )
        if r.problems:
            failed += 1
            for problem in r.problems:
                print(f"    !! {problem}")
    if results.xlsx_rows:
        print(f"XLSX file: {results.xlsx_size / MB:,.1f} MB")
    print(
        "peak: RSS of the command and its checker processes, sampled every "
        f"{SAMPLE_SECONDS * 1000:.0f} ms; job: the import's startedAt -> finishedAt; "
        "CPU: user + system of the command and its checkers (PostgreSQL not included)"
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"host: {os.cpu_count()} CPUs, load average {load} (1/5/15 min) at the end")
    return failed


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("psql") is None:
        print("psql is not on PATH: it is the reference (\\copy)", file=sys.stderr)
        return 1
    args.workdir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="rh-bench-file-", dir=args.workdir))
    dbname = f"rh_bench_file_{secrets.token_hex(4)}"
    conninfo, url = database_urls(args.admin_url, dbname)
    created = False
    version = code_version()  # before the run: others may commit meanwhile
    try:
        with psycopg.connect(args.admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {dbname}")
        created = True
        print(f"created database {dbname}; run directory {work}")
        results = run_all(args, work, conninfo, url)
    except BenchError as exc:
        print(f"\nbenchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"\nkept {work}" + (f" and database {dbname}" if created else ""))
        else:
            shutil.rmtree(work, ignore_errors=True)
            if created:
                with psycopg.connect(args.admin_url, autocommit=True) as conn:
                    conn.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
                print(f"\ndropped database {dbname}")
    return 1 if report(results, version) else 0


if __name__ == "__main__":
    sys.exit(main())
