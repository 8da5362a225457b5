"""W3 posting blocks and term infos for many terms at once, assembled as bytes with numpy.

Whoosh 2.7.4's W3 codec stores a term's postings as blocks of up to 128 postings, each one a length, a pickled
info tuple and a pickled data tuple (doc number deltas, weights, values), the data compressed when large. Written
term by term, block by block, that is a dozen Python calls and a pickle per block, and a pickle per posting for
its positions: most of the cost of flushing a segment. Here the pickles are written directly: every number's
opcode and bytes go to offsets computed with numpy for a whole slice of terms, so the cost is per array, not per
posting. Only blocks of COMPRESS_FROM bytes or more are handled one by one (zlib).

What is written is what `pickle.loads` reads back as the tuples Whoosh's W3PostingsWriter pickles (no memo
entries, protocol 2 opcodes for the infos and positions, protocol 3 for the data tuple's bytes values), so Whoosh's
own W3 reader and newsdex's search layer read it unchanged. The positions values are byte for byte Whoosh's
Positions encoding for up to 1000 positions per posting (pickle's batch size; beyond, one batch: the same list).
The constants of the format (block size, compression level, magic, term info) come from index/whoosh_wall.py.

The layout (sizes in bytes; an int is pickled as BININT1 + 1 byte below 256, BININT2 + 2 below 65536, else
BININT + 4: 2, 3 or 5 bytes, `_int_sizes`; a float as BINFLOAT + 8 big-endian bytes: 9):

A term's postings (the extent its term info points at):

| size         | what                                                                                  |
|--------------|---------------------------------------------------------------------------------------|
| 4            | `W3Bl` (MAGIC_SIZE)                                                                   |
| per block: 4 | the size of the rest of the block, big-endian signed; negative for the term's last    |
| 22 + L       | the info tuple, pickled (below)                                                       |
| D            | the data tuple, pickled (below), or its zlib when the info's compression is not 0     |

The info tuple `(count, last id, max weight, compression, min length byte, max length byte)`, from its first
byte (L: the size of the last id as a pickled int):

| offset  | size | what                                       | name                |
|---------|------|--------------------------------------------|---------------------|
| 0       | 3    | PROTO 2, MARK                              |                     |
| 3       | 2    | BININT1 count (at most 128)                | INFO_COUNT          |
| 5       | L    | the last id                                | INFO_LAST_ID        |
| 5+L     | 9    | BINFLOAT max weight                        | + TAIL_MAX_WEIGHT   |
| 14+L    | 2    | BININT1 compression (0, or COMPRESSION)    | + TAIL_COMPRESSION  |
| 16+L    | 2    | BININT1 min length byte                    | + TAIL_MIN_LENGTH   |
| 18+L    | 2    | BININT1 max length byte                    | + TAIL_MAX_LENGTH   |
| 20+L    | 2    | TUPLE, STOP                                | + TAIL_END          |

The data tuple `(doc id deltas, weights, values)` (I, W, V: the sizes of the three parts):

| offset    | size | what                                                                                |
|-----------|------|-------------------------------------------------------------------------------------|
| 0         | 3    | PROTO 3, MARK (DATA_HEAD)                                                            |
| 3         | I    | each posting's doc id minus the previous one's in the block (the first: minus 0)     |
| 3+I       | 1    | TUPLE                                                                                |
| 4+I       | W    | weights: NONE (all 1.0: 1), one BINFLOAT (all equal: 9), or MARK, a BINFLOAT each, TUPLE (2 + 9n) |
| 4+I+W     | V    | values: NONE (no values: 1); one bytes object (fixed-size values joined); or MARK, a bytes object each, TUPLE |
| 4+I+W+V   | 2    | TUPLE3, STOP (DATA_END)                                                              |

A bytes object is SHORT_BINBYTES + 1-byte size below 256 bytes, else BINBYTES + 4-byte size (`_bytes_head_sizes`),
then the bytes. A posting's positions value (one of the values' bytes objects):

| offset | size | what                                                                 |
|--------|------|----------------------------------------------------------------------|
| 0      | 4    | the number of positions, big-endian                                  |
| 4      | 5    | PROTO 2, EMPTY_LIST, BINPUT 0 (LIST_HEAD)                            |
| 9      | 0/1  | MARK, when there are several positions                               |
|        | P    | each position minus the previous one (the first as it is)            |
|        | 2    | APPENDS (several) or APPEND (one), STOP                               |

`tests/test_segment.py` compares everything a reader sees with what Whoosh's writer writes.
"""
from __future__ import annotations

