"""A completed upload becomes an import job."""

from __future__ import annotations

from pathlib import Path


def upload_complete(slug: str, path: Path, source: str) -> str | None:
    """Register a file whose upload just completed in tenant ``slug``'s root (``source`` is
    ``sftp`` or ``ftp``); returns the import id, or None when the file is not imported
    (unrecognized name, duplicate content: both reported in ``results/``).

    Blocking (it hashes the file and writes to the database): servers call it off their
    event loop. Never raises for a bad file; the report says what was wrong."""
    raise NotImplementedError  # implemented with the file import job
