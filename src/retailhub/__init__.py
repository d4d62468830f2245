"""Retailhub: a self-hostable retail data and loyalty platform."""

__version__ = "0.1.0"
