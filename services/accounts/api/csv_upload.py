"""An uploaded CSV file as it streams in: spooled (in memory up to SPOOL_BYTES, then in a temporary
file), checked as UTF-8 chunk by chunk, and read as lines as often as the import needs (it reads
the file twice) without the whole file ever being held as bytes, text and a list of lines at once
(~4 × its size: a 100,000-row file took the accounts process past its 200 MB)."""

from __future__ import annotations

import codecs
import io
import tempfile
from collections.abc import Iterator

from common.errors import InvalidArgument

SPOOL_BYTES = 1 << 20


class CsvUpload:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        # closed by close() / the with block of the call that owns the upload
        self._file = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+b")  # noqa: SIM115
        self._utf8 = codecs.getincrementaldecoder("utf-8")()

    def add(self, chunk: bytes) -> None:
        """One streamed chunk: refused when the file grows past its limit or is not UTF-8."""
        if self.size + len(chunk) > self.max_bytes:
            raise InvalidArgument.of("chunk", f"the file exceeds {self.max_bytes} bytes")
        self._check(chunk, final=False)
        self._file.write(chunk)
        self.size += len(chunk)

    def finish(self) -> None:
        """The end of the stream: a character cut off at the end is refused too."""
        self._check(b"", final=True)

    def _check(self, chunk: bytes, *, final: bool) -> None:
        pending = len(self._utf8.getstate()[0])  # bytes of a character split across chunks
        try:
            self._utf8.decode(chunk, final=final)
        except UnicodeDecodeError as exc:
            at = self.size - pending + exc.start  # the offending byte's offset in the file
            raise InvalidArgument.of("chunk", f"the file is not UTF-8 text (byte {at})") from None

    def __iter__(self) -> Iterator[str]:
        """The file's lines from the start, as `open(..., newline="")` reads them for csv (a
        quoted field keeps its line breaks); a leading byte-order mark is dropped."""
        self._file.seek(0)
        text = io.TextIOWrapper(self._file, encoding="utf-8-sig", newline="")
        try:
            yield from text
        finally:  # the spool stays open for the next pass (unless the upload was closed first)
            if not text.closed:
                text.detach()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> CsvUpload:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
