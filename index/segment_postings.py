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

A term is found by a 64-bit hash of its field and text (BLAKE2b), and the hit is checked against the term's
text kept in the file, so a collision costs a comparison, never a wrong list. Finding a term costs a hash and a
binary search over a contiguous array: the term's Whoosh record (a hash file read in Python, ~20 us) is not read
at all for a frequent term.

Layout (little-endian; written front to back while the segment is flushed, so the directory comes last):

| bytes | what |
|---|---|
| 0-7 | `NDXPST1\\n` |
| 8 .. | the terms' arrays, each starting at a multiple of its item size: per term, `docs` (each document number minus the previous one's, the first as it is: uint8, uint16 or uint32, the narrowest that holds the term's largest), `freqs` (uint8/16/32) and, for the fields phrases are searched in (POSITIONS_FOR), `positions` (each posting's positions within its document, as they are, posting after posting: uint8/16/32) |
| E .. | the directory: `hashes` (uint64 per term, ascending), then one ENTRY per term in the same order, then `key_starts` (uint64, one per term and one more) and `keys` (each term's field name, a NUL and its text, back to back) |
| F .. | a JSON footer: `{"fields": [[name, boost], ...], "terms": T, "hashes": E, "entries": ..., "key_starts": ..., "keys": ...}` (offsets; a term's weight is its frequency times its field's boost, as Whoosh stores it) |
| last 16 | the footer's length (uint64), then `NDXPST1\\n` again (a file cut short does not end so) |

Written to a temporary name and renamed when the segment is finished, so a reader sees a whole file or none.
"""
from __future__ import annotations

import ctypes
import hashlib
import json
import mmap
import os
import struct
from pathlib import Path

import numpy as np

from index import durable, schema as S
from index.postings import decode_positions

SUFFIX = ".post"
MAGIC = b"NDXPST1\n"
MIN_DF = 64                 # a term held by fewer documents of a segment is read from its W3 blocks (one or two)
POSITIONS_FOR = frozenset({S.TITLE, S.BODY, S.PERSON_NAME})   # where search.evaluate checks phrases
ENTRY = np.dtype([("count", "<u4"), ("field", "u1"), ("dw", "u1"), ("fw", "u1"), ("pw", "u1"),
                  ("docs", "<i8"), ("freqs", "<i8"), ("positions", "<i8")])   # (positions: -1 when not kept)
_WIDTHS = (1, 2, 4)
_DTYPES = {1: np.dtype("<u1"), 2: np.dtype("<u2"), 4: np.dtype("<u4")}
_TAIL = struct.Struct("<Q8s")


def term_key(field: str, btext: bytes) -> bytes:
    return field.encode("utf-8") + b"\0" + btext


def key_hash(key: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little")


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
    `close()` and `publish()` (or `abort()`); as a context manager, closed at the end (dropped on an error)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.tmp = durable.temp_name(self.path)
        self.fh = open(self.tmp, "wb")
        self.fh.write(MAGIC)
        self.at = len(MAGIC)
        self.fields: list[list] = []
        self._field_no: dict[str, int] = {}
        self.entries: list[np.ndarray] = []
        self.keys: list[bytes] = []

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

    def add(self, field: str, boost: float, terms: list[bytes], bounds: np.ndarray, docs: np.ndarray,
            freqs: np.ndarray, positions: np.ndarray | None) -> None:
        """Consecutive terms of one field: `terms` (their text as the term file holds it), `bounds` (T+1: term t's
        postings are bounds[t]:bounds[t+1]), each posting's document (ascending within a term) and
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
        self.keys += [term_key(field, t) for t, k in zip(terms, keep.tolist()) if k]
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
        hashes = np.fromiter(map(key_hash, self.keys), np.uint64, len(self.keys))
        order = np.argsort(hashes, kind="stable")
        keys = [self.keys[i] for i in order.tolist()]
        key_starts = np.zeros(len(keys) + 1, np.uint64)
        np.cumsum([len(k) for k in keys], out=key_starts[1:])
        footer = {"fields": self.fields, "terms": len(keys)}
        for name, arr in (("hashes", hashes[order]), ("entries", entries[order]), ("key_starts", key_starts),
                          ("keys", np.frombuffer(b"".join(keys), np.uint8))):
            footer[name] = self._write(np.ascontiguousarray(arr)) if len(arr) else self.at
        footer = json.dumps(footer).encode()
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

    def __enter__(self) -> "Builder":
        return self

    def __exit__(self, kind, exc, tb) -> None:
        """Closed when the segment's terms are all added; dropped when adding them failed."""
        if kind is None:
            self.close()
        else:
            self.abort()

    def abort(self) -> None:
        """Drop what was written (a segment that is not kept)."""
        if not self.fh.closed:
            self.fh.close()
        self.tmp.unlink(missing_ok=True)


class Term:
    """One term's postings in a segment: `docs` (local document numbers, ascending), `freqs`, `weights` and, for
    a field whose positions are kept, `positions()` (posting after posting, `freqs` of them each)."""

    __slots__ = ("docs", "freqs", "_weights", "_positions")

    def __init__(self, docs: np.ndarray, freqs: np.ndarray, weights, positions):
        self.docs, self.freqs = docs, freqs
        self._weights = weights       # an array, or the field's boost (weight = frequency x boost)
        self._positions = positions   # an array, a function returning it (read when asked), or None

    @classmethod
    def in_file(cls, file: "SegmentPostings", entry) -> "Term":
        count = int(entry["count"])
        docs = np.cumsum(file.array(entry["docs"], entry["dw"], count), dtype=np.int64)
        freqs = file.array(entry["freqs"], entry["fw"], count)
        positions = None
        if int(entry["positions"]) >= 0:
            def positions():
                return file.array(entry["positions"], entry["pw"], int(freqs.sum(dtype=np.int64)))
        return cls(docs, freqs, file.boosts[int(entry["field"])], positions)

    @classmethod
    def from_blocks(cls, ids, weights, values: list[bytes]) -> "Term | None":
        """A term's postings as Whoosh's W3 blocks give them (index.whoosh_wall.term_postings, with positions
        values), decoded with numpy; None when the values do not decode as positions."""
        sizes = np.fromiter(map(len, values), np.int64, len(values))
        decoded = decode_positions(np.frombuffer(b"".join(values), np.uint8), np.cumsum(sizes) - sizes, sizes)
        if decoded is None:
            return None
        counts, deltas = decoded
        return cls(np.asarray(ids, np.int64), counts, np.asarray(weights, np.float32),
                   absolute_positions(counts, deltas))

    @property
    def weights(self) -> np.ndarray:
        """What Whoosh stores as each posting's weight: its frequency times the field's boost."""
        if isinstance(self._weights, np.ndarray):
            return self._weights
        return self.freqs.astype(np.float32) * np.float32(self._weights)

    @property
    def has_positions(self) -> bool:
        return self._positions is not None

    def positions(self) -> np.ndarray:
        if callable(self._positions):
            self._positions = self._positions()
        return self._positions


MADV_POPULATE_READ = 22      # Linux 5.14+: map a range's pages (reading them in), as first reads would one by one
MADV_WILLNEED = 3            # (older kernels: read them in ahead, without mapping them)
PRELOAD_CHUNK = 8 << 20      # bytes asked for at a time


def _libc_madvise():
    try:
        fn = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    fn.argtypes, fn.restype = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int], ctypes.c_int
    return fn


