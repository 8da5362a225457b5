"""Per-segment posting arrays: the frequent words' documents, frequencies and positions in a form numpy reads in
place (`<segment id>.post`), written with the segment.

A word's postings in Whoosh's W3 format are pickled blocks of 128, each posting's positions a pickled list; a
reader unpickles every block (and builds a bytes object per posting for its positions) to learn which documents
hold the word: ~20 us a block, so a common word of a million-article index costs several hundred milliseconds the
first time it is searched, and a phrase of two common words, checked by Whoosh's span matchers document by
document, costs seconds. Lucene keeps doc ids, frequencies and positions in packed arrays (`.doc`, `.pos`) that a
reader decodes a block at a time; this file is that for the words that matter: every term of a text field held
by MIN_DF documents or more of the segment (rarer terms cost a block or two, read as before). The writer
(index.segment) and the merger (index.merge) have these arrays at hand when they encode the W3 blocks, so writing
them costs little; a segment without the file (an index made before it, a segment Whoosh wrote) is read from its
blocks as before, and so is a term the file does not hold.

A term is found by the offset of its postings in the segment's posting file, which its Whoosh term info holds
(`whoosh_wall.postings_extent`): no second term dictionary, no hash that could collide.

Layout (little-endian; written front to back while the segment is flushed, so the directory comes last):

| bytes | what |
|---|---|
| 0-7 | `NDXPST1\\n` |
| 8 .. | the terms' arrays, each starting at a multiple of its item size: per term, `docs` (each document number minus the previous one's, the first as it is: uint8, uint16 or uint32, the narrowest that holds the term's largest), `freqs` (uint8/16/32) and, for the fields phrases are searched in (POSITIONS_FOR), `positions` (each posting's positions within its document, as they are, posting after posting: uint8/16/32) |
| E .. | the directory: one ENTRY per term, in order of `extent` |
| F .. | a JSON footer: `{"fields": [[name, boost], ...], "entries": [E, count]}` (a term's weight is its frequency times its field's boost, as Whoosh stores it) |
| last 16 | the footer's length (uint64), then `NDXPST1\\n` again (a file cut short does not end so) |

Written to a temporary name and renamed when the segment is finished, so a reader sees a whole file or none.
"""
from __future__ import annotations

import json
import mmap
import os
import struct
from pathlib import Path

import numpy as np

from index import durable, schema as S

SUFFIX = ".post"
MAGIC = b"NDXPST1\n"
MIN_DF = 64                 # a term held by fewer documents of a segment is read from its W3 blocks (one or two)
POSITIONS_FOR = frozenset({S.TITLE, S.BODY, S.PERSON_NAME})   # where search.evaluate checks phrases
ENTRY = np.dtype([("extent", "<i8"), ("count", "<u4"), ("field", "u1"), ("dw", "u1"), ("fw", "u1"), ("pw", "u1"),
                  ("docs", "<i8"), ("freqs", "<i8"), ("positions", "<i8")])   # (positions: -1 when not kept)
_WIDTHS = (1, 2, 4)
_DTYPES = {1: np.dtype("<u1"), 2: np.dtype("<u2"), 4: np.dtype("<u4")}
_TAIL = struct.Struct("<Q8s")


def path_of(gen_dir: str | os.PathLike, segment_id: str) -> Path:
    return Path(gen_dir) / f"{segment_id}{SUFFIX}"


def _width(largest: np.ndarray) -> np.ndarray:
    """The narrowest item size (1, 2 or 4 bytes) holding each value of `largest`."""
    return np.where(largest < 256, 1, np.where(largest < 65536, 2, 4)).astype(np.uint8)


def absolute_positions(freqs: np.ndarray, deltas: np.ndarray) -> np.ndarray:
    """Each posting's positions as they are, from Whoosh's encoding (the first absolute, the others as deltas)."""
    total = np.cumsum(deltas, dtype=np.int64)
    starts = np.cumsum(freqs) - freqs
    before = np.where(starts > 0, total[np.maximum(starts - 1, 0)], 0)
    return total - np.repeat(before, freqs)


