"""Merging segments, and the policy that keeps their number down as small adds pile up.

Every `add` commits the segments its workers wrote, so 1,000 adds of a few articles make 1,000 segments, and
every search pays per segment. Whoosh's own merging (`SegmentWriter.add_reader`) costs ~2 ms a document
(every posting goes through its sorting pool again, ~600 documents/s here) and gets the index's field length
totals wrong (it adds up the one-byte length approximations), so BM25 would no longer answer as a rebuild does.

`merge_segments` writes one segment holding the live documents of consecutive segments, in order, streaming:

- per document, the stored fields are copied as they are stored (compressed bytes, not unpickled and compressed
  again), with the length bytes and column values;
- per field, the source segments' term lists are merged (each is in term order); a term's postings are read
  from each source's blocks (one pickle per block, no per-posting calls; a single-document id term needs no
  read at all), renumbered past deleted documents, and written with index.postings a slice of terms at a time,
  as index.segment's FastSegmentWriter writes them;
- a text field's frequent terms go to the merged segment's posting arrays (index.segment_postings), their
  positions decoded from the W3 values in lockstep with numpy (`index.postings.decode_positions`);
- the field length totals are summed exactly from the postings (a posting's frequency is its weight over the
  field's boost), so a merged index has the totals a rebuild of the same articles has.

What a reader sees of the merged segment is what it saw of the sources, minus deleted documents
(tests/test_merge.py compares them).

The policy (`plan`) is Lucene's LogMergePolicy on document counts: a segment's *level* is log10 of its live
documents (at least FLOOR_DOCS), and MERGE_FACTOR consecutive segments of one level are merged into one (of
the next level, roughly), the smallest first; consecutive only, so documents keep the order they were added in
(ties in ranking fall as in a rebuild). A merge never writes a segment of more than MAX_AUTO_MERGE_DOCS, which
bounds what the end of an `add` may spend (a rebuild's own segments are left as they are); a segment holding
DELETED_SHARE or more deleted documents is rewritten alone. So N adds of k articles leave at most
(MERGE_FACTOR - 1) segments per level up to the cap, plus one per MAX_AUTO_MERGE_DOCS added. `optimize`
merges everything into one segment.

Each merge is committed on its own (a new TOC naming the merged segment in place of its sources): searchers keep
reading the segments they opened, and a kill mid-merge leaves the last commit and an orphan that store.recover
removes. The caller holds the index's writer lock.
"""
from __future__ import annotations

import heapq
import math
import os
import time
from dataclasses import dataclass, field
from itertools import chain, groupby
from itertools import compress as select
from operator import itemgetter
from pathlib import Path

import numpy as np
from whoosh.reading import SegmentReader

from whoosh import formats

from index import integrity, segment_postings, segment_values, store
from index.postings import compress, decode_positions, encode_postings
from index.segment import CHUNK_POSTINGS, _Files
from index.whoosh_wall import (LENGTHS_COLUMN, SegmentWriterBase, column_values, field_names, key_prefix,
                               length_column, mark_merged, raw_stored, segments_of, term_postings, term_records)

MERGE_FACTOR = 10             # segments of one level merged at a time
FLOOR_DOCS = 10               # segments smaller than this count as this size (all the tiny ones: one level)
MAX_AUTO_MERGE_DOCS = 20_000  # the policy never writes a bigger segment (bounds the end of an add: ~5 s)
DELETED_SHARE = 0.3           # a segment with this share of its documents deleted is rewritten without them
OPTIMIZE_MAX_DOCS = 500_000   # optimize: documents of one segment at most (Whoosh's stored-field offsets are
#                               32-bit: 4 GB of compressed stored fields a segment; 500,000 news articles ~1.5 GB)



@dataclass
class MergeReport:
    """What a round of merging did: merges (documents in, segments in), and the segment count after."""

    merges: list[tuple[int, int]] = field(default_factory=list)
    seconds: float = 0.0
    segments: int = 0


# --- the policy -----------------------------------------------------------------------------------------------------

def level(docs: int) -> int:
    """A segment's size class: log10 of its live documents, at least FLOOR_DOCS."""
    return int(math.log10(max(docs, FLOOR_DOCS)))


