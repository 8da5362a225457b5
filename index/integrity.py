"""Damage is found and named: a checksum list per generation, cheap checks at opening, full ones on demand.

Every commit writes `checksums.json` into its generation (atomically, after Whoosh's TOC): each file of the
committed index with its size, its CRC-32 and the CRC-32 of its edges (first and last 4 KiB). That is what Lucene
keeps in a footer per file, kept beside Whoosh's files so that their formats stay Whoosh's own. Whoosh never
changes a segment file once written, so a segment's entries are carried from commit to commit (a file damaged
since its commit is still found); the other files are checksummed afresh at each commit.

- `check_at_open`: what is cheap, when an index is opened: every listed file is there with its size, the edges of
  segment files and the whole of small files match, small metadata parses (story map, schema version, the stories
  file's header against its size). A few KiB per segment file, never a whole one.
- `verify`: `newsdex check`: every byte of every listed file, every segment the TOC names, unlisted files. A
  server checks each version it opens the same way, with a `Verified` memo: what an earlier version of the same
  generation already proved sound (a segment file, once written, never changes) is not read again, so a version
  that an add of 10 articles made costs its new files, not the archive.
- `verify_segments`: full checksums of the segments a merge (index.merge) is about to read.
- `diagnose`: after a read failed, which file is damaged (None: none is, the failure is something else).

The story files (index.storyfile: the base `stories.bin`, the log `stories.log` appended by every commit that
changes stories, the copies map `story-map.json`) change beside the TOC a reader opened and check themselves: the
base's header against its size, each log frame's length and CRC-32, the map's JSON. They are not in the list;
opening and `check` check their structure.
"""
from __future__ import annotations

import json
import os
import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

from index import durable, store, whoosh_wall
from index.stories import STORIES_FILE, STORY_LOG_FILE, STORY_MAP_FILE, stories_file_problem, story_map_problem
from index.errors import IndexDamaged

MANIFEST = "checksums.json"
FORMAT = 1
EDGE = 4096                   # bytes at each end of a file whose checksum opening compares
SMALL_FILE = 1 << 20          # files (other than segments) up to this size are checksummed whole at opening
CHUNK = 1 << 20
SCHEMA_FILE = "SCHEMA_VERSION"
ARCHIVES_FILE = "archives.json"   # (index.locations: an add rewrites it just before its commit)
# Not listed: written outside commits (the publish marker, Whoosh's lock file, this list itself), or changed beside
# a commit and checked by their own structure (the story files, the archive folders: a reader opening the index
# while an add rewrites them must not take the new version for damage).
VOLATILE = frozenset({store.PUBLISHED, whoosh_wall.WRITELOCK_FILE, MANIFEST, STORIES_FILE, STORY_LOG_FILE,
                      STORY_MAP_FILE, ARCHIVES_FILE})


# --- names ---------------------------------------------------------------------------------------------------------

def live_toc(gen: Path) -> Optional[str]:
    """The name of the newest TOC in a generation (the commit Whoosh opens), None when there is none."""
    newest = whoosh_wall.newest_toc(gen)
    return whoosh_wall.toc_name(newest) if newest >= 0 else None


is_segment_file = whoosh_wall.is_segment_file   # a file of a Whoosh segment: never changed once written
_segment_id = whoosh_wall.segment_id_of


def _listed_files(gen: Path) -> Iterator[str]:
    """The generation's regular files that a checksum list may hold (not temporary, not volatile)."""
    for name in sorted(os.listdir(gen)):
        if not name.startswith(".") and name not in VOLATILE and (gen / name).is_file():
            yield name


def _toc_segments(gen: Path):
    """(schema, segments) of the generation's live TOC (Whoosh raises when the TOC cannot be read)."""
    from whoosh.filedb.filestore import FileStorage
    from whoosh.index import TOC
    toc = TOC.read(FileStorage(str(gen)), store.INDEX_NAME)
    return toc.schema, toc.segments


_segment_files = whoosh_wall.segment_files   # a compound `.seg`, or the separate files of an uncompounded one


# --- checksums -----------------------------------------------------------------------------------------------------

