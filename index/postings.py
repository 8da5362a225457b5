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

`tests/test_segment.py` compares everything a reader sees with what Whoosh's writer writes.
"""
from __future__ import annotations

import zlib

import numpy as np

from index.whoosh_wall import BLOCK_LIMIT as BLOCK, COMPRESSION, POSTINGS_MAGIC, TERM_INFO

COMPRESS_FROM = 512    # shorter block data is stored uncompressed (zlib setup costs more than it saves)
assert TERM_INFO.itemsize == 35   # W3TermInfo's head (!BfIBBfII) and the extent of the postings (!qi)

_MAGIC = np.frombuffer(POSTINGS_MAGIC, np.uint8)
_K, _M, _J = ord("K"), ord("M"), ord("J")             # BININT1, BININT2, BININT
_G, _N, _C, _B = ord("G"), ord("N"), ord("C"), ord("B")  # BINFLOAT, NONE, SHORT_BINBYTES, BINBYTES
_MARK, _TUPLE, _STOP = ord("("), ord("t"), ord(".")
_LIST_HEAD = np.frombuffer(b"\x80\x02]q\x00", np.uint8)  # PROTO 2, EMPTY_LIST, BINPUT 0: as pickle.dumps(list, 2)
_APPEND, _APPENDS = ord("a"), ord("e")
_TUPLE3 = 0x87


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
    n_terms = len(bounds) - 1
    if n_terms < 1:
        return b"", np.zeros(0, TERM_INFO)
    per_term = np.diff(bounds)
    # blocks: each term's postings cut every BLOCK
    nblocks = (per_term + BLOCK - 1) // BLOCK
    first_block = _exclusive(nblocks)
    block_term = np.repeat(np.arange(n_terms), nblocks)
    kth = np.arange(len(block_term)) - first_block[block_term]
    bstart = bounds[:-1][block_term] + BLOCK * kth
    bcount = np.minimum(bstart + BLOCK, bounds[1:][block_term]) - bstart
    last = kth == nblocks[block_term] - 1
    lastid = docs[bstart + bcount - 1]
    bmaxw = np.maximum.reduceat(weights, bstart)
    bminw = np.minimum.reduceat(weights, bstart)
    bminl = np.minimum.reduceat(lengths, bstart)
    bmaxl = np.maximum.reduceat(lengths, bstart)

    # the data tuple: ((doc deltas from 0 within the block), weights, values)
    mids = docs.copy()
    mids[1:] -= docs[:-1]
    mids[bstart] = docs[bstart]
    id_sizes = _int_sizes(mids)
    ids_bytes = np.add.reduceat(id_sizes, bstart)
    ones = (bminw == 1.0) & (bmaxw == 1.0)
    same = bminw == bmaxw
    w_bytes = np.where(ones, 1, np.where(same, 9, 2 + 9 * bcount))   # None | one float | a tuple of floats
    if positions is not None:
        freqs, deltas = (a.astype(np.int64, copy=False) for a in positions)
        pstart = _exclusive(freqs)                # each posting's first position
        pos_sizes = _int_sizes(deltas)
        pos_bytes = np.add.reduceat(pos_sizes, pstart)
        multi = freqs > 1
        vlen = 4 + len(_LIST_HEAD) + pos_bytes + np.where(multi, 3, 2)   # count, list pickle
    elif values is not None:
        data, vlen = values
        vlen = vlen.astype(np.int64, copy=False)
    as_tuple = positions is not None or (values is not None and not joined)   # else one bytes object, or None
    if as_tuple:
        vhead = _bytes_head_sizes(vlen)
        item = vhead + vlen
        v_bytes = 2 + np.add.reduceat(item, bstart)                        # a tuple of bytes
    elif values is not None:
        block_vlen = np.add.reduceat(vlen, bstart)
        v_bytes = _bytes_head_sizes(block_vlen) + block_vlen               # one bytes object
    else:
        v_bytes = np.ones(len(bstart), np.int64)                           # None
    data_len = 3 + ids_bytes + 1 + w_bytes + v_bytes + 2
    info_len = 22 + _int_sizes(lastid)
    block_len = 4 + info_len + data_len
    bo = _exclusive(block_len) + 4 * (block_term + 1)     # each term's blocks follow its 4-byte header
    buf = np.zeros(int(bo[-1] + block_len[-1]), np.uint8)

    term_at = bo[first_block] - 4
    _put_bytes(buf, term_at, np.broadcast_to(_MAGIC, (n_terms, 4)))
    signed = np.where(last, -1, 1) * (info_len + data_len)
    _put_bytes(buf, bo, signed.astype(">i4").view(np.uint8).reshape(-1, 4))
    # the info tuple: (count, last id, max weight, compression, min length byte, max length byte)
    io = bo + 4
    buf[io] = 0x80
    buf[io + 1] = 2
    buf[io + 2] = _MARK
    buf[io + 3] = _K
    buf[io + 4] = bcount
    _put_ints(buf, io + 5, lastid)
    at = io + 5 + _int_sizes(lastid)
    buf[at] = _G
    _put_bytes(buf, at + 1, bmaxw.astype(">f8").view(np.uint8).reshape(-1, 8))
    buf[at + 9] = _K
    comp_at = at + 10          # the compression level: 0 unless set below
    buf[at + 11] = _K
    buf[at + 12] = bminl
    buf[at + 13] = _K
    buf[at + 14] = bmaxl
    buf[at + 15] = _TUPLE
    buf[at + 16] = _STOP
    # the data
    do = io + info_len
    buf[do] = 0x80
    buf[do + 1] = 3
    buf[do + 2] = _MARK
    posting_block = np.repeat(np.arange(len(bstart)), bcount)
    _put_ints(buf, do[posting_block] + 3 + _within(id_sizes, bstart), mids)
    wo = do + 3 + ids_bytes
    buf[wo] = _TUPLE
    wo += 1
    buf[wo[ones]] = _N
    one = same & ~ones
    buf[wo[one]] = _G
    _put_bytes(buf, wo[one] + 1, bmaxw[one].astype(">f8").view(np.uint8).reshape(-1, 8))
    varied = np.flatnonzero(~same)
    if len(varied):
        buf[wo[varied]] = _MARK
        buf[wo[varied] + w_bytes[varied] - 1] = _TUPLE
        in_varied = np.repeat(~same, bcount)
        at = wo[posting_block[in_varied]] + 1 + 9 * _ranges(bcount)[in_varied]
        buf[at] = _G
        _put_bytes(buf, at + 1, weights[in_varied].astype(">f8").view(np.uint8).reshape(-1, 8))
    vo = wo + w_bytes
    if as_tuple:
        buf[vo] = _MARK
        buf[vo + v_bytes - 1] = _TUPLE
        item_at = vo[posting_block] + 1 + _within(item, bstart)
        _put_bytes_heads(buf, item_at, vlen)
        po = item_at + vhead                      # each value's bytes
    elif values is not None:
        _put_bytes_heads(buf, vo, block_vlen)
        po = (vo + _bytes_head_sizes(block_vlen))[posting_block] + _within(vlen, bstart)
    else:
        buf[vo] = _N
    if positions is not None:                     # the positions count, then the pickled list of deltas
        _put_bytes(buf, po, freqs.astype(">u4").view(np.uint8).reshape(-1, 4))
        _put_bytes(buf, po + 4, np.broadcast_to(_LIST_HEAD, (len(po), len(_LIST_HEAD))))
        head = po + 4 + len(_LIST_HEAD)
        buf[head[multi]] = _MARK
        ints_at = head + multi
        owner = np.repeat(np.arange(len(freqs)), freqs)
        _put_ints(buf, ints_at[owner] + _within(pos_sizes, pstart), deltas)
        end = ints_at + pos_bytes
        buf[end] = np.where(multi, _APPENDS, _APPEND)
        buf[end + 1] = _STOP
    elif values is not None:
        buf[np.repeat(po, vlen) + _ranges(vlen)] = data
    buf[vo + v_bytes] = _TUPLE3
    buf[vo + v_bytes + 1] = _STOP

    # blocks worth compressing, one by one; the bytes between them are copied as they are
    saved = np.zeros(len(bstart), np.int64)
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
        buf[bo[b]:bo[b] + 4] = np.frombuffer((-length if last[b] else length).to_bytes(4, "big", signed=True),
                                             np.uint8)
        buf[comp_at[b]] = COMPRESSION
        pieces += (view[done:start], packed)
        done = start + size
    if pieces:
        pieces.append(view[done:])
        blob = b"".join(pieces)
    else:
        blob = buf.tobytes()
    saved_before = _exclusive(saved)                      # bytes saved by blocks before each block

    infos = np.zeros(n_terms, TERM_INFO)
    starts = bounds[:-1]
    infos["weight"] = np.add.reduceat(weights, starts)
    infos["df"] = per_term
    infos["minlen"] = np.minimum.reduceat(lengths, starts)
    infos["maxlen"] = np.maximum.reduceat(lengths, starts)
    infos["maxweight"] = np.maximum.reduceat(weights, starts)
    infos["minid"] = docs[starts]
    infos["maxid"] = docs[bounds[1:] - 1]
    infos["offset"] = term_at - saved_before[first_block]
    infos["length"] = np.add.reduceat(block_len, first_block) + 4 - np.add.reduceat(saved, first_block)
    return blob, infos


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