def plan(sizes: list[tuple[int, int]], max_docs: int = MAX_AUTO_MERGE_DOCS) -> tuple[int, int] | None:
    """The next merge for segments of these (live, all) document counts, in TOC order: (start, end) of a run of
    consecutive segments to merge into one, or None. The smallest level with MERGE_FACTOR consecutive segments
    whose merge stays within `max_docs` goes first (its earliest run); else a segment with DELETED_SHARE deleted."""
    levels = [level(live) for live, _ in sizes]
    best = None
    for start in range(len(sizes) - MERGE_FACTOR + 1):
        window = range(start, start + MERGE_FACTOR)
        lv = levels[start]
        if all(levels[i] == lv for i in window) and sum(sizes[i][0] for i in window) <= max_docs:
            if best is None or lv < levels[best]:
                best = start
    if best is not None:
        return best, best + MERGE_FACTOR
    for i, (live, total) in enumerate(sizes):
        if total and total - live >= DELETED_SHARE * total and live <= max_docs:
            return i, i + 1
    return None


def apply_policy(gen_dir: str | os.PathLike, max_docs: int = MAX_AUTO_MERGE_DOCS) -> MergeReport:
    """Merge the generation's segments as `plan` says until it says no more (each merge committed on its own)."""
    report = MergeReport()
    started = time.perf_counter()
    while True:
        ix = store.open_generation(Path(gen_dir))
        segments = segments_of(ix)
        sizes = [(s.doc_count(), s.doc_count_all()) for s in segments]
        window = plan(sizes, max_docs)
        if window is None:
            report.segments = len(segments)
            break
        start, end = window
        merge_window(ix, Path(gen_dir), segments, start, end)
        report.merges.append((sum(live for live, _ in sizes[start:end]), end - start))
    report.seconds = time.perf_counter() - started
    return report


def merge_all(gen_dir: str | os.PathLike, max_docs: int = OPTIMIZE_MAX_DOCS) -> MergeReport:
    """Merge the generation's segments into as few as hold `max_docs` live documents each (one, below that),
    without their deleted documents (optimize); each group of consecutive segments is one merge."""
    started = time.perf_counter()
    gen = Path(gen_dir)
    segments = segments_of(store.open_generation(gen))
    report = MergeReport()
    start = 0
    for count in groups([s.doc_count() for s in segments], max_docs):
        window = segments[start:start + count]
        start += count
        if count == 1 and not window[0].has_deletions():
            continue
        ix = store.open_generation(gen)
        current = segments_of(ix)
        at = [s.segment_id() for s in current].index(window[0].segment_id())   # (earlier groups merged)
        merge_window(ix, gen, current, at, at + count)
        report.merges.append((sum(s.doc_count() for s in window), count))
    report.segments = len(segments_of(store.open_generation(gen)))
    report.seconds = time.perf_counter() - started
    return report


def groups(sizes: list[int], max_docs: int) -> list[int]:
    """Consecutive runs of segments of these live document counts, as long as each holds at most `max_docs`
    (a bigger segment is a run of its own): how many segments each run has."""
    runs, total = [], None
    for size in sizes:
        if total is not None and total + size <= max_docs:
            runs[-1] += 1
            total += size
        else:
            runs.append(1)
            total = size
    return runs


def merge_window(ix, gen: Path, segments: list, start: int, end: int) -> None:
    """Merge segments[start:end] into one and commit the TOC naming it in their place (their files' full
    checksums checked first: a merge must not carry damage into a segment whose new checksums would vouch for it)."""
    integrity.verify_segments(gen, segments[start:end])
    merger = SegmentMerger(ix, segments[start:end])
    merged = merger.run()
    if merged is not None:
        mark_merged(merged, segments[start:end])   # (a reader then keeps what it had for these documents)
        store.fsync_segment(gen, merged)
    final = segments[:start] + ([merged] if merged is not None else []) + segments[end:]
    merger.commit_segments(final)   # Whoosh removes the sources' files; open readers keep their mappings
    store.fsync_names(gen)
    seal(gen)


def seal(gen_dir: str | os.PathLike) -> None:
    """What follows every commit: the new segments' values files (index.segment_values: those of segments merged
    away removed), then the checksum list of the committed files (index.integrity)."""
    gen = Path(gen_dir)
    with store.open_generation(gen).reader() as reader:
        segment_values.write_missing(gen, reader)
    integrity.write_manifest(gen)


# --- the merge ------------------------------------------------------------------------------------------------------

