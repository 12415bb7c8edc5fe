"""Generated CSV files through the reader and the import: nothing escapes, no row is lost.

Each file mixes line endings, quoting, encodings, delimiters, column counts and cell sizes;
some have a quote left open. The file is written with its expected records, so the reader is
checked cell by cell, and the import must account for every row: the rows imported plus the
rows reported equal the rows written.
"""

from __future__ import annotations

import io

import pytest
from hypothesis import event, given

from bulkupload import csvfile, services
from bulkupload.csvfile import CsvRefused
from bulkupload.models import UploadJob
from tests.fuzz.strategies import Written, csv_files, fuzz_settings

pytestmark = pytest.mark.django_db

FUZZ = fuzz_settings(40)


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