class Builder:
    """Writes one segment's file as its text fields are flushed, a slice of terms at a time (`add`), then
    `close()` and `publish()` (or `abort()`)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.tmp = durable.temp_name(self.path)
        self.fh = open(self.tmp, "wb")
        self.fh.write(MAGIC)
        self.at = len(MAGIC)
        self.fields: list[list] = []
        self._field_no: dict[str, int] = {}
        self.entries: list[np.ndarray] = []

    def _write(self, arr: np.ndarray) -> int:
        """Write `arr` at the next multiple of its item size; returns where."""
        pad = -self.at % arr.itemsize
        if pad:
            self.fh.write(b"\0" * pad)
            self.at += pad
        where = self.at
        self.fh.write(arr.tobytes())
        self.at += arr.nbytes
        return where

    def _column(self, values: np.ndarray, sizes: np.ndarray, largest: np.ndarray, keep: np.ndarray) -> tuple:
        """Each kept term's `values` (its `sizes` items, back to back) in its narrowest width: (widths, offsets)."""
        width = _width(largest)
        offsets = np.full(len(sizes), -1, np.int64)
        per_item = np.repeat(width, sizes)
        item_keep = np.repeat(keep, sizes)
        for w in _WIDTHS:
            terms = keep & (width == w)
            if not terms.any():
                continue
            part = values[item_keep & (per_item == w)].astype(_DTYPES[w])
            start = self._write(part)
            offsets[terms] = start + (np.cumsum(sizes[terms]) - sizes[terms]) * w
        return width, offsets

    def add(self, field: str, boost: float, extents: np.ndarray, bounds: np.ndarray, docs: np.ndarray,
            freqs: np.ndarray, positions: np.ndarray | None) -> None:
        """Consecutive terms of one field: `extents` (each term's postings offset in the posting file), `bounds`
        (T+1: term t's postings are bounds[t]:bounds[t+1]), each posting's document (ascending within a term) and
        frequency, and the positions (posting after posting, as they are), or None for a field whose positions
        are not kept. Terms held by fewer than MIN_DF documents are left out."""
        bounds = np.asarray(bounds, np.int64)
        sizes = np.diff(bounds)
        keep = sizes >= MIN_DF
        if not keep.any():
            return
        if field not in self._field_no:
            self._field_no[field] = len(self.fields)
            self.fields.append([field, float(boost)])
        docs = np.asarray(docs, np.int64)
        freqs = np.asarray(freqs, np.int64)
        starts = bounds[:-1]
        gaps = docs.copy()
        gaps[1:] -= docs[:-1]
        gaps[starts] = docs[starts]
        entry = np.zeros(int(keep.sum()), ENTRY)
        entry["extent"] = extents[keep]
        entry["count"] = sizes[keep]
        entry["field"] = self._field_no[field]
        dw, doffs = self._column(gaps, sizes, np.maximum.reduceat(gaps, starts), keep)
        fw, foffs = self._column(freqs, sizes, np.maximum.reduceat(freqs, starts), keep)
        entry["dw"], entry["docs"] = dw[keep], doffs[keep]
        entry["fw"], entry["freqs"] = fw[keep], foffs[keep]
        entry["positions"] = -1
        if positions is not None and field in POSITIONS_FOR:
            pos_sizes = np.add.reduceat(freqs, starts)
            pos_starts = np.cumsum(pos_sizes) - pos_sizes
            largest = np.maximum.reduceat(positions, pos_starts) if len(positions) else np.zeros(len(sizes), np.int64)
            pw, poffs = self._column(np.asarray(positions, np.int64), pos_sizes, largest, keep)
            entry["pw"], entry["positions"] = pw[keep], poffs[keep]
        self.entries.append(entry)

    def close(self) -> None:
        """Write the directory and footer and make the bytes durable (under the temporary name)."""
        entries = np.concatenate(self.entries) if self.entries else np.zeros(0, ENTRY)
        entries = entries[np.argsort(entries["extent"], kind="stable")]
        where = self._write(entries) if len(entries) else self.at
        footer = json.dumps({"fields": self.fields, "entries": [where, len(entries)]}).encode()
        self.fh.write(footer + _TAIL.pack(len(footer), MAGIC))
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()

    def publish(self) -> None:
        """Give the closed file its name (once the segment is assembled: a file named after the segment before
        that would go into its compound file)."""
        try:
            os.replace(self.tmp, self.path)
        finally:
            self.abort()

    def abort(self) -> None:
        """Drop what was written (a segment that is not kept)."""
        if not self.fh.closed:
            self.fh.close()
        self.tmp.unlink(missing_ok=True)


