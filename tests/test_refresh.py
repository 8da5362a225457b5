"""A server picks up an `add` without a slow request: the new version is opened in a thread of its own while every
request is answered from the previous one; the library and the CLI (no background refresh) see an add at once."""
from __future__ import annotations

import json
import threading
import time

import search.live as searcher_module   # where the Searcher's snapshots are opened
from index.builder import build_index
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
