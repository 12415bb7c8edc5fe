"""Reading CSV files: encoding and delimiter detection, a cheap row count, streamed rows.

The web request only calls :func:`scan` (one pass over the bytes in 1 MB chunks: an
incremental decode check and a quote-aware newline count, never building a row) and
:func:`read_head`. Rows are parsed by :func:`iter_records` in the background import,
through :class:`RecordReader`, which also gives the head: what the preview shows is what
the import reads.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from contacts.csv_cells import read_cell

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 500_000
CHUNK_BYTES = 1024 * 1024
HEAD_BYTES = 64 * 1024
# The mapping page posts three fields a column; Django refuses a form of more than
# DATA_UPLOAD_MAX_NUMBER_FIELDS (1,000) fields, so wider files are refused at upload.
MAX_COLUMNS = 300
MAX_CELL_CHARS = 32_767  # as Excel: a longer cell fails its row
# A quoted cell may span this many lines: a quote left open fails its own row after at most
# this many lines are read ahead, instead of swallowing the rest of the file.
MAX_CELL_LINES = 100

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
    records: int  # line ends outside quotes, header included; blank lines counted too


def scan(stream: IO[bytes]) -> Scan:
    """Detect the encoding and count records in one streaming pass over the bytes.

    A newline inside double quotes belongs to a cell: splitting each chunk on ``"`` leaves
    the text outside quotes in every other piece (an escaped ``""`` toggles twice), so
    counting line ends (CR, LF, CRLF) in those pieces counts records at C speed.
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
            nuls = first.count(b"\x00")  # a NUL here and there is a bad cell, not binary
            if nuls > 1 and nuls > len(first) // 100:
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
            outside = b"".join(pieces[1::2] if in_quotes else pieces[0::2])
            in_quotes = in_quotes != (len(pieces) % 2 == 0)
        else:
            outside = b"" if in_quotes else chunk
        newlines += line_ends(outside) - (last_byte == b"\r" and outside[:1] == b"\n")
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
    records = newlines + (0 if last_byte in (b"\n", b"\r", b"") else 1)
    return Scan(encoding=encoding, size=size, records=records)


