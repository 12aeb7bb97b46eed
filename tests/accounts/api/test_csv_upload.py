"""An uploaded CSV file read twice from its spool: the same lines each time, as `open(...,
newline="")` gives them to csv; UTF-8 checked across chunk boundaries; the size limit."""

from __future__ import annotations

import csv
import io

import pytest

from common.errors import InvalidArgument
from services.accounts.api.csv_upload import SPOOL_BYTES, CsvUpload

TEXT = '\ufeffcustomer,note\r\nACME,"two\nlines"\r\nZÜRICH AG,€ 12\r\n'


def _upload(data: bytes, chunk: int, max_bytes: int = 10_000_000) -> CsvUpload:
    upload = CsvUpload(max_bytes)
    try:
        for start in range(0, len(data), chunk):
            upload.add(data[start : start + chunk])
        upload.finish()
    except InvalidArgument:
        upload.close()
        raise
    return upload


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1000])
def test_lines_are_the_same_at_every_pass_and_what_a_csv_file_reads(chunk):
    with _upload(TEXT.encode(), chunk) as upload:
        first, second = list(upload), list(upload)
    expected = list(io.StringIO(TEXT.removeprefix("\ufeff"), newline=""))
    assert first == second == expected
    assert list(csv.reader(first))[1] == ["ACME", "two\nlines"]  # the quoted line break kept


def test_a_file_larger_than_the_spool_reads_back_whole():
    rows = "".join(f"C{i},{'x' * 90}\n" for i in range(SPOOL_BYTES // 50))
    with _upload(rows.encode(), 64 * 1024) as upload:
        assert "".join(upload) == rows
        assert "".join(upload) == rows


@pytest.mark.parametrize("chunk", [1, 5, 1000])
def test_a_byte_that_is_not_utf8_is_refused_with_its_offset(chunk):
    data = "ZÜRICH,€\n".encode() + b"AB\xff\n"
    with pytest.raises(InvalidArgument) as refused:
        _upload(data, chunk)
    bad = data.index(b"\xff")
    assert f"byte {bad}" in str(refused.value)


def test_a_character_cut_off_at_the_end_is_refused():
    with pytest.raises(InvalidArgument, match="not UTF-8"):
        _upload("ok,€".encode()[:-1], 2)


def test_a_file_over_its_limit_is_refused():
    upload = CsvUpload(max_bytes=10)
    upload.add(b"0123456789")
    with pytest.raises(InvalidArgument, match="exceeds 10 bytes"):
        upload.add(b"x")
    upload.close()


def test_a_pass_left_unfinished_after_the_upload_closed_ends_quietly():
    """A refused file stops its pass midway; the pass is closed after the upload is."""
    upload = _upload(TEXT.encode(), 1000)
    lines = iter(upload)
    next(lines)
    upload.close()
    lines.close()  # raised ValueError (I/O operation on closed file) from the detach
