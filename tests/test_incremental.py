"""Incremental updates: add new files, replace changed ones (by checksum), skip unchanged ones; after adds,
changes and deletes the index equals a full rebuild of the same folder (same ids, same checksums)."""
from __future__ import annotations

import json

from index.builder import build_index, delete_articles
from tests.test_builder import article_text, make_folder, state


def counts(report):
    return report.added, report.replaced, report.unchanged, len(report.failed)


def test_add_change_delete_equals_a_full_rebuild(tmp_path):
    folder = make_folder(tmp_path / "in", 8, jsonl=5)
    root = tmp_path / "ix"
    assert counts(build_index([folder], root, mode="add", workers=2)) == (13, 0, 0, 0)   # first add builds
    assert counts(build_index([folder], root, mode="add", workers=2)) == (0, 0, 13, 0)   # nothing changed

    (folder / "a00002.txt").write_text(article_text(2, version=1), encoding="utf-8")      # changed file
    make_folder(folder, 3, start=50)                                                      # new files
    lines = (folder / "wire.jsonl").read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[3])
    record["text"] += " A correction was appended."
    lines[3] = json.dumps(record)                                                         # one changed record
    lines.append(json.dumps({"id": "wire-new", "text": article_text(77)}))                # one new record
    (folder / "wire.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = state(root)
    report = build_index([folder], root, mode="add", workers=2)
    assert counts(report) == (4, 2, 11, 0)
    assert report.indexed == 6

    (folder / "a00005.txt").unlink()   # a vanished file is NOT removed by add (documented): delete it by id
    gone = sorted(set(state(root)) - set(state_of_rebuild(folder, tmp_path / "check")))
    assert len(gone) == 1 and gone[0] in before
    assert counts(build_index([folder], root, mode="add", workers=1)) == (0, 0, 16, 0)
    assert len(state(root)) == 17 and gone[0] in state(root)
    assert delete_articles(root, gone) == (gone, [])

    assert state(root) == state_of_rebuild(folder, tmp_path / "check2")


def test_add_only_touches_the_given_paths(tmp_path):
    root = tmp_path / "ix"
    first = make_folder(tmp_path / "first", 4)
    second = make_folder(tmp_path / "second", 3, start=20)
    build_index([first], root, workers=1)
    assert counts(build_index([second], root, mode="add", workers=1)) == (3, 0, 0, 0)
    assert state(root) == state_of_rebuild(first, tmp_path / "c1") | state_of_rebuild(second, tmp_path / "c2")


def test_chunked_add_commits_equal_one_commit(tmp_path):
    folder = make_folder(tmp_path / "in", 14, jsonl=9)
    root = tmp_path / "ix"
    build_index([make_folder(tmp_path / "base", 3, start=200)], root, workers=1)
    report = build_index([folder], root, mode="add", workers=2, commit_every=5)
    assert counts(report) == (23, 0, 0, 0)
    expected = state_of_rebuild(folder, tmp_path / "c1") | state_of_rebuild(tmp_path / "base", tmp_path / "c2")
    assert state(root) == expected


def state_of_rebuild(folder, root):
    build_index([folder], root, workers=1)
    return state(root)


def test_a_searcher_after_an_add_reads_only_the_new_segments_and_answers_as_a_fresh_one(tmp_path):
    from search import SearchRequest, Searcher
    folder = make_folder(tmp_path / "in", 6)
    root = tmp_path / "ix"
    build_index([folder], root, workers=1)
    searcher = Searcher(root)
    request = SearchRequest(q="newsdex", all_articles=True, facet_limit=100)
    searcher.search(request)
    old = searcher._snap
    before = dict(old.segment_cache)
    assert before   # the facets and stories read every segment's pairs

    build_index([make_folder(tmp_path / "more", 3, start=40)], root, mode="add", workers=1)
    after = searcher.search(request)
    new = searcher._snap
    assert new is not old
    reused = [key for key in before if key in new.segment_cache]
    assert reused and all(new.segment_cache[key] is before[key] for key in reused)   # the same arrays, not re-read
    assert len(new.segment_cache) > len(reused)   # ... and the new segment's own

    fresh = Searcher(root)
    expected = fresh.search(request)
    assert after.total == expected.total == 9
    assert [h.id for h in after.hits] == [h.id for h in expected.hits]
    assert {k: [b.to_json() for b in v] for k, v in after.facets.items()} == \
        {k: [b.to_json() for b in v] for k, v in expected.facets.items()}
    fresh.close()
    searcher.close()
