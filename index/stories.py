"""Near-duplicate articles and the stories they form (syndicated copies of one wire story).

Two halves, split so the expensive one runs in the builder's worker processes:

- `signature(body) -> Signature` (pure, picklable; ~0.2 ms CPU for a 130-word article here): the body is
  normalised (NFKC, casefold, punctuation dropped; scripts without spaces cut into characters), cut into word
  7-shingles, and summarised by a 128-bin one-permutation MinHash (Li, Owen & Zhang 2012) with rotation
  densification for empty bins (Shrivastava & Li 2014), each bin keeping the low 16 bits of its minimum (b-bit
  MinHash, Li & Koenig 2010). Plus a hash of the whole normalised text for exact duplicates, and the sizes.
  `signature` is the definition, in plain Python, one body at a time (StoryIndex.assign given a text uses it);
  `signatures(bodies)` computes the same, field for field, for a batch with numpy (what the builder's workers
  use: one task's articles at once), and tests/test_stories_detect.py checks that the two agree.
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

from index import storyfile
from index.errors import NewsdexError

SHINGLE = 7          # words per shingle
BINS = 128           # MinHash bins (one-permutation hashing)
BANDS = 32           # LSH bands of ROWS bins each: band b uses bins b and b + BINS // 2
ROWS = 2
MAX_TOKENS = 600     # only the first words are shingled; the exact-duplicate hash covers the whole body
# The generation's files (index.storyfile): the clusterer's base and log, and the copies map the search layer
# reads. The builder's workers write documents before the parent has clustered them, so a document's STORY field
# holds its own id; the copies map says which documents are copies (see read_story_map).
STORIES_FILE = storyfile.STORIES_FILE
STORY_MAP_FILE = storyfile.STORY_MAP_FILE
STORY_LOG_FILE = storyfile.STORY_LOG_FILE
# The log is folded into a new base when it holds more changes than this plus the base's entries / SHARE:
# replaying it costs ~15 us a change at every open (every add and delete), rewriting the base ~1 s per 100,000
# entries (so at 1,000,000 articles: at most ~0.3 s of replay, and a rewrite every 21,000 changes).
LOG_COMPACT_MIN = 1_000
LOG_COMPACT_SHARE = 50
_NO_TIME = float("nan")

_MAGIC = storyfile.MAGIC
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
    """The signature of an article body: the definition (`signatures` is the same for many bodies, with numpy)."""
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
    """`signature` of many bodies at once, equal to it field for field (tests/test_stories_detect.py): the shingle hashes
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
        return storyfile.probe(self.slots, self.mask, keys)

    def add_many(self, keys: np.ndarray, ordinals: np.ndarray) -> None:
        """File many (key, ordinal) pairs at once (as `add` for each, in any order: `get` returns sets)."""
        if not len(keys):
            return
        old = np.frombuffer(self.slots, dtype=np.uint64)
        entries = np.concatenate([old[old != 0], (keys.astype(np.uint64) << np.uint64(32))
                                  | (ordinals.astype(np.uint64) + np.uint64(1))])
        self._refill(entries, 2 * len(entries))

    def _grow(self, need: int) -> None:
        old = np.frombuffer(self.slots, dtype=np.uint64)
        self._refill(old[old != 0], 2 * need)

    def _refill(self, entries: np.ndarray, room: int) -> None:
        """Rebuild the table holding `entries`, with room for `room` (so a quarter full for 2 * entries)."""
        self.__init__(room)
        table = storyfile.place_entries(entries, self.mask + 1)
        self.slots = array("Q", table.tobytes())
        self.count = len(entries)


