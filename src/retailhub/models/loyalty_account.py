from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK, utcnow


class LoyaltyAccount(Base):
    """A loyalty member. Imported customers become accounts (``customer_id``); accounts can
    also be created by the loyalty API (token exchange for a new id, events).

    ``counters`` holds the order aggregates (see ``loyalty.account.counters``) and
    ``properties`` the free-form map, both as JSON so constraints read them in SQL.
    Tags and venues are rows of their own tables so membership tests use an index."""

    __tablename__ = "loyalty_accounts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "account_id"),
        UniqueConstraint("tenant_id", "card"),
        UniqueConstraint("tenant_id", "customer_id"),
        Index("ix_loyalty_accounts_tenant_id_email", "tenant_id", "email"),
        Index("ix_loyalty_accounts_tenant_id_customer_number", "tenant_id", "customer_number"),
        Index("ix_loyalty_accounts_tenant_id_birthday_md", "tenant_id", "birthday_md"),
        Index("ix_loyalty_accounts_tenant_id_segment", "tenant_id", "segment"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    account_id: Mapped[str] = mapped_column(String(64))
    card: Mapped[str | None] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    customer_number: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    first_name: Mapped[str | None] = mapped_column(String(128))
    last_name: Mapped[str | None] = mapped_column(String(128))
    birthdate: Mapped[date | None] = mapped_column(Date)
    # month * 100 + day of the birthdate: lets yearly (BIRTHDAY) selection stay portable SQL.
    birthday_md: Mapped[int | None]
    sex: Mapped[str | None] = mapped_column(String(8))
    push_id: Mapped[str | None] = mapped_column(String(64))
    mgm: Mapped[str | None] = mapped_column(String(64))
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
    counters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    consents: Mapped[dict[str, Any]] = mapped_column(default=dict)
    important_tags: Mapped[list[Any]] = mapped_column(default=list)
    relations: Mapped[list[Any]] = mapped_column(default=list)
    segment: Mapped[str] = mapped_column(String(16), default="new")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_order_at: Mapped[datetime | None]
    last_event_at: Mapped[datetime | None]
    last_logged_at: Mapped[datetime | None]
