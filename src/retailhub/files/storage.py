"""Where files live.

Each tenant has a folder, ``<data dir>/files/<slug>/``, which is all its SFTP or FTP login
can see: uploads land in its root, ``archive/`` receives each file once imported and
``results/`` the report of each file. A file being imported is moved out of sight, to
``<data dir>/spool/<import id>/``, until its import ends.
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from retailhub.config import get_settings

ARCHIVE = "archive"
RESULTS = "results"
# Names an upload in progress may carry; renaming to the final name completes it.
PARTIAL_SUFFIXES = (".tmp", ".part", ".partial", ".filepart")


class PathEscape(PermissionError):
    """A requested path would leave the tenant's folder."""


def files_dir() -> Path:
    return get_settings().data_dir.resolve() / "files"


def spool_dir() -> Path:
    return get_settings().data_dir.resolve() / "spool"


def tenant_root(slug: str, *, create: bool = True) -> Path:
    """The tenant's folder (with ``archive/`` and ``results/``), created when missing."""
    root = files_dir() / slug
    if create:
        for sub in (ARCHIVE, RESULTS):
            (root / sub).mkdir(parents=True, exist_ok=True)
    return root


def confine(root: Path, requested: str) -> Path:
    """The real path of ``requested``, a path as a client names it (absolute paths start at
    the tenant's root; ``..`` cannot climb above it). Raises PathEscape when the result, with
    symbolic links resolved, is not inside ``root``."""
    virtual = posixpath.normpath("/" + requested.replace("\\", "/"))
    candidate = root / virtual.lstrip("/")
    real_root = root.resolve()
    resolved = candidate.resolve()
    if resolved != real_root and real_root not in resolved.parents:
        raise PathEscape(requested)
    return resolved


def virtual_path(root: Path, real: Path) -> str:
    """How a client sees a real path inside the tenant's folder."""
    relative = real.resolve().relative_to(root.resolve()).as_posix()
    return "/" if relative == "." else "/" + relative


def is_partial(name: str) -> bool:
    """Whether a file name marks an upload still in progress."""
    return name.lower().endswith(PARTIAL_SUFFIXES)


def is_importable(root: Path, real: Path) -> bool:
    """Whether a completed file at ``real`` is a drop to import: a file directly in the
    tenant's root (not in ``archive/`` or ``results/``), not named as partial."""
    return real.parent == root.resolve() and not is_partial(real.name) and real.is_file()
