"""Transactions: reporting (postback and operator), the status lifecycle, amounts, the
shopper's wallet credit, webhook events; and the affiliate networks that report them.

Every change of a transaction — its creation too — writes one ``CashbackTransactionChange``
row and its webhook events in the caller's transaction. Changes of one transaction are
serialized: PostgreSQL row-locks it (``FOR UPDATE``), SQLite's write transaction already
excludes other writers.
"""

from __future__ import annotations

import base64
import logging
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, update
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from retailhub.cashback.tracking import commission, publisher_settings, repository
from retailhub.cashback.tracking.schemas import SkuLine, TransactionRecord
from retailhub.cashback.tracking.views import money_text
from retailhub.errors import Conflict, DomainError, NotFound, Unauthorized
from retailhub.kit import clock
from retailhub.kit.sql import upsert
from retailhub.loyalty.account import service as account_service
from retailhub.loyalty.wallet import service as wallet_service
from retailhub.models import (
    CashbackClick,
    CashbackNetwork,
    CashbackSkuDetail,
    CashbackStore,
    CashbackTransaction,
    CashbackTransactionChange,
)
from retailhub.webhooks import events, outbox

log = logging.getLogger(__name__)

PENDING = "PENDING"
AVAILABLE = "AVAILABLE"
PAYMENT_INITIATED = "PAYMENT_INITIATED"
PAID = "PAID"
NON_COMMISSIONABLE = "NON_COMMISSIONABLE"
STATUSES = (PENDING, AVAILABLE, PAYMENT_INITIATED, PAID, NON_COMMISSIONABLE)
TRANSITIONS: Mapping[str, frozenset[str]] = {
    PENDING: frozenset({AVAILABLE, NON_COMMISSIONABLE}),
    AVAILABLE: frozenset({PAYMENT_INITIATED, NON_COMMISSIONABLE}),
    PAYMENT_INITIATED: frozenset({PAID}),
    PAID: frozenset(),
    NON_COMMISSIONABLE: frozenset(),
}
OPERATOR = "operator"
CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


def network_actor(network: CashbackNetwork) -> str:
    return f"network:{network.name}"


# --- networks ------------------------------------------------------------------------------


def new_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def create_network(session: Session, *, name: str) -> CashbackNetwork:
    if repository.network_by_name(session, name) is not None:
        raise Conflict(f"name: a network named '{name}' exists already", field="name")
    network = CashbackNetwork(name=name, secret=new_secret(), active=True, created_at=clock.now())
    session.add(network)
    session.flush()
    return network


def _network(session: Session, network_id: int) -> CashbackNetwork:
    network = session.get(CashbackNetwork, network_id)
    if network is None:
        raise NotFound(f"Network {network_id} not found")
    return network


def rotate_secret(session: Session, *, network_id: int) -> CashbackNetwork:
    """A new secret; the old one stops verifying at once."""
    network = _network(session, network_id)
    network.secret = new_secret()
    session.flush()
    return network


def deactivate_network(session: Session, *, network_id: int) -> CashbackNetwork:
    network = _network(session, network_id)
    network.active = False
    session.flush()
    return network


def authenticate_postback(
    session: Session, *, name: str | None, body: bytes, headers: Mapping[str, str]
) -> CashbackNetwork:
    """The active network named ``name`` whose secret signed ``body`` (Standard Webhooks:
    ``webhook-id``, ``webhook-timestamp`` within 5 minutes, ``webhook-signature``); 401
    otherwise."""
    network = repository.network_by_name(session, name) if name else None
    if network is None or not network.active:
        raise Unauthorized("X-Network: no active network has this name")
    try:
        Webhook(network.secret).verify(body, dict(headers), json_parse=False)
    except WebhookVerificationError as exc:
        raise Unauthorized(f"The postback signature is not valid: {exc}") from exc
    return network


# --- reporting -----------------------------------------------------------------------------