class SegmentMerger(SegmentWriterBase):
    """A segment writer that takes the live documents of existing segments (see the module docstring)."""

    def __init__(self, ix, sources: list):
        # _lk=False: the caller holds the index's writer lock; compound as the builder's segments
        super().__init__(ix, _lk=False)
        self.sources = sources
        self._lengths: dict[str, np.ndarray] = {}           # scorable field -> the merged documents' length bytes
        self._docmaps: list[np.ndarray] = []                # per source: old docnum -> new (-1: deleted)
        self._readers: list[SegmentReader] = []

    def run(self):
        """Write the merged segment; returns it (None when no source document is live)."""
        try:
            self._readers = [SegmentReader(self.storage, self.schema, s) for s in self.sources]
            lengths = {name: [] for name, f in self.schema.items() if f.scorable}
            for reader in self._readers:
                self._docmaps.append(self._copy_documents(reader, lengths))
            self._lengths = {name: np.concatenate(parts) if parts else np.zeros(0, np.uint8)
                             for name, parts in lengths.items()}
            if self.docnum == 0:
                self.close_segment()
                return None
            self.mark_added()
            return self.finish_segment()
        finally:
            for reader in self._readers:
                reader.close()

    def _copy_documents(self, reader: SegmentReader, lengths: dict) -> np.ndarray:
        """Copy the live documents' stored fields (as stored), length bytes and column values; returns the
        docnum map."""
        pdw = self.perdocwriter
        count = reader.doc_count_all()
        docmap = np.full(count, -1, np.int64)
        stored = raw_stored(reader)   # compressed bytes, not unpickled
        len_columns = [(name, length_column(name), column_values(reader, length_column(name), LENGTHS_COLUMN))
                       for name in lengths]
        columns = [(name, f.column_type, column_values(reader, name, f.column_type))
                   for name, f in self.schema.items() if f.column_type]
        live = np.ones(count, bool)
        if reader.has_deletions():
            live[list(reader.segment().deleted_docs())] = False
        for name, _, values in len_columns:
            lengths[name].append(np.asarray(values, np.uint8)[live] if values is not None
                                 else np.zeros(int(live.sum()), np.uint8))
        for docnum in np.flatnonzero(live).tolist():
            new = self.docnum
            docmap[docnum] = new
            pdw.start_doc(new)
            for _, lenfield, values in len_columns:
                if values is not None and values[docnum]:
                    pdw.add_column_value(lenfield, LENGTHS_COLUMN, values[docnum])
            for name, column, values in columns:
                if values is not None:
                    pdw.add_column_value(name, column, values[docnum])
            pdw.finish_doc()
            blob = stored(docnum)
            if blob:
                self.add_raw_stored(new, blob)
            self.docnum += 1
        return docmap

    def write_terms(self, termfile, postfile, fieldmap: dict) -> tuple[list[bytes], list[int]]:
        """Write every field's merged terms and postings (the per-document files are closed)."""
        files = _Files(termfile, postfile)
        totals = {}
        names = sorted(set().union(*(field_names(r) for r in self._readers)) & set(self.schema.names()))
        with self.keep_beside(segment_postings.Builder(self.segment_path(segment_postings.SUFFIX))) as arrays:
            for name in names:
                total = self._merge_field(name, files, fieldmap, arrays)
                if self.schema[name].scorable:
                    totals[name] = total
        self.set_field_totals({name: total for name, total in totals.items() if total})
        return files.keys, files.positions

    def _merge_field(self, name: str, files: _Files, fieldmap: dict, arrays=None) -> int:
        """Merge one field's terms from every source (a text field's frequent ones to `arrays` too, as
        index.segment_postings keeps them); returns the sum of its postings' frequencies."""
        fieldobj = self.schema[name]
        prefix = key_prefix(fieldmap, name)
        fixed = fieldobj.format.fixed_value_size()
        chunk = _Chunk(fixed, fieldobj.format.field_boost or 1.0,
                       self._lengths.get(name) if fieldobj.scorable else None, self._docmaps)
        if arrays is not None and isinstance(fieldobj.format, formats.Positions):
            chunk.arrays, chunk.name = arrays, name
        total = 0.0
        streams = [_tagged(term_records(r, name), i) for i, r in enumerate(self._readers)]
        for term, group in groupby(heapq.merge(*streams, key=itemgetter(0)), key=itemgetter(0)):
            chunk.start(term)
            for _, i, info in group:
                chunk.add(i, *term_postings(self._readers[i], info, fixed))
            if chunk.postings >= CHUNK_POSTINGS:
                total += chunk.flush(files, prefix)
        total += chunk.flush(files, prefix)
        return int(round(total))


