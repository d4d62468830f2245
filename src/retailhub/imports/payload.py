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
    head = raw.read(4096)
    started = check_start(head)
    if started is None:
        raise MalformedBody("The request body is empty; a JSON array is required.")
    if not started:
        raise MalformedBody("The request body must be a JSON array.")
    raw.seek(raw.tell() - len(head))
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
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else "parse error"
    if "overflow" in detail:
        return MalformedBody(
            f"The request body holds a number too large to read ({detail}); numbers must fit "
            "in 64 bits."
        )
    return MalformedBody(f"The request body is not valid JSON ({detail}).")


def store(
    session: Session, *, tenant_id: int, import_id: str, source: BinaryIO, chunk_bytes: int
) -> None:
    """Copy spooled JSON lines into the import's payload rows (the caller's transaction)."""
    source.seek(0)
    seq = 0
    while chunk := source.read(chunk_bytes):
        session.execute(
            insert(ImportPayload),
            {
                "tenant_id": tenant_id,
                "import_id": import_id,
                "seq": seq,
                "data": zlib.compress(chunk, 1),
            },
        )
        seq += 1


def discard(session: Session, *, import_id: str) -> None:
    session.execute(delete(ImportPayload).where(ImportPayload.import_id == import_id))


def iter_lines(chunks: Iterable[bytes]) -> Iterator[Any]:
    """Records from JSON-lines text cut into chunks at arbitrary points."""
    rest = b""
    for chunk in chunks:
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        for line in lines:
            if line:
                yield orjson.loads(line)
    if rest:
        yield orjson.loads(rest)


def _stored_chunks(sessions: sessionmaker[Session], import_id: str) -> Iterator[bytes]:
    seq = 0
    while True:
        with sessions() as session:
            data = session.scalar(
                select(ImportPayload.data).where(
                    ImportPayload.import_id == import_id, ImportPayload.seq == seq
                )
            )
        if data is None:
            return
        seq += 1
        yield zlib.decompress(data)


def iter_records(sessions: sessionmaker[Session], import_id: str) -> Iterator[Any]:
    yield from iter_lines(_stored_chunks(sessions, import_id))


def iter_file_records(source: BinaryIO, chunk_bytes: int = 1 << 20) -> Iterator[Any]:
    source.seek(0)
    yield from iter_lines(iter(lambda: source.read(chunk_bytes), b""))
