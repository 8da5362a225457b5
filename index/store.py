"""Where an index lives on disk, and how a new one replaces the old atomically.

An index root holds generations (`gen-*`, each a complete Whoosh index) and a `CURRENT` file naming the live
one. A full rebuild writes a new generation beside the live one and then replaces `CURRENT` with one atomic
rename, so a crash or kill at any moment leaves the previous generation serving. Readers resolve `CURRENT`
when they open and reopen when it changes.

The generation that was live before is kept, and a `PREVIOUS` file names it: `rollback` swaps the two names
(CURRENT and PREVIOUS), so a second rollback swaps back. Only the next successful rebuild removes it.
"""
from __future__ import annotations

import errno
import fcntl
import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from whoosh import index as whoosh_index

from index import durable, storyfile, whoosh_wall
from index.errors import DiskError, IndexBusy, IndexDamaged, IndexMissing, NewsdexError, NoPrevious
from index.schema import SCHEMA_VERSION, build_schema

whoosh_wall.install()   # every index this process opens reads its segments in place (see index/whoosh_wall.py)

CURRENT = "CURRENT"
PREVIOUS = "PREVIOUS"      # names the generation that was live before CURRENT's (what `rollback` makes live)
LOCK = "writer.lock"
GEN_PREFIX = "gen-"
INDEX_NAME = whoosh_wall.INDEX_NAME   # the name of the Whoosh index in each generation

ENV_VAR = "NEWSDEX_INDEX"
DEFAULT_DIRNAME = "newsdex-index"


def default_index_root() -> Path:
    """$NEWSDEX_INDEX if set, else ./newsdex-index."""
    return Path(os.environ.get(ENV_VAR) or DEFAULT_DIRNAME)


def current_generation(root: str | os.PathLike) -> Path | None:
    """The live generation's directory, or None when the root holds no complete index."""
    return _named_generation(Path(root), CURRENT)


def _named_generation(root: Path, pointer: str) -> Path | None:
    """The generation a pointer file (CURRENT or PREVIOUS) names, or None when it names none that exists."""
    try:
        name = (root / pointer).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    gen = root / name
    if not name.startswith(GEN_PREFIX) or "/" in name or not gen.is_dir():
        return None
    return gen


def previous_generation(root: str | os.PathLike) -> Path | None:
    """The generation that was live before the live one (what `rollback` makes live again), or None."""
    return _previous(Path(root))[0]


def _previous(root: Path) -> tuple[Path | None, bool]:
    """(previous generation, True when PREVIOUS names it). Without a usable PREVIOUS (an index made before it
    existed, a run stopped between writing PREVIOUS and CURRENT, when both name the live one, or a generation
    removed by hand) it is the newest other complete generation."""
    live = current_generation(root)
    named = _named_generation(root, PREVIOUS)
    if named is not None and named != live and (named / PUBLISHED).exists():
        return named, True
    others = [g for g in _generations(root) if g != live and (g / PUBLISHED).exists()]
    return (others[-1] if others else None), False


def _generations(root: Path) -> list[Path]:
    """Every generation directory under root, oldest name first."""
    return sorted((p for p in root.glob(GEN_PREFIX + "*") if p.is_dir()), key=lambda p: p.name)


def article_count(gen: Path | None) -> int | None:
    """How many articles a generation holds (from its TOC: no segment is opened), or None when it has none."""
    if gen is None or not whoosh_index.exists_in(str(gen), indexname=INDEX_NAME):
        return None
    try:
        return sum(segment.doc_count() for segment in live_toc(gen)[1])
    except Exception:  # noqa: BLE001 - a damaged index must not stop the rebuild or rollback that mends it
        return None


