"""Incremental updates: add new files, replace changed ones (by checksum), skip unchanged ones; after adds,
changes and deletes the index equals a full rebuild of the same folder (same ids, same checksums)."""
from __future__ import annotations

import json

from index.builder import build_index, delete_articles
from index.model import key_id
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


# --- an updated index answers as a rebuild of the same articles -------------------------------------------------

WIRE = ("The port authority of Kiel said on Monday that container traffic rose by a fifth in the first half of the "
        "year, helped by new ferry routes to Sweden and Finland and a recovery in car exports from Germany. Harbour "
        "master Ilse Brandt said the new quay would open in the spring. Dockers had warned of longer shifts during "
        "the peak season, and the union said talks on overtime pay would resume next week in Hamburg.")
QUERIES = ["", "harbour", "budget minister", '"the harbour"', "newsdex kiel", "coffee OR railway", "port -sweden",
           "officials discussed"]


def record(aid, text, source="Wire", date="2025-05-01"):
    return json.dumps({"id": aid, "text": text, "source": source, "date": date, "title": f"{source}: {aid}"})


def feed(folder, name, records):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join(records) + "\n", encoding="utf-8")
    return folder


def answers(root, ranked=True) -> list:
    """What searches answer: totals, hits with their stories (and scores, in order, when `ranked`), facets."""
    from search import SearchRequest, Searcher
    searcher = Searcher(root)
    try:
        out = []
        for q in QUERIES:
            for sort in (("relevance", "newest") if ranked else ("newest",)):
                for all_articles in (False, True):
                    r = searcher.search(SearchRequest(q=q, sort=sort, per_page=100, all_articles=all_articles))
                    hits = [(h.id, h.story_id, h.story_size, h.score and round(h.score, 9)) for h in r.hits]
                    out.append((q, sort, all_articles, r.total, r.articles, r.stories, hits,
                                {name: [(b.value, b.count) for b in buckets] for name, buckets in r.facets.items()}))
        out.append(searcher.stats()["stories"])
        return out
    finally:
        searcher.close()


def hit_sets(result: list) -> list:
    """answers() without what depends on collection statistics: a relevance-ranked list becomes the set of its
    stories (which copy stands for a story follows the scores too), scores go."""
    out = []
    for a in result:
        if isinstance(a, tuple):
            hits = [hit[:3] for hit in a[6]]
            a = (*a[:6], sorted({hit[1:3] for hit in hits}) if a[1] == "relevance" else hits, a[7])
        out.append(a)
    return out


def test_adds_answer_exactly_as_a_rebuild(tmp_path):
    one = make_folder(tmp_path / "one", 12)
    feed(one, "wire.jsonl", [record("wire", WIRE), record("coffee", article_text(500), "Farm News")])
    two = make_folder(tmp_path / "two", 5, start=20)
    feed(two, "copies.jsonl", [record("post", "Republished by arrangement. " + WIRE, "Harbour Post", "2025-05-02")])
    three = make_folder(tmp_path / "three", 4, start=40)
    feed(three, "more.jsonl", [record("ledger", WIRE.replace("Monday", "Tuesday"), "Ledger", "2025-05-02")])
    root = tmp_path / "ix"
    build_index([one], root, workers=1)
    for folder in (two, three):
        build_index([folder], root, mode="add", workers=1)
    build_index([one, two, three], tmp_path / "rebuilt", workers=1)
    got, expected = answers(root), answers(tmp_path / "rebuilt")
    assert got == expected
    assert expected[-1] == 23 and any(hit[2] == 3 for a in expected[:-1] for hit in a[6])   # the wire story of 3


