"""Stories in search: collapse of near-duplicates, totals, pagination and facet counts in both counting modes.

The index's articles carry `story_id` explicitly (the builder's clustering is tested in test_stories_detect/test_builder);
every count is checked against a brute-force count over the articles themselves.
"""
from __future__ import annotations

import itertools
import random
from dataclasses import replace

import pytest

from search import Searcher, SearchRequest
from search.model import QueryError
from tests.conftest import article, country, person, write_index

SOURCES = ("Harbour Post", "Gulf Times", "Le Quotidien", "Nordic Wire", "MENAFN")
LANGS = ("en", "en", "fr")
WORDS = ("harbour", "strike", "bank", "rates", "election", "storm")
PEOPLE = ("Mara Quill", "Lena Vossberg", "Haruto Ikeda")
COUNTRIES = (country("JP", "Japan"), country("KR", "South Korea"), country("FR", "France"))


def _story_articles() -> list:
    """60 stories of 1 to 6 copies: copies differ in outlet, language, date (a few days apart), people."""
    rng = random.Random(8)
    out = []
    for s in range(60):
        size = rng.choice((1, 1, 1, 2, 3, 6))
        words = rng.sample(WORDS, 2)
        month = 1 + s % 5
        for c in range(size):
            day = 1 + (s * 7 + c * 13) % 28 if c < 4 else 28
            out.append(article(
                id=f"s{s:02d}-{c}", story_id=f"s{s:02d}-0",
                title=f"Story {s} {words[0]}", body=f"Copy {c} of story {s} about the {words[0]} and the "
                                                      f"{words[1]}. " + ("Extra wire paragraph. " * c),
                published=None if (s % 17 == 0 and c == 1) else f"2025-{month:02d}-{day:02d}",
                source=SOURCES[(s + c) % len(SOURCES)], language=LANGS[(s + 2 * c) % 3],
                people=tuple(person(p) for p in PEOPLE if (s + c + PEOPLE.index(p)) % 3 == 0),
                countries=(COUNTRIES[(s + c // 2) % 3],)))
    return out


ARTICLES = _story_articles()
BY_ID = {a.id: a for a in ARTICLES}


@pytest.fixture(scope="module")
def searcher(tmp_path_factory):
    s = Searcher(write_index(tmp_path_factory.mktemp("stories") / "index", ARTICLES))
    yield s
    s.close()


def _matches(a, req: SearchRequest, skip: str = "") -> bool:
    """Brute force: does article `a` match the request (the query is one plain word here)?"""
    text = f"{a.title} {a.body}".lower()
    if req.q and req.q.lower() not in text.replace(".", " ").split():
        return False
    names = {p.name for p in a.people}
    if any(p not in names for p in req.people):
        return False
    codes = {c.code for c in a.countries if c.about}
    if any(c not in codes for c in req.countries):
        return False
    if skip != "lang" and req.languages and a.language not in req.languages:
        return False
    if skip != "source" and req.sources and a.source not in req.sources:
        return False
    day = a.published.date() if a.published else None
    if req.date_from and (day is None or day < req.date_from):
        return False
    if req.date_to and (day is None or day > req.date_to):
        return False
    return True


def _values(a, facet: str):
    return {"people": [p.name for p in a.people], "countries": [c.code for c in a.countries if c.about],
            "language": [a.language], "source": [a.source]}[facet]


def _brute_counts(req: SearchRequest, facet: str, stories: bool) -> dict:
    skip = {"language": "lang", "source": "source"}.get(facet, "")
    seen = {}
    for a in ARTICLES:
        if _matches(a, req, skip):
            for v in _values(a, facet):
                seen.setdefault(v, set()).add(a.story_id if stories else a.id)
    return {v: len(s) for v, s in seen.items()}


REQUESTS = [
    SearchRequest(per_page=100),
    SearchRequest(q="harbour", per_page=100),
    SearchRequest(q="strike", languages=["fr"], per_page=100),
    SearchRequest(sources=["MENAFN", "Gulf Times"], per_page=100),
    SearchRequest(q="bank", people=["Mara Quill"], per_page=100),
    SearchRequest(countries=["JP"], date_from="2025-02", date_to="2025-03", per_page=100),
]


@pytest.mark.parametrize("req", REQUESTS, ids=range(len(REQUESTS)))
@pytest.mark.parametrize("mode", ["stories", "articles", "all"])
def test_totals_and_facet_counts_match_brute_force_and_clicking(searcher, req, mode):
    req = replace(req, all_articles=mode == "all", count="articles" if mode == "all" else mode)
    result = searcher.search(req)
    matching = [a for a in ARTICLES if _matches(a, req)]
    stories = {a.story_id for a in matching}
    assert (result.articles, result.stories) == (len(matching), len(stories))
    assert result.total == (len(matching) if mode == "all" else len(stories))
    # every matching story (or article) listed exactly once
    listed = [h.id for p in range(1, result.pages + 1)
              for h in searcher.search(replace(req, page=p, facets=False)).hits]
    if mode == "all":
        assert sorted(listed) == sorted(a.id for a in matching)
    else:
        assert sorted(BY_ID[i].story_id for i in listed) == sorted(stories)
    count_stories = mode == "stories"
    for facet, param in (("people", "people"), ("countries", "countries"), ("language", "languages"),
                         ("source", "sources")):
        got = {b.value: b.count for b in result.facets[facet] if b.count}
        assert got == _brute_counts(req, facet, count_stories), facet
        # clicking a value alone finds exactly its count (stories or articles as counted)
        for b in result.facets[facet][:3]:
            if not b.count or b.selected:
                continue
            clicked = searcher.search(replace(req, **{param: (b.value,) if facet in ("language", "source")
                                                      else getattr(req, param) + (b.value,)}, facets=False))
            assert (clicked.stories if count_stories else clicked.articles) == b.count, (facet, b.value)
    for b in result.facets["date"]:
        if b.count:
            clicked = searcher.search(replace(req, date_from=b.date_from, date_to=b.date_to, facets=False))
            assert (clicked.stories if count_stories else clicked.articles) == b.count, b.value
    brute_days = {}
    for a in matching:
        if a.published:
            brute_days.setdefault(a.published.strftime("%Y-%m"), set()).add(a.story_id if count_stories else a.id)
    if result.date_interval == "month":
        assert {b.value: b.count for b in result.facets["date"] if b.count} == {
            k: len(v) for k, v in brute_days.items()}


def test_collapsed_relevance_shows_each_story_once_by_its_best_member_at_its_rank(searcher):
    everything = searcher.search(SearchRequest(q="harbour", all_articles=True, per_page=100, facets=False))
    first_of = {}
    for h in everything.hits:   # the article ranking, first member of each story kept
        first_of.setdefault(h.story_id, h.id)
    collapsed = searcher.search(SearchRequest(q="harbour", per_page=100, facets=False))
    assert [h.id for h in collapsed.hits] == list(first_of.values())
    assert [h.rank for h in collapsed.hits] == list(range(1, len(collapsed.hits) + 1))


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_collapsed_date_sort_shows_each_story_by_its_earliest_member(searcher, sort):
    result = searcher.search(SearchRequest(sort=sort, per_page=100, facets=False))
    members = {}
    for a in ARTICLES:
        members.setdefault(a.story_id, []).append(a)
    expected = {}
    for sid, arts in members.items():
        dated = [a for a in arts if a.published]
        expected[sid] = min(dated, key=lambda a: (a.published, a.id)).id if dated else arts[0].id
    assert {h.story_id: h.id for h in result.hits} == expected
    dates = [h.published for h in result.hits]
    assert dates == sorted(dates, reverse=sort == "newest")


def test_pagination_over_collapsed_hits_is_exact_deep_into_the_results(searcher):
    whole = searcher.search(SearchRequest(q="storm", per_page=100, facets=False))
    pages = [searcher.search(SearchRequest(q="storm", per_page=7, page=p, facets=False))
             for p in range(1, -(-whole.total // 7) + 2)]
    assert [h.id for p in pages for h in p.hits] == [h.id for h in whole.hits]
    assert {p.total for p in pages} == {whole.total}
    assert pages[-1].hits == ()   # one past the last page
    for sort in ("newest", "oldest"):
        whole = searcher.search(SearchRequest(sort=sort, per_page=100, facets=False))
        paged = list(itertools.chain.from_iterable(
            searcher.search(SearchRequest(sort=sort, per_page=9, page=p, facets=False)).hits
            for p in range(1, 9)))
        assert [h.id for h in paged] == [h.id for h in whole.hits]


def test_every_hit_carries_its_story_in_both_modes(searcher):
    six = [a for a in ARTICLES if a.story_id == "s04-0"]
    assert len(six) == 6   # the fixture's one six-copy story used here
    for all_articles in (False, True):
        result = searcher.search(SearchRequest(q="story 4", all_articles=all_articles, per_page=100,
                                               facets=False))
        hits = [h for h in result.hits if h.story_id == "s04-0"]
        assert len(hits) == (6 if all_articles else 1)
        for h in hits:
            data = h.to_json()
            assert (data["story_id"], data["story_size"]) == ("s04-0", 6)
            assert data["story_outlets"] == len({a.source for a in six if a.id != h.id})
    hit = next(h for h in searcher.search(SearchRequest(q="story 4", per_page=100, facets=False)).hits
               if h.story_id == "s04-0")
    others = sorted((a for a in six if a.id != hit.id), key=lambda a: (a.published, a.id))
    assert hit.to_json()["also"] == [
        {"id": a.id, "source": a.source, "title": a.title, "published": a.published.isoformat()}
        for a in others[:5]]
    alone = next(h for h in searcher.search(SearchRequest(q="story 1", per_page=100, facets=False)).hits
                 if h.id == "s01-0")
    assert (alone.story_id, alone.story_size, alone.story_outlets, alone.also) == ("s01-0", 1, 0, ())


def test_stats_count_stories_and_duplicates(searcher):
    stats = searcher.stats()
    stories = len({a.story_id for a in ARTICLES})
    assert (stats["articles"], stats["stories"], stats["duplicates"]) == (
        len(ARTICLES), stories, len(ARTICLES) - stories)


def test_article_view_lists_the_other_versions_earliest_first(searcher):
    view = searcher.article("s04-2")
    six = sorted((a for a in ARTICLES if a.story_id == "s04-0" and a.id != "s04-2"),
                 key=lambda a: (a.published, a.id))
    assert view.story_ids == tuple(a.id for a in six)
    assert view.versions == tuple({"id": a.id, "source": a.source, "title": a.title,
                                   "published": a.published.isoformat()} for a in six)
    data = view.to_json()
    assert (data["story_id"], data["story_size"], data["story_ids"]) == ("s04-0", 6, [a.id for a in six])
    alone = searcher.article("s01-0")
    assert (alone.story_ids, alone.versions, alone.to_json()["story_size"]) == ((), (), 1)


def test_more_like_this_leaves_out_the_articles_own_story(searcher):
    similar = searcher.more_like_this("s04-0", 50)
    assert not [h.id for h in similar if h.story_id == "s04-0"]


def test_request_params_and_validation():
    from werkzeug.datastructures import MultiDict
    req = SearchRequest.from_params(MultiDict([("q", "x"), ("all_articles", "1"), ("count", "Articles")]))
    assert (req.all_articles, req.count, req.count_stories) == (True, "articles", False)
    req = SearchRequest.from_params({})
    assert (req.all_articles, req.count, req.count_stories) == (False, "stories", True)
    with pytest.raises(QueryError, match="unknown count 'outlets'"):
        SearchRequest(count="outlets").validate()


def test_index_without_stories_and_deleted_members(make_index):
    """Articles without a story id are stories of their own; a deleted copy leaves the story's size."""
    arts = [article(id="x1", body="alpha one"), article(id="x2", body="alpha two", story_id="x1"),
            article(id="x3", body="alpha three")]
    root = make_index(arts)

    from index import store
    from index.schema import ID
    ix = store.open_index(root)
    with ix.writer() as w:
        w.delete_by_term(ID, "x2")
    s = Searcher(root)
    try:
        result = s.search(SearchRequest(q="alpha", facets=False))
        assert sorted((h.id, h.story_id, h.story_size) for h in result.hits) == [
            ("x1", "x1", 1), ("x3", "x3", 1)]
        assert (result.total, result.articles, s.stats()["stories"], s.stats()["duplicates"]) == (2, 2, 2, 0)
    finally:
        s.close()


def test_the_two_counting_modes_differ_on_this_index(searcher):
    """Guards the brute-force test above against an index where stories and articles count the same."""
    by_story = searcher.search(SearchRequest(count="stories"))
    by_article = searcher.search(SearchRequest(count="articles"))
    assert by_story.total == by_article.total == len({a.story_id for a in ARTICLES})
    for facet in ("people", "countries", "language", "source", "date"):
        assert [b.count for b in by_story.facets[facet]] != [b.count for b in by_article.facets[facet]], facet
    assert sum(b.count for b in by_article.facets["source"]) == len(ARTICLES)


def test_the_generations_story_map_groups_documents_written_with_their_own_ids(make_index, make_article):
    """The builder's workers write each document with its own id as STORY; the story map names the copies."""
    from index.stories import STORY_MAP_FILE
    from index.store import current_generation
    body = "The harbour reopened on Monday after a week of storms, the harbour master said. " * 3
    root = make_index([make_article(id="orig", body=body, source="Wire", published="2025-03-01"),
                       make_article(id="copy", body=body + " First published by Wire.", source="Post",
                                    published="2025-03-02"),
                       make_article(id="other", body="Coffee prices rose in Brazil.", published="2025-03-03")])
    (current_generation(root) / STORY_MAP_FILE).write_text('{"copy": "orig", "gone": "orig"}')
    searcher = Searcher(root)
    try:
        result = searcher.search(SearchRequest(q="harbour"))
        assert (result.total, [h.id for h in result.hits], result.hits[0].story_size) == (1, ["orig"], 2)
        assert [a["id"] for a in result.hits[0].also] == ["copy"]
        assert searcher.search(SearchRequest(q="harbour", all_articles=True)).total == 2
        assert (searcher.stats()["stories"], searcher.stats()["duplicates"]) == (2, 1)
    finally:
        searcher.close()


@pytest.mark.parametrize("copies", [0.01, 0.5])   # few copies: the sorting path; many: the pass over every story
def test_story_counting_of_any_set_of_live_documents_matches_brute_force(copies):
    import numpy as np
    from search.snapshot import Stories

    rng = random.Random(int(copies * 100))
    n = 4000
    story_of = [rng.randrange(n // 3) if rng.random() < copies else None for _ in range(n)]
    live = np.array([rng.random() < 0.9 for _ in range(n)])
    pairs = [(d, s) for d, s in enumerate(story_of) if s is not None]
    values = [f"story-{k}" for k in range(n // 3)]
    stories = Stories(values, np.array([d for d, _ in pairs], np.int32), np.array([s for _, s in pairs], np.int32),
                      live, np.arange(n))
    key = [s if s is not None else ("own", d) for d, s in enumerate(story_of)]
    live_docs = np.flatnonzero(live)
    for size in (0, 1, 5, 50, 500, len(live_docs)):
        docs = np.sort(np.array(rng.sample(live_docs.tolist(), size), dtype=np.int64))
        assert stories.distinct(docs) == len({key[d] for d in docs})
        counted = {}
        for d in docs:
            counted[key[d]] = counted.get(key[d], 0) + 1
        assert stories.shared(docs).tolist() == [counted[key[d]] > 1 for d in docs]
