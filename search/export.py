"""Exports: every article of a result set as flat rows, in date order, read one by one from one index version.

Memory stays flat however many rows: only the ordered document numbers (8 bytes each) are held; each row is
read from the stored fields when it is asked for. An export holds its index version (a Snapshot reference) until
it is closed, so a rebuild or `add` while it streams neither breaks it nor changes what it lists.
"""
from __future__ import annotations

from typing import Callable, Iterator, Optional

import numpy as np

from index import schema as S
from search.model import ExportRow
from search.snapshot import Snapshot

MAX_EXPORT_ROWS = 100_000
EXPORT_COLUMNS = ExportRow._fields


class Export:
    """The rows of one export: iterate once, then close() (or use `with`) to release the index version.

    `total` articles match; `rows` of them are listed (the first `limit` in date order; `cut` when fewer than
    `total`). One row per article, whatever the story grouping."""

    def __init__(self, snap: Snapshot, final: np.ndarray, sort: str, limit: int, release: Callable[[], None]):
        docs = np.flatnonzero(final)
        self.total = len(docs)
        self.sort = "oldest" if sort == "oldest" else "newest"
        self.docs = ordered(snap, docs, self.sort)[:limit]
        self.rows = len(self.docs)
        self.cut = self.rows < self.total
        self._snap = snap
        self._release: Optional[Callable[[], None]] = release

    def __iter__(self) -> Iterator[ExportRow]:
        if self._release is None:
            raise ValueError("this export was closed")
        stories = self._snap.stories()
        docs = self.docs.tolist()
        for d, stored in zip(docs, self._snap.stored_each(docs)):
            yield row(stories, d, stored)

    def close(self) -> None:
        """Release the index version (idempotent)."""
        release, self._release = self._release, None
        if release is not None:
            release()

    def __enter__(self) -> "Export":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def ordered(snap: Snapshot, docs: np.ndarray, sort: str) -> np.ndarray:
    """`docs` newest first (sort="oldest": oldest first); undated last; ties by document number."""
    ts = snap.ts[docs]
    when = -ts if sort != "oldest" else ts
    key = np.where(snap.dated[docs], when, np.int64(2 ** 62))
    return docs[np.lexsort((docs, key))]


def row(stories, docnum: int, stored: dict) -> ExportRow:
    """One document's stored fields as an export row."""
    flat = S.flat_from_stored(stored)
    return ExportRow(*flat, stories.story_id(int(stories.ord[docnum]), lambda _doc: flat[0]))
