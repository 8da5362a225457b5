"""The story clusterer on disk: a memory-mapped base file, and a log of what changed since, per commit.

An `add` of 100 articles to a large index must not read or rewrite every article's signature. So a generation
keeps its stories (index.stories.StoryIndex) in two parts:

- `stories.bin`, the *base*: every entry's columns (id, representative, exact hash, sizes, date, MinHash bins,
  live members of its story) as fixed-width arrays, the LSH band table as the open-addressing slots
  `stories._Table` probes, and the entries' id hashes sorted (id -> entries by binary search). Nothing is parsed
  when it opens: the file is memory-mapped and each column is a `memoryview` of it, so an add reads the few
  pages its candidates live on. The header names the commit (Whoosh TOC generation) the base reflects.
- `stories.log`, appended at every commit that changes stories (add, delete): one *frame* per commit, holding
  the commit's TOC generation and its changes in order (an article assigned: its signature, date, story
  representative and story id; an article removed: its id). Written and fsynced before the commit's TOC, so a
  run killed in between leaves a frame of a commit that never happened: readers skip frames past the live TOC,
  and the next writer cuts them off (`discard_uncommitted`, from store.recover). A frame cut short by a kill is
  recognised by its length and CRC and cut off the same way.

Opening replays the frames after the base's commit (index.stories keeps them in memory as the entries after the
base's). A rebuild writes a base and an empty log; `compact` (optimize, or when the log has grown past a share
of the base) folds the log into a new base. The order of the replacing renames makes every stop safe: base
first (it names its commit, so frames up to it are skipped), then the copies map, then the empty log.

`story-map.json`, the copies map the search layer reads ({article id: story id} of every article whose story is
another's), follows the same scheme: the base map, written with the base, plus the log frames' changes
(`read_story_map`): assigning sets or clears an article's entry, removing clears it. Replaying a frame onto a
map that already holds it leaves the map as it was (each change sets one key's final value), so a reader that
reads the log first and the map second is right whichever compaction it ran into.
"""
from __future__ import annotations

import bisect
import hashlib
import json
import mmap
import os
import struct
import zlib
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from index import durable, whoosh_wall

STORIES_FILE = "stories.bin"
STORY_MAP_FILE = "story-map.json"
STORY_LOG_FILE = "stories.log"

MAGIC = b"NEWSDEX-STORIES\n"
FORMAT = 2                      # format 1: the whole clusterer in one file, parsed at load (index.stories reads it)
_LOG_MAGIC = b"NEWSDEX-STORYLOG"
_FRAME = struct.Struct("<4sqII")   # tag, the commit's TOC generation, payload length, CRC-32 of the payload
_FRAME_TAG = b"SLF1"
_ALIGN = 8

# The base's sections: name -> numpy dtype (little-endian, fixed width). Per entry: representative, alive, exact
# hash, tokens, shingles, date, live members of the story it represents, MinHash bins (256 bytes); the ids (offsets
# into one UTF-8 blob: n + 1 of them); the id index (hashes ascending and their entries); the LSH table's slots.
SECTIONS = {"rep": "<u4", "alive": "u1", "exact": "<u8", "tokens": "<u4", "shingles": "<u4", "time": "<f8",
            "size": "<u4", "bins": "u1", "id_offsets": "<u8", "ids_blob": "u1", "id_hash": "<u8",
            "id_hash_ord": "<u4", "table": "<u8"}
_CAST = {"<u4": "I", "u1": "B", "<u8": "Q", "<f8": "d"}


class StoriesFileError(Exception):
    """A stories file that cannot be used (replaced by index.stories.StoriesFileError, a NewsdexError)."""


def id_hash(article_id: str) -> int:
    """A 64-bit hash of an article id, the same in every process (the base's id index is sorted by it)."""
    data = article_id.encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def id_hashes(ids: list[str]) -> np.ndarray:
    """id_hash of many ids."""
    return np.fromiter(map(id_hash, ids), dtype=np.uint64, count=len(ids))


# --- the base -------------------------------------------------------------------------------------------------------

