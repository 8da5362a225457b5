"""The Whoosh wall: every use newsdex makes of Whoosh 2.7.4's private attributes, private functions and on-disk
layout, in this one module. Nothing else in index/ or search/ (but search/snapshot.py, for now: see
tests/test_whoosh_wall.py) reads `obj._something` of a Whoosh object, imports a private name from Whoosh, or
spells one of Whoosh's file names.

Why newsdex reaches behind Whoosh's API at all: Whoosh reads and writes posting by posting in Python (writing a
news article costs ~12 ms, merging a document ~2 ms, reading 8k postings ~80 ms); newsdex writes and reads the
same files in batches with numpy. What it needs for that, and where:

- **File names** (`toc_name`, `newest_toc`, `is_segment_file`, `segment_files`, ...): an index called INDEX_NAME
  is a TOC per commit (`_MAIN_<generation>.toc`), segments (`MAIN_<id>.seg`, compound, or `MAIN_<id>.<ext>`), a
  lock file and a temp folder.
- **W3 constants** (`BLOCK_LIMIT`, `COMPRESSION`, `POSTINGS_MAGIC`, `TERM_INFO`, ...): what index/postings.py
  needs to write W3 posting blocks and term records as Whoosh's W3 codec writes them; `key_prefix`, how a term's
  key in the term file begins (its field's number).
- **Writing segments** (`SegmentWriterBase`): a Whoosh `SegmentWriter` whose term and posting files the subclass
  writes itself (`write_terms`), finished without a commit (`finish_segment`, `close_segment`: a worker's
  segment is committed by the parent), and a commit that puts a merged segment where its sources were
  (`commit_segments`). The builder's commit of the workers' segments uses Whoosh's public
  `commit(mergetype=...)` (`commit_with`).
- **The term file's hash tables** (`close_term_file`): Whoosh's ordered hash file closed after records written
  in bulk.
- **Reading segments** (`segments_of`, `field_names`, `term_records`, `term_info`, `term_doc_ids`,
  `term_postings`, `matcher_blocks`, `column_values`, `fixed_column_bytes`, `length_bytes`, `stored_fields`,
  `raw_stored`): a
  segment's term records, posting blocks and columns read whole, without Whoosh's per-posting calls.
- **Segments read in place** (`ViewStream`, `ViewBufferFile`, `install`): Whoosh 2.7.4 memory-maps a compound
  segment (`.seg`) and hands each file inside it out as a `BufferFile` over a memoryview of the map. But
  `BufferFile.__init__` also wraps the view in `BytesIO(buf)`, and BytesIO copies a memoryview: opening an index
  copied its whole term and posting files onto the heap (620 MB of anonymous memory for a 100k-article index
  whose segment is 568 MB; 2.8 GB of heap at 500k articles). `ViewBufferFile` gives the same file a seekable
  reader over the view itself, so the pages stay the kernel's to drop: 66 MB instead of 620 MB on that index, and
  opening is faster. Installed once, when index.store (which opens every index) is imported, with
  `_hash_reader_init`: Whoosh's HashReader.__init__ but for the directory of a hash file's tables, read at once
  (Whoosh reads its 256 entries one by one, and every segment opened opens a hash file).

`RELIED_ON` lists every private name this module uses, with the shape it expects; `check_whoosh()` raises
RuntimeError naming the first that differs, and tests/test_whoosh_wall.py checks each against the installed Whoosh
(the attributes Whoosh's objects set in their constructors, on a real index).
"""
from __future__ import annotations

import inspect
import io
import os
import pickle
import re
import struct
import warnings
import zlib
from array import array
from hashlib import md5
from io import BytesIO
from itertools import accumulate, repeat

import numpy as np
import whoosh.filedb.compound as _compound
import whoosh.filedb.filetables as _filetables
from whoosh import columns as whoosh_columns
from whoosh.codec import whoosh3
from whoosh.filedb.structfile import BufferFile
from whoosh.writing import SegmentWriter

# --- file names -----------------------------------------------------------------------------------------------------

INDEX_NAME = "MAIN"                          # the name newsdex gives its Whoosh index (Whoosh's files are named after it)
WRITELOCK_FILE = f"{INDEX_NAME}_WRITELOCK"   # Whoosh's lock file (newsdex holds its own lock; never taken)
TEMP_DIR = f"{INDEX_NAME}.tmp"               # Whoosh's temp folder of a writer
_TOC_FILE = re.compile(rf"^_{INDEX_NAME}_(\d+)\.toc$")


def toc_name(generation: int) -> str:
    """The TOC file of a commit (`_MAIN_<generation>.toc`)."""
    return f"_{INDEX_NAME}_{generation}.toc"


def toc_generation(name: str) -> int | None:
    """The commit generation a file name is the TOC of, or None when it is no TOC."""
    m = _TOC_FILE.match(name)
    return int(m.group(1)) if m else None


