"""Webhooks for the whole platform, delivered per the Standard Webhooks spec from an outbox."""