class StoryIndex:
    """Incremental story clustering: `assign` an article, get its story id; `remove`; `save`/`load` one file, or
    `open` a generation's stories (base plus log, index.storyfile) and `log_changes` / `compact` them.

    Entries are kept by ordinal (assignment order) in flat arrays: about 1 KB of memory an article, 300 bytes on
    disk. A story lives while it has a live member; its representative (the first article) stays as its anchor
    even after being removed. Over a base (a saved file, memory-mapped) the entries before the base's end are
    read from the file and the containers are storyfile's views: only what an assignment touches is read.
    """

    def __init__(self, thresholds: Thresholds = Thresholds(), base: Optional[storyfile.Base] = None):
        self.thresholds = thresholds
        self._base = base if base is not None and base.n else storyfile.Base.empty()
        self._nb = nb = self._base.n
        self._bins = bytearray()          # ordinal o >= nb -> its MinHash bins at [2 * BINS * (o - nb), ...)
        self._last_keys = None            # (bins, LSH keys) of the last signature looked at
        self._ops: list = []              # changes since the last log_changes (storyfile's log frames)
        self._op_bins = bytearray()       # the bins of the assignments among them
        self.logged = 0                   # changes in the generation's log (what `open` replayed, and since)
        self._replaying = False           # replaying a log: entries are filed in the table afterwards
        self.reconciled = False           # rebuilt from the index, or read from a first-format file: the next
        #                                   commit saves it whole (compact) instead of logging its changes
        if not nb:
            self._ids: list[str] = []         # ordinal -> article id
            self._exact = array("Q")          # ordinal -> exact hash
            self._tokens = array("I")
            self._shingles = array("I")
            self._time = array("d")           # ordinal -> publication time, epoch seconds (NaN: undated)
            self._rep = array("I")            # ordinal -> ordinal of its story's representative
            self._alive = bytearray()
            self._table = _Table()            # LSH band keys and exact keys -> ordinals
            self._by_id: dict[str, int] = {}  # live article id -> ordinal
            self._size: dict[int, int] = {}   # live story: representative ordinal -> live members
            self._story: dict[int, str] = {}  # live story: representative ordinal -> story id
            self._by_story: dict[str, int] = {}   # live story id -> representative ordinal
            return
        col, S = self._base.col, storyfile
        self._ids = S.Stacked(S.BaseIds(self._base), nb, [])
        self._exact = S.Stacked(col["exact"], nb, array("Q"))
        self._tokens = S.Stacked(col["tokens"], nb, array("I"))
        self._shingles = S.Stacked(col["shingles"], nb, array("I"))
        self._time = S.Stacked(col["time"], nb, array("d"))
        self._rep = S.Stacked(col["rep"], nb, array("I"))
        self._alive = S.Alive(self._base, bytearray())
        self._table = S.Tables(self._base, _Table())
        self._size = S.Sizes(self._base)
        self._by_id = S.LiveIds(self._base, self._alive, self._ids)
        self._story = S.StoryNames(self._base, self._size)
        self._by_story = S.StoriesByName(self._base, self._size, self._rep)

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
        rep_of = self._rep
        return [(self._ids[rep_of[o]], self._ids[o]) for o in range(len(self._ids))
                if rep_of[o] != o and self._alive[o] and self._alive[rep_of[o]]]

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
            self._remove(article_id)
        o = len(self._ids)
        when = published.timestamp() if published is not None else _NO_TIME
        rep = self.match(sig, when)
        story_id = None
        if rep is None:
            rep = o
            story_id, n = article_id, 1
            while story_id in self._by_story:   # an edited first article that left its old story
                n += 1
                story_id = f"{article_id}~{n}"
        return self._place(article_id, sig, when, rep, story_id)

    def restore(self, article_id: str, body: str | Signature, published: Optional[datetime], story_id: str) -> None:
        """Put an article back into the story its document already names, without matching (to rebuild a lost or
        stale stories file from the index: call it for every document in document order)."""
        sig = body if isinstance(body, Signature) else signature(body)
        if article_id in self._by_id:
            self._remove(article_id)
        rep = self._by_story.get(story_id)
        when = published.timestamp() if published is not None else _NO_TIME
        self._place(article_id, sig, when, len(self._ids) if rep is None else rep, story_id)

    def _place(self, article_id: str, sig: Signature, when: float, rep: int, story_id: Optional[str]) -> str:
        """Append an article as a member of the story `rep` represents (itself, a new story named `story_id`,
        when rep is its own ordinal-to-be); the change is kept for the log. Returns its story id."""
        if article_id in self._by_id:   # (a replayed assignment of an id replaced it)
            self._remove(article_id)
        o = len(self._ids)
        if rep == o:
            self._story[o] = story_id
            self._by_story[story_id] = o
        self._append(article_id, sig.exact, sig.tokens, sig.shingles, when, rep, True, sig.bins)
        self._by_id[article_id] = o
        self._size[rep] = self._size.get(rep, 0) + 1
        self._index(o)
        story_id = self._story[rep]
        self._ops.append(["a", article_id, sig.exact, sig.tokens, sig.shingles, None if when != when else when,
                          rep, story_id])
        self._op_bins += sig.bins
        return story_id

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
        for o in ordinals:
            rep = self._rep[o]
            if self._tokens[o] < self.thresholds.min_tokens or (
                    window is not None and abs(when - self._time[rep]) > window):
                continue   # (a comparison with NaN is False: undated articles are not held to the window)
            j, c = _estimate(va, shingles, self._bins_of(o), self._shingles[o])
            if c >= containment and j >= jaccard:
                score = (c, j, -o)
                if best_score is None or score > best_score:
                    best, best_score = o, score
        return best

    def remove(self, article_id: str) -> Optional[str]:
        """Remove an article; returns its story id (None if unknown). The others keep their story ids."""
        story_id = self._remove(article_id)
        if story_id is not None:
            self._ops.append(["r", article_id])
        return story_id

    def _remove(self, article_id: str) -> Optional[str]:
        o = self._by_id.pop(article_id, None)
        if o is None:
            return None
        self._alive[o] = False
        rep = self._rep[o]
        story_id = self._story[rep]
        left = self._size[rep] - 1
        if left:
            self._size[rep] = left
        else:
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
        if self._replaying:
            return
        n = self._tokens[o]
        if n < self.thresholds.min_exact_tokens:
            return
        keys = [_exact_key(self._exact[o])]
        if n >= self.thresholds.min_tokens:
            keys += self._keys_of(self._bins_of(o))
        self._table.add(keys, o)

    def _bins_of(self, o: int) -> bytes:
        """The MinHash bins of entry o."""
        if o < self._nb:
            return self._base.bins(o)
        o -= self._nb
        return bytes(self._bins[2 * BINS * o:2 * BINS * (o + 1)])

    def _keys_of(self, bins: bytes) -> list[int]:
        """_keys, remembered for the last signature (`assign` asks for the same keys to match and to index)."""
        last = self._last_keys
        if last is not None and last[0] == bins:
            return last[1]
        keys = _keys(bins)
        self._last_keys = (bins, keys)
        return keys

    # --- persistence -----------------------------------------------------------------------------------------

    # --- persistence -----------------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike, toc: int = 0) -> None:
        """Write every entry to `path` as a base file (index.storyfile's format, memory-mapped when loaded),
        atomically; `toc` names the commit it reflects."""
        header, parts, _ = self._snapshot(toc)
        storyfile.write_base(Path(path), header, parts)

    def _snapshot(self, toc: int) -> tuple[dict, dict, dict]:
        """(header, sections, copies map) of a base holding every entry, in order: the base's own sections as
        they are (read from the mapped file while writing) followed by the entries since, so that folding a log
        into the base costs what the log holds plus one copy of the file, and no entry is renumbered. Removed
        entries stay (unused: a rebuild drops them)."""
        n, nb, base = len(self._ids), self._nb, self._base
        parts: dict[str, list] = {}
        for name, column in (("rep", self._rep), ("exact", self._exact), ("tokens", self._tokens),
                             ("shingles", self._shingles), ("time", self._time)):
            parts[name] = [base.raw[name], self._ext(column)] if nb else [self._ext(column)]
        parts["bins"] = [base.raw["bins"], self._bins] if nb else [self._bins]
        alive = np.concatenate([base.array("alive"), np.frombuffer(self._alive_ext(), np.uint8)])
        dead = getattr(self._alive, "dead", ())
        if dead:
            alive[np.fromiter(dead, np.int64, len(dead))] = 0
        size = np.zeros(n, "<u4")
        size[:nb] = base.array("size")
        for r, count in self._size_changes():
            size[r] = count
        parts["alive"], parts["size"] = [alive], [size]
        new_ids = [aid.encode("utf-8", "surrogatepass") for aid in self._ext(self._ids)]
        new_lens = np.fromiter(map(len, new_ids), np.int64, len(new_ids))
        offsets = np.zeros(n + 1, "<u8")
        offsets[:nb + 1] = base.array("id_offsets") if nb else 0
        np.cumsum(new_lens, out=offsets[nb + 1:])
        offsets[nb + 1:] += offsets[nb]
        parts["id_offsets"] = [offsets]
        parts["ids_blob"] = [base.raw["ids_blob"], b"".join(new_ids)] if nb else [b"".join(new_ids)]
        hashes = np.concatenate([base.array("id_hash"), storyfile.id_hashes(self._ext(self._ids))])
        ords = np.concatenate([base.array("id_hash_ord"), np.arange(nb, n, dtype="<u4")])
        order = np.argsort(hashes, kind="stable")   # (the base's part is sorted already: cheap)
        parts["id_hash"], parts["id_hash_ord"] = [hashes[order]], [ords[order].astype("<u4")]
        table, entries = self._table_snapshot()
        parts["table"] = [table]
        renamed = self._renamed()
        stats = self.stats()
        header = {"format": storyfile.FORMAT, "count": n, "params": _params(),
                  "thresholds": asdict(self.thresholds), "story_ids": renamed, "toc": toc,
                  "articles": stats["articles"], "stories": stats["stories"], "table_entries": entries}
        rep = np.concatenate([base.array("rep"), np.frombuffer(self._rep_ext(), np.uint32)]).astype(np.int64)
        return header, parts, self._copies_of(rep, alive.astype(bool), renamed)

    def _table_snapshot(self) -> tuple[np.ndarray, int]:
        """The LSH table of every entry, and how many it holds: the in-memory one as it is without a base; the
        base's with the new entries put in (a bigger one is built when that would fill it past half)."""
        if not self._nb:
            return np.frombuffer(self._table.slots, np.uint64), self._table.count
        base, ext = self._base, self._table.ext
        count = base.header.get("table_entries", 0) + ext.count
        old = base.array("table")
        news = np.frombuffer(ext.slots, np.uint64)
        news = news[news != 0]
        if 2 * count > len(old):   # rebuild, bigger (rare: the archive has grown by half since)
            everything = np.concatenate([old[old != 0], news])
            return storyfile.place_entries(everything, _table_size(len(everything))), count
        table = old.copy()
        _insert(table, news)
        return table, count

    def _renamed(self) -> dict[int, str]:
        """{representative: story id} of the live stories whose id is not their first article's."""
        if not self._nb:
            return {r: sid for r, sid in self._story.items() if sid != self._ids[r]}
        out = {r: sid for r, sid in self._base.renamed.items() if r in self._size}
        for r, sid in self._story.over.items():
            if r in self._size and sid != self._ids[r]:
                out[r] = sid
        return out

    def _copies_of(self, rep: np.ndarray, alive: np.ndarray, renamed: dict[int, str]) -> dict[str, str]:
        """copies() from the snapshot's arrays: live entries of another's story, and live representatives of a
        renamed story (renamed: representative -> story id, when not its own id)."""
        n = len(rep)
        flagged = rep != np.arange(n)
        if renamed:
            flagged[np.fromiter(renamed, np.int64, len(renamed))] = True
        out = {}
        for o in np.flatnonzero(alive & flagged).tolist():
            r, article_id = int(rep[o]), self._ids[o]
            story_id = renamed.get(r) or self._ids[r]
            if story_id != article_id:   # (an edited article back in the story its first version began)
                out[article_id] = story_id
        return out

    def _ext(self, column) -> array:
        """The appended part of a column (all of it without a base)."""
        return column.ext if isinstance(column, storyfile.Stacked) else column

    def _rep_ext(self) -> array:
        return self._ext(self._rep)

    def _alive_ext(self) -> bytearray:
        return self._ext(self._alive)

    def _size_changes(self):
        """(representative, live members) of every story the base does not hold as it is now."""
        return self._size.over.items() if isinstance(self._size, storyfile.Sizes) else self._size.items()

    @classmethod
    def load(cls, path: str | os.PathLike, thresholds: Optional[Thresholds] = None) -> "StoryIndex":
        """Open a saved file (with its own thresholds unless others are given): a base file is memory-mapped, a
        file of the first format read whole."""
        try:
            header, base, data = storyfile.open_base(path)
            if base is None:
                return cls._parse(data, path, thresholds)
            if header.get("format") != storyfile.FORMAT or header.get("params") != _params():
                base.close()
                raise StoriesFileError(f"stories file {path} was written with other parameters "
                                       f"({header.get('params')}, here {_params()}); rebuild the index")
            saved = Thresholds(**header["thresholds"])
            self = cls(thresholds or saved, base)
            if self._nb and (self.thresholds.min_tokens, self.thresholds.min_exact_tokens) != \
                    (saved.min_tokens, saved.min_exact_tokens):
                self._rebuild_base_table()
            return self
        except storyfile.StoriesFileError as exc:
            raise StoriesFileError(str(exc)) from exc
        except (ValueError, KeyError, TypeError, IndexError, struct.error, UnicodeDecodeError) as exc:
            raise StoriesFileError(f"stories file {path} is corrupt ({exc}); rebuild the index") from exc

    def _rebuild_base_table(self) -> None:
        """File the base's entries again under thresholds that index other entries than the saved ones did."""
        base, t = self._base, self.thresholds
        keys, owners = _table_keys(base.array("bins").view("<u2").reshape(base.n, BINS), base.array("exact"),
                                   base.array("tokens"), t.min_exact_tokens, t.min_tokens)
        table = storyfile.build_table(keys, owners)
        base.header["table_entries"] = len(keys)
        base.raw["table"] = memoryview(table.tobytes())
        base.col["table"] = base.raw["table"].cast("Q")
        base.table, base.mask = base.col["table"], len(table) - 1

    @classmethod
    def open(cls, gen_dir: str | os.PathLike, committed: int) -> "StoryIndex":
        """A generation's stories as of commit `committed` (its Whoosh TOC generation): the base, memory-mapped,
        and the log's frames after it replayed. StoriesFileError when there is no usable base, or one of a
        commit that never happened."""
        gen_dir = Path(gen_dir)
        self = cls.load(gen_dir / STORIES_FILE)
        if self._nb and self._base.toc > committed:
            raise StoriesFileError(f"stories file in {gen_dir} is ahead of the index (commit "
                                   f"{self._base.toc}, the index's is {committed})")
        try:
            _, frames, _ = storyfile.read_log(gen_dir / storyfile.STORY_LOG_FILE, committed, after=self._base.toc)
        except (ValueError, KeyError, IndexError, struct.error, UnicodeDecodeError) as exc:
            raise StoriesFileError(f"stories log in {gen_dir} is corrupt ({exc})") from exc
        first = len(self._ids)
        self._replaying = True   # entries are filed in the LSH table all at once, after
        try:
            for _, ops, bins in frames:
                self._replay(ops, bins)
        finally:
            self._replaying = False
        self._file_entries(first)
        self._ops, self._op_bins = [], bytearray()   # replayed changes are in the log already
        return self

    def _file_entries(self, first: int) -> None:
        """File the entries from `first` on in the LSH table at once (numpy), as `_index` does one by one."""
        n = len(self._ids) - first
        if n <= 0:
            return
        start = 2 * BINS * (first - self._nb)
        bins = np.frombuffer(self._bins, np.uint8)[start:].view("<u2")
        exact = np.frombuffer(self._ext(self._exact), np.uint64)[first - self._nb:]
        tokens = np.frombuffer(self._ext(self._tokens), np.uint32)[first - self._nb:]
        t = self.thresholds
        keys, owners = _table_keys(bins, exact, tokens, t.min_exact_tokens, t.min_tokens)
        table = self._table.ext if isinstance(self._table, storyfile.Tables) else self._table
        table.add_many(keys, owners + first)

    def _replay(self, ops: list, bins: bytes) -> None:
        """Apply one log frame's changes (as they were made: no matching)."""
        step, k = 2 * BINS, 0
        for op in ops:
            if op[0] == "a":
                _, aid, exact, tokens_, shingles, when, rep, story_id = op
                sig = Signature(exact, tokens_, shingles, bytes(bins[step * k:step * (k + 1)]))
                k += 1
                self._place(aid, sig, _NO_TIME if when is None else when, rep, story_id)
            else:
                self._remove(op[1])
        self.logged += len(ops)

    def log_changes(self, gen_dir: str | os.PathLike, toc: int) -> None:
        """Append the changes since the last call to the generation's log as the frame of commit `toc` (call it
        before that commit's TOC is written)."""
        if self._ops:
            storyfile.append_frame(Path(gen_dir) / storyfile.STORY_LOG_FILE, toc, self._ops, bytes(self._op_bins))
            self.logged += len(self._ops)
        self._ops, self._op_bins = [], bytearray()

    def needs_compaction(self) -> bool:
        """True when the log holds more changes than replaying at every open is worth (a share of the base)."""
        return self.logged > LOG_COMPACT_MIN + self._nb // LOG_COMPACT_SHARE

    def compact(self, gen_dir: str | os.PathLike, toc: int) -> None:
        """Write the generation's base (stories file and copies map) as of commit `toc` and start an empty log:
        at a rebuild, an optimize, or when the log has grown (see the storyfile module for the order)."""
        gen_dir = Path(gen_dir)
        header, parts, copies = self._snapshot(toc)
        storyfile.write_base(gen_dir / STORIES_FILE, header, parts)
        storyfile.write_story_map(gen_dir, copies)
        storyfile.new_log(gen_dir / storyfile.STORY_LOG_FILE, toc)
        self._ops, self._op_bins, self.logged = [], bytearray(), 0

    def close(self) -> None:
        """Release the memory-mapped base (the index must not be used after)."""
        self._base.close()


    @classmethod
    def _parse(cls, data: bytes, path, thresholds: Optional[Thresholds]) -> "StoryIndex":
        """A stories file of the first format (the whole clusterer in one file), read into memory."""
        if not data.startswith(_MAGIC):
            raise ValueError("not a newsdex stories file")
        pos = len(_MAGIC)
        (hlen,) = struct.unpack_from("<I", data, pos)
        header = json.loads(data[pos + 4:pos + 4 + hlen])
        pos += 4 + hlen
        if header.get("format") != 1 or header.get("params") != _params():
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
        self.reconciled = True   # a file of the first format: saved whole, in the current one, at the next commit
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




