"""Per-segment doc values: each segment's (document, value) pairs of the facet and story fields, written once.

The searcher counts facets over arrays of (document, value ordinal) pairs. Reading them from Whoosh's term index
costs a Python step per term (a story id field has a term per article: ~5 s at a million articles), so every
segment's pairs are written beside it when it is committed (`<segment id>.values`, as Lucene writes doc values
per segment) and read back as arrays when an index is opened, without parsing. A segment never changes once
written (deletions are kept apart), so its file never goes stale; a segment without one (an index made before
this, or a value that cannot be written) is read from the term index as before.

Layout of a file (little-endian; every array starts at a multiple of 8 bytes):

| bytes | what |
|---|---|
| 0-7 | `NDXVAL1\n` |
| 8-15 | length H of the header (uint64) |
| 16 .. 16+H | header: JSON, `{field: {part: [offset, count]}}`, offsets from the start of the file |
| then | for each field F, the parts `docs` (int32: each pair's document number within the segment, in order), `ords` (int32: each pair's value ordinal), `hashes` (uint64 per value: the value's `value_hash`), `starts` (uint32, one per value and one more: where each value begins in `text`), `text` (uint8: the values in UTF-8, back to back) |

The hashes let a reader put the segments' values together (one `np.unique`) and find a value by its text without
turning every value into a Python string: a million story ids cost no string at all until one is shown. Written
to a temporary name and renamed, so a reader sees a whole file or none (an `.values.npz` of an index written
before this layout is read too).
"""
from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path

import numpy as np

from index import durable, facets, schema as S, whoosh_wall

def fields() -> tuple[str, ...]:
    """The fields a values file holds: every declared facet's (index.facets, read at call time), the stories', and
    the ids' (to find the story map's copies)."""
    return tuple(dict.fromkeys([f.field for f in facets.declared()] + [S.STORY, S.ID]))
SUFFIX = ".values"
OLD_SUFFIX = ".values.npz"          # the layout before this one (numpy's zip of arrays): still read
MAGIC = b"NDXVAL1\n"
PARTS = (("docs", "<i4"), ("ords", "<i4"), ("hashes", "<u8"), ("starts", "<u4"), ("text", "u1"))
Pairs = tuple[list[str], np.ndarray, np.ndarray]   # (values, local docs, value ordinals)


