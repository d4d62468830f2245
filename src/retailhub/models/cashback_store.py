from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from retailhub.models.base import Base, BigIntPK, utcnow


class CashbackStore(Base):
    """A store of the network's global catalog (shared by every publisher).

    ``countries`` and ``tags`` are kept here for display and in their own tables for
    filtering; ``active`` false means removed (clicks and transactions keep referring to it).
    """

    __tablename__ = "cashback_stores"
    __table_args__ = (
        Index("ix_cashback_stores_active_name", "active", "name"),
        Index("ix_cashback_stores_home", "home"),
        # The search ranks name matches first and orders each rank by ``name_key``: a btree
        # (equal, prefix, order) and, on PostgreSQL, a trigram index (substring).
        Index("ix_cashback_stores_name_key", "name_key"),
        Index(
            "ix_cashback_stores_name_key_trgm",
            "name_key",
            postgresql_using="gin",
            postgresql_ops={"name_key": "gin_trgm_ops"},
        ),
        # Substring search in descriptions: a trigram index on PostgreSQL.
        Index(
            "ix_cashback_stores_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    # Operator-chosen ids are kept (the catalog file's ``id``); otherwise generated.
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(2048))
    seo_friendly_id: Mapped[str] = mapped_column(String(220))
    language: Mapped[str] = mapped_column(String(8), default="en")
    description: Mapped[str | None] = mapped_column(Text)
    commission_value: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    # "%" or an ISO 4217 currency code (a fixed amount per sale).
    commission_format: Mapped[str] = mapped_column(String(3))
    # [{"name": ..., "commission": {"value": ..., "format": ...}}]
    commission_details: Mapped[list[Any]] = mapped_column(default=list)
    # An ISO 3166-1 alpha-2 country: where the store primarily operates.
    home: Mapped[str | None] = mapped_column(String(8))
    countries: Mapped[list[Any]] = mapped_column(default=list)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    store_terms: Mapped[str | None] = mapped_column(Text)
    general_terms: Mapped[str | None] = mapped_column(Text)
    specific_terms: Mapped[str | None] = mapped_column(Text)
    # {"line1", "line2", "city", "region", "zip", "country"} or None.
    address: Mapped[dict[str, Any] | None]
    # [{"language", "isDefault", "description", "storeTerms", "generalTerms", "specificTerms"}]
    alternative_content: Mapped[list[Any]] = mapped_column(default=list)
    # What the store search reads: the lower-cased name (``name_key``) and description
    # (``search_text``), kept apart so the planner estimates each match on its own.
    # ``name_key`` is in byte order ("C" collation on PostgreSQL, SQLite's own), so one
    # btree serves prefix matching and ordering alike.
    name_key: Mapped[str] = mapped_column(
        String(200).with_variant(String(200, collation="C"), "postgresql"), default=""
    )
    search_text: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
