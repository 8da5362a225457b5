"""Readers keep working while the index is rebuilt and added to: every search succeeds and sees one complete
state (the one before or the one after a commit), never a half-built index."""
from __future__ import annotations

import time

from whoosh.query import Every, Term

from index import store
from index.schema import BODY, ID
from tests.test_builder import make_folder, start_build, state


def test_searches_during_rebuilds_and_adds_never_fail_nor_see_half_an_index(tmp_path):
    small = make_folder(tmp_path / "small", 10)
    big = make_folder(tmp_path / "big", 10)
    make_folder(big, 15, start=100)
    root = tmp_path / "ix"
    from index.builder import build_index
    build_index([small], root, workers=1)
    complete = {10, 25, 35}   # small; big (rebuilt); big + small (added: other paths, so other ids)

    runs = [("rebuild", big), ("add", small)]
    seen, searches = set(), 0
    ix, version = store.open_index(root), store.index_version(root)
    searcher = ix.searcher()
    try:
        for mode, folder in runs:
            proc = start_build([folder], root, mode=mode)
            while proc.poll() is None or searches < 5:
                current = store.index_version(root)
                if current != version:   # what a long-lived reader does: reopen when the version changes
                    searcher.close()
                    ix, version = store.open_index(root), current
                    searcher = ix.searcher()
                total = searcher.doc_count()
                # every article holds "newsdex": a half-built index would show fewer hits than documents
                hits = len(searcher.search(Term(BODY, "newsdex"), limit=None))
                assert (total, hits) in {(n, n) for n in complete}, (total, hits)
                assert len(searcher.search(Every(ID), limit=None)) == total
                seen.add(total)
                searches += 1
                time.sleep(0.05)
            assert proc.wait() == 0, proc.stderr.read()
            searches = 0
    finally:
        searcher.close()
    assert seen == complete
    assert len(state(root)) == 35
