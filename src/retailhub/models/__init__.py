"""Every table, one module each. Importing this package registers them all on ``Base``."""

from retailhub.models.api_key import ApiKey
from retailhub.models.base import Base
from retailhub.models.cashback_category import CashbackCategory
from retailhub.models.cashback_click import CashbackClick
from retailhub.models.cashback_deal import CashbackDeal
from retailhub.models.cashback_network import CashbackNetwork
from retailhub.models.cashback_sku_detail import CashbackSkuDetail
from retailhub.models.cashback_store import CashbackStore
from retailhub.models.cashback_store_category import CashbackStoreCategory
from retailhub.models.cashback_store_country import CashbackStoreCountry
from retailhub.models.cashback_store_logo import CashbackStoreLogo
from retailhub.models.cashback_store_tag import CashbackStoreTag
from retailhub.models.cashback_transaction import CashbackTransaction
from retailhub.models.cashback_transaction_change import CashbackTransactionChange
from retailhub.models.credential import Credential
from retailhub.models.customer import Customer
from retailhub.models.file_mapping import FileMapping
from retailhub.models.import_issue import ImportIssue
from retailhub.models.import_job import ImportJob
from retailhub.models.import_payload import ImportPayload
from retailhub.models.job import Job
from retailhub.models.loyalty_account import LoyaltyAccount
from retailhub.models.loyalty_account_tag import LoyaltyAccountTag
from retailhub.models.loyalty_account_venue import LoyaltyAccountVenue
from retailhub.models.loyalty_campaign import LoyaltyCampaign
from retailhub.models.loyalty_campaign_member import LoyaltyCampaignMember
from retailhub.models.loyalty_campaign_stat import LoyaltyCampaignStat
from retailhub.models.loyalty_coupon import LoyaltyCoupon
from retailhub.models.loyalty_coupon_lock import LoyaltyCouponLock
from retailhub.models.loyalty_coupon_redemption import LoyaltyCouponRedemption
from retailhub.models.loyalty_event import LoyaltyEvent
from retailhub.models.loyalty_notification import LoyaltyNotification
from retailhub.models.loyalty_push import LoyaltyPush
from retailhub.models.loyalty_wallet_entry import LoyaltyWalletEntry
from retailhub.models.order import Order
from retailhub.models.order_item import OrderItem
from retailhub.models.product import Product
from retailhub.models.rating_summary import RatingSummary
from retailhub.models.review import Review
from retailhub.models.ssh_key import SshKey
from retailhub.models.tenant import Tenant
from retailhub.models.webhook_attempt import WebhookAttempt
from retailhub.models.webhook_delivery import WebhookDelivery
from retailhub.models.webhook_endpoint import WebhookEndpoint
from retailhub.models.webhook_event import WebhookEvent

__all__ = [
    "ApiKey",
    "Base",
    "CashbackCategory",
    "CashbackClick",
    "CashbackDeal",
    "CashbackNetwork",
    "CashbackSkuDetail",
    "CashbackStore",
    "CashbackStoreCategory",
    "CashbackStoreCountry",
    "CashbackStoreLogo",
    "CashbackStoreTag",
    "CashbackTransaction",
    "CashbackTransactionChange",
    "Credential",
    "Customer",
    "FileMapping",
    "ImportIssue",
    "ImportJob",
    "ImportPayload",
    "Job",
    "LoyaltyAccount",
    "LoyaltyAccountTag",
    "LoyaltyAccountVenue",
    "LoyaltyCampaign",
    "LoyaltyCampaignMember",
    "LoyaltyCampaignStat",
    "LoyaltyCoupon",
    "LoyaltyCouponLock",
    "LoyaltyCouponRedemption",
    "LoyaltyEvent",
    "LoyaltyNotification",
    "LoyaltyPush",
    "LoyaltyWalletEntry",
    "Order",
    "OrderItem",
    "Product",
    "RatingSummary",
    "Review",
    "SshKey",
    "Tenant",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
]