def test_adds_changes_and_deletes_answer_as_a_rebuild(tmp_path):
    """Totals, facet counts, stories and date order at once; relevance order once deleted documents no longer
    count in the collection statistics (BM25's document frequencies and lengths: Whoosh counts a deleted
    document until its segment is merged), here after `optimize`."""
    from index.builder import optimize_index
    one = make_folder(tmp_path / "one", 12)
    feed(one, "wire.jsonl", [record("wire", WIRE), record("coffee", article_text(500), "Farm News"),
                             record("edited", article_text(501), "Daily")])
    two = make_folder(tmp_path / "two", 6, start=20)
    feed(two, "copies.jsonl", [record("post", "Republished by arrangement. " + WIRE, "Harbour Post", "2025-05-02"),
                               record("gazette", WIRE + " Copyright Gazette.", "Gazette", "2025-05-03")])
    root = tmp_path / "ix"
    build_index([one], root, workers=1)
    build_index([two], root, mode="add", workers=1)
    edited = record("edited", article_text(502) + " A correction was appended.", "Daily")
    feed(tmp_path / "edit", "edit.jsonl", [edited])
    assert build_index([tmp_path / "edit"], root, mode="add", workers=1).replaced == 1
    gone = ["gazette", "coffee", key_id("a00023.txt")]
    assert delete_articles(root, gone) == (gone, [])
    three = make_folder(tmp_path / "three", 3, start=40)
    build_index([three], root, mode="add", workers=1)

    # the same articles from scratch, in the order the index got them
    (one / "wire.jsonl").write_text("\n".join([record("wire", WIRE)]) + "\n", encoding="utf-8")
    (two / "a00023.txt").unlink()
    feed(two, "copies.jsonl", [record("post", "Republished by arrangement. " + WIRE, "Harbour Post", "2025-05-02")])
    build_index([one, two, tmp_path / "edit", three], tmp_path / "rebuilt", workers=1)
    expected = answers(tmp_path / "rebuilt")
    assert hit_sets(answers(root)) == hit_sets(expected)
    optimize_index(root)
    assert answers(root) == expected


def test_posting_lists_taken_over_from_the_previous_version_equal_a_fresh_read(tmp_path, monkeypatch):
    """A new version keeps the previous one's posting lists for the segments both list first at the same place
    and reads only the rest: through adds (new segments), deletes (a document deleted since is left out, as
    Whoosh's reader leaves it out) and merges (the newest segments rewritten, so the kept lists are cut where they differ)."""
    import numpy as np

    from index import merge, schema as S
    from index.builder import delete_articles
    from search.snapshot import Snapshot

    root = tmp_path / "ix"
    build_index([make_folder(tmp_path / "in", 12)], root, workers=1)
    words = [(S.BODY, w) for w in ("the", "newsdex", "harbour", "reported", "minister", "said")] + \
            [(S.TITLE, w) for w in ("the", "report")] + [(S.PERSON, "nobody")]
    old = Snapshot(root)
    for field, word in words:
        old.postings(field, word)
    taken, merged = 0, False
    for n in range(6):
        if n == 3:   # from here merge often: small adds rewrite the newest segments (the kept lists are cut)
            monkeypatch.setattr(merge, "MERGE_FACTOR", 2)
        build_index([make_folder(tmp_path / f"more{n}", 2, start=200 + 10 * n)], root, mode="add", workers=1)
        if n == 2:
            delete_articles(root, [old.stored(0)["id"]])
        new = Snapshot(root, reuse=old)
        taken += len(new._kept_terms)
        merged = merged or len(new.leaves) < len(old.leaves) + 1
        fresh = Snapshot(root)
        for field, word in words:
            got, expected = new.postings(field, word), fresh.postings(field, word)
            assert np.array_equal(got.ids, expected.ids), (n, field, word)
            assert np.array_equal(got.weights, expected.weights), (n, field, word)
        assert new.warm_kept_terms(10) == 0   # all were asked for again above
        fresh.close()
        old.close()
        old = new
    old.close()
    assert taken and merged   # the lists were taken over (not all read afresh), and cut after a merge


def test_a_facet_of_one_value_per_article_keeps_its_fast_count_after_a_delete(tmp_path):
    """Deleted documents hold no value; language and source are still counted by one gather (the path for at most
    one value per document), and the counts are the live articles'."""
    import numpy as np

    from index.builder import delete_articles
    from search.snapshot import Snapshot

    root = tmp_path / "ix"
    build_index([make_folder(tmp_path / "in", 8)], root, workers=1)
    first = Snapshot(root)
    gone = first.stored(0)["id"]
    first.close()
    delete_articles(root, [gone])
    snap = Snapshot(root)
    try:
        language = snap.facet("language")
        assert language.single and not snap.live.all()
        counts = language.count(snap.live)
        expected = {}
        for d in np.flatnonzero(snap.live):
            code = snap.stored_article(int(d)).language
            expected[code] = expected.get(code, 0) + 1
        assert {language.values[i]: int(c) for i, c in enumerate(counts) if c} == expected
    finally:
        snap.close()
