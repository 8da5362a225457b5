"""A new index version opened with `reuse=` the previous one extends the previous one's per-document arrays (columns,
lengths, facets, stories) by the new segments instead of building them over every document: it must answer
exactly as a version opened afresh, through adds, replaced ids, deletes, merges and optimize, new facet values and
story copies of old originals. Each step compares the arrays themselves and the searches' answers, and checks that
the old version's arrays are as they were (an extension appends in place into the old arrays' spare room when it
can: search/grow.py)."""
from __future__ import annotations

import numpy as np
import pytest

from index import merge, schema as S
from index.builder import build_index, delete_articles, optimize_index
from index.facets import declared
from search import SearchRequest
from search.grow import shares_memory
from search.query import parse_query
from search.searcher import _search
from search.snapshot import FacetField, Snapshot, Stories, ValueTable
from tests.test_builder import article_text, make_folder
from tests.test_incremental import WIRE, feed, record

QUERIES = ["", "harbour", "kiel ferry", "newsdex", "port -sweden", '"the harbour"']


def built(snap: Snapshot) -> Snapshot:
    """Everything a server builds before a version serves (search.searcher._warm), built now."""
    for facet in declared():
        snap.facet(facet.name)
    snap.stories()
    for field in (S.TITLE, S.BODY):
        snap.norms(field)
    snap.calendar_index("month")
    snap.calendar_index("year")
    snap.title_weights()
    return snap


def extendable(snap: Snapshot) -> dict:
    """The arrays a newer version may extend in place (search/grow.py), by name."""
    out = {"day": snap.day, "ts": snap.ts, "title weights": snap.title_weights()}
    for field in (S.TITLE, S.BODY):
        out[f"lengths {field}"] = snap.lengths(field)
    for unit in ("month", "year"):
        out[f"calendar {unit}"] = snap.calendar_index(unit)
    for facet in declared():
        ff = snap.facet(facet.name)
        for name in ("offsets", "doc_values", "doc_value"):
            if getattr(ff, name) is not None:
                out[f"{facet.name} {name}"] = getattr(ff, name)
        out[f"{facet.name} first"], out[f"{facet.name} global_of"] = ff.values.first, ff.values.global_of
        out[f"{facet.name} first_doc"] = ff.values.first_doc
    st = snap.stories()
    out["story ord"], out["story first"], out["story global_of"] = st.ord, st.ids.first, st.ids.global_of
    out["story size"], out["story offsets"], out["story members"] = st.size, st.offsets, st.members
    return out


def same_arrays(got, expected, what: str) -> None:
    assert (got is None) == (expected is None), what
    if got is not None:
        assert np.asarray(got).dtype.kind == np.asarray(expected).dtype.kind, what
        assert np.array_equal(got, expected), what


def assert_same(new: Snapshot, fresh: Snapshot, step: str) -> None:
    for name in ("live", "day", "ts", "dated"):
        same_arrays(getattr(new, name), getattr(fresh, name), f"{step}: {name}")
    # (a deleted document's title weight is never read: an extended version keeps what it was)
    same_arrays(new.title_weights()[new.live], fresh.title_weights()[fresh.live], f"{step}: title weights")
    for field in (S.TITLE, S.BODY):
        same_arrays(new.lengths(field), fresh.lengths(field), f"{step}: lengths {field}")
        same_arrays(new.norms(field), fresh.norms(field), f"{step}: norms {field}")
    for unit in ("month", "year"):
        same_arrays(new.calendar_index(unit), fresh.calendar_index(unit), f"{step}: calendar {unit}")
    for facet in declared():
        got, expected = new.facet(facet.name), fresh.facet(facet.name)
        what = f"{step}: facet {facet.name}"
        assert got.values.values() == expected.values.values(), what   # the same values under the same ordinals
        for name in ("offsets", "doc_values", "doc_value", "totals"):
            same_arrays(getattr(got, name), getattr(expected, name), f"{what} {name}")
        assert (got.single, got.gaps, got.n_live, got.multi) == \
               (expected.single, expected.gaps, expected.n_live, expected.multi), what
        same_arrays(got.values.first, expected.values.first, f"{what} first")
        same_arrays(got.values.first_doc, expected.values.first_doc, f"{what} first_doc")
        same_arrays(got.values.global_of, expected.values.global_of, f"{what} global_of")
        values = expected.values.values()
        same_arrays(got.values.ordinals_of(values + ["no such value"]),
                    expected.values.ordinals_of(values + ["no such value"]), f"{what} ordinals_of")
    got, expected = new.stories(), fresh.stories()
    for name in ("ord", "size", "offsets", "members", "copies", "missing_docs"):
        same_arrays(getattr(got, name), getattr(expected, name), f"{step}: stories {name}")
    assert (got.n, got.count) == (expected.n, expected.count), step
    assert got.ids.values() == expected.ids.values(), f"{step}: story ids"
    story_ids = expected.ids.values()
    same_arrays(got.ids.ordinals_of(story_ids + ["no such story"]), expected.ids.ordinals_of(story_ids + ["no such story"]),
                f"{step}: story ordinals_of")
    for q in QUERIES:
        for all_articles in (False, True):
            request = SearchRequest(q=q, sort="newest", per_page=100, all_articles=all_articles)
            a, b = (_search(s, request, parse_query(q)) for s in (new, fresh))
            assert (a.total, a.articles, a.stories) == (b.total, b.articles, b.stories), (step, q)
            assert [(h.id, h.story_id, h.story_size) for h in a.hits] == \
                   [(h.id, h.story_id, h.story_size) for h in b.hits], (step, q)
            assert {k: [(x.value, x.count) for x in v] for k, v in a.facets.items()} == \
                   {k: [(x.value, x.count) for x in v] for k, v in b.facets.items()}, (step, q)


