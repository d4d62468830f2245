"""Every table, one module each. Importing this package registers them all on ``Base``."""

from retailhub.models.base import Base
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

__all__ = [
    "Base",
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
]