import pickle
import zlib

import numpy as np

from index.whoosh_wall import BLOCK_LIMIT as BLOCK, COMPRESSION, POSTINGS_MAGIC, TERM_INFO

COMPRESS_FROM = 512    # shorter block data is stored uncompressed (zlib setup costs more than it saves)
assert TERM_INFO.itemsize == 35   # W3TermInfo's head (!BfIBBfII) and the extent of the postings (!qi)

_MAGIC = np.frombuffer(POSTINGS_MAGIC, np.uint8)
_K, _M, _J = ord("K"), ord("M"), ord("J")             # BININT1, BININT2, BININT
_G, _N, _C, _B = ord("G"), ord("N"), ord("C"), ord("B")  # BINFLOAT, NONE, SHORT_BINBYTES, BINBYTES
_MARK, _TUPLE, _STOP = ord("("), ord("t"), ord(".")
_PROTO = 0x80
_LIST_HEAD = np.frombuffer(b"\x80\x02]q\x00", np.uint8)  # PROTO 2, EMPTY_LIST, BINPUT 0: as pickle.dumps(list, 2)
_APPEND, _APPENDS = ord("a"), ord("e")
_TUPLE3 = 0x87

# Sizes and offsets of the layout (see the tables above).
MAGIC_SIZE = len(POSTINGS_MAGIC)   # before a term's first block
BLOCK_HEAD = 4                     # a block's signed size
FLOAT = 9                          # BINFLOAT and 8 bytes
INFO_COUNT = 3                     # the info tuple: BININT1 count, after PROTO 2 and MARK
INFO_LAST_ID = 5                   # ... the last id
TAIL_MAX_WEIGHT = 0                # ... then, from the end of the last id: BINFLOAT max weight
TAIL_COMPRESSION = 9               # BININT1 compression
TAIL_MIN_LENGTH = 11               # BININT1 min length byte
TAIL_MAX_LENGTH = 13               # BININT1 max length byte
TAIL_END = 15                      # TUPLE, STOP
INFO_FIXED = INFO_LAST_ID + TAIL_END + 2   # an info tuple's size but its last id's (22)
DATA_HEAD = 3                      # the data tuple: PROTO 3, MARK, then the ids
DATA_END = 2                       # TUPLE3, STOP
POS_COUNT = 4                      # a positions value: the count, then the pickled list
POS_LIST = POS_COUNT + len(_LIST_HEAD)   # where the list's items (or its MARK) begin


def _exclusive(sizes: np.ndarray) -> np.ndarray:
    """Offsets of consecutive items of these sizes, from 0."""
    out = np.empty(len(sizes), np.int64)
    if len(sizes):
        out[0] = 0
        np.cumsum(sizes[:-1], out=out[1:])
    return out


