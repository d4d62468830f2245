"""Which text encoding a dropped file uses, and its conversion to plain UTF-8.

Listrak accepts "UTF-7, ASCII, UTF-8, Unicode". Here that means: UTF-8 with or without a byte
order mark (ASCII is a subset), UTF-16 little or big endian with its byte order mark (what
Windows calls "Unicode"), and UTF-7. Files can be large, so everything here streams: blocks
through an incremental decoder, never the whole file in memory.

UTF-7 heuristic. A UTF-7 file is pure ASCII, so it is also valid UTF-8; without the UTF-7 byte
order mark (``+/v8``, ``+/v9``, ``+/v+``, ``+/v/``) it is told apart by its content. A file is
taken as UTF-7 only when all of these hold:

- every byte is ASCII and the file contains a ``+``;
- the whole file decodes as UTF-7 without error. UTF-7 writes a literal ``+`` as ``+-``, so an
  ordinary ``a+b``, ``C++`` or ``john+shop@example.com`` fails to decode and the file stays
  UTF-8;
- at least one shift sequence (``+`` then modified-base64 characters, ended by ``-`` or by any
  other character) decodes to printable non-ASCII characters, like ``caf+AOk-`` for ``café``.
  Sequences made of digits only (``+17175559636``, a phone number) are not counted: by chance
  they can decode, and a real non-ASCII character seldom encodes to digits only.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

BLOCK = 1 << 20
ACCEPTED = (
    "accepted encodings are UTF-8 (with or without a byte order mark), ASCII, UTF-16 with a "
    'byte order mark ("Unicode") and UTF-7'
)
_UTF7_BOMS = (b"+/v8", b"+/v9", b"+/v+", b"+/v/")
_SHIFT = re.compile(rb"\+([A-Za-z0-9+/]+)")


class FileRejected(Exception):
    """A file that cannot be imported at all: ``rule`` names the check (``empty``,
    ``encoding``, ``binary``, ``header``, ``duplicateHeader``, ``quote``, ``format``, ...),
    ``message`` says what is wrong in words for the merchant, ``line`` where (1-based) when
    known."""

    def __init__(self, rule: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.line = line


def detect(path: str | Path) -> str:
    """The Python codec of the file at ``path``: ``utf-8``, ``utf-8-sig``, ``utf-16`` or
    ``utf-7``. Reads the file once (twice for an ASCII file with a ``+`` in it). Raises
    FileRejected: ``empty`` for a 0-byte file, ``binary`` for a NUL byte outside UTF-16,
    ``encoding`` for bytes that are not valid in any accepted encoding."""
    with open(path, "rb") as f:
        head = f.read(4)
    if not head:
        raise FileRejected("empty", "The file is empty (0 bytes).")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        _check_decodes(path, "utf-16")
        return "utf-16"
    if head.startswith(codecs.BOM_UTF8):
        _check_utf8(path)
        return "utf-8-sig"
    if head.startswith(_UTF7_BOMS):
        _check_decodes(path, "utf-7")
        return "utf-7"
    ascii_only, has_plus = _check_utf8(path)
    if ascii_only and has_plus and _looks_utf7(path):
        return "utf-7"
    return "utf-8"


def to_utf8(path: str | Path, encoding: str, out_path: str | Path) -> None:
    """Write the file at ``path``, in codec ``encoding`` (as ``detect`` names it), to
    ``out_path`` as UTF-8 without a byte order mark. Streams. Raises FileRejected
    (``encoding``) if the content does not decode after all."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    first = True
    offset = 0
    with open(path, "rb") as src, open(out_path, "wb") as out:
        while True:
            block = src.read(BLOCK)
            final = not block
            text = _decode(decoder, block, final, offset, encoding)
            offset += len(block)
            if first and text:
                # utf-16 and utf-8-sig drop their mark; utf-7 decodes it to U+FEFF.
                text = text.removeprefix("\ufeff")
                first = False
            try:
                out.write(text.encode("utf-8"))
            except UnicodeEncodeError:
                raise FileRejected(
                    "encoding",
                    f"The file is not valid {_label(encoding)}: it holds an unpaired "
                    f"surrogate before byte offset {offset}; {ACCEPTED}.",
                ) from None
            if final:
                return


