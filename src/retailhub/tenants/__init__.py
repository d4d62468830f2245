"""Tenants and their integrations."""