def open_index(root: str | os.PathLike):
    """Open the live Whoosh index under `root` after its cheap integrity checks (index.integrity): IndexMissing
    when there is none, IndexDamaged naming the file when one is damaged."""
    from index import integrity   # (here: index.integrity imports this module)
    for attempt in range(3):
        version = index_version(root)
        gen = current_generation(root)
        if gen is None or _toc_generation(gen) < 0:   # (not Whoosh's exists_in: it reads the TOC, unchecked)
            raise IndexMissing(root)
        try:
            integrity.check_at_open(gen)
            return _open_whoosh(gen)
        except IndexDamaged:
            # a commit or a swap under way changes files while they are looked at: look again at the new version
            if attempt == 2 or index_version(root) == version:
                raise


def _open_whoosh(gen: Path):
    """Whoosh's index object; what it raises on a damaged file becomes IndexDamaged naming the file."""
    from index import integrity
    try:
        return whoosh_index.open_dir(str(gen), indexname=INDEX_NAME)
    except Exception as exc:
        damage = integrity.diagnose(gen)
        if damage is None:
            raise
        raise damage from exc


def index_version(root: str | os.PathLike) -> tuple[str, int]:
    """(live generation name, Whoosh commit generation): changes whenever a reader should refresh."""
    gen = current_generation(root)
    if gen is None:
        return ("", -1)
    return (gen.name, _toc_generation(gen))


def version_time(root: str | os.PathLike) -> float | None:
    """When the live version became live (seconds since the epoch): the later of its last commit and the switch
    to its generation (a rollback makes an older generation live now); None without an index."""
    gen = current_generation(root)
    if gen is None:
        return None
    try:
        toc = gen / whoosh_wall.toc_name(_toc_generation(gen))
        return max(os.stat(Path(root) / CURRENT).st_mtime, os.stat(toc).st_mtime)
    except OSError:
        return None


def _toc_generation(gen: Path) -> int:
    """The highest TOC generation number in a Whoosh directory (a new one appears at every commit)."""
    return whoosh_wall.newest_toc(gen)


def live_toc(gen: Path) -> tuple[int, list]:
    """(TOC generation, segments) of a generation's last commit: what a run starting now reads from."""
    from whoosh.filedb.filestore import FileStorage
    from whoosh.index import TOC
    toc = TOC.read(FileStorage(str(gen)), INDEX_NAME, schema=_SCHEMAS.get(str(gen)))
    _SCHEMAS.setdefault(str(gen), toc.schema)
    return toc.generation, toc.segments


# A generation's schema never changes (a rebuild makes a new generation): unpickling it costs ~1 ms, and a small
# add opened its generation a dozen times. Writers (builder, merge) open generations through here.
_SCHEMAS: dict = {}


def open_generation(gen: Path):
    """The Whoosh index of a generation, its schema read once per process."""
    schema = _SCHEMAS.get(str(gen))
    if schema is None:   # (an index opened without a schema reads its TOC again at every `ix.schema`)
        schema = _SCHEMAS[str(gen)] = whoosh_index.open_dir(str(gen), indexname=INDEX_NAME).schema
    return whoosh_index.open_dir(str(gen), indexname=INDEX_NAME, schema=schema)