def newest_toc(gen_dir: str | os.PathLike) -> int:
    """The highest TOC generation in a Whoosh directory (-1 when there is none): the commit Whoosh opens."""
    return max((g for g in map(toc_generation, os.listdir(gen_dir)) if g is not None), default=-1)


def is_toc_file(name: str) -> bool:
    """A TOC, or one being written (`_MAIN_7.toc.<time>` while Whoosh writes it)."""
    return name.startswith(f"_{INDEX_NAME}_") and ".toc" in name


def is_segment_file(name: str) -> bool:
    """A file of a Whoosh segment (`MAIN_<id>.seg` and the like): never changed once written."""
    return name.startswith(f"{INDEX_NAME}_") and "." in name and name != WRITELOCK_FILE


def segment_id_of(name: str) -> str:
    """The segment a segment file belongs to."""
    return name.split(".", 1)[0]


def segment_files(gen_dir: str | os.PathLike, segment) -> list[str]:
    """The files of one segment (a compound `.seg`, or the separate files of an uncompounded one)."""
    prefix = segment.segment_id() + "."
    if getattr(segment, "compound", True):
        return [prefix + "seg"]
    return sorted(name for name in os.listdir(gen_dir) if name.startswith(prefix))


def written_segment_files(gen_dir: str | os.PathLike, segment) -> list[str]:
    """Every file in the directory that belongs to a segment (compound or not)."""
    prefix = segment.segment_id() + "."
    return [name for name in os.listdir(gen_dir) if name.startswith(prefix)]


# --- W3 constants (what index/postings.py writes) ---------------------------------------------------------------------

BLOCK_LIMIT = 128                  # postings per block: W3Codec's default blocklimit
COMPRESSION = 3                    # zlib level of a compressed block: W3Codec's default compression
POSTINGS_MAGIC = whoosh3.WHOOSH3_HEADER_MAGIC   # the 4 bytes before a term's first posting block
TERM_HEAD = whoosh3.W3TermInfo._struct          # !BfIBBfII: flags, weight, df, min/max length byte, max weight, min/max id
EXTENT = struct.Struct("!qi")                   # after the head of a term info not inlined: postings offset and length
NO_ID = 0xffffffff                              # a min/max id Whoosh did not know
# A whole term record's info: the head, then the extent (newsdex never inlines postings in the term info).
TERM_INFO = np.dtype([("flags", "u1"), ("weight", ">f4"), ("df", ">u4"), ("minlen", "u1"), ("maxlen", "u1"),
                      ("maxweight", ">f4"), ("minid", ">u4"), ("maxid", ">u4"), ("offset", ">i8"),
                      ("length", ">i4")])
LENGTHS_COLUMN = whoosh3.LENGTHS_COLUMN         # a scorable field's per-document length bytes
STORED_COLUMN = whoosh3.STORED_COLUMN           # the stored fields: pickled, compressed, per document
_STORED = "_stored"                             # the stored fields' column name


_FIELD_NUMBER = struct.Struct(">H")            # a term's key in the term file: its field's number, then the term


def key_prefix(fieldmap: dict, field: str) -> bytes:
    """The first bytes of every key of a field's terms in a segment's term file (`fieldmap`: the segment's field ->
    number; a field new to it gets the next number)."""
    return _FIELD_NUMBER.pack(fieldmap.setdefault(field, len(fieldmap)))


def length_column(field: str) -> str:
    """The name of a field's per-document length column."""
    return whoosh3._lenfield(field)


# --- writing segments ---------------------------------------------------------------------------------------------------