class Base:
    """A format-2 stories file, memory-mapped (or empty): columns of the entries 0..n-1, read on demand."""

    def __init__(self, header: dict, buffer=None, sections: Optional[dict] = None):
        self.header = header
        self.n = header.get("count", 0)
        self.toc = header.get("toc", 0)
        self.renamed = {int(k): v for k, v in header.get("story_ids", {}).items()}   # rep -> story id
        self.renamed_rev = {v: k for k, v in self.renamed.items()}
        self._buffer = buffer
        self.raw: dict = {}   # name -> memoryview of the section's bytes
        self.col: dict = {}   # name -> the same, cast to its item type (indexing gives Python numbers)
        view = memoryview(buffer) if buffer is not None else None
        for name, (offset, length) in (sections or {}).items():
            part = self.raw[name] = view[offset:offset + length]
            self.col[name] = part.cast(_CAST[SECTIONS[name]])
        self.ids_blob = self.raw.get("ids_blob", b"")
        self.table = self.col.get("table")
        self.mask = len(self.table) - 1 if self.table is not None and len(self.table) else -1

    @classmethod
    def empty(cls) -> "Base":
        return cls({"count": 0, "toc": 0, "articles": 0, "stories": 0})

    def array(self, name: str) -> np.ndarray:
        """A section as a numpy array over the mapped file (no copy; read-only)."""
        raw = self.raw.get(name)
        return np.zeros(0, SECTIONS[name]) if raw is None else np.frombuffer(raw, dtype=SECTIONS[name])

    def id(self, o: int) -> str:
        offsets = self.col["id_offsets"]
        return bytes(self.ids_blob[offsets[o]:offsets[o + 1]]).decode("utf-8", "surrogatepass")

    def bins(self, o: int) -> bytes:
        return bytes(self.col["bins"][256 * o:256 * (o + 1)])

    def ordinals_of(self, article_id: str) -> Iterator[int]:
        """The entries whose id is `article_id` (oldest first)."""
        if not self.n:
            return
        hashes, ords = self.col["id_hash"], self.col["id_hash_ord"]
        h = id_hash(article_id)
        i = bisect.bisect_left(hashes, h)
        found = []
        while i < self.n and hashes[i] == h:
            o = ords[i]
            if self.id(o) == article_id:
                found.append(o)
            i += 1
        yield from sorted(found)

    def table_get(self, keys: list[int]) -> set[int]:
        """The entries filed under any of the LSH or exact keys (the probing of stories._Table)."""
        return probe(self.table, self.mask, keys) if self.mask >= 0 else set()

    def close(self) -> None:
        """Drop the views and the mapping (the object must not be used after)."""
        self.col.clear()
        self.raw.clear()
        self.table = None
        self.ids_blob = b""
        if isinstance(self._buffer, mmap.mmap):
            try:
                self._buffer.close()
            except BufferError:   # a view is still held somewhere: the mapping goes with the last of them
                pass
        self._buffer = None


def probe(slots, mask: int, keys) -> set[int]:
    """The ordinals filed under any of `keys` in an open-addressing table of `key << 32 | ordinal + 1` slots
    (linear probing; 0 is empty): stories._Table in memory, a base's table mapped."""
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


