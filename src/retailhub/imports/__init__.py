"""One import model for REST payloads and dropped files: validate, upsert, report."""
