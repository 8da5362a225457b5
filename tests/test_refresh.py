"""A server picks up an `add` without a slow request: the new version is opened in a thread of its own while every
request is answered from the previous one; the library and the CLI (no background refresh) see an add at once."""
from __future__ import annotations

import gc
import json
import threading
import time
import weakref

import search.live as searcher_module   # where the Searcher's snapshots are opened
from index import integrity
from index.builder import build_index
from search import SearchRequest, Searcher
from tests.test_builder import make_folder
from web.app import create_app


def _new_articles(folder, word: str, count: int = 3):
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "new.jsonl", "w", encoding="utf-8") as fh:
        for n in range(count):
            fh.write(json.dumps({"id": f"new-{word}-{n}", "title": f"Harbour news {n}",
                                 "text": f"The {word} ferry sailed at dawn with {n} passengers aboard."}) + "\n")
    return folder / "new.jsonl"


def _total(client, word: str) -> int:
    response = client.get(f"/api/search?q={word}&count=articles")
    assert response.status_code == 200, response.data[:300]
    return response.get_json()["total"]


def test_a_server_answers_from_the_old_version_while_the_new_one_opens(tmp_path, monkeypatch):
    root = tmp_path / "ix"
    build_index([make_folder(tmp_path / "in", 6)], root, workers=1)
    app = create_app({"INDEX_ROOT": str(root), "REFRESH_IN_BACKGROUND": True, "TESTING": True})
    client = app.test_client()
    assert _total(client, "zephyrine") == 0   # the first version is open
    build_index([_new_articles(tmp_path / "more", "zephyrine")], root, mode="add", workers=1)

    release, opening = threading.Event(), threading.Event()
    real = searcher_module.Snapshot

    class HeldSnapshot(real):   # opening the new version waits until the test lets it go
        def __init__(self, *args, **kwargs):
            opening.set()
            assert release.wait(30), "the test never released the snapshot"
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(searcher_module, "Snapshot", HeldSnapshot)
    answers = []
    request = threading.Thread(target=lambda: answers.append(_total(client, "zephyrine")))
    request.start()
    request.join(20)
    # had the request opened the new version itself, it would still be waiting on `release`
    assert not request.is_alive() and answers == [0]
    assert opening.wait(20)   # ... while the new version is being opened in the background
    release.set()
    deadline = time.monotonic() + 30
    while _total(client, "zephyrine") != 3:
        assert time.monotonic() < deadline, "the new version was never picked up"
        time.sleep(0.05)
    assert _total(client, "harbour") >= 3   # the old articles are still there with the new


def test_without_background_refresh_a_search_after_an_add_sees_it(tmp_path):
    root = tmp_path / "ix"
    build_index([make_folder(tmp_path / "in", 6)], root, workers=1)
    client = create_app({"INDEX_ROOT": str(root), "TESTING": True}).test_client()
    assert _total(client, "quillwort") == 0
    build_index([_new_articles(tmp_path / "more", "quillwort")], root, mode="add", workers=1)
    assert _total(client, "quillwort") == 3


def test_a_failed_background_open_keeps_the_old_version_serving(tmp_path, monkeypatch):
    root = tmp_path / "ix"
    build_index([make_folder(tmp_path / "in", 6)], root, workers=1)
    client = create_app({"INDEX_ROOT": str(root), "REFRESH_IN_BACKGROUND": True, "TESTING": True}).test_client()
    before = _total(client, "harbour")
    build_index([_new_articles(tmp_path / "more", "mistletoe")], root, mode="add", workers=1)
    real = searcher_module.Snapshot
    failures = []

    class FailingSnapshot(real):
        def __init__(self, *args, **kwargs):
            failures.append(1)
            raise OSError("simulated failure opening the new version")

    monkeypatch.setattr(searcher_module, "Snapshot", FailingSnapshot)
    deadline = time.monotonic() + 20
    while not failures:
        assert _total(client, "harbour") == before
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert _total(client, "mistletoe") == 0 and _total(client, "harbour") == before
    monkeypatch.setattr(searcher_module, "Snapshot", real)   # the next request's refresh succeeds
    deadline = time.monotonic() + 20
    while _total(client, "mistletoe") != 3:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _wait_for_checks(live, read: list, at_least: int) -> None:
    """Until the server's background checks have read `at_least` files and none is running."""
    deadline = time.monotonic() + 30
    while True:
        assert time.monotonic() < deadline, "the background check never ran"
        if len(read) >= at_least and live._verified.lock.acquire(timeout=0.05):
            live._verified.lock.release()
            return
        time.sleep(0.02)


