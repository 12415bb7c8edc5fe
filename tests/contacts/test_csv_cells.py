"""The one CSV writer and the cell rules the reader undoes: export then import is lossless.

Properties against the definition: reading a neutralised cell gives the value back, a list
cell gives its items back, and a value of any type written by the export and read by the
upload's reader coerces to what was stored.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bulkupload import csvfile
from contacts.csv_cells import (
    FORMULA_START,
    csv_lines,
    csv_text,
    join_list_cell,
    neutralise_cell,
    read_cell,
    split_list_cell,
)
from contacts.fields import BUILTIN_FIELDS, TAGS, Field
from contacts.kinds import DEFAULT_LIST_SEPARATOR
from contacts.models import FieldType

NO_NUL = st.characters(exclude_characters="\x00", exclude_categories=("Cs",))
TRICKY = "=+-@'\"\t\r\n;,| "
cell_text = st.text(alphabet=st.one_of(NO_NUL, st.sampled_from(TRICKY)), max_size=30)


@given(cell_text)
@example("'=x")
@example("''")
@example("'+919876543210")
def test_read_cell_undoes_neutralise_cell(text: str) -> None:
    assert read_cell(neutralise_cell(text)) == text


@given(cell_text)
def test_a_neutralised_cell_never_starts_a_formula(text: str) -> None:
    safe = neutralise_cell(text)
    if safe.startswith(FORMULA_START):
        assert safe == text and text.lstrip("+-").replace(".", "", 1).isdigit()


@pytest.mark.parametrize("separator", [";", ",", "|", " ", " | "])
@given(items=st.lists(cell_text, min_size=1, max_size=5))
@example(items=['"VIP"', "a;b", ' "x', ""])
@settings(max_examples=200)
def test_split_list_cell_undoes_join_list_cell(separator: str, items: list[str]) -> None:
    assert split_list_cell(join_list_cell(items, separator), separator) == items


@pytest.mark.parametrize(
    ("cell", "items"),
    [
        ("red;green", ["red", "green"]),
        ('"a;b";c', ["a;b", "c"]),
        ('say "hi";x', ['say "hi"', "x"]),  # a quote inside an item is an ordinary character
        ('"open;x', ['"open', "x"]),  # an unclosed quote too
        ('"a"b;c', ['"a"b', "c"]),  # a closing quote followed by text: not a quoted item
        (' "a;b" ; c', ["a;b", " c"]),
    ],
)
def test_list_cells_as_people_write_them(cell: str, items: list[str]) -> None:
    assert split_list_cell(cell, ";") == items


def test_the_writer_neutralises_every_cell_and_starts_with_a_bom() -> None:
    rows = [["=Total", "Phone"], ['=HYPERLINK("http://x")', "+919876543210"], ["-2+3", "@SUM(A1)"]]
    text = csv_text(rows)
    assert text == "".join(csv_lines(rows))
    assert text.startswith("\ufeff'=Total,Phone\r\n")
    assert "'=HYPERLINK" in text and "'-2+3" in text and "'@SUM(A1)" in text
    assert ",+919876543210\r\n" in text


# --- Export -> the upload's reader -> coercion gives back what was stored ---------------------
stored_text = cell_text.map(str.strip).filter(bool)
stored_items = st.lists(stored_text, min_size=1, max_size=4, unique=True)
DATETIMES = st.datetimes(
    min_value=datetime(1900, 1, 1),
    max_value=datetime(2200, 1, 1),
).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))
STORED: dict[str, st.SearchStrategy[Any]] = {
    FieldType.TEXT: stored_text,
    FieldType.NUMBER: st.one_of(
        st.integers(min_value=-(2**53), max_value=2**53),
        st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()),
    ),
    FieldType.BOOLEAN: st.booleans(),
    FieldType.DATETIME: st.one_of(DATETIMES, DATETIMES.map(lambda d: d[:10])),
    FieldType.LIST: stored_items,
}
TAGS_FIELD = next(f for f in BUILTIN_FIELDS if f.key == TAGS)


def read_back(header: list[str], row: list[str]) -> tuple[list[str], list[str]]:
    data = csv_text([header, row]).encode()
    head = csvfile.read_head(io.BytesIO(data), "utf-8-sig", ",")
    (record,) = head.rows
    return head.headers, record


@given(data=st.data(), label=stored_text.map(lambda s: " ".join(s.split())).filter(bool))
@settings(max_examples=150)
@pytest.mark.parametrize("field_type", [*STORED, TAGS])
def test_an_exported_value_imports_as_stored(field_type: str, data: Any, label: str) -> None:
    if field_type == TAGS:
        field, value = TAGS_FIELD, data.draw(stored_items)
    else:
        field = Field("k", label, field_type, builtin=False)
        value = data.draw(STORED[field_type])
    headers, cells = read_back(["Phone", field.label], ["+919876543210", field.export(value)])
    assert headers == ["Phone", field.label]
    assert cells[0] == "+919876543210"
    assert field.parse(cells[1].strip(), list_separator=DEFAULT_LIST_SEPARATOR) == value
