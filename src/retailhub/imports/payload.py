"""Accepted payloads: spooled while they stream in, stored compressed in the database, and
read back as a byte stream by whichever worker runs the import."""

from __future__ import annotations

import hashlib
import io
import zlib
from collections.abc import Iterator
from typing import Any, BinaryIO

import ijson
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, sessionmaker

from retailhub.models import ImportPayload


class MalformedBody(ValueError):
    pass


class BodyChecker:
    """Checks, as chunks arrive, that a body is well-formed JSON whose top level is an array,
    and counts its elements. Parsing is incremental (ijson's C backend), so memory stays at
    one chunk's worth of records whatever the body's size."""

    def __init__(self) -> None:
        self._records = ijson.sendable_list()
        self._parser = ijson.items_coro(self._records, "item", use_float=True)
        self._first: bytes | None = None
        self.count = 0
        self.size = 0
        self.sha256 = hashlib.sha256()

    def feed(self, chunk: bytes) -> bytes:
        """Check a chunk; returns the bytes to store (a leading UTF-8 BOM is dropped)."""
        if not chunk:
            return chunk
        if self._first is None:
            if self.size == 0 and chunk.startswith(b"\xef\xbb\xbf"):
                chunk = chunk[3:]
            stripped = chunk.lstrip(b" \t\r\n")
            if stripped:
                self._first = stripped[:1]
                if self._first != b"[":
                    raise MalformedBody("The request body must be a JSON array.")
        self.size += len(chunk)
        self.sha256.update(chunk)
        try:
            self._parser.send(chunk)
        except ijson.JSONError as exc:
            raise _malformed(exc) from None
        self.count += len(self._records)
        self._records.clear()
        return chunk

    def close(self) -> None:
        if self._first is None:
            raise MalformedBody("The request body is empty; a JSON array is required.")
        try:
            self._parser.close()
        except ijson.JSONError as exc:
            raise _malformed(exc) from None
        self.count += len(self._records)
        self._records.clear()


def _malformed(exc: Exception) -> MalformedBody:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else "parse error"
    return MalformedBody(f"The request body is not valid JSON ({detail}).")


def store(
    session: Session, *, tenant_id: int, import_id: str, source: BinaryIO, chunk_bytes: int
) -> None:
    """Copy a spooled body into the import's payload rows (same transaction as the import)."""
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


class _ChunkStream(io.RawIOBase):
    """A readable stream over the payload chunks, fetching one chunk at a time."""

    def __init__(self, sessions: sessionmaker[Session], import_id: str) -> None:
        self._sessions = sessions
        self._import_id = import_id
        self._seq = 0
        self._buffer = memoryview(b"")
        self._done = False

    def readable(self) -> bool:
        return True

    def _next_chunk(self) -> bytes | None:
        with self._sessions() as session:
            data = session.scalar(
                select(ImportPayload.data).where(
                    ImportPayload.import_id == self._import_id, ImportPayload.seq == self._seq
                )
            )
        if data is None:
            return None
        self._seq += 1
        return zlib.decompress(data)

    def readinto(self, target: Any) -> int:
        while not self._buffer and not self._done:
            chunk = self._next_chunk()
            if chunk is None:
                self._done = True
            else:
                self._buffer = memoryview(chunk)
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


def iter_records(sessions: sessionmaker[Session], import_id: str) -> Iterator[Any]:
    stream = io.BufferedReader(_ChunkStream(sessions, import_id), buffer_size=1 << 20)
    yield from ijson.items(stream, "item", use_float=True)
