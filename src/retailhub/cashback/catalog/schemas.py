"""The catalog's write shapes (operator API and importer), in the document's field names.

Every rule lives here, so the operator API and the importer reject the same records with the
same field names.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from retailhub.cashback.catalog.regions import GLOBAL, ISO_COUNTRIES

TAGS = (
    "b2bStores",
    "bopisStores",
    "extraCashback",
    "newCustomers",
    "toolbarAllowed",
    "topStores",
)
DEAL_TYPES = ("COUPON", "FREE_SHIPPING", "SALE_DISCOUNT", "NEW_PRODUCT")
LOGO_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml")
_CURRENCY = re.compile(r"[A-Z]{3}")
_URL = re.compile(r"https?://[^\s/$.?#][^\s]*", re.IGNORECASE)
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

Text = Annotated[str, Field(max_length=100_000)]


def slugify(name: str) -> str:
    """``Babies & Kids`` → ``babies-kids``."""
    return "-".join(re.findall(r"[a-z0-9]+", name.lower())) or "store"


class Schema(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", str_strip_whitespace=True
    )


class Commission(Schema):
    value: Decimal = Field(ge=0, max_digits=12, decimal_places=4)
    # "%" or an ISO 4217 currency code (a fixed amount).
    format: str

    @model_validator(mode="after")
    def _format(self) -> Commission:
        if self.format != "%" and not _CURRENCY.fullmatch(self.format):
            raise ValueError("format must be % or a 3-letter currency code")
        if self.format == "%" and self.value > 100:
            raise ValueError("a percentage commission is at most 100")
        return self


class CommissionDetail(Schema):
    name: str = Field(min_length=1, max_length=200)
    commission: Commission


class Address(Schema):
    line1: str = Field(min_length=1, max_length=300)
    line2: str | None = Field(default=None, max_length=300)
    city: str | None = Field(default=None, max_length=200)
    region: str | None = Field(default=None, max_length=200)
    zip: str | None = Field(default=None, max_length=40)
    country: str | None = Field(default=None, max_length=100)


class AlternativeContent(Schema):
    language: str = Field(min_length=2, max_length=8)
    is_default: bool = False
    description: Text | None = None
    store_terms: Text | None = None
    general_terms: Text | None = None
    specific_terms: Text | None = None


def _country(code: str) -> str:
    code = code.strip().upper()
    if code not in ISO_COUNTRIES:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return code


class StoreIn(Schema):
    """A whole store: what POST/PUT send, what PATCH merges into, one record of an import."""

    id: int | None = Field(default=None, ge=1, le=2**53)
    name: str = Field(min_length=1, max_length=200)
    url: str = Field(max_length=2048)
    seo_friendly_id: str | None = Field(default=None, max_length=220)
    language: str = Field(default="en", min_length=2, max_length=8)
    description: Text | None = None
    commission: Commission
    commission_details: list[CommissionDetail] = Field(default_factory=list, max_length=100)
    home: str | None = None
    countries: list[str] = Field(default_factory=list, max_length=300)
    categories: list[Annotated[str, Field(min_length=1, max_length=120)]] = Field(
        default_factory=list, max_length=50
    )
    tags: list[str] = Field(default_factory=list)
    store_terms: Text | None = None
    general_terms: Text | None = None
    specific_terms: Text | None = None
    address: Address | None = None
    alternative_content: list[AlternativeContent] = Field(default_factory=list, max_length=50)
    # False: removed (hidden from publishers); a full write without it restores the store.
    active: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not _URL.fullmatch(value):
            raise ValueError("url must be an http(s) URL")
        return value

    @field_validator("seo_friendly_id")
    @classmethod
    def _seo(cls, value: str | None) -> str | None:
        if value is not None and not _SLUG.fullmatch(value):
            raise ValueError("seoFriendlyId must be lower-case letters and digits joined by -")
        return value

    @field_validator("home")
    @classmethod
    def _home(cls, value: str | None) -> str | None:
        return _country(value) if value else None

    @field_validator("countries")
    @classmethod
    def _countries(cls, values: list[str]) -> list[str]:
        out: list[str] = []
        for value in values:
            code = GLOBAL if value.strip().upper() == GLOBAL else _country(value)
            if code not in out:
                out.append(code)
        return out

    @field_validator("tags")
    @classmethod
    def _tags(cls, values: list[str]) -> list[str]:
        for value in values:
            if value not in TAGS:
                raise ValueError(f"unknown tag {value!r}; tags are {', '.join(TAGS)}")
        return sorted(set(values), key=TAGS.index)

    @field_validator("categories")
    @classmethod
    def _categories(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(values))


class CategoryIn(Schema):
    name: str = Field(min_length=1, max_length=120)
    seo_friendly_id: str | None = Field(default=None, max_length=140)

    @field_validator("seo_friendly_id")
    @classmethod
    def _seo(cls, value: str | None) -> str | None:
        if value is not None and not _SLUG.fullmatch(value):
            raise ValueError("seoFriendlyId must be lower-case letters and digits joined by -")
        return value


class DealIn(Schema):
    store_id: int = Field(ge=1)
    title: str = Field(min_length=1, max_length=300)
    description: Text | None = None
    deal_type: str
    coupon_code: str | None = Field(default=None, max_length=100)
    start_date: datetime | None = None
    end_date: datetime | None = None

    @field_validator("deal_type")
    @classmethod
    def _type(cls, value: str) -> str:
        if value not in DEAL_TYPES:
            raise ValueError(f"dealType must be one of {', '.join(DEAL_TYPES)}")
        return value

    @field_validator("start_date", "end_date")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("dates carry a time zone (e.g. 2025-04-10T00:00:00Z)")
        return value.astimezone(UTC) if value is not None else None

    @model_validator(mode="after")
    def _order(self) -> DealIn:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("endDate is before startDate")
        return self
