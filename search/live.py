"""The live index version as a Snapshot: opened when the version on disk changes, retired after its last request.

Each use checks `index_version(root)` (one small file read and a directory listing). When it changed, the
calling thread opens and warms a new Snapshot while other threads keep answering from the old one (a server,
`refresh_in_background`: a thread of its own does, and every request keeps the old one until the new is warm); the
old one is closed when its last request finishes. A request that trips over a vanished generation is retried
once on a fresh snapshot, so no request fails because of a swap.
"""
from __future__ import annotations

import logging
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Optional, TypeVar

from index.errors import IndexMissing
from index.store import index_version
from search.model import QueryError
from search.snapshot import Snapshot

log = logging.getLogger(__name__)
T = TypeVar("T")


class LiveSnapshot:
    """The Snapshot of the live index version under `root`, shared by threads; follows rebuilds and rollbacks."""

    def __init__(self, root: str | os.PathLike, verify_in_background: bool = False,
                 warm: Callable[[Snapshot], None] = lambda snap: None, refresh_in_background: bool = False):
        self.root = Path(root)
        self._verify = verify_in_background   # a server checks every byte of each version it opens, once
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
                        new = Snapshot(self.root, reuse=snap)
                        if self._verify:
                            new.verify_in_background()
                        if snap is not None:   # a swap: build the facet arrays before requests see it
                            self._warm(new)
                        old, self.snap = self.snap, new
                        if old is not None:
                            self._retire(old)
                finally:
                    self._refresh_lock.release()
            snap = self.snap
        if snap is None:
            raise IndexMissing(self.root)
        return snap

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
                new = Snapshot(self.root, reuse=snap)
                if self._verify:
                    new.verify_in_background()
                self._warm(new)
                if self.snap is not snap:   # closed meanwhile
                    self._retire(new)
                    return
                self.snap = new
                self._retire(snap)
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
