"""The Searcher against a real on-disk index of the sample articles (tests/conftest.py SAMPLES)."""
from collections import Counter
from dataclasses import replace
from datetime import date

import pytest

import search.snapshot
from search import FacetBucket, QueryError, SearchRequest, Searcher
from search import search as search_once
from tests.conftest import SAMPLES, article, person, write_index

BY_ID = {a.id: a for a in SAMPLES}


def ids(searcher, q="", **kw):
    result = searcher.search(SearchRequest(q=q, per_page=100, **kw))
    assert result.total == len(result.hits)
    return [h.id for h in result.hits]


@pytest.mark.parametrize("q, expected", [
    ("earthquake", {"jp-quake", "kr-quake"}),
    ("earthquakes", {"jp-quake", "kr-quake"}),                        # English stem
    ("élections", {"fr-elections"}),
    ("électeur", {"fr-elections"}),                                     # French stem of électeurs
    ("budget AND vote", {"hostile", "budget-2024"}),
    ('"prime minister"', {"jp-quake"}),
    ('"minister prime"', set()),                                        # a phrase keeps its order
    ("budget OR trade", {"hostile", "budget-2024", "fr-budget", "kr-trade", "de-trade"}),
    ("budget -vote", {"fr-budget"}),
    ("budget NOT vote", {"fr-budget"}),
    ("(budget OR trade) -vote", {"fr-budget", "kr-trade", "de-trade"}),
    ("-budget -trade -earthquake", {"kr-election", "fr-elections", "ja-quake", "undated"}),
    ("title:budget", {"hostile", "budget-2024", "fr-budget"}),
    ("body:parliament", {"budget-2024"}),
    ("title:parliament", set()),
    ("person:ikeda", {"jp-quake", "kr-trade"}),
    ('person:"mara quill"', {"hostile", "budget-2024", "fr-budget"}),
    ("person:vossb*", {"kr-election", "de-trade"}),
    ("country:kr", {"kr-election", "kr-trade", "de-trade", "kr-quake"}),
    ('country:"south korea"', {"kr-election", "kr-trade", "de-trade", "kr-quake"}),
    ("country:fr lang:fr", {"fr-elections", "fr-budget"}),
    ('source:"gulf times"', {"kr-election", "kr-trade", "de-trade"}),
    ("source:GULF*", {"kr-election", "kr-trade", "de-trade"}),
    ("trad*", {"kr-trade", "de-trade"}),
    ("parliam?nt", {"budget-2024"}),
    ("budgit~", {"hostile", "budget-2024", "fr-budget"}),
    ("tokio~1", {"jp-quake", "kr-trade"}),
    ("地震", {"ja-quake"}),
    ("東京都", {"ja-quake"}),                                            # a CJK word is a phrase of bigrams
    ("京都", {"ja-quake"}),
    ("date:2025-05", {"kr-trade", "fr-elections", "de-trade", "kr-quake"}),
    ("date:..2024", {"budget-2024"}),
    ("date:2025-05-20..", {"fr-elections", "de-trade", "kr-quake", "kr-election"}),
    ("trade date:2025-05-20..2025-05-31", {"de-trade"}),
    ("script onerror", {"hostile"}),
    ("nothingmatchesthis", set()),
])
def test_query_classes_find_the_right_articles(sample_searcher, q, expected):
    assert set(ids(sample_searcher, q)) == expected


def test_relevance_puts_title_matches_first(make_index):
    body = "The port authority met on Tuesday to discuss the schedule for the coming season and the new cranes."
    root = make_index([
        article(id="in-body", title="Port authority meeting", body=body + " Dredging was on the agenda."),
        article(id="in-title", title="Dredging plan for the port", body=body + " A plan was on the agenda."),
    ])
    searcher = Searcher(root)
    assert ids(searcher, "dredging") == ["in-title", "in-body"]
    searcher.close()


