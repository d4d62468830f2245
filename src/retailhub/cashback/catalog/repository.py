"""Every catalog read. Publisher reads see active stores only; rows come back as plain dicts
(cacheable, and rendered per publisher by ``views``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from retailhub.cashback.catalog.regions import GLOBAL
from retailhub.cashback.pages import PageRequest
from retailhub.kit.sql import is_pg
from retailhub.models import (
    CashbackCategory,
    CashbackDeal,
    CashbackStore,
    CashbackStoreCategory,
    CashbackStoreCountry,
    CashbackStoreLogo,
    CashbackStoreTag,
)

S = CashbackStore
_LOGO = CashbackStoreLogo.store_id.is_not(None).label("has_logo")
_FULL = [
    S.id,
    S.name,
    S.url,
    S.seo_friendly_id,
    S.language,
    S.description,
    S.commission_value,
    S.commission_format,
    S.commission_details,
    S.home,
    S.countries,
    S.tags,
    S.store_terms,
    S.general_terms,
    S.specific_terms,
    S.address,
    S.alternative_content,
    S.active,
    S.created_at,
    S.updated_at,
]
_SUMMARY = [
    S.id,
    S.name,
    S.url,
    S.commission_value,
    S.commission_format,
    S.description,
    S.language,
    S.countries,
]


@dataclass(frozen=True)
class StoreFilter:
    """The publisher's store filters, already checked and normalized (hashable: a cache key)."""

    name: str | None = None
    categories: tuple[str, ...] = ()
    ids: tuple[int, ...] = ()
    # None: any home.
    home: frozenset[str] | None = None
    countries: tuple[str, ...] = ()
    has_address: bool | None = None
    tags: tuple[str, ...] = ()
    # "asc", "desc" or None (by id).
    sort: str | None = None


@dataclass(frozen=True)
class DealFilter:
    store_ids: tuple[int, ...] = ()
    deal_type: str | None = None
    # Deals whose validity overlaps [start, end) (open ends where None).
    start: datetime | None = None
    end: datetime | None = None


def _contains(term: str) -> str:
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _serves(country: str) -> ColumnElement[bool]:
    return exists().where(
        CashbackStoreCountry.store_id == S.id, CashbackStoreCountry.country == country
    )


def countries_condition(countries: tuple[str, ...]) -> ColumnElement[bool] | None:
    """Countries narrow (a store serves every one of them); GLOBAL among them widens: GLOBAL
    stores, or stores serving every other given country."""
    named = [c for c in countries if c != GLOBAL]
    every = and_(*[_serves(c) for c in named]) if named else None
    if GLOBAL not in countries:
        return every
    return _serves(GLOBAL) if every is None else or_(_serves(GLOBAL), every)


def _has_address(session: Session) -> ColumnElement[bool]:
    # A store without an address holds JSON null, not SQL NULL.
    kind = func.jsonb_typeof(S.address) if is_pg(session) else func.json_type(S.address)
    return and_(S.address.is_not(None), kind == "object")