def _label(encoding: str) -> str:
    return {"utf-8-sig": "UTF-8", "utf-16": "UTF-16", "utf-7": "UTF-7"}.get(encoding, "UTF-8")


def _decode(
    decoder: codecs.IncrementalDecoder, block: bytes, final: bool, offset: int, encoding: str
) -> str:
    """``decoder.decode`` that reports an error with the byte offset in the file
    (``offset`` is where ``block`` starts)."""
    pending = len(decoder.getstate()[0])
    try:
        return decoder.decode(block, final)
    except UnicodeDecodeError as exc:
        at = offset - pending + exc.start
        raise FileRejected(
            "encoding",
            f"The file is not valid {_label(encoding)}: the bytes at offset {at} do not form "
            f"a character ({exc.reason}); {ACCEPTED}.",
        ) from None


def _check_utf8(path: str | Path) -> tuple[bool, bool]:
    """Validate the file as UTF-8 (a leading byte order mark allowed); return whether it is
    all ASCII and whether it contains a ``+``."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    ascii_only = True
    has_plus = False
    offset = 0
    line = 1
    with open(path, "rb") as f:
        while True:
            block = f.read(BLOCK)
            final = not block
            nul = block.find(b"\x00")
            # Whichever comes first is reported: an invalid sequence or the NUL byte.
            _utf8(decoder, block if nul < 0 else block[:nul], final, offset, line)
            if nul >= 0:
                where = line + block.count(b"\n", 0, nul)
                raise FileRejected(
                    "binary",
                    f"The file is not text: it holds a NUL byte at offset {offset + nul} "
                    f"(line {where}); {ACCEPTED}.",
                    where,
                )
            if final:
                return ascii_only, has_plus
            if ascii_only and not block.isascii():
                ascii_only = False
            if ascii_only and not has_plus:
                has_plus = b"+" in block
            line += block.count(b"\n")
            offset += len(block)


def _utf8(
    decoder: codecs.IncrementalDecoder, block: bytes, final: bool, offset: int, line: int
) -> None:
    pending: bytes = decoder.getstate()[0]
    try:
        decoder.decode(block, final)
    except UnicodeDecodeError as exc:
        data = pending + block
        at = exc.start
        byte = data[at] if at < len(data) else None
        where = line + data.count(b"\n", 0, at)
        shown = f"byte 0x{byte:02X}" if byte is not None else "an unfinished character"
        raise FileRejected(
            "encoding",
            f"The file is not valid UTF-8: {shown} at offset {offset - len(pending) + at} "
            f"(line {where}) is not part of a valid character; {ACCEPTED}.",
            where,
        ) from None


def _check_decodes(path: str | Path, encoding: str) -> None:
    """Decode the whole file with ``encoding`` (streaming); a NUL character in the text is
    binary content."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    with open(path, "rb") as f:
        while True:
            block = f.read(BLOCK)
            final = not block
            text = _decode(decoder, block, final, offset, encoding)
            if "\x00" in text:
                raise FileRejected(
                    "binary",
                    f"The file is not text: it holds a NUL character near byte offset "
                    f"{offset}; {ACCEPTED}.",
                )
            if final:
                return
            offset += len(block)


def _looks_utf7(path: str | Path) -> bool:
    """See the module docstring: the whole file decodes as UTF-7 and one shift sequence
    (not all digits) gives printable non-ASCII text."""
    decoder = codecs.getincrementaldecoder("utf-7")(errors="strict")
    evidence = False
    tail = b""
    with open(path, "rb") as f:
        while True:
            block = f.read(BLOCK)
            final = not block
            try:
                decoder.decode(block, final)
            except UnicodeDecodeError:
                return False
            if not evidence:
                # A shift sequence may straddle two blocks: look at the end of the last one too.
                window = tail + block
                evidence = any(_is_evidence(m.group(1)) for m in _SHIFT.finditer(window))
                tail = window[-64:]
            if final:
                return evidence


def _is_evidence(body: bytes) -> bool:
    if body.isdigit():
        return False
    try:
        text = (b"+" + body + b"-").decode("utf-7")
    except UnicodeDecodeError:
        return False
    return not text.isascii() and text.isprintable()