class SegmentWriterBase(SegmentWriter):
    """Whoosh's SegmentWriter with named hooks for what newsdex's writers (index.segment.FastSegmentWriter,
    index.merge.SegmentMerger) do behind Whoosh's API. A subclass writes the term and posting files itself in
    `write_terms`, called when the segment is flushed. Every segment keeps its stored fields' offsets
    (`write_stored_offsets`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._beside: list = []   # files written with the segment, named once it is assembled (`keep_beside`)
        self.write_stored_offsets()

    # -- the state Whoosh keeps
    def check_open(self) -> None:
        """IndexingError when the writer is closed."""
        self._check_state()

    def check_field_names(self, names) -> None:
        """UnknownFieldError for a name the schema does not have."""
        self._check_fields(self.schema, names)

    def mark_added(self) -> None:
        """The segment holds documents: a commit flushes it (Whoosh's own add_document sets this)."""
        self._added = True

    def set_field_totals(self, totals: dict) -> None:
        """The segment's field length totals (what BM25 averages over), when the subclass counted them."""
        self.newsegment._fieldlengths = totals

    # -- the stored fields' column
    def use_compressor(self, compress) -> None:
        """Compress stored documents with `compress(data, level)` (Whoosh's zlib.compress sets up costly state)."""
        child = getattr(self.perdocwriter._colwriters[_STORED], "_child", None)
        if hasattr(child, "_compress"):
            child._compress = compress

    def write_stored_offsets(self) -> None:
        """Write the stored fields' offsets whatever the segment's size. Whoosh writes them only above 32,768
        documents (its `write_offsets_cutoff`); below, every reader rebuilds them from the lengths in a Python loop
        the first time it reads a stored document of the segment (~2 ms for a segment of 8,500 documents, paid
        by the first searches of a new process, one segment at a time)."""
        self.perdocwriter._colwriters[_STORED]._child.cutoff = 0

    def add_raw_stored(self, docnum: int, blob: bytes) -> None:
        """A document's stored fields as another segment stored them (compressed: not unpickled, not compressed
        again)."""
        whoosh_columns.VarBytesColumn.Writer.add(self.perdocwriter._colwriters[_STORED]._child, docnum, blob)

    def segment_path(self, suffix: str) -> str:
        """A file beside the segment being written, named after it (`<segment id><suffix>`): Whoosh removes it
        with the segment when the segment is merged away, and index.store with an uncommitted one. A file of this
        name that exists when the segment is assembled goes into its compound file: write it under another name
        and hand it to `keep_beside`."""
        return os.path.join(self.storage.folder, self.newsegment.segment_id() + suffix)

    def keep_beside(self, file):
        """`file` (written under a temporary name; `file.publish()` gives it its `segment_path` name) is named when
        the segment is assembled, before a commit names the segment. Returns it."""
        self._beside.append(file)
        return file

    def segment_assembled(self) -> None:
        """The segment's files are written and assembled into its compound file: the files kept beside it take
        their names."""
        beside, self._beside = self._beside, []
        for file in beside:
            file.publish()

    def _finalize_segment(self):
        segment = super()._finalize_segment()
        self.segment_assembled()
        return segment

    # -- flushing and finishing
    def write_terms(self, termfile, postfile, fieldmap: dict) -> tuple[list[bytes], list[int]]:
        """Write every field's term records to `termfile` (its header written) and posting blocks to `postfile`,
        numbering new fields in `fieldmap`; returns the keys written and where each record begins."""
        raise NotImplementedError

    def _flush_segment(self):
        self.perdocwriter.close()
        fieldwriter = self.fieldwriter
        tindex = fieldwriter._tindex
        fieldmap = tindex.extras["fieldmap"]
        keys, positions = self.write_terms(tindex.dbfile, fieldwriter._postfile, fieldmap)
        close_term_file(tindex.dbfile, keys, positions, {"fieldmap": fieldmap})
        fieldwriter._postfile.close()
        fieldwriter.is_closed = True

    def finish_segment(self):
        """Flush, close and assemble the segment without committing it; returns it (for a commit to name)."""
        return self._finalize_segment()

    def close_segment(self) -> None:
        """Close the segment's files without flushing it (nothing in it to keep)."""
        self._close_segment()

    def commit_segments(self, segments: list) -> None:
        """Commit a TOC naming exactly `segments`, in that order, and release the writer. A merge needs this:
        Whoosh's public `commit(mergetype=...)` appends the writer's new segment after the segments the merge
        function returns, and a merged segment must stand where its sources stood (documents keep the order they
        were added in: ties in ranking fall as in a rebuild)."""
        self._commit_toc(segments)
        self._finish()


def commit_with(writer, segments: list, before_toc=None) -> None:
    """Commit a writer that added no document of its own (deletions only) with `segments` appended to the index's
    (finished by other writers), calling `before_toc()` just before the TOC is written. Whoosh's public
    `commit(mergetype=...)`: the merge function returns the segments the TOC names. The writer's own (empty)
    segment is closed first, so that only `before_toc()` stands between what it writes and the TOC (Whoosh's
    commit would close it in between; closing again is a no-op)."""
    writer._close_segment()

    def name_them(_writer, current):
        if before_toc is not None:
            before_toc()
        return list(current) + list(segments)
    writer.commit(mergetype=name_them)


def close_term_file(dbfile, keys: list[bytes], positions: list[int], extras: dict) -> None:
    """Finish a file begun by Whoosh's OrderedHashWriter (header written, records written at `positions`): the
    256 hash tables (MD5 low 32 bits; low 8 bits pick the table, linear probing from (hash >> 8) % slots within
    it, twice as many slots as keys), their directory, the extras and the position index, in HashWriter.close's
    format. Each table is filled in order of home slot, so a key sits at its home slot or after an unbroken run
    of taken slots, which is what HashReader's probing needs (Whoosh fills in key order: another valid layout)."""
    n = len(keys)
    digests = np.frombuffer(b"".join([md5(k).digest() for k in keys]), dtype=">u4").reshape(n, 4) if n else None
    hashes = digests[:, 3].astype(np.int64) if n else np.zeros(0, np.int64)
    where = np.asarray(positions, dtype=np.int64)
    bucket = hashes & 255
    by_bucket = np.argsort(bucket, kind="stable")
    counts = np.bincount(bucket, minlength=256)
    bounds = np.concatenate(([0], np.cumsum(counts)))
    pointer = np.dtype([("hash", ">u4"), ("pos", ">i8")])
    out = []
    directory = []
    pos = dbfile.tell()
    for b in range(256):
        k = int(counts[b])
        numslots = 2 * k
        directory.append((pos, numslots))
        pos += numslots * _POINTER.size
        if not k:
            continue
        members = by_bucket[bounds[b]:bounds[b + 1]]
        hs, ps = hashes[members], where[members]
        home = (hs >> 8) % numslots
        order = np.argsort(home, kind="stable")
        hs, ps, home = hs[order], ps[order], home[order]
        slots = np.maximum.accumulate(home - np.arange(k)) + np.arange(k)   # next free slot at or after home
        table = np.zeros(numslots, dtype=pointer)
        if slots[-1] < numslots:
            table["hash"][slots] = hs
            table["pos"][slots] = ps
        else:   # the run reaches the end of the table: wrap round, probing as HashWriter does
            taken = [False] * numslots
            for h, p, slot in zip(hs.tolist(), ps.tolist(), home.tolist()):
                while taken[slot]:
                    slot = (slot + 1) % numslots
                taken[slot] = True
                table[slot] = (h, p)
        out.append(table.tobytes())
    out.extend(_DIR_ENTRY.pack(p, m) for p, m in directory)
    dbfile.write(b"".join(out))
    expos = dbfile.tell()
    top = max(positions, default=0)
    typecode = "H" if top < 2 ** 16 else "i" if top < 2 ** 31 else "I" if top < 2 ** 32 else "q"
    index = array(typecode, positions)
    extras = dict(extras, indextype=typecode, indexlen=len(index))
    dbfile.write_pickle(extras)
    dbfile.write_array(index)
    dbfile.write_int(dbfile.tell() - expos)
    dbfile.close()


_POINTER = struct.Struct("!Iq")     # a hash table slot: hash, record position
_DIR_ENTRY = struct.Struct("!qi")   # a table's directory entry: position, slots


# --- reading segments ---------------------------------------------------------------------------------------------------

def segments_of(ix) -> list:
    """The segments of an index's newest commit, in TOC order."""
    return ix._segments()


def has_terms(sub) -> bool:
    """False for a reader without a term file (the EmptyReader of an empty index)."""
    return hasattr(sub, "_terms")


def field_names(sub) -> set[str]:
    """The fields a segment has terms of."""
    return set(sub._terms._fieldmap)


def term_records(sub, field: str):
    """(term bytes, term info bytes) of one field of a segment, in term order, read from the term file as they
    are (no TermInfo object per term)."""
    terms = sub._terms
    fieldmap = terms._fieldmap
    if field not in fieldmap:
        return
    prefix = _FIELD_NUMBER.pack(fieldmap[field])
    for key, value in terms._tindex.items_from(prefix):
        if key[:2] != prefix:
            return
        yield key[2:], value


MERGED_FROM = "newsdex_merged_from"   # an attribute of a merged segment, pickled with it in the TOC


def mark_merged(segment, sources: list) -> None:
    """Record on a merged segment (in the TOC that names it) the segments it was merged from, in order: id,
    documents and deleted documents of each when it was merged. A reader that had those segments open knows
    the merged one holds their documents as they were, in the same order, when none was deleted."""
    setattr(segment, MERGED_FROM, tuple((s.segment_id(), s.doc_count_all(), s.deleted_count()) for s in sources))


def merged_from(segment) -> tuple:
    """What mark_merged recorded ((): a segment written, not merged, or merged by another program)."""
    return getattr(segment, MERGED_FROM, ())


def term_info(sub, field: str, btext: bytes) -> bytes | None:
    """A term's info bytes in a segment, as the term file holds them (None: the segment has no such term)."""
    terms = getattr(sub, "_terms", None)
    if terms is None:   # an empty index's EmptyReader
        return None
    number = terms._fieldmap.get(field)
    if number is None:
        return None
    return terms._tindex.get(_FIELD_NUMBER.pack(number) + btext)


def term_doc_ids(sub, field: str):
    """(term bytes, doc ids) of every term of a segment's field, in term order; a term held by one document costs
    no posting read (its id is in the term info's fixed head)."""
    terms = sub._terms
    if getattr(terms, "_tindex", None) is None or getattr(terms, "_fieldmap", None) is None \
            or field not in terms._fieldmap:
        for btext, terminfo in sub.iter_field(field):
            yield btext, ([terminfo.min_id()] if terminfo.doc_frequency() == 1 else _info_ids(sub, field, terminfo))
        return
    size = TERM_HEAD.size
    for btext, raw in term_records(sub, field):
        head = TERM_HEAD.unpack(raw[:size])
        if head[2] == 1 and head[6] != NO_ID:   # doc frequency 1, min id known
            yield btext, [head[6]]
        else:
            yield btext, _info_ids(sub, field, whoosh3.W3TermInfo.from_bytes(raw))


def _info_ids(sub, field: str, terminfo) -> list[int]:
    if terminfo.is_inlined():   # small posting lists live in the term index itself
        return list(terminfo.inlined_postings()[0])
    m = sub._codec.postings_reader(sub._terms._postfile, terminfo, sub.schema[field].format)
    out: list[int] = []
    for count, ids, _ in matcher_blocks(m):
        out.extend(accumulate(ids, initial=0))
        out.pop(len(out) - count - 1)   # drop accumulate's initial value
    return out


def is_block_matcher(m) -> bool:
    """True for a matcher over W3 posting blocks (else a ListMatcher over inlined postings)."""
    return isinstance(m, whoosh3.W3LeafMatcher)


def matcher_blocks(m):
    """Each posting block of a W3 leaf matcher, decoded whole: (count, doc id deltas from 0, weights), the
    weights as the block stores them (None: all 1.0; a float: all that; else a tuple). Moves the matcher."""
    pf = m._postfile
    while True:
        raw = pf.get(m._dataoffset, m._nextoffset - m._dataoffset)
        data = pickle.loads(zlib.decompress(raw) if m._compression else raw)
        yield m._blocklength, data[0], data[1]
        if m._lastblock:
            return
        m._goto(m._nextoffset)


def term_postings(sub, info: bytes, fixed) -> tuple[list, list, list | None]:
    """(docnums, weights, values or None) of one term of a segment, from its term info bytes and posting blocks
    (`fixed`: the format's fixed_value_size(): 0 for no values, None or negative for variable ones)."""
    flags, weight, df, _, _, _, minid, _ = TERM_HEAD.unpack_from(info)
    if flags:   # postings inlined in the term info (Whoosh's own writer does that for a single posting)
        ids, weights, values = pickle.loads(info[TERM_HEAD.size:])
        return ids, weights, None if fixed == 0 else [v if v is not None else b"" for v in values]
    if fixed == 0 and df == 1 and weight == 1.0:   # an id's term: one document, no value, weight 1
        return (minid,), (1.0,), None
    offset, length = EXTENT.unpack_from(info, TERM_HEAD.size)
    return decode_blocks(sub._terms._postfile.get(offset, length), fixed)


def decode_blocks(data: bytes, fixed) -> tuple[list, list, list | None]:
    """Decode a term's W3 posting blocks: after the 4-byte magic, per block a length (negative for the last), a
    pickled info tuple and a pickled (maybe compressed) data tuple of doc number deltas, weights and values."""
    ids, weights, values = [], [], [] if fixed != 0 else None
    stream = io.BytesIO(data)
    pos = len(POSTINGS_MAGIC)
    while True:
        size = int.from_bytes(data[pos:pos + 4], "big", signed=True)
        end = pos + 4 + abs(size)
        stream.seek(pos + 4)
        count, _, _, compression, _, _ = pickle.load(stream)
        raw = data[stream.tell():end]
        block_ids, block_weights, block_values = pickle.loads(zlib.decompress(raw) if compression else raw)
        ids.extend(accumulate(block_ids))   # deltas within the block, the first from 0
        if block_weights is None:
            weights.extend(repeat(1.0, count))
        elif isinstance(block_weights, float):
            weights.extend(repeat(block_weights, count))
        else:
            weights.extend(block_weights)
        if fixed is None or fixed < 0:
            values.extend(block_values)
        elif fixed > 0:
            values.extend(block_values[k:k + fixed] for k in range(0, len(block_values), fixed))
        if size < 0:
            return ids, weights, values
        pos = end


def column_values(sub, name: str, column) -> list | None:
    """Every document's value of a per-document column (None when the segment has no such column)."""
    perdoc = sub._perdoc
    if not perdoc.has_column(name):
        return None
    return list(perdoc.column_reader(name, column)) if sub.doc_count_all() else []


def fixed_column_bytes(sub, name: str, column, width: int) -> bytes | None:
    """The raw bytes of a fixed-width column (`width` bytes a document, big-endian as Whoosh writes numbers), for
    the documents it holds (a column may end before the segment's last documents); None without the column."""
    if not sub.has_column(name):
        return None
    cr = sub._perdoc.column_reader(name, column)
    count = min(cr._count, sub.doc_count_all())
    return cr._dbfile.get(cr._basepos, count * width)


def length_bytes(sub, field: str) -> bytes | None:
    """The length byte of each document of a field (as far as the column goes), None when the segment has none."""
    cr = sub._perdoc._cached_reader(length_column(field), LENGTHS_COLUMN)
    if cr is None:
        return None
    count = min(cr._count, sub.doc_count_all())
    return cr._dbfile.get(cr._basepos, count)


def stored_fields(sub, docnum: int) -> dict | None:
    """A document's stored fields, by its number within the segment (no per-call dispatch)."""
    return sub._perdoc.stored_fields(docnum)


def raw_stored(sub):
    """A function docnum -> the document's stored fields as stored (compressed bytes, not unpickled)."""
    child = sub._perdoc.column_reader(_STORED, STORED_COLUMN)._child
    get = whoosh_columns.VarBytesColumn.Reader.__getitem__
    return lambda docnum: get(child, docnum)


# --- segments read in place -------------------------------------------------------------------------------------------

PICKLE_SLICE = 2048          # bytes unpickled at once (a posting block header is a few hundred)


class ViewStream:
    """A read-only, seekable file over a memoryview, without copying it."""

    def __init__(self, view):
        self._view, self._pos = view, 0

    def read(self, n: int | None = -1) -> bytes:
        pos = self._pos
        out = bytes(self._view[pos:] if n is None or n < 0 else self._view[pos:pos + n])   # (a slice stops at the end)
        self._pos = pos + len(out)
        return out

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)

    def readline(self, limit: int | None = -1) -> bytes:
        end = len(self._view) if limit is None or limit < 0 else min(len(self._view), self._pos + limit)
        i = bytes(self._view[self._pos:end]).find(b"\n")
        return self.read(i + 1 if i >= 0 else end - self._pos)

    def seek(self, pos: int, whence: int = 0) -> int:
        self._pos = pos if whence == 0 else (self._pos + pos if whence == 1 else len(self._view) + pos)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        """Nothing to release: the map belongs to the compound file."""

    def __iter__(self):
        while line := self.readline():
            yield line


