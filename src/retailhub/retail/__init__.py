"""Imported retail data and its read APIs."""
