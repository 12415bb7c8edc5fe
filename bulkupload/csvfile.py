"""Reading CSV files: encoding and delimiter detection, a cheap row count, streamed rows.

The web request only calls :func:`scan` (one pass over the bytes in 1 MB chunks: an
incremental decode check and a quote-aware newline count, never building a row) and
:func:`read_head`. Rows are parsed by :func:`iter_records` in the background import.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 500_000
CHUNK_BYTES = 1024 * 1024
HEAD_BYTES = 64 * 1024

ENCODINGS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with BOM",
    "cp1252": "Windows-1252",
    "latin-1": "Latin-1 (ISO-8859-1)",
}
DELIMITERS = {",": "Comma (,)", ";": "Semicolon (;)", "\t": "Tab"}

# Quoted newlines are part of a cell; csv needs a field size above the default for big cells.
csv.field_size_limit(MAX_BYTES)


class CsvRefused(ValueError):
    """A file that cannot be imported; ``str()`` says why, for people."""


@dataclass(frozen=True, slots=True)
class Scan:
    encoding: str
    size: int
    records: int  # lines outside quotes, header included; blank lines counted too


def scan(stream: IO[bytes]) -> Scan:
    """Detect the encoding and count records in one streaming pass over the bytes.

    A newline inside double quotes belongs to a cell: splitting each chunk on ``"`` leaves
    the text outside quotes in every other piece (an escaped ``""`` toggles twice), so
    counting ``\\n`` in those pieces counts records at C speed.
    """
    stream.seek(0)
    size = 0
    newlines = 0
    in_quotes = False
    utf8 = codecs.getincrementaldecoder("utf-8")()
    cp1252 = codecs.getincrementaldecoder("cp1252")()
    utf8_ok = cp1252_ok = True
    first = b""
    last_byte = b""
    while chunk := stream.read(CHUNK_BYTES):
        if size == 0:
            first = chunk[:HEAD_BYTES]
            if b"\x00" in first:
                raise CsvRefused("this is not a CSV file: it contains binary data")
        size += len(chunk)
        if size > MAX_BYTES:
            raise CsvRefused(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
        if utf8_ok:
            try:
                utf8.decode(chunk)
            except UnicodeDecodeError:
                utf8_ok = False
        if not utf8_ok and cp1252_ok:
            try:
                cp1252.decode(chunk)
            except UnicodeDecodeError:
                cp1252_ok = False
        if b'"' in chunk:
            pieces = chunk.split(b'"')
            outside = pieces[1::2] if in_quotes else pieces[0::2]
            newlines += b"".join(outside).count(b"\n")
            in_quotes = in_quotes != (len(pieces) % 2 == 0)
        else:
            newlines += 0 if in_quotes else chunk.count(b"\n")
        last_byte = chunk[-1:]
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok = False
    stream.seek(0)
    if size == 0:
        raise CsvRefused("the file is empty")
    if utf8_ok:
        encoding = "utf-8-sig" if first.startswith(codecs.BOM_UTF8) else "utf-8"
    elif not cp1252_ok and not _mostly_text(first):
        raise CsvRefused("this is not a CSV file: it is not text")
    else:
        encoding = "cp1252" if cp1252_ok else "latin-1"
    records = newlines + (0 if last_byte in (b"\n", b"") else 1)
    return Scan(encoding=encoding, size=size, records=records)


def _mostly_text(data: bytes) -> bool:
    control = sum(1 for b in data if b < 32 and b not in (9, 10, 13))
    return control <= len(data) // 100


def text_stream(stream: IO[bytes], encoding: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(stream, encoding=encoding, newline="", errors="strict")


def sniff_delimiter(head: str) -> str:
    """The delimiter that splits the first lines into the most, and most consistent, columns."""
    lines = head.splitlines()[:20] or [""]
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        counts = [len(r) for r in csv.reader(lines, delimiter=delimiter)]
        header_columns = counts[0] if counts else 0
        consistent = sum(1 for c in counts if c == header_columns)
        score = (header_columns if header_columns > 1 else 0, consistent)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def read_head_text(stream: IO[bytes], encoding: str) -> str:
    stream.seek(0)
    raw = stream.read(HEAD_BYTES)
    stream.seek(0)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(raw)
    if len(raw) == HEAD_BYTES:
        text = text[: text.rfind("\n") + 1] or text  # drop the partial last line
    return text


@dataclass(frozen=True, slots=True)
class Head:
    headers: list[str]
    rows: list[list[str]]  # the first data rows, for mapping samples and the preview


def read_head(stream: IO[bytes], encoding: str, delimiter: str, max_rows: int = 50) -> Head:
    text = read_head_text(stream, encoding)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    headers: list[str] | None = None
    rows: list[list[str]] = []
    for record in reader:
        if not any(cell.strip() for cell in record):
            continue
        if headers is None:
            headers = [" ".join(cell.split()) for cell in record]
            continue
        rows.append(record)
        if len(rows) >= max_rows:
            break
    return Head(headers=headers or [], rows=rows)


def iter_records(
    stream: IO[bytes], encoding: str, delimiter: str
) -> Iterator[tuple[int, list[str]]]:
    """Data records after the header as ``(row number, cells)``, streamed.

    Row numbers are as a spreadsheet shows them (the header is row 1) and count every
    record, blank ones included, so that they stay stable between runs.
    """
    stream.seek(0)
    reader = csv.reader(text_stream(stream, encoding), delimiter=delimiter)
    header_seen = False
    for number, record in enumerate(reader, start=1):
        if not header_seen:
            if any(cell.strip() for cell in record):
                header_seen = True
                header_row = number
            continue
        yield number - header_row + 1, record