class ViewBufferFile(BufferFile):
    """Whoosh's BufferFile with a ViewStream where it made a BytesIO copy (everything else is Whoosh's)."""

    def __init__(self, buf, name=None, onclose=None):
        self._buf = buf
        self._name = name
        self.file = ViewStream(buf)
        self.onclose = onclose
        self.is_real = False
        self.is_closed = False

    def read(self, n: int | None = -1) -> bytes:
        """StructFile.read without its call through to the stream (opening a segment reads its term file's hash
        table directory 8 bytes at a time: 256 reads a segment)."""
        return self.file.read(n)

    def read_pickle(self, protocol=-1):
        """One pickle from the current position. pickle.load() on a Python file calls read() once per opcode (a
        posting block's header: dozens of calls); here it unpickles a slice held in a (C) BytesIO, a larger one
        when the object runs past it."""
        stream, size = self.file, PICKLE_SLICE
        while True:
            chunk = bytes(self._buf[stream.tell():stream.tell() + size])
            held = BytesIO(chunk)
            try:
                obj = pickle.load(held)
            except Exception:
                if len(chunk) < size:   # the whole rest of the file: a real error
                    raise
                size *= 16
                continue
            stream.seek(held.tell(), 1)
            return obj


def _hash_reader_init(self, dbfile, length=None, magic=b"HSH3", startoffset=0):
    """whoosh.filedb.filetables.HashReader.__init__ as Whoosh 2.7.4 writes it, but for the directory of hash tables
    read with one read() where Whoosh reads its 256 entries one by one (opening a segment opens its term file's
    hash reader: 256 reads a segment, ~35 ms of opening a 1M-article index of 130 segments)."""
    self.dbfile = dbfile
    self.startoffset = startoffset
    self.is_closed = False
    if length is None:
        dbfile.seek(0, os.SEEK_END)
        length = dbfile.tell() - startoffset
    dbfile.seek(startoffset)
    filemagic = dbfile.read(4)
    if filemagic != magic:
        raise _filetables.FileFormatError("Unknown file header %r" % filemagic)
    self.hashtype = dbfile.read_byte()
    self.hashfn = _filetables._hash_functions[self.hashtype]
    dbfile.read_int()   # (unused future expansion bits)
    dbfile.read_int()
    self.startofdata = dbfile.tell()
    exptr = startoffset + length - _filetables._INT_SIZE
    exlen = dbfile.get_int(exptr)   # the length of the extras, at the end of the file
    expos = exptr - exlen
    dbfile.seek(expos)
    self._read_extras()
    dbfile.seek(expos - _filetables._directory_size)   # the directory of hash tables: (position, slots) each
    directory = dbfile.read(_filetables._directory_size)
    self.tables = list(_filetables._dir_entry.iter_unpack(directory))
    self.endofdata = self.tables[0][0]   # the first hash table starts where the key/value pairs end