def _within(sizes: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Offsets of items of these sizes from the start of their group (groups begin at the indexes `starts`)."""
    offsets = _exclusive(sizes)
    counts = np.diff(np.append(starts, len(sizes)))
    return offsets - np.repeat(offsets[starts], counts)


def _ranges(sizes: np.ndarray) -> np.ndarray:
    """0, 1, ... sizes[i] - 1 for each item, concatenated."""
    return np.arange(int(sizes.sum())) - np.repeat(_exclusive(sizes), sizes)


def _int_sizes(values: np.ndarray) -> np.ndarray:
    """Bytes pickle uses for each non-negative int below 2**31: opcode and 1, 2 or 4 bytes."""
    return np.where(values < 256, 2, np.where(values < 65536, 3, 5))


def _put_ints(buf: np.ndarray, at: np.ndarray, values: np.ndarray) -> None:
    """Write non-negative ints (below 2**31) as pickle writes them (little-endian), at offsets `at`."""
    small = values < 256
    a, v = at[small], values[small]
    buf[a] = _K
    buf[a + 1] = v
    mid = (values >= 256) & (values < 65536)
    a, v = at[mid], values[mid]
    buf[a] = _M
    buf[a + 1] = v & 255
    buf[a + 2] = v >> 8
    big = values >= 65536
    if big.any():
        a, v = at[big], values[big]
        buf[a] = _J
        buf[a[:, None] + np.arange(1, 5)] = v.astype("<i4").view(np.uint8).reshape(-1, 4)


def _bytes_head_sizes(sizes: np.ndarray) -> np.ndarray:
    """Bytes pickle uses before a bytes object of each size: SHORT_BINBYTES and 1 byte, or BINBYTES and 4."""
    return np.where(sizes < 256, 2, 5)


def _put_bytes_heads(buf: np.ndarray, at: np.ndarray, sizes: np.ndarray) -> None:
    """Write the opcode and length that begin a pickled bytes object of each size, at offsets `at`."""
    short = sizes < 256
    buf[at[short]] = _C
    buf[at[short] + 1] = sizes[short]
    if not short.all():
        long_ = ~short
        buf[at[long_]] = _B
        _put_bytes(buf, at[long_] + 1, sizes[long_].astype("<u4").view(np.uint8).reshape(-1, 4))


def _put_bytes(buf: np.ndarray, at: np.ndarray, rows: np.ndarray) -> None:
    """Write the rows of a 2-D uint8 array at offsets `at`."""
    buf[at[:, None] + np.arange(rows.shape[1])] = rows


class _Blocks:
    """The terms' postings cut into blocks of BLOCK: per block its term, first posting, count, whether it is its
    term's last, its last id and its weight and length extremes; per posting its block."""

    __slots__ = ("per_term", "first", "term", "start", "count", "last", "last_id", "max_weight", "min_weight",
                 "min_length", "max_length", "of_posting")

    def __init__(self, bounds: np.ndarray, docs: np.ndarray, weights: np.ndarray, lengths: np.ndarray):
        self.per_term = per_term = np.diff(bounds)
        nblocks = (per_term + BLOCK - 1) // BLOCK
        self.first = first = _exclusive(nblocks)              # each term's first block
        self.term = term = np.repeat(np.arange(len(per_term)), nblocks)
        kth = np.arange(len(term)) - first[term]
        self.start = start = bounds[:-1][term] + BLOCK * kth
        self.count = count = np.minimum(start + BLOCK, bounds[1:][term]) - start
        self.last = kth == nblocks[term] - 1
        self.last_id = docs[start + count - 1]
        self.max_weight = np.maximum.reduceat(weights, start)
        self.min_weight = np.minimum.reduceat(weights, start)
        self.min_length = np.minimum.reduceat(lengths, start)
        self.max_length = np.maximum.reduceat(lengths, start)
        self.of_posting = np.repeat(np.arange(len(start)), count)


# --- the parts of a block, each with its sizes and its writer -----------------------------------------------------

def _write_term_heads(buf: np.ndarray, term_at: np.ndarray) -> None:
    """The magic before each term's first block."""
    _put_bytes(buf, term_at, np.broadcast_to(_MAGIC, (len(term_at), MAGIC_SIZE)))


def _write_block_sizes(buf: np.ndarray, bo: np.ndarray, last: np.ndarray, sizes: np.ndarray) -> None:
    """Each block's size after its head, negative for a term's last block."""
    signed = np.where(last, -1, 1) * sizes
    _put_bytes(buf, bo, signed.astype(">i4").view(np.uint8).reshape(-1, 4))


def _info_sizes(b: _Blocks) -> np.ndarray:
    return INFO_FIXED + _int_sizes(b.last_id)


def _write_infos(buf: np.ndarray, io: np.ndarray, b: _Blocks) -> np.ndarray:
    """The info tuples (count, last id, max weight, compression 0, min length byte, max length byte), at `io`;
    returns where each one's compression byte is (set when the block's data is compressed)."""
    buf[io] = _PROTO
    buf[io + 1] = 2
    buf[io + 2] = _MARK
    buf[io + INFO_COUNT] = _K
    buf[io + INFO_COUNT + 1] = b.count
    _put_ints(buf, io + INFO_LAST_ID, b.last_id)
    tail = io + INFO_LAST_ID + _int_sizes(b.last_id)
    buf[tail + TAIL_MAX_WEIGHT] = _G
    _put_bytes(buf, tail + TAIL_MAX_WEIGHT + 1, b.max_weight.astype(">f8").view(np.uint8).reshape(-1, 8))
    buf[tail + TAIL_COMPRESSION] = _K
    buf[tail + TAIL_MIN_LENGTH] = _K
    buf[tail + TAIL_MIN_LENGTH + 1] = b.min_length
    buf[tail + TAIL_MAX_LENGTH] = _K
    buf[tail + TAIL_MAX_LENGTH + 1] = b.max_length
    buf[tail + TAIL_END] = _TUPLE
    buf[tail + TAIL_END + 1] = _STOP
    return tail + TAIL_COMPRESSION + 1


class _Ids:
    """The doc id deltas of each block, and the TUPLE that closes them."""

    def __init__(self, docs: np.ndarray, b: _Blocks):
        self.deltas = deltas = docs.copy()
        deltas[1:] -= docs[:-1]
        deltas[b.start] = docs[b.start]
        self.sizes = _int_sizes(deltas)
        self.size = np.add.reduceat(self.sizes, b.start) + 1

    def write(self, buf: np.ndarray, at: np.ndarray, b: _Blocks) -> None:
        _put_ints(buf, at[b.of_posting] + _within(self.sizes, b.start), self.deltas)
        buf[at + self.size - 1] = _TUPLE


class _Weights:
    """Each block's weights: NONE when all are 1.0, one float when all are equal, else a tuple of floats."""

    def __init__(self, weights: np.ndarray, b: _Blocks):
        self.weights = weights
        self.ones = (b.min_weight == 1.0) & (b.max_weight == 1.0)
        self.same = b.min_weight == b.max_weight
        self.size = np.where(self.ones, 1, np.where(self.same, FLOAT, 2 + FLOAT * b.count))

    def write(self, buf: np.ndarray, at: np.ndarray, b: _Blocks) -> None:
        buf[at[self.ones]] = _N
        one = self.same & ~self.ones
        buf[at[one]] = _G
        _put_bytes(buf, at[one] + 1, b.max_weight[one].astype(">f8").view(np.uint8).reshape(-1, 8))
        varied = np.flatnonzero(~self.same)
        if len(varied):
            buf[at[varied]] = _MARK
            buf[at[varied] + self.size[varied] - 1] = _TUPLE
            in_varied = np.repeat(~self.same, b.count)
            each = at[b.of_posting[in_varied]] + 1 + FLOAT * _ranges(b.count)[in_varied]
            buf[each] = _G
            _put_bytes(buf, each + 1, self.weights[in_varied].astype(">f8").view(np.uint8).reshape(-1, 8))


class _NoValues:
    """NONE: a format without values (Existence)."""

    def __init__(self, b: _Blocks):
        self.size = np.ones(len(b.start), np.int64)

    def write(self, buf: np.ndarray, at: np.ndarray, b: _Blocks) -> None:
        buf[at] = _N


class _JoinedValues:
    """One bytes object per block: the block's values joined (a format of fixed-size values)."""

    def __init__(self, data: np.ndarray, sizes: np.ndarray, b: _Blocks):
        self.data, self.sizes = data, sizes
        self.block_sizes = np.add.reduceat(sizes, b.start)
        self.size = _bytes_head_sizes(self.block_sizes) + self.block_sizes

    def write(self, buf: np.ndarray, at: np.ndarray, b: _Blocks) -> None:
        _put_bytes_heads(buf, at, self.block_sizes)
        each = (at + _bytes_head_sizes(self.block_sizes))[b.of_posting] + _within(self.sizes, b.start)
        buf[np.repeat(each, self.sizes) + _ranges(self.sizes)] = self.data


class _ValueTuple:
    """A tuple of bytes objects per block, one per posting: MARK, each (its head, its bytes), TUPLE."""

    def __init__(self, sizes: np.ndarray, b: _Blocks):
        self.sizes = sizes
        self.heads = _bytes_head_sizes(sizes)
        self.items = self.heads + sizes
        self.size = 2 + np.add.reduceat(self.items, b.start)

    def write(self, buf: np.ndarray, at: np.ndarray, b: _Blocks) -> None:
        buf[at] = _MARK
        buf[at + self.size - 1] = _TUPLE
        item_at = at[b.of_posting] + 1 + _within(self.items, b.start)
        _put_bytes_heads(buf, item_at, self.sizes)
        self.write_values(buf, item_at + self.heads)

    def write_values(self, buf: np.ndarray, at: np.ndarray) -> None:
        raise NotImplementedError


class _BytesValues(_ValueTuple):
    """Each posting's value bytes as given."""

    def __init__(self, data: np.ndarray, sizes: np.ndarray, b: _Blocks):
        super().__init__(sizes, b)
        self.data = data

    def write_values(self, buf: np.ndarray, at: np.ndarray) -> None:
        buf[np.repeat(at, self.sizes) + _ranges(self.sizes)] = self.data


class _Positions(_ValueTuple):
    """Each posting's positions, as Whoosh's Positions format encodes them: the count, then the pickled list of
    deltas (the first absolute)."""

    def __init__(self, freqs: np.ndarray, deltas: np.ndarray, b: _Blocks):
        self.freqs, self.deltas = freqs, deltas
        self.first = _exclusive(freqs)                       # each posting's first position
        self.delta_sizes = _int_sizes(deltas)
        self.ints_size = np.add.reduceat(self.delta_sizes, self.first)
        self.multi = freqs > 1
        super().__init__(POS_LIST + self.multi + self.ints_size + 2, b)

    def write_values(self, buf: np.ndarray, at: np.ndarray) -> None:
        freqs, multi = self.freqs, self.multi
        _put_bytes(buf, at, freqs.astype(">u4").view(np.uint8).reshape(-1, 4))
        _put_bytes(buf, at + POS_COUNT, np.broadcast_to(_LIST_HEAD, (len(at), len(_LIST_HEAD))))
        head = at + POS_LIST
        buf[head[multi]] = _MARK
        ints_at = head + multi
        owner = np.repeat(np.arange(len(freqs)), freqs)
        _put_ints(buf, ints_at[owner] + _within(self.delta_sizes, self.first), self.deltas)
        end = ints_at + self.ints_size
        buf[end] = np.where(multi, _APPENDS, _APPEND)
        buf[end + 1] = _STOP


def _write_data_heads(buf: np.ndarray, do: np.ndarray) -> None:
    buf[do] = _PROTO
    buf[do + 1] = 3
    buf[do + 2] = _MARK


def _write_data_ends(buf: np.ndarray, at: np.ndarray) -> None:
    buf[at] = _TUPLE3
    buf[at + 1] = _STOP


def _compress_blocks(buf: np.ndarray, bo: np.ndarray, do: np.ndarray, info_len: np.ndarray, data_len: np.ndarray,
                     comp_at: np.ndarray, last: np.ndarray, compress) -> tuple[bytes, np.ndarray]:
    """The bytes, with each block's data of COMPRESS_FROM bytes or more compressed when that makes it smaller (its
    size and compression byte set to match); and the bytes each block saved."""
    saved = np.zeros(len(bo), np.int64)
    pieces = []
    done = 0
    view = memoryview(buf)
    for b in np.flatnonzero(data_len >= COMPRESS_FROM).tolist():
        start, size = int(do[b]), int(data_len[b])
        packed = compress(view[start:start + size])
        if len(packed) >= size:
            continue
        saved[b] = size - len(packed)
        length = int(info_len[b]) + len(packed)
        buf[bo[b]:bo[b] + BLOCK_HEAD] = np.frombuffer((-length if last[b] else length).to_bytes(4, "big", signed=True),
                                                      np.uint8)
        buf[comp_at[b]] = COMPRESSION
        pieces += (view[done:start], packed)   # the bytes between compressed blocks are copied as they are
        done = start + size
    if not pieces:
        return buf.tobytes(), saved
    pieces.append(view[done:])
    return b"".join(pieces), saved


def _term_infos(bounds: np.ndarray, docs: np.ndarray, weights: np.ndarray, lengths: np.ndarray, b: _Blocks,
                term_at: np.ndarray, block_len: np.ndarray, saved: np.ndarray) -> np.ndarray:
    """Each term's info: weight, doc frequency, length and weight extremes, first and last id, and the extent of
    its postings (after compression)."""
    saved_before = _exclusive(saved)                      # bytes saved by blocks before each block
    infos = np.zeros(len(b.per_term), TERM_INFO)
    starts = bounds[:-1]
    infos["weight"] = np.add.reduceat(weights, starts)
    infos["df"] = b.per_term
    infos["minlen"] = np.minimum.reduceat(lengths, starts)
    infos["maxlen"] = np.maximum.reduceat(lengths, starts)
    infos["maxweight"] = np.maximum.reduceat(weights, starts)
    infos["minid"] = docs[starts]
    infos["maxid"] = docs[bounds[1:] - 1]
    infos["offset"] = term_at - saved_before[b.first]
    infos["length"] = np.add.reduceat(block_len, b.first) + MAGIC_SIZE - np.add.reduceat(saved, b.first)
    return infos


def encode_postings(bounds: np.ndarray, docs: np.ndarray, weights: np.ndarray, lengths: np.ndarray, compress, *,
                    positions: tuple | None = None, values: tuple | None = None,
                    joined: bool = False) -> tuple[bytes, np.ndarray]:
    """The W3 postings of consecutive terms, and their term infos (extents relative to the start of the bytes).

    bounds: T+1 indexes into the postings, term t's postings being bounds[t]:bounds[t+1] (at least one each);
    docs, weights, lengths: each posting's document (ascending within a term), weight and the length byte of its
    document (zeros for a field without lengths). `compress(data) -> bytes` compresses a block's data.

    The postings' values, as the field's format stores them, are one of:
    - positions=(freqs, deltas): the number of positions of each posting and the positions, posting after
      posting, each posting's first position absolute and the others as deltas (Whoosh's Positions encoding is
      written here);
    - values=(data, sizes): each posting's value bytes, concatenated (uint8) and their sizes: a tuple of bytes per
      block, or with `joined` (a format of fixed-size values, such as Frequency) one bytes object per block;
    - neither: no values (Existence).
    """
    docs = docs.astype(np.int64, copy=False)
    weights = weights.astype(np.float64, copy=False)
    lengths = lengths.astype(np.int64, copy=False)
    if len(docs) and int(docs.max()) >= 2 ** 31:
        raise ValueError("document numbers must be below 2**31")
    if len(bounds) < 2:
        return b"", np.zeros(0, TERM_INFO)
    b = _Blocks(bounds, docs, weights, lengths)
    if positions is not None:
        vals = _Positions(*(a.astype(np.int64, copy=False) for a in positions), b)
    elif values is not None:
        data, sizes = values
        vals = (_JoinedValues if joined else _BytesValues)(data, sizes.astype(np.int64, copy=False), b)
    else:
        vals = _NoValues(b)
    ids, ws = _Ids(docs, b), _Weights(weights, b)
    # where everything goes: per term its magic, then its blocks; per block its size, info and data
    info_len = _info_sizes(b)
    data_len = DATA_HEAD + ids.size + ws.size + vals.size + DATA_END
    block_len = BLOCK_HEAD + info_len + data_len
    bo = _exclusive(block_len) + MAGIC_SIZE * (b.term + 1)   # each block (a term's blocks follow its magic)
    term_at = bo[b.first] - MAGIC_SIZE
    io = bo + BLOCK_HEAD                                     # each info tuple
    do = io + info_len                                       # each data tuple
    wo = do + DATA_HEAD + ids.size                           # its weights
    vo = wo + ws.size                                        # its values
    buf = np.zeros(int(bo[-1] + block_len[-1]), np.uint8)

    _write_term_heads(buf, term_at)
    _write_block_sizes(buf, bo, b.last, info_len + data_len)
    comp_at = _write_infos(buf, io, b)
    _write_data_heads(buf, do)
    ids.write(buf, do + DATA_HEAD, b)
    ws.write(buf, wo, b)
    vals.write(buf, vo, b)
    _write_data_ends(buf, vo + vals.size)

    blob, saved = _compress_blocks(buf, bo, do, info_len, data_len, comp_at, b.last, compress)
    return blob, _term_infos(bounds, docs, weights, lengths, b, term_at, block_len, saved)


def compress(data, level: int = COMPRESSION) -> bytes:
    """zlib with an 8 KB window and small state: blocks and stored documents are a few KB, and zlib.compress's
    default 256 KB of state cost more to set up than compressing them does (zlib.decompress reads either)."""
    packer = zlib.compressobj(level, zlib.DEFLATED, 13, 5)
    return packer.compress(data) + packer.flush()


def term_records(keys: list[bytes], infos: np.ndarray, base: int) -> tuple[bytes, np.ndarray]:
    """The term file's records of these terms (!ii key and info lengths, the key, the info) and where each
    begins (from `base`)."""
    n = len(keys)
    klen = np.fromiter(map(len, keys), np.int64, n)
    size = 8 + klen + TERM_INFO.itemsize
    ro = _exclusive(size)
    total = int(ro[-1] + size[-1]) if n else 0
    buf = np.zeros(total, np.uint8)
    heads = np.empty((n, 2), ">i4")
    heads[:, 0] = klen
    heads[:, 1] = TERM_INFO.itemsize
    _put_bytes(buf, ro, heads.view(np.uint8).reshape(n, 8))
    allkeys = np.frombuffer(b"".join(keys), np.uint8)
    buf[np.repeat(ro + 8, klen) + _ranges(klen)] = allkeys
    _put_bytes(buf, ro + 8 + klen, infos.view(np.uint8).reshape(n, TERM_INFO.itemsize))
    return buf.tobytes(), ro + base


_MAX_BATCH = 1000   # pickle writes a list's items in batches of this many (MARK ... APPENDS each)


def decode_positions(data: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The positions values at `starts` (`sizes` bytes each) in `data` (uint8), decoded without a pickle each:
    (the number of positions of each value, the positions as Whoosh encodes them: each posting's first absolute,
    then deltas). The values' items are read in lockstep, one item of every value still reading per step, so the
    cost is per array and per item of the longest value. A value of more than _MAX_BATCH positions (pickle's
    batches) is unpickled. None when a value is not in this layout."""
    starts = np.asarray(starts, np.int64)
    sizes = np.asarray(sizes, np.int64)
    buf = np.concatenate([np.asarray(data, np.uint8), np.zeros(8, np.uint8)]).astype(np.int64)
    if len(starts) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if sizes.min() < POS_LIST + 4:   # shorter than one position's value (an empty value: not this layout)
        return None
    counts = (buf[starts] << 24) | (buf[starts + 1] << 16) | (buf[starts + 2] << 8) | buf[starts + 3]
    out_at = np.cumsum(counts) - counts
    out = np.zeros(int(counts.sum()), np.int64)
    long = counts > _MAX_BATCH
    cur = starts + POS_LIST + (counts > 1)
    active = np.flatnonzero(~long & (counts > 0))
    i = 0
    while len(active):
        c = cur[active]
        op = buf[c]
        if not np.all((op == _K) | (op == _M) | (op == _J)):
            return None
        value = (buf[c + 1] + np.where(op != _K, buf[c + 2] << 8, 0)
                 + np.where(op == _J, (buf[c + 3] << 16) | (buf[c + 4] << 24), 0))
        out[out_at[active] + i] = value
        cur[active] = c + np.where(op == _K, 2, np.where(op == _M, 3, 5))
        i += 1
        active = active[counts[active] > i]
    short = np.flatnonzero(~long & (counts > 0))
    ends = np.where(counts[short] > 1, _APPENDS, _APPEND)
    if not (np.array_equal(buf[cur[short]], ends) and np.all(buf[cur[short] + 1] == _STOP)
            and np.array_equal(cur[short] + 2, starts[short] + sizes[short])):
        return None
    raw = np.asarray(data, np.uint8)
    for k in np.flatnonzero(long).tolist():
        s = int(starts[k])
        items = pickle.loads(raw[s + POS_COUNT:s + int(sizes[k])].tobytes())
        if len(items) != counts[k]:
            return None
        out[out_at[k]:out_at[k] + counts[k]] = items
    return counts, out