def _table_keys(bins: np.ndarray, exact: np.ndarray, tokens: np.ndarray, min_exact: int,
                min_tokens: int) -> tuple[np.ndarray, np.ndarray]:
    """(keys, entries) that StoryIndex._index files for each entry, for all of them at once (numpy): the exact
    key of every entry of at least `min_exact` tokens, the LSH keys of those of at least `min_tokens`."""
    bins = np.asarray(bins).reshape(len(tokens), BINS).astype(np.uint64)
    tokens = np.asarray(tokens)
    mix = np.uint64(_MIX)
    with np.errstate(over="ignore"):
        exact_keys = ((np.uint64(BANDS) << np.uint64(32)) | (np.asarray(exact, np.uint64) & np.uint64(0xFFFFFFFF)))
        exact_keys = (exact_keys * mix) >> np.uint64(32)
        half = BINS // 2
        band = np.arange(BANDS, dtype=np.uint64)
        lsh = (band << np.uint64(32)) | (bins[:, :BANDS] << np.uint64(16)) | bins[:, half:half + BANDS]
        lsh = (lsh * mix) >> np.uint64(32)
    has_exact = np.flatnonzero(tokens >= min_exact)
    has_lsh = np.flatnonzero(tokens >= min_tokens)
    keys = np.concatenate([exact_keys[has_exact], lsh[has_lsh].reshape(-1)])
    owners = np.concatenate([has_exact, np.repeat(has_lsh, BANDS)])
    return keys, owners