# --- what this module relies on -----------------------------------------------------------------------------------------

# Every private name of Whoosh used above: (what, where it is looked up, the check of its shape). Attributes that
# Whoosh's objects set in their constructors are listed in INSTANCE_ATTRIBUTES and checked on a real index by
# tests/test_whoosh_wall.py.
def _signature_has(*names):
    return lambda f: callable(f) and all(n in inspect.signature(f).parameters for n in names)


RELIED_ON = [
    ("whoosh.writing.SegmentWriter._check_state", lambda: SegmentWriter._check_state, _signature_has("self")),
    ("whoosh.writing.SegmentWriter._check_fields", lambda: SegmentWriter._check_fields,
     _signature_has("self", "schema", "fieldnames")),
    ("whoosh.writing.SegmentWriter._flush_segment", lambda: SegmentWriter._flush_segment, _signature_has("self")),
    ("whoosh.writing.SegmentWriter._finalize_segment", lambda: SegmentWriter._finalize_segment,
     _signature_has("self")),
    ("whoosh.writing.SegmentWriter._close_segment", lambda: SegmentWriter._close_segment, _signature_has("self")),
    ("whoosh.writing.SegmentWriter._commit_toc", lambda: SegmentWriter._commit_toc,
     _signature_has("self", "segments")),
    ("whoosh.writing.SegmentWriter._finish", lambda: SegmentWriter._finish, _signature_has("self")),
    ("whoosh.writing.SegmentWriter.commit(mergetype=)", lambda: SegmentWriter.commit, _signature_has("mergetype")),
    ("whoosh.index.FileIndex._segments", lambda: __import__("whoosh.index").index.FileIndex._segments,
     _signature_has("self")),
    ("whoosh.codec.whoosh3._lenfield", lambda: whoosh3._lenfield, lambda f: f("body") == "_body_len"),
    ("whoosh.codec.whoosh3.W3TermInfo._struct", lambda: whoosh3.W3TermInfo._struct,
     lambda s: s.format in ("!BfIBBfII", b"!BfIBBfII") and s.size == TERM_INFO.itemsize - EXTENT.size),
    ("whoosh.codec.whoosh3.WHOOSH3_HEADER_MAGIC", lambda: whoosh3.WHOOSH3_HEADER_MAGIC, lambda m: m == b"W3Bl"),
    ("whoosh.codec.whoosh3.W3Codec(blocklimit=128, compression=3)", lambda: whoosh3.W3Codec.__init__,
     lambda f: inspect.signature(f).parameters["blocklimit"].default == BLOCK_LIMIT
     and inspect.signature(f).parameters["compression"].default == COMPRESSION),
    ("whoosh.codec.whoosh3.LENGTHS_COLUMN", lambda: whoosh3.LENGTHS_COLUMN,
     lambda c: isinstance(c, whoosh_columns.NumericColumn)),
    ("whoosh.codec.whoosh3.STORED_COLUMN", lambda: whoosh3.STORED_COLUMN,
     lambda c: isinstance(c, whoosh_columns.PickleColumn)
     and isinstance(c._child, whoosh_columns.CompressedBytesColumn)),
    ("whoosh.codec.whoosh3.W3LeafMatcher._goto", lambda: whoosh3.W3LeafMatcher._goto,
     _signature_has("self", "position")),
    ("whoosh.codec.whoosh3.W3PerDocReader._cached_reader", lambda: whoosh3.W3PerDocReader._cached_reader,
     _signature_has("self", "fieldname", "column")),
    ("whoosh.columns.VarBytesColumn.Writer.add", lambda: whoosh_columns.VarBytesColumn.Writer.add,
     _signature_has("self", "docnum", "v")),
    ("whoosh.columns.CompressedBytesColumn.Writer is a VarBytesColumn.Writer",
     lambda: whoosh_columns.CompressedBytesColumn.Writer,
     lambda c: issubclass(c, whoosh_columns.VarBytesColumn.Writer)),
    ("whoosh.columns.VarBytesColumn.Reader.__getitem__", lambda: whoosh_columns.VarBytesColumn.Reader.__getitem__,
     _signature_has("self", "docnum")),
    ("whoosh.filedb.structfile.BufferFile.__init__ (self._buf = buf; self.file = BytesIO(buf))",
     lambda: inspect.getsource(BufferFile.__init__),
     lambda src: all(s in src for s in ("self._buf = buf", "self.file = BytesIO(buf)", "self.is_real = False"))),
    ("whoosh.filedb.compound.BufferFile", lambda: getattr(_compound, "BufferFile", None),
     lambda c: c in (BufferFile, ViewBufferFile)),
    # _hash_reader_init is Whoosh's HashReader.__init__ but for the directory read: Whoosh's must be the one it
    # copies (its source, line by line, but for that loop and comments)
    ("whoosh.filedb.filetables.HashReader.__init__ (as _hash_reader_init but for the directory read)",
     lambda: inspect.getsource(_WHOOSH_HASH_READER_INIT or _filetables.HashReader.__init__),
     lambda src: _code_lines(src) == _HASH_READER_LINES),
    ("whoosh.filedb.filetables._dir_entry, _directory_size, _INT_SIZE, _hash_functions, FileFormatError",
     lambda: (_filetables._dir_entry, _filetables._directory_size, _filetables._INT_SIZE,
              _filetables._hash_functions, _filetables.FileFormatError),
     lambda t: t[0].format in ("!qi", b"!qi") and t[1] == 256 * t[0].size and t[2] == 4 and len(t[3]) == 3
     and issubclass(t[4], Exception)),
]


