"""A completed upload becomes an import job (the servers' entry point)."""

from __future__ import annotations

from pathlib import Path


def upload_complete(slug: str, path: Path, source: str) -> str | None:
    """Register a file whose upload just completed in tenant ``slug``'s root (``source`` is
    ``sftp`` or ``ftp``); returns the import id, or None when the file is not imported
    (an unrecognized name, reported in ``results/``). A duplicate of an earlier file, or a
    file that cannot be read, gets an import whose report says so.

    Blocking (it hashes the file and writes to the database): servers call it off their
    event loop."""
    from retailhub.files.importer import upload_complete as accept

    return accept(slug, path, source)
