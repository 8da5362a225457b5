"""The bodies of an export (search.Export) as CSV or JSON Lines bytes, in chunks: for /api/search.csv,
/api/search.jsonl and `newsdex export`.

CSV follows RFC 4180 (CRLF line ends, a header row, fields with commas, quotes or line breaks quoted, quotes
doubled) in UTF-8 with a byte order mark, which spreadsheets need to read UTF-8 rather than the local code page.
Several values share one cell joined with "; ". A cell a spreadsheet would run as a formula (one starting with
=, +, -, @, a tab or a carriage return: OWASP's list for CSV injection) starts with an apostrophe, which
spreadsheets show as text and do not display. JSON Lines holds one object per article, values as they are
(lists for people and countries): JSON is data, never run.
"""
from __future__ import annotations

import csv
import io
import json
import threading
from typing import Iterable, Iterator

from search import EXPORT_COLUMNS, ExportRow

FORMATS = {"csv": "text/csv; charset=utf-8; header=present", "jsonl": "application/x-ndjson; charset=utf-8"}
CHUNK_ROWS = 500           # rows per chunk written or sent (a few hundred KB at most)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
JOIN = "; "


def neutralise(cell: str) -> str:
    """The cell as a spreadsheet shows it without running it: a leading apostrophe before =, +, -, @, tab, CR."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def csv_cells(row: ExportRow) -> list[str]:
    """One row's CSV cells: lists joined with "; ", no value as an empty cell, formulas neutralised."""
    return [neutralise(JOIN.join(v) if isinstance(v, tuple) else (v or "")) for v in row]


def csv_chunks(rows: Iterable[ExportRow]) -> Iterator[bytes]:
    """The CSV document: a BOM and the header row, then the rows, CHUNK_ROWS at a time."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    buf.write(BOM)
    writer.writerow(EXPORT_COLUMNS)
    for i, row in enumerate(rows, 1):
        writer.writerow(csv_cells(row))
        if i % CHUNK_ROWS == 0:
            yield _take(buf)
    yield _take(buf)


def jsonl_chunks(rows: Iterable[ExportRow]) -> Iterator[bytes]:
    """One JSON object per line, CHUNK_ROWS lines at a time."""
    buf = io.StringIO()
    for i, row in enumerate(rows, 1):
        buf.write(json.dumps(row.to_json(), ensure_ascii=False))
        buf.write("\n")
        if i % CHUNK_ROWS == 0:
            yield _take(buf)
    yield _take(buf)


def _take(buf: io.StringIO) -> bytes:
    data = buf.getvalue().encode("utf-8", "replace")
    buf.seek(0)
    buf.truncate()
    return data


CHUNKS = {"csv": csv_chunks, "jsonl": jsonl_chunks}


class ExportSlots:
    """At most `n` exports stream at once (each holds a server thread and an index version for its duration)."""

    def __init__(self, n: int):
        self._slots = threading.BoundedSemaphore(n)
        self.n = n

    def take(self) -> bool:
        """A slot, if one is free now (never waits)."""
        return self._slots.acquire(blocking=False)

    def give_back(self) -> None:
        self._slots.release()


class Body:
    """A streamed response body: the export's chunks. Closing it (the WSGI server does when the response ends,
    the client went away, or it was never read) closes the export and gives its slot back, once."""

    def __init__(self, export, fmt: str, slots: ExportSlots):
        self._export = export
        self._chunks = CHUNKS[fmt](export)
        self._slots = slots

    def __iter__(self):
        return self._chunks

    def close(self) -> None:
        slots, self._slots = self._slots, None
        if slots is None:
            return
        try:
            self._chunks.close()
            self._export.close()
        finally:
            slots.give_back()
