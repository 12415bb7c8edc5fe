"""Spreadsheet-safe CSV cells, written by the export and read back by the importer.

A cell that a spreadsheet would run as a formula (it starts with ``= + - @``, a tab or a
carriage return) is written with a leading ``'``, which spreadsheets show as text. The
importer removes exactly that ``'`` again, so that export followed by import changes nothing.
Plain numbers ("-12.5") and E.164 phones ("+919876543210") are data, written as they are.
"""

from __future__ import annotations

import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER_RE = re.compile(r"^[+-]?\d+(\.\d+)?$")
_E164_RE = re.compile(r"^\+\d{6,15}$")


def neutralise_cell(text: str) -> str:
    """Make a cell safe to open in a spreadsheet: prefix formula-like text with ``'``."""
    if text.startswith(FORMULA_START) and not (
        _PLAIN_NUMBER_RE.match(text) or _E164_RE.match(text)
    ):
        return "'" + text
    return text


def read_cell(text: str) -> str:
    """Undo :func:`neutralise_cell` (and Excel's own ``'`` before such text)."""
    if text.startswith("'") and text[1:].startswith(FORMULA_START):
        return text[1:]
    return text
