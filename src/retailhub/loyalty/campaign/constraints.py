"""Campaign constraints: parse (validate the values for the field and op), compile to ONE
set-based SQL condition over ``loyalty_accounts``, and evaluate in Python (explain).

The SQL and the Python evaluator implement the same rules (a test checks they agree):

- ``counters.X``: the order counter as a number; a missing counter counts as 0.
  ``EXISTS``: the counter is present.
- ``properties.X``: the property as text for ``EQ``/``NE``/``IN``; ``GT``/``GTE``/``LT``/``LTE``
  compare numerically and only match properties whose text is a decimal number
  (``-?[0-9]+(.[0-9]+)?``). Booleans read as ``true``/``false``.
- ``tags.X``: whether the account has tag X: ``EXISTS`` (has it), ``EQ ["true"|"false"]``,
  ``NE ["true"|"false"]``. Other ops are refused.
- ``venues.X``: ``EXISTS``: the account ordered at venue (storeNumber) X; numeric ops compare
  the number of its orders there (0 when it never ordered there).
- ``header.firstName``: text, ``EQ``/``NE``/``IN``/``EXISTS`` (case-sensitive); ordering ops are
  refused (database collations differ).
- ``header.created``/``header.lastOrder``: chronological. A date-time value is an instant
  (no zone: UTC); a date value (``YYYY-MM-DD``) is that whole UTC day: ``EQ`` is within the
  day, ``GT`` after it, ``GTE`` from its start, ``LT`` before it, ``LTE`` up to its end.
- ``header.birthdate``: a date, chronological.
- A missing value (property, header field) fails every op except ``NE``, which is the exact
  negation of ``EQ`` (so it matches accounts without the value). ``EXISTS`` takes no value,
  ``IN`` 1 to 16 values, every other op exactly one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from typing import cast as typed

from sqlalchemy import (
    Float,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.sql.elements import ColumnElement

from retailhub.errors import DomainError
from retailhub.models import LoyaltyAccount, LoyaltyAccountTag, LoyaltyAccountVenue

FIELD_PATTERN = (
    r"^(((counters|properties|venues|tags)\.[a-zA-Z0-9_-]+)"
    r"|(header\.(firstName|created|lastOrder|birthdate)))$"
)
FIELD_RE = re.compile(FIELD_PATTERN)
OPS = ("EQ", "NE", "IN", "GT", "GTE", "LT", "LTE", "EXISTS")
ORDERING = frozenset({"GT", "GTE", "LT", "LTE"})
NUMBER_RE = re.compile(r"\A-?[0-9]+(\.[0-9]+)?\Z")
# The same test in SQL (PostgreSQL ``~``; SQLAlchemy registers REGEXP for SQLite).
NUMBER_SQL = r"^-?[0-9]+(\.[0-9]+)?$"
DATE_RE = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")

A = LoyaltyAccount


@dataclass(frozen=True)
class Span:
    """A chronological value: an instant (``lo == hi``) or a UTC day ``[lo, hi)``."""

    lo: datetime
    hi: datetime

    @property
    def point(self) -> bool:
        return self.lo == self.hi


@dataclass(frozen=True)
class Condition:
    """One parsed constraint. ``kind`` is counter, property, tag, venue, first_name, created,
    last_order or birthdate; ``values`` hold parsed values (float, str, bool, Span, date)."""

    field: str
    op: str
    raw: tuple[str, ...]
    kind: str
    key: str
    values: tuple[Any, ...] = dc_field(default=())


PREFIX_KINDS = {"counters": "counter", "properties": "property", "tags": "tag", "venues": "venue"}
HEADER_KINDS = {
    "firstName": "first_name",
    "created": "created",
    "lastOrder": "last_order",
    "birthdate": "birthdate",
}


def _fail(loc: str, message: str) -> DomainError:
    return DomainError(f"{loc}: {message}", field=loc)


def _number(value: str, loc: str) -> float:
    if not NUMBER_RE.match(value.strip()):
        raise _fail(loc, f"'{value}' is not a number")
    return float(value)


def _span(value: str, loc: str) -> Span:
    text = value.strip()
    if DATE_RE.match(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise _fail(loc, f"'{value}' is not a date") from None
        lo = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return Span(lo, lo + timedelta(days=1))
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise _fail(loc, f"'{value}' is not a date-time or a date") from None
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return Span(at, at)


def _date(value: str, loc: str) -> date:
    text = value.strip()
    try:
        if not DATE_RE.match(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise _fail(loc, f"'{value}' is not a date (YYYY-MM-DD)") from None


def _flag(value: str, loc: str) -> bool:
    if value not in ("true", "false"):
        raise _fail(loc, f"'{value}' must be 'true' or 'false' for a tag")
    return value == "true"


def parse(field_name: str, op: str, value: Sequence[str] | None, *, loc: str) -> Condition:
    """Check one constraint (``loc`` names it in errors, e.g. ``constraints[2]``)."""
    if not FIELD_RE.match(field_name) or len(field_name) > 64:
        raise _fail(f"{loc}.field", f"'{field_name}' is not a constraint field")
    if op not in OPS:
        raise _fail(f"{loc}.op", f"must be one of {', '.join(OPS)}")
    values = list(value or [])
    vloc = f"{loc}.value"
    if len(values) > 16:
        raise _fail(vloc, "at most 16 values")
    if op == "EXISTS" and values:
        raise _fail(vloc, "EXISTS takes no value")
    if op == "IN" and not values:
        raise _fail(vloc, "IN needs at least one value")
    if op not in ("EXISTS", "IN") and len(values) != 1:
        raise _fail(vloc, f"{op} needs exactly one value")
    prefix, _, key = field_name.partition(".")
    kind = HEADER_KINDS[key] if prefix == "header" else PREFIX_KINDS[prefix]
    if kind == "tag" and op not in ("EXISTS", "EQ", "NE"):
        raise _fail(f"{loc}.op", "tags take EXISTS, EQ or NE (value 'true' or 'false')")
    if kind == "first_name" and op in ORDERING:
        raise _fail(f"{loc}.op", "header.firstName takes EQ, NE, IN or EXISTS")
    parsed: list[Any] = []
    for i, item in enumerate(values):
        iloc = f"{vloc}[{i}]"
        if kind in ("counter", "venue"):
            parsed.append(_number(item, iloc))
        elif kind == "property":
            parsed.append(_number(item, iloc) if op in ORDERING else item)
        elif kind == "tag":
            parsed.append(_flag(item, iloc))
        elif kind in ("created", "last_order"):
            parsed.append(_span(item, iloc))
        elif kind == "birthdate":
            parsed.append(_date(item, iloc))
        else:
            parsed.append(item)
    return Condition(
        field=field_name, op=op, raw=tuple(values), kind=kind, key=key, values=tuple(parsed)
    )


def parse_all(items: Iterable[Any], *, loc: str = "constraints") -> list[Condition]:
    """Parse constraint objects or dicts (``field``, ``op``, ``value``)."""
    out = []
    for i, item in enumerate(items):
        data = item if isinstance(item, dict) else item.model_dump()
        out.append(parse(data["field"], data["op"], data.get("value"), loc=f"{loc}[{i}]"))
    return out


# SQL -------------------------------------------------------------------------------------


def _json_path(key: str) -> str:
    return f'$."{key}"'


def _property_text(key: str, pg: bool) -> ColumnElement[Any]:
    if pg:
        return typed(ColumnElement[Any], A.properties[key].as_string())
    path = _json_path(key)
    kind = func.json_type(A.properties, path)
    return case(
        (kind == "true", literal("true")),
        (kind == "false", literal("false")),
        (kind == "null", literal(None, String)),
        else_=cast(func.json_extract(A.properties, path), String),
    )


def _compare(expr: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "EQ":
        return expr == value  # type: ignore[no-any-return]
    if op == "GT":
        return expr > value  # type: ignore[no-any-return]
    if op == "GTE":
        return expr >= value  # type: ignore[no-any-return]
    if op == "LT":
        return expr < value  # type: ignore[no-any-return]
    if op == "LTE":
        return expr <= value  # type: ignore[no-any-return]
    raise AssertionError(op)


def _ops(expr: Any, cond: Condition) -> ColumnElement[bool]:
    """EQ/NE/IN/ordering over a scalar expression that is NULL when the value is missing."""
    if cond.op == "EXISTS":
        return expr.is_not(None)  # type: ignore[no-any-return]
    if cond.op == "IN":
        return expr.in_(list(cond.values))  # type: ignore[no-any-return]
    if cond.op == "NE":
        return or_(expr.is_(None), expr != cond.values[0])
    return _compare(expr, cond.op, cond.values[0])


def _span_sql(expr: Any, op: str, span: Span) -> ColumnElement[bool]:
    if span.point:
        return _compare(expr, "EQ" if op in ("EQ", "NE", "IN") else op, span.lo)
    if op in ("EQ", "NE", "IN"):
        return and_(expr >= span.lo, expr < span.hi)
    bounds = {"GT": (">=", span.hi), "GTE": (">=", span.lo), "LT": ("<", span.lo)}
    sign, at = bounds.get(op, ("<", span.hi))
    return _compare(expr, "GTE" if sign == ">=" else "LT", at)


def to_sql(cond: Condition, *, pg: bool) -> ColumnElement[bool]:
    """The condition over ``loyalty_accounts`` (correlated for tags and venues)."""
    if cond.kind == "counter":
        raw = A.counters[cond.key].as_string()
        if cond.op == "EXISTS":
            return typed(ColumnElement[bool], raw.is_not(None))
        number = func.coalesce(A.counters[cond.key].as_float(), 0.0)
        return _ops(number, cond)
    if cond.kind == "property":
        text = _property_text(cond.key, pg)
        if cond.op in ORDERING:
            as_number = case((text.regexp_match(NUMBER_SQL), cast(text, Float)), else_=None)
            return _compare(as_number, cond.op, cond.values[0])
        return _ops(text, cond)
    if cond.kind == "tag":
        has = exists(
            select(1)
            .select_from(LoyaltyAccountTag)
            .where(
                LoyaltyAccountTag.tenant_id == A.tenant_id,
                LoyaltyAccountTag.account_pk == A.id,
                LoyaltyAccountTag.tag == cond.key,
            )
        )
        if cond.op == "EXISTS":
            return has
        wanted = cond.values[0] if cond.op == "EQ" else not cond.values[0]
        return has if wanted else not_(has)
    if cond.kind == "venue":
        venue = (
            select(LoyaltyAccountVenue.orders)
            .where(
                LoyaltyAccountVenue.tenant_id == A.tenant_id,
                LoyaltyAccountVenue.account_pk == A.id,
                LoyaltyAccountVenue.venue == cond.key,
            )
            .scalar_subquery()
        )
        if cond.op == "EXISTS":
            return exists(
                select(1).where(
                    LoyaltyAccountVenue.tenant_id == A.tenant_id,
                    LoyaltyAccountVenue.account_pk == A.id,
                    LoyaltyAccountVenue.venue == cond.key,
                )
            )
        return _ops(func.coalesce(venue, 0), cond)
    if cond.kind == "first_name":
        return _ops(A.first_name, cond)
    if cond.kind == "birthdate":
        return _ops(A.birthdate, cond)
    column = A.created_at if cond.kind == "created" else A.last_order_at
    if cond.op == "EXISTS":
        return column.is_not(None)
    if cond.op == "IN":
        return or_(*(_span_sql(column, "IN", span) for span in cond.values))
    if cond.op == "NE":
        return or_(column.is_(None), not_(_span_sql(column, "EQ", cond.values[0])))
    return _span_sql(column, cond.op, cond.values[0])


def where(conds: Sequence[Condition], *, pg: bool) -> ColumnElement[bool]:
    """All constraints ANDed (an empty list matches every account)."""
    if not conds:
        return true()
    return and_(*(to_sql(c, pg=pg) for c in conds))


# Python ----------------------------------------------------------------------------------


@dataclass
class AccountFacts:
    """What constraints read from one account."""

    counters: dict[str, Any]
    properties: dict[str, Any]
    tags: set[str]
    venues: dict[str, int]
    first_name: str | None
    created: datetime | None
    last_order: datetime | None
    birthdate: date | None


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def actual(cond: Condition, facts: AccountFacts) -> Any:
    """The account's value the condition compares (as shown by explain)."""
    if cond.kind == "counter":
        return facts.counters.get(cond.key)
    if cond.kind == "property":
        return _as_text(facts.properties.get(cond.key))
    if cond.kind == "tag":
        return cond.key in facts.tags
    if cond.kind == "venue":
        return facts.venues.get(cond.key)
    if cond.kind == "first_name":
        return facts.first_name
    if cond.kind == "birthdate":
        return facts.birthdate
    return _utc(facts.created if cond.kind == "created" else facts.last_order)


