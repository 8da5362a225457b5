"""index/segment_values.py: every committed segment has its facet and story pairs in a file, equal to what its
term index holds, and a searcher answers the same with or without them."""
from __future__ import annotations

import numpy as np

from index import segment_values, store
from index.builder import build_index, delete_articles
from search import SearchRequest, Searcher
from tests.test_builder import make_folder


def segment_ids(root) -> set[str]:
    with store.open_index(root).reader() as reader:
        return {sub.segment().segment_id() for sub, _ in reader.leaf_readers()}


def value_files(root) -> set[str]:
    return {p.name[:-len(segment_values.SUFFIX)] for p in store.current_generation(root).glob("*" + segment_values.SUFFIX)}


def test_each_segment_has_its_values_and_they_equal_the_term_index(tmp_path):
    root = tmp_path / "ix"
    build_index([make_folder(tmp_path / "in", 12, jsonl=4)], root, workers=2)
    assert value_files(root) == segment_ids(root)
    gen = store.current_generation(root)
    with store.open_index(root).reader() as reader:
        for sub, _ in reader.leaf_readers():
            stored = segment_values.load(gen, sub.segment().segment_id())
            for field in segment_values.fields():
                values, docs, ords = segment_values.read_pairs(sub, field)
                got_values, got_docs, got_ords = stored[field].pairs()
                assert got_values == values
                # the same pairs, in document order
                assert sorted(zip(docs.tolist(), ords.tolist())) == list(zip(got_docs.tolist(), got_ords.tolist()))


def test_values_follow_adds_merges_and_deletes(tmp_path):
    root = tmp_path / "ix"
    build_index([make_folder(tmp_path / "in", 4)], root, workers=1)
    for n in range(6):   # small adds: Whoosh's commit merges small segments on the way
        build_index([make_folder(tmp_path / f"more{n}", 2, start=100 + 10 * n)], root, mode="add", workers=1)
        assert value_files(root) == segment_ids(root)
    with store.open_index(root).searcher() as s:
        some = [f["id"] for f in list(s.all_stored_fields())[:3]]
    delete_articles(root, some)
    assert value_files(root) == segment_ids(root)


def test_a_searcher_answers_the_same_without_the_values_files(tmp_path):
    root = tmp_path / "ix"
    build_index([make_folder(tmp_path / "in", 10, jsonl=5)], root, workers=2)
    request = SearchRequest(q="newsdex", facet_limit=100)
    with_files = Searcher(root)
    expected = with_files.search(request).to_json()
    assert any(key[1] == "person" for key in with_files._snap.segment_cache)
    with_files.close()
    gen = store.current_generation(root)
    for path in gen.glob("*" + segment_values.SUFFIX):   # as an index made before the values files existed,
        path.unlink()
    (gen / "checksums.json").unlink()                    # which had no checksum list either
    without = Searcher(root)
    got = without.search(request).to_json()
    without.close()
    for key in ("took_ms",):
        expected.pop(key), got.pop(key)
    assert got == expected


def test_values_of_several_segments_join_by_hash_and_decode_any_text():
    from search.snapshot import ValueTable

    first = segment_values.SegmentValues.from_pairs(["josé martí", "zürich", "tokyo"], np.array([2, 0, 1]),
                                                    np.array([0, 1, 2]))
    second = segment_values.SegmentValues.from_pairs(["tokyo", "東京", "lagos"], np.array([0, 1, 1]),
                                                     np.array([0, 1, 2]))
    for part in (first, second):   # what a reader of the file sees: text and offsets, nothing decoded yet
        part._values = None
    assert first.docs.tolist() == [0, 1, 2] and first.ords.tolist() == [1, 2, 0]   # pairs in document order
    assert [first.value(i) for i in range(3)] == ["josé martí", "zürich", "tokyo"]
    table = ValueTable([first, second])
    assert len(table) == 5 and sorted(table) == sorted(["josé martí", "zürich", "tokyo", "東京", "lagos"])
    assert table.ordinals_in(0, np.array([2]))[0] == table.ordinals_in(1, np.array([0]))[0]   # tokyo once
    ords = table.ords()
    assert all(table[ords[v]] == v for v in ["josé martí", "東京", "lagos"])
    assert "nowhere" not in ords and ords.get("nowhere") is None and ords.get(3) is None
    assert table.ordinals_of(["lagos", "nowhere"]).tolist()[1] == -1
    added = table.add("nowhere")
    assert table.ordinals_of(["nowhere"]).tolist() == [added] and table[added] == "nowhere" and len(table) == 6
