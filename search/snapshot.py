"""One opened version of the index and everything cached about it: numpy arrays over all documents.

Whoosh answers "which documents hold this term" one posting at a time in Python (8k postings: ~80 ms here), and
its facet categorisers are slower still. A Snapshot reads each posting list block by block into numpy arrays
(global document numbers + term frequencies, cached), keeps per-document arrays of day, timestamp and field
lengths, and doc->value pairs of every facet field, so a search is numpy set algebra, BM25F over arrays and
`bincount`s. Whoosh stays the storage (postings, lexicons, stored fields, phrase positions, spelling automata).
All Whoosh calls of a snapshot hold its lock: Whoosh's file objects keep a shared read position.
"""
from __future__ import annotations

import fnmatch
import functools
import logging
import re
from bisect import bisect_right
import threading
import weakref
from collections import OrderedDict
from contextlib import nullcontext

import numpy as np
from whoosh import query as wq
from whoosh.util.numeric import byte_to_length

from index import integrity, schema as S, segment_postings, segment_values, whoosh_wall
from index.stories import read_story_map_since
from index.errors import IndexDamaged
from index.facets import named
from index.store import index_version, open_index
from search.grow import grown, spare, spared
from search.model import MAX_WILDCARD_TERMS, QueryError
from search.ranking import length_norm

log = logging.getLogger(__name__)
_LENGTH_TABLE = np.array([byte_to_length(i) for i in range(256)], dtype=np.float32)
TERM_CACHE_POSTINGS = 20_000_000     # postings kept in the term cache (8 bytes each: ~160 MB at most)
PHRASE_CACHE_ENTRIES = 2_000
_POSTING_ARRAYS = "\0posting arrays"   # a segment's index.segment_postings file, in the segment cache
DF_CACHE_ENTRIES = 200_000
CONCEPT_CACHE_DOCS = 10_000_000      # documents kept in the word-scores cache (8 bytes each: ~80 MB at most)
MAX_SCANNED_TERMS = 200_000          # a wildcard may scan this many index terms looking for matches


class _SizedLRU(OrderedDict):
    """A least-recently-used cache bounded by the total size of its values (`size(value)`), not their number."""

    def __init__(self, limit: int, size):
        super().__init__()
        self.limit, self.size, self.total = limit, size, 0

    def hit(self, key):
        """The value under `key`, marked as used (None when absent)."""
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value

    def keep(self, key, value) -> None:
        if key in self:
            return
        self[key] = value
        self.total += self.size(value)
        while self.total > self.limit and len(self) > 1:
            _, old = self.popitem(last=False)
            self.total -= self.size(old)


class Postings:
    """Global doc numbers (sorted, int32) and term frequencies (float32) of one term."""

    __slots__ = ("ids", "weights")

    def __init__(self, ids: np.ndarray, weights: np.ndarray):
        self.ids = ids
        self.weights = weights


EMPTY = Postings(np.zeros(0, np.int32), np.zeros(0, np.float32))


def _read_matcher(m) -> tuple[np.ndarray, np.ndarray]:
    """All ids and weights of a leaf matcher; W3 blocks are decoded whole instead of posting by posting."""
    if whoosh_wall.is_block_matcher(m):
        ids_parts, w_parts = [], []
        for n, deltas, w in whoosh_wall.matcher_blocks(m):
            ids_parts.append(np.cumsum(np.asarray(deltas, dtype=np.int64)))
            if w is None:
                w_parts.append(np.ones(n, np.float32))
            elif isinstance(w, float):
                w_parts.append(np.full(n, w, np.float32))
            else:
                w_parts.append(np.asarray(w, dtype=np.float32))
        return np.concatenate(ids_parts), np.concatenate(w_parts)
    ids, ws = [], []
    while m.is_active():
        ids.append(m.id())
        ws.append(m.weight())
        m.next()
    return np.asarray(ids, dtype=np.int64), np.asarray(ws, dtype=np.float32)


def _phrase_in(terms: list) -> np.ndarray:
    """The segment's documents (local numbers) holding the terms at consecutive positions, from their postings
    with positions (index.segment_postings.Term): as Whoosh's Phrase with slop 1, each word one position
    after the one before."""
    common = terms[0].docs
    for t in terms[1:]:
        common = np.intersect1d(common, t.docs, assume_unique=True)
    if not len(common):
        return common
    keys = None
    for k, t in enumerate(terms):
        at = np.searchsorted(t.docs, common)              # the term's postings of the common documents
        freqs = t.freqs.astype(np.int64)
        first = np.cumsum(freqs) - freqs                  # where each posting's positions begin
        n = freqs[at]
        flat = np.repeat(first[at] - (np.cumsum(n) - n), n) + np.arange(int(n.sum()))
        pos = t.positions()[flat].astype(np.int64) - k    # where the phrase would begin
        doc = np.repeat(np.arange(len(common), dtype=np.int64), n)
        key = (doc << 32) | np.maximum(pos, 0)
        key = _distinct(key[pos >= 0])
        keys = key if keys is None else np.intersect1d(keys, key, assume_unique=True)
        if not len(keys):
            return np.zeros(0, np.int64)
    return common[_distinct(keys >> 32)]


def _distinct(a: np.ndarray) -> np.ndarray:
    """np.unique(a) by sorting (numpy 2's np.unique hashes, which is several times slower on these arrays)."""
    a = np.sort(a)
    return a[np.concatenate(([True], a[1:] != a[:-1]))] if len(a) else a


