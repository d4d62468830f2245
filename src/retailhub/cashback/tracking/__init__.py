"""Clicks, transactions and SKU details: tracking links, postbacks, the status lifecycle."""