class Term:
    """One term's arrays in a segment's file (views of the mapped file; documents are local to the segment)."""

    __slots__ = ("docs", "freqs", "boost", "_file", "_entry")

    def __init__(self, file: "SegmentPostings", entry):
        self._file, self._entry = file, entry
        count = int(entry["count"])
        self.docs = np.cumsum(file.array(entry["docs"], entry["dw"], count), dtype=np.int64)
        self.freqs = file.array(entry["freqs"], entry["fw"], count)
        self.boost = file.boosts[int(entry["field"])]

    @property
    def weights(self) -> np.ndarray:
        """What Whoosh stores as each posting's weight: its frequency times the field's boost."""
        return self.freqs.astype(np.float32) * np.float32(self.boost)

    @property
    def has_positions(self) -> bool:
        return int(self._entry["positions"]) >= 0

    def positions(self) -> np.ndarray:
        """Every posting's positions, posting after posting (self.freqs of them each)."""
        total = int(self.freqs.sum(dtype=np.int64))
        return self._file.array(self._entry["positions"], self._entry["pw"], total)


class SegmentPostings:
    """A segment's file, mapped; `term(extent)` finds a term by the offset of its W3 postings."""

    def __init__(self, buf, entries: np.ndarray, fields: list):
        self.buf = buf
        self.entries = entries
        self.extents = entries["extent"]
        self.boosts = [float(b) for _, b in fields]

    def array(self, offset, width, count: int) -> np.ndarray:
        return np.frombuffer(self.buf, dtype=_DTYPES[int(width)], count=count, offset=int(offset))

    def term(self, extent: int) -> Term | None:
        i = int(np.searchsorted(self.extents, extent))
        if i < len(self.extents) and self.extents[i] == extent:
            return Term(self, self.entries[i])
        return None

    def __len__(self) -> int:
        return len(self.entries)


def load(gen_dir: str | os.PathLike, segment_id: str) -> SegmentPostings | None:
    """A segment's file, memory-mapped (the kernel's pages, not the heap), or None when it has none or one that
    does not read as this layout (the caller reads the W3 blocks instead)."""
    try:
        with open(path_of(gen_dir, segment_id), "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size < len(MAGIC) + _TAIL.size:
                return None
            buf = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except (FileNotFoundError, ValueError, OSError):
        return None
    try:
        footer_len, magic = _TAIL.unpack_from(buf, size - _TAIL.size)
        if buf[:len(MAGIC)] != MAGIC or magic != MAGIC or footer_len > size:
            return None
        footer = json.loads(bytes(buf[size - _TAIL.size - footer_len:size - _TAIL.size]))
        at, count = footer["entries"]
        entries = np.frombuffer(buf, ENTRY, count=count, offset=at) if count else np.zeros(0, ENTRY)
        return SegmentPostings(buf, entries, footer["fields"])
    except (KeyError, ValueError, TypeError, struct.error):
        return None


def remove_stale(gen_dir: str | os.PathLike, live: set[str]) -> None:
    """Remove the files of segments the generation no longer has (merged away)."""
    for stale in Path(gen_dir).glob(f"*{SUFFIX}"):
        if stale.name[:-len(SUFFIX)] not in live:
            stale.unlink(missing_ok=True)
