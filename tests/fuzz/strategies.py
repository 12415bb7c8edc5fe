"""Hypothesis strategies for bad input: trait values, filters, list URLs and CSV files.

Shared by every fuzz test (``tests/fuzz/``, ``tests/bulkupload/test_csv_fuzz.py``,
``tests/api/test_schema_fuzz.py``). ``fuzz_settings`` bounds each test and fixes its seed;
``HYPOTHESIS_PROFILE=nightly`` multiplies the examples and draws new ones on each run.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st

from bulkupload import csvfile
from contacts.csv_cells import read_cell

# --- Profiles ----------------------------------------------------------------------------------
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.register_profile(
    "ci",
    derandomize=True,  # the same examples on every run: CI fails only on a change
    deadline=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # fixtures set up data every example may change
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
settings.register_profile("nightly", settings.get_profile("ci"), derandomize=False)
NIGHTLY_FACTOR = 25


def fuzz_settings(examples: int) -> settings:
    """``examples`` examples with a fixed seed (ci), or 25 times as many new ones (nightly)."""
    factor = NIGHTLY_FACTOR if PROFILE == "nightly" else 1
    return settings(settings.get_profile(PROFILE), max_examples=examples * factor)


# --- JSON text that json.dumps cannot write ------------------------------------------------------
RAW = "\x1eraw:"  # a string starting so is written into the JSON text as it is
_RAW_RE = re.compile(r'"\\u001eraw:([^"]*)"')


def raw_json(literal: str) -> str:
    """A JSON literal Python would not write, e.g. ``1e309`` (parsed as infinity)."""
    return RAW + literal


def to_json(body: Any) -> str:
    """``body`` as JSON text: NaN and Infinity as Python writes them, ``raw_json`` as given,
    lone surrogates as ``\\ud800`` escapes (the only way JSON carries them)."""
    return _RAW_RE.sub(lambda m: m.group(1), json.dumps(body))


# --- Trait values ------------------------------------------------------------------------------
def _offset(minutes: int) -> str:
    if minutes == 0:
        return "Z"
    sign = "+" if minutes > 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


@st.composite
def date_times(draw: st.DrawFn) -> str:
    """ISO date-times across the whole range, with every offset Python reads (±23:59)."""
    moment = draw(
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59))
        | st.sampled_from(
            [datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59), datetime(999, 5, 5, 5, 5)]
        )
    )
    offset = draw(st.integers(-(24 * 60 - 1), 24 * 60 - 1) | st.sampled_from([0, 330, -300]))
    text = f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}"
    if draw(st.booleans()):
        text += f".{moment.microsecond:06d}"
    return text + draw(st.sampled_from(["", _offset(offset)]))


ODD_DATES = st.sampled_from(
    [
        "9999-12-31T23:00:00Z",
        "9999-12-31T23:59:59-05:00",
        "0001-01-01T00:00:00+05:30",
        "999-05-05T05:05:05Z",
        "2024-02-30",
        "2024-10-31T25:00:00Z",
        "+2024-10-31",
        "2024-10-31T19:30:00.000+24:00",
    ]
)
NUMBERS = (
    st.integers(-(2**70), 2**70)
    | st.floats()  # NaN and infinities included
    | st.sampled_from([2**63 - 1, 2**63, -(2**63), 10**400, 1e308, 5e-324, -0.0])
    | st.sampled_from(["1e309", "-1e309", "1" * 5000, "0." + "1" * 5000]).map(raw_json)
)
ODD_CHARACTERS = st.characters(
    categories=["L", "M", "N", "P", "S", "Z", "Cc", "Cf", "Cs", "Co"]  # Cs: lone surrogates
)
TEXTS = (
    st.text(ODD_CHARACTERS, max_size=40)
    | st.sampled_from(["\x00", "a\x00b", "\u202eevil", "e\u0301", "👩‍👩‍👧", "\ufeff", " "])
    | st.builds(
        lambda c, n: c * n, st.sampled_from(["x", "é", "\x00", "😀"]), st.integers(1, 70_000)
    )
)
SCALARS = st.none() | st.booleans() | NUMBERS | TEXTS | date_times() | ODD_DATES
TRAIT_VALUES = (
    SCALARS
    | st.lists(SCALARS, max_size=4)
    | st.dictionaries(st.text(max_size=5), SCALARS, max_size=2)
)
# Existing fields of every type (see ``conftest.fields``), built-ins, and new names.
KNOWN_TRAITS = ["Age", "VIP", "Birthday", "Hobbies", "Note", "name", "Email", "whatsappOpted"]
TRAIT_NAMES = st.sampled_from([*KNOWN_TRAITS, "phone", "tags", "userId"]) | st.text(max_size=110)


# --- Filters -----------------------------------------------------------------------------------
FILTER_FIELDS = [
    *("age", "vip", "birthday", "hobbies", "note", "name", "email", "whatsapp_opted", "tags"),
    *("phone", "created_at", "updated_at", "user_id", "nope"),
]
OPERATORS = [
    *("eq", "ne", "neq", "contains", "not_contains", "startswith", "gt", "gte", "lt", "lte"),
    *("between", "true", "false", "before", "after", "on", "last_days", "older_days"),
    *("empty", "not_empty", "any", "all", "none", "set", "unset", "is_set", "bogus"),
]
FILTER_TEXT = (
    TEXTS
    | date_times()
    | ODD_DATES
    | st.integers(-(2**70), 2**70).map(str)
    | st.sampled_from(["1e309", "NaN", "-inf", "9" * 5000, "1,234", "+919967536783", "a|b"])
)


@st.composite
def list_filters(draw: st.DrawFn) -> str:
    """One ``f=`` value of the contact list: ``field:operator:value``, or something else."""
    head = f"{draw(st.sampled_from(FILTER_FIELDS))}:{draw(st.sampled_from(OPERATORS))}"
    values = draw(st.lists(FILTER_TEXT, min_size=0, max_size=2))
    return draw(st.sampled_from([head, f"{head}:{'|'.join(values)}"]) | st.text(max_size=30))


INTEGER_TEXT = (
    st.integers(-(2**70), 2**70).map(str)
    | st.sampled_from(["", "0", "-1", "²", "١٢", " 2", "2.5", "9" * 30, "9" * 5000])
    | st.text(max_size=5)
)
LIST_URLS = st.fixed_dictionaries(
    {},
    optional={
        "q": TEXTS,
        "f": st.lists(list_filters(), max_size=4)
        | st.sampled_from([60, 1000]).map(lambda n: ["age:gt:1"] * n),
        "sort": st.sampled_from([f"{sign}{f}" for f in FILTER_FIELDS for sign in ("", "-")])
        | st.text(max_size=10),
        "page": INTEGER_TEXT,
        "per_page": INTEGER_TEXT,
        "upload": INTEGER_TEXT,
        "view": INTEGER_TEXT,
    },
)


# --- CSV files ---------------------------------------------------------------------------------
PLAIN = "abcXYZ019 é€“”žÆ=+-@'"  # all of it is Windows-1252 too
SPECIAL = ',;\t"\r\n'
ENDINGS = ("\r", "\n", "\r\n")


@dataclass(frozen=True)
class Written:
    data: bytes
    encoding: str
    delimiter: str
    headers: list[str]
    # per data row: its first line, its cells as read (None if unreadable), its problem
    rows: list[tuple[int, list[str] | None, str]]


def line_ends(text: str) -> int:
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def as_read(cell: str) -> str:
    return read_cell(cell.strip()) if cell.lstrip().startswith("'") else cell


@st.composite
def csv_files(draw: st.DrawFn) -> Written:
    """A CSV file of contacts (Phone, Name, more columns) and what the reader must make of it.

    It mixes line endings, quoting, encodings, delimiters, column counts and cell sizes; some
    files have a quote left open or a cell past the limit, whose row must be reported.
    """
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    columns = draw(st.integers(min_value=2, max_value=6))
    count = draw(st.integers(min_value=1, max_value=12))
    a_cell_at = st.tuples(st.integers(0, count - 1), st.integers(1, columns - 1))
    left_open = draw(st.sampled_from([False, False, True])) and draw(a_cell_at)
    overlong = not left_open and draw(st.booleans()) and draw(a_cell_at)
    alphabet = PLAIN if left_open else PLAIN + SPECIAL
    small = st.text(alphabet=alphabet, max_size=12)
    # at most 6 cells of 15 line ends: a record stays within MAX_CELL_LINES lines
    multi_line = st.lists(st.sampled_from(ENDINGS), max_size=15).map("a".join)
    big = st.builds(
        lambda n, c: c * n,
        st.sampled_from([200, csvfile.MAX_CELL_CHARS, csvfile.MAX_CELL_CHARS + 1]),
        st.sampled_from(["x", "é", '"']),
    )
    cell = small if left_open else small | multi_line
    phones = st.integers(1000, 1020).map(lambda n: f"+91987650{n}")  # some repeat
    phone = phones | st.sampled_from(["junk", "98765", " "])
    header = ["Phone", "Name", *(f"Column {i}" for i in range(2, columns))]
    text = delimiter.join(header) + draw(st.sampled_from(ENDINGS))
    line = 1 + line_ends(text)
    rows: list[tuple[int, list[str] | None, str]] = []
    for index in range(count):
        cells = [draw(phone), *(draw(cell) for _ in range(columns - 1))]
        if overlong and overlong[0] == index:
            cells[overlong[1]] = draw(big)
        written = [quoted(c, delimiter, not left_open and draw(st.booleans())) for c in cells]
        expected: list[str] | None = [as_read(c) for c in cells]
        problem = ""
        if left_open and left_open[0] == index:
            written[left_open[1]] = '"' + written[left_open[1]]
            expected, problem = None, f"line {line}: the quoted cell that starts on this line"
        elif max(len(c) for c in cells) > csvfile.MAX_CELL_CHARS:
            expected, problem = None, f"line {line}, column "
        row_text = delimiter.join(written) + draw(st.sampled_from(ENDINGS))
        rows.append((line, expected, problem))
        text += row_text
        line += line_ends(row_text)
    event("a quote left open" if left_open else "well formed")
    event("an overlong cell" if any(p.endswith("column ") for _, _, p in rows) else "cells fit")
    bom = b"\xef\xbb\xbf" if encoding == "utf-8-sig" else b""
    data = bom + text.encode(encoding.replace("-sig", ""))
    return Written(data, encoding, delimiter, header, rows)


def quoted(cell: str, delimiter: str, always: bool) -> str:
    if always or any(c in cell for c in (delimiter, '"', "\r", "\n")):
        return '"' + cell.replace('"', '""') + '"'
    return cell