def test_a_derived_headline_is_not_weighted_as_a_real_one(make_index):
    # the same words once in the body: a headline derived from the first sentence must not count them twice
    rest = " The council will decide next week. Residents have until Friday to comment on the plans."
    root = make_index([
        article(id="derived", title="Flood barrier approved by council", title_derived=True,
                body="Flood barrier approved by council." + rest),
        article(id="plain", title="Council news", body="Flood barrier approved by council." + rest),
    ])
    searcher = Searcher(root)
    scores = {h.id: h.score for h in searcher.search(SearchRequest(q="flood barrier", all_articles=True)).hits}
    assert scores["derived"] == pytest.approx(scores["plain"], rel=0.02)
    searcher.close()


def test_earthquake_hits_are_ranked(sample_searcher):
    result = sample_searcher.search(SearchRequest(q="earthquake"))
    assert [h.rank for h in result.hits] == [1, 2]
    assert result.hits[0].score >= result.hits[1].score > 0


def test_empty_query_browses_newest_first_with_undated_last(sample_searcher):
    newest = sorted((a for a in SAMPLES if a.published), key=lambda a: a.published, reverse=True)
    assert ids(sample_searcher) == [a.id for a in newest] + ["undated"]
    result = sample_searcher.search(SearchRequest(countries=["KR"], date_from="2025-05", date_to="2025-05"))
    assert [h.id for h in result.hits] == ["kr-quake", "de-trade", "kr-trade"]
    assert [h.score for h in result.hits] == [None, None, None]


def test_sort_newest_and_oldest(sample_searcher):
    assert ids(sample_searcher, "budget OR trade", sort="newest") == [
        "de-trade", "kr-trade", "fr-budget", "hostile", "budget-2024"]
    assert ids(sample_searcher, "harbour OR budget OR trade", sort="oldest") == [
        "budget-2024", "hostile", "fr-budget", "kr-trade", "de-trade", "undated"]


def test_recency_favours_recent_articles(make_index):
    root = make_index([
        article(id="old", title="Town report", body="harbour news from the harbour", published="2024-01-01"),
        article(id="new", title="Weekly notes", body="A piece that mentions the harbour once among other words "
                "about the town and its markets.", published="2025-06-01"),
    ])
    with_searcher = Searcher(root)
    assert ids(with_searcher, "harbour") == ["old", "new"]
    assert ids(with_searcher, "harbour", recency=True) == ["new", "old"]
    with_searcher.close()


def test_filters_are_independent_of_the_query(sample_searcher):
    assert set(ids(sample_searcher, "trade", people=["Lena Vossberg"])) == {"de-trade"}
    assert set(ids(sample_searcher, people=["Haruto Ikeda", "Min-jun Park"])) == {"kr-trade"}   # people AND
    assert set(ids(sample_searcher, people=["min jun park"])) == {"kr-trade"}      # the same person key
    assert set(ids(sample_searcher, countries=["KR", "JP"])) == {"kr-trade"}          # countries AND
    assert set(ids(sample_searcher, countries=["kr"], languages=["fr", "ja"])) == set()
    assert set(ids(sample_searcher, languages=["fr", "ja"])) == {"fr-elections", "fr-budget", "ja-quake"}  # OR
    assert set(ids(sample_searcher, sources=["Asahi Test", "Le Quotidien"])) == {"ja-quake", "fr-elections",
                                                                                   "fr-budget"}
    assert set(ids(sample_searcher, sources=["le quotidien"])) == {"fr-elections", "fr-budget"}
    assert set(ids(sample_searcher, date_from=date(2025, 5, 28))) == {"de-trade", "kr-quake", "kr-election"}
    assert set(ids(sample_searcher, date_to=date(2024, 12, 31))) == {"budget-2024"}


def test_query_errors_surface_from_search(sample_searcher):
    with pytest.raises(QueryError) as err:
        sample_searcher.search(SearchRequest(q="headline:tokyo"))
    assert str(err.value) == ('unknown field "headline" (in headline:tokyo); valid fields: title, body, person, '
                              'country, lang, source, date')
    with pytest.raises(QueryError) as err:
        sample_searcher.search(SearchRequest(q="&& ..."))
    assert str(err.value) == "AND at position 1 needs a term on both sides"
    with pytest.raises(QueryError) as err:
        sample_searcher.search(SearchRequest(q="... !!"))
    assert str(err.value) == "the query '... !!' has no searchable words (only punctuation or symbols)"


