"""Record schemas of the Listrak Data Import API, exactly as its Swagger file defines them
(``shared/specs/listrak-data-openapi.json``): field names, types, ``maxLength``, enums and
required flags, nested ones included. One rule set for REST and file imports.

Lenient where Listrak's own .NET deserializer is lenient: numbers are accepted for string
fields, enum names match case-insensitively (or by their numeric code), booleans accept
``"true"``/``"false"``/``0``/``1``. Timestamps without a zone are US Eastern and stored as UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, NotRequired, Required

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, TypeAdapter
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict

from retailhub.kit.timeutil import to_utc

DISCOUNT_TYPES = (
    "NotSet",
    "PriceOverride",
    "PriceRule",
    "Promotion",
    "SeniorCitizen",
    "Markdown",
    "Coupon",
    "QuantityDiscount",
    "Rebate",
    "CashDiscount",
    "TradeDiscount",
    "TradeInKind",
    "PromptPaymentDiscount",
    "GeneralDiscount",
    "GiftVoucher",
    "FlexibleDiscount",
    "RewardProgram",
    "ManufacturerReward",
    "CreditCardReward",
)
STATUSES = (
    "NotSet",
    "Misc",
    "PreOrder",
    "BackOrder",
    "Pending",
    "Hold",
    "Processing",
    "Shipped",
    "Completed",
    "Returned",
    "Canceled",
    "Unknown",
    "Closed",
)

CONFIG = ConfigDict(coerce_numbers_to_str=True, str_strip_whitespace=False)


def _enum(names: tuple[str, ...]) -> Any:
    by_lower = {name.lower(): name for name in names}

    def normalize(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool):
            pass
        elif isinstance(value, int) and 0 <= value < len(names):
            return names[value]
        elif isinstance(value, str):
            found = by_lower.get(value.strip().lower())
            if found is not None:
                return found
            if value.strip().isdigit() and int(value) < len(names):
                return names[int(value)]
        raise PydanticCustomError(
            "enum", "Input should be one of: {expected}", {"expected": ", ".join(names)}
        )

    return BeforeValidator(normalize)


def Str(max_length: int | None = None) -> Any:
    if max_length is None:
        return str | None
    return Annotated[str, Field(max_length=max_length)] | None


Int32 = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)] | None
Double = Annotated[float, Field(allow_inf_nan=False)] | None
DateTime = Annotated[datetime, AfterValidator(to_utc)] | None
Bool = bool | None
DiscountType = Annotated[str | None, _enum(DISCOUNT_TYPES)]
Status = Annotated[str | None, _enum(STATUSES)]


class Address(TypedDict, total=False):
    __pydantic_config__ = CONFIG  # type: ignore[misc]
    address1: Str(100)
    address2: Str(100)
    address3: Str(100)
    city: Str(100)
    country: Str(100)
    state: Str(100)


class Loyalty(TypedDict, total=False):
    __pydantic_config__ = CONFIG  # type: ignore[misc]
    activeLoyaltyMember: Bool
    availablePoints: Int32
    currentTierLevel: Str(100)
    enrollDate: DateTime
    expiringPoints: Int32
    lastActivityDate: DateTime
    lastPointEarnedDate: DateTime
    lastPointRedemptionDate: DateTime
    lifetimePoints: Int32
    loyaltySignUpSource: Str(100)
    monthlyPoints: Int32
    nextTierLevel: Str(100)
    numberOfReferrals: Int32
    pendingPoints: Int32
    personOfReferred: Str(250)
    pointExpirationDate: DateTime
    pointsToNext: Int32
    referralCode: Str(100)
    referralUrl: Str(250)
    rewardsAvailable: Str(250)
    rewardsClaimed: Str(250)
    rewardsID: Str(250)
    spentPoints: Int32
    tierID: Str(100)
    weeklyPoints: Int32


class Social(TypedDict, total=False):
    __pydantic_config__ = CONFIG  # type: ignore[misc]
    facebookID: Str(100)
    facebookNumberOfFriends: Int32
    instagramID: Str(100)
    instagramNumberOfFollowers: Int32
    twitterID: Str(100)
    twitterNumberOfFollowers: Int32


class Customer(TypedDict, total=False):
    __pydantic_config__ = CONFIG  # type: ignore[misc]
    address: Address | None
    birthday: DateTime
    customerNumber: Str(20)
    email: Str(100)
    firstName: Str(50)
    gender: Str(50)
    homePhone: Str(50)
    lastName: Str(50)
    loyalty: Loyalty | None
    meta1: Str(250)
    meta2: Str(250)
    meta3: Str(250)
    meta4: Str(250)
    meta5: Str(250)
    mobilePhone: Str(50)
    preferredStoreNumber: Str(100)
    registered: Bool
    social: Social | None
    workPhone: Str(50)
    zipCode: Str(20)


class BillingAddress(TypedDict, total=False):
    __pydantic_config__ = CONFIG  # type: ignore[misc]
    firstName: Str()
    lastName: Str()
    mobilePhone: Str()
    phone: Str()
    zipCode: Str()
    address1: Str(100)
    address2: Str(100)
    address3: Str(100)
    city: Str(100)
    country: Str(100)
    state: Str(100)


class ShippingAddress(TypedDict, total=False):
    __pydantic_config__ = CONFIG  # type: ignore[misc]
    firstName: Str(50)
    lastName: Str(50)
    phone: Str()
    zipCode: Str()
    address1: Str(100)
    address2: Str(100)
    address3: Str(100)
    city: Str(100)
    country: Str(100)
    state: Str(100)


_META_500 = {f"meta{i}": Str(500) for i in range(1, 6)}


class OrderItem(TypedDict, total=False):
    __pydantic_config__ = CONFIG  # type: ignore[misc]
    discountDescription: Str()
    discountType: DiscountType
    discountedPrice: Double
    itemTotal: Double
    itemDiscountTotal: Double
    meta1: Str(500)
    meta2: Str(500)
    meta3: Str(500)
    meta4: Str(500)
    meta5: Str(500)
    orderNumber: Required[Annotated[str, Field(max_length=50)]]
    price: Double
    quantity: Int32
    shipDate: DateTime
    shippingMethod: Str(32)
    sku: Required[Annotated[str, Field(max_length=100)]]
    status: Status
    trackingNumber: Str(32)


class Order(TypedDict, total=False):
    __pydantic_config__ = CONFIG  # type: ignore[misc]
    associateID: Str()
    billingAddress: BillingAddress | None
    couponCode: Str(32)
    customer: Customer | None
    customerNumber: Str(20)
    dateEntered: DateTime
    discountTotal: Double
    email: Str(100)
    handlingTotal: Double
    items: list[OrderItem] | None
    itemTotal: Double
    merchandiseDiscount: Double
    merchandiseDiscountDescription: Str()
    merchandiseDiscountType: DiscountType
    meta1: Str(500)
    meta2: Str(500)
    meta3: Str(500)
    meta4: Str(500)
    meta5: Str(500)
    nonMerchandiseDiscount: Double
    nonMerchandiseDiscountDescription: Str()
    nonMerchandiseDiscountType: DiscountType
    orderNumber: Required[Annotated[str, Field(max_length=50)]]
    orderTotal: Double
    shipDate: DateTime
    shippingAddress: ShippingAddress | None
    shippingMethod: Str(32)
    shippingTotal: Double
    source: Str(25)
    status: Status
    storeNumber: Str(100)
    taxTotal: Double
    trackingNumber: Str(32)


class AlternateImage(TypedDict, total=False):
    __pydantic_config__ = CONFIG  # type: ignore[misc]
    rank: Int32
    url: Str()


class RelatedProduct(TypedDict, total=False):
    __pydantic_config__ = CONFIG  # type: ignore[misc]
    rank: Int32
    sku: Str()
    type: Str()


class Product(TypedDict, total=False):
    __pydantic_config__ = CONFIG  # type: ignore[misc]
    alternateImagesType1: list[AlternateImage] | None
    alternateImagesType2: list[AlternateImage] | None
    alternateImagesType3: list[AlternateImage] | None
    brand: Str(50)
    category: Str(50)
    color: Str(100)
    description: Str(4000)
    discontinued: Bool
    gender: Str(50)
    imageUrl: Str(500)
    inStock: Bool
    isClearance: Bool
    isOutlet: Bool
    isPurchasable: Bool
    isViewable: Bool
    linkUrl: Str(500)
    masterSku: Str(100)
    meta1: Str(500)
    meta2: Str(500)
    meta3: Str(500)
    meta4: Str(500)
    meta5: Str(500)
    msrp: Double
    onSale: Bool
    price: Double
    qoh: Int32
    relatedProducts: list[RelatedProduct] | None
    reviewProductID: Str(100)
    reviewURL: Str(500)
    saleEndDate: DateTime
    salePrice: Double
    saleStartDate: DateTime
    size: Str(50)
    sku: Required[Annotated[str, Field(max_length=100)]]
    style: Str(100)
    subCategory: Str(50)
    title: Str(500)
    unitCost: Double
    tags: Str()


class RatingSummaryField(TypedDict, total=False):
    __pydantic_config__ = CONFIG  # type: ignore[misc]
    count: Int32
    deleted: Bool
    displayType: Str()
    providerRatingSummaryID: Required[str]
    rating: Required[Annotated[float, Field(allow_inf_nan=False)]]
    ratingMax: Double
    ratingMin: Double
    type: Str()


class RatingSummary(TypedDict, total=False):
    __pydantic_config__ = CONFIG  # type: ignore[misc]
    provider: Str()
    providerProductID: Str(100)
    ratingSummaries: list[RatingSummaryField] | None


class Rating(TypedDict, total=False):
    __pydantic_config__ = CONFIG  # type: ignore[misc]
    deleted: Bool
    displayType: Required[Annotated[str, Field(max_length=50)]]
    providerRatingID: Required[Annotated[str, Field(max_length=100)]]
    ratingMax: Required[Annotated[float, Field(allow_inf_nan=False)]]
    ratingMin: Required[Annotated[float, Field(allow_inf_nan=False)]]
    ratingValue: Required[Annotated[float, Field(allow_inf_nan=False)]]
    type: Required[Annotated[str, Field(max_length=100)]]


class Review(TypedDict, total=False):
    __pydantic_config__ = CONFIG  # type: ignore[misc]
    deleted: Bool
    featured: Required[bool]
    feedbackCount: Int32
    feedbackNegativeCount: Int32
    feedbackPositiveCount: Int32
    provider: Required[Annotated[str, Field(max_length=50)]]
    providerProductID: Required[Annotated[str, Field(max_length=100)]]
    providerReviewID: Required[Annotated[str, Field(max_length=100)]]
    ratings: list[Rating] | None
    recommended: Required[bool]
    reviewerEmail: Str(100)
    reviewerLocation: Str(500)
    reviewerName: Str(500)
    reviewSubmitted: DateTime
    reviewUpdated: DateTime
    text: Str()
    title: Required[Annotated[str, Field(max_length=500)]]


ADAPTERS: dict[str, TypeAdapter[Any]] = {
    "Customer": TypeAdapter(Customer),
    "Order": TypeAdapter(Order),
    "OrderItem": TypeAdapter(OrderItem),
    "Product": TypeAdapter(Product),
    "RatingSummary": TypeAdapter(RatingSummary),
    "Review": TypeAdapter(Review),
}

# Top-level field names, to warn once per import about fields the schema does not know.
KNOWN_FIELDS: dict[str, frozenset[str]] = {
    name: frozenset(td.__annotations__)
    for name, td in {
        "Customer": Customer,
        "Order": Order,
        "OrderItem": OrderItem,
        "Product": Product,
        "RatingSummary": RatingSummary,
        "Review": Review,
    }.items()
}
_ = NotRequired  # re-exported for symmetry with Required in downstream schemas
