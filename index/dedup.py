"""Near-duplicate articles and the stories they form (syndicated copies of one wire story).

Two halves, split so the expensive one runs in the builder's worker processes:

- `signature(body) -> Signature` (pure, picklable; ~0.2 ms CPU for a 130-word article here): the body is
  normalised (NFKC, casefold, punctuation dropped; scripts without spaces cut into characters), cut into word
  7-shingles, and summarised by a 128-bin one-permutation MinHash (Li, Owen & Zhang 2012) with rotation
  densification for empty bins (Shrivastava & Li 2014), each bin keeping the low 16 bits of its minimum (b-bit
  MinHash, Li & Koenig 2010). Plus a hash of the whole normalised text for exact duplicates, and the sizes.
  Pure Python: numpy measured only ~30% faster on 380-word articles and not at all on 130-word ones.
- `StoryIndex` (main process; ~0.05-0.1 ms an article): an incremental clusterer. LSH over 32 bands of 2 bins finds
  candidates; each candidate's *story representative* (its first article) is then checked with the estimated
  similarity below. The story id of an article is the id of the first article of its story, so it never
  changes when copies join or leave, and documents already written never need rewriting.

When two bodies are one story (`Thresholds`: configurable, saved with the index; chosen on Reuters-21578 and
BBC News with bench/dedup.py, judged precision 0.96 / synthetic recall 0.98 there, so optimistic elsewhere):
  - the same normalised text (at least 8 words), whatever the dates; or
  - at least 30 words each, estimated containment of the shorter body's 7-shingles in the longer's >= 0.5,
    estimated Jaccard >= 0.2, and dated at most 3 days from the story's first article (when both are dated);
  - or, failing the first article, containment >= 0.8 and Jaccard >= 0.6 with one of the story's members.
Containment, not Jaccard alone, because the usual syndicated copy is the original with its last paragraphs cut
and a credit line added: its shingles are mostly inside the original while the Jaccard falls with the cut.
The Jaccard floor keeps a short text from joining a long one merely by being contained in it (a brief quoted in
a roundup). 7-word shingles rather than 5: templated wire items (contract awards, bond issues, money-market
notes) share 5-word runs between their names and numbers but fewer 7-word ones (at containment 0.5, 5-word
shingles gave 53 false pairs in 848, precision 0.938 / recall 0.990; 7-word ones 31 in 805, 0.961 / 0.982).
The date window stops recurring items (daily market notes, weekly reports) from chaining into one story; a
short exact copy (under 30 words: a bulletin) is held to the window too.
Only the first `MAX_TOKENS` words are shingled (bounds the cost of very long pieces; copies share their start).

Why representatives and not single-link: A~B and B~C does not make A~C. Joining through any member lets a
chain of follow-ups drift from one story into the next; comparing with the story's first article bounds every
member's distance from it. The candidates still come from every member's LSH buckets, and a near-exact copy of
a member (a copy of a copy) still joins, since it is as close to the first article as that member is.

Deleting an article leaves the story ids of the others unchanged; a deleted representative stays as the
story's anchor until the last member goes. Re-assigning an article id replaces its earlier version.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import string
import struct
import unicodedata
import zlib
from array import array
from dataclasses import asdict, dataclass
from itertools import chain, repeat
from operator import and_, eq
from datetime import datetime
from pathlib import Path
from typing import Optional

import numpy as np

from index.errors import NewsdexError

SHINGLE = 7          # words per shingle
BINS = 128           # MinHash bins (one-permutation hashing)
BANDS = 32           # LSH bands of ROWS bins each: band b uses bins b and b + BINS // 2
ROWS = 2
MAX_TOKENS = 600     # only the first words are shingled; the exact-duplicate hash covers the whole body
STORIES_FILE = "stories.bin"
# The story of every article whose story is another's, as JSON {article id: story id}, beside the Whoosh index.
# The builder's workers write documents before the parent has clustered them, so a document's STORY field holds
# its own id; this map, written before each commit, says which documents are copies (see read_story_map).
STORY_MAP_FILE = "story-map.json"
_NO_TIME = float("nan")

_MAGIC = b"NEWSDEX-STORIES\n"
_FORMAT = 1
# Shingles are hashed with Python's tuple-of-int hash: C speed, and (unlike str hashes) not salted per process.
# It is not promised across Python versions, so the file records a probe value and refuses to load on mismatch.
_HASH_PROBE = hash((1, 2, 3, 4, 5))

_PUNCT_BYTES = bytes(32 if chr(i) in string.punctuation else i for i in range(256))
_UNI_PUNCT = re.compile("[\u00a0-\u00bf\u2000-\u206f\u2190-\u2bff\u3000-\u303f\ufe30-\ufe4f\uff01-\uff0f"
                        "\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65]")
# Scripts written without spaces between words: each character is a token. Han, kana, and Thai, Lao, Myanmar,
# Khmer (Hangul has spaces: its words are tokens). Part of the signature: changing it means rebuilding.
_UNSPACED = ("\u2e80-\u2fdf\u3005-\u3007\u3040-\u30ff\u3100-\u312f\u31a0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
             "\uf900-\ufaff\uff66-\uff9f\U00020000-\U0002fa1f\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff")
_UNSPACED_CHAR = re.compile(f"[{_UNSPACED}]")
_UNSPACED_TOKEN = re.compile(f"[{_UNSPACED}]|[^\\s{_UNSPACED}]+")


class StoriesFileError(NewsdexError):
    """A stories file that cannot be used (corrupt, or written with other parameters)."""


@dataclass(frozen=True)
class Thresholds:
    """When two bodies count as one story (see the module docstring)."""

    containment: float = 0.5   # estimated share of the shorter body's shingles found in the longer one
    jaccard: float = 0.2       # estimated Jaccard floor (the shorter body is at least a fifth of the longer)
    window_days: Optional[float] = 3.0   # near (not exact) copies must be dated this close to the story's first
    member_containment: float = 0.8   # not close enough to a story's first article, but this close to one of
    member_jaccard: float = 0.6       # its members (a copy of a copy): joins the story too
    min_tokens: int = 30       # shorter bodies only match as exact duplicates
    min_exact_tokens: int = 8  # shorter still: never matched at all (a one-line body is no evidence)


@dataclass(frozen=True)
class Signature:
    """What the clusterer needs of a body: exact hash, sizes, and the MinHash bins (BINS x uint16 as bytes)."""

    exact: int
    tokens: int
    shingles: int
    bins: bytes


def tokens(body: str) -> list[bytes]:
    """The normalised words of a body (UTF-8 bytes): NFKC, casefolded, punctuation dropped; in scripts without
    spaces (Chinese, Japanese, Thai...) each character is a word."""
    text = unicodedata.normalize("NFKC", body).casefold()
    if not text.isascii():
        text = _UNI_PUNCT.sub(" ", text)
        if _UNSPACED_CHAR.search(text):
            return [t.encode() for t in _UNSPACED_TOKEN.findall(text.encode().translate(_PUNCT_BYTES).decode())]
    return text.encode().translate(_PUNCT_BYTES).split()


def signature(body: str) -> Signature:
    """The signature of an article body (pure; meant to run in the builder's worker processes)."""
    words = tokens(body)
    exact = int.from_bytes(hashlib.blake2b(b" ".join(words), digest_size=8).digest(), "little")
    ids = list(map(zlib.crc32, words[:MAX_TOKENS]))
    if len(ids) < SHINGLE:
        ids += [0] * (SHINGLE - len(ids))
    hashes = sorted(set(map(hash, zip(*(ids[k:] for k in range(SHINGLE))))), reverse=True)
    # One permutation hashing: the low 7 bits pick the bin, the rest orders; after the descending sort the last
    # (smallest) hash of each bin wins the dict.
    first = dict(zip(map(and_, hashes, repeat(BINS - 1)), hashes))
    return Signature(exact, len(words), len(hashes), _densified(first))


def signatures(bodies: list[str]) -> list[Signature]:
    """`signature` of many bodies at once, equal to it field for field (tests/test_dedup.py): the shingle hashes
    (CPython's tuple hash, computed with numpy), the per-bin minima and the densified bins of all the bodies come
    from a few array operations instead of Python work per shingle and per bin. The builder's workers use it."""
    words = [tokens(body) for body in bodies]
    exact = [int.from_bytes(hashlib.blake2b(b" ".join(w), digest_size=8).digest(), "little") for w in words]
    ids = []
    for w in words:
        got = list(map(zlib.crc32, w[:MAX_TOKENS]))
        ids.append(got + [0] * (SHINGLE - len(got)) if len(got) < SHINGLE else got)
    lens = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    if not len(lens):
        return []
    allids = np.fromiter(chain.from_iterable(ids), dtype=np.uint64, count=int(lens.sum()))
    hashes = _shingle_hashes(allids)                                   # for every start, across body borders
    starts = np.cumsum(lens) - lens
    doc = np.repeat(np.arange(len(ids)), lens)[:len(hashes)]
    keep = (np.arange(len(hashes)) - starts[doc]) <= (lens[doc] - SHINGLE)   # shingles inside one body
    hashes, doc = hashes[keep], doc[keep]
    order = np.lexsort((hashes, doc))                                  # by body, then hash ascending
    hashes, doc = hashes[order], doc[order]
    fresh = np.ones(len(hashes), bool)
    fresh[1:] = (hashes[1:] != hashes[:-1]) | (doc[1:] != doc[:-1])
    hashes, doc = hashes[fresh], doc[fresh]
    counts = np.bincount(doc, minlength=len(ids))                     # distinct shingles per body
    # the smallest hash of each (body, bin): its first in this order (unique keeps the first of equal keys)
    _, first = np.unique(doc * BINS + (hashes & (BINS - 1)), return_index=True)
    rows, cols, hashes = doc[first], hashes[first] & (BINS - 1), hashes[first]
    table = np.zeros((len(ids), BINS), np.int64)
    filled = np.zeros((len(ids), BINS), bool)
    table[rows, cols] = hashes
    filled[rows, cols] = True
    # an empty bin borrows the next filled bin to its right, circularly (as _densified does)
    col = np.arange(BINS)
    nxt = np.where(filled, col, 2 * BINS)
    nxt = np.minimum.accumulate(nxt[:, ::-1], axis=1)[:, ::-1]
    src = np.where(nxt >= 2 * BINS, nxt[:, :1], nxt)
    bins = ((np.take_along_axis(table, src, axis=1) >> 7) + ((src - col) % BINS) * 0x9E37) & 0xFFFF
    bins = bins.astype("<u2")
    return [Signature(e, len(w), int(c), row.tobytes()) for e, w, c, row in zip(exact, words, counts, bins)]


# CPython's tuple hash (xxHash-based, 64-bit): hash(tuple of SHINGLE word ids), for the batch path above.
_XXPRIME_1 = np.uint64(11400714785074694791)
_XXPRIME_2 = np.uint64(14029467366897019727)
_XXPRIME_5 = np.uint64(2870177450012600261)
_HASH_LEN = np.uint64(SHINGLE ^ (2870177450012600261 ^ 3527539))


def _shingle_hashes(ids: np.ndarray) -> np.ndarray:
    """hash(tuple(ids[i:i + SHINGLE])) for every i, as int64 (what the builtin returns for tuples of ints below
    2**61 - 1, which hash to themselves)."""
    n = len(ids) - SHINGLE + 1
    acc = np.full(n, _XXPRIME_5, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(SHINGLE):
            acc += ids[k:k + n] * _XXPRIME_2
            acc = (acc << np.uint64(31)) | (acc >> np.uint64(33))
            acc *= _XXPRIME_1
        acc += _HASH_LEN
    out = acc.view(np.int64)
    out[out == -1] = 1546275796   # CPython never returns -1 as a hash
    return out


def _densified(first: dict[int, int]) -> bytes:
    """BINS uint16 values; an empty bin borrows the next filled bin to its right (circularly), offset by distance."""
    if len(first) == BINS:
        return array("H", [(first[b] >> 7) & 0xFFFF for b in range(BINS)]).tobytes()
    out = [0] * BINS
    src = min(first)   # what the bins right of the last filled one wrap round to
    for b in range(BINS - 1, -1, -1):
        h = first.get(b)
        if h is not None:
            src, out[b] = b, (h >> 7) & 0xFFFF
        else:
            out[b] = ((first[src] >> 7) + ((src - b) % BINS) * 0x9E37) & 0xFFFF
    return array("H", out).tobytes()


def similarity(a: Signature, b: Signature) -> tuple[float, float]:
    """(estimated Jaccard, estimated containment of the smaller shingle set in the larger) of two signatures."""
    if a.exact == b.exact:
        return 1.0, 1.0
    return _estimate(array("H", a.bins), a.shingles, b.bins, b.shingles)


def _estimate(va: array, na: int, bins: bytes, nb: int) -> tuple[float, float]:
    j = sum(map(eq, va, array("H", bins))) / BINS
    small = min(na, nb)
    inter = j * (na + nb) / (1 + j)
    return j, min(1.0, inter / small) if small else 0.0


_MIX = 0x9E3779B97F4A7C15
_M64 = (1 << 64) - 1


def _keys(sig_bins: bytes) -> list[int]:
    """The 32-bit LSH keys of a signature: band b hashes bins b and b + BINS/2."""
    v = array("H", sig_bins)
    half = BINS // 2
    return [(((band << 32 | v[band] << 16 | v[band + half]) * _MIX) & _M64) >> 32 for band in range(BANDS)]


def _exact_key(exact: int) -> int:
    return (((BANDS << 32 | exact & 0xFFFFFFFF) * _MIX) & _M64) >> 32


class _Table:
    """A multimap of 32-bit keys to ordinals: open addressing in one array of uint64 (key << 32 | ordinal + 1),
    at most half full. 16 bytes an entry, where a dict of int lists costs over 100."""

    def __init__(self, entries: int = 0):
        size = 1024
        while size < 2 * entries:
            size *= 2
        self.slots = array("Q", bytes(8 * size))
        self.mask = size - 1
        self.count = 0

    def add(self, keys: list[int], o: int) -> None:
        """File ordinal `o` under each of `keys`."""
        if 2 * (self.count + len(keys)) > len(self.slots):
            self._grow(self.count + len(keys))
        slots, mask, entry = self.slots, self.mask, o + 1
        for key in keys:
            i = key & mask
            while slots[i]:
                i = (i + 1) & mask
            slots[i] = key << 32 | entry
        self.count += len(keys)

    def get(self, keys: list[int]) -> set[int]:
        """The ordinals filed under any of `keys`."""
        slots, mask = self.slots, self.mask
        out = set()
        for key in keys:
            i = key & mask
            while True:
                x = slots[i]
                if not x:
                    break
                if x >> 32 == key:
                    out.add((x & 0xFFFFFFFF) - 1)
                i = (i + 1) & mask
        return out

    def _grow(self, need: int) -> None:
        old = np.frombuffer(self.slots, dtype=np.uint64)
        entries = old[old != 0]
        self.__init__(2 * need)   # to a quarter full
        # Filled in order of home slot, each entry at the first free slot from its home: a run without gaps from
        # home to entry, which is all `get`'s probing needs (numpy; a Python loop per entry cost seconds).
        home = (entries >> np.uint64(32)) & np.uint64(self.mask)
        order = np.argsort(home, kind="stable")
        home, entries = home[order].astype(np.int64), entries[order]
        step = np.arange(len(entries))
        place = np.maximum.accumulate(home - step) + step if len(entries) else step
        if len(entries) and place[-1] > self.mask:   # a run wraps round the end: insert one by one
            for x in entries.tolist():
                self.add([x >> 32], (x & 0xFFFFFFFF) - 1)
            return
        table = np.zeros(self.mask + 1, dtype=np.uint64)
        table[place] = entries
        self.slots = array("Q", table.tobytes())
        self.count = len(entries)


class StoryIndex:
    """Incremental story clustering: `assign` an article, get its story id; `remove`, `save`, `load`.

    Entries are kept by ordinal (assignment order) in flat arrays: about 1 KB of memory an article, 300 bytes on
    disk. A story lives while it has a live member; its representative (the first article) stays as its anchor
    even after being removed.
    """

    def __init__(self, thresholds: Thresholds = Thresholds()):
        self.thresholds = thresholds
        self._ids: list[str] = []         # ordinal -> article id
        self._bins = bytearray()          # ordinal o -> its MinHash bins at [2 * BINS * o, 2 * BINS * (o + 1))
        self._exact = array("Q")          # ordinal -> exact hash
        self._tokens = array("I")
        self._shingles = array("I")
        self._time = array("d")           # ordinal -> publication time, epoch seconds (NaN: undated)
        self._rep = array("I")            # ordinal -> ordinal of its story's representative
        self._alive = bytearray()
        self._table = _Table()            # LSH band keys and exact keys -> ordinals
        self._last_keys = None            # (bins, LSH keys) of the last signature looked at
        self._by_id: dict[str, int] = {}  # live article id -> ordinal
        self._size: dict[int, int] = {}   # live story: representative ordinal -> live members
        self._story: dict[int, str] = {}  # live story: representative ordinal -> story id
        self._by_story: dict[str, int] = {}   # live story id -> representative ordinal

    # --- queries ---------------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, article_id: str) -> bool:
        return article_id in self._by_id

    def story_of(self, article_id: str) -> Optional[str]:
        """The story id of a live article (None if unknown)."""
        o = self._by_id.get(article_id)
        return None if o is None else self._story[self._rep[o]]

    def story_sizes(self) -> dict[str, int]:
        """{story id: number of live articles} for every live story (stories of one included)."""
        return {self._story[rep]: n for rep, n in self._size.items()}

    def members(self, story_id: str) -> list[str]:
        """The live article ids of a story in assignment order (a linear scan: for tests and tools)."""
        rep = self._by_story.get(story_id)
        if rep is None:
            return []
        return [self._ids[o] for o in range(rep, len(self._ids)) if self._rep[o] == rep and self._alive[o]]

    def duplicate_pairs(self) -> list[tuple[str, str]]:
        """(first article, later member) for every live member whose story's first article is live too."""
        return [(self._ids[rep], self._ids[o]) for o, rep in enumerate(self._rep)
                if rep != o and self._alive[o] and self._alive[rep]]

    def article_ids(self) -> list[str]:
        """The live article ids."""
        return list(self._by_id)

    def copies(self) -> dict[str, str]:
        """{article id: story id} of every live article whose story id is not its own id (the copies)."""
        return {aid: self._story[self._rep[o]] for aid, o in self._by_id.items()
                if self._story[self._rep[o]] != aid}

    def stats(self) -> dict[str, int]:
        """Articles, stories, and duplicates (the articles beyond the first of each story)."""
        return {"articles": len(self._by_id), "stories": len(self._size),
                "duplicates": len(self._by_id) - len(self._size)}

    # --- changes ---------------------------------------------------------------------------------------------

    def assign(self, article_id: str, body: str | Signature, published: Optional[datetime] = None) -> str:
        """Add an article (replacing an earlier version with the same id) and return its story id."""
        sig = body if isinstance(body, Signature) else signature(body)
        if article_id in self._by_id:
            self.remove(article_id)
        o = len(self._ids)
        when = published.timestamp() if published is not None else _NO_TIME
        rep = self.match(sig, when)
        if rep is None:
            rep = o
            story_id, n = article_id, 1
            while story_id in self._by_story:   # an edited first article that left its old story
                n += 1
                story_id = f"{article_id}~{n}"
            self._story[o] = story_id
            self._by_story[story_id] = o
        self._append(article_id, sig.exact, sig.tokens, sig.shingles, when, rep, True, sig.bins)
        self._by_id[article_id] = o
        self._size[rep] = self._size.get(rep, 0) + 1
        self._index(o)
        return self._story[rep]

    def restore(self, article_id: str, body: str | Signature, published: Optional[datetime], story_id: str) -> None:
        """Put an article back into the story its document already names, without matching (to rebuild a lost or
        stale stories file from the index: call it for every document in document order)."""
        sig = body if isinstance(body, Signature) else signature(body)
        if article_id in self._by_id:
            self.remove(article_id)
        o = len(self._ids)
        rep = self._by_story.get(story_id)
        if rep is None:
            rep = o
            self._story[o] = story_id
            self._by_story[story_id] = o
        when = published.timestamp() if published is not None else _NO_TIME
        self._append(article_id, sig.exact, sig.tokens, sig.shingles, when, rep, True, sig.bins)
        self._by_id[article_id] = o
        self._size[rep] = self._size.get(rep, 0) + 1
        self._index(o)

    def match(self, sig: Signature, when: float = _NO_TIME) -> Optional[int]:
        """The representative ordinal of the live story a signature (dated `when`, epoch seconds or NaN) belongs
        to, or None (a new story)."""
        t = self.thresholds
        window = t.window_days * 86400 if t.window_days is not None else None
        if sig.tokens < t.min_exact_tokens:
            return None
        same = [c for c in self._table.get([_exact_key(sig.exact)]) if self._exact[c] == sig.exact and self._usable(c)]
        if same:
            rep = self._rep[max(same)]   # the newest copy
            if sig.tokens >= t.min_tokens or window is None or not abs(when - self._time[rep]) > window:
                return rep   # a short text (a market bulletin) recurs: its exact copies keep to the window
        if sig.tokens < t.min_tokens:
            return None
        keys = self._keys_of(sig.bins)
        found = [c for c in self._table.get(keys) if self._usable(c)]
        reps = {self._rep[c] for c in found}
        va = array("H", sig.bins)
        best = self._closest(va, sig.shingles, when, reps, t.containment, t.jaccard, window)
        if best is None:   # not close to any story's first article: a near-exact copy of one of its members?
            best = self._closest(va, sig.shingles, when, [c for c in found if c not in reps],
                                 t.member_containment, t.member_jaccard, window)
        return None if best is None else self._rep[best]

    def _closest(self, va: array, shingles: int, when: float, ordinals, containment: float, jaccard: float,
                 window: Optional[float]) -> Optional[int]:
        """The ordinal most similar to a signature among those passing the thresholds (on a tie the oldest)."""
        best, best_score = None, None
        step = 2 * BINS
        for o in ordinals:
            rep = self._rep[o]
            if self._tokens[o] < self.thresholds.min_tokens or (
                    window is not None and abs(when - self._time[rep]) > window):
                continue   # (a comparison with NaN is False: undated articles are not held to the window)
            j, c = _estimate(va, shingles, self._bins[step * o:step * (o + 1)], self._shingles[o])
            if c >= containment and j >= jaccard:
                score = (c, j, -o)
                if best_score is None or score > best_score:
                    best, best_score = o, score
        return best

    def remove(self, article_id: str) -> Optional[str]:
        """Remove an article; returns its story id (None if unknown). The others keep their story ids."""
        o = self._by_id.pop(article_id, None)
        if o is None:
            return None
        self._alive[o] = False
        rep = self._rep[o]
        story_id = self._story[rep]
        self._size[rep] -= 1
        if not self._size[rep]:
            del self._size[rep], self._story[rep], self._by_story[story_id]
        return story_id

    def _usable(self, o: int) -> bool:
        """A live article, or the anchor (representative) of a live story."""
        return bool(self._alive[o]) or (self._rep[o] == o and o in self._size)

    def _append(self, article_id: str, exact: int, tokens_: int, shingles: int, when: float, rep: int,
                alive: bool, bins: bytes) -> None:
        self._ids.append(article_id)
        self._exact.append(exact)
        self._tokens.append(tokens_)
        self._shingles.append(shingles)
        self._time.append(when)
        self._rep.append(rep)
        self._alive.append(alive)
        self._bins += bins

    def _index(self, o: int) -> None:
        n = self._tokens[o]
        if n < self.thresholds.min_exact_tokens:
            return
        keys = [_exact_key(self._exact[o])]
        if n >= self.thresholds.min_tokens:
            keys += self._keys_of(bytes(self._bins[2 * BINS * o:2 * BINS * (o + 1)]))
        self._table.add(keys, o)

    def _keys_of(self, bins: bytes) -> list[int]:
        """_keys, remembered for the last signature (`assign` asks for the same keys to match and to index)."""
        last = self._last_keys
        if last is not None and last[0] == bins:
            return last[1]
        keys = _keys(bins)
        self._last_keys = (bins, keys)
        return keys

    # --- persistence -----------------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> None:
        """Write the index to `path` atomically (temporary file, fsync, rename), keeping only what is needed."""
        tmp = self.save_temporary(path)
        try:
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def save_temporary(self, path: str | os.PathLike) -> Path:
        """Write the index to a temporary file beside `path` (fsynced); the caller renames it to `path`."""
        keep = [o for o in range(len(self._ids)) if self._usable(o)]
        new = {o: i for i, o in enumerate(keep)}
        renamed = {new[rep]: sid for rep, sid in self._story.items() if sid != self._ids[rep]}
        header = json.dumps({"format": _FORMAT, "count": len(keep), "params": _params(),
                             "thresholds": asdict(self.thresholds), "story_ids": renamed}).encode()
        ids = "\n".join(self._ids[o] for o in keep).encode("utf-8", "surrogatepass")
        step = 2 * BINS
        parts = [
            _MAGIC, struct.pack("<I", len(header)), header, struct.pack("<Q", len(ids)), ids,
            array("I", (new[self._rep[o]] for o in keep)).tobytes(),
            bytes(self._alive[o] for o in keep),
            array("Q", (self._exact[o] for o in keep)).tobytes(),
            array("I", (self._tokens[o] for o in keep)).tobytes(),
            array("I", (self._shingles[o] for o in keep)).tobytes(),
            array("d", (self._time[o] for o in keep)).tobytes(),
            b"".join(self._bins[step * o:step * (o + 1)] for o in keep),
        ]
        return _write_temporary(Path(path), parts)

    @classmethod
    def load(cls, path: str | os.PathLike, thresholds: Optional[Thresholds] = None) -> "StoryIndex":
        """Read a saved index (with its own thresholds unless others are given)."""
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise StoriesFileError(f"cannot read stories file {path}: {exc.strerror}") from exc
        try:
            return cls._parse(data, path, thresholds)
        except (ValueError, KeyError, TypeError, IndexError, struct.error, UnicodeDecodeError) as exc:
            raise StoriesFileError(f"stories file {path} is corrupt ({exc}); rebuild the index") from exc

    @classmethod
    def _parse(cls, data: bytes, path, thresholds: Optional[Thresholds]) -> "StoryIndex":
        if not data.startswith(_MAGIC):
            raise ValueError("not a newsdex stories file")
        pos = len(_MAGIC)
        (hlen,) = struct.unpack_from("<I", data, pos)
        header = json.loads(data[pos + 4:pos + 4 + hlen])
        pos += 4 + hlen
        if header.get("format") != _FORMAT or header.get("params") != _params():
            raise StoriesFileError(f"stories file {path} was written with other parameters "
                                   f"({header.get('params')}, here {_params()}); rebuild the index")
        n = header["count"]
        (ilen,) = struct.unpack_from("<Q", data, pos)
        pos += 8
        ids = data[pos:pos + ilen].decode("utf-8", "surrogatepass").split("\n") if n else []
        pos += ilen

        def take(typecode: str, size: int):
            nonlocal pos
            chunk = data[pos:pos + size * n]
            pos += size * n
            return array(typecode, chunk) if typecode else bytearray(chunk)

        self = cls(thresholds or Thresholds(**header["thresholds"]))
        self._rep, self._alive = take("I", 4), take("", 1)
        self._exact, self._tokens, self._shingles, self._time = take("Q", 8), take("I", 4), take("I", 4), take("d", 8)
        self._bins = take("", 2 * BINS)
        if len(ids) != n or pos != len(data):
            raise ValueError("truncated")
        self._ids = ids
        renamed = {int(k): v for k, v in header.get("story_ids", {}).items()}
        for o in range(n):
            if self._alive[o]:
                rep = self._rep[o]
                self._by_id[ids[o]] = o
                self._size[rep] = self._size.get(rep, 0) + 1
                if rep not in self._story:
                    self._story[rep] = renamed.get(rep, ids[rep])
                    self._by_story[self._story[rep]] = rep
        self._table = _Table(n * (BANDS + 1))
        for o in range(n):
            self._index(o)
        return self


def _params() -> dict:
    return {"shingle": SHINGLE, "bins": BINS, "bands": BANDS, "rows": ROWS, "max_tokens": MAX_TOKENS,
            "hash_probe": _HASH_PROBE, "unspaced": zlib.crc32(_UNSPACED.encode())}


def write_story_files(gen_dir: str | os.PathLike, stories: "StoryIndex", before_replace=None) -> None:
    """Save the clusterer and the copies map into a generation (before its commit, so readers that see the
    commit see the map too; ids the map names that never got committed are simply not found). `before_replace`,
    given {file name: its written temporary file}, runs before they replace the old ones (index.integrity records
    their checksums then, so that a run killed at any moment leaves files the checksum list accounts for)."""
    gen_dir = Path(gen_dir)
    copies = json.dumps(stories.copies(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    written: dict[str, Path] = {}
    try:
        written[STORIES_FILE] = stories.save_temporary(gen_dir / STORIES_FILE)
        written[STORY_MAP_FILE] = _write_temporary(gen_dir / STORY_MAP_FILE, [copies])
        if before_replace is not None:
            before_replace(written)
        for name, tmp in written.items():
            os.replace(tmp, gen_dir / name)
    finally:
        for tmp in written.values():
            tmp.unlink(missing_ok=True)


def _write_temporary(path: Path, parts) -> Path:
    """`parts` (bytes) written and fsynced to `.NAME.PID.tmp` beside `path` (store.remove_orphans knows the name)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            for part in parts:
                fh.write(part)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def read_story_map(gen_dir: str | os.PathLike) -> dict[str, str]:
    """{article id: story id} of the copies in a generation ({} when there is no map, e.g. an older index);
    StoriesFileError when the map is there but is not such a JSON object (stories would silently fall apart)."""
    data, problem = _load_story_map(Path(gen_dir) / STORY_MAP_FILE)
    if problem:
        raise StoriesFileError(f"the story map {Path(gen_dir) / STORY_MAP_FILE} {problem}")
    return data


def story_map_problem(gen_dir: str | os.PathLike) -> Optional[str]:
    """What is wrong with a generation's story map (None: it is sound, or there is none)."""
    return _load_story_map(Path(gen_dir) / STORY_MAP_FILE)[1]


def _load_story_map(path: Path) -> tuple[dict, Optional[str]]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return {}, None
    except OSError as exc:
        return {}, f"cannot be read ({exc.strerror})"
    except ValueError as exc:
        return {}, f"is not valid JSON ({exc})"
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        return {}, "is not a JSON object of article ids to story ids"
    return data, None


_RECORD_BYTES = 4 + 1 + 8 + 4 + 4 + 8 + 2 * BINS   # per article: rep, alive, exact, tokens, shingles, time, bins


def stories_file_problem(path: str | os.PathLike) -> Optional[str]:
    """What is wrong with a stories file's structure, from its header and size alone (None: it is sound)."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            if fh.read(len(_MAGIC)) != _MAGIC:
                return "is not a newsdex stories file (its first bytes are not the stories header)"
            (hlen,) = struct.unpack("<I", fh.read(4))
            header = json.loads(fh.read(hlen))
            (ilen,) = struct.unpack("<Q", fh.read(8))
            count = int(header["count"])
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    except (ValueError, KeyError, TypeError, struct.error) as exc:
        return f"has a damaged header ({type(exc).__name__}: {exc})"
    expected = len(_MAGIC) + 4 + hlen + 8 + ilen + count * _RECORD_BYTES
    if size != expected:
        return (f"has {size:,} bytes where its header says {expected:,} "
                f"({'cut short' if size < expected else 'grown'})")
    return None
