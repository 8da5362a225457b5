"""index.merge: a merged segment is what a reader saw of its sources, less their deleted documents, exactly as
if the live documents had been written as one segment; and the policy's choices."""
from __future__ import annotations

import pytest
from whoosh import index as whoosh_index
from whoosh.writing import SegmentWriter

from index import merge, whoosh_wall
from index.schema import ID, build_schema, document_for
from index.segment import FastSegmentWriter
from tests.test_segment import _ascii_articles, _tricky_articles, _view


def write_segments(path, groups, writer_classes):
    """An index whose segments hold these groups of documents, in order (one writer class per group)."""
    path.mkdir()
    ix = whoosh_index.create_in(str(path), build_schema())
    for docs, writer_class in zip(groups, writer_classes):
        writer = writer_class(ix)
        for doc in docs:
            writer.add_document(**doc)
        writer.commit(merge=False)
    return whoosh_index.open_dir(str(path))


def delete(ix, ids):
    writer = ix.writer()
    for article_id in ids:
        assert writer.delete_by_term(ID, article_id) == 1
    writer.commit(merge=False)


@pytest.mark.parametrize("chunk", [None, 7])
def test_merged_segments_read_as_the_live_documents_written_as_one(tmp_path, monkeypatch, chunk):
    if chunk:   # the slices of terms written at a time, cut everywhere
        monkeypatch.setattr(merge, "CHUNK_POSTINGS", chunk)
    docs = [document_for(a) for a in _tricky_articles() + _ascii_articles()]
    groups = [docs[:90], docs[90:95], docs[95:300], docs[300:301], docs[301:]]
    # Whoosh's own writer for one of them: it stores single postings inside the term info
    ix = write_segments(tmp_path / "ix", groups, [FastSegmentWriter, SegmentWriter, FastSegmentWriter,
                                                   FastSegmentWriter, FastSegmentWriter])
    gone = {docs[i]["id"] for i in (0, 3, 91, 150, 151, 300, 459)}
    delete(ix, sorted(gone))
    assert len(ix._segments()) == 5
    sources = [(s.segment_id(), s.doc_count_all(), s.deleted_count()) for s in ix._segments()]
    report = merge.merge_all(tmp_path / "ix")
    assert report.merges == [(len(docs) - len(gone), 5)] and report.segments == 1
    merged = whoosh_index.open_dir(str(tmp_path / "ix"))
    # the TOC names what the merged segment was made from (a reader that had them keeps what it built for them)
    (segment,) = merged._segments()
    assert whoosh_wall.merged_from(segment) == tuple(sources) and sources[0][2] == 2   # (ids 0 and 3)
    live = [d for d in docs if d["id"] not in gone]
    one = write_segments(tmp_path / "one", [live], [FastSegmentWriter])
    got, expected = _view(merged), _view(one)
    assert got["count"] == expected["count"] == len(live)
    assert sorted(got["terms"]) == sorted(expected["terms"])
    for key in expected["terms"]:
        assert got["terms"][key] == expected["terms"][key], key
    for name in ("stored", "lengths", "field_lengths", "minmax", "columns"):
        assert got[name] == expected[name], name
    assert any(len(v[0]) > 128 for v in expected["terms"].values())   # terms of several blocks are there


def test_a_merge_of_segments_with_nothing_live_leaves_none(tmp_path):
    docs = [document_for(a) for a in _ascii_articles()[:6]]
    ix = write_segments(tmp_path / "ix", [docs[:3], docs[3:]], [FastSegmentWriter, FastSegmentWriter])
    delete(ix, [d["id"] for d in docs[:3]])
    merge.merge_window(ix, tmp_path / "ix", ix._segments(), 0, 1)
    ix = whoosh_index.open_dir(str(tmp_path / "ix"))
    assert len(ix._segments()) == 1 and ix.doc_count() == 3


def sizes(*live):
    return [(n, n) for n in live]