def test_wildcard_expansion_is_bounded(sample_searcher, monkeypatch):
    monkeypatch.setattr(search.snapshot, "MAX_WILDCARD_TERMS", 3)
    assert set(ids(sample_searcher, "tr*")) == {"jp-quake", "kr-trade", "de-trade", "hostile"}   # 3 words
    with pytest.raises(QueryError) as err:
        sample_searcher.search(SearchRequest(q="t*"))
    assert str(err.value) == "the wildcard t* matches more than 3 different words: make it longer"


# -- facets --------------------------------------------------------------------------------------------------

def brute_force_facets(searcher, request, interval):
    """Facet counts computed the slow way over SAMPLES, with the documented multi-select semantics."""
    matched = {BY_ID[i] for i in ids(searcher, request.q)}
    keys = {p.casefold().replace("-", " ") for p in request.people}

    def ok(a, skip=""):
        if not keys <= {p.key for p in a.people}:
            return False
        if not {c.upper() for c in request.countries} <= {c.code for c in a.countries if c.about}:
            return False
        if request.date_from or request.date_to:
            if not a.published:
                return False
            day = a.published.date()
            if (request.date_from and day < request.date_from) or (request.date_to and day > request.date_to):
                return False
        if skip != "language" and request.languages and a.language not in request.languages:
            return False
        if skip != "source" and request.sources and a.source not in request.sources:
            return False
        return True

    hits = [a for a in matched if ok(a)]
    return {
        "people": Counter(p.name for a in hits for p in a.people),
        "countries": Counter(c.code for a in hits for c in a.countries if c.about),
        "language": Counter(a.language for a in matched if ok(a, "language")),
        "source": Counter(a.source for a in matched if ok(a, "source")),
        "date": Counter(a.published.strftime({"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}[interval])
                        for a in hits if a.published),
    }


REQUESTS = [
    SearchRequest(),
    SearchRequest(q="trade OR budget OR earthquake"),
    SearchRequest(q="budget", languages=["fr"]),
    SearchRequest(languages=["en"], sources=["Gulf Times", "Harbour Post"]),
    SearchRequest(people=["Mara Quill"], countries=["US"]),
    SearchRequest(q="-earthquake", countries=["KR"], date_from="2025-01", date_to="2025-12"),
    SearchRequest(q="nothingmatchesthis", languages=["en"]),
]


@pytest.mark.parametrize("request_", REQUESTS)
def test_facet_counts_equal_brute_force_counts(sample_searcher, request_):
    result = sample_searcher.search(request_)
    expected = brute_force_facets(sample_searcher, request_, result.date_interval)
    got = {name: {b.value: b.count for b in buckets if b.count} for name, buckets in result.facets.items()}
    assert got == {name: dict(counts) for name, counts in expected.items()}


@pytest.mark.parametrize("request_", REQUESTS)
def test_clicking_a_bucket_returns_exactly_its_count(sample_searcher, request_):
    result = sample_searcher.search(request_)
    adds = {"people": "people", "countries": "countries", "language": "languages", "source": "sources"}
    for name, attr in adds.items():
        for b in result.facets[name]:
            if b.selected:
                continue
            current = getattr(request_, attr)
            # language/source are multi-select: a bucket counts what that value alone would give
            values = (b.value,) if name in ("language", "source") else current + (b.value,)
            clicked = sample_searcher.search(SearchRequest(**{**_fields(request_), attr: values}))
            assert clicked.total == b.count, (name, b.value)
    for b in result.facets["date"]:
        clicked = sample_searcher.search(SearchRequest(**{**_fields(request_), "date_from": b.date_from,
                                                         "date_to": b.date_to}))
        assert clicked.total == b.count, b.value


def _fields(req):
    return {k: getattr(req, k) for k in ("q", "people", "countries", "languages", "sources", "date_from", "date_to")}


def test_multi_select_language_counts_ignore_their_own_selection(sample_searcher):
    result = sample_searcher.search(SearchRequest(languages=["fr"]))
    assert result.total == 2
    assert list(result.facets["language"]) == [
        FacetBucket("en", "English", 8, False), FacetBucket("fr", "French", 2, True),
        FacetBucket("ja", "Japanese", 1, False)]
    assert [(b.value, b.count) for b in result.facets["source"]] == [("Le Quotidien", 2)]
    assert [(b.value, b.label, b.count, b.selected) for b in result.facets["countries"]] == [("FR", "France", 2, False)]
    assert [(b.value, b.count) for b in result.facets["people"]] == [("Mara Quill", 1), ("Tomas Ferrante", 1)]


def test_selected_values_are_always_listed(sample_searcher):
    result = sample_searcher.search(SearchRequest(q="earthquake", people=["Nobody Atall"], countries=["ZZ"]))
    assert result.total == 0
    assert result.facets["people"] == (FacetBucket("Nobody Atall", "Nobody Atall", 0, True),)
    assert result.facets["countries"] == (FacetBucket("ZZ", "ZZ", 0, True),)


def test_date_histogram_buckets_suit_the_range(sample_searcher):
    days = sample_searcher.search(SearchRequest(date_from="2025-05-25", date_to="2025-06-05"))
    assert days.date_interval == "day"
    assert [(b.value, b.count) for b in days.facets["date"] if b.count] == [
        ("2025-05-28", 1), ("2025-05-30", 1), ("2025-06-03", 1)]
    assert len(days.facets["date"]) == 12 and days.facets["date"][0].label == "25 May 2025"
    months = sample_searcher.search(SearchRequest(q="budget OR earthquake"))
    assert months.date_interval == "month"
    assert [(b.value, b.label, b.count) for b in months.facets["date"]] == [
        ("2024-12", "Dec 2024", 1), ("2025-01", "Jan 2025", 1), ("2025-02", "Feb 2025", 1),
        ("2025-03", "Mar 2025", 1), ("2025-04", "Apr 2025", 0), ("2025-05", "May 2025", 1)]
    years = sample_searcher.search(SearchRequest(date_from="2019", date_to="2025"))
    assert years.date_interval == "year"
    assert [(b.value, b.count) for b in years.facets["date"]] == [
        ("2019", 0), ("2020", 0), ("2021", 0), ("2022", 0), ("2023", 0), ("2024", 1), ("2025", 9)]
    assert years.facets["date"][-1].to_json() == {"value": "2025", "label": "2025", "count": 9, "selected": False,
                                                  "from": "2025-01-01", "to": "2025-12-31"}
    selected = sample_searcher.search(SearchRequest(date_from="2025-05", date_to="2025-05"))
    assert selected.date_interval == "day" and selected.total == 4


def test_facet_value_search_by_prefix(sample_searcher):
    assert sample_searcher.facet_values("people", "voss") == [FacetBucket("Lena Vossberg", "Lena Vossberg", 2)]
    assert sample_searcher.facet_values("people", "Lena V") == [FacetBucket("Lena Vossberg", "Lena Vossberg", 2)]
    assert [b.value for b in sample_searcher.facet_values("people", "")] == [
        "Mara Quill", "Haruto Ikeda", "Lena Vossberg", "Min-jun Park", "Tomas Ferrante"]
    assert [b.value for b in sample_searcher.facet_values("people", "m", limit=1)] == ["Mara Quill"]
    assert sample_searcher.facet_values("people", "park") == [FacetBucket("Min-jun Park", "Min-jun Park", 1)]
    assert sample_searcher.facet_values("countries", "kor") == [FacetBucket("KR", "South Korea", 4)]
    assert sample_searcher.facet_values("countries", "de") == [FacetBucket("DE", "Germany", 1)]
    assert sample_searcher.facet_values("language", "fre") == [FacetBucket("fr", "French", 2)]
    assert sample_searcher.facet_values("source", "times") == [FacetBucket("Gulf Times", "Gulf Times", 3)]
    within = sample_searcher.facet_values("people", "", request=SearchRequest(q="trade"))
    assert within == [FacetBucket("Haruto Ikeda", "Haruto Ikeda", 1), FacetBucket("Lena Vossberg", "Lena Vossberg", 1),
                      FacetBucket("Min-jun Park", "Min-jun Park", 1)]
    with pytest.raises(QueryError) as err:
        sample_searcher.facet_values("date", "2025")
    assert str(err.value) == "unknown facet 'date'; valid facets: people, countries, language, source"


# -- snippets ------------------------------------------------------------------------------------------------

def test_snippets_mark_words_as_written_and_escape_everything_else(sample_searcher):
    hit = sample_searcher.search(SearchRequest(q="onerror budgets")).hits[0]
    assert hit.id == "hostile"
    assert hit.snippet == ("The <mark>budget</mark> vote was delayed after a page showed &lt;img src=x "
                           "<mark>onerror</mark>=alert(1)&gt; &amp; other &quot;tricks&quot;. Mara Quill said the "
                           "<mark>budget</mark> would pass.")
    assert hit.title == "<script>alert('x')</script> Budget vote delayed"
    assert hit.title_html == "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; <mark>Budget</mark> vote delayed"


def test_snippet_marks_stemmed_and_cjk_matches(sample_searcher):
    kr = sample_searcher.search(SearchRequest(q="elections", languages=["en"])).hits[0]
    assert kr.snippet == ("Voters in South Korea <mark>elected</mark> a new president on Tuesday. Turnout in the "
                          "<mark>election</mark> was high. Lena Vossberg, an observer, said the vote was calm.")
    ja = sample_searcher.search(SearchRequest(q="東京都 地震")).hits[0]
    assert ja.snippet == "<mark>東京都</mark>で強い<mark>地震</mark>が発生した。気象庁によると、<mark>地震</mark>の規模はマグニチュード6.1だった。"
    fr = sample_searcher.search(SearchRequest(q="élection", languages=["fr"])).hits[0]
    assert fr.title_html == "Les <mark>élections</mark> législatives approchent"


def test_metadata_only_match_shows_the_lead(sample_searcher):
    hit = sample_searcher.search(SearchRequest(q="country:de")).hits[0]
    assert hit.snippet == ("German exporters expect trade with Korea to grow. Lena Vossberg of the trade "
                           "association spoke in Berlin.")
    long = article(body="word " * 100)
    from search.snippets import lead
    assert lead(long.body) == ("word " * 44).strip() + " …"


# -- pagination ----------------------------------------------------------------------------------------------

def test_pagination_totals_and_past_the_end(sample_searcher):
    everything = ids(sample_searcher)
    pages = [sample_searcher.search(SearchRequest(page=p, per_page=4)) for p in (1, 2, 3, 4)]
    assert [[h.id for h in r.hits] for r in pages[:3]] == [everything[0:4], everything[4:8], everything[8:]]
    assert [r.total for r in pages] == [11, 11, 11, 11]
    assert pages[3].hits == () and pages[3].pages == 3
    assert [h.rank for h in pages[2].hits] == [9, 10, 11]
    with pytest.raises(QueryError):
        sample_searcher.search(SearchRequest(page=10 ** 6))


def test_result_json_shape(sample_searcher):
    data = sample_searcher.search(SearchRequest(q="trade", countries=["KR"], per_page=1)).to_json()
    assert sorted(data) == ["all_articles", "articles", "count", "date_interval", "did_you_mean", "explain",
                            "facets", "failed_facets", "hits", "matching", "max_result_window", "page", "pages", "per_page",
                            "query", "relaxed", "stories", "took_ms", "total"]
    assert (data["all_articles"], data["count"], data["articles"], data["stories"]) == (False, "stories", 2, 2)
    assert (data["total"], data["pages"], data["explain"]) == (2, 2, "trade")
    hit = data["hits"][0]
    assert {k: hit[k] for k in ("id", "title", "published", "source", "language", "people", "countries")} == {
        "id": "de-trade", "title": "German exporters expect trade growth", "published": "2025-05-28T00:00:00+00:00",
        "source": "Gulf Times", "language": "en", "people": ["Lena Vossberg"], "countries": ["DE", "KR"]}
    assert isinstance(hit["score"], float) and hit["snippet"].startswith("German exporters expect <mark>trade</mark>")
    assert sorted(data["facets"]) == ["countries", "date", "language", "people", "source"]
    assert data["facets"]["countries"] == [
        {"value": "KR", "label": "South Korea", "count": 2, "selected": True},
        {"value": "DE", "label": "Germany", "count": 1, "selected": False},
        {"value": "JP", "label": "Japan", "count": 1, "selected": False}]


# -- did you mean, more like this, article, stats, explain ----------------------------------------------------

def test_did_you_mean_suggests_real_words(sample_searcher):
    assert sample_searcher.search(SearchRequest(q="parliment")).did_you_mean == "parliament"
    assert sample_searcher.search(SearchRequest(q="budget earthqake -tokio")).did_you_mean == "budget earthquake -tokyo"
    assert sample_searcher.search(SearchRequest(q="earthquakes")).did_you_mean is None   # a form of a real word
    assert sample_searcher.search(SearchRequest(q="budget")).did_you_mean is None


def test_more_like_this(make_index):
    root = make_index(SAMPLES + (
        article(id="kr-quake-2", title="Earthquake hits South Korea coast",
                body="An earthquake hit the south coast of South Korea. Damage was minor.", published="2025-06-01"),
    ))
    searcher = Searcher(root)
    similar = searcher.more_like_this("kr-quake", 3)
    assert [h.id for h in similar][:1] == ["kr-quake-2"]
    assert "kr-quake" not in [h.id for h in similar]
    assert searcher.more_like_this("no-such-id") == []
    searcher.close()


def test_article_by_id(sample_searcher):
    view = sample_searcher.article("kr-trade")
    assert view.article == replace(BY_ID["kr-trade"], story_id="kr-trade")   # an article is its own story
    assert view.story_ids == ()
    assert view.to_json()["people"] == [{"name": "Haruto Ikeda", "key": "haruto ikeda", "mentions": []},
                                        {"name": "Min-jun Park", "key": "min jun park", "mentions": []}]
    assert sample_searcher.article("missing") is None


def test_stats(sample_searcher):
    stats = sample_searcher.stats()
    assert {k: v for k, v in stats.items() if k not in ("generation", "commit")} == {
        "articles": 11, "deleted_pending_merge": 0, "languages": {"en": 8, "fr": 2, "ja": 1},
        "sources": {"Harbour Post": 5, "Gulf Times": 3, "Le Quotidien": 2, "Asahi Test": 1},
        "people": 5, "countries": 5, "first_published": "2024-12-18", "last_published": "2025-06-03",
        "undated": 1, "segments": 1, "stories": 11, "duplicates": 0}


def test_explain_shows_what_each_word_searches(sample_searcher):
    assert sample_searcher.explain('elections -"prime minister" country:kr trad*') == "\n".join([
        'query: (elections AND NOT "prime minister" AND country:kr AND trad*)',
        "  searches title:elections",
        "  searches body:elections",
        "  searches stem_en:elect",
        "  searches stem_fr:elect",
        '  searches title:"prime minister"',
        '  searches body:"prime minister"',
        "  searches country:KR",
        "  searches title:trad* -> [trade]",
        "  searches body:trad* -> [trade]",
    ])


# -- refresh -------------------------------------------------------------------------------------------------

def test_searcher_sees_a_replaced_index_without_restart(tmp_path):
    root = write_index(tmp_path / "ix", SAMPLES[:3])
    searcher = Searcher(root)
    assert searcher.search(SearchRequest()).total == 3
    write_index(root, SAMPLES)   # a full rebuild publishes a new generation
    assert searcher.search(SearchRequest()).total == 11
    assert searcher.stats()["articles"] == 11
    write_index(root, SAMPLES[:1] + (article(id="late", title="Late news", people=(person("Ana Late"),)),))
    assert ids(searcher, "late") == ["late"]
    assert searcher.facet_values("people", "late") == [FacetBucket("Ana Late", "Ana Late", 1)]
    searcher.close()


def test_module_level_search_convenience(sample_index):
    assert search_once(SearchRequest(q="earthquake"), sample_index).total == 2


def test_no_request_fails_while_the_index_is_swapped(tmp_path):
    import threading
    root = write_index(tmp_path / "ix", SAMPLES)
    searcher = Searcher(root)
    errors, totals = [], []
    stop = threading.Event()

    def hammer():
        while not stop.is_set():
            try:
                totals.append(searcher.search(SearchRequest(q="budget OR trade OR earthquake")).total)
            except Exception as exc:   # any failure is the bug this test is about
                errors.append(repr(exc))

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    for k in range(4):   # each rebuild publishes a new generation and prunes the one before the previous
        write_index(root, SAMPLES if k % 2 else SAMPLES[:5])
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
    assert set(totals) <= {7, 2} and totals
    assert searcher.search(SearchRequest(q="budget OR trade OR earthquake")).total == 7
    searcher.close()


def test_fuzzy_expansion_is_bounded(sample_searcher, monkeypatch):
    monkeypatch.setattr(search.snapshot, "MAX_WILDCARD_TERMS", 1)
    with pytest.raises(QueryError) as err:
        sample_searcher.search(SearchRequest(q="tha~2"))
    assert str(err.value) == ("the fuzzy word tha~2 matches more than 1 different words: make it longer or allow "
                              "fewer typos (~1)")


def test_incremental_updates_multiple_segments_and_deletions(tmp_path):
    from whoosh import index as whoosh_index
    from index import store
    from index.schema import ID, document_for
    root = write_index(tmp_path / "ix", SAMPLES)
    searcher = Searcher(root)
    assert searcher.search(SearchRequest(q="budget")).total == 3
    ix = whoosh_index.open_dir(str(store.current_generation(root)), indexname=store.INDEX_NAME)
    writer = ix.writer()
    writer.delete_by_term(ID, "hostile")                                      # deleted, not yet merged away
    writer.update_document(**document_for(replace(BY_ID["fr-budget"], title="Le budget adopté",
                                                  people=(person("Ana Late"),))))   # replaced by id
    writer.add_document(**document_for(article(id="new-budget", title="New budget", published="2025-06-10",
                                               source="Gulf Times", people=(person("Mara Quill"),))))
    writer.commit(merge=False)
    result = searcher.search(SearchRequest(q="budget"))
    assert sorted(h.id for h in result.hits) == ["budget-2024", "fr-budget", "new-budget"]
    assert searcher.stats()["segments"] == 2 and searcher.stats()["articles"] == 11
    assert {b.value: b.count for b in result.facets["people"]} == {"Mara Quill": 2, "Ana Late": 1}
    assert {b.value: b.count for b in result.facets["source"]} == {"Harbour Post": 1, "Le Quotidien": 1,
                                                                   "Gulf Times": 1}
    assert [h.id for h in searcher.search(SearchRequest(per_page=2)).hits] == ["new-budget", "kr-election"]
    assert searcher.article("hostile") is None
    assert searcher.article("fr-budget").article.title == "Le budget adopté"
    searcher.close()


def test_an_empty_index_answers_everything_with_nothing(make_index):
    from search import Searcher
    searcher = Searcher(make_index([]))
    try:
        result = searcher.search(SearchRequest(q="anything"))
        assert (result.total, result.hits) == (0, ())
        assert all(buckets == () for name, buckets in result.facets.items())
        assert searcher.stats()["articles"] == 0
        assert searcher.facet_values("people", "a") == []
    finally:
        searcher.close()