class _Chunk:
    """Consecutive terms' postings from the sources, renumbered and written together (index.postings works a
    slice of terms at a time): kept as Python lists until the flush, which maps them with numpy."""

    def __init__(self, fixed, boost: float, lengths, docmaps: list[np.ndarray]):
        self.fixed, self.boost, self.lengths = fixed, boost, lengths
        self.arrays, self.name = None, ""   # a positions field's index.segment_postings.Builder
        self.docmap = np.concatenate(docmaps) if docmaps else np.zeros(0, np.int64)   # all sources' maps
        self.bases = np.cumsum([0] + [len(m) for m in docmaps])[:-1].tolist()           # where each one starts
        self._reset()

    def _reset(self):
        self.terms: list[bytes] = []
        self.term_sizes: list[int] = []
        self.ids: list = []          # per part: the source's doc numbers
        self.part_base: list[int] = []
        self.part_sizes: list[int] = []
        self.weights: list = []
        self.values: list = []
        self.postings = 0

    def start(self, term: bytes) -> None:
        self.terms.append(term)
        self.term_sizes.append(0)

    def add(self, source: int, ids, weights, values) -> None:
        """One source's postings of the current term."""
        n = len(ids)
        self.ids.append(ids)
        self.part_base.append(self.bases[source])
        self.part_sizes.append(n)
        self.weights.append(weights)
        if values is not None:
            self.values.append(values)
        self.term_sizes[-1] += n
        self.postings += n

    def flush(self, files: _Files, prefix: bytes) -> float:
        """Write the chunk's terms (those with a live posting); returns the sum of their postings' frequencies."""
        if not self.terms:
            return 0.0
        n = self.postings
        old = np.fromiter(chain.from_iterable(self.ids), np.int64, n)
        old += np.repeat(np.asarray(self.part_base, np.int64), self.part_sizes)
        docs = self.docmap[old]
        weights = np.fromiter(chain.from_iterable(self.weights), np.float64, n)
        values = list(chain.from_iterable(self.values)) if self.fixed != 0 else None
        keep = docs >= 0
        sizes = np.asarray(self.term_sizes, np.int64)
        terms = self.terms
        if not keep.all():   # postings of deleted documents, and terms only they held
            starts = np.cumsum(sizes) - sizes
            sizes = np.add.reduceat(keep.astype(np.int64), starts)
            docs, weights = docs[keep], weights[keep]
            if values is not None:
                values = list(select(values, keep.tolist()))
            terms = [t for t, size in zip(terms, sizes.tolist()) if size]
            sizes = sizes[sizes > 0]
        freq = 0.0
        if len(terms):
            bounds = np.zeros(len(sizes) + 1, np.int64)
            np.cumsum(sizes, out=bounds[1:])
            lengths = self.lengths
            length_bytes = lengths[docs] if lengths is not None and len(lengths) else np.zeros(len(docs), np.uint8)
            packed = None
            if values is not None:
                packed = (np.frombuffer(b"".join(values), np.uint8),
                          np.fromiter(map(len, values), np.int64, len(values)))
            blob, infos = encode_postings(bounds, docs, weights, length_bytes, compress, values=packed,
                                          joined=self.fixed is not None and self.fixed > 0)
            files.add([prefix + term for term in terms], blob, infos)
            freqs = np.rint(weights / self.boost).astype(np.int64)
            freq = float(freqs.sum())
            if self.arrays is not None:
                self._keep_arrays(terms, bounds, docs, freqs, packed)
        self._reset()
        return freq

    def _keep_arrays(self, terms: list[bytes], bounds, docs, freqs, packed) -> None:
        """The frequent terms' postings for index.segment_postings, their positions decoded from Whoosh's
        encoding (only theirs: the others are not kept); a value that does not decode leaves the chunk out (its
        terms are read from the blocks)."""
        sizes = np.diff(bounds)
        frequent = sizes >= segment_postings.MIN_DF
        if not frequent.any():
            return
        positions = None
        if self.name in segment_postings.POSITIONS_FOR:
            data, value_sizes = packed
            wanted = np.repeat(frequent, sizes)
            starts = np.cumsum(value_sizes) - value_sizes
            decoded = decode_positions(data, starts[wanted], value_sizes[wanted])
            if decoded is None:
                return
            counts, deltas = decoded
            if not np.array_equal(counts, freqs[wanted]):
                return
            all_positions = np.zeros(int(freqs.sum()), np.int64)   # rare terms' positions are not kept: zeros
            pos_starts = np.cumsum(freqs) - freqs
            within = np.arange(len(deltas)) - np.repeat(np.cumsum(counts) - counts, counts)   # place in its posting
            at = np.repeat(pos_starts[wanted], counts) + within
            all_positions[at] = segment_postings.absolute_positions(counts, deltas)
            positions = all_positions
        self.arrays.add(self.name, self.boost, terms, bounds, docs, freqs, positions)


def _tagged(terms, source: int):
    """(term, source, info) of one source's (term, info) pairs (for merging the sources' term lists)."""
    for term, info in terms:
        yield term, source, info
