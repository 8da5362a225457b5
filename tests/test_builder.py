"""build_index against real files and a real index on disk: the report, duplicates, workers, the writer lock.

Also the helpers the other indexing tests share (generated article folders, a build in a subprocess, the index's
(id, checksum) state).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index import integrity, store
from index.builder import build_index, delete_articles
from index.errors import IndexBusy
from index.schema import CHECKSUM, ID

REPO = Path(__file__).resolve().parent.parent
WORDS = ("harbour storm council budget river election trade minister court bridge museum festival vaccine "
         "railway strike coffee drought orchestra satellite glacier").split()


def article_text(n: int, version: int = 0) -> str:
    """A distinct article in the seed plain-text format (every one holds the word 'newsdex')."""
    a, b, c = WORDS[n % len(WORDS)], WORDS[(n * 7 + 3) % len(WORDS)], WORDS[(n * 13 + 5) % len(WORDS)]
    return (f" date 2025-0{n % 9 + 1}-1{n % 9} WIRE - The Harbour Post) The {a} report number {n} (version "
            f"{version}) says the {b} and the {c} matter to newsdex readers in Kiel.\n\n"
            f"Officials discussed the {a} and the {b} for a long time on day {n}.\n\n{a} {b}")


def make_folder(folder: Path, count: int, start: int = 0, jsonl: int = 0) -> Path:
    """`count` text articles (a{n}.txt) and, optionally, a JSON Lines file of `jsonl` records."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(start, start + count):
        (folder / f"a{n:05d}.txt").write_text(article_text(n), encoding="utf-8")
    if jsonl:
        with open(folder / "wire.jsonl", "w", encoding="utf-8") as fh:
            for n in range(jsonl):
                fh.write(json.dumps({"id": f"wire-{n}", "headline": f"Wire story {n}",
                                     "text": article_text(10_000 + n)}) + "\n")
    return folder


def state(root: Path) -> dict[str, str]:
    """{id: checksum} of the live index (every document, deleted ones excluded)."""
    ix = store.open_index(root)
    with ix.searcher() as searcher:
        return {f[ID]: f[CHECKSUM] for f in searcher.all_stored_fields()}


# The script a subprocess runs: build_index with small tasks (so progress comes often), printing each progress
# call and the report; PAUSE_AT names a function to stop in (for killing at a precise point).
RUN_SCRIPT = r"""
import json, os, signal, sys, time
# a test run from a background job (`cmd &` in a script) hands its children SIGINT ignored: Ctrl-C is what the
# tests send, so it gets Python's own handler back
signal.signal(signal.SIGINT, signal.default_int_handler)
from index import builder, store
builder.UNITS_PER_TASK = 5
pause_at = os.environ.get("PAUSE_AT", "")
def pause(name, original):
    def wrapper(*args, **kwargs):
        if name == "after-commit":
            result = original(*args, **kwargs)
            print("PAUSED", flush=True); time.sleep(60)
            return result
        print("PAUSED", flush=True); time.sleep(60)
        return original(*args, **kwargs)
    return wrapper
if pause_at == "before-publish":
    store.publish = pause(pause_at, store.publish)
elif pause_at == "after-commit":
    builder._Run.commit = pause(pause_at, builder._Run.commit)
elif pause_at == "before-seal":   # a commit is on disk; its values files and checksum list are not yet
    builder.seal = pause(pause_at, builder.seal)
elif pause_at == "mid-merge":   # an add's merge stops with its segment half written (any two segments merge)
    from index import merge
    merge.MERGE_FACTOR = 2
    merge.SegmentMerger._flush_segment = pause(pause_at, merge.SegmentMerger._flush_segment)
elif pause_at == "merge-assembled":   # the merged segment is assembled; its posting arrays file not yet named
    from index import merge
    merge.MERGE_FACTOR = 2
    merge.SegmentMerger.segment_assembled = pause(pause_at, merge.SegmentMerger.segment_assembled)
elif pause_at == "mid-run":   # a worker stops in its second task: the run is half done, segments half written
    original_process, calls = builder._SegmentBuilder.process, [0]
    def process(self, units):
        calls[0] += 1
        if calls[0] == 2:
            print("PAUSED", os.getpid(), flush=True); time.sleep(60)
        return original_process(self, units)
    builder._SegmentBuilder.process = process
def progress(done, total, articles):
    print("PROGRESS", done, total, articles, flush=True)
args = json.loads(sys.argv[1])
report = builder.build_index(args["paths"], args["root"], mode=args["mode"], workers=args["workers"],
                             progress=progress, commit_every=args.get("commit_every", builder.COMMIT_EVERY))
print("REPORT", json.dumps({"indexed": report.indexed, "added": report.added, "replaced": report.replaced,
                            "unchanged": report.unchanged, "recovered": report.recovered}), flush=True)
"""


