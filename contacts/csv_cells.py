"""Every CSV the product writes, and the cell rules its reader undoes.

:func:`csv_lines` is the one CSV writer (the contact list's export, the upload error report):
UTF-8 with a byte-order mark so spreadsheets see the encoding, and every cell made safe by
:func:`neutralise_cell`. The importer's reader applies :func:`read_cell` to every cell, which
removes exactly what :func:`neutralise_cell` added, so an exported file imports unchanged.

List values (tags, list fields) are one cell: :func:`join_list_cell` quotes an item that holds
the separator (``"a;b";c``, as CSV quotes a cell) and :func:`split_list_cell` reads it back.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Sequence

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PROTECTED_START = ("'", *FORMULA_START)  # what may follow the ``'`` that neutralising adds
BOM = "\ufeff"
_PLAIN_NUMBER_RE = re.compile(r"^[+-]?\d+(\.\d+)?$")
_E164_RE = re.compile(r"^\+\d{6,15}$")


def neutralise_cell(text: str) -> str:
    """Make a cell safe to open in a spreadsheet: prefix formula-like text with ``'``.

    Text that already starts with ``'`` gets one more, so that :func:`read_cell` can tell
    the ``'`` this added from one that belongs to the value.
    """
    if text.startswith("'"):
        return "'" + text
    if text.startswith(FORMULA_START) and not (
        _PLAIN_NUMBER_RE.match(text) or _E164_RE.match(text)
    ):
        return "'" + text
    return text


def read_cell(text: str) -> str:
    """Undo :func:`neutralise_cell` (and Excel's own ``'`` before such text)."""
    if text.startswith("'") and text[1:].startswith(PROTECTED_START):
        return text[1:]
    return text


class _Echo:
    """A file that hands back what is written, so ``csv.writer`` yields lines."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Sequence[str]]) -> Iterator[str]:
    """A spreadsheet-safe CSV, a line at a time: a BOM, then each row with its cells neutralised."""
    writer = csv.writer(_Echo())
    yield BOM
    for row in rows:
        yield writer.writerow([neutralise_cell(cell) for cell in row])


def csv_text(rows: Iterable[Sequence[str]]) -> str:
    """:func:`csv_lines` as one string (for files written to storage)."""
    return "".join(csv_lines(rows))


def _needs_quotes(item: str, separator: str) -> bool:
    return separator in item or item.lstrip().startswith('"')


def join_list_cell(items: Iterable[str], separator: str) -> str:
    """Items as one cell, ``separator`` between them; an item holding it is quoted."""
    return separator.join(
        '"' + item.replace('"', '""') + '"' if _needs_quotes(item, separator) else item
        for item in items
    )


def split_list_cell(text: str, separator: str) -> list[str]:
    """The items of a list cell: split on ``separator``, except inside ``"..."``.

    An item is quoted only when it starts with ``"`` and its closing ``"`` is followed by the
    separator or the end of the cell; any other ``"`` is an ordinary character.
    """
    if '"' not in text:
        return text.split(separator)
    items: list[str] = []
    start = 0
    while True:
        quoted = _quoted_item(text, start, separator)
        if quoted is not None:
            item, start = quoted
            items.append(item)
            if start > len(text):
                return items
            continue
        end = text.find(separator, start)
        if end == -1:
            items.append(text[start:])
            return items
        items.append(text[start:end])
        start = end + len(separator)


def _quoted_item(text: str, start: int, separator: str) -> tuple[str, int] | None:
    """The quoted item at ``start`` and where the next one starts, or None if it is not one."""
    blank = "".join(c for c in " \t" if c not in separator)
    opening = len(text) - len(text[start:].lstrip(blank))
    if not text.startswith('"', opening):
        return None
    pieces: list[str] = []
    position = opening + 1
    while True:
        closing = text.find('"', position)
        if closing == -1:
            return None
        pieces.append(text[position:closing])
        if not text.startswith('"', closing + 1):
            break
        pieces.append('"')
        position = closing + 2
    after = closing + 1
    rest = text[after:].lstrip(blank)
    if not rest:
        return "".join(pieces), len(text) + 1
    if rest.startswith(separator):
        return "".join(pieces), len(text) - len(rest) + len(separator)
    return None