def _table_size(entries: int) -> int:
    """Slots of an LSH table for this many entries: a power of two, a quarter full."""
    size = 1024
    while size < 4 * entries:
        size *= 2
    return size


def _insert(table: np.ndarray, entries: np.ndarray) -> None:
    """Put entries into an open-addressing table (under half full) by linear probing, as _Table.add does."""
    mask = len(table) - 1
    slots = memoryview(table)   # (item access in Python: the entries are the few since the last base)
    for x in entries.tolist():
        i = (x >> 32) & mask
        while slots[i]:
            i = (i + 1) & mask
        slots[i] = x


def _params() -> dict:
    return {"shingle": SHINGLE, "bins": BINS, "bands": BANDS, "rows": ROWS, "max_tokens": MAX_TOKENS,
            "hash_probe": _HASH_PROBE, "unspaced": zlib.crc32(_UNSPACED.encode())}


def read_story_map(gen_dir: str | os.PathLike, toc: Optional[int] = None) -> dict[str, str]:
    """{article id: story id} of the copies in a generation as of commit `toc` (the newest when None): the base
    map and the stories log's changes since ({} when there is no map, e.g. an older index)."""
    return storyfile.read_story_map(gen_dir, toc)


def read_story_map_since(gen_dir: str | os.PathLike, toc: Optional[int] = None,
                         known: Optional[tuple] = None) -> tuple[dict[str, str], tuple]:
    """read_story_map, reading only the log frames after an earlier read of the generation (`known`, what that
    read returned beside its map)."""
    return storyfile.read_story_map_since(gen_dir, toc, known)


def story_map_problem(gen_dir: str | os.PathLike) -> Optional[str]:
    """What is wrong with a generation's base story map (None: it is sound, or there is none)."""
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


def stories_file_problem(path: str | os.PathLike) -> Optional[str]:
    """What is wrong with a stories base file's structure, from its header and size alone (None: it is sound)."""
    try:
        header, base, _ = storyfile.open_base(path)
    except storyfile.StoriesFileError as exc:
        return f"cannot be read ({exc})"
    except (ValueError, KeyError, TypeError, struct.error) as exc:
        return {"truncated": "is cut short (its sections end past the file)",
                "not a newsdex stories file": "is not a newsdex stories file (its first bytes are not the "
                                              "stories header)"}.get(str(exc), f"has a damaged header ({exc})")
    if base is not None:
        base.close()
    return None