def line_ends(data: bytes) -> int:
    """Line ends as a spreadsheet counts them: CR, LF and CRLF each end one line."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def _mostly_text(data: bytes) -> bool:
    control = sum(1 for b in data if b < 32 and b not in (9, 10, 13))
    return control <= len(data) // 100


class UnreadableRecord(list[str]):
    """A record that cannot be imported as a row: its cells as far as they go, and why.

    The import reports it as a failed row with :attr:`problem`, which names the line.
    """

    def __init__(self, cells: Iterable[str], problem: str) -> None:
        super().__init__(_shown_cell(cell) for cell in cells)
        self.problem = problem


def _shown_cell(cell: str) -> str:
    """A cell as kept in the error report: no NUL (PostgreSQL's JSON refuses it), clipped."""
    cell = cell.replace("\x00", "\ufffd")
    return cell if len(cell) <= 200 else cell[:200] + "…"


class _QuoteLeftOpen(Exception):
    """The record being read has been in a quoted cell for :data:`MAX_CELL_LINES` lines."""


class _Lines:
    """The file's lines for ``csv.reader``, numbered; the record being read keeps its lines.

    ``csv.reader`` asks for another line only while its record is unfinished, so the lines
    handed out since the last record are exactly the current record's. They let a record
    that went wrong be reported by its first line and its other lines be read again.
    """

    __slots__ = ("apostrophe", "chars", "ended", "nul", "number", "record", "replay", "source")

    def __init__(self, text: Iterable[str]) -> None:
        self.source = iter(text)
        self.replay: list[str] = []  # lines to read again, last first
        self.number = 0  # of the last line handed out
        self.next_record()
        self.ended = False

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if len(self.record) >= MAX_CELL_LINES:
            raise _QuoteLeftOpen
        if self.replay:
            line = self.replay.pop()
        else:
            try:
                line = next(self.source)
            except StopIteration:
                self.ended = True
                raise
        self.record.append(line)
        self.number += 1
        self.chars += len(line)
        self.nul = self.nul or "\x00" in line
        self.apostrophe = self.apostrophe or "'" in line
        return line

    def next_record(self) -> None:
        self.record: list[str] = []
        self.chars = 0
        self.nul = self.apostrophe = False

    @property
    def first_number(self) -> int:
        return self.number - len(self.record) + 1

    def read_again_after_first(self) -> str:
        """Drop the record being read: its first line is returned, the others read again."""
        first, rest = self.record[0], self.record[1:]
        self.replay.extend(reversed(rest))
        self.number -= len(rest)
        self.ended = False
        self.next_record()
        return first


class RecordReader:
    """Records as a spreadsheet reads them, and never one that swallows others.

    CR, LF and CRLF end a record outside quotes and belong to the cell inside them. Cells
    are read with :func:`read_cell` (a formula-protecting ``'`` is removed). A record whose
    quoted cell is not closed properly (by the end of the file, within
    :data:`MAX_CELL_LINES` lines, or followed by more text) comes as an
    :class:`UnreadableRecord` naming its first line, and the lines after that one are read
    again as records of their own. So do records holding a NUL character or a cell longer
    than :data:`MAX_CELL_CHARS`.
    """

    def __init__(self, text: Iterable[str], delimiter: str) -> None:
        self.lines = _Lines(text)
        self.delimiter = delimiter
        self.headers: list[str] = []  # for naming columns in problems

    def __iter__(self) -> Iterator[list[str]]:
        lines = self.lines
        while True:
            # strict: a closing quote followed by more text is an error rather than a guess.
            reader = csv.reader(lines, delimiter=self.delimiter, strict=True)
            try:
                for cells in reader:
                    yield self._checked(cells)
                    lines.next_record()
                return
            except (csv.Error, _QuoteLeftOpen) as exc:
                if not lines.record:
                    raise
                if len(lines.record) == 1 and not lines.ended:
                    # One line with a stray quote (``ab"c``, ``"a"b``): read it leniently.
                    line = lines.record[0]
                    yield self._checked(next(csv.reader([line], delimiter=self.delimiter)))
                    lines.next_record()
                    continue
                yield self._quote_left_open(isinstance(exc, _QuoteLeftOpen))

    def _quote_left_open(self, too_many_lines: bool) -> UnreadableRecord:
        lines = self.lines
        first_number, last_number = lines.first_number, lines.number
        ended = lines.ended
        first = lines.read_again_after_first()
        if ended:
            how = "is not closed before the end of the file"
        elif too_many_lines:
            how = f"is still open {MAX_CELL_LINES} lines later (a cell spans at most that many)"
        else:
            how = f"is closed on line {last_number} with more text after the quote"
        problem = (
            f"line {first_number}: the quoted cell that starts on this line {how}; check its "
            "quotes (the lines after it were read as rows of their own)"
        )
        cells = next(csv.reader([first.rstrip("\r\n") + '"'], delimiter=self.delimiter), [])
        return UnreadableRecord(cells, problem)

    def _checked(self, cells: list[str]) -> list[str]:
        lines = self.lines
        if lines.apostrophe:
            cells = [read_cell(c.strip()) if c.lstrip().startswith("'") else c for c in cells]
        if lines.nul:
            column = next(i for i, cell in enumerate(cells) if "\x00" in cell)
            return UnreadableRecord(
                cells,
                f"line {lines.first_number}, {self._column(column)}: holds a NUL character, "
                "which text cannot hold; remove it",
            )
        if lines.chars > MAX_CELL_CHARS:
            longest = max(range(len(cells)), key=lambda i: len(cells[i]))
            length = len(cells[longest])
            if length > MAX_CELL_CHARS:
                return UnreadableRecord(
                    cells,
                    f"line {lines.first_number}, {self._column(longest)}: the cell has "
                    f"{length:,} characters; at most {MAX_CELL_CHARS:,} are allowed",
                )
        return cells

    def _column(self, index: int) -> str:
        name = self.headers[index] if index < len(self.headers) else ""
        return f"column {index + 1} (“{name}”)" if name else f"column {index + 1}"


def text_stream(stream: IO[bytes], encoding: str) -> io.TextIOWrapper:
    # newline="": lines end at CR, LF or CRLF, and the ending stays for csv to see.
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
        last_end = max(text.rfind("\n"), text.rfind("\r"))
        text = text[: last_end + 1] or text  # drop the partial last line
    return text


@dataclass(frozen=True, slots=True)
class Head:
    headers: list[str]
    rows: list[list[str]]  # the first data rows, for mapping samples and the preview


def read_head(stream: IO[bytes], encoding: str, delimiter: str, max_rows: int = 50) -> Head:
    """The header and the first data rows, read as the import reads them.

    Refuses a header that cannot be read or has more than :data:`MAX_COLUMNS` columns.
    """
    headers: list[str] = []
    rows: list[list[str]] = []
    for _, cells in iter_records(stream, encoding, delimiter, on_header=headers.extend):
        if cells and any(cell.strip() for cell in cells):
            rows.append(cells)
            if len(rows) >= max_rows:
                break
    return Head(headers=headers, rows=rows)


def iter_records(
    stream: IO[bytes],
    encoding: str,
    delimiter: str,
    on_header: Callable[[list[str]], object] | None = None,
) -> Iterator[tuple[int, list[str]]]:
    """Data records after the header as ``(row number, cells)``, streamed.

    Row numbers are as a spreadsheet shows them (the header is row 1) and count every
    record, blank ones included (as ``[]``), so that they stay stable between runs. A record
    that cannot be a row comes as an :class:`UnreadableRecord` saying why.
    """
    stream.seek(0)
    text = text_stream(stream, encoding)
    records = RecordReader(text, delimiter)
    header_row = 0
    try:
        for number, cells in enumerate(records, start=1):
            if header_row:
                yield number - header_row + 1, cells
            elif any(cell.strip() for cell in cells):
                header_row = number
                records.headers = header_names(cells)
                if on_header is not None:
                    on_header(records.headers)
    finally:
        text.detach()  # the caller's stream stays open


def header_names(cells: list[str]) -> list[str]:
    if isinstance(cells, UnreadableRecord):
        raise CsvRefused(f"the header row cannot be read: {cells.problem}")
    if len(cells) > MAX_COLUMNS:
        raise CsvRefused(
            f"the file has {len(cells):,} columns; at most {MAX_COLUMNS} are allowed: remove "
            "the columns you do not need"
        )
    return [" ".join(cell.split()) for cell in cells]