def value_hash(value: str) -> int:
    """A value's 64-bit hash, the same in every process and on every machine (BLAKE2b): what joins the values of
    different segments. Two of a million values collide with odds of about 3 in 100 million."""
    return int.from_bytes(hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


class SegmentValues:
    """One field's pairs in one segment: `docs`, `ords` (arrays, one entry per pair), and the values, kept as
    UTF-8 text with their `hashes`: `value(i)` decodes one, `values()` all of them (once)."""

    __slots__ = ("docs", "ords", "hashes", "starts", "text", "_values")

    def __init__(self, docs: np.ndarray, ords: np.ndarray, hashes: np.ndarray, starts: np.ndarray, text):
        self.docs, self.ords, self.hashes, self.starts, self.text = docs, ords, hashes, starts, text
        self._values = None

    @classmethod
    def from_pairs(cls, values: list[str], docs: np.ndarray, ords: np.ndarray) -> "SegmentValues":
        """From (values, docs, ords) as the term index gives them; the pairs are put in document order (what the
        searcher's per-document arrays want: sorting them when the file is written spares sorting at each open)."""
        docs, ords = np.asarray(docs, np.int32), np.asarray(ords, np.int32)
        order = np.lexsort((ords, docs))
        docs, ords = docs[order], ords[order]
        encoded = [v.encode("utf-8", "surrogatepass") for v in values]
        starts = np.zeros(len(values) + 1, dtype=np.uint32)
        np.cumsum([len(b) for b in encoded], out=starts[1:])
        hashes = np.fromiter((value_hash(v) for v in values), dtype=np.uint64, count=len(values))
        out = cls(np.asarray(docs, np.int32), np.asarray(ords, np.int32), hashes, starts,
                  np.frombuffer(b"".join(encoded), np.uint8))
        out._values = list(values)
        return out

    def __len__(self) -> int:
        return len(self.hashes)

    def value(self, i: int) -> str:
        if self._values is not None:
            return self._values[i]
        return self.text[int(self.starts[i]):int(self.starts[i + 1])].tobytes().decode("utf-8", "surrogatepass")

    def values(self) -> list[str]:
        if self._values is None:
            text = self.text.tobytes().decode("utf-8", "surrogatepass") if len(self.text) else ""
            if text.isascii():   # offsets in bytes are offsets in characters: cut in one pass
                starts = self.starts.tolist()
                self._values = [text[a:b] for a, b in zip(starts, starts[1:])]
            else:
                self._values = [self.value(i) for i in range(len(self))]
        return self._values

    def pairs(self) -> Pairs:
        return self.values(), self.docs, self.ords


def path_of(gen_dir: str | os.PathLike, segment_id: str) -> Path:
    return Path(gen_dir) / f"{segment_id}{SUFFIX}"


def read_pairs(sub, field: str) -> Pairs:
    """One segment's pairs of a field, from Whoosh's term index (the slow way a values file saves)."""
    if not whoosh_wall.has_terms(sub) or field not in sub.schema:   # an empty index's EmptyReader has no term file
        return [], np.zeros(0, np.int32), np.zeros(0, np.int32)
    fieldobj = sub.schema[field]
    values: list[str] = []
    docs: list[int] = []
    vals: list[int] = []
    for btext, ids in whoosh_wall.term_doc_ids(sub, field):
        value = len(values)
        values.append(fieldobj.from_bytes(btext))
        docs.extend(ids)
        vals.extend([value] * len(ids))
    return values, np.asarray(docs, dtype=np.int32), np.asarray(vals, dtype=np.int32)


def write(gen_dir: str | os.PathLike, sub) -> None:
    """Write one segment's values file (the layout in the module's docstring)."""
    parts = []
    for field in fields():
        sv = SegmentValues.from_pairs(*read_pairs(sub, field))
        parts.extend((field, name, np.ascontiguousarray(getattr(sv, name), dtype=dtype)) for name, dtype in PARTS)
    header: dict = {}
    offset = 0
    for field, name, arr in parts:   # offsets from the end of the header; made absolute below
        header.setdefault(field, {})[name] = [offset, len(arr)]
        offset += -(-arr.nbytes // 8) * 8
    body_start = 16
    while True:   # the header's length depends on the offsets it holds: grow it until it holds them
        text = json.dumps({f: {n: [body_start + o, c] for n, (o, c) in d.items()} for f, d in header.items()},
                          separators=(",", ":")).encode()
        needed = -(-(16 + len(text)) // 8) * 8
        if needed <= body_start:
            break
        body_start = needed
    text = text.ljust(body_start - 16)

    def write_parts(fh) -> None:
        fh.write(MAGIC + struct.pack("<Q", len(text)) + text)
        for _, _, arr in parts:
            data = arr.tobytes()
            fh.write(data + b"\0" * (-len(data) % 8))

    durable.write_atomically(path_of(gen_dir, sub.segment().segment_id()), write_parts)


def load(gen_dir: str | os.PathLike, segment_id: str) -> dict[str, SegmentValues] | None:
    """Every field's pairs from a segment's values file, or None when it has none (or one that does not read as
    this layout: the caller reads the term index instead)."""
    try:
        with open(path_of(gen_dir, segment_id), "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return _load_npz(gen_dir, segment_id)
    if data[:8] != MAGIC:
        return None
    try:
        (size,) = struct.unpack_from("<Q", data, 8)
        header = json.loads(data[16:16 + size])
        buf = memoryview(data)
        out = {}
        for field in header:   # a field the file lacks (a facet declared since) is read from the term index
            arrays = {name: np.frombuffer(buf, dtype=dtype, count=header[field][name][1],
                                          offset=header[field][name][0]) for name, dtype in PARTS}
            out[field] = SegmentValues(**arrays)
        return out
    except (KeyError, ValueError, struct.error):   # cut short or not ours: read the term index instead
        return None


def _load_npz(gen_dir, segment_id: str) -> dict[str, SegmentValues] | None:
    try:
        with np.load(Path(gen_dir) / f"{segment_id}{OLD_SUFFIX}") as data:
            return {field: SegmentValues.from_pairs(data[f"{field}.values"].tobytes().decode("utf-8").split("\0")[:-1],
                                                    data[f"{field}.docs"], data[f"{field}.ords"])
                    for field in fields() if f"{field}.docs" in data}
    except FileNotFoundError:
        return None


def write_missing(gen_dir: str | os.PathLike, reader) -> list[str]:
    """Write a values file for each segment of `reader` (an open Whoosh reader of the generation) that lacks one,
    and remove those of segments the generation no longer has (merged away). Returns the files written."""
    gen_dir = Path(gen_dir)
    live, written = set(), []
    for sub, _ in reader.leaf_readers():
        seg = sub.segment()
        if seg is None:
            continue
        live.add(seg.segment_id())
        if not path_of(gen_dir, seg.segment_id()).exists():
            write(gen_dir, sub)
            written.append(path_of(gen_dir, seg.segment_id()).name)
    for suffix in (SUFFIX, OLD_SUFFIX):
        for stale in gen_dir.glob(f"*{suffix}"):
            if stale.name[:-len(suffix)] not in live or suffix == OLD_SUFFIX:
                stale.unlink(missing_ok=True)
    return written