def _code_lines(src: str) -> list[str]:
    """The lines of a function's source that are code (no comments, docstring or blank lines), stripped."""
    body = src.split('"""')
    code = body[0] + (body[2] if len(body) > 2 else "")
    return [line.strip() for line in code.splitlines() if line.strip() and not line.strip().startswith("#")]


# What Whoosh 2.7.4's HashReader.__init__ says, code lines only (_hash_reader_init is it, the directory read aside)
_HASH_READER_LINES = [
    'def __init__(self, dbfile, length=None, magic=b("HSH3"), startoffset=0):',
    "self.dbfile = dbfile", "self.startoffset = startoffset", "self.is_closed = False",
    "if length is None:", "dbfile.seek(0, os.SEEK_END)", "length = dbfile.tell() - startoffset",
    "dbfile.seek(startoffset)", "filemagic = dbfile.read(4)", "if filemagic != magic:",
    'raise FileFormatError("Unknown file header %r" % filemagic)', "self.hashtype = dbfile.read_byte()",
    "self.hashfn = _hash_functions[self.hashtype]", "dbfile.read_int()", "dbfile.read_int()",
    "self.startofdata = dbfile.tell()", "exptr = startoffset + length - _INT_SIZE",
    "exlen = dbfile.get_int(exptr)", "expos = exptr - exlen", "dbfile.seek(expos)", "self._read_extras()",
    "dbfile.seek(expos - _directory_size)", "self.tables = []", "entrysize = _dir_entry.size",
    "unpackentry = _dir_entry.unpack", "for _ in xrange(256):",
    "self.tables.append(unpackentry(dbfile.read(entrysize)))", "self.endofdata = self.tables[0][0]",
]
_WHOOSH_HASH_READER_INIT = None   # Whoosh's own, kept by install() when it puts _hash_reader_init in its place