def _crc(path: Path) -> str:
    crc = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            crc = zlib.crc32(chunk, crc)
    return f"{crc:08x}"


def _edges_crc(path: Path, size: int) -> str:
    """CRC-32 of the first and last EDGE bytes (of the whole file when it is no longer than both)."""
    with open(path, "rb") as fh:
        if size <= 2 * EDGE:
            return f"{zlib.crc32(fh.read()):08x}"
        crc = zlib.crc32(fh.read(EDGE))
        fh.seek(size - EDGE)
        return f"{zlib.crc32(fh.read(EDGE), crc):08x}"


def _entry(path: Path) -> dict:
    size = path.stat().st_size
    return {"size": size, "crc32": _crc(path), "edges": _edges_crc(path, size)}


def _size_problem(size: int, expected: int) -> str:
    return f"has {size:,} bytes, {expected:,} expected ({'cut short' if size < expected else 'grown'})"


_EDGES_SOUND: set[tuple] = set()   # files whose edges this process found sound: path, size, checksum, identity
_EDGES_SOUND_LIMIT = 200_000


def _problem(path: Path, entry: dict, full: bool) -> Optional[str]:
    """What is wrong with a file against its entry: size, then the edges (full=False) or every byte. A file whose
    edges were found sound before is not read again while its identity holds (inode, modification and change
    times: a file rewritten or replaced since is read again), so that a server opening a version after each add
    reads only the new segments' files."""
    try:
        st = path.stat()
        size = st.st_size
        if size != entry["size"]:
            return _size_problem(size, entry["size"])
        if full:
            return None if _crc(path) == entry["crc32"] else "does not match its checksum (altered)"
        key = _file_key(path, entry, st)
        if key in _EDGES_SOUND:
            return None
        if _edges_crc(path, size) != entry["edges"]:
            return "does not match its checksum at its beginning or end (altered)"
        if len(_EDGES_SOUND) >= _EDGES_SOUND_LIMIT:
            _EDGES_SOUND.clear()
        _EDGES_SOUND.add(key)
    except FileNotFoundError:
        return "is missing"
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    return None


# --- the list ------------------------------------------------------------------------------------------------------

def read_manifest(gen: Path) -> Optional[dict]:
    """The generation's checksum list (None: an index from before checksums); IndexDamaged when unreadable."""
    path = Path(gen) / MANIFEST
    try:
        data = json.loads(path.read_bytes())
        if not (isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("files"), dict)):
            raise ValueError("not a newsdex checksum list")
        for entry in data["files"].values():
            entry["size"], entry["crc32"], entry["edges"]   # noqa: B018 - every entry has its three fields
        return data
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise IndexDamaged(path, f"cannot be read ({exc.strerror})") from exc
    except (ValueError, TypeError, KeyError) as exc:
        raise IndexDamaged(path, f"is not a valid checksum list ({type(exc).__name__}: {exc})") from exc


def write_manifest(gen: Path, create: bool = False) -> None:
    """Checksum a generation's committed files (after each commit, under the writer lock). A generation without a
    list keeps none unless `create`: its older files' checksums would vouch for bytes never checked."""
    gen = Path(gen)
    old = read_manifest(gen)
    if old is None and not create:
        return
    carried = old["files"] if old else {}
    toc = live_toc(gen)
    used = {segment.segment_id() for segment in _toc_segments(gen)[1]}
    files = {}
    for name in _listed_files(gen):
        if (whoosh_wall.toc_generation(name) is not None and name != toc) or (is_segment_file(name) and _segment_id(name) not in used):
            continue   # an earlier commit's TOC, a segment merged away: not part of this commit
        keep = is_segment_file(name) and name in carried
        files[name] = carried[name] if keep else _entry(gen / name)
    _write_atomically(gen / MANIFEST, json.dumps({"format": FORMAT, "toc": toc, "files": files}, indent=1))


def _write_atomically(path: Path, text: str) -> None:
    durable.write_atomically(path, lambda fh: fh.write(text + "\n"), text=True, sync_dir=True)


# --- checks --------------------------------------------------------------------------------------------------------