def new_generation(root: str | os.PathLike) -> Path:
    """Create an empty Whoosh index in a fresh generation directory (not yet live)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    now = time.time()   # the name sorts by creation time (the microseconds too), which prune's fallback relies on
    gen = root / (f"{GEN_PREFIX}{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}-{os.getpid()}-"
                  f"{int(now * 1e6) % 10**6:06d}")
    gen.mkdir()
    whoosh_index.create_in(str(gen), build_schema(), indexname=INDEX_NAME)
    (gen / "SCHEMA_VERSION").write_text(str(SCHEMA_VERSION), encoding="utf-8")
    from index import integrity
    integrity.write_manifest(gen, create=True)   # every commit of this generation updates it
    return gen


def schema_version(gen: Path) -> int | None:
    """The index format a generation was written in (index.schema.SCHEMA_VERSION), or None when unreadable."""
    try:
        return int((Path(gen) / "SCHEMA_VERSION").read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


PUBLISHED = "PUBLISHED"   # marker written into a generation just before it goes live (complete, not half-built)


def publish(root: str | os.PathLike, gen: Path) -> None:
    """Make `gen` the live generation with one atomic rename, keep the one it replaces as the previous generation,
    and remove the others."""
    root = Path(root)
    previous = current_generation(root)
    for done in (previous, gen):   # previous: a generation published before these markers existed
        if done is not None and not (done / PUBLISHED).exists():
            (done / PUBLISHED).write_text(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) + "\n", encoding="utf-8")
    _fsync_tree(gen)
    # PREVIOUS before CURRENT: stopped in between, both name the live generation, which prune reads as "unsure"
    # and so removes no complete generation
    if previous is not None:
        _write_pointer(root, PREVIOUS, previous.name)
    else:
        (root / PREVIOUS).unlink(missing_ok=True)
    _write_pointer(root, CURRENT, gen.name)
    prune(root)


def rollback(root: str | os.PathLike, lock_timeout: float = 0.0) -> tuple[Path, Path]:
    """Make the previous generation live again, as it was, and keep the one it replaces as the previous one (a
    second rollback swaps back); returns (now live, now previous). NoPrevious when there is none."""
    root = Path(root)
    with disk_errors(root, lambda: "nothing changed"), writer_lock(root, timeout=lock_timeout):
        recover(root)
        live = current_generation(root)
        if live is None:
            raise IndexMissing(root)
        previous = previous_generation(root)
        if previous is None:
            raise NoPrevious(f"no previous index to roll back to in {root} (one is kept after each successful "
                             f"`newsdex reindex`); nothing changed")
        _write_pointer(root, PREVIOUS, live.name)
        _write_pointer(root, CURRENT, previous.name)
    return previous, live


def _write_pointer(root: Path, pointer: str, name: str) -> None:
    """Replace a pointer file (CURRENT, PREVIOUS) atomically and durably."""
    durable.write_atomically(root / pointer, lambda fh: fh.write(name + "\n"), text=True,
                             tmp=root / f"{pointer}.{os.getpid()}.tmp", sync_dir=True)


def prune(root: str | os.PathLike) -> list[str]:
    """Remove half-built generations and superseded ones other than the previous generation (kept for `rollback`
    and for readers that opened it); returns what was removed. Call it holding the writer lock: an unpublished
    generation is then certainly a leftover, not one being built."""
    root = Path(root)
    live = current_generation(root)
    previous, sure = _previous(root)
    removed = []
    for gen in _generations(root):
        if gen in (live, previous):
            continue
        if (gen / PUBLISHED).exists() and not sure:
            continue   # which complete generation was live before is unknown: remove none of them
        shutil.rmtree(gen, ignore_errors=True)
        removed.append(gen.name)
    _remove_pointer_temps(root)
    return removed


def _remove_pointer_temps(root: Path) -> list[str]:
    """Remove half-written CURRENT or PREVIOUS files; returns their names."""
    removed = []
    for pointer in (CURRENT, PREVIOUS):
        for tmp in root.glob(f"{pointer}.*.tmp"):
            tmp.unlink(missing_ok=True)
            removed.append(tmp.name)
    return removed


def recover(root: str | os.PathLike) -> list[str]:
    """Clean up after an interrupted run (call holding the writer lock); one message per thing recovered.

    Leftovers: a half-built generation of a killed rebuild, uncommitted segment files and Whoosh temp files of a
    killed add in the live generation, a half-written CURRENT. The index itself needs no repair: the live TOC
    only names complete segments."""
    root = Path(root)
    messages = []
    if not root.is_dir():
        return messages
    live = current_generation(root)
    for gen in _generations(root):
        if gen != live and not (gen / PUBLISHED).exists():
            shutil.rmtree(gen, ignore_errors=True)
            messages.append(f"removed half-built index {gen.name} left by an interrupted rebuild"
                            f"{_pid_note(gen.name)}")
    messages.extend(f"removed half-written {name}" for name in _remove_pointer_temps(root))
    if live is not None:
        count = len(remove_orphans(live))
        if count:
            messages.append(f"removed {count} uncommitted file(s) of an interrupted add from {live.name}")
        # story changes logged for a commit that never happened (index.storyfile): cut off before any commit here
        storyfile.discard_uncommitted(live, _toc_generation(live))
    prune(root)
    return messages


def _pid_note(gen_name: str) -> str:
    parts = gen_name.split("-")
    return f" (pid {parts[3]})" if len(parts) > 4 and parts[3].isdigit() else ""


def remove_orphans(gen: Path) -> list[str]:
    """Delete files in a generation that its committed TOC does not use (segments of an interrupted add, Whoosh
    temp files and half-written TOCs). Only under the writer lock: a running writer's files look the same."""
    from whoosh.filedb.filestore import FileStorage
    from whoosh.index import TOC

    gen = Path(gen)
    storage = FileStorage(str(gen))
    try:
        toc = TOC.read(storage, INDEX_NAME)
    except Exception:
        return []
    used = {segment.segment_id() for segment in toc.segments}
    toc_name = whoosh_wall.toc_name(toc.generation)
    removed = []
    for name in os.listdir(gen):
        path = gen / name
        if name == whoosh_wall.TEMP_DIR and path.is_dir():
            leftovers = os.listdir(path)
            shutil.rmtree(path, ignore_errors=True)
            removed.extend(leftovers)
        elif whoosh_wall.is_toc_file(name) and name != toc_name:
            # a TOC being written when the run died (`_MAIN_7.toc.<time>`), or one Whoosh failed to clean
            path.unlink(missing_ok=True)
            removed.append(name)
        elif whoosh_wall.is_segment_file(name) and whoosh_wall.segment_id_of(name) not in used:
            path.unlink(missing_ok=True)
            removed.append(name)
        elif name.startswith(".") and name.endswith(".tmp"):
            # a stories file or story map being written when the run died (index.stories writes `.NAME.PID.tmp`)
            path.unlink(missing_ok=True)
            removed.append(name)
    return removed