_MADVISE = _libc_madvise()


class SegmentPostings:
    """A segment's file, mapped; `term(field, btext)` finds a term (None: the file does not hold it)."""

    def __init__(self, buf, footer: dict):
        self.buf = buf
        self.preloaded = False
        n = footer["terms"]
        self.hashes = np.frombuffer(buf, np.uint64, count=n, offset=footer["hashes"]) if n else np.zeros(0, np.uint64)
        self.entries = np.frombuffer(buf, ENTRY, count=n, offset=footer["entries"]) if n else np.zeros(0, ENTRY)
        self.key_starts = np.frombuffer(buf, np.uint64, count=n + 1, offset=footer["key_starts"])
        self.keys_at = footer["keys"]
        self.boosts = [float(b) for _, b in footer["fields"]]

    def array(self, offset, width, count: int) -> np.ndarray:
        return np.frombuffer(self.buf, dtype=_DTYPES[int(width)], count=count, offset=int(offset))

    def term(self, field: str, btext: bytes) -> Term | None:
        key = term_key(field, btext)
        h = key_hash(key)
        i = int(np.searchsorted(self.hashes, np.uint64(h)))
        while i < len(self.hashes) and int(self.hashes[i]) == h:   # (two terms of one hash: both are checked)
            start, end = int(self.key_starts[i]), int(self.key_starts[i + 1])
            if self.buf[self.keys_at + start:self.keys_at + end] == key:
                return Term.in_file(self, self.entries[i])
            i += 1
        return None

    def __len__(self) -> int:
        return len(self.entries)

    def preload(self) -> int:
        """Map every page of the file now (a server does it in the background, as Lucene's MMapDirectory preload):
        the first read of a word then costs no page faults, which cost 10-70 us each on a virtual machine, several
        per segment a word is looked up in. Through the C library's madvise, which lets other threads run. Where
        the kernel cannot (before Linux 5.14), the pages are only read ahead (MADV_WILLNEED): touching them here
        would turn a file cut short since it was opened into a crash of the server. Returns the bytes."""
        if self.preloaded:
            return 0
        self.preloaded = True
        size = len(self.buf)
        if _MADVISE is None or not size:
            return 0
        view = np.frombuffer(self.buf, np.uint8)
        start = view.ctypes.data
        for at in range(0, size, PRELOAD_CHUNK):
            length = min(PRELOAD_CHUNK, size - at)
            if _MADVISE(start + at, length, MADV_POPULATE_READ) != 0:
                _MADVISE(start + at, size - at, MADV_WILLNEED)
                return at
        return size

    def field_terms(self) -> list[tuple[str, bytes]]:
        """(field, text) of every term the file holds."""
        out = []
        for i in range(len(self.entries)):
            key = bytes(self.buf[self.keys_at + int(self.key_starts[i]):self.keys_at + int(self.key_starts[i + 1])])
            field, _, text = key.partition(b"\0")
            out.append((field.decode("utf-8"), text))
        return out


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
        return SegmentPostings(buf, footer)
    except (KeyError, ValueError, TypeError, struct.error):
        return None


def remove_stale(gen_dir: str | os.PathLike, live: set[str]) -> None:
    """Remove the files of segments the generation no longer has (merged away)."""
    for stale in Path(gen_dir).glob(f"*{SUFFIX}"):
        if stale.name[:-len(SUFFIX)] not in live:
            stale.unlink(missing_ok=True)