def report(
    session: Session, record: TransactionRecord, *, actor: str, network_id: int | None
) -> tuple[CashbackTransaction, str]:
    """Create the sale reported by ``record``, or update it when its store's order is known
    already. Returns the transaction and ``created``, ``updated`` or ``unchanged``."""
    click = repository.click_by_id(session, record.clickId)
    if click is None:
        log.warning(
            "transaction rejected: unknown clickId %r (order %r, %s)",
            record.clickId,
            record.orderNumber,
            actor,
        )
        raise DomainError(
            f"clickId: no click has id '{record.clickId}'", status=422, field="clickId"
        )
    existing = repository.lock_order(
        session, store_id=click.store_id, order_number=record.orderNumber
    )
    if existing is None:
        created = _create(session, record, click, actor=actor, network_id=network_id)
        if created is not None:
            return created, CREATED
        # Another request created it meanwhile: this report updates it.
        existing = repository.lock_order(
            session, store_id=click.store_id, order_number=record.orderNumber
        )
        assert existing is not None
    if existing.click_id != click.id:
        raise Conflict(
            f"orderNumber: order '{record.orderNumber}' of store {click.store_id} was reported "
            f"for click '{existing.click_id}'",
            field="orderNumber",
        )
    changed = _change(
        session,
        existing,
        status=record.status,
        sale_amount=record.saleAmount,
        currency=record.currency,
        commission_name=record.commissionName,
        comment=record.adminComment,
        actor=actor,
    )
    if record.skus is not None and _replace_skus(session, existing, record.skus):
        existing.updated_at = clock.now()
        changed = True
    return existing, UPDATED if changed else UNCHANGED


def _create(
    session: Session,
    record: TransactionRecord,
    click: CashbackClick,
    *,
    actor: str,
    network_id: int | None,
) -> CashbackTransaction | None:
    """Insert the transaction PENDING (None when the same order was inserted concurrently),
    then move it to the reported status."""
    store = session.get(CashbackStore, click.store_id)
    if store is None:
        raise DomainError(f"clickId: the click's store {click.store_id} does not exist", status=422)
    settings = publisher_settings.of_tenant(session, click.tenant_id)
    rate = commission.rate_for(
        store.commission_value,
        store.commission_format,
        store.commission_details,
        record.commissionName,
    )
    amount = commission.commission_amount(record.saleAmount, record.currency, rate)
    now = clock.now()
    row = {
        "tenant_id": click.tenant_id,
        "click_id": click.id,
        "network_id": network_id,
        "store_id": click.store_id,
        "shopper_id": click.shopper_id,
        "sid": click.sid,
        "order_number": record.orderNumber,
        "status": PENDING,
        "currency": record.currency,
        "sale_amount": record.saleAmount,
        "commission_amount": amount,
        "share": settings.share,
        "tier": settings.tier,
        "shopper_commission": commission.shopper_commission(amount, settings.share),
        "purchase_date": record.purchaseDate,
        "pending_date": now,
        "admin_comment": record.adminComment,
        "is_sku_details_brand": bool(record.skus),
        "created_at": now,
        "updated_at": now,
    }
    new_id = session.scalar(
        upsert(session, CashbackTransaction.__table__)
        .values(row)
        .on_conflict_do_nothing(index_elements=["store_id", "order_number"])
        .returning(CashbackTransaction.id)
    )
    if new_id is None:
        return None
    transaction = session.get_one(CashbackTransaction, new_id)
    if record.skus:
        _replace_skus(session, transaction, record.skus)
    session.execute(
        update(CashbackClick)
        .where(CashbackClick.id == click.id, CashbackClick.transaction_id.is_(None))
        .values(transaction_id=new_id)
    )
    _log(session, transaction, actor=actor, old=None, comment=record.adminComment, now=now)
    _emit(session, transaction.tenant_id, events.NEW_TRANSACTION, [new_id], {"newStatus": PENDING})
    if record.status != PENDING:
        _change(
            session,
            transaction,
            status=record.status,
            sale_amount=None,
            currency=None,
            commission_name=None,
            comment=record.adminComment,
            actor=actor,
        )
    return transaction


