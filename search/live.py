"""The live index version as a Snapshot: opened when the version on disk changes, retired after its last request.

Each use checks `index_version(root)` (one small file read and a directory listing). When it changed, the
calling thread opens and warms a new Snapshot while other threads keep answering from the old one (a server,
`refresh_in_background`: a thread of its own does, and every request keeps the old one until the new is warm); the
old one is closed when its last request finishes. A request that trips over a vanished generation is retried
once on a fresh snapshot, so no request fails because of a swap.

Memory of a long-running server: a retired version is freed by its last request. Its arrays (tens of MB each at a
million articles) were allocated in glibc's heaps, where freed memory stays with the process; each freed version
asks a thread of its own to hand free pages back to the system (`malloc_trim`) once more is kept than used, so
memory follows the live versions, not the history of versions. A server checks each version's files in the
background with one memo (`integrity.Verified`), so a version costs the check of its new files only.
"""
from __future__ import annotations

import ctypes
import logging
import os
import threading
import time
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Optional, TypeVar

from index import integrity
from index.errors import IndexMissing
from index.store import index_version
from search.model import QueryError
from search.snapshot import Snapshot

log = logging.getLogger(__name__)
T = TypeVar("T")


class LiveSnapshot:
    """The Snapshot of the live index version under `root`, shared by threads; follows rebuilds and rollbacks."""

    def __init__(self, root: str | os.PathLike, verify_in_background: bool = False,
                 warm: Callable[[Snapshot], None] = lambda snap: None, refresh_in_background: bool = False,
                 preload_postings: bool = False):
        self.root = Path(root)
        # a server maps the posting arrays of each version it serves in a thread of its own (Snapshot.
        # preload_postings), so that a word's first search costs no page faults
        self._preloader = _Preloader(self) if preload_postings else None
        if self._preloader is not None:   # (its thread ends with this object, closed or not)
            weakref.finalize(self, self._preloader.stop)
        self._verify = verify_in_background   # a server checks every byte of each version it opens, once
        self._verified = integrity.Verified() if verify_in_background else None
        self._warm = warm                     # what to build before a swapped-in snapshot serves requests
        # a server opens a new version in a thread of its own and answers from the old one meanwhile (no request
        # waits for it); otherwise the request that notices the change opens it (a search after an add sees it)
        self._background = refresh_in_background
        self._refresher: Optional[threading.Thread] = None
        self.snap: Optional[Snapshot] = None
        self._refresh_lock = threading.Lock()
        self._refs_lock = threading.Lock()

    def _fresh(self, force: bool = False) -> Snapshot:
        snap = self.snap
        stale = force or snap is None or index_version(self.root) != snap.version
        if stale and snap is not None and not force and self._background:
            self._refresh_later()
        elif stale:
            # the first opener waits; later refreshes happen in one thread while the others use the old snapshot
            if self._refresh_lock.acquire(blocking=snap is None or force):
                try:
                    snap = self.snap
                    if force or snap is None or index_version(self.root) != snap.version:
                        new = self._open(snap)
                        if snap is not None:   # a swap: build the facet arrays before requests see it
                            self._warm(new)
                        old, self.snap = self.snap, new
                        if old is not None:
                            self._retire(old)
                        if self._preloader is not None:
                            self._preloader.request()
                finally:
                    self._refresh_lock.release()
            snap = self.snap
        if snap is None:
            raise IndexMissing(self.root)
        return snap

    def _open(self, old: Optional[Snapshot]) -> Snapshot:
        new = Snapshot(self.root, reuse=old)
        if self._verify:
            new.verify_in_background(self._verified)
        freed = weakref.finalize(new, _TRIMMER.request)   # its memory goes back to the system once it is freed
        freed.atexit = False   # (not at interpreter exit: the system takes it all back then)
        return new

    def _refresh_later(self) -> None:
        """Open the new version in a thread of its own (one at a time); requests keep the old one until it is
        ready and warm."""
        with self._refs_lock:
            if self._refresher is not None and self._refresher.is_alive():
                return
            self._refresher = threading.Thread(target=self._refresh_in_thread, name="newsdex-refresh", daemon=True)
            self._refresher.start()

    def _refresh_in_thread(self) -> None:
        try:
            with self._refresh_lock:
                snap = self.snap
                if snap is None or index_version(self.root) == snap.version:   # closed, or already done
                    return
                new = self._open(snap)
                self._warm(new)
                if self.snap is not snap:   # closed meanwhile
                    self._retire(new)
                    return
                self.snap = new
                self._retire(snap)
            if self._preloader is not None:
                self._preloader.request()
        except Exception:   # noqa: BLE001 - the old version keeps serving; the next request tries again
            log.exception("opening the new index version of %s failed; still serving the previous one", self.root)

    def _retire(self, snap: Snapshot) -> None:
        with self._refs_lock:
            snap.retired = True
            if snap.refs == 0:
                snap.close()

    @contextmanager
    def use(self, force: bool = False):
        """The live snapshot, held (not closed) until the block ends."""
        while True:   # a snapshot retired between _fresh() and here is never used: take the new one
            snap = self._fresh(force)
            force = False
            with self._refs_lock:
                if not snap.retired:
                    snap.refs += 1
                    break
        try:
            yield snap
        finally:
            with self._refs_lock:
                snap.refs -= 1
                if snap.retired and snap.refs == 0:
                    snap.close()

    def run(self, fn: Callable[[Snapshot], T]) -> T:
        """fn(snapshot), retried once on a fresh snapshot if the index moved under it."""
        for attempt in (0, 1):
            with self.use(force=attempt == 1) as snap:
                try:
                    result = fn(snap)
                    if snap.damage is not None:   # a part that degrades alone (a facet) met a damaged file
                        raise snap.damage
                    return result
                except (QueryError, IndexMissing):
                    raise
                except Exception:
                    if attempt or (not snap.retired and index_version(self.root) == snap.version):
                        raise
                    log.info("index changed during a request; retrying on the new version")

    def close(self) -> None:
        """Release the open index files."""
        snap, self.snap = self.snap, None
        if snap is not None:
            self._retire(snap)
        if self._preloader is not None:
            self._preloader.stop()


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                      "fsmblks", "uordblks", "fordblks", "keepcost")]