def test_the_policy_merges_runs_of_small_segments_and_leaves_big_ones():
    F = merge.MERGE_FACTOR
    assert merge.plan(sizes(*[5] * (F - 1))) is None                        # not yet a run
    assert merge.plan(sizes(8000, 8000, *[5] * F)) == (2, 2 + F)            # the small ones, not the rebuild's
    assert merge.plan(sizes(*[8000] * 12)) is None                          # would exceed the cap
    assert merge.plan(sizes(*[1500] * F, *[50] * F)) == (F, 2 * F)           # the smallest level first
    assert merge.plan(sizes(5, *[1500] * F)) == (1, 1 + F)                   # runs are consecutive segments
    assert merge.plan([(700, 1000), (50, 50)]) == (0, 1)                     # 30% deleted: rewritten
    assert merge.plan([(70_000, 100_000)]) is None                           # ... unless too big


def most_segments(total: int) -> int:
    """The bound the policy keeps: MERGE_FACTOR - 1 segments per level, from the smallest to that of `total`,
    plus the one just added."""
    return (merge.MERGE_FACTOR - 1) * (merge.level(total) - merge.level(1) + 1) + 1


def test_a_thousand_adds_leave_a_bounded_number_of_segments():
    """Simulated: adds of 5 documents, each followed by the policy, as `add` runs it."""
    segments, merged_docs, most = [], 0, 0
    for _ in range(1000):
        segments.append(5)
        while (window := merge.plan(sizes(*segments))) is not None:
            start, end = window
            merged_docs += sum(segments[start:end])
            segments[start:end] = [sum(segments[start:end])]
        most = max(most, len(segments))
    assert sum(segments) == 5000 and most <= most_segments(5000) == 28
    assert merged_docs < 5000 * 4   # each document rewritten about once per level


def test_a_thousand_small_adds_keep_few_segments_and_answer_as_a_rebuild(tmp_path):
    import json
    from index.builder import build_index
    from tests.test_builder import article_text, make_folder
    from tests.test_incremental import answers
    base = make_folder(tmp_path / "base", 3)
    root = tmp_path / "ix"
    build_index([base], root, workers=1)
    adds = tmp_path / "adds"
    adds.mkdir()
    records = [json.dumps({"id": f"n{k}", "text": article_text(100 + k), "source": f"Outlet {k % 7}"})
               for k in range(1000)]
    most, merged = 0, 0
    for k, rec in enumerate(records):
        path = adds / f"{k:04d}.jsonl"
        path.write_text(rec + "\n", encoding="utf-8")
        report = build_index([path], root, mode="add", workers=1)
        assert report.added == 1
        most, merged = max(most, report.segments), merged + len(report.merges)
    assert most <= most_segments(1003) and merged > 100
    (tmp_path / "all.jsonl").write_text("\n".join(records) + "\n", encoding="utf-8")
    build_index([base, tmp_path / "all.jsonl"], tmp_path / "rebuilt", workers=1)
    assert answers(root) == answers(tmp_path / "rebuilt")


def test_optimize_groups_consecutive_segments_up_to_a_size(tmp_path):
    assert merge.groups([5, 5, 5], 100) == [3]
    assert merge.groups([60, 50, 40, 200, 10], 100) == [1, 2, 1, 1]
    docs = [document_for(a) for a in _ascii_articles()[:40]]
    ix = write_segments(tmp_path / "ix", [docs[:10], docs[10:20], docs[20:25], docs[25:40]],
                        [FastSegmentWriter] * 4)
    delete(ix, [docs[30]["id"]])
    report = merge.merge_all(tmp_path / "ix", max_docs=20)
    assert report.merges == [(20, 2), (19, 2)] and report.segments == 2
    merged = whoosh_index.open_dir(str(tmp_path / "ix"))
    with merged.searcher() as searcher:
        assert [f["id"] for f in searcher.all_stored_fields()] == [d["id"] for d in docs if d is not docs[30]]