def discard(gen: Path) -> None:
    """Remove a generation that will never be published (an interrupted or failed rebuild)."""
    shutil.rmtree(gen, ignore_errors=True)


def fsync_segment(gen: Path, segment) -> None:
    """Make a written segment's files durable before a TOC refers to it."""
    for name in whoosh_wall.written_segment_files(gen, segment):
        fd = os.open(gen / name, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def fsync_dir(path: Path) -> None:
    """fsync every file in a directory, then the directory (before a commit or publish names them)."""
    _fsync_tree(Path(path))


def fsync_names(path: Path) -> None:
    """fsync a directory only: the names of files that were made durable by whoever wrote them."""
    _fsync_dir(Path(path))


def _fsync_tree(path: Path) -> None:
    for name in os.listdir(path):
        if (path / name).is_dir():
            continue
        fd = os.open(path / name, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    _fsync_dir(path)


_fsync_dir = durable.fsync_dir


@contextmanager
def disk_errors(root: str | os.PathLike, outcome: Callable[[], str]):
    """Turn an OSError while writing the index (disk full, read-only, permission denied) into one DiskError line
    naming the file (or, for a failed write that names none, the index folder) and `outcome()`: what was kept."""
    try:
        yield
    except OSError as exc:
        raise DiskError(exc.filename or root, exc, outcome()) from exc


@contextmanager
def writer_lock(root: str | os.PathLike, timeout: float = 0.0):
    """Hold the index root's writer lock (an flock: the kernel drops it when the holder dies, so it never goes stale).

    Yields the lock's file descriptor (worker processes close their inherited copy, so only this process holds
    it). Raises IndexBusy naming the holder's pid when another run holds it past `timeout` seconds.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise NewsdexError(f"cannot lock {root / LOCK}: {exc.strerror}") from exc
                if time.monotonic() >= deadline:
                    raise IndexBusy(root, _read_pid(fd)) from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield fd
        os.ftruncate(fd, 0)   # a clean exit leaves no pid behind
    finally:
        os.close(fd)  # closing drops the flock (and the kernel drops it if this process is killed)


def _read_pid(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 32, 0).decode().strip() or 0) or None
    except (OSError, ValueError):
        return None
