"""Catalog writes: stores, their logos, categories and deals.

Every store write — the operator API's create, replace, patch and remove, and the importer —
goes through :func:`upsert_stores`, which keeps the filter tables (countries, tags,
categories), ``name_key`` and ``search_text`` in step with the store row, writes the store
webhook events in the same transaction and clears this process's catalog cache. Services
flush; the caller commits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from retailhub.cashback.catalog import cache
from retailhub.cashback.catalog.schemas import (
    LOGO_TYPES,
    CategoryIn,
    DealIn,
    StoreIn,
    slugify,
)
from retailhub.errors import Conflict, DomainError, NotFound
from retailhub.kit import clock
from retailhub.kit.sql import is_pg, upsert
from retailhub.models import (
    CashbackCategory,
    CashbackDeal,
    CashbackStore,
    CashbackStoreCategory,
    CashbackStoreCountry,
    CashbackStoreLogo,
    CashbackStoreTag,
)
from retailhub.webhooks import events
from retailhub.webhooks.outbox import emit_to_subscribers

MAX_LOGO_BYTES = 1024 * 1024
_STORES = CashbackStore.__table__
# The columns a write replaces (``created_at`` is kept from the first insert).
_WRITTEN = [c.name for c in _STORES.columns if c.name not in ("id", "created_at")]


# -- validation ---------------------------------------------------------------------------


def problems(exc: ValidationError) -> list[dict[str, str]]:
    """Pydantic's errors as ``{field, rule, message}`` in the document's field names."""
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        out.append(
            {
                "field": ".".join(loc) or "record",
                "rule": str(err.get("type", "invalid")),
                "message": str(err.get("msg", "invalid value")).removeprefix("Value error, "),
            }
        )
    return out


def validate_store(data: Any) -> StoreIn:
    """``data`` as a store, or a 400 naming the first field at fault."""
    try:
        return StoreIn.model_validate(data)
    except ValidationError as exc:
        first = problems(exc)[0]
        raise DomainError(
            f"An invalid value was supplied for {first['field']}: {first['message']}.",
            field=first["field"],
        ) from None


# -- stores -------------------------------------------------------------------------------


@dataclass
class Upserted:
    """What :func:`upsert_stores` did, by store id."""

    inserted: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)


def _search_text(description: str | None) -> str:
    return (description or "").lower()


def _row(record: StoreIn, store_id: int) -> dict[str, Any]:
    dump = record.model_dump(mode="json", by_alias=True)
    return {
        "id": store_id,
        "name": record.name,
        "url": record.url,
        "seo_friendly_id": record.seo_friendly_id or slugify(record.name),
        "language": record.language,
        "description": record.description,
        "commission_value": record.commission.value,
        "commission_format": record.commission.format,
        "commission_details": dump["commissionDetails"],
        "home": record.home,
        "countries": record.countries,
        "tags": record.tags,
        "store_terms": record.store_terms,
        "general_terms": record.general_terms,
        "specific_terms": record.specific_terms,
        "address": dump["address"],
        "alternative_content": dump["alternativeContent"],
        "name_key": record.name.lower(),
        "search_text": _search_text(record.description),
        "active": record.active,
    }


def _existing(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    rows = session.execute(select(_STORES).where(_STORES.c.id.in_(ids))).mappings()
    found = {row["id"]: dict(row) for row in rows}
    for store_id, name in session.execute(
        select(CashbackStoreCategory.store_id, CashbackCategory.name)
        .join(CashbackCategory, CashbackCategory.id == CashbackStoreCategory.category_id)
        .where(CashbackStoreCategory.store_id.in_(ids))
    ):
        found[store_id].setdefault("categories", set()).add(name)
    return found


def _sequence(session: Session) -> str:
    return str(session.scalar(text("SELECT pg_get_serial_sequence('cashback_stores', 'id')")))


def _assign_ids(session: Session, records: Sequence[StoreIn]) -> list[int]:
    """Each record's id: its own, else a new one. On PostgreSQL new ids come from the
    sequence; on SQLite (whose write lock the caller holds) they follow the highest id."""
    missing = sum(1 for r in records if r.id is None)
    fresh: list[int] = []
    if missing and is_pg(session):
        seq = _sequence(session)
        fresh = list(
            session.scalars(
                text("SELECT nextval(:seq) FROM generate_series(1, :n)"), {"seq": seq, "n": missing}
            )
        )
    elif missing:
        highest = session.scalar(select(func.max(_STORES.c.id))) or 0
        top = max([highest] + [r.id or 0 for r in records])
        fresh = list(range(top + 1, top + 1 + missing))
    it = iter(fresh)
    return [r.id if r.id is not None else next(it) for r in records]


def _move_sequence(session: Session, explicit: Iterable[int]) -> None:
    """After operator-chosen ids, move the PostgreSQL sequence past them so generated ids
    never collide (never backwards: a concurrent writer may hold a newer value)."""
    top = max(explicit, default=0)
    if not top or not is_pg(session):
        return
    seq = _sequence(session)
    session.execute(
        text(f"SELECT setval(:seq, GREATEST(:top, (SELECT last_value FROM {seq})))"),
        {"seq": seq, "top": top},
    )


def _same(old: dict[str, Any], new: dict[str, Any], categories: list[str]) -> bool:
    return all(old[k] == new[k] for k in new if k != "active") and (
        old["active"] == new["active"] and old.get("categories", set()) == set(categories)
    )


def upsert_stores(session: Session, records: Sequence[StoreIn]) -> Upserted:
    """Insert or replace ``records`` by id (a later record with the same id wins), with their
    filter rows, and record the store events of the change."""
    ids = _assign_ids(session, records)
    latest = dict(zip(ids, records, strict=True))
    existing = _existing(session, list(latest))
    rows = {store_id: _row(record, store_id) for store_id, record in latest.items()}
    result = Upserted()
    changed: list[int] = []
    for store_id, row in rows.items():
        old = existing.get(store_id)
        if old is None:
            result.inserted.append(store_id)
        elif _same(old, row, latest[store_id].categories):
            result.unchanged.append(store_id)
            continue
        else:
            result.updated.append(store_id)
        changed.append(store_id)
    if not changed:
        return result
    now = clock.now()
    stmt = upsert(session, _STORES)
    stmt = stmt.on_conflict_do_update(
        index_elements=["id"], set_={name: stmt.excluded[name] for name in _WRITTEN}
    )
    session.execute(stmt, [{**rows[i], "created_at": now, "updated_at": now} for i in changed])
    _replace_filter_rows(session, {i: latest[i] for i in changed})
    _move_sequence(session, (r.id for r in records if r.id is not None))
    _emit_store_events(session, [(existing.get(i), rows[i]) for i in changed])
    cache.changed(session)
    return result


def _replace_filter_rows(session: Session, records: dict[int, StoreIn]) -> None:
    ids = list(records)
    for model in (CashbackStoreCountry, CashbackStoreTag, CashbackStoreCategory):
        session.execute(delete(model).where(model.store_id.in_(ids)))
    countries = [{"store_id": i, "country": c} for i, r in records.items() for c in r.countries]
    tags = [{"store_id": i, "tag": t} for i, r in records.items() for t in r.tags]
    category_ids = category_ids_for(session, {n for r in records.values() for n in r.categories})
    memberships = [
        {"store_id": i, "category_id": category_ids[n]}
        for i, r in records.items()
        for n in r.categories
    ]
    for model, values in (
        (CashbackStoreCountry, countries),
        (CashbackStoreTag, tags),
        (CashbackStoreCategory, memberships),
    ):
        if values:
            session.execute(insert(model), values)


def commission_text(value: Decimal) -> str:
    """A commission value as the events show it: ``12.0``, ``1.8``, ``2.55``."""
    plain = f"{value.normalize():f}"
    return plain if "." in plain else plain + ".0"


def _emit_store_events(
    session: Session, changes: list[tuple[dict[str, Any] | None, dict[str, Any]]]
) -> None:
    """One event per type for the whole write, listing every store it concerns. Changes of
    cashback, terms and countries are told for stores active before and after; a store
    appearing or disappearing is told by STORE_ADDED / STORE_REMOVED alone."""
    found: dict[str, list[dict[str, Any]]] = {t: [] for t in events.STORE_EVENTS}
    for old, new in changes:
        who = {"id": new["id"], "name": new["name"]}
        if new["active"] and (old is None or not old["active"]):
            found[events.STORE_ADDED].append(who)
            continue
        if old is None or not old["active"]:
            continue
        if not new["active"]:
            found[events.STORE_REMOVED].append(who)
            continue
        old_cashback = (old["commission_value"], old["commission_format"])
        if old_cashback != (new["commission_value"], new["commission_format"]):
            found[events.STORE_CASHBACK_CHANGE].append(
                who
                | {
                    "newCashback": _cashback(new["commission_value"], new["commission_format"]),
                    "oldCashback": _cashback(*old_cashback),
                }
            )
        if old["store_terms"] != new["store_terms"]:
            found[events.STORE_TERMS_CHANGE].append(
                who | {"newTerms": new["store_terms"], "oldTerms": old["store_terms"]}
            )
        if set(old["countries"]) != set(new["countries"]):
            found[events.STORE_COUNTRY_CHANGE].append(
                who | {"newCountries": new["countries"], "oldCountries": old["countries"]}
            )
    for event_type, data in found.items():
        if data:
            emit_to_subscribers(session, event_type=event_type, data=data)


def _cashback(value: Decimal, format_: str) -> dict[str, str]:
    return {"value": commission_text(value), "format": format_}


def store_record(session: Session, store_id: int) -> StoreIn:
    """The stored store as a whole record (what PATCH and DELETE start from)."""
    old = _existing(session, [store_id]).get(store_id)
    if old is None:
        raise NotFound(f"Store {store_id} was not found.")
    return StoreIn.model_validate(
        {
            "id": store_id,
            "name": old["name"],
            "url": old["url"],
            "seoFriendlyId": old["seo_friendly_id"],
            "language": old["language"],
            "description": old["description"],
            "commission": {"value": old["commission_value"], "format": old["commission_format"]},
            "commissionDetails": old["commission_details"],
            "home": old["home"],
            "countries": old["countries"],
            "categories": sorted(old.get("categories", ())),
            "tags": old["tags"],
            "storeTerms": old["store_terms"],
            "generalTerms": old["general_terms"],
            "specificTerms": old["specific_terms"],
            "address": old["address"],
            "alternativeContent": old["alternative_content"],
            "active": old["active"],
        }
    )


def create_store(session: Session, record: StoreIn) -> int:
    if record.id is not None and session.get(CashbackStore, record.id) is not None:
        raise Conflict(f"Store {record.id} already exists; PUT replaces it.", field="id")
    (store_id,) = _one(upsert_stores(session, [record]))
    return store_id


def replace_store(session: Session, store_id: int, record: StoreIn) -> bool:
    """PUT: the whole store; returns whether it was created."""
    if record.id is not None and record.id != store_id:
        raise DomainError("The body's id differs from the path's.", field="id")
    done = upsert_stores(session, [record.model_copy(update={"id": store_id})])
    return bool(done.inserted)


def patch_store(session: Session, store_id: int, changes: dict[str, Any]) -> None:
    """PATCH: the given top-level fields replace the stored ones."""
    if "id" in changes and changes["id"] != store_id:
        raise DomainError("A store's id cannot change.", field="id")
    current = store_record(session, store_id).model_dump(mode="json", by_alias=True)
    upsert_stores(session, [validate_store(current | changes)])


def remove_store(session: Session, store_id: int) -> None:
    """Soft removal: publishers stop seeing the store; clicks and transactions keep it."""
    record = store_record(session, store_id)
    upsert_stores(session, [record.model_copy(update={"active": False})])


def _one(done: Upserted) -> list[int]:
    return done.inserted + done.updated + done.unchanged


# -- logos ----------------------------------------------------------------------------------


def put_logo(session: Session, store_id: int, content_type: str, data: bytes) -> str:
    """Store the logo image; returns its digest (the ETag)."""
    kind = content_type.split(";")[0].strip().lower()
    if kind not in LOGO_TYPES:
        raise DomainError(
            f"A logo is one of {', '.join(LOGO_TYPES)}, not {kind or 'untyped'}.",
            status=415,
            field="Content-Type",
        )
    if not data or len(data) > MAX_LOGO_BYTES:
        raise DomainError("A logo is between 1 byte and 1 MiB.", field="logo")
    if session.get(CashbackStore, store_id) is None:
        raise NotFound(f"Store {store_id} was not found.")
    digest = hashlib.sha256(data).hexdigest()
    stmt = upsert(session, CashbackStoreLogo.__table__)
    values = {"content_type": kind, "data": data, "digest": digest, "updated_at": clock.now()}
    session.execute(
        stmt.values(store_id=store_id, **values).on_conflict_do_update(
            index_elements=["store_id"], set_=values
        )
    )
    cache.changed(session)
    return digest


def delete_logo(session: Session, store_id: int) -> None:
    logo = session.get(CashbackStoreLogo, store_id)
    if logo is None:
        raise NotFound(f"Store {store_id} has no logo.")
    session.delete(logo)
    cache.changed(session)


# -- categories -----------------------------------------------------------------------------


def _free_slug(session: Session, wanted: str, taken: set[str] | None = None) -> str:
    taken = taken or set()
    slug, n = wanted, 1
    while slug in taken or session.scalar(
        select(CashbackCategory.id).where(CashbackCategory.seo_friendly_id == slug)
    ):
        n += 1
        slug = f"{wanted}-{n}"
    return slug


def category_ids_for(session: Session, names: set[str]) -> dict[str, int]:
    """Category ids by name, creating the categories not yet known (slug from the name)."""
    if not names:
        return {}
    query = select(CashbackCategory.name, CashbackCategory.id)
    found = {
        name: id_ for name, id_ in session.execute(query.where(CashbackCategory.name.in_(names)))
    }
    new: list[dict[str, Any]] = []
    taken: set[str] = set()
    for name in sorted(names - found.keys()):
        slug = _free_slug(session, slugify(name), taken)
        taken.add(slug)
        new.append({"name": name, "seo_friendly_id": slug, "created_at": clock.now()})
    if new:
        session.execute(upsert(session, CashbackCategory.__table__).on_conflict_do_nothing(), new)
        found = {
            name: id_
            for name, id_ in session.execute(query.where(CashbackCategory.name.in_(names)))
        }
        cache.changed(session)
    return found


def create_category(session: Session, body: CategoryIn) -> CashbackCategory:
    if session.scalar(select(CashbackCategory.id).where(CashbackCategory.name == body.name)):
        raise Conflict(f"Category {body.name!r} already exists.", field="name")
    slug = body.seo_friendly_id or slugify(body.name)
    if body.seo_friendly_id is None:
        slug = _free_slug(session, slug)
    elif session.scalar(
        select(CashbackCategory.id).where(CashbackCategory.seo_friendly_id == slug)
    ):
        raise Conflict(f"seoFriendlyId {slug!r} is taken.", field="seoFriendlyId")
    category = CashbackCategory(name=body.name, seo_friendly_id=slug, created_at=clock.now())
    session.add(category)
    session.flush()
    cache.changed(session)
    return category


def update_category(session: Session, category_id: int, body: CategoryIn) -> CashbackCategory:
    category = session.get(CashbackCategory, category_id)
    if category is None:
        raise NotFound(f"Category {category_id} was not found.")
    clash = session.scalar(
        select(CashbackCategory.id).where(
            CashbackCategory.id != category_id,
            (CashbackCategory.name == body.name)
            | (CashbackCategory.seo_friendly_id == (body.seo_friendly_id or "")),
        )
    )
    if clash:
        raise Conflict("Another category has this name or seoFriendlyId.", field="name")
    category.name = body.name
    if body.seo_friendly_id:
        category.seo_friendly_id = body.seo_friendly_id
    session.flush()
    cache.changed(session)
    return category


def delete_category(session: Session, category_id: int) -> None:
    category = session.get(CashbackCategory, category_id)
    if category is None:
        raise NotFound(f"Category {category_id} was not found.")
    session.delete(category)
    session.flush()
    cache.changed(session)


# -- deals ----------------------------------------------------------------------------------


def _deal_store(session: Session, store_id: int) -> None:
    if session.get(CashbackStore, store_id) is None:
        raise DomainError(f"Store {store_id} was not found.", field="storeId")


def create_deal(session: Session, body: DealIn) -> CashbackDeal:
    _deal_store(session, body.store_id)
    now = clock.now()
    deal = CashbackDeal(**body.model_dump(), created_at=now, updated_at=now)
    session.add(deal)
    session.flush()
    cache.changed(session)
    return deal


def get_deal(session: Session, deal_id: int) -> CashbackDeal:
    deal = session.get(CashbackDeal, deal_id)
    if deal is None:
        raise NotFound(f"Deal {deal_id} was not found.")
    return deal


def update_deal(session: Session, deal_id: int, body: DealIn) -> CashbackDeal:
    deal = get_deal(session, deal_id)
    _deal_store(session, body.store_id)
    for name, value in body.model_dump().items():
        setattr(deal, name, value)
    deal.updated_at = clock.now()
    session.flush()
    cache.changed(session)
    return deal


def delete_deal(session: Session, deal_id: int) -> None:
    session.delete(get_deal(session, deal_id))
    session.flush()
    cache.changed(session)