class FacetField:
    """The values of one facet field per document (CSR: offsets into a doc-sorted value array) and the vocabulary.

    Counting gathers only the matching documents' values, so a selective query costs little however large the
    index; a facet of at most one value per document (language, source) is one gather and one bincount."""

    def __init__(self, values, pair_doc: np.ndarray, pair_ord: np.ndarray, live: np.ndarray,
                 built: "dict | None" = None):
        """From every pair of the field; or, with `built` (extended()), from the arrays themselves."""
        self.values = values     # a ValueTable: ordinal -> value, decoded when asked
        self.ords = values.ords()
        self.n_live = int(np.count_nonzero(live))
        self._story_totals = None      # stories per value over the whole index (count() fills it)
        self._words = None
        if built is not None:
            for name in ("doc_values", "offsets", "single", "doc_value", "gaps", "totals", "multi"):
                setattr(self, name, built[name])
            return
        keep = live[pair_doc]
        pair_doc, pair_ord = pair_doc[keep], pair_ord[keep]
        if len(pair_doc) > 1 and not np.all(pair_doc[1:] >= pair_doc[:-1]):   # (values files keep them in order)
            order = np.argsort(pair_doc, kind="stable")
            pair_doc, pair_ord = pair_doc[order], pair_ord[order]
        self.doc_values = spared(pair_ord)   # (the arrays a newer version extends have room to grow: search/grow.py)
        per_doc = np.bincount(pair_doc, minlength=len(live))
        self.offsets = spare(len(live) + 1, np.int64, 0)
        np.cumsum(per_doc, out=self.offsets[1:])
        # at most one value per document (language, source): counting is one gather from a per-document array
        # (-1: none; a deleted document has none, so this holds after deletes too)
        self.multi = int(np.count_nonzero(per_doc > 1))   # documents with more than one value
        self.single = bool(len(per_doc)) and not self.multi
        self.doc_value = None
        self.gaps = False                # some document has no value (-1 in doc_value)
        if self.single:
            self.doc_value = spare(len(live), np.int32, -1)
            self.doc_value[pair_doc] = pair_ord
            self.gaps = bool(per_doc.min() == 0)
        self.totals = np.bincount(pair_ord, minlength=len(values))

    def extended(self, values: "ValueTable", kept: int, n_prefix: int, dead: np.ndarray,
                 pair_doc: np.ndarray, pair_ord: np.ndarray, live: np.ndarray) -> "FacetField":
        """The FacetField of a newer version whose first `n_prefix` documents are this one's (the same segments):
        these arrays cut there (`values` keeps this one's first `kept` ordinals: every value a document of the prefix
        holds, since a value is numbered where it is first met; the others are gone), the
        documents deleted since (`dead`, sorted) emptied, and the new documents' pairs (`pair_doc`, `pair_ord`,
        global, every pair of the segments after the prefix) appended. Equal to FacetField(values, <every
        pair>, live): only what the new segments hold is read, and the rest is copied, not counted again."""
        n = len(live)
        end = int(self.offsets[n_prefix])
        old_values = self.doc_values[:end]
        gone = [self.doc_values[end:]]              # values of documents past the shared segments
        tail = np.diff(self.offsets[n_prefix:])
        multi = self.multi - int(np.count_nonzero(tail > 1))
        if len(dead):   # the shared documents' values change: copied (search/grow.py: a shared head is not written)
            offsets = spare(n + 1, np.int64)
            head = offsets[:n_prefix + 1]
            positions, lens = self._value_positions(dead)
            gone.append(old_values[positions])
            old_values = _splice(old_values, self.offsets[dead], lens, dead[:0], old_values[:0])
            multi -= int(np.count_nonzero(lens > 1))
            fewer = np.repeat(np.concatenate([[0], np.cumsum(lens)]),   # values gone before each document
                              np.diff(np.concatenate([[0], dead + 1, [n_prefix + 1]])))
            np.subtract(self.offsets[:n_prefix + 1], fewer, out=head)
        else:
            offsets = grown(self.offsets, n_prefix + 1, n + 1)
            head = offsets[:n_prefix + 1]
        keep = live[pair_doc]
        pair_doc, pair_ord = pair_doc[keep], pair_ord[keep]
        if len(pair_doc) > 1 and not np.all(pair_doc[1:] >= pair_doc[:-1]):
            order = np.argsort(pair_doc, kind="stable")
            pair_doc, pair_ord = pair_doc[order], pair_ord[order]
        pair_ord = pair_ord.astype(np.int32, copy=False)
        new_per_doc = np.bincount(pair_doc - n_prefix, minlength=n - n_prefix)
        np.cumsum(new_per_doc, out=offsets[n_prefix + 1:])
        offsets[n_prefix + 1:] += head[-1]
        multi += int(np.count_nonzero(new_per_doc > 1))
        kept_values = len(old_values)   # (the shared head, or the spliced copy: appended to in place either way)
        doc_values = grown(old_values, kept_values, kept_values + len(pair_ord))
        doc_values[kept_values:] = pair_ord
        single = n > 0 and not multi   # (deletions may have left one value per document)
        doc_value, gaps = None, False
        if single:
            if self.single:
                doc_value = grown(self.doc_value, n_prefix, n, share=not len(dead))
                doc_value[dead] = -1
                doc_value[n_prefix:] = -1
                doc_value[pair_doc] = pair_ord
            else:
                doc_value = spare(n, np.int32, -1)
                doc_value[np.flatnonzero(np.diff(offsets))] = doc_values
            gaps = bool(np.any(doc_value < 0))
        counts = self.totals.copy()
        for part in gone:
            counts -= np.bincount(part, minlength=len(counts))
        if counts[kept:].any():
            raise _Rebuild("a document of the shared segments holds a value they do not")
        totals = np.zeros(len(values), dtype=np.int64)
        totals[:kept] = counts[:kept]
        totals += np.bincount(pair_ord, minlength=len(values))
        built = {"doc_values": doc_values, "offsets": offsets, "single": bool(single), "doc_value": doc_value,
                 "multi": multi,
                 "gaps": gaps, "totals": totals}
        return FacetField(values, None, None, live, built)

    def count(self, mask: np.ndarray, stories: "Stories | None" = None, docs: np.ndarray | None = None) -> np.ndarray:
        """Documents per value among the documents in `mask` (distinct stories per value with `stories`); `docs`:
        np.flatnonzero(mask) when the caller has it."""
        docs = np.flatnonzero(mask) if docs is None else docs
        k = len(self.values)
        shared = None
        if stories is not None:
            if len(docs) == self.n_live:   # the whole index (browsing): counted once per snapshot
                if self._story_totals is None:
                    self._story_totals = self._count_stories(docs, stories, stories.shared(docs))
                return self._story_totals
            shared = stories.shared(docs)
            if not shared.any():   # no two of these articles share a story: articles are stories
                stories = None
            else:
                return self._count_stories(docs, stories, shared)
        if self.single:
            return np.bincount(self._single_values(docs)[0], minlength=k)
        positions, _ = self._value_positions(docs)
        return np.bincount(self.doc_values[positions], minlength=k)

    def _single_values(self, docs: np.ndarray) -> tuple[np.ndarray, "np.ndarray | slice"]:
        """(the value of each of `docs` that has one, which of `docs` have one) of a single-valued facet."""
        values = self.doc_value[docs]
        if not self.gaps:
            return values, slice(None)
        held = values >= 0
        return values[held], held

    def _value_positions(self, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(indices into doc_values of every value of `docs`, number of values per doc) of a multi-valued facet:
        each document's run starts at its offset."""
        starts = self.offsets[docs]
        lens = self.offsets[docs + 1] - starts
        shift = np.repeat(starts - (np.cumsum(lens) - lens), lens)
        return shift + np.arange(int(lens.sum())), lens

    def _count_stories(self, docs: np.ndarray, stories: "Stories", shared: np.ndarray) -> np.ndarray:
        k = len(self.values)
        if self.single:
            values, held = self._single_values(docs)
            return stories.count_pairs(values, docs[held], k, shared[held])
        positions, lens = self._value_positions(docs)
        return stories.count_pairs(self.doc_values[positions], np.repeat(docs, lens), k, np.repeat(shared, lens))

    def values_of(self, docs: np.ndarray) -> set[int]:
        """The distinct value ordinals the documents `docs` hold."""
        out: set[int] = set()
        for d in docs.tolist():
            out.update(self.doc_values[self.offsets[d]:self.offsets[d + 1]].tolist())
        return out

    def words(self) -> tuple[list[str], list[int]]:
        """(sorted words of every value, value ord of each) for prefix search on any word of a value."""
        if self._words is None:
            pairs = sorted((w, i) for i, v in enumerate(self.values) for w in set(v.casefold().split()))
            self._words = ([w for w, _ in pairs], [i for _, i in pairs])
        return self._words


_NO_DOC = np.iinfo(np.int64).max


def _first_docs(parts: list, bases) -> np.ndarray:
    """Per value of the segments (concatenated): the first document that holds it (a value no pair holds: its
    segment's first document)."""
    sizes = [len(p) for p in parts]
    fd = np.full(sum(sizes), _NO_DOC, dtype=np.int64)
    at, positions, docs = 0, [], []
    for part, size, base in zip(parts, sizes, bases):
        if len(part.ords):
            positions.append(part.ords.astype(np.int64) + at)
            docs.append(part.docs.astype(np.int64) + base)
        at += size
    if positions:
        np.minimum.at(fd, np.concatenate(positions), np.concatenate(docs))
    none = fd == _NO_DOC
    if none.any():
        fd[none] = np.repeat(np.asarray(bases, dtype=np.int64), sizes)[none]
    return fd


def _joined(parts: list, bases) -> tuple:
    """The segments' values joined: (their distinct hashes, sorted; where each is first met in the concatenation;
    each concatenated value's index among them; the first document holding each)."""
    hashes = np.concatenate([p.hashes for p in parts]) if parts else np.zeros(0, np.uint64)
    unique, met, inverse = np.unique(hashes, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    held = np.full(len(unique), _NO_DOC, dtype=np.int64)
    np.minimum.at(held, inverse, _first_docs(parts, bases))
    return unique, met, inverse, held


class ValueTable:
    """The values of one field over every segment, numbered in the order of the first document that holds each
    (values first held by one document: by hash): put together from the segments' value hashes with one
    `np.unique`, each value's text decoded only when it is asked for (a million story ids cost no Python string
    until one is shown). Numbered so, a value keeps its ordinal in every later version whose first documents are
    this one's, whether a merge rewrote the segments they are in or not (a merge keeps the documents' order)."""

    def __init__(self, parts: list, bases=None, joined: "tuple | None" = None):
        """`parts`: the segments' SegmentValues, in order; `bases`: each one's first document number."""
        self.parts = parts
        self.part_starts = np.zeros(len(parts) + 1, dtype=np.int64)
        np.cumsum([len(p) for p in parts], out=self.part_starts[1:])
        self.extra: list[str] = []            # values added by add() (not in any segment)
        self._extra_ords: dict[str, int] = {}
        if joined is not None:   # extended(): (global_of, first, first_doc, sorted hashes, their ordinals, decoded)
            self.global_of, self.first, self.first_doc, self._hashes, self._hash_ords, self._decoded = joined
            return
        if bases is None:   # (segments numbered one after the other)
            bases = np.concatenate([[0], np.cumsum([int(p.docs.max()) + 1 if len(p.docs) else 0 for p in parts])])
        unique, met, inverse, held = _joined(parts, bases)
        order = np.argsort(held, kind="stable")   # (unique is in hash order: ties stay so)
        ords = np.empty(len(unique), dtype=np.int32)
        ords[order] = np.arange(len(unique), dtype=np.int32)
        self.global_of = spared(ords[inverse])          # per segment value (concatenated): its ordinal
        self.first_doc = spared(held[order])            # per ordinal: the first document holding it (ascending)
        self.first = spared(met[order].astype(np.int64))   # ... and where it is first met (to decode it)
        self._hashes = unique                         # the values' hashes, sorted (for ordinals_of)
        self._hash_ords = ords                        # ... and the ordinal of each
        self._decoded: dict[int, str] = {}

    def extended(self, keep: int, parts: list, bases, n_prefix: int) -> tuple["ValueTable", int]:
        """ValueTable(self.parts[:keep] + parts) (a newer version that shares this one's first `keep` segments and
        its first `n_prefix` documents: those segments', and those of segments a merge rewrote, in the same order),
        made without joining every segment again. The values those documents hold are this table's first
        ordinals, unchanged; the new documents' other values follow. Returns it and how many of this table's
        ordinals it keeps (the others: values only documents past `n_prefix` held, and the values add() gave,
        which the caller gives again). _Rebuild when the new segments do not hold what the shared documents did."""
        end = int(self.part_starts[keep])
        n_old = len(self.first)
        kept = int(np.searchsorted(self.first_doc, n_prefix))   # ordinals below it: values held before n_prefix
        unique, met, inverse, held = _joined(parts, bases)
        if kept == n_old:
            kept_hashes, kept_ords = self._hashes, self._hash_ords
        else:
            inside = self._hash_ords < kept
            kept_hashes, kept_ords = self._hashes[inside], self._hash_ords[inside]
        at = np.searchsorted(kept_hashes, unique)
        known = at < len(kept_hashes)
        known[known] = kept_hashes[at[known]] == unique[known]
        by_hash = np.flatnonzero(~known)                                 # the new values, in hash order
        fresh = by_hash[np.argsort(held[by_hash], kind="stable")]       # ... in the order they are first held
        unique_ords = np.empty(len(unique), dtype=np.int32)
        unique_ords[known] = kept_ords[at[known]]
        unique_ords[fresh] = kept + np.arange(len(fresh), dtype=np.int32)
        first_doc = grown(self.first_doc, kept, kept + len(fresh))   # (search/grow.py: in place when it can be)
        first_doc[kept:] = held[fresh]
        moved = np.flatnonzero(self.first[:kept] >= end)   # kept values first met in segments a merge rewrote
        if len(moved):
            where = np.full(kept, -1, dtype=np.int64)
            inside = np.flatnonzero(known & (unique_ords < kept))
            where[unique_ords[inside]] = inside
            if np.any(where[moved] < 0):
                raise _Rebuild("a value of the shared documents is not in the segments that hold them now")
            first = spare(kept + len(fresh), np.int64)
            first[:kept] = self.first[:kept]
            first[moved] = end + met[where[moved]]
        else:
            first = grown(self.first, kept, kept + len(fresh))
        first[kept:] = end + met[fresh]
        slots = np.searchsorted(kept_hashes, unique[by_hash])   # (ascending: _insert's order)
        sorted_hashes = _insert(kept_hashes, slots, unique[by_hash]) if len(fresh) else kept_hashes
        hash_ords = _insert(kept_ords, slots, unique_ords[by_hash]) if len(fresh) else kept_ords
        global_of = grown(self.global_of, end, end + len(inverse))
        global_of[end:] = unique_ords[inverse]
        decoded = self._decoded.copy()   # (the old version may be decoding values meanwhile)
        if kept < n_old:
            decoded = {o: v for o, v in decoded.items() if o < kept}
        joined = (global_of, first, first_doc, sorted_hashes, hash_ords, decoded)
        return ValueTable(self.parts[:keep] + list(parts), joined=joined), kept

    def __len__(self) -> int:
        return len(self.first) + len(self.extra)

    def __getitem__(self, o: int) -> str:
        return self.value(o)

    def __iter__(self):
        return iter(self.values())

    def ordinals_in(self, part: int, local: np.ndarray) -> np.ndarray:
        """The ordinals of segment `part`'s local value ordinals."""
        return self.global_of[self.part_starts[part] + local]

    def value(self, o: int) -> str:
        o = int(o)
        n = len(self.first)
        if o >= n:
            return self.extra[o - n]
        got = self._decoded.get(o)
        if got is None:
            at = int(self.first[o])
            part = int(np.searchsorted(self.part_starts, at, side="right")) - 1
            got = self._decoded[o] = self.parts[part].value(at - int(self.part_starts[part]))
        return got

    def values(self) -> list[str]:
        """Every value, in ordinal order (each decoded once)."""
        return [self.value(o) for o in range(len(self))]

    def ords(self) -> "_Ordinals":
        return _Ordinals(self)

    def ordinals_of(self, values) -> np.ndarray:
        """The ordinal of each value (-1 for one no segment holds and add() did not add)."""
        values = list(values)
        hashes = np.fromiter((segment_values.value_hash(v) for v in values), dtype=np.uint64, count=len(values))
        out = np.full(len(values), -1, dtype=np.int64)
        if len(self._hashes):
            at = np.minimum(np.searchsorted(self._hashes, hashes), len(self._hashes) - 1)
            found = self._hashes[at] == hashes
            out[found] = self._hash_ords[at[found]]
        for i in np.flatnonzero(out < 0).tolist():
            out[i] = self._extra_ords.get(values[i], -1)
        return out

    def add(self, value: str) -> int:
        """The ordinal of a value no segment holds (a story whose first article is gone), given once."""
        o = self._extra_ords.get(value)
        if o is None:
            o = self._extra_ords[value] = len(self)
            self.extra.append(value)
        return o


class _Ordinals:
    """value -> ordinal of a ValueTable, as a read-only mapping (found by hash; no dict of every value)."""

    __slots__ = ("table",)

    def __init__(self, table: ValueTable):
        self.table = table

    def get(self, value, default=None):
        if not isinstance(value, str):
            return default
        o = int(self.table.ordinals_of([value])[0])
        return o if o >= 0 and self.table.value(o) == value else default

    def __contains__(self, value) -> bool:
        return self.get(value) is not None

    def __getitem__(self, value) -> int:
        o = self.get(value)
        if o is None:
            raise KeyError(value)
        return o


class Stories:
    """Near-duplicate stories: each document's story ordinal (from the STORY field's postings: the id of the
    story's first article; a document without one is a story of its own), the story ids, and each story's live
    members (CSR over live documents, earliest published first)."""

    def __init__(self, values: "ValueTable", pair_doc: np.ndarray, pair_ord: np.ndarray, live: np.ndarray,
                 ts: np.ndarray):   # ts: publication time, undated documents last
        n = len(live)
        ords = spare(n, np.int64, -1)   # (room to grow: search/grow.py)
        ords[pair_doc] = pair_ord
        missing = np.flatnonzero(ords < 0)
        ords[missing] = len(values) + np.arange(len(missing))
        self.ids = values                    # story ordinal -> id (ValueTable: decoded when asked)
        self.missing_docs = missing          # documents without a story: their ordinal stands for themselves
        self.ord = ords
        self.n = len(values) + len(missing)
        live_docs = np.flatnonzero(live)
        self.size = spared(np.bincount(ords[live_docs], minlength=self.n))
        self.offsets = spare(self.n + 1, np.int64, 0)
        np.cumsum(self.size, out=self.offsets[1:])
        # live docs grouped by story, earliest first: a story of one article is placed directly, only the
        # stories with copies are sorted (by story, time, doc)
        self.members = spare(len(live_docs), np.int64)
        multi = self.size[ords[live_docs]] > 1
        alone = live_docs[~multi]
        self.members[self.offsets[ords[alone]]] = alone
        copies = live_docs[multi]
        copies = copies[np.lexsort((copies, ts[copies], ords[copies]))]
        grouped = ords[copies]
        self.members[self.offsets[grouped] + np.arange(len(copies)) - np.searchsorted(grouped, grouped)] = copies
        self.copies = np.sort(copies)        # the live documents whose story has other live articles
        self.count = int(np.count_nonzero(self.size))
        self.story_map = None   # (copies, their documents, their story ordinals) as applied (Snapshot sets it)
        self.map_read = None    # what reading the story map returned beside it (read_story_map_since)

    @classmethod
    def extended(cls, old: "Stories", values: "ValueTable", ords: np.ndarray, kept: int, n_prefix: int,
                 changed: np.ndarray, live: np.ndarray, ts: np.ndarray, dated: np.ndarray) -> "Stories":
        """The Stories of a newer version whose first `n_prefix` documents are `old`'s: `ords`, every document's
        story ordinal in `values` (none missing), `kept` how many of `old`'s story ordinals `values` keeps (the
        others are gone), `changed` the prefix documents whose story or liveness changed (sorted). Only the stories
        those documents and the new ones belong to are grouped again; the others' members are moved over as they
        were.
        Equal to Stories(values, <every pair>, live, ts) when every document has a story."""
        out = cls.__new__(cls)
        n = len(ords)
        out.ids, out.missing_docs, out.ord, out.n = values, np.zeros(0, dtype=np.int64), ords, len(values)
        out.story_map = out.map_read = None
        gone = np.concatenate([changed, np.arange(n_prefix, len(old.ord))])   # old side: changed or dropped
        came = np.concatenate([changed, np.arange(n_prefix, n)])                # new side: changed or added
        moved = old.ord[gone]
        hit = np.union1d(ords[came], moved[moved < kept])    # the affected stories (new ordinals)
        hit_old = np.union1d(moved, hit[hit < kept])          # ... and their old ordinals
        if not len(hit_old) and kept == old.n:
            return cls._appended(out, old, came[live[came]], ts, dated)
        size = spare(out.n, np.int64)
        size[:kept] = old.size[:kept]
        size[kept:] = 0
        size[hit] = 0
        # the affected stories' live members: their old members still there, and the changed and new documents
        starts, lens = old.offsets[hit_old], old.size[hit_old]
        positions = np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(int(lens.sum()))
        docs = np.union1d(old.members[positions], came)
        docs = docs[live[docs]]
        docs = docs[np.isin(ords[docs], hit)]
        np.add.at(size, ords[docs], 1)
        out.size = size
        out.offsets = spare(out.n + 1, np.int64, 0)
        np.cumsum(size, out=out.offsets[1:])
        docs = _grouped(docs, ords, ts, dated)
        grouped = ords[docs]
        if len(old.members) - len(positions) + len(docs) != int(out.offsets[-1]):
            raise _Rebuild("the unchanged stories do not hold the same documents")
        # the other stories' members in the same order, each affected story's members put in before the kept
        # members that follow its run
        before = out.offsets[grouped] - (np.searchsorted(grouped, grouped))
        out.members = _splice(old.members, starts, lens, before, docs)
        still = old.copies[old.copies < n_prefix]
        still = still[~np.isin(ords[still], hit)] if len(still) else still
        out.copies = np.sort(np.concatenate([still, docs[size[grouped] > 1]]))
        out.count = old.count - int(np.count_nonzero(old.size[hit_old])) + int(np.count_nonzero(size[hit]))
        return out

    @staticmethod
    def _appended(out: "Stories", old: "Stories", docs: np.ndarray, ts: np.ndarray, dated: np.ndarray) -> "Stories":
        """Stories.extended where no old story changed (new articles, none a copy of an older story): the new
        stories and their members follow the old ones, appended in place where they can be (search/grow.py)."""
        kept, ords = old.n, out.ord
        size = grown(old.size, kept, out.n)
        size[kept:] = np.bincount(ords[docs] - kept, minlength=out.n - kept)
        offsets = grown(old.offsets, kept + 1, out.n + 1)
        np.cumsum(size[kept:], out=offsets[kept + 1:])
        offsets[kept + 1:] += offsets[kept]
        docs = _grouped(docs, ords, ts, dated)
        members = grown(old.members, len(old.members), len(old.members) + len(docs))
        members[len(old.members):] = docs
        out.size, out.offsets, out.members = size, offsets, members
        out.copies = np.concatenate([old.copies, np.sort(docs[size[ords[docs]] > 1])])
        out.count = old.count + int(np.count_nonzero(size[kept:]))
        return out

    def story_id(self, o: int, stored_id=None) -> str:
        """The story id of ordinal `o` (for a document without one: its own id, via stored_id(doc))."""
        if o < len(self.ids):
            return self.ids.value(o)
        return stored_id(int(self.missing_docs[o - len(self.ids)])) if stored_id else ""

    def members_of(self, o: int) -> np.ndarray:
        return self.members[self.offsets[o]:self.offsets[o + 1]]

    def _with_copies(self, docs: np.ndarray) -> np.ndarray:
        """Which of `docs` (sorted, live) belong to a story with more than one live article (bool per doc). When
        such articles are few beside `docs`, they are looked up in `docs` (no pass over every document)."""
        if len(self.copies) * 8 < len(docs):
            found = np.zeros(len(docs), dtype=bool)
            at = np.searchsorted(docs, self.copies)
            inside = at < len(docs)
            at, copies = at[inside], self.copies[inside]
            found[at[docs[at] == copies]] = True
            return found
        return self.size[self.ord[docs]] > 1

    def distinct(self, docs: np.ndarray) -> int:
        """How many stories the live documents `docs` (sorted) belong to (a document whose story has no other
        live article is a story by itself: only the others are counted together)."""
        if not len(docs):
            return 0
        multi = self._with_copies(docs)
        m = int(np.count_nonzero(multi))
        if not m:
            return len(docs)
        if m > self.n // 8:   # many: one pass over every story beats sorting them
            return int(np.count_nonzero(np.bincount(self.ord[docs], minlength=self.n)))
        return len(docs) - m + len(_distinct(self.ord[docs[multi]]))

    def shared(self, docs: np.ndarray) -> np.ndarray:
        """Per document of `docs` (sorted, live): does another of `docs` belong to its story?"""
        multi = self._with_copies(docs)
        out = np.zeros(len(docs), dtype=bool)
        m = int(np.count_nonzero(multi))
        if not m:
            return out
        if m > self.n // 8:
            ords = self.ord[docs]
            return np.bincount(ords, minlength=self.n)[ords] > 1
        _, inverse, counts = np.unique(self.ord[docs[multi]], return_inverse=True, return_counts=True)
        out[multi] = counts[inverse.reshape(-1)] > 1
        return out

    def count_pairs(self, values: np.ndarray, docs: np.ndarray, k: int, shared=None) -> np.ndarray:
        """Per value (0..k-1): the number of distinct stories among the (value, doc) pairs. `shared` (per pair):
        whether the pair's story has other documents among those counted; only those pairs need de-duplicating
        (by default: the stories with more than one live article)."""
        if not len(values):
            return np.zeros(k, dtype=np.int64)
        ords = self.ord[docs]
        if shared is None:
            shared = self.size[ords] > 1
        counts = np.bincount(values[~shared], minlength=k)
        if shared.any():
            keys = _distinct(values[shared].astype(np.int64) * self.n + ords[shared])
            counts += np.bincount(keys // self.n, minlength=k)
        return counts


class _Rebuild(Exception):
    """What the previous version had cannot be extended to this one: build it whole."""


def _reads(method):
    """A Snapshot method that reads Whoosh files: once a read fails on a damaged file, it and every later read of
    the snapshot raise IndexDamaged naming the file (never an answer from a half-read index)."""
    @functools.wraps(method)
    def reading(self, *args, **kwargs):
        if self.damage is not None:
            raise self.damage
        try:
            return method(self, *args, **kwargs)
        except (QueryError, IndexDamaged):
            raise
        except Exception as exc:
            damage = self.diagnose()
            if damage is None:
                raise
            raise damage from exc
    return reading


def _grouped(docs: np.ndarray, ords: np.ndarray, ts: np.ndarray, dated: np.ndarray) -> np.ndarray:
    """Documents in the order a story lists its members: by story, then publication time (undated last), then
    document number."""
    return docs[np.lexsort((docs, np.where(dated[docs], ts[docs], 2 ** 62), ords[docs]))]


def _insert(a: np.ndarray, at: np.ndarray, values: np.ndarray) -> np.ndarray:
    """np.insert(a, at, values) for `at` sorted: a few hundred insertions are copied piece by piece (np.insert
    goes through a mask as long as the result)."""
    if len(at) > 1000:
        return np.insert(a, at, values)
    out = np.empty(len(a) + len(values), dtype=np.result_type(a, values))
    prev = 0
    for i, k in enumerate(at.tolist()):
        out[prev + i:k + i] = a[prev:k]
        out[k + i] = values[i]
        prev = k
    out[prev + len(at):] = a[prev:]
    return out


def _splice(a: np.ndarray, starts: np.ndarray, lens: np.ndarray, at: np.ndarray, values: np.ndarray) -> np.ndarray:
    """np.insert(np.delete(a, <the runs starts[i]:starts[i]+lens[i]>), at, values), copied piece by piece into
    one new array (runs disjoint, sorted by start; `at` sorted)."""
    order = np.argsort(starts, kind="stable")
    starts, lens = starts[order], lens[order]
    if len(starts) + len(at) > 1000:
        cut = np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(int(lens.sum()))
        return np.insert(np.delete(a, cut), at, values)
    out = spare(len(a) - int(lens.sum()) + len(values), np.result_type(a, values))   # (a newer version may grow it)
    ends = (starts + lens).tolist()
    pieces = zip([0] + ends, starts.tolist() + [len(a)])   # what is kept of `a`, in order
    at, o, k, j = at.tolist(), 0, 0, 0
    for lo, hi in pieces:
        while j < len(at) and at[j] <= k + hi - lo:
            take = at[j] - k
            out[o:o + take] = a[lo:lo + take]
            o, lo, k = o + take, lo + take, k + take
            out[o] = values[j]
            o, j = o + 1, j + 1
        out[o:o + hi - lo] = a[lo:hi]
        o, k = o + hi - lo, k + hi - lo
    return out


def _calendar(days: np.ndarray, unit: str) -> np.ndarray:
    """The month or year (since 1970) of each day number (`days`, a temporary array: it is overwritten) through a
    table of the days between the first and the last (numpy's datetime conversions cost ~20 ms a million days; a
    gather from a small table a few)."""
    kind = "datetime64[M]" if unit == "month" else "datetime64[Y]"
    if not len(days):
        return np.zeros(0, dtype=np.int32)
    lo, hi = int(days.min()), int(days.max())
    if hi - lo > 1_000_000:   # (dates centuries apart: convert each)
        return days.astype("datetime64[D]").astype(kind).astype(np.int32)
    table = np.arange(lo, hi + 1).astype("datetime64[D]").astype(kind).astype(np.int32)
    days -= lo   # (in place: the caller's array is a temporary)
    return table[days]


class _Prior:
    """What a snapshot takes from the version it replaces when that version's segments, up to `keep` of them
    (`n_prefix` documents), are its own first ones: the per-document arrays it built, to be extended by the new
    segments' documents instead of built again. `dead`: the shared documents deleted since (an `add` of an id the
    index has replaces the old document). None of it when a shared document came back to life (not a version
    that follows this one: a rollback)."""

    __slots__ = ("keep", "n_prefix", "dead", "columns", "lengths", "calendar", "facets", "stories", "title_weights")

    @classmethod
    def of(cls, old: "Snapshot", keep: int, n_prefix: int, live: np.ndarray) -> "_Prior | None":
        if not keep or n_prefix > old.n_all:
            return None
        was = old.live[:n_prefix]
        if np.any(live[:n_prefix] & ~was):
            return None
        prior = cls()
        prior.keep, prior.n_prefix = keep, n_prefix
        prior.dead = np.flatnonzero(was & ~live[:n_prefix])
        prior.columns = {S.DAY: old.day, S.TS: old.ts}
        prior.lengths, prior.calendar, prior.facets, prior.stories, prior.title_weights = old.built()
        return prior


def _segment_key(sub) -> tuple:
    """What identifies a segment's contents: its id and document count (Whoosh never rewrites a segment)."""
    seg = sub.segment()
    return (seg.segment_id(), seg.doc_count_all()) if seg is not None else ("", 0)   # (an empty index)


def _verify_version(ref: "weakref.ref[Snapshot]", folder: str, root, version, seen) -> None:
    """Snapshot.verify_in_background's thread."""
    with seen.lock if seen is not None else nullcontext():
        snap = ref()
        if snap is None or (seen is not None and snap.retired):   # replaced before its turn: the new one is checked
            return
        del snap
        try:
            report = integrity.verify(folder, seen)
        except Exception:   # noqa: BLE001 - a check that cannot run must not take the server down
            log.exception("background check of %s failed", folder)
            return
    snap = ref()
    if report.damaged and snap is not None and index_version(root) == version:   # (a commit since: files went away)
        with snap.lock:
            snap.damage = snap.damage or IndexDamaged(*report.damaged[0])
        log.error("%s", snap.damage)


class Snapshot:
    """An opened index version: Whoosh searcher + cached arrays (the search layer's IndexView, search/view.py).
    Thread-safe; close() when no one uses it.

    `reuse`: the snapshot this one replaces; the per-segment facet and story pairs it read are taken over for
    the segments both versions share, so a version after an `add` reads only the new segments. When the old
    version's first segments are this one's first ones (an add appends segments; a merge rewrites the newest),
    what it built over every document (columns, lengths, calendar, facets, value tables, stories) is extended by
    the documents of the segments after them (`_Prior`; FacetField.extended, ValueTable.extended,
    Stories.extended), the shared documents deleted since taken out, instead of being built again: equal, array
    for array, to what a fresh Snapshot builds (tests/test_refresh_reuse.py)."""

    def __init__(self, root, reuse: "Snapshot | None" = None):
        self.root = root
        self.segment_cache: dict = {}
        self._reuse = reuse   # (dropped once opened: its segment cache and posting lists are taken over)
        self.version = index_version(root)
        self.ix = open_index(root)
        self.lock = threading.RLock()
        self.damage: IndexDamaged | None = None   # set when a read found a damaged file
        self._diagnosed = False
        try:
            self._open()
        except Exception as exc:
            damage = None if isinstance(exc, IndexDamaged) else self.diagnose()
            if getattr(self, "searcher", None) is not None:
                self.searcher.close()
            if damage is None:
                raise
            raise damage from exc

    def diagnose(self) -> IndexDamaged | None:
        """After a failed read: the damaged file that explains it (once per snapshot; None when the index moved
        on, so the Searcher retries on the new version, or when no file is damaged: a bug, not damage)."""
        with self.lock:
            if not self._diagnosed and index_version(self.root) == self.version:
                self._diagnosed = True
                self.damage = integrity.diagnose(self.ix.storage.folder)
            return self.damage

    def verify_in_background(self, seen: integrity.Verified | None = None) -> threading.Thread:
        """Check every byte of the version's files in a daemon thread (what opening leaves out: garbage inside a
        segment that no read trips over gives wrong answers, not errors); damage found makes every later read
        raise IndexDamaged. Returns the thread.

        With `seen` (one per server), checks run one at a time and each reads only what the versions checked
        before it did not hold; a version retired before its turn is not checked (its successor is). The thread
        holds the snapshot weakly: a retired version is freed when its last request ends, not when its check
        does."""
        thread = threading.Thread(target=_verify_version, name="newsdex-verify", daemon=True,
                                  args=(weakref.ref(self), self.ix.storage.folder, self.root, self.version, seen))
        thread.start()
        return thread

    def _open(self) -> None:
        self.searcher = self.ix.searcher()
        self.reader = self.searcher.reader()
        self.schema = self.ix.schema
        self.leaves = list(self.reader.leaf_readers())
        old = self._reuse
        self._reuse = None
        shared = {_segment_key(sub) for sub, _ in self.leaves}
        if old is not None:
            self.segment_cache = {k: v for k, v in old.segment_cache.items() if k[0] in shared}
        # the posting lists of the version this one replaces hold good for the segments both list first, at the
        # same place (an add appends segments; a merge rewrites the newest ones): below `_kept_below`, an old
        # list is this version's; only the segments after it are read
        self._kept_terms, self._kept_below, self._kept_from = OrderedDict(), 0, 0
        if old is not None:
            same = 0
            for (sub, base), (old_sub, old_base) in zip(self.leaves, old.leaves):
                if base != old_base or _segment_key(sub) != _segment_key(old_sub):
                    break
                same += 1
            if same:
                self._kept_from = same
                self._kept_below = self.leaves[same][1] if same < len(self.leaves) else self.reader.doc_count_all()
                self._kept_terms = old.cached_postings()
        self.n_all = self.reader.doc_count_all()
        self.n_docs = self.reader.doc_count()
        self.live = np.ones(self.n_all, dtype=bool)
        for sub, base in self.leaves:
            if sub.has_deletions():
                dead = np.fromiter(sub.segment().deleted_docs(), dtype=np.int64)
                self.live[dead + base] = False
        # what the previous version built over the shared segments is extended by the new ones, not built again
        # (over its documents after them too, when a merge rewrote them as they were)
        self._prior = None
        if old is not None:
            n_prefix = self._same_documents(old, self._kept_from, self._kept_below)
            self._prior = _Prior.of(old, self._kept_from, n_prefix, self.live)
        self.day = self._numeric_column(S.DAY, "u4", 1 << 31, S.NO_DAY)
        self.ts = self._numeric_column(S.TS, "u8", 1 << 63, -(2 ** 62))
        self.dated = self.day != S.NO_DAY
        self._lengths: dict[str, np.ndarray] = {}
        self._calendar: dict[str, np.ndarray] = {}
        self._avg: dict[str, float] = {}
        self._norms: dict[str, np.ndarray] = {}
        self._title_weights = None
        self._terms = _SizedLRU(TERM_CACHE_POSTINGS, lambda post: len(post.ids))
        self._phrases: OrderedDict = OrderedDict()
        self._df: dict = {}
        self._concepts = _SizedLRU(CONCEPT_CACHE_DOCS, lambda kept: 0 if kept is None else len(kept[0]))
        self._facets: dict[str, FacetField] = {}
        self._stories = None
        self._person_names: dict[str, str] = {}
        self.stem_fields = {lang: f for lang, f in S.STEM_FIELDS.items() if self.reader.field_length(f) > 0}
        self.refs = 0
        self.retired = False

    def _same_documents(self, old: "Snapshot", keep: int, start: int) -> int:
        """How many first documents this version has as `old` had them: those of the first `keep` segments
        (`start` documents), and all of `old`'s when each of its segments after them is still here or was merged,
        with nothing deleted, into one of this version's (index.merge records the segments a merged one was made
        from, in the TOC: a merge keeps the documents' order). Article ids alone would not do: an article replaced
        in the newest segment and merged with its replacement has the same id in the same place."""
        rest = [sub.segment() for sub, _ in old.leaves[keep:]]
        if not keep or not rest or self.n_all < old.n_all:
            return start
        i = 0
        for sub, _ in self.leaves[keep:]:
            if i == len(rest):
                break
            seg = sub.segment()
            if seg.segment_id() == rest[i].segment_id():   # (documents deleted there since: _Prior's `dead`)
                i += 1
                continue
            sources = whoosh_wall.merged_from(seg)
            if not sources:
                return start
            for segment_id, count, deleted in sources:
                if i == len(rest):   # (segments written after the old version: new documents)
                    break
                if (segment_id, count, deleted) != (rest[i].segment_id(), rest[i].doc_count_all(), 0):
                    return start
                i += 1
        return old.n_all if i == len(rest) else start

    # -- columns ---------------------------------------------------------------------------------------------

    def _numeric_column(self, field: str, dtype: str, shift: int, missing: int) -> np.ndarray:
        col = self.schema[field].column_type
        width = np.dtype(dtype).itemsize
        prior, leaves, start = self._prior, self.leaves, 0
        if prior is not None:   # the shared segments' values as the previous version read them
            start = prior.n_prefix
            out = grown(prior.columns[field], start, self.n_all)
            out[start:] = missing
            leaves = leaves[prior.keep:]
        else:
            out = spare(self.n_all, np.int64, missing)
        for sub, base in leaves:
            if not sub.has_column(field):
                continue
            data = whoosh_wall.fixed_column_bytes(sub, field, col, width)
            count = len(data) // width
            raw = np.frombuffer(data, dtype=">" + dtype).astype(dtype)
            if width == 4:
                signed = raw.astype(np.int64) - shift
            else:
                signed = (raw ^ np.uint64(1 << 63)).view(np.int64)
            lo = max(start - base, 0)   # (a merge rewrote the shared documents before `start`: kept as they were)
            out[base + lo:base + count] = signed[lo:]
            # documents past the column's end (and the column's own default) have no value
        unsigned_default = (1 << (8 * width)) - 1 - shift
        tail = out[start:]
        tail[tail == unsigned_default] = missing
        return out

    @property
    def segment_count(self) -> int:
        return len(self.leaves)

    def calendar_index(self, unit: str) -> np.ndarray:
        """Per document: its month ("month": months since 1970-01) or year ("year": years since 1970) of publication
        (0 when undated), computed once per snapshot for the date histogram."""
        arr = self._calendar.get(unit)
        if arr is None:
            prior = self._prior
            old = prior.calendar.get(unit) if prior is not None else None
            start = prior.n_prefix if old is not None else 0
            tail = _calendar(np.where(self.dated[start:], self.day[start:], 0), unit)
            arr = grown(old, start, self.n_all) if old is not None else spare(self.n_all, tail.dtype)
            arr[start:] = tail
            self._calendar[unit] = arr
        return arr

    @_reads
    def lengths(self, field: str) -> np.ndarray:
        """Per-document length (in tokens, as Whoosh stores it: one byte, approximate) of a text field."""
        arr = self._lengths.get(field)
        if arr is None:
            prior, leaves, start = self._prior, self.leaves, 0
            old = prior.lengths.get(field) if prior is not None else None
            if old is not None:
                start = prior.n_prefix
                arr = grown(old, start, self.n_all)
                arr[start:] = 0
                leaves = leaves[prior.keep:]
            else:
                arr = spare(self.n_all, np.float32, 0)
            with self.lock:
                for sub, base in leaves:
                    data = whoosh_wall.length_bytes(sub, field)
                    if data is None:
                        continue
                    raw = np.frombuffer(data, dtype=np.uint8)
                    lo = max(start - base, 0)   # (the shared documents a merge rewrote: kept as they were)
                    arr[base + lo:base + len(raw)] = _LENGTH_TABLE[raw[lo:]]
            self._lengths[field] = arr
        return arr

    @_reads
    def avg_length(self, field: str) -> float:
        avg = self._avg.get(field)
        if avg is None:
            with self.lock:
                avg = (self.reader.field_length(field) / self.n_docs) if self.n_docs else 1.0
            self._avg[field] = avg
        return avg

    # -- postings --------------------------------------------------------------------------------------------

    @_reads
    def postings(self, field: str, text: str) -> Postings:
        """Doc numbers and frequencies of one term (cached, least recently used first out)."""
        key = (field, text)
        with self.lock:
            hit = self._terms.hit(key)
            if hit is not None:
                return hit
            btext = self.schema[field].to_bytes(text)
            ids_parts, w_parts = [], []
            leaves = self.leaves
            kept = self._kept_terms.pop(key, None)
            if kept is not None:   # the previous version's list, cut where the segments differ, without the
                cut = int(np.searchsorted(kept.ids, self._kept_below))   # documents deleted since (Whoosh's
                alive = self.live[kept.ids[:cut]]                         # reader leaves deleted ones out)
                ids_parts.append(kept.ids[:cut][alive])
                w_parts.append(kept.weights[:cut][alive])
                leaves = leaves[self._kept_from:]
            for sub, base in leaves:
                found = self._leaf_postings(sub, base, field, btext)
                if found is not None:
                    ids_parts.append(found[0])
                    w_parts.append(found[1])
            if not ids_parts or not sum(len(i) for i in ids_parts):
                post = EMPTY
            else:
                post = Postings(np.concatenate(ids_parts).astype(np.int32), np.concatenate(w_parts).astype(np.float32))
            self._terms.keep(key, post)
            return post

    def _leaf_postings(self, sub, base: int, field: str, btext: bytes) -> tuple[np.ndarray, np.ndarray] | None:
        """One segment's (global doc numbers, weights) of a term, live documents only; None when it lacks the term.
        A frequent term is read from the segment's posting arrays (index.segment_postings), others block by
        block."""
        if self._empty_in(sub, field):
            return None
        term = self._term_arrays(sub, field, btext)
        if term is not None:
            ids, ws = term.docs + base, term.weights
        elif self._arrays_of(sub) is not None:
            # a term the segment's posting arrays do not hold is rare there (or absent): one term lookup and its
            # few blocks decoded (Whoosh's reader would look it up twice, and wrap a segment with deletions in a
            # matcher read posting by posting)
            info = whoosh_wall.term_info(sub, field, btext)
            if info is None:
                return None
            ids, ws, _ = whoosh_wall.term_postings(sub, info, 0)
            ids, ws = np.asarray(ids, dtype=np.int64) + base, np.asarray(ws, dtype=np.float32)
        else:   # a segment without the arrays file (an older index, Whoosh's own writer): its matcher
            if (field, btext) not in sub:
                return None
            ids, ws = _read_matcher(sub.postings(field, btext))
            return ids + base, ws
        if sub.has_deletions():   # (Whoosh's reader leaves deleted documents out)
            keep = self.live[ids]
            ids, ws = ids[keep], ws[keep]
        return ids, ws

    def _empty_in(self, sub, field: str) -> bool:
        """A scored field that no document of the segment holds (its total length there is 0), so no term of it
        is looked up there: a language's stemmed field in a segment without an article in that language (at 1M,
        three lookups in five of a word's first read)."""
        return self.schema[field].scorable and sub.field_length(field) == 0

    def _term_arrays(self, sub, field: str, btext: bytes):
        """A term's postings in a segment's posting arrays file (index.segment_postings.Term); None when it is not
        there (a rare term, a term the segment lacks, or a segment without the file)."""
        arrays = self._arrays_of(sub)
        return arrays.term(field, btext) if arrays is not None else None

    def preload_postings(self, budget: int) -> tuple[int, bool]:
        """Map every page of this version's posting arrays files now (SegmentPostings.preload: a word's first read
        then faults no page in), segment by segment while their sizes add up to at most `budget` bytes; the files
        a version before it preloaded are done (the segment cache carries them over), and a retired version stops.
        Returns the bytes preloaded, and whether every file fitted the budget."""
        done = total = 0
        for sub, _ in self.leaves:
            if self.retired:
                break
            with self.lock:
                arrays = self._arrays_of(sub)
            if arrays is None:
                continue
            total += len(arrays.buf)
            if total > budget:
                return done, False
            done += arrays.preload()
        return done, True

    def _arrays_of(self, sub) -> "segment_postings.SegmentPostings | None":
        """A segment's posting arrays file (None: it has none)."""
        key = (_segment_key(sub), _POSTING_ARRAYS)
        arrays = self.segment_cache.get(key, False)
        if arrays is False:
            seg = sub.segment()
            arrays = segment_postings.load(self.ix.storage.folder, seg.segment_id()) if seg is not None else None
            self.segment_cache[key] = arrays
        return arrays

    def _phrase_term(self, sub, field: str, btext: bytes):
        """A term's postings with positions in a segment (from its arrays, else decoded from its blocks); False:
        the segment lacks the term; None: the positions cannot be had this way (Whoosh's matcher checks it)."""
        if self._empty_in(sub, field):
            return False
        term = self._term_arrays(sub, field, btext)
        if term is not None and term.has_positions:
            return term
        info = whoosh_wall.term_info(sub, field, btext)
        if info is None:
            return False
        fmt = self.schema[field].format
        if not fmt.supports("positions"):
            return None
        ids, weights, values = whoosh_wall.term_postings(sub, info, fmt.fixed_value_size())
        return segment_postings.Term.from_blocks(ids, weights, values)

    def concept_scores(self, key) -> tuple[bool, object]:
        """(found, what keep_concept_scores kept under `key`): a query word's documents and scores
        (search.evaluate's concept), least recently used first out."""
        with self.lock:
            if key not in self._concepts:
                return False, None
            self._concepts.move_to_end(key)
            return True, self._concepts[key]

    def keep_concept_scores(self, key, value) -> None:
        with self.lock:
            self._concepts.keep(key, value)

    def cached_postings(self) -> OrderedDict:
        """A copy of the posting lists read so far, least recently used first (what a newer version takes over)."""
        with self.lock:   # (requests may be reading into it)
            return OrderedDict(self._terms)

    def warm_kept_terms(self, limit: int) -> int:
        """Read now the `limit` posting lists the previous version used last (each costs only the segments this
        version does not share with it); the other lists it had are dropped. Returns how many were read."""
        with self.lock:
            keys = list(self._kept_terms.keys())[-limit:]
        for field, text in keys:
            self.postings(field, text)
        with self.lock:
            self._kept_terms = OrderedDict()
        return len(keys)

    @_reads
    def doc_frequency(self, field: str, text: str) -> int:
        """Whoosh's document frequency of a term (deleted documents included), cached: it asks every segment."""
        key = (field, text)
        df = self._df.get(key)
        if df is None:
            with self.lock:
                df = self.reader.doc_frequency(field, text)
            if len(self._df) >= DF_CACHE_ENTRIES:
                self._df.clear()
            self._df[key] = df
        return df

    @_reads
    def phrase_docs(self, field: str, words: tuple[str, ...]) -> np.ndarray:
        """Doc numbers holding the words as a phrase in `field` (positions checked by Whoosh; cached)."""
        key = (field, words)
        with self.lock:
            hit = self._phrases.get(key)
            if hit is not None:
                self._phrases.move_to_end(key)
                return hit
            if any(len(self.postings(field, w).ids) == 0 for w in words):
                docs = np.zeros(0, np.int32)
            else:
                q = wq.Phrase(field, list(words))
                btexts = [self.schema[field].to_bytes(w) for w in words]
                parts = []
                for searcher, base in self.searcher.leaf_searchers():
                    sub = searcher.reader()
                    terms = [self._phrase_term(sub, field, b) for b in btexts]
                    if any(t is False for t in terms):
                        continue
                    if all(t is not None for t in terms):
                        found = _phrase_in(terms) + base
                        parts.append(found[self.live[found]] if sub.has_deletions() else found)
                    else:
                        parts.append(np.fromiter(q.matcher(searcher).all_ids(), dtype=np.int64) + base)
                docs = np.sort(np.concatenate(parts)).astype(np.int32) if parts else np.zeros(0, np.int32)
            self._phrases[key] = docs
            if len(self._phrases) > PHRASE_CACHE_ENTRIES:
                self._phrases.popitem(last=False)
            return docs

    @_reads
    def expand(self, field: str, text: str, kind: str, distance: int = 0) -> list[str]:
        """Index terms of `field` a prefix, wildcard or fuzzy word stands for (bounded: QueryError beyond)."""
        fieldobj = self.schema[field]
        found: set[str] = set()
        with self.lock:
            if kind == "fuzzy":
                for sub, _ in self.leaves:
                    if not self._empty_in(sub, field):
                        found.update(sub.terms_within(field, text, distance, prefix=1))
                if len(found) > MAX_WILDCARD_TERMS:
                    raise QueryError(f"the fuzzy word {text}~{distance} matches more than {MAX_WILDCARD_TERMS} "
                                     f"different words: make it longer or allow fewer typos (~1)")
                return sorted(found)
            first = min((text.find(c) for c in "*?" if c in text), default=len(text))
            prefix = text[:first]
            pattern = re.compile(fnmatch.translate(text)).match if kind == "wildcard" else None
            scanned = 0
            for sub, _ in self.leaves:
                for btext in sub.expand_prefix(field, prefix):
                    scanned += 1
                    if scanned > MAX_SCANNED_TERMS:
                        raise QueryError(f"the wildcard {text if kind == 'wildcard' else text + '*'} is too "
                                         f"expensive: put more letters before the first * or ?")
                    word = fieldobj.from_bytes(btext)
                    if pattern is None or pattern(word):
                        found.add(word)
                        if len(found) > MAX_WILDCARD_TERMS:
                            shown = text if kind == "wildcard" else text + "*"
                            raise QueryError(f"the wildcard {shown} matches more than {MAX_WILDCARD_TERMS} "
                                             f"different words: make it longer")
        return sorted(found)

    # -- facets ----------------------------------------------------------------------------------------------

    @_reads
    def facet(self, name: str) -> FacetField:
        """The doc->value pairs of a facet (built from the field's postings on first use)."""
        ff = self._facets.get(name)
        if ff is None:
            field = named(name).field   # the facet's declaration (index/facets.py)
            with self.lock:
                ff = self._facets.get(name)
                if ff is None:
                    ff = self._build_facet(field, name)
                    self._facets[name] = ff
        return ff

    @_reads
    def stories(self) -> Stories:
        """Each document's story (built from the STORY field's postings on first use)."""
        st = self._stories
        if st is None:
            with self.lock:
                st = self._stories
                if st is None:
                    prior = self._prior
                    if prior is not None and prior.stories is not None and prior.stories.story_map is not None:
                        try:
                            st = self._extend_stories(prior)
                        except _Rebuild as why:
                            log.info("stories built whole: %s", why)
                    if st is None:
                        st = self._build_stories()
                    self._stories = st
        return st

    def _build_stories(self) -> Stories:
        table, pair_doc, pair_ord = self._field_pairs(S.STORY)
        copies, read = read_story_map_since(self.ix.storage.folder, self.version[1])   # as of this commit
        docs = self._docs_of_ids(list(copies.keys())) if copies else np.zeros(0, dtype=np.int64)
        ords = table.ordinals_of(list(copies.values())) if copies else np.zeros(0, dtype=np.int64)
        pair_doc, pair_ord = self._apply_story_map(table, pair_doc, pair_ord, list(copies.values()), docs, ords)
        st = Stories(table, pair_doc, pair_ord, self.live, np.where(self.dated, self.ts, 2 ** 62))
        st.story_map, st.map_read = (copies, docs, ords), read
        return st

    def _extend_stories(self, prior: _Prior) -> Stories:
        """The previous version's Stories extended by the new segments (Stories.extended); the story map applied
        again only where it changed, or where the document it found for a copy is gone."""
        old = prior.stories
        if len(old.missing_docs):
            raise _Rebuild("documents without a story")
        keep, n_prefix = prior.keep, prior.n_prefix
        table, kept = old.ids.extended(keep, self._new_parts(S.STORY), self._new_bases(), n_prefix)
        tail = np.full(self.n_all - n_prefix, -1, dtype=np.int64)   # the new documents' stories
        pair_doc, pair_ord = self._new_pairs(table, S.STORY)
        tail[pair_doc - n_prefix] = pair_ord
        # (the story log's frames since the old version's commit, applied to its map)
        copies, read = read_story_map_since(self.ix.storage.folder, self.version[1], old.map_read)
        old_copies, old_docs, old_ords = old.story_map
        keys, story_ids = list(copies.keys()), list(copies.values())
        docs = np.full(len(keys), -1, dtype=np.int64)
        sords = np.full(len(keys), -1, dtype=np.int64)
        anywhere, after = [], []    # copies whose document is looked for in every segment, in the new ones
        at = {k: i for i, k in enumerate(old_copies)} if old_copies else {}
        for j, key in enumerate(keys):
            i = at.get(key)
            if i is None:
                anywhere.append(j)
                continue
            d = int(old_docs[i])
            if d < 0:   # no live document had this id: a shared one with it stays deleted
                after.append(j)
            elif d < n_prefix and self.live[d]:
                docs[j] = d
            else:
                anywhere.append(j)
            o = int(old_ords[i])
            if old_copies[key] == story_ids[j] and 0 <= o < kept:
                sords[j] = o
        if anywhere:   # most are new documents: the new segments first, the shared ones for the rest (an id has
            # at most one live document: index/builder.py refuses duplicates and replaces a known id's document)
            docs[anywhere] = self._docs_of_ids([keys[j] for j in anywhere], start=keep)
            rest = [j for j in anywhere if docs[j] < 0]
            if rest:
                docs[rest] = self._docs_of_ids([keys[j] for j in rest], stop=keep)
        if after:
            docs[after] = self._docs_of_ids([keys[j] for j in after], start=keep)
        lookup = np.flatnonzero((docs >= 0) & (sords < 0))
        if len(lookup):
            sords[lookup] = table.ordinals_of([story_ids[j] for j in lookup.tolist()])
        found = docs >= 0
        for j in np.flatnonzero(found & (sords < 0)).tolist():   # a story whose first article is gone
            sords[j] = table.add(story_ids[j])
        was = old_docs[(old_docs >= 0) & (old_docs < n_prefix)]
        now = docs[found]
        back = np.setdiff1d(was, now)     # copies no longer: their own story again (all shared documents)
        in_head = now < n_prefix
        tail[now[~in_head] - n_prefix] = sords[found][~in_head]
        head_docs = np.concatenate([back, now[in_head]])
        head_ords = np.concatenate([self._own_stories(table, back) if len(back) else back, sords[found][in_head]])
        if kept == len(old.ids) and np.array_equal(old.ord[head_docs], head_ords):
            # the shared documents' stories are as they were (an add of new articles): appended in place when
            # it can be (search/grow.py)
            ords = grown(old.ord, n_prefix, self.n_all)
            check = ords[n_prefix:]
        else:
            ords = grown(old.ord, n_prefix, self.n_all, share=False)
            if kept < len(old.ids):   # the stories gone (given again below where a document still holds one)
                head = ords[:n_prefix]
                head[head >= kept] = -1
            ords[head_docs] = head_ords
            check = ords
        ords[n_prefix:] = tail
        if len(check) and check.min() < 0:
            raise _Rebuild("documents without a story")
        # the shared documents whose story changed: of those the story map names, now or before, the ones whose
        # story is not the one they had, or was one of the old version's last ordinals, which this table numbers
        # anew (the others' stories are as they were, unless a new document joins them)
        named_docs = np.union1d(was, now[now < n_prefix])
        named_old = old.ord[named_docs]
        changed = np.union1d(prior.dead, named_docs[(ords[named_docs] != named_old) | (named_old >= kept)])
        st = Stories.extended(old, table, ords, kept, n_prefix, changed, self.live, self.ts, self.dated)
        st.story_map, st.map_read = (copies, docs, sords), read
        return st

    def _own_stories(self, table: ValueTable, docs: np.ndarray) -> np.ndarray:
        """The STORY field's own value (its ordinal in `table`) of each of `docs` (-1: none)."""
        out = np.full(len(docs), -1, dtype=np.int64)
        bases = [base for _, base in self.leaves]
        for k, d in enumerate(docs.tolist()):
            i = bisect_right(bases, d) - 1
            part = table.parts[i]
            local = d - bases[i]
            at = int(np.searchsorted(part.docs, local))
            if at < len(part.docs) and part.docs[at] == local:
                out[k] = table.ordinals_in(i, part.ords[at:at + 1])[0]
        return out

    def _apply_story_map(self, table: ValueTable, pair_doc: np.ndarray, pair_ord: np.ndarray, story_ids: list,
                         docs: np.ndarray, ords: np.ndarray):
        """The STORY field holds each document's own id when it was written; the generation's story map says
        which documents are copies of another's story (index.stories.read_story_map). Applied with arrays: the
        copies' documents (`docs`, -1: none live) found through the ID field's values, their stories (`ords`,
        changed in place where a story's first article is gone) through the STORY field's."""
        found = docs >= 0
        if not found.any():
            return pair_doc, pair_ord
        for i in np.flatnonzero(found & (ords < 0)).tolist():   # a story whose first article is gone
            ords[i] = table.add(story_ids[i])
        docs_arr, ords_arr = docs[found].astype(np.int32), ords[found].astype(np.int32)
        keep = ~np.isin(pair_doc, docs_arr)
        return np.concatenate([pair_doc[keep], docs_arr]), np.concatenate([pair_ord[keep], ords_arr])

    def _docs_of_ids(self, ids: list[str], start: int = 0, stop: int | None = None) -> np.ndarray:
        """The first live document of each article id (-1 where none), through the ID field's per-segment values:
        the pairs whose value hash is one of the ids' hashes (no table of every id is built); `start`, `stop`: only
        in those segments."""
        wanted = np.fromiter((segment_values.value_hash(i) for i in ids), dtype=np.uint64, count=len(ids))
        hashes, docs = [], []
        for sub, base in self.leaves[start:stop]:
            part = self._segment_pairs(sub, S.ID)
            if len(part.ords):
                hashes.append(part.hashes[part.ords])
                docs.append(part.docs.astype(np.int64) + base)
        out = np.full(len(ids), -1, dtype=np.int64)
        if not hashes:
            return out
        hashes, docs = np.concatenate(hashes), np.concatenate(docs)
        hit = np.flatnonzero(np.isin(hashes, wanted))
        hit = hit[self.live[docs[hit]]]
        hit = hit[np.lexsort((docs[hit], hashes[hit]))]    # by hash, then doc: the first of each is the one
        found_hashes = hashes[hit]
        order = np.argsort(wanted, kind="stable")
        at = np.searchsorted(found_hashes, wanted[order])
        ok = at < len(found_hashes)
        ok[ok] = found_hashes[at[ok]] == wanted[order][ok]
        out[order[ok]] = docs[hit[at[ok]]]
        return out

    def _build_facet(self, field: str, name: str = "") -> FacetField:
        prior = self._prior
        old = prior.facets.get(name) if prior is not None else None
        if old is not None:   # the previous version's arrays, extended by the new documents' pairs
            try:
                table, kept = old.values.extended(prior.keep, self._new_parts(field), self._new_bases(),
                                                  prior.n_prefix)
                pair_doc, pair_ord = self._new_pairs(table, field)
                return old.extended(table, kept, prior.n_prefix, prior.dead, pair_doc, pair_ord, self.live)
            except _Rebuild as why:
                log.info("facet %s built whole: %s", name or field, why)
        table, pair_doc, pair_ord = self._field_pairs(field)
        return FacetField(table, pair_doc, pair_ord, self.live)

    def _new_parts(self, field: str) -> list:
        """The pairs of a field in the segments after those shared with the previous version."""
        return [self._segment_pairs(sub, field) for sub, _ in self.leaves[self._prior.keep:]]

    def _new_bases(self) -> list[int]:
        """The first document number of each segment after those shared with the previous version."""
        return [base for _, base in self.leaves[self._prior.keep:]]

    def _new_pairs(self, table: ValueTable, field: str) -> tuple[np.ndarray, np.ndarray]:
        """(global doc, ordinal in `table`) of every pair of the documents after the shared ones (those of the
        segments after the shared ones, but for the documents a merge rewrote as they were)."""
        keep, n_prefix = self._prior.keep, self._prior.n_prefix
        docs, vals = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        for i, (sub, base) in enumerate(self.leaves[keep:]):
            part = table.parts[keep + i]
            part_docs = part.docs.astype(np.int64) + base
            part_ords = part.ords
            if base < n_prefix:
                new = part_docs >= n_prefix
                part_docs, part_ords = part_docs[new], part_ords[new]
            docs.append(part_docs)
            vals.append(table.ordinals_in(keep + i, part_ords))
        return np.concatenate(docs), np.concatenate(vals).astype(np.int32)

    def built(self) -> tuple[dict, dict, dict, "Stories | None", "np.ndarray | None"]:
        """What this version has built so far (a newer one extends it): lengths, calendar indexes, facets,
        stories, title weights."""
        with self.lock:
            return dict(self._lengths), dict(self._calendar), dict(self._facets), self._stories, self._title_weights

    def release_prior(self) -> None:
        """Drop what the previous version left to extend (once this one has built what it needs)."""
        self._prior = None

    def _field_pairs(self, field: str) -> tuple[ValueTable, np.ndarray, np.ndarray]:
        """(values, doc of each pair, value ordinal of each pair) of every term of an ID/KEYWORD field, put together
        from each segment's own pairs (kept for the next snapshot: after an `add`, only new segments are read)."""
        parts, docs, vals = [], [], []
        for sub, base in self.leaves:
            part = self._segment_pairs(sub, field)
            parts.append(part)
            docs.append(part.docs.astype(np.int32) + base)
        table = ValueTable(parts, [base for _, base in self.leaves])
        vals = [table.ordinals_in(i, part.ords) for i, part in enumerate(parts) if len(part.ords)]
        if not vals:
            return table, np.zeros(0, np.int32), np.zeros(0, np.int32)
        return table, np.concatenate(docs).astype(np.int32), np.concatenate(vals).astype(np.int32)

    def _segment_pairs(self, sub, field: str) -> "segment_values.SegmentValues":
        """One segment's pairs of a field, from the segment cache if an earlier snapshot read them (a segment never
        changes once written; deletions are applied later), else from its values file, else its term index."""
        key = (_segment_key(sub), field)
        hit = self.segment_cache.get(key)
        if hit is None:
            seg = sub.segment()
            stored = segment_values.load(self.ix.storage.folder, seg.segment_id()) if seg is not None else None
            if stored is not None:   # written at commit: every field of the segment at once
                for name, pairs in stored.items():
                    self.segment_cache.setdefault((key[0], name), pairs)
            hit = self.segment_cache.get(key)
            if hit is None:
                hit = self.segment_cache[key] = segment_values.SegmentValues.from_pairs(
                    *segment_values.read_pairs(sub, field))
        return hit

    def person_name(self, key: str) -> str:
        """The display name of a person key (from the stored metadata of one article mentioning them: the first
        live one, found segment by segment without reading the whole posting list)."""
        name = self._person_names.get(key)
        if name is None:
            name = key.title()
            doc = self._first_live(S.PERSON, key)
            if doc is not None:
                for person in self.stored_article(doc).people:
                    if person.key == key:
                        name = person.name
                        break
            self._person_names[key] = name
        return name

    @_reads
    def _first_live(self, field: str, text: str):
        """The first live document holding a term (cached postings if read, else block by block)."""
        with self.lock:
            post = self._terms.hit((field, text))
            if post is not None:
                docs = post.ids[self.live[post.ids]] if len(post.ids) else post.ids
                return int(docs[0]) if len(docs) else None
            btext = self.schema[field].to_bytes(text)
            for sub, base in self.leaves:
                if (field, btext) not in sub:
                    continue
                m = sub.postings(field, btext)
                while m.is_active():
                    if self.live[base + m.id()]:
                        return base + m.id()
                    m.next()
            return None

    # -- stored ----------------------------------------------------------------------------------------------

    @_reads
    def stored(self, docnum: int) -> dict:
        with self.lock:
            return self.searcher.stored_fields(docnum)

    def stored_each(self, docnums):
        """The stored fields of each document in turn (exports: Whoosh's per-call reader dispatch and schema check
        skipped, which halves the cost per document)."""
        bases = [base for _, base in self.leaves]
        for d in docnums:
            sub, base = self.leaves[bisect_right(bases, d) - 1]
            with self.lock:
                stored = whoosh_wall.stored_fields(sub, d - base)
            yield stored if stored is not None else {}

    def stored_article(self, docnum: int):
        return S.article_from_stored(self.stored(docnum))

    def docnum_of(self, article_id: str):
        return self._first_live(S.ID, article_id)

    # -- scoring ---------------------------------------------------------------------------------------------

    def norms(self, field: str) -> np.ndarray:
        """BM25's length normalisation of every document for a text field (cached)."""
        arr = self._norms.get(field)
        if arr is None:
            arr = self._norms[field] = length_norm(self.lengths(field), self.avg_length(field))
        return arr

    def term_frequencies(self, field: str, text: str) -> Postings:
        """postings() with the weights as plain term frequencies: Whoosh multiplies a field's weights by its
        field_boost when it indexes them (the title's 2.5); ranking applies its own weights."""
        post = self.postings(field, text)
        boost = self.schema[field].format.field_boost
        return post if boost == 1 or not len(post.ids) else Postings(post.ids, post.weights / boost)

    def title_weights(self) -> np.ndarray:
        """The title's weight in BM25F per document: TITLE_BOOST, 0 where the headline was derived from the body."""
        if self._title_weights is None:
            prior = self._prior
            old = prior.title_weights if prior is not None else None
            start = prior.n_prefix if old is not None else 0   # (the shared documents' weights: the old ones)
            weights = grown(old, start, self.n_all) if old is not None else spare(self.n_all, np.float32)
            weights[start:] = S.TITLE_BOOST
            if S.TITLE_DERIVED in self.schema:
                derived = self.postings(S.TITLE_DERIVED, "1").ids
                weights[derived[derived >= start]] = 0.0
            self._title_weights = weights
        return self._title_weights

    def close(self) -> None:
        with self.lock:
            self.searcher.close()
            self.ix.close() if hasattr(self.ix, "close") else None