@pytest.fixture
def extensions(monkeypatch):
    """How many times each structure was extended (not built whole: an extension that gave up is not counted)."""
    calls = {"table": 0, "facet": 0, "stories": 0}
    for key, cls in (("table", ValueTable), ("facet", FacetField)):
        real = cls.extended

        def counted(self, *args, _real=real, _key=key, **kwargs):
            out = _real(self, *args, **kwargs)
            calls[_key] += 1
            return out
        monkeypatch.setattr(cls, "extended", counted)
    real_stories = Stories.extended.__func__

    def stories(cls, *args, **kwargs):
        out = real_stories(cls, *args, **kwargs)
        calls["stories"] += 1
        return out
    monkeypatch.setattr(Stories, "extended", classmethod(stories))
    return calls


def test_a_version_extended_from_the_previous_one_equals_a_fresh_one(tmp_path, monkeypatch, extensions):
    one = make_folder(tmp_path / "one", 12)
    feed(one, "wire.jsonl", [record("wire", WIRE), record("coffee", article_text(500), "Farm News"),
                             record("tea", article_text(501), "Farm News", "2024-02-03")])
    root = tmp_path / "ix"
    build_index([one], root, workers=1)
    old = built(Snapshot(root))
    n = 0
    shared = set()   # the arrays the last step's version extended in place

    def step(name: str, change) -> None:
        nonlocal old, n
        n += 1
        change(tmp_path / f"step{n}")
        before = dict(extensions)
        old_arrays = extendable(old)
        as_they_were = {k: v.copy() for k, v in old_arrays.items()}
        new = built(Snapshot(root, reuse=old))
        fresh = built(Snapshot(root))
        assert_same(new, fresh, name)
        for k, v in extendable(old).items():   # what the new version appended did not touch the old one's
            assert np.array_equal(v, as_they_were[k]), f"{name}: the old version's {k} changed"
        new_arrays = extendable(new)
        shared.clear()
        shared.update(k for k, v in new_arrays.items() if k in old_arrays and shares_memory(v, old_arrays[k]))
        fresh.close()
        old.close()
        old = new
        return {k: extensions[k] - before[k] for k in extensions}

    def add(*records, files: int = 2, start: int = 0):
        def change(folder):
            make_folder(folder, files, start=1000 + 10 * n + start)
            if records:
                feed(folder, "new.jsonl", list(records))
            build_index([folder], root, mode="add", workers=1)
        return change

    # an add: new segments, a source no old segment holds
    got = step("add", add(record("quay", article_text(600), "Brand New Source", "2026-01-01")))
    assert got["facet"] and got["stories"]
    # nothing shared changed: every per-document array is appended to in place (its values: only where every
    # value of the old segments is still held, which a new source does not change)
    assert {"day", "ts", "title weights", "lengths body", "calendar month", "story ord", "people offsets",
            "people doc_values", "source doc_value", "story first", "story global_of", "story size",
            "story offsets", "story members"} <= shared, shared
    # a copy of an old segment's original: an old story gains a member
    # (in a segment of 5, so deleting it below leaves the segment unmerged: the copy stays in a shared segment)
    got = step("copy", add(record("post", "Republished by arrangement. " + WIRE, "Harbour Post", "2025-05-02"),
                           files=4))
    assert got["stories"]
    # an id the index has, added again: the old document is deleted (in an old segment), the new one appended
    got = step("replace", add(record("coffee", article_text(502) + " A correction.", "Farm News")))
    assert got["facet"] and got["stories"]
    # a shared document deleted: its facet values are spliced out (copied), the columns still appended in place
    assert {"day", "ts", "lengths body"} <= shared and "people offsets" not in shared, shared
    # a copy replaced by an article that is no copy: its story is its own again
    step("uncopied", add(record("post", article_text(503), "Harbour Post", "2025-05-02")))
    step("copy again", add(record("post", "Republished by arrangement. " + WIRE, "Harbour Post", "2025-05-02")))

    def delete(ids):
        return lambda folder: delete_articles(root, ids)
    got = step("delete", delete(["tea", old.stored(0)["id"]]))
    assert got["facet"] and got["stories"]
    step("delete the original", delete(["wire"]))   # the copy's story's first article is gone
    # merges: the newest segments rewritten, so the shared run of segments is shorter than the old version's
    monkeypatch.setattr(merge, "MERGE_FACTOR", 2)
    monkeypatch.setattr(merge, "FLOOR_DOCS", 1)   # (the first segment stays: the small newest ones merge)
    across = kept_in_place = 0
    for k in range(4):
        leaves = len(old.leaves)
        got = step(f"merging add {k}", add(record(f"m{k}", article_text(700 + k), f"Merged {k % 2}"), files=1))
        if len(old.leaves) <= leaves and got["facet"] and got["stories"]:
            across += 1   # a merge rewrote segments the old version had, and the shared ones were extended
            # ... and where it rewrote them with nothing deleted, the arrays were appended to in place (the
            # stories' too where no story's first article is gone, unlike here since "delete the original")
            kept_in_place += {"day", "lengths body", "title weights", "people offsets", "people doc_values",
                              "people first_doc", "source doc_value"} <= shared
    assert across and kept_in_place
    step("a copy after merges", add(record("gazette", WIRE + " Copyright Gazette.", "Gazette", "2025-05-03")))
    step("optimize", lambda folder: optimize_index(root))   # nothing shared: built whole
    got = step("add after optimize", add(record("late", article_text(800), "Late Desk", "2027-01-01")))
    assert got["table"] and got["facet"] and got["stories"]
    old.close()


