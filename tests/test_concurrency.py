"""Readers keep working while the index is rebuilt and added to: every search succeeds and sees one complete
state (the one before or the one after a commit), never a half-built index."""
from __future__ import annotations

import threading
import time

from whoosh.query import Every, Term

from index import store
from index.builder import build_index
from index.schema import BODY, ID
from tests.test_builder import make_folder, start_build, state


class Reader:
    """What a long-lived reader does: one searcher, reopened when the index version changes."""

    def __init__(self, root):
        self.root, self.version = root, store.index_version(root)
        self.searcher = store.open_index(root).searcher()
        self.seen: set[int] = set()

    def check(self, complete: set[int]) -> None:
        current = store.index_version(self.root)
        if current != self.version:
            self.searcher.close()
            self.searcher, self.version = store.open_index(self.root).searcher(), current
        total = self.searcher.doc_count()
        # every article holds "newsdex": a half-built index would show fewer hits than documents
        hits = len(self.searcher.search(Term(BODY, "newsdex"), limit=None))
        assert (total, hits) in {(n, n) for n in complete}, (total, hits)
        assert len(self.searcher.search(Every(ID), limit=None)) == total
        # a reader that opens the index afresh for every query sees a complete state too
        with store.open_index(self.root).searcher() as fresh:
            assert fresh.doc_count() in complete
        self.seen.add(total)


def test_searches_during_a_rebuild_and_an_add_never_fail_nor_see_half_an_index(tmp_path):
    small = make_folder(tmp_path / "small", 10)
    big = make_folder(tmp_path / "big", 25, start=100)
    root = tmp_path / "ix"
    build_index([small], root, workers=1)
    reader = Reader(root)
    try:
        proc = start_build([big], root)   # a rebuild in another process: 10 -> 25
        while proc.poll() is None:
            reader.check({10, 25})
            time.sleep(0.05)
        assert proc.wait() == 0, proc.stderr.read()
        reader.check({25})

        # an add (other paths, so other ids) in a thread of this process, committing in chunks: 25 -> 30 -> 35
        adder = threading.Thread(target=build_index, args=([small], root),
                                 kwargs=dict(mode="add", workers=1, commit_every=5))
        adder.start()
        while adder.is_alive():
            reader.check({25, 30, 35})
            time.sleep(0.02)
        adder.join()
        reader.check({35})
    finally:
        reader.searcher.close()
    assert {10, 25, 35} <= reader.seen
    assert len(state(root)) == 35
