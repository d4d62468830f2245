"""Accepted payloads: parsed as they stream in, stored as JSON lines (one raw record a
line, zlib-compressed chunks) in the database, and read back by whichever worker runs the
import.

The body is parsed once, before the import is accepted, by an incremental parser (ijson's C
backend): that proves it is a well-formed array and splits it into records, each re-encoded
with orjson on one line (ijson yields 64-bit integers at most and floats, which orjson writes
exactly). The worker then reads records with ``orjson.loads`` per line, several times faster
than parsing the original document again. Memory stays at one chunk's worth of records
whatever the body's size.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

import ijson
import orjson
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, sessionmaker

from retailhub.models import ImportPayload

BOM = b"\xef\xbb\xbf"


class MalformedBody(ValueError):
    pass


def check_start(chunk: bytes) -> bool | None:
    """Whether a body starting with ``chunk`` can be a JSON array; None while only
    whitespace (or a UTF-8 byte order mark) has been seen."""
    stripped = chunk.removeprefix(BOM).lstrip(b" \t\r\n")
    if not stripped:
        return None
    return stripped.startswith(b"[")


def normalize(raw: BinaryIO, out: BinaryIO) -> int:
    """Parse a spooled JSON array body into JSON lines; returns the number of records.

    Raises MalformedBody when the body is not one well-formed JSON array."""
    raw.seek(0)
    if raw.read(len(BOM)) != BOM:
        raw.seek(0)
    start = raw.tell()
    while (head := raw.read(65536)) and (started := check_start(head)) is None:
        pass  # only whitespace so far
    if not head:
        raise MalformedBody("The request body is empty; a JSON array is required.")
    if not started:
        raise MalformedBody("The request body must be a JSON array.")
    raw.seek(start)
    count = 0
    pending: list[bytes] = []
    try:
        for record in ijson.items(raw, "item", use_float=True):
            pending.append(orjson.dumps(record))
            count += 1
            if len(pending) == 1000:
                out.write(b"\n".join(pending) + b"\n")
                pending.clear()
    except ijson.JSONError as exc:
        raise _malformed(exc) from None
    if pending:
        out.write(b"\n".join(pending) + b"\n")
    return count


def _malformed(exc: Exception) -> MalformedBody:
    # The parser's message may quote the body (as bytes): keep its first line only.
    raw = exc.args[0] if exc.args else ""
    text = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
    detail = text.strip().splitlines()[0] if text.strip() else "parse error"
    if "overflow" in detail:
        return MalformedBody(
            f"The request body holds a number too large to read ({detail}); numbers must fit "
            "in 64 bits."
        )
    return MalformedBody(f"The request body is not valid JSON ({detail}).")


def store(
    session: Session,
    *,
    tenant_id: int,
    import_id: str,
    source: BinaryIO,
    chunk_bytes: int,
    chunk_records: int,
) -> None:
    """Copy spooled JSON lines into the import's payload rows, in chunks of whole records
    (at most ``chunk_records`` records or about ``chunk_bytes`` bytes each), in the caller's
    transaction."""
    source.seek(0)
    seq = 0
    lines: list[bytes] = []
    size = 0

    def flush() -> None:
        nonlocal seq, size
        session.execute(
            insert(ImportPayload),
            {
                "tenant_id": tenant_id,
                "import_id": import_id,
                "seq": seq,
                "records": len(lines),
                "data": zlib.compress(b"".join(lines), 1),
            },
        )
        seq += 1
        size = 0
        lines.clear()

    for line in source:
        lines.append(line)
        size += len(line)
        if len(lines) >= chunk_records or size >= chunk_bytes:
            flush()
    if lines:
        flush()


def discard(session: Session, *, import_id: str) -> None:
    session.execute(delete(ImportPayload).where(ImportPayload.import_id == import_id))


def split_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The lines of JSON-lines text cut into chunks at arbitrary points."""
    rest = b""
    for chunk in chunks:
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        yield from filter(None, lines)
    if rest:
        yield rest


def iter_lines(chunks: Iterable[bytes]) -> Iterator[Any]:
    """Records from JSON-lines text cut into chunks at arbitrary points."""
    return map(orjson.loads, split_lines(chunks))


def chunk_sizes(sessions: sessionmaker[Session], import_id: str) -> list[int]:
    """Records in each stored chunk, in order."""
    with sessions() as session:
        return list(
            session.scalars(
                select(ImportPayload.records)
                .where(ImportPayload.import_id == import_id)
                .order_by(ImportPayload.seq)
            )
        )


def stored_chunk(sessions: sessionmaker[Session], import_id: str, seq: int) -> bytes:
    """One stored chunk, still compressed."""
    with sessions() as session:
        data = session.scalar(
            select(ImportPayload.data).where(
                ImportPayload.import_id == import_id, ImportPayload.seq == seq
            )
        )
    if data is None:
        raise LookupError(f"payload chunk {seq} of import {import_id} is missing")
    return data


def chunk_records(data: bytes) -> list[Any]:
    """The records of a stored chunk."""
    return [orjson.loads(line) for line in zlib.decompress(data).splitlines() if line]


def iter_file_records(source: BinaryIO, chunk_bytes: int = 1 << 20) -> Iterator[Any]:
    source.seek(0)
    yield from iter_lines(iter(lambda: source.read(chunk_bytes), b""))