PRELOAD_SHARE = 0.25   # the posting arrays preloaded: at most this share of the memory available (MemAvailable)


def _proc_bytes(path: str, field: bytes) -> Optional[int]:
    """A figure in kB of a /proc file (`field` as it starts its line), in bytes; None where it cannot be read."""
    try:
        with open(path, "rb") as fh:
            return next(int(line.split()[1]) * 1024 for line in fh if line.startswith(field))
    except (OSError, StopIteration, ValueError):
        return None


def _available_memory() -> int:
    return _proc_bytes("/proc/meminfo", b"MemAvailable:") or 0


class _Worker:
    """A daemon thread of its own, started at the first request(), that does its work once for every burst of
    requests (those made while it waits DELAY seconds, or works, cost one more round), until stop()."""

    NAME = "newsdex-worker"
    DELAY = 0.0

    def __init__(self) -> None:
        self._wanted = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()
        self._stopped = False
        self.idle = threading.Event()   # set while no work is asked for or running (tests wait for it)
        self.idle.set()

    def request(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self.idle.clear()
            self._wanted.set()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.NAME, daemon=True)
                self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._wanted.set()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            time.sleep(self.DELAY)
            with self._lock:
                if self._stopped:
                    self.idle.set()
                    return
                self._wanted.clear()
            self._work()
            with self._lock:
                if not self._wanted.is_set():
                    self.idle.set()

    def _work(self) -> None:
        raise NotImplementedError


class _Preloader(_Worker):
    """Maps the live version's posting arrays in a thread of its own (one version at a time, the newest: versions
    swapped in meanwhile are done once), within a share of the memory available."""

    NAME = "newsdex-preload"

    def __init__(self, live: "LiveSnapshot") -> None:
        super().__init__()
        self._live = weakref.ref(live)
        self.preloaded = 0   # bytes, over every version (for tests and the log)
        self.seconds = 0.0   # ... and the time it took
        self._told = False   # (that the budget fell short: said once)

    def _work(self) -> None:
        live = self._live()
        snap = live.snap if live is not None else None
        del live
        if snap is None:
            return
        started = time.perf_counter()
        budget = int(PRELOAD_SHARE * _available_memory())
        try:
            done, complete = snap.preload_postings(budget)
            self.preloaded += done
            if not complete and not self._told:
                self._told = True
                log.info("posting arrays of %s preloaded up to %d MB (a quarter of the memory available); "
                         "the rest is read when first searched", snap.root, budget >> 20)
        except Exception:   # noqa: BLE001 - a file merged away meanwhile: the next version is preloaded
            log.debug("preloading the posting arrays of %s stopped", snap.root, exc_info=True)
        self.seconds += time.perf_counter() - started


class _Trimmer(_Worker):
    """Hands the free pages of glibc's heaps back to the system, in a thread of its own, shortly after a version
    was freed (no request waits for it; versions freed close together cost one trim), when the process keeps more
    freed memory than it uses: anonymous RSS over twice what malloc has handed out. Freed memory that is kept
    makes the next version's arrays cheap (no page faults: a refresh at 1M takes about half as long), so one
    version's worth of it stays. A no-op where the C library has no malloc_trim or mallinfo2."""

    NAME = "newsdex-trim"
    DELAY = 0.2   # seconds: the freed version's arrays are released after its finalizer has run

    def __init__(self) -> None:
        super().__init__()
        try:
            libc = ctypes.CDLL(None)
            self._trim, self._info = libc.malloc_trim, libc.mallinfo2
            self._info.restype = _MallInfo2
        except (OSError, AttributeError):
            self._trim = self._info = None
        self.requested = 0   # (counted for tests)

    def request(self) -> None:
        self.requested += 1
        if self._trim is not None:
            super().request()

    def worth_it(self) -> bool:
        """More freed memory is resident than is in use."""
        info = self._info()
        rss = _proc_bytes("/proc/self/status", b"RssAnon:")
        return rss is None or rss > 2 * (info.uordblks + info.hblkhd)

    def _work(self) -> None:
        if self.worth_it():
            self._trim(0)


_TRIMMER = _Trimmer()