def _replace_skus(
    session: Session, transaction: CashbackTransaction, lines: Sequence[SkuLine]
) -> bool:
    """Make the transaction's SKU lines these; False when they are these already."""
    current = repository.sku_lines(session, transaction.id)
    wanted = [(x.sku, x.itemName, x.category, x.quantity, x.price) for x in lines]
    if [(x.sku, x.item_name, x.category, x.quantity, x.price) for x in current] == wanted:
        return False
    session.execute(
        delete(CashbackSkuDetail).where(CashbackSkuDetail.transaction_id == transaction.id)
    )
    now = clock.now()
    session.add_all(
        CashbackSkuDetail(
            tenant_id=transaction.tenant_id,
            transaction_id=transaction.id,
            sku=sku,
            item_name=name,
            category=category,
            quantity=quantity,
            price=price,
            created_at=now,
        )
        for sku, name, category, quantity, price in wanted
    )
    transaction.is_sku_details_brand = bool(wanted)
    session.flush()
    return True


def _invalid(exc: ValidationError) -> DomainError:
    error = exc.errors()[0]
    field = ".".join(str(p) for p in error.get("loc", ())) or None
    return DomainError(f"{field or 'record'}: {error.get('msg', 'invalid')}", field=field)


def parse_record(payload: Any) -> TransactionRecord:
    """A record of a postback or operator body (400 naming the field when invalid)."""
    try:
        return TransactionRecord.model_validate(payload)
    except ValidationError as exc:
        raise _invalid(exc) from exc


def report_batch(
    session: Session, payloads: Sequence[Any], *, actor: str, network_id: int | None
) -> list[dict[str, Any]]:
    """Report each record on its own (a savepoint each): a bad record is answered with its
    status and message and changes nothing; the good ones are kept."""
    results: list[dict[str, Any]] = []
    for index, payload in enumerate(payloads):
        try:
            with session.begin_nested():
                record = parse_record(payload)
                transaction, result = report(session, record, actor=actor, network_id=network_id)
        except DomainError as exc:
            failed: dict[str, Any] = {"index": index, "status": exc.status, "message": exc.message}
            if exc.field is not None:
                failed["field"] = exc.field
            results.append(failed)
            continue
        results.append(
            {
                "index": index,
                "status": 201 if result == CREATED else 200,
                "result": result,
                "transactionId": transaction.id,
            }
        )
    return results


# --- changes -------------------------------------------------------------------------------


def check_move(old: str, new: str, comment: str | None, transaction_id: int | None = None) -> None:
    """409 unless ``old`` → ``new`` is a step of the lifecycle; NON_COMMISSIONABLE needs a
    comment (400)."""
    if new not in TRANSITIONS[old]:
        which = f"transaction {transaction_id}: " if transaction_id is not None else ""
        raise Conflict(f"status: {which}cannot move from {old} to {new}", field="status")
    if new == NON_COMMISSIONABLE and not comment:
        raise DomainError(
            "adminComment: required to move a transaction to NON_COMMISSIONABLE",
            field="adminComment",
        )