def _cmp(left: Any, op: str, right: Any) -> bool:
    if op == "EQ":
        return bool(left == right)
    if op == "GT":
        return bool(left > right)
    if op == "GTE":
        return bool(left >= right)
    if op == "LT":
        return bool(left < right)
    if op == "LTE":
        return bool(left <= right)
    raise AssertionError(op)


def _ops_py(value: Any, cond: Condition) -> bool:
    if cond.op == "EXISTS":
        return value is not None
    if cond.op == "NE":
        return value is None or value != cond.values[0]
    if value is None:
        return False
    if cond.op == "IN":
        return value in cond.values
    return _cmp(value, cond.op, cond.values[0])


def _span_py(value: datetime, op: str, span: Span) -> bool:
    if span.point:
        return _cmp(value, "EQ" if op in ("EQ", "NE", "IN") else op, span.lo)
    if op in ("EQ", "NE", "IN"):
        return span.lo <= value < span.hi
    return {
        "GT": value >= span.hi,
        "GTE": value >= span.lo,
        "LT": value < span.lo,
        "LTE": value < span.hi,
    }[op]


def evaluate(cond: Condition, facts: AccountFacts) -> bool:
    """Whether the account meets the condition (the same rules as ``to_sql``)."""
    value = actual(cond, facts)
    if cond.kind == "counter":
        if cond.op == "EXISTS":
            return value is not None
        return _ops_py(0.0 if value is None else float(value), cond)
    if cond.kind == "property":
        if cond.op in ORDERING:
            if value is None or not NUMBER_RE.match(value):
                return False
            return _cmp(float(value), cond.op, cond.values[0])
        return _ops_py(value, cond)
    if cond.kind == "tag":
        if cond.op == "EXISTS":
            return bool(value)
        wanted = cond.values[0] if cond.op == "EQ" else not cond.values[0]
        return bool(value) == wanted
    if cond.kind == "venue":
        if cond.op == "EXISTS":
            return value is not None
        return _ops_py(float(value or 0), cond)
    if cond.kind in ("first_name", "birthdate"):
        return _ops_py(value, cond)
    if cond.op == "EXISTS":
        return value is not None
    if cond.op == "NE":
        return value is None or not _span_py(value, "EQ", cond.values[0])
    if value is None:
        return False
    if cond.op == "IN":
        return any(_span_py(value, "IN", span) for span in cond.values)
    return _span_py(value, cond.op, cond.values[0])


def evaluate_all(conds: Sequence[Condition], facts: AccountFacts) -> bool:
    return all(evaluate(c, facts) for c in conds)
