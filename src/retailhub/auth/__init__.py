"""Tenants' credentials, token issuing and checking."""
