"""postEvent items, validated by hand so that every error names its item and field
(``[2].type``, ``[0].consents.scope``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from retailhub.errors import DomainError

ID_RE = re.compile(r"^[a-zA-Z0-9._-]{3,64}$")
TRANSACTION_RE = re.compile(r"^[a-zA-Z0-9_.-]+$")
CONSENT_KEY_RE = re.compile(r"^[a-zA-Z0-9_.-]{1,64}$")
TYPES = ("INVITED_BY", "INVITED", "FRIEND", "UNKNOWN")
SCOPES = ("ACCOUNT", "TRANSACTION")
MIRROR = {
    "INVITED_BY": "INVITED",
    "INVITED": "INVITED_BY",
    "FRIEND": "FRIEND",
    "UNKNOWN": "UNKNOWN",
}
MAX_EVENTS = 1000
MAX_CONSENTS = 64
MAX_CONSENT_VALUE = 64


@dataclass
class EventIn:
    index: int
    account: str | None
    card: str | None
    type: str
    other: str
    ts: datetime
    symmetric: bool
    scope: str | None = None
    transaction: str | None = None
    consents: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        """The event as stored in ``loyalty_events``."""
        out: dict[str, Any] = {
            "type": self.type,
            "id": self.other,
            "ts": self.ts.isoformat().replace("+00:00", "Z"),
            "doNotProcessSymmetry": not self.symmetric,
        }
        if self.account is not None:
            out["account"] = self.account
        if self.card is not None:
            out["card"] = self.card
        if self.scope is not None:
            consents: dict[str, Any] = {"scope": self.scope, "consents": self.consents}
            if self.transaction is not None:
                consents["transaction"] = self.transaction
            out["consents"] = consents
        return out


def _fail(where: str, message: str) -> DomainError:
    return DomainError(f"{where}: {message}", field=where)


def _id(item: dict[str, Any], name: str, at: str) -> str | None:
    value = item.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not ID_RE.match(value):
        raise _fail(f"{at}.{name}", "must be 3-64 characters of [a-zA-Z0-9._-]")
    return value


def _ts(value: Any, where: str, now: datetime) -> datetime:
    if value is None:
        return now
    if not isinstance(value, str):
        raise _fail(where, "must be an ISO 8601 date-time")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(where, "must be an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _consents(event: EventIn, value: Any, at: str) -> None:
    where = f"{at}.consents"
    if value is None:
        return
    if not isinstance(value, dict):
        raise _fail(where, "must be an object {scope, transaction?, consents}")
    scope = value.get("scope")
    if scope not in SCOPES:
        raise _fail(f"{where}.scope", "must be one of ACCOUNT, TRANSACTION")
    transaction = value.get("transaction")
    if transaction is not None and (
        not isinstance(transaction, str)
        or len(transaction) > 128
        or (transaction and not TRANSACTION_RE.match(transaction))
    ):
        raise _fail(f"{where}.transaction", "must be 0-128 characters of [a-zA-Z0-9_.-]")
    given = value.get("consents")
    if not isinstance(given, dict):
        raise _fail(f"{where}.consents", "is required: a map of consent name to string")
    if len(given) > MAX_CONSENTS:
        raise _fail(f"{where}.consents", f"at most {MAX_CONSENTS} consents")
    for key, text in given.items():
        if not CONSENT_KEY_RE.match(key):
            raise _fail(
                f"{where}.consents",
                f"consent names are 1-64 characters of [a-zA-Z0-9_.-] ('{key}')",
            )
        if not isinstance(text, str) or len(text) > MAX_CONSENT_VALUE:
            raise _fail(
                f"{where}.consents.{key}",
                f"must be a string of at most {MAX_CONSENT_VALUE} characters",
            )
    event.scope = scope
    event.transaction = transaction or None
    event.consents = dict(given)


def parse_events(body: Any, now: datetime) -> list[EventIn]:
    """Every item checked before anything is stored; the first error is raised."""
    if not isinstance(body, list):
        raise _fail("body", "must be a JSON array of events")
    if len(body) > MAX_EVENTS:
        raise _fail("body", f"at most {MAX_EVENTS} events per request")
    events = []
    for index, item in enumerate(body):
        at = f"[{index}]"
        if not isinstance(item, dict):
            raise _fail(at, "must be an object")
        account = _id(item, "account", at)
        card = _id(item, "card", at)
        if account is None and card is None:
            raise _fail(f"{at}.account", "an event needs its account (account or card)")
        kind = item.get("type")
        if kind not in TYPES:
            raise _fail(f"{at}.type", "is required: one of INVITED_BY, INVITED, FRIEND, UNKNOWN")
        other = item.get("id")
        if not isinstance(other, str) or not ID_RE.match(other):
            raise _fail(
                f"{at}.id",
                "is required: the other account's id (3-64 characters of [a-zA-Z0-9._-])",
            )
        symmetry = item.get("doNotProcessSymmetry", False)
        if symmetry is None:
            symmetry = False
        if not isinstance(symmetry, bool):
            raise _fail(f"{at}.doNotProcessSymmetry", "must be a boolean")
        event = EventIn(
            index=index,
            account=account,
            card=card,
            type=kind,
            other=other,
            ts=_ts(item.get("ts"), f"{at}.ts", now),
            symmetric=not symmetry,
        )
        _consents(event, item.get("consents"), at)
        events.append(event)
    return events
