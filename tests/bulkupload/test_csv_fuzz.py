"""Generated CSV files through the reader and the import: nothing escapes, no row is lost.

Each file mixes line endings, quoting, encodings, delimiters, column counts and cell sizes;
some have a quote left open. The file is written with its expected records, so the reader is
checked cell by cell, and the import must account for every row: the rows imported plus the
rows reported equal the rows written.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bulkupload import csvfile, services
from bulkupload.csvfile import CsvRefused
from bulkupload.models import UploadJob
from contacts.csv_cells import read_cell

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
PLAIN = "abcXYZ019 é€“”žÆ=+-@'"  # all of it is Windows-1252 too
SPECIAL = ',;\t"\r\n'
ENDINGS = ("\r", "\n", "\r\n")


@dataclass(frozen=True)
class Written:
    data: bytes
    encoding: str
    delimiter: str
    # per data row: its first line, its cells as read (None if unreadable), its problem
    rows: list[tuple[int, list[str] | None, str]]


def line_ends(text: str) -> int:
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def as_read(cell: str) -> str:
    return read_cell(cell.strip()) if cell.lstrip().startswith("'") else cell


@st.composite
def csv_files(draw: st.DrawFn) -> Written:
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
        written = [_quoted(c, delimiter, not left_open and draw(st.booleans())) for c in cells]
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
    return Written(bom + text.encode(encoding.replace("-sig", "")), encoding, delimiter, rows)


def _quoted(cell: str, delimiter: str, always: bool) -> str:
    if always or any(c in cell for c in (delimiter, '"', "\r", "\n")):
        return '"' + cell.replace('"', '""') + '"'
    return cell


@given(written=csv_files())
@FUZZ
def test_the_reader_gives_every_row_as_written(written: Written) -> None:
    read = list(csvfile.iter_records(io.BytesIO(written.data), written.encoding, written.delimiter))
    assert [number for number, _ in read] == list(range(2, len(written.rows) + 2))
    for (_, cells), (_, expected, problem) in zip(read, written.rows, strict=True):
        if expected is None:
            assert cells.problem.startswith(problem), cells.problem
        else:
            assert not isinstance(cells, csvfile.UnreadableRecord), cells.problem
            assert cells == expected


@given(written=csv_files())
@FUZZ
def test_the_import_accounts_for_every_row(written: Written, make_job, run_job) -> None:
    try:
        job = make_job(written.data)
    except CsvRefused as exc:  # only a file whose readable rows are all without a phone
        assert "no column holds phone numbers" in str(exc) or "no data rows" in str(exc)
        event("refused at upload")
        return
    job = services.upload_job_set_format(
        job=job, encoding=written.encoding, delimiter=written.delimiter
    )
    mapping = [{"kind": "field", "key": "phone"}, {"kind": "field", "key": "name"}]
    mapping += [{"kind": "skip"}] * (len(job.headers) - 2)
    services.upload_job_set_mapping(job=job, mapping=mapping, list_separator=";")
    job = run_job(job)
    assert job.status == UploadJob.Status.COMPLETED, job.error_message
    imported = job.rows_created + job.rows_updated + job.rows_unchanged
    reported = job.problems.count()
    assert imported + reported == job.total == len(written.rows)
    assert reported == job.rows_skipped + job.rows_failed
    reasons = dict(job.problems.values_list("row_number", "reason"))
    for number, (_, expected, problem) in enumerate(written.rows, start=2):
        if expected is None:
            assert reasons[number].startswith(problem)