# Attributes set on Whoosh's objects (checked on an index written and read by Whoosh): object -> names.
INSTANCE_ATTRIBUTES = {
    "SegmentWriter": ("_added", "perdocwriter", "fieldwriter", "newsegment"),
    "SegmentWriter.perdocwriter (W3PerDocWriter)": ("_colwriters",),
    "SegmentWriter.perdocwriter._colwriters['_stored'] (PickleColumn.Writer)": ("_child",),
    "... ._child (CompressedBytesColumn.Writer)": ("_compress", "cutoff"),
    "SegmentWriter.fieldwriter (W3FieldWriter)": ("_tindex", "_postfile", "is_closed"),
    "W3FieldWriter._tindex (OrderedHashWriter)": ("dbfile", "extras"),
    "a committed segment (W3Segment)": ("_fieldlengths",),
    "SegmentReader": ("_terms", "_perdoc", "_codec"),
    "SegmentReader._terms (W3TermsReader)": ("_tindex", "_fieldmap", "_postfile"),
    "fixed-width column reader": ("_count", "_dbfile", "_basepos"),
    "PickleColumn.Reader": ("_child",),
    "W3LeafMatcher": ("_postfile", "_dataoffset", "_nextoffset", "_compression", "_blocklength", "_lastblock"),
}