def _change(
    session: Session,
    transaction: CashbackTransaction,
    *,
    status: str | None,
    sale_amount: Decimal | None,
    currency: str | None,
    commission_name: str | None,
    comment: str | None,
    actor: str,
) -> bool:
    """Apply what differs (amounts, status, comment) as one change; False when nothing
    does."""
    new_sale = sale_amount if sale_amount is not None else transaction.sale_amount
    new_currency = currency if currency is not None else transaction.currency
    amounts = new_sale != transaction.sale_amount or new_currency != transaction.currency
    moves = status is not None and status != transaction.status
    remarks = comment is not None and comment != transaction.admin_comment
    if not (amounts or moves or remarks):
        return False
    if amounts and transaction.status != PENDING:
        raise Conflict(
            f"saleAmount: the amounts of a {transaction.status} transaction cannot change "
            "(only PENDING ones can)",
            field="saleAmount",
        )
    if moves:
        assert status is not None
        check_move(transaction.status, status, comment)
    old = _snapshot(transaction)
    now = clock.now()
    if amounts:
        _set_amounts(session, transaction, new_sale, new_currency, commission_name)
    if remarks:
        transaction.admin_comment = comment
    if moves:
        assert status is not None
        _enter(session, transaction, status, now)
    transaction.updated_at = now
    _log(session, transaction, actor=actor, old=old, comment=comment, now=now)
    _changed_events(session, transaction, old)
    return True


def _snapshot(transaction: CashbackTransaction) -> tuple[str, Decimal, Decimal]:
    return transaction.status, transaction.sale_amount, transaction.shopper_commission


def _set_amounts(
    session: Session,
    transaction: CashbackTransaction,
    sale_amount: Decimal,
    currency: str,
    commission_name: str | None,
) -> None:
    """New amounts, the commission recomputed with the store's current commission (and the
    transaction's own share)."""
    store = session.get_one(CashbackStore, transaction.store_id)
    rate = commission.rate_for(
        store.commission_value, store.commission_format, store.commission_details, commission_name
    )
    amount = commission.commission_amount(sale_amount, currency, rate)
    transaction.sale_amount = sale_amount
    transaction.currency = currency
    transaction.commission_amount = amount
    transaction.shopper_commission = commission.shopper_commission(amount, transaction.share)


def _enter(session: Session, transaction: CashbackTransaction, status: str, now: datetime) -> None:
    transaction.status = status
    if status == AVAILABLE:
        transaction.availability_date = now
        _credit_wallet(session, transaction)
    elif status == PAID:
        transaction.payment_date = now
    elif status == NON_COMMISSIONABLE and transaction.wallet_points:
        wallet_service.reverse_for_orders(
            session, tenant_id=transaction.tenant_id, order_numbers=[_wallet_order(transaction)]
        )


def _wallet_order(transaction: CashbackTransaction) -> str:
    """Ties the wallet earn to the transaction, so a reversal finds it (once)."""
    return f"cashback:{transaction.id}"


def _credit_wallet(session: Session, transaction: CashbackTransaction) -> None:
    """floor(shopperCommission * pointsPerUnit) points to the shopper's loyalty wallet, when
    the publisher enabled it and the shopper id can be a loyalty account id."""
    settings = publisher_settings.of_tenant(session, transaction.tenant_id)
    if not settings.wallet_credit:
        return
    points = int(
        (transaction.shopper_commission * settings.points_per_unit).to_integral_value(ROUND_FLOOR)
    )
    if points < 1:
        return
    try:
        account = account_service.ensure_account(
            session, tenant_id=transaction.tenant_id, account_id=transaction.shopper_id
        )
    except DomainError:
        log.warning(
            "transaction %s: shopper id %r is not a loyalty account id; no wallet credit",
            transaction.id,
            transaction.shopper_id,
        )
        return
    order = _wallet_order(transaction)
    wallet_service.earn(
        session,
        tenant_id=transaction.tenant_id,
        account_pk=account.id,
        points=points,
        source=order,
        order_number=order,
    )
    transaction.wallet_points = points


def _log(
    session: Session,
    transaction: CashbackTransaction,
    *,
    actor: str,
    old: tuple[str, Decimal, Decimal] | None,
    comment: str | None,
    now: datetime,
) -> None:
    old_status, old_sale, old_shopper = old if old is not None else (None, None, None)
    session.add(
        CashbackTransactionChange(
            transaction_id=transaction.id,
            tenant_id=transaction.tenant_id,
            changed_at=now,
            actor=actor,
            old_status=old_status,
            new_status=transaction.status,
            old_sale_amount=old_sale,
            new_sale_amount=transaction.sale_amount,
            old_shopper_commission=old_shopper,
            new_shopper_commission=transaction.shopper_commission,
            admin_comment=comment,
        )
    )
    session.flush()