def _metadata_problems(gen: Path) -> Iterator[tuple[Path, str]]:
    """Small metadata that must parse: the schema version, the story map, the stories file's header and size."""
    schema = gen / SCHEMA_FILE
    try:
        text = schema.read_bytes()
        if not text.strip().isdigit():
            yield schema, f"does not hold a schema version number (it holds {text[:40]!r})"
    except FileNotFoundError:
        pass   # an older index; a listed file that is missing is found by its entry
    except OSError as exc:
        yield schema, f"cannot be read ({exc.strerror})"
    problem = story_map_problem(gen)
    if problem:
        yield gen / STORY_MAP_FILE, problem
    try:
        archives = json.loads((gen / ARCHIVES_FILE).read_bytes())
        if not isinstance(archives, list) or not all(isinstance(a, str) for a in archives):
            yield gen / ARCHIVES_FILE, "is not a JSON list of archive folders"
    except FileNotFoundError:
        pass   # an index made before archives were remembered
    except OSError as exc:
        yield gen / ARCHIVES_FILE, f"cannot be read ({exc.strerror})"
    except ValueError as exc:
        yield gen / ARCHIVES_FILE, f"is not valid JSON ({exc})"
    if (gen / STORIES_FILE).exists():
        problem = stories_file_problem(gen / STORIES_FILE)
        if problem:
            yield gen / STORIES_FILE, problem
    elif (gen / STORY_LOG_FILE).exists() and (gen / MANIFEST).exists():
        yield gen / STORIES_FILE, "is missing"   # written with the log: a checked index that lost it is damaged


def check_at_open(gen: Path) -> None:
    """The cheap checks of a generation being opened: IndexDamaged naming the first damaged file."""
    gen = Path(gen)
    for path, problem in _metadata_problems(gen):
        raise IndexDamaged(path, problem)
    manifest = read_manifest(gen)
    if manifest is None:
        return   # an index from before checksums: Whoosh's own reading is all there is
    current = manifest.get("toc") == live_toc(gen)
    for name, entry in manifest["files"].items():
        if name in VOLATILE or (not current and not is_segment_file(name)):
            continue   # (listed by an older newsdex), or a file of an earlier commit
        small = not is_segment_file(name) and entry["size"] <= SMALL_FILE
        problem = _problem(gen / name, entry, full=small)
        if problem and not (problem == "is missing" and not current):   # merged away since the list was written
            raise IndexDamaged(gen / name, problem)


@dataclass
class Report:
    """What `verify` found: damaged files (path, problem), notes, and how much was checked."""

    gen: Path
    damaged: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    files: int = 0
    bytes: int = 0
    checksummed: bool = True

    def add(self, path: Path, problem: str) -> None:
        if all(path != seen for seen, _ in self.damaged):   # one problem per file: the first found
            self.damaged.append((path, problem))


class Verified:
    """What one process has proved sound, so that checking the next version of a generation reads only what is new:
    files by name, size, checksum and identity (inode, change time: a file replaced or rewritten since is read
    again), segments Whoosh opened by id. `lock` makes the checks of successive versions run one at a time."""

    def __init__(self) -> None:
        self.files: set[tuple] = set()
        self.segments: set[tuple] = set()
        self.lock = threading.Lock()


def _file_key(path: Path, entry: dict, st: Optional[os.stat_result] = None) -> Optional[tuple]:
    """A file as its list entry has it and as it is on disk (a file rewritten or replaced since has another)."""
    if st is None:
        try:
            st = path.stat()
        except OSError:
            return None
    return str(path), entry["size"], entry["crc32"], st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns


def verify(gen: Path, seen: Optional[Verified] = None) -> Report:
    """Check every file of a generation: full checksums, the TOC and every segment it names (Whoosh opens each),
    unlisted files. With `seen`, what it holds is taken as checked (and what is found sound is added)."""
    gen = Path(gen)
    report = Report(gen)
    for path, problem in _metadata_problems(gen):
        report.add(path, problem)
    try:
        manifest = read_manifest(gen)
    except IndexDamaged as exc:
        report.add(exc.path, exc.problem)
        manifest = None
    toc = live_toc(gen)
    if manifest is None:
        report.checksummed = False
    else:
        _verify_listed(gen, manifest, toc, report, seen)
    _verify_toc(gen, toc, manifest, report, seen)
    return report