def _conditions(session: Session, f: StoreFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [S.active.is_(True)]
    if f.name:
        keyword = _contains(f.name)
        where.append(
            or_(S.name_key.like(keyword, escape="\\"), S.search_text.like(keyword, escape="\\"))
        )
    if f.ids:
        where.append(S.id.in_(f.ids))
    if f.home is not None:
        where.append(S.home.in_(sorted(f.home)) if f.home else false())
    if f.categories:
        where.append(
            exists()
            .where(CashbackStoreCategory.store_id == S.id)
            .where(CashbackStoreCategory.category_id == CashbackCategory.id)
            .where(CashbackCategory.seo_friendly_id.in_(f.categories))
        )
    served = countries_condition(f.countries)
    if served is not None:
        where.append(served)
    if f.has_address is not None:
        where.append(_has_address(session) if f.has_address else ~_has_address(session))
    for tag in f.tags:
        where.append(exists().where(CashbackStoreTag.store_id == S.id, CashbackStoreTag.tag == tag))
    return where


def _with_logo(*columns: Any) -> Any:
    return select(*columns, _LOGO).outerjoin(CashbackStoreLogo, CashbackStoreLogo.store_id == S.id)


def _categories(session: Session, ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    if not ids:
        return found
    rows = session.execute(
        select(CashbackStoreCategory.store_id, CashbackCategory.name)
        .join(CashbackCategory, CashbackCategory.id == CashbackStoreCategory.category_id)
        .where(CashbackStoreCategory.store_id.in_(ids))
        .order_by(CashbackCategory.name)
    )
    for store_id, name in rows:
        found.setdefault(store_id, []).append(name)
    return found


def _full_rows(session: Session, query: Any) -> list[dict[str, Any]]:
    rows = [dict(row) for row in session.execute(query).mappings()]
    names = _categories(session, [row["id"] for row in rows])
    for row in rows:
        row["categories"] = names.get(row["id"], [])
    return rows


def find_stores(
    session: Session, f: StoreFilter, page: PageRequest
) -> tuple[list[dict[str, Any]], int]:
    where = _conditions(session, f)
    total = session.scalar(select(func.count()).select_from(S).where(*where)) or 0
    if page.offset >= total:
        return [], total
    order = {"asc": (S.name, S.id), "desc": (S.name.desc(), S.id.desc())}.get(f.sort or "", (S.id,))
    query = _with_logo(*_FULL).where(*where).order_by(*order)
    return _full_rows(session, query.offset(page.offset).limit(page.size)), total


def get_store(session: Session, store_id: int, *, active_only: bool) -> dict[str, Any] | None:
    query = _with_logo(*_FULL).where(S.id == store_id)
    if active_only:
        query = query.where(S.active.is_(True))
    rows = _full_rows(session, query)
    return rows[0] if rows else None


def list_stores(session: Session, page: PageRequest) -> tuple[list[dict[str, Any]], int]:
    """The operator's list: every store, removed ones included, by id."""
    total = session.scalar(select(func.count()).select_from(S)) or 0
    query = _with_logo(*_FULL).order_by(S.id).offset(page.offset).limit(page.size)
    return _full_rows(session, query), total


def search_stores(
    session: Session, term: str, countries: tuple[str, ...], page: PageRequest
) -> list[dict[str, Any]]:
    """Stores whose name or description contains ``term``, best first: the name equal to
    it, then starting with it, then containing it, then the description only; ties by the
    lower-cased name (byte order), then id.

    One query of four parts, one per rank, each taking only the rows the page can need in
    that order: a part whose matches are many walks the name index and stops early; one
    whose matches are few is found by the indexes on the lower-cased name (btree for equal
    and prefix, trigram for substring) or the trigram index of the search text — whichever
    the planner estimates cheaper — so no request sorts thousands of matches."""
    if is_pg(session):
        # The best plan of each part depends on how often the term occurs; a generic plan
        # (which psycopg's prepared statements get after a few runs) would pick one plan
        # for every term, and walk the whole catalog for rare ones.
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    key = term.lower()
    equal = S.name_key == key
    prefix = S.name_key.like(_contains(term)[1:], escape="\\")
    inside = S.name_key.like(_contains(term), escape="\\")
    ranks = (
        equal,
        and_(prefix, ~equal),
        and_(inside, ~prefix),
        and_(S.search_text.like(_contains(term), escape="\\"), ~inside),
    )
    served = countries_condition(countries)
    wanted = page.offset + page.size
    parts = []
    for rank, condition in enumerate(ranks):
        part = select(S.id, S.name_key, literal(rank).label("rank")).where(
            S.active.is_(True), condition
        )
        if served is not None:
            part = part.where(served)
        inner = part.order_by(S.name_key, S.id).limit(wanted).subquery()
        parts.append(select(inner.c.id, inner.c.name_key, inner.c.rank))
    best = union_all(*parts).subquery()
    chosen = (
        select(best.c.id, best.c.rank)
        .order_by(best.c.rank, best.c.name_key, best.c.id)
        .offset(page.offset)
        .limit(page.size)
    )
    return store_summaries(session, [row.id for row in session.execute(chosen)])


def searchable_stores(session: Session) -> list[dict[str, Any]]:
    """Every active store's search row, with its lower-cased name and description (the
    in-memory search index, ``search``)."""
    query = _with_logo(*_SUMMARY, S.name_key, S.search_text).where(S.active.is_(True))
    return [dict(row) for row in session.execute(query).mappings()]


def catalog_version(session: Session) -> tuple[Any, ...]:
    """Changes whenever a store or a logo is written (stores are never deleted, only made
    inactive; a logo is replaced or deleted)."""
    stores = select(func.count(), func.max(S.updated_at)).select_from(S)
    logos = select(func.count(), func.max(CashbackStoreLogo.updated_at))
    return (*session.execute(stores).one(), *session.execute(logos).one())


def store_summaries(session: Session, ids: list[int]) -> list[dict[str, Any]]:
    """The search's rows of the stores ``ids``, in that order."""
    if not ids:
        return []
    order = {store_id: n for n, store_id in enumerate(ids)}
    rows = session.execute(_with_logo(*_SUMMARY).where(S.id.in_(ids))).mappings()
    return sorted((dict(row) for row in rows), key=lambda row: order[row["id"]])


def list_categories(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        select(
            CashbackCategory.id, CashbackCategory.name, CashbackCategory.seo_friendly_id
        ).order_by(CashbackCategory.name)
    ).mappings()
    return [dict(row) for row in rows]


def get_logo(session: Session, store_id: int) -> CashbackStoreLogo | None:
    query = (
        select(CashbackStoreLogo)
        .join(S, S.id == CashbackStoreLogo.store_id)
        .where(CashbackStoreLogo.store_id == store_id, S.active.is_(True))
    )
    return session.scalar(query)


_DEAL = [
    CashbackDeal.id,
    CashbackDeal.store_id,
    S.name.label("store_name"),
    CashbackDeal.title,
    CashbackDeal.description,
    CashbackDeal.deal_type,
    CashbackDeal.coupon_code,
    CashbackDeal.start_date,
    CashbackDeal.end_date,
    CashbackDeal.updated_at,
]


def _deal_conditions(f: DealFilter, *, active_only: bool) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if active_only:
        where.append(S.active.is_(True))
    if f.store_ids:
        where.append(CashbackDeal.store_id.in_(f.store_ids))
    if f.deal_type:
        where.append(CashbackDeal.deal_type == f.deal_type)
    if f.end is not None:
        where.append(or_(CashbackDeal.start_date.is_(None), CashbackDeal.start_date < f.end))
    if f.start is not None:
        where.append(or_(CashbackDeal.end_date.is_(None), CashbackDeal.end_date >= f.start))
    return where


def find_deals(
    session: Session, f: DealFilter, page: PageRequest, *, active_only: bool = True
) -> tuple[list[dict[str, Any]], int]:
    where = _deal_conditions(f, active_only=active_only)
    joined = select(func.count()).select_from(CashbackDeal).join(S, S.id == CashbackDeal.store_id)
    total = session.scalar(joined.where(*where)) or 0
    if page.offset >= total:
        return [], total
    query = (
        select(*_DEAL)
        .join(S, S.id == CashbackDeal.store_id)
        .where(*where)
        .order_by(CashbackDeal.id)
        .offset(page.offset)
        .limit(page.size)
    )
    return [dict(row) for row in session.execute(query).mappings()], total


def find_deal(session: Session, deal_id: int, *, active_only: bool) -> dict[str, Any] | None:
    query = select(*_DEAL).join(S, S.id == CashbackDeal.store_id).where(CashbackDeal.id == deal_id)
    if active_only:
        query = query.where(S.active.is_(True))
    row = session.execute(query).mappings().first()
    return dict(row) if row else None