def start_build(paths, root: Path, mode: str = "rebuild", workers: int = 2, pause_at: str = "", **extra):
    """build_index in a subprocess (stdout is line-buffered text)."""
    args = json.dumps({"paths": [str(p) for p in paths], "root": str(root), "mode": mode, "workers": workers,
                       **extra})
    env = dict(os.environ, PAUSE_AT=pause_at, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-c", RUN_SCRIPT, args], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for(proc, prefix: str, timeout: float = 30.0) -> str:
    """The first stdout line starting with `prefix` (fails if the process ends first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"process ended before {prefix!r}: {proc.wait()} {proc.stderr.read()}")
        if line.startswith(prefix):
            return line
    raise AssertionError(f"no {prefix!r} within {timeout} s")


def children_of(pid: int) -> list[int]:
    """Direct children of a process (Linux)."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def is_running(pid: int) -> bool:
    """True while a process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


# --- tests ---------------------------------------------------------------------------------------------------------

def test_rebuild_reports_every_article_and_publishes_one_generation(tmp_path):
    folder = make_folder(tmp_path / "in", 10, jsonl=4)
    (folder / "notes.csv").write_text("not an article", encoding="utf-8")
    (folder / "empty.txt").write_text("", encoding="utf-8")
    report = build_index([folder], tmp_path / "ix", workers=2)
    assert (report.indexed, report.added, report.replaced, report.unchanged) == (14, 14, 0, 0)
    assert [(Path(f.path).name, f.reason) for f in report.failed] == [("empty.txt", "empty file")]
    assert [Path(f.path).name for f in report.ignored] == ["notes.csv"]
    assert report.recovered == []
    assert set(report.stage_seconds) >= {"read", "language", "entities", "write", "flush", "commit"}
    assert len(state(tmp_path / "ix")) == 14
    gens = sorted(p.name for p in (tmp_path / "ix").iterdir() if p.name.startswith("gen-"))
    assert gens == [store.current_generation(tmp_path / "ix").name]


def test_one_worker_and_two_workers_build_the_same_index(tmp_path):
    folder = make_folder(tmp_path / "in", 8, jsonl=5)
    build_index([folder], tmp_path / "one", workers=1)
    build_index([folder], tmp_path / "two", workers=2)
    assert state(tmp_path / "one") == state(tmp_path / "two")
    assert len(state(tmp_path / "one")) == 13


def test_a_worker_past_its_memory_budget_starts_new_segments_and_nothing_is_lost(tmp_path, monkeypatch):
    """limitmb=0 and one unit per task: every task fills a segment; duplicates in later segments are still
    dropped; searches see exactly what one big segment holds."""
    from index import builder
    monkeypatch.setattr(builder, "UNITS_PER_TASK", 1)
    folder = make_folder(tmp_path / "in", 9, jsonl=4)
    with open(folder / "wire.jsonl", "a", encoding="utf-8") as fh:   # a duplicate id, in a later segment
        fh.write(json.dumps({"id": "wire-1", "text": article_text(99)}) + "\n")
    small = build_index([folder], tmp_path / "small", workers=2, limitmb=0)
    big = build_index([folder], tmp_path / "big", workers=2)
    assert small.indexed == big.indexed == 13
    assert [f.reason[:22] for f in small.failed] == ["duplicate id 'wire-1' "]
    assert state(tmp_path / "small") == state(tmp_path / "big")
    with store.open_index(tmp_path / "small").reader() as r:
        assert len(list(r.leaf_readers())) >= 12   # one segment per article (a commit merges none of them)
    from search import SearchRequest, Searcher
    a, b = Searcher(tmp_path / "small"), Searcher(tmp_path / "big")
    for q in ("newsdex", '"harbour post"', "storm OR river", "kiel"):
        ra, rb = (s.search(SearchRequest(q=q, all_articles=True, per_page=50)) for s in (a, b))
        # the same articles with the same scores (equal scores may list in another order: segment order differs)
        assert ra.total == rb.total > 0, q
        assert sorted((round(h.score, 6), h.id) for h in ra.hits) == sorted((round(h.score, 6), h.id) for h in rb.hits)


def test_tasks_are_cut_by_count_and_by_bytes():
    """A task is UNITS_PER_TASK units, or fewer once they hold TASK_BYTES (a few large HTML pages make a task,
    so the expensive ones spread over the workers)."""
    from index import builder
    from index.model import Failure, IndexReport
    from index.readers import Unit
    pages = [Unit("html", f"p{i}.html", size=300_000) for i in range(5)]
    records = [Unit("jsonl", "wire.jsonl", position=f"line {i}", size=100) for i in range(300)]
    report = IndexReport()
    broken = Failure("bad.jsonl", "unreadable")
    tasks = list(builder._batches(pages + [broken] + records, report))
    assert builder.TASK_BYTES == 512 * 1024 and builder.UNITS_PER_TASK == 128
    assert [len(t) for t in tasks] == [2, 2, 128, 128, 45]
    assert [u for t in tasks for u in t] == pages + records and report.failed == [broken]


def test_a_duplicate_id_keeps_the_first_article_and_reports_the_second(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    lines = [json.dumps({"id": "same", "text": article_text(n)}) for n in (1, 2)]
    (folder / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = build_index([folder], tmp_path / "ix", workers=2)
    assert report.indexed == 1
    assert [(f.reason, f.position) for f in report.failed] == [
        (f"duplicate id 'same' (first seen in {folder / 'a.jsonl'}); this one was not indexed", "line 2")]
    ix = store.open_index(tmp_path / "ix")
    with ix.searcher() as searcher:
        assert [re.search(r"report number (\d+)", f["body"]).group(1) for f in searcher.all_stored_fields()] == ["1"]


def test_a_rebuild_replaces_the_whole_index(tmp_path):
    build_index([make_folder(tmp_path / "old", 5)], tmp_path / "ix", workers=2)
    build_index([make_folder(tmp_path / "new", 4, start=100)], tmp_path / "ix", workers=2)
    assert sorted(state(tmp_path / "ix")) == sorted(
        state_of_fresh_build(tmp_path / "new", tmp_path / "check"))


def state_of_fresh_build(folder: Path, root: Path) -> dict[str, str]:
    build_index([folder], root, workers=1)
    return state(root)


def test_second_writer_gets_index_busy_naming_the_running_build(tmp_path):
    build_index([make_folder(tmp_path / "base", 3)], tmp_path / "ix", workers=1)
    proc = start_build([make_folder(tmp_path / "in", 20)], tmp_path / "ix", pause_at="mid-run")
    try:
        wait_for(proc, "PAUSED")
        with pytest.raises(IndexBusy) as err:
            build_index([tmp_path / "base"], tmp_path / "ix", mode="add", workers=1)
        assert err.value.pid == proc.pid
        assert str(err.value).startswith(f"another indexing run is in progress (pid {proc.pid}) on ")
        with pytest.raises(IndexBusy):
            delete_articles(tmp_path / "ix", ["x"])
    finally:
        proc.kill()
        proc.wait()


def test_delete_removes_by_id_and_reports_the_missing(tmp_path):
    root = tmp_path / "ix"
    build_index([make_folder(tmp_path / "in", 6)], root, workers=1)
    some = sorted(state(root))[:2]
    assert delete_articles(root, [*some, "no-such-id"]) == (some, ["no-such-id"])
    left = state(root)
    assert len(left) == 4 and not set(some) & set(left)


def test_lock_is_free_after_a_failed_run(tmp_path):
    with pytest.raises(ValueError):
        build_index([tmp_path], tmp_path / "ix", mode="bogus")
    report = build_index([make_folder(tmp_path / "in", 3)], tmp_path / "ix", workers=2)
    assert report.indexed == 3
    assert (tmp_path / "ix" / store.LOCK).read_text() == ""


def test_add_to_an_index_built_with_the_earlier_schema(tmp_path):
    """Indexes built before dates became columns only (dates as trie terms, path and url as ids) take `add`: the
    writer uses the schema stored in the index."""
    from whoosh import index as whoosh_index
    from tests.test_segment import _schema_before_columns
    root = tmp_path / "ix"
    gen = store.new_generation(root)
    whoosh_index.create_in(str(gen), _schema_before_columns(), indexname=store.INDEX_NAME)
    (gen / integrity.MANIFEST).unlink()   # such an index predates checksum lists too
    store.publish(root, gen)
    report = build_index([make_folder(tmp_path / "in", 5)], root, mode="add", workers=2)
    assert (report.added, report.failed) == (5, [])
    from search import SearchRequest, Searcher
    result = Searcher(root).search(SearchRequest(q="newsdex", all_articles=True))
    assert result.total == 5 and all(h.published for h in result.hits)
