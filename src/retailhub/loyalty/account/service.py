"""Accounts: the loyalty member records.

Account ids of imported customers (``account_id_for``): the ``customerNumber`` when it is a
valid account id (3-64 of ``[a-zA-Z0-9._-]``); else ``e-`` + the first 24 hex digits of the
SHA-256 of the lower-cased email; a customer with neither a valid number nor an email gets
``n-`` + the first 24 hex digits of the SHA-256 of its number.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from retailhub.errors import DomainError, NotFound
from retailhub.kit import clock
from retailhub.kit.sql import is_pg, upsert
from retailhub.loyalty.account import counters
from retailhub.loyalty.campaign import service as campaign_service
from retailhub.models import LoyaltyAccount, LoyaltyAccountTag, Tenant

ACCOUNT_ID_RE = re.compile(r"^[a-zA-Z0-9._-]{3,64}$")
USER_TAG_RE = re.compile(r"^my_[a-zA-Z0-9_.-]+$")
PROPERTY_KEY_RE = re.compile(r"^[a-zA-Z0-9_.-]{1,64}$")
MAX_TAG_CHANGES = 16
MAX_TAG_LENGTH = 64
MAX_PROPERTY_VALUE = 1024
MAX_PROPERTIES = 100
SEXES = ("MALE", "FEMALE", "OTHER")
WINDOWS_REFRESHED = "loyalty_windows_refreshed"


def check_account_id(value: str, field: str = "account") -> str:
    if not ACCOUNT_ID_RE.match(value):
        raise DomainError(f"{field}: must be 3-64 characters of [a-zA-Z0-9._-]", field=field)
    return value


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:24]


def account_id_for(customer_number: str | None, email: str | None) -> str | None:
    """The account id of a customer (or of an order's buyer); see the module docstring."""
    if customer_number and ACCOUNT_ID_RE.match(customer_number):
        return customer_number
    if email:
        return "e-" + _digest(email.strip().lower())
    if customer_number:
        return "n-" + _digest(customer_number)
    return None


def new_account_row(
    tenant_id: int, account_id: str, now: datetime, **fields: Any
) -> dict[str, Any]:
    """Every column a new account needs (for bulk inserts)."""
    row: dict[str, Any] = {
        "tenant_id": tenant_id,
        "account_id": account_id,
        "properties": {},
        "counters": dict(counters.ZERO_COUNTERS),
        "consents": {},
        "important_tags": [],
        "relations": [],
        "segment": "new",
        "created_at": now,
        "updated_at": now,
    }
    row.update(fields)
    return row


def get(session: Session, *, tenant_id: int, account_id: str) -> LoyaltyAccount:
    account = session.scalar(
        select(LoyaltyAccount).where(
            LoyaltyAccount.tenant_id == tenant_id, LoyaltyAccount.account_id == account_id
        )
    )
    if account is None:
        raise NotFound(f"Account '{account_id}' not found")
    return account


def get_by_card(session: Session, *, tenant_id: int, card: str) -> LoyaltyAccount:
    check_account_id(card, "card")
    account = session.scalar(
        select(LoyaltyAccount).where(
            LoyaltyAccount.tenant_id == tenant_id, LoyaltyAccount.card == card
        )
    )
    if account is None:
        raise NotFound(f"No account has card '{card}'")
    return account


def ensure_accounts(session: Session, *, tenant_id: int, account_ids: Iterable[str]) -> None:
    """Create (register) the accounts with these ids that do not exist yet."""
    now = clock.now()
    rows = [new_account_row(tenant_id, a, now) for a in sorted(set(account_ids))]
    if rows:
        session.execute(
            upsert(session, LoyaltyAccount.__table__)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["tenant_id", "account_id"])
        )


def ensure_account(session: Session, *, tenant_id: int, account_id: str) -> LoyaltyAccount:
    """The account with this id, created (registered) if it does not exist yet."""
    check_account_id(account_id)
    ensure_accounts(session, tenant_id=tenant_id, account_ids=[account_id])
    return get(session, tenant_id=tenant_id, account_id=account_id)


def lock_accounts(
    session: Session, *, tenant_id: int, account_ids: Iterable[str]
) -> dict[str, LoyaltyAccount]:
    """Load accounts for a read-modify-write of their JSON fields, locked (PostgreSQL;
    SQLite's write transaction already excludes other writers), in id order."""
    ids = sorted(set(account_ids))
    stmt = (
        select(LoyaltyAccount)
        .where(LoyaltyAccount.tenant_id == tenant_id, LoyaltyAccount.account_id.in_(ids))
        .order_by(LoyaltyAccount.account_id)
    )
    if is_pg(session):
        stmt = stmt.with_for_update()
    return {a.account_id: a for a in session.scalars(stmt)}