def _emit(
    session: Session, tenant_id: int, event_type: str, ids: list[int], changes: dict[str, Any]
) -> None:
    # One ordering key per publisher: its transaction events arrive in the order they happened.
    outbox.emit(
        session,
        tenant_id=tenant_id,
        event_type=event_type,
        data={"transactions": ids, "changes": changes},
        ordering_key=f"transactions:{tenant_id}",
    )


def _changed_events(
    session: Session, transaction: CashbackTransaction, old: tuple[str, Decimal, Decimal]
) -> None:
    old_status, old_sale, old_shopper = old
    if old_sale != transaction.sale_amount or old_shopper != transaction.shopper_commission:
        _emit(
            session,
            transaction.tenant_id,
            events.CASHBACK_VALUE_CHANGE,
            [transaction.id],
            {
                "newCashbackValue": money_text(transaction.shopper_commission),
                "oldCashbackValue": money_text(old_shopper),
                "newSaleAmount": money_text(transaction.sale_amount),
                "oldSaleAmount": money_text(old_sale),
            },
        )
    if old_status != transaction.status:
        _emit(
            session,
            transaction.tenant_id,
            events.TRANSACTION_STATUS_UPDATE,
            [transaction.id],
            {"newStatus": transaction.status, "oldStatus": old_status},
        )


def _locked(session: Session, transaction_id: int) -> CashbackTransaction:
    found = repository.lock_transactions(session, [transaction_id])
    if not found:
        raise NotFound(f"Transaction {transaction_id} not found")
    return found[0]


def patch(
    session: Session,
    *,
    transaction_id: int,
    status: str | None,
    admin_comment: str | None,
    sale_amount: Decimal | None,
    commission_name: str | None,
    actor: str,
) -> CashbackTransaction:
    """The operator changes one transaction's status, comment or sale amount."""
    transaction = _locked(session, transaction_id)
    _change(
        session,
        transaction,
        status=status,
        sale_amount=sale_amount,
        currency=None,
        commission_name=commission_name,
        comment=admin_comment,
        actor=actor,
    )
    return transaction


def move_many(
    session: Session, *, ids: Sequence[int], status: str, admin_comment: str | None, actor: str
) -> dict[str, list[int]]:
    """Move every transaction of ``ids`` to ``status``, all or nothing: an unknown id (404)
    or an illegal move (409) changes none. Those at ``status`` already are left as they are.
    One TRANSACTION_STATUS_UPDATE per publisher and previous status names all its ids."""
    wanted = sorted(set(ids))
    rows = repository.lock_transactions(session, wanted)
    missing = sorted(set(wanted) - {row.id for row in rows})
    if missing:
        raise NotFound(f"ids: no transactions {', '.join(map(str, missing))}", field="ids")
    moving = [row for row in rows if row.status != status]
    unchanged = [row.id for row in rows if row.status == status]
    for row in moving:
        check_move(row.status, status, admin_comment, row.id)
    now = clock.now()
    groups: dict[tuple[int, str], list[int]] = {}
    for row in moving:
        old = _snapshot(row)
        if admin_comment is not None:
            row.admin_comment = admin_comment
        _enter(session, row, status, now)
        row.updated_at = now
        _log(session, row, actor=actor, old=old, comment=admin_comment, now=now)
        groups.setdefault((row.tenant_id, old[0]), []).append(row.id)
    for (tenant_id, old_status), group in sorted(groups.items()):
        _emit(
            session,
            tenant_id,
            events.TRANSACTION_STATUS_UPDATE,
            group,
            {"newStatus": status, "oldStatus": old_status},
        )
    return {
        "updated": [row.id for row in moving],
        "unchanged": unchanged,
    }
