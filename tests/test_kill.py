"""Kill tests: a rebuild or an add killed (SIGKILL, SIGINT) at several points leaves the last complete index
serving, leaves no worker behind, and the next run succeeds and says what it recovered."""
from __future__ import annotations

import os
import shutil
import signal
import time

import pytest

from index import store
from index.builder import build_index
from tests.test_builder import children_of, is_running, make_folder, start_build, state, wait_for


@pytest.fixture
def base(tmp_path):
    """A published index of 6 articles, and a folder of 20 more to rebuild or add with."""
    root = tmp_path / "ix"
    build_index([make_folder(tmp_path / "base", 6)], root, workers=1)
    more = make_folder(tmp_path / "more", 20, start=100)
    return root, state(root), more


def assert_gone(pids, timeout=10.0):
    deadline = time.monotonic() + timeout
    while any(is_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in pids if is_running(pid)] == []


def kill_at(paths, root, point, mode="rebuild", sig=signal.SIGKILL, **extra):
    """Start a build, wait until it reaches `point`, send `sig`; returns the workers it had."""
    proc = start_build(paths, root, mode=mode, pause_at=point, **extra)
    try:
        wait_for(proc, "PAUSED")
        workers = children_of(proc.pid)
        # mid-run the two workers are alive; after their segments are committed they have exited
        assert len(workers) == (0 if point in ("before-publish", "mid-merge", "merge-assembled") else 2)
        proc.send_signal(sig)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert_gone(workers)
    return proc


@pytest.mark.parametrize("point", ["mid-run", "before-publish"])
def test_killed_rebuild_keeps_the_old_index_and_the_next_run_recovers(base, point):
    root, before, more = base
    live = store.current_generation(root)
    proc = kill_at([more], root, point)
    assert proc.returncode == -signal.SIGKILL
    assert store.current_generation(root) == live
    assert state(root) == before
    half_built = [p.name for p in root.glob("gen-*") if p != live]
    assert len(half_built) == 1 and f"-{proc.pid}-" in half_built[0]

    report = build_index([more], root, workers=2)
    assert report.recovered == [f"removed half-built index {half_built[0]} left by an interrupted rebuild "
                                f"(pid {proc.pid})"]
    assert report.indexed == 20 and len(state(root)) == 20
    assert sorted(p.name for p in root.glob("gen-*")) == sorted([live.name, store.current_generation(root).name])


def test_ctrl_c_stops_a_rebuild_cleanly(base):
    root, before, more = base
    live = store.current_generation(root)
    proc = kill_at([more], root, "mid-run", sig=signal.SIGINT)
    assert proc.returncode != 0
    assert "KeyboardInterrupt" in proc.stderr.read()
    assert state(root) == before
    assert [p.name for p in root.glob("gen-*")] == [live.name]   # the new generation was discarded
    assert build_index([more], root, mode="add", workers=1).recovered == []


def test_killed_add_keeps_the_last_commit_and_the_next_add_recovers(base):
    root, before, more = base
    proc = kill_at([more], root, "mid-run", mode="add")
    assert state(root) == before
    report = build_index([more], root, mode="add", workers=2)
    assert len(report.recovered) == 1
    assert report.recovered[0].startswith("removed ") and report.recovered[0].endswith(
        f" uncommitted file(s) of an interrupted add from {store.current_generation(root).name}")
    assert (report.added, report.replaced, report.unchanged) == (20, 0, 0)
    assert len(state(root)) == 26
    assert proc.returncode == -signal.SIGKILL


def test_killed_long_add_keeps_its_committed_chunks(base):
    root, before, more = base
    kill_at([more], root, "after-commit", mode="add", commit_every=10)
    after = state(root)
    assert set(before) < set(after) <= set(before) | set(state_of(more, root.parent / "check"))
    assert {k: after[k] for k in before} == before
    report = build_index([more], root, mode="add", workers=2)
    assert report.added + report.unchanged == 20 and report.unchanged == len(after) - len(before)
    assert len(state(root)) == 26


@pytest.mark.parametrize("point", ["mid-merge", "merge-assembled"])
def test_a_merge_killed_mid_way_keeps_the_add_and_the_next_run_recovers(base, tmp_path, point):
    """The add's commit comes before its merges: a kill while merging loses no article, and the merge's half
    written segment (or its whole segment and posting arrays not yet named) is removed by the next run."""
    root, before, more = base
    gen = store.current_generation(root)
    proc = kill_at([more], root, point, mode="add")
    if point == "merge-assembled":
        assert list(gen.glob(".MAIN_*.post.*.tmp"))
    assert proc.returncode == -signal.SIGKILL
    after = state(root)
    assert len(after) == 26 and {k: after[k] for k in before} == before
    report = build_index([make_folder(tmp_path / "later", 2, start=500)], root, mode="add", workers=1)
    assert len(report.recovered) == 1 and "uncommitted file(s)" in report.recovered[0]
    assert report.added == 2 and len(state(root)) == 28
    live = {segment.segment_id() for segment in store.live_toc(gen)[1]}
    assert [name for name in os.listdir(gen) if name.startswith("MAIN_") and name != "MAIN_WRITELOCK"
            and name.split(".")[0] not in live] == []
    assert list(gen.glob(".*.tmp")) == []   # nor a posting arrays file being written (index.segment_postings)
    arrays = {p.name.split(".")[0] for p in gen.glob("MAIN_*.post")}
    assert arrays and arrays <= live


def state_of(folder, root):
    build_index([folder], root, workers=1)
    return state(root)


def test_an_add_killed_between_its_commit_and_its_values_files_answers_right_and_the_next_add_writes_them(base):
    """The per-segment values files (and the checksum list) follow each commit: a kill in between leaves a
    committed segment without them. The index still opens and answers exactly as its term index says, and the
    next add writes what is missing."""
    from index import integrity, segment_values
    from search import SearchRequest, Searcher

    root, before, more = base
    kill_at([more], root, "before-seal", mode="add", commit_every=10)
    gen = store.current_generation(root)
    with store.open_index(root).reader() as reader:
        segments = {sub.segment().segment_id() for sub, _ in reader.leaf_readers()}
    files = {p.name[:-len(segment_values.SUFFIX)] for p in gen.glob("*" + segment_values.SUFFIX)}
    assert segments - files   # the kill left a committed segment without its values file
    integrity.check_at_open(gen)   # not taken for damage

    def answer(index_root):
        searcher = Searcher(index_root)
        try:
            out = searcher.search(SearchRequest(q="", facet_limit=100, per_page=50)).to_json()
        finally:
            searcher.close()
        out.pop("took_ms")
        return out

    got = answer(root)
    assert got["total"] == len(state(root)) > len(before)
    truth = root.parent / "truth"   # the same index read from its term index alone (no values files)
    shutil.copytree(root, truth)
    for path in store.current_generation(truth).glob("*" + segment_values.SUFFIX):
        path.unlink()
    assert answer(truth) == got

    build_index([more], root, mode="add", workers=1)
    gen = store.current_generation(root)
    with store.open_index(root).reader() as reader:
        segments = {sub.segment().segment_id() for sub, _ in reader.leaf_readers()}
    assert {p.name[:-len(segment_values.SUFFIX)] for p in gen.glob("*" + segment_values.SUFFIX)} == segments
    assert integrity.verify(gen).damaged == []
    assert len(state(root)) == 26 and answer(root)["total"] == 26