def open_base(path: str | os.PathLike) -> tuple[dict, Optional[Base], Optional[bytes]]:
    """(header, Base) of a format-2 file; (header, None, data) of a format-1 file (for index.stories to parse).
    StoriesFileError when it cannot be read or is not a stories file; ValueError when it is cut short."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size == 0:
                raise ValueError("empty")
            buffer = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError as exc:
        raise StoriesFileError(f"cannot read stories file {path}: {exc.strerror}") from exc
    if buffer[:len(MAGIC)] != MAGIC:
        raise ValueError("not a newsdex stories file")
    pos = len(MAGIC)
    (hlen,) = struct.unpack_from("<I", buffer, pos)
    header = json.loads(buffer[pos + 4:pos + 4 + hlen])
    if header.get("format") == 1:
        data = bytes(buffer)
        buffer.close()
        return header, None, data
    sections = header.get("sections", {})
    end = max((o + n for o, n in sections.values()), default=_aligned(pos + 4 + hlen))
    if end != size:
        buffer.close()
        raise ValueError("truncated")
    return header, Base(header, buffer, sections), None


def _aligned(pos: int) -> int:
    return (pos + _ALIGN - 1) // _ALIGN * _ALIGN


def write_base(path: Path, header: dict, parts: dict[str, list]) -> None:
    """Write a format-2 file atomically (temporary file, fsync, rename): `header` plus the named sections, each
    given as buffers written one after the other (so a section can be the old file's, read from its mapping)."""
    order = list(SECTIONS)
    sizes = {name: sum(memoryview(b).nbytes for b in parts[name]) for name in order if name in parts}
    # the header holds the sections' offsets, which depend on its own length: reserve room for the numbers
    reserve = len(json.dumps(dict(header, sections={})).encode()) + 64 * (len(order) + 2)
    pos = _aligned(len(MAGIC) + 4 + reserve)
    sections = {}
    for name in order:
        if name in sizes:
            sections[name] = (pos, sizes[name])
            pos = _aligned(pos + sizes[name])
    head = json.dumps(dict(header, sections=sections)).encode()
    if len(head) > reserve:
        raise AssertionError("stories header outgrew its room")
    head = head + b" " * (reserve - len(head))

    def write(fh) -> None:
        fh.write(MAGIC + struct.pack("<I", len(head)) + head)
        for name, (offset, _) in sections.items():
            fh.seek(offset)
            for buffer in parts[name]:
                fh.write(buffer)
        fh.truncate(pos)

    durable.write_atomically(path, write)


def build_table(keys: np.ndarray, ordinals: np.ndarray) -> np.ndarray:
    """The open-addressing slots (key << 32 | ordinal + 1, at most a quarter full) of stories._Table for these
    entries, as `_Table.get` probes them."""
    size = 1024
    while size < 4 * len(keys):
        size *= 2
    entries = (keys.astype(np.uint64) << np.uint64(32)) | (ordinals.astype(np.uint64) + np.uint64(1))
    return place_entries(entries, size)


def place_entries(entries: np.ndarray, size: int) -> np.ndarray:
    """A table of `size` slots (a power of two, under half full) holding these entries (key << 32 | value),
    each at the first free slot from its home (the key's low bits), wrapping round the end, as linear probing
    would have put them: filled in order of home slot, so a key sits at its home or after an unbroken run of
    taken slots (numpy: a Python loop per entry cost seconds)."""
    mask = size - 1
    home = ((entries >> np.uint64(32)) & np.uint64(mask)).astype(np.int64)
    order = np.argsort(home, kind="stable")
    home, entries = home[order], entries[order]
    step = np.arange(len(entries))
    place = np.maximum.accumulate(home - step) + step if len(entries) else step
    table = np.zeros(size, dtype=np.uint64)
    inside = place <= mask
    table[place[inside]] = entries[inside]
    if not inside.all():   # the last run goes past the end: its tail takes the first free slots from 0
        table[np.flatnonzero(table == 0)[:int((~inside).sum())]] = entries[~inside]
    return table


# --- the log --------------------------------------------------------------------------------------------------------

def new_log(path: Path, base_toc: int) -> None:
    """Replace the log with an empty one that follows a base of commit `base_toc` (atomically)."""
    durable.write_atomically(path, lambda fh: fh.write(_LOG_MAGIC + struct.pack("<q", base_toc)))


def append_frame(path: Path, toc: int, ops: list, bins: bytes) -> None:
    """Append one commit's changes to the log and make them durable (before the commit's TOC is written)."""
    head = json.dumps({"toc": toc, "ops": ops}, ensure_ascii=False, separators=(",", ":")).encode("utf-8",
                                                                                                  "surrogatepass")
    payload = struct.pack("<I", len(head)) + head + bins
    if not path.exists():
        new_log(path, 0)
    with open(path, "ab") as fh:
        fh.write(_FRAME.pack(_FRAME_TAG, toc, len(payload), zlib.crc32(payload)) + payload)
        fh.flush()
        os.fsync(fh.fileno())


def read_log(path: Path, committed: Optional[int], after: int = -1,
             parse: bool = True) -> tuple[int, list[tuple[int, list, bytes]], Optional[int]]:
    """(base commit the log follows, [(toc, ops, bins)] of the frames of commits after `after` and up to
    `committed` (all when None), the offset to cut the file at: the first frame past `committed` or cut short,
    None when there is none). Without `parse`, no frame is decoded (ops None). A missing log is an empty one
    following commit 0."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0, [], None
    if not data.startswith(_LOG_MAGIC) or len(data) < len(_LOG_MAGIC) + 8:
        return 0, [], len(_LOG_MAGIC) + 8 if data.startswith(_LOG_MAGIC) else 0
    pos = len(_LOG_MAGIC)
    (base_toc,) = struct.unpack_from("<q", data, pos)
    pos += 8
    frames = []
    cut = None
    while pos < len(data):
        if pos + _FRAME.size > len(data):
            cut = pos
            break
        tag, toc, length, crc = _FRAME.unpack_from(data, pos)
        start = pos + _FRAME.size
        if tag != _FRAME_TAG or start + length > len(data) or zlib.crc32(data[start:start + length]) != crc:
            cut = pos
            break
        if committed is not None and toc > committed:
            cut = pos
            break
        if toc > max(after, base_toc):
            if parse:
                (hlen,) = struct.unpack_from("<I", data, start)
                head = json.loads(data[start + 4:start + 4 + hlen].decode("utf-8", "surrogatepass"))
                frames.append((toc, head["ops"], data[start + 4 + hlen:start + length]))
            else:
                frames.append((toc, None, b""))
        pos = start + length
    return base_toc, frames, cut


def discard_uncommitted(gen_dir: str | os.PathLike, committed: int) -> int:
    """Cut off the log's frames of commits that never happened (or cut short); returns how many bytes went.
    Only under the writer lock."""
    path = Path(gen_dir) / STORY_LOG_FILE
    if not path.exists():
        return 0
    _, _, cut = read_log(path, committed, parse=False)
    if cut is None:
        return 0
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        if cut < len(_LOG_MAGIC) + 8:   # not even a header: start an empty log
            fh.truncate(0)
            fh.write(_LOG_MAGIC + struct.pack("<q", 0))
        else:
            fh.truncate(cut)
        fh.flush()
        os.fsync(fh.fileno())
    return size - cut


def committed_toc(gen_dir: str | os.PathLike) -> int:
    """The newest TOC generation of a Whoosh directory (-1 when there is none)."""
    return whoosh_wall.newest_toc(gen_dir)


def read_story_map(gen_dir: str | os.PathLike, toc: Optional[int] = None) -> dict[str, str]:
    """{article id: story id} of the copies in a generation as of commit `toc` (the newest when None): the base
    map plus the log's changes ({} when there is no map, e.g. an older index)."""
    return read_story_map_since(gen_dir, toc)[0]


def read_story_map_since(gen_dir: str | os.PathLike, toc: Optional[int] = None,
                         known: Optional[tuple] = None) -> tuple[dict[str, str], tuple]:
    """read_story_map, and what a later call may take as `known` (neither map is to be changed). With `known`
    (from a call for an earlier commit of the same generation), only the log's frames after that commit are
    decoded, and applied to a copy of its map, when the base map is still the one it followed (a running server
    reads the map at each add, and the log holds every add since the base was last rewritten)."""
    gen_dir = Path(gen_dir)
    if toc is None:
        try:
            toc = committed_toc(gen_dir)
        except OSError:
            return {}, (None, None, {})

    def log(after: int):
        try:   # the log before the map (see the module docstring)
            return read_log(gen_dir / STORY_LOG_FILE, toc, after=after)[:2]   # (frames after base_toc only)
        except (OSError, ValueError, KeyError, struct.error):
            return None

    known_base, known_toc, known_map = known if known is not None else (None, None, None)
    read = log(known_toc) if known_toc is not None and known_toc <= toc else None
    if read is not None and read[0] == known_base:
        base_toc, frames = read
        data = dict(known_map)
    else:
        base_toc, frames = log(-1) or (0, [])
        try:
            with open(gen_dir / STORY_MAP_FILE, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict):
            data = {}
    _apply_frames(data, frames)
    return data, (base_toc, toc, data)


def _apply_frames(data: dict, frames: list) -> None:
    for _, ops, _ in frames:
        for op in ops:
            if op[0] == "a" and op[7] != op[1]:
                data[op[1]] = op[7]
            else:
                data.pop(op[1], None)


def write_story_map(gen_dir: Path, copies: dict[str, str]) -> None:
    """Replace the base copies map atomically."""
    path = gen_dir / STORY_MAP_FILE
    durable.write_atomically(path, lambda fh: json.dump(copies, fh, ensure_ascii=False, separators=(",", ":")),
                             text=True)


# --- the clusterer's containers over a base -------------------------------------------------------------------------
# index.stories.StoryIndex keeps its entries in arrays and dicts indexed by ordinal. Over a base, each becomes one of
# these: the base's entries 0..n-1 read from the mapped file, the entries after them and every change in memory.
# They offer the few operations StoryIndex uses, so its algorithm is the same code with or without a base.

class Stacked:
    """An append-only column: the base's values of entries 0..n-1, then the appended ones."""

    __slots__ = ("base", "nb", "ext")

    def __init__(self, base, nb: int, ext):
        self.base, self.nb, self.ext = base, nb, ext

    def __getitem__(self, o: int):
        return self.ext[o - self.nb] if o >= self.nb else self.base[o]

    def __len__(self) -> int:
        return self.nb + len(self.ext)

    def append(self, value) -> None:
        self.ext.append(value)


class BaseIds:
    """The base's ids as a sequence (decoded one at a time)."""

    __slots__ = ("base",)

    def __init__(self, base: Base):
        self.base = base

    def __getitem__(self, o: int) -> str:
        return self.base.id(o)


class Alive(Stacked):
    """Whether each entry is live: the base's flags less the entries removed since, then the appended ones."""

    __slots__ = ("dead",)

    def __init__(self, base: Base, ext: bytearray):
        super().__init__(base.col.get("alive", b""), base.n, ext)
        self.dead: set[int] = set()

    def __getitem__(self, o: int) -> int:
        if o >= self.nb:
            return self.ext[o - self.nb]
        return 0 if o in self.dead else self.base[o]

    def __setitem__(self, o: int, value) -> None:
        if o >= self.nb:
            self.ext[o - self.nb] = value
        elif value:
            self.dead.discard(o)
        else:
            self.dead.add(o)


class Sizes:
    """Live members of each live story, by representative: a dict of the live stories only (0 is absent)."""

    def __init__(self, base: Base):
        self.base = base
        self.base_size = base.col.get("size", ())
        self.nb = base.n
        self.over: dict[int, int] = {}
        self.count = base.header.get("stories", 0)

    def _value(self, rep: int) -> int:
        got = self.over.get(rep)
        if got is None:
            got = self.base_size[rep] if rep < self.nb else 0
        return got

    def get(self, rep: int, default=None):
        return self._value(rep) or default

    def __getitem__(self, rep: int) -> int:
        got = self._value(rep)
        if not got:
            raise KeyError(rep)
        return got

    def __setitem__(self, rep: int, value: int) -> None:
        self.count += (value > 0) - (self._value(rep) > 0)
        self.over[rep] = value

    def __delitem__(self, rep: int) -> None:
        self[rep] = 0

    def __contains__(self, rep: int) -> bool:
        return self._value(rep) > 0

    def __len__(self) -> int:
        return self.count

    def items(self) -> Iterator[tuple[int, int]]:
        """(representative, live members) of every live story (a scan of the base)."""
        for rep in self.keys():
            yield rep, self._value(rep)

    def keys(self) -> Iterator[int]:
        reps = set(np.flatnonzero(self.base.array("size")).tolist())
        reps.update(self.over)
        return iter(sorted(rep for rep in reps if self._value(rep) > 0))


class StoryNames:
    """The story id of each live story, by representative (base stories: renamed ones, else their first id)."""

    def __init__(self, base: Base, sizes: Sizes):
        self.base, self.sizes = base, sizes
        self.over: dict[int, str] = {}

    def __getitem__(self, rep: int) -> str:
        got = self.over.get(rep)
        if got is not None:
            return got
        if rep < self.base.n and rep in self.sizes:
            return self.base.renamed.get(rep) or self.base.id(rep)
        raise KeyError(rep)

    def __setitem__(self, rep: int, story_id: str) -> None:
        self.over[rep] = story_id

    def __delitem__(self, rep: int) -> None:
        self.over.pop(rep, None)   # a base story's name goes with its last member (Sizes)

    def __contains__(self, rep: int) -> bool:
        return rep in self.over or (rep < self.base.n and rep in self.sizes)

    def items(self) -> Iterator[tuple[int, str]]:
        for rep in self.sizes.keys():
            yield rep, self[rep]


class StoriesByName:
    """The representative of each live story, by story id."""

    def __init__(self, base: Base, sizes: Sizes, rep):
        self.base, self.sizes, self.rep = base, sizes, rep
        self.over: dict[str, Optional[int]] = {}

    def get(self, story_id: str, default=None):
        if story_id in self.over:
            got = self.over[story_id]
            return default if got is None else got
        renamed = self.base.renamed_rev.get(story_id)
        if renamed is not None and renamed in self.sizes:
            return renamed
        for o in self.base.ordinals_of(story_id):
            if self.rep[o] == o and o not in self.base.renamed and o in self.sizes:
                return o
        return default

    def __contains__(self, story_id: str) -> bool:
        return self.get(story_id) is not None

    def __getitem__(self, story_id: str) -> int:
        got = self.get(story_id)
        if got is None:
            raise KeyError(story_id)
        return got

    def __setitem__(self, story_id: str, rep: int) -> None:
        self.over[story_id] = rep

    def __delitem__(self, story_id: str) -> None:
        self.over[story_id] = None


class LiveIds:
    """The live entry of each live article id."""

    def __init__(self, base: Base, alive: Alive, ids):
        self.base, self.alive, self.ids = base, alive, ids
        self.over: dict[str, Optional[int]] = {}
        self.count = base.header.get("articles", 0)

    def get(self, article_id: str, default=None):
        if article_id in self.over:
            got = self.over[article_id]
            return default if got is None else got
        for o in self.base.ordinals_of(article_id):
            if self.alive[o]:
                return o
        return default

    def __contains__(self, article_id: str) -> bool:
        return self.get(article_id) is not None

    def __setitem__(self, article_id: str, o: int) -> None:
        if self.get(article_id) is None:
            self.count += 1
        self.over[article_id] = o

    def pop(self, article_id: str, default=None):
        got = self.get(article_id)
        if got is None:
            return default
        self.over[article_id] = None
        self.count -= 1
        return got

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[str]:
        """The live ids (a scan of the base), in entry order."""
        for o, article_id in self.live():
            yield article_id

    def items(self) -> Iterator[tuple[str, int]]:
        for o, article_id in self.live():
            yield article_id, o

    def live(self) -> Iterator[tuple[int, str]]:
        """(entry, id) of every live article (one live entry per id: a replaced one is removed first)."""
        alive = self.alive
        for o in range(len(alive)):
            if alive[o]:
                yield o, self.ids[o]


class Tables:
    """The LSH table: the base's slots, then a stories._Table of the entries appended since."""

    def __init__(self, base: Base, ext):
        self.base, self.ext = base, ext

    def get(self, keys: list[int]) -> set[int]:
        found = self.base.table_get(keys)
        got = self.ext.get(keys)
        return found | got if found else got

    def add(self, keys: list[int], o: int) -> None:
        self.ext.add(keys, o)
