"""Every table, one module each. Importing this package registers them all on ``Base``."""

from retailhub.models.base import Base
from retailhub.models.credential import Credential
from retailhub.models.customer import Customer
from retailhub.models.file_mapping import FileMapping
from retailhub.models.import_issue import ImportIssue
from retailhub.models.import_job import ImportJob
from retailhub.models.import_payload import ImportPayload
from retailhub.models.job import Job
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
    "Order",
    "OrderItem",
    "Product",
    "RatingSummary",
    "Review",
    "SshKey",
    "Tenant",
]
