from __future__ import annotations

import io

import pytest

from bulkupload import csvfile
from bulkupload.csvfile import CsvRefused

ROWS = [["Full Name", "Phone Number", "City"], ["José Ñúñez", "+919876500001", "Köln"]]


def encode(rows, delimiter=",", encoding="utf-8", bom=False) -> bytes:
    text = "\r\n".join(delimiter.join(row) for row in rows) + "\r\n"
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (encode(ROWS), "utf-8"),
        (encode(ROWS, bom=True), "utf-8-sig"),
        (
            encode(
                [*ROWS, ["Smart \u201cquotes\u201d \u2013 \u20ac", "+919876500002", "x"]],
                encoding="cp1252",
            ),
            "cp1252",
        ),
        (encode(ROWS, encoding="latin-1") + b"\x81\n", "latin-1"),  # 0x81: not Windows-1252
    ],
)
def test_scan_detects_encoding(data, encoding):
    scan = csvfile.scan(io.BytesIO(data))
    assert scan.encoding == encoding
    head = csvfile.read_head(io.BytesIO(data), scan.encoding, ",")
    assert head.headers == ["Full Name", "Phone Number", "City"]  # no BOM in the first header
    assert head.rows[0] == ["José Ñúñez", "+919876500001", "Köln"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_sniff_delimiter(delimiter):
    rows = [*ROWS, ["A, B", "+919876500003", "x"]] if delimiter != "," else ROWS
    text = encode(rows, delimiter=delimiter).decode()
    assert csvfile.sniff_delimiter(text) == delimiter


def test_quoted_newlines_are_not_counted_as_rows():
    data = b'Name,Phone\n"two\nlines",1\n"say ""hi""\n",2\nplain,3'
    assert csvfile.scan(io.BytesIO(data)).records == 4
    records = list(csvfile.iter_records(io.BytesIO(data), "utf-8", ","))
    assert records == [(2, ["two\nlines", "1"]), (3, ['say "hi"\n', "2"]), (4, ["plain", "3"])]


def test_quoted_newline_count_is_right_across_chunk_boundaries(monkeypatch):
    monkeypatch.setattr(csvfile, "CHUNK_BYTES", 7)
    data = b'Name,Phone\n"a\nb\nc",1\n"x""\ny",2\n'
    assert csvfile.scan(io.BytesIO(data)).records == 3


def test_binary_and_empty_files_are_refused():
    with pytest.raises(CsvRefused, match="binary"):
        csvfile.scan(io.BytesIO(b"PK\x03\x04\x00\x00zip"))
    with pytest.raises(CsvRefused, match="empty"):
        csvfile.scan(io.BytesIO(b""))


def test_too_big_is_refused_while_streaming(monkeypatch):
    monkeypatch.setattr(csvfile, "MAX_BYTES", 100)
    with pytest.raises(CsvRefused, match="larger than"):
        csvfile.scan(io.BytesIO(b"a,b\n" * 30))