def test_a_server_checks_each_version_s_new_files_only_and_frees_a_retired_version_at_once(tmp_path, monkeypatch):
    root = tmp_path / "ix"
    build_index([make_folder(tmp_path / "in", 6)], root, workers=1)
    read = []
    whole = integrity._problem

    def reading(path, entry, full):
        read.append(path.name)
        return whole(path, entry, full)

    monkeypatch.setattr(integrity, "_problem", reading)
    searcher = Searcher(root, verify_in_background=True)
    live = searcher._live
    gc.disable()   # a version must be freed by its last reference, not by a garbage collection some time later
    try:
        searcher.search(SearchRequest(q="harbour"))
        _wait_for_checks(live, read, 1)
        first = set(read)
        assert any(name.endswith(".seg") for name in first)

        build_index([_new_articles(tmp_path / "more", "zephyrine")], root, mode="add", workers=1)
        with live._verified.lock:   # the new version's check waits (a long check of an earlier version)
            assert searcher.search(SearchRequest(q="zephyrine")).total == 3
            second = weakref.ref(live.snap)
            trims = searcher_module._TRIMMER.requested
            build_index([_new_articles(tmp_path / "more2", "quillwort")], root, mode="add", workers=1)
            assert searcher.search(SearchRequest(q="quillwort")).total == 3
            # the second version is retired while its check still waits: nothing holds it any more
            assert second() is None
            read.clear()   # (no check reads while the lock is held)
        _wait_for_checks(live, read, 1)
        segments = {name for name in read if name.endswith((".seg", ".post"))}
        assert segments and not segments & first   # only what the first check had not read: the two adds' segments
        # the freed version asked for its memory to go back to the system (done when more is kept than used)
        assert searcher_module._TRIMMER.requested > trims
    finally:
        gc.enable()
        searcher.close()


def test_a_file_changed_since_it_was_checked_is_read_again(tmp_path):
    root = tmp_path / "ix"
    build_index([make_folder(tmp_path / "in", 6)], root, workers=1)
    gen = next(path for path in root.iterdir() if path.name.startswith("gen-"))
    seen = integrity.Verified()
    assert integrity.verify(gen, seen).damaged == []
    assert integrity.verify(gen, seen).damaged == []
    seg = next(gen.glob("*.seg"))
    data = bytearray(seg.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(64)   # same size, edges intact
    seg.write_bytes(bytes(data))
    damaged = integrity.verify(gen, seen).damaged
    assert [path for path, _ in damaged] == [seg]


def test_a_server_preloads_each_version_s_posting_arrays_once(tmp_path, monkeypatch):
    """`newsdex serve` maps the posting arrays of the version it serves in a thread of its own (a word's first
    search then faults no page in); after an add, only the new segment's file is mapped, and answers are the same
    as without it. Past its share of the memory available, nothing more is preloaded."""
    from index import segment_postings
    monkeypatch.setattr(segment_postings, "MIN_DF", 2)   # (small segments: their words go to the arrays files)
    root = tmp_path / "ix"
    build_index([make_folder(tmp_path / "in", 6)], root, workers=1)
    files = lambda: {p.name: p.stat().st_size for p in root.glob(f"**/*{segment_postings.SUFFIX}")}   # noqa: E731
    first = files()
    assert first
    searcher = Searcher(root, refresh_in_background=True, preload_postings=True)
    plain = Searcher(root)
    try:
        request = SearchRequest(q="harbour ferry", all_articles=True)
        assert searcher.search(request).total == plain.search(request).total > 0
        preloader = searcher._live._preloader
        assert preloader.idle.wait(10)
        snap = searcher._snap
        arrays = [snap._arrays_of(sub) for sub, _ in snap.leaves]
        assert all(a is not None and a.preloaded for a in arrays)
        assert preloader.preloaded == sum(first.values())
        build_index([_new_articles(tmp_path / "more", "quay")], root, mode="add", workers=1)
        deadline = time.monotonic() + 10
        while searcher.search(SearchRequest(q="quay")).total == 0:   # the background refresh
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert preloader.idle.wait(10)
        new = {name: size for name, size in files().items() if name not in first}
        assert new and preloader.preloaded == sum(first.values()) + sum(new.values())   # the new file, once
        assert [h.id for h in searcher.search(request).hits] == [h.id for h in plain.search(request).hits]
        thread = preloader._thread
    finally:
        searcher.close()
        plain.close()
    thread.join(5)
    assert not thread.is_alive()   # closing the Searcher ends its preloader

    limited = Searcher(root, preload_postings=True)
    try:
        limited.search(SearchRequest(q="harbour"))
        snap = limited._snap
        sizes = [len(snap._arrays_of(sub).buf) for sub, _ in snap.leaves]
        assert len(sizes) == 2
        limited._live._preloader.idle.wait(10)
    finally:
        limited.close()
    # a budget that holds the first segment's file only (a quarter of what is available)
    monkeypatch.setattr(searcher_module, "_available_memory", lambda: 4 * sizes[0])
    limited = Searcher(root, preload_postings=True)
    try:
        limited.search(SearchRequest(q="harbour"))
        assert limited._live._preloader.idle.wait(10)
        snap = limited._snap
        assert [snap._arrays_of(sub).preloaded for sub, _ in snap.leaves] == [True, False]
        assert limited._live._preloader.preloaded == sizes[0]
    finally:
        limited.close()
