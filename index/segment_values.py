"""Per-segment doc values: each segment's (document, value) pairs of the facet and story fields, written once.

The searcher counts facets over arrays of (document, value ordinal) pairs. Reading them from Whoosh's term index
costs a Python step per term (a story id field has a term per article: ~5 s at a million articles), so every
segment's pairs are written beside it when it is committed (`<segment id>.values.npz`, as Lucene writes doc values
per segment) and read back as arrays when an index is opened. A segment never changes once written (deletions are
kept apart), so its file never goes stale; a segment without one (an index made before this, or a value that
cannot be written) is read from the term index as before.

Layout of a file: for each field F, `F.docs` and `F.ords` (int32, one entry per pair: the document's number within
the segment and the value's ordinal), `F.values` (the values as UTF-8, each followed by a NUL byte, in ordinal
order). Written to a temporary name and renamed, so a reader sees a whole file or none.
"""
from __future__ import annotations

import os
import struct
from itertools import accumulate
from pathlib import Path
from pickle import loads
import zlib

import numpy as np
from whoosh.codec.whoosh3 import W3TermInfo

from index import schema as S

FIELDS = (S.PERSON, S.COUNTRY, S.LANG, S.SOURCE, S.STORY)
SUFFIX = ".values.npz"
Pairs = tuple[list[str], np.ndarray, np.ndarray]   # (values, local docs, value ordinals)


def path_of(gen_dir: str | os.PathLike, segment_id: str) -> Path:
    return Path(gen_dir) / f"{segment_id}{SUFFIX}"


def read_pairs(sub, field: str) -> Pairs:
    """One segment's pairs of a field, from Whoosh's term index (the slow way a values file saves)."""
    if not hasattr(sub, "_terms") or field not in sub.schema:   # an empty index's EmptyReader has no term file
        return [], np.zeros(0, np.int32), np.zeros(0, np.int32)
    fieldobj = sub.schema[field]
    fmt = fieldobj.format
    postfile = sub._terms._postfile
    values: list[str] = []
    docs: list[int] = []
    vals: list[int] = []
    for btext, terminfo in _field_terms(sub, field):
        value = len(values)
        values.append(fieldobj.from_bytes(btext))
        if isinstance(terminfo, int):   # the one document of the term
            ids = [terminfo]
        elif terminfo.is_inlined():   # small posting lists live in the term index itself
            ids = list(terminfo.inlined_postings()[0])
        else:
            ids = _read_ids(sub._codec.postings_reader(postfile, terminfo, fmt))
        docs.extend(ids)
        vals.extend([value] * len(ids))
    return values, np.asarray(docs, dtype=np.int32), np.asarray(vals, dtype=np.int32)


def _field_terms(sub, field: str):
    """(term bytes, terminfo) of a segment's field, the terminfo being the doc number itself for a term held by
    one document: read straight from the W3 term index's fixed header, without decoding the rest (a field of story
    ids has one term per story: 100k terms cost 2.4 s through iter_field, ~0.5 s here)."""
    terms = sub._terms
    tindex, fieldmap = getattr(terms, "_tindex", None), getattr(terms, "_fieldmap", None)
    if tindex is None or fieldmap is None or field not in fieldmap:
        for btext, terminfo in sub.iter_field(field):
            yield btext, (terminfo.min_id() if terminfo.doc_frequency() == 1 else terminfo)
        return
    prefix = struct.pack(">H", fieldmap[field])
    header = W3TermInfo._struct
    size = header.size
    for key, val in tindex.items_from(prefix):
        if key[:2] != prefix:
            return
        head = header.unpack(val[:size])
        if head[2] == 1 and head[6] != 0xffffffff:   # doc frequency 1, min id known
            yield key[2:], head[6]
        else:
            yield key[2:], W3TermInfo.from_bytes(val)


def _read_ids(m) -> list[int]:
    """The doc ids of a W3 leaf matcher, block by block (the blocks' id deltas summed)."""
    out: list[int] = []
    pf = m._postfile
    while True:
        raw = pf.get(m._dataoffset, m._nextoffset - m._dataoffset)
        out.extend(accumulate(loads(zlib.decompress(raw) if m._compression else raw)[0], initial=0))
        out.pop(len(out) - m._blocklength - 1)   # drop accumulate's initial value
        if m._lastblock:
            return out
        m._goto(m._nextoffset)


def write(gen_dir: str | os.PathLike, sub) -> bool:
    """Write one segment's values file (False when a value holds a NUL byte: that segment is read the slow way)."""
    arrays = {}
    for field in FIELDS:
        values, docs, ords = read_pairs(sub, field)
        if any("\0" in v for v in values):
            return False
        arrays[f"{field}.docs"], arrays[f"{field}.ords"] = docs, ords
        arrays[f"{field}.values"] = np.frombuffer("".join(v + "\0" for v in values).encode("utf-8"), np.uint8)
    target = path_of(gen_dir, sub.segment().segment_id())
    tmp = target.with_name(target.name + ".tmp")
    with open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    return True


def load(gen_dir: str | os.PathLike, segment_id: str) -> dict[str, Pairs] | None:
    """The pairs of every field from a segment's values file, or None when it has none."""
    try:
        with np.load(path_of(gen_dir, segment_id)) as data:
            out = {}
            for field in FIELDS:
                text = data[f"{field}.values"].tobytes().decode("utf-8")
                out[field] = (text.split("\0")[:-1], data[f"{field}.docs"], data[f"{field}.ords"])
            return out
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
        if not path_of(gen_dir, seg.segment_id()).exists() and write(gen_dir, sub):
            written.append(path_of(gen_dir, seg.segment_id()).name)
    for stale in gen_dir.glob(f"*{SUFFIX}"):
        if stale.name[:-len(SUFFIX)] not in live:
            stale.unlink(missing_ok=True)
    return written