def check_whoosh(prefix: str = "") -> None:
    """Raise RuntimeError naming the first private name of Whoosh this module relies on (those starting with
    `prefix`) that is missing or not of the expected shape (the attributes of INSTANCE_ATTRIBUTES are checked by
    tests/test_whoosh_wall.py)."""
    for what, get, ok in RELIED_ON:
        if not what.startswith(prefix):
            continue
        try:
            good = ok(get())
        except Exception as exc:  # noqa: BLE001 - whatever is wrong, it is this name that moved
            raise RuntimeError(f"{what}: not as index/whoosh_wall.py expects ({type(exc).__name__}: {exc}); "
                               f"index/whoosh_wall.py must be revised for this Whoosh") from exc
        if not good:
            raise RuntimeError(f"{what}: not as index/whoosh_wall.py expects; index/whoosh_wall.py must be revised "
                               f"for this Whoosh")


def install() -> None:
    """Make Whoosh's compound files hand out ViewBufferFiles (idempotent). Against a Whoosh laid out otherwise,
    Whoosh's own copying files stay (slower, never wrong) and a warning says why; tests/test_whoosh_wall.py
    fails on such a Whoosh."""
    try:
        check_whoosh("whoosh.filedb")   # what reading in place relies on
    except RuntimeError as exc:
        warnings.warn(f"{exc}; segments are copied into memory when opened", RuntimeWarning)
        return
    _compound.BufferFile = ViewBufferFile
    global _WHOOSH_HASH_READER_INIT
    if _filetables.HashReader.__init__ is not _hash_reader_init:
        try:
            check_whoosh("whoosh.filedb.filetables")
        except RuntimeError as exc:
            warnings.warn(f"{exc}; Whoosh's HashReader reads its directory entry by entry", RuntimeWarning)
            return
        _WHOOSH_HASH_READER_INIT = _filetables.HashReader.__init__
        _filetables.HashReader.__init__ = _hash_reader_init