def _verify_listed(gen: Path, manifest: dict, toc: Optional[str], report: Report,
                   seen: Optional[Verified] = None) -> None:
    current = manifest.get("toc") == toc
    if not current:
        report.notes.append(f"the checksums were written for {manifest.get('toc')}, the live commit is {toc}: "
                            f"only the segment files both share are checked")
    for name, entry in sorted(manifest["files"].items()):
        if name in VOLATILE or (not current and not is_segment_file(name)):
            continue
        key = _file_key(gen / name, entry) if seen is not None else None
        problem = None if key is not None and key in seen.files else _problem(gen / name, entry, full=True)
        if problem == "is missing" and not current:
            continue
        report.files += 1
        report.bytes += entry["size"]
        if problem:
            report.add(gen / name, problem)
        elif key is not None:
            seen.files.add(key)
    if current:
        for name in _listed_files(gen):
            if name not in manifest["files"]:
                report.notes.append(f"{gen / name} is not in the checksum list: not part of the committed index "
                                    f"(left by an interrupted run?)")


def _verify_toc(gen: Path, toc: Optional[str], manifest: Optional[dict], report: Report,
                seen: Optional[Verified] = None) -> None:
    """The TOC reads, names segments whose files exist, and Whoosh can open each of them."""
    from whoosh.reading import SegmentReader
    from whoosh.filedb.filestore import FileStorage
    if toc is None:
        report.add(gen, f"holds no {store.INDEX_NAME} TOC (`{whoosh_wall.toc_name('N')}`)")
        return
    try:
        schema, segments = _toc_segments(gen)
    except Exception as exc:   # noqa: BLE001 - whatever Whoosh raises on a damaged TOC is the damage
        report.add(gen / toc, f"cannot be read ({type(exc).__name__}: {exc})")
        return
    storage = FileStorage(str(gen))
    listed = manifest["files"] if manifest and manifest.get("toc") == toc else None
    for segment in segments:
        names = _segment_files(gen, segment)
        missing = [name for name in names if not (gen / name).exists()] or ([] if names else [segment.segment_id()])
        for name in missing:
            report.add(gen / name, "is missing (the TOC names it)")
        if listed is not None:
            for name in names:
                if name not in listed:
                    report.notes.append(f"{gen / name} is named by the TOC but has no checksum")
        if missing:
            continue
        if manifest is None:
            report.files += len(names)
            report.bytes += sum((gen / name).stat().st_size for name in names)
        key = (str(gen), segment.segment_id())
        if seen is not None and key in seen.segments:
            continue
        try:
            SegmentReader(storage, schema, segment).close()
        except Exception as exc:   # noqa: BLE001 - a segment Whoosh cannot open is damaged, whatever it raises
            report.add(gen / names[0], f"cannot be read ({type(exc).__name__}: {exc})")
        else:
            if seen is not None:
                seen.segments.add(key)


def diagnose(gen: Path) -> Optional[IndexDamaged]:
    """After a read of the generation failed: the damage that explains it, or None when every file is sound."""
    try:
        check_at_open(gen)
    except IndexDamaged as exc:
        return exc
    except FileNotFoundError:
        return None   # the generation itself went away (a swap): not damage
    report = verify(gen)
    return IndexDamaged(*report.damaged[0]) if report.damaged else None


def verify_files(gen: Path, names) -> None:
    """Full checksums of some listed files before they are read whole (IndexDamaged naming the first bad one)."""
    manifest = read_manifest(gen)
    if manifest is None:
        return
    for name in names:
        if name not in manifest["files"]:
            continue
        problem = _problem(Path(gen) / name, manifest["files"][name], full=True)
        if problem:
            raise IndexDamaged(Path(gen) / name, problem)


def verify_segments(gen: Path, segments) -> None:
    """Full checksums of every file of these segments (before a merge reads them): IndexDamaged naming one."""
    for segment in segments:
        verify_files(gen, _segment_files(Path(gen), segment))
