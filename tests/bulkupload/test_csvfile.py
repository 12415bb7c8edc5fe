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


def records(data: bytes, delimiter: str = ",") -> list[tuple[int, list[str], str | None]]:
    """Each record as (row number, cells, problem or None)."""
    return [
        (number, list(cells), getattr(cells, "problem", None))
        for number, cells in csvfile.iter_records(io.BytesIO(data), "utf-8", delimiter)
    ]


@pytest.mark.parametrize(
    "data",
    [
        b'Name,Phone\r"a\rb",1\rc,2\r',  # old Mac / Excel: CR only
        b'Name,Phone\n"a\rb",1\r\nc,2\r',  # mixed
        b'Name,Phone\r\n"a\rb",1\nc,2',
    ],
)
def test_cr_lf_and_crlf_all_end_a_row_outside_quotes(data):
    assert csvfile.scan(io.BytesIO(data)).records == 3
    head = csvfile.read_head(io.BytesIO(data), "utf-8", ",")
    assert head.headers == ["Name", "Phone"]
    assert head.rows == [["a\rb", "1"], ["c", "2"]]
    assert records(data) == [(2, ["a\rb", "1"], None), (3, ["c", "2"], None)]


def test_a_crlf_split_between_chunks_counts_once(monkeypatch):
    monkeypatch.setattr(csvfile, "CHUNK_BYTES", 4)
    data = b"Nam,P\r\na,1\r\nb,2\r\n"  # a chunk ends between \r and \n
    assert csvfile.scan(io.BytesIO(data)).records == 3


def test_quote_left_open_to_the_end_fails_its_row_and_the_rest_is_read():
    lines = ["Name,Phone,Notes", 'Asha,1,"never closed'] + [f"P{i},{i},n" for i in range(50)]
    found = records("\n".join(lines).encode())
    assert len(found) == 51
    number, cells, problem = found[0]
    assert (number, cells) == (2, ["Asha", "1", "never closed"])
    assert problem.startswith("line 2: the quoted cell that starts on this line is not closed")
    assert "end of the file" in problem
    assert [c for _, c, p in found[1:] if p is None] == [[f"P{i}", str(i), "n"] for i in range(50)]


def test_a_quoted_cell_may_span_at_most_max_cell_lines(monkeypatch):
    monkeypatch.setattr(csvfile, "MAX_CELL_LINES", 3)
    ok = b'Name,Phone\n"one\ntwo\nthree",1\n'
    assert records(ok) == [(2, ["one\ntwo\nthree", "1"], None)]
    data = b'Name,Phone\n"a\nb\nc\nd",1\ne,2\n'
    found = records(data)
    assert "line 2:" in found[0][2] and "still open 3 lines later" in found[0][2]
    # the lines after the opening one are rows of their own, nothing swallowed
    assert [(n, c) for n, c, _ in found[1:]] == [
        (3, ["b"]),
        (4, ["c"]),
        (5, ['d"', "1"]),
        (6, ["e", "2"]),
    ]


def test_a_closing_quote_followed_by_text_on_a_later_line_fails_the_row():
    data = b'Name,Phone\n"stray,1\nb,2\n"x"y,3\n'
    found = records(data)
    assert "line 2:" in found[0][2] and "closed on line 4" in found[0][2]
    assert [(n, c, p) for n, c, p in found[1:]] == [(3, ["b", "2"], None), (4, ["xy", "3"], None)]


def test_a_stray_quote_within_one_line_is_read_as_a_spreadsheet_does():
    data = b'Name,Phone\nab"c,1\n"a"b,2\n'
    assert records(data) == [(2, ['ab"c', "1"], None), (3, ["ab", "2"], None)]


def test_nul_fails_its_row_naming_line_and_column():
    data = b"Name,Phone,City\nok,1,x\n\nAsha,2,Pu\x00ne\n"
    found = records(data)
    assert found[0] == (2, ["ok", "1", "x"], None)
    number, cells, problem = found[2]
    assert number == 4
    assert problem.startswith("line 4, column 3 (“City”): holds a NUL character")
    assert "\x00" not in "".join(cells)
    scan = csvfile.scan(io.BytesIO(data))  # one NUL is a bad cell, not a binary file
    assert scan.encoding == "utf-8"


def test_an_overlong_cell_fails_its_row_naming_line_and_size():
    big = "x" * (csvfile.MAX_CELL_CHARS + 1)
    data = f"Name,Notes\nAsha,{big}\nRavi,short\n".encode()
    found = records(data)
    assert found[0][2] == (
        f"line 2, column 2 (“Notes”): the cell has {len(big):,} characters; at most "
        f"{csvfile.MAX_CELL_CHARS:,} are allowed"
    )
    assert len(found[0][1][1]) < 300  # the report keeps the start of it, not all of it
    assert found[1] == (3, ["Ravi", "short"], None)


def test_a_five_megabyte_first_cell_is_a_data_row_with_its_problem():
    data = b"Phone,Notes\n+919876500001," + b"y" * (5 * 1024 * 1024) + b"\n"
    head = csvfile.read_head(io.BytesIO(data), "utf-8", ",")
    assert len(head.rows) == 1
    assert "line 2, column 2 (“Notes”): the cell has 5,242,880 characters" in head.rows[0].problem


def test_more_columns_than_the_limit_are_refused_naming_both():
    header = ",".join(f"c{i}" for i in range(csvfile.MAX_COLUMNS + 1))
    data = f"{header}\n".encode() + b"1," * csvfile.MAX_COLUMNS + b"1\n"
    with pytest.raises(CsvRefused, match=r"the file has 301 columns; at most 300 are allowed"):
        csvfile.read_head(io.BytesIO(data), "utf-8", ",")
    ok = ",".join(f"c{i}" for i in range(csvfile.MAX_COLUMNS)).encode() + b"\n1\n"
    assert len(csvfile.read_head(io.BytesIO(ok), "utf-8", ",").headers) == csvfile.MAX_COLUMNS


def test_a_header_with_a_quote_left_open_is_refused():
    with pytest.raises(CsvRefused, match="header row cannot be read: line 1"):
        csvfile.read_head(io.BytesIO(b'Name,"Phone\n'), "utf-8", ",")


def test_formula_protection_is_removed_from_headers_and_cells():
    data = b"'=Total,Phone\n'=SUM(A1),'+919876500001\n''=x,'plain\n"
    head = csvfile.read_head(io.BytesIO(data), "utf-8", ",")
    assert head.headers == ["=Total", "Phone"]
    assert head.rows == [["=SUM(A1)", "+919876500001"], ["'=x", "'plain"]]


def test_reading_leaves_the_callers_stream_open():
    stream = io.BytesIO(b"Name,Phone\na,1\n")
    csvfile.read_head(stream, "utf-8", ",")
    list(csvfile.iter_records(stream, "utf-8", ","))
    assert not stream.closed