def set_profile(session: Session, account: LoyaltyAccount, changes: Mapping[str, Any]) -> None:
    """Apply the given profile fields (``firstName``, ``lastName``, ``birthdate``, ``sex``;
    an explicit null clears one); then dynamic campaigns see the change."""
    if "firstName" in changes:
        account.first_name = changes["firstName"]
    if "lastName" in changes:
        account.last_name = changes["lastName"]
    if "birthdate" in changes:
        born: date | None = changes["birthdate"]
        account.birthdate = born
        account.birthday_md = born.month * 100 + born.day if born else None
    if "sex" in changes:
        account.sex = changes["sex"]
    account.updated_at = clock.now()
    session.flush()
    campaign_service.on_accounts_changed(
        session, tenant_id=account.tenant_id, account_pks=[account.id]
    )


def _check_tags(values: Any, field: str) -> list[str]:
    if values is None:
        return []
    if not isinstance(values, list):
        raise DomainError(f"{field}: must be an array of tags", field=field)
    if len(values) > MAX_TAG_CHANGES:
        raise DomainError(f"{field}: at most {MAX_TAG_CHANGES} tags", field=field)
    tags = []
    for i, tag in enumerate(values):
        where = f"{field}[{i}]"
        if not isinstance(tag, str):
            raise DomainError(f"{where}: must be a string", field=where)
        if len(tag) > MAX_TAG_LENGTH:
            raise DomainError(f"{where}: at most {MAX_TAG_LENGTH} characters", field=where)
        if not USER_TAG_RE.match(tag):
            raise DomainError(
                f"{where}: users may only set tags matching my_([a-zA-Z0-9_.-]+)", field=where
            )
        tags.append(tag)
    return tags


def _check_properties(values: Any) -> dict[str, str | None]:
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise DomainError("properties: must be an object", field="properties")
    checked: dict[str, str | None] = {}
    for key, value in values.items():
        where = f"properties.{key}"
        if not PROPERTY_KEY_RE.match(key):
            raise DomainError(
                f"{where}: property names are 1-64 characters of [a-zA-Z0-9_.-]", field=where
            )
        if value is not None and not isinstance(value, str):
            raise DomainError(f"{where}: must be a string (or null to remove it)", field=where)
        if value is not None and len(value) > MAX_PROPERTY_VALUE:
            raise DomainError(f"{where}: at most {MAX_PROPERTY_VALUE} characters", field=where)
        checked[key] = value
    return checked


def set_properties(session: Session, account: LoyaltyAccount, body: Any) -> None:
    """Merge ``properties`` (null removes a key), then add ``addTags`` and remove
    ``removeTags`` (only ``my_`` tags; a tag in both ends up removed)."""
    if not isinstance(body, dict):
        raise DomainError("body: must be an object", field="body")
    props = _check_properties(body.get("properties"))
    add = _check_tags(body.get("addTags"), "addTags")
    remove = _check_tags(body.get("removeTags"), "removeTags")
    merged = dict(account.properties or {})
    for key, value in props.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    if len(merged) > MAX_PROPERTIES:
        raise DomainError(
            f"properties: an account holds at most {MAX_PROPERTIES} properties",
            field="properties",
        )
    account.properties = merged
    account.updated_at = clock.now()
    tags = cast(Table, LoyaltyAccountTag.__table__)
    adding = sorted(set(add) - set(remove))
    if adding:
        session.execute(
            upsert(session, tags)
            .values(
                [
                    {"tenant_id": account.tenant_id, "account_pk": account.id, "tag": t}
                    for t in adding
                ]
            )
            .on_conflict_do_nothing()
        )
    if remove:
        session.execute(
            delete(tags).where(
                tags.c.tenant_id == account.tenant_id,
                tags.c.account_pk == account.id,
                tags.c.tag.in_(remove),
            )
        )
    session.flush()
    campaign_service.on_accounts_changed(
        session, tenant_id=account.tenant_id, account_pks=[account.id]
    )


def refresh_windows(session: Session, *, tenant_id: int, now: datetime) -> None:
    """Recompute the 30/90/365-day order counters and segments as time passes: once per
    day (UTC) per tenant, the date recorded in ``Tenant.settings``."""
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        return
    today = now.astimezone(UTC).date().isoformat()
    settings = dict(tenant.settings or {})
    if settings.get(WINDOWS_REFRESHED) == today:
        return
    counters.refresh_tenant(session, tenant_id=tenant_id, now=now)
    settings[WINDOWS_REFRESHED] = today
    tenant.settings = settings