def test_a_running_searcher_after_adds_answers_as_a_fresh_one(tmp_path, extensions):
    from search import Searcher
    one = make_folder(tmp_path / "one", 8)
    feed(one, "wire.jsonl", [record("wire", WIRE), record("coffee", article_text(500), "Farm News")])
    root = tmp_path / "ix"
    build_index([one], root, workers=1)
    running = Searcher(root)
    request = SearchRequest(q="harbour", per_page=50)
    running.search(request)
    for n, records in enumerate([[record("post", "Republished by arrangement. " + WIRE, "Harbour Post", "2025-05-02")],
                                 [record("coffee", article_text(501), "Farm News"), record("x", WIRE, "Other")]]):
        feed(tmp_path / f"more{n}", "new.jsonl", records)
        build_index([tmp_path / f"more{n}"], root, mode="add", workers=1)
        fresh = Searcher(root)
        for q in QUERIES:
            for all_articles in (False, True):
                req = SearchRequest(q=q, per_page=50, all_articles=all_articles)
                a, b = running.search(req), fresh.search(req)
                assert (a.total, [h.id for h in a.hits], a.facets) == (b.total, [h.id for h in b.hits], b.facets)
        fresh.close()
    assert extensions["stories"] == 2 and extensions["facet"]
    running.close()


def test_a_merge_of_a_replaced_article_is_not_taken_for_the_documents_it_had(tmp_path, monkeypatch, extensions):
    """The newest segment's last article replaced (same id, new text, outlet and date), then merged with the
    replacement: the merged segment's article ids are the old ones, in the same places, but the last document is
    another; the version after it must answer as a fresh one (the old document's arrays are not kept for it)."""
    root = tmp_path / "ix"
    build_index([make_folder(tmp_path / "big", 12)], root, workers=1)   # a first segment the merges leave alone
    feed(tmp_path / "newest", "n.jsonl", [record("n1", article_text(901), "North Desk", "2024-03-01"),
                                          record("n2", article_text(902), "North Desk", "2024-03-02")])
    build_index([tmp_path / "newest"], root, mode="add", workers=1)
    monkeypatch.setattr(merge, "MERGE_FACTOR", 2)
    monkeypatch.setattr(merge, "FLOOR_DOCS", 1)
    monkeypatch.setattr(merge, "MAX_AUTO_MERGE_DOCS", 5)   # (the 12-article segment is not merged)
    old = built(Snapshot(root))
    feed(tmp_path / "fix", "f.jsonl", [record("n2", article_text(950) + " A correction.", "South Desk", "2026-07-07")])
    build_index([tmp_path / "fix"], root, mode="add", workers=1)   # n2 deleted, its replacement merged after n1
    new = built(Snapshot(root, reuse=old))
    assert len(new.leaves) == 2 and new.n_all == old.n_all   # the same ids in the same places
    fresh = built(Snapshot(root))
    assert_same(new, fresh, "replaced, then merged")
    for snap in (old, new, fresh):
        snap.close()
