"""Person and country pages: the search layer (Searcher.entity) and the site (/person, /country, /api/...)."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from bs4 import BeautifulSoup

from search import QueryError, SearchRequest, Searcher, UnknownEntity
from search.entities import significance
from tests.conftest import article, country, person
from web.app import create_app

ADA = person("Ada Quill")
COMMON, TELLING, ONCE, ELSEWHERE = (person("Cole Common"), person("Tess Telling"), person("Otto Once"),
                                    person("Elsa Elsewhere"))
US, FR, DE = country("US", "United States"), country("FR", "France"), country("DE", "Germany")


def example() -> list:
    """40 articles; Ada Quill in 10 of them. Cole Common is in half of all articles, and half of Ada's (as common
    with her as without); Tess Telling in 4, 3 of them with Ada; Otto Once in one, with Ada; Elsa Elsewhere in
    10, one with Ada. Countries: US everywhere, France in 3 of Ada's only, Germany in 10 others."""
    arts = []
    for i in range(40):
        with_ada = i < 10
        people = [ADA] if with_ada else []
        if i < 5 or 10 <= i < 25:
            people.append(COMMON)
        if i in (0, 1, 2, 30):
            people.append(TELLING)
        if i == 3:
            people.append(ONCE)
        if i == 4 or 31 <= i < 40:
            people.append(ELSEWHERE)
        countries = [US] + ([FR] if i in (0, 1, 2) else []) + ([DE] if 20 <= i < 30 else [])
        month = 1 + i % 6
        arts.append(article(id=f"e{i:02d}", title=f"Harbour report {i}", body=f"Harbour news number {i}.",
                            published=f"2025-{month:02d}-{1 + i % 27:02d}",
                            language="fr" if i % 4 == 3 else "en", source="Gulf Times" if i % 2 else "Harbour Post",
                            people=tuple(people), countries=tuple(countries),
                            # e00 and e01 are one story (a copy); so are e05 and e06
                            story_id={"e01": "e00", "e06": "e05"}.get(f"e{i:02d}", "")))
    arts.append(article(id="undated-ada", title="Harbour note", body="Harbour note without a date.", published=None,
                        date_source="none", people=(ADA,), countries=(US,)))
    return arts


@pytest.fixture(scope="module")
def index_root(tmp_path_factory):
    from tests.conftest import write_index
    return write_index(tmp_path_factory.mktemp("entities") / "index", example())


@pytest.fixture(scope="module")
def searcher(index_root):
    s = Searcher(index_root)
    yield s
    s.close()


@pytest.fixture(scope="module")
def client(index_root):
    return create_app({"INDEX_ROOT": str(index_root)}).test_client()


# --- the search layer ----------------------------------------------------------------------------------------------

def test_counts_first_last_seen_and_timeline(searcher):
    page = searcher.entity("person", "ada quill", SearchRequest())
    assert (page.kind, page.key, page.name) == ("person", "ada quill", "Ada Quill")
    assert page.articles == 11 and page.stories == 9 and page.archive_articles == 11
    assert (page.first_seen, page.last_seen) == ("2025-01-01", "2025-06-06")
    assert page.interval == "month"
    assert [(b.value, b.count) for b in page.timeline] == [("2025-01", 2), ("2025-02", 2), ("2025-03", 2),
                                                           ("2025-04", 2), ("2025-05", 1), ("2025-06", 1)]
    assert sum(b.count for b in page.timeline) == page.articles - 1   # the undated one has no period


@pytest.mark.parametrize("request_", [
    SearchRequest(),
    SearchRequest(q="harbour"),
    SearchRequest(q="report", languages=("en",)),
    SearchRequest(date_from="2025-02", date_to="2025-04"),
    SearchRequest(sources=("Gulf Times",), countries=("US",)),
    SearchRequest(q="nothingmatches"),
], ids=["all", "query", "query+lang", "dates", "source+country", "no-match"])
def test_counts_equal_the_search_for_the_same_filters(searcher, request_):
    from dataclasses import replace
    page = searcher.entity("person", "Ada Quill", request_)
    narrowed = replace(request_, people=request_.people + ("Ada Quill",))
    assert page.articles == searcher.search(replace(narrowed, all_articles=True)).total
    assert page.articles == searcher.search(replace(narrowed, count="articles")).articles
    assert page.stories == searcher.search(narrowed).total
    for co in page.with_people:
        both = replace(narrowed, people=narrowed.people + (co.value,), all_articles=True)
        assert co.count == searcher.search(both).total, co
    for co in page.with_countries:
        both = replace(narrowed, countries=narrowed.countries + (co.value,), all_articles=True)
        assert co.count == searcher.search(both).total, co
    latest = searcher.search(replace(narrowed, sort="newest", per_page=10))
    assert [h.id for h in page.latest] == [h.id for h in latest.hits]


def test_significance_ranks_the_telling_above_the_everywhere(searcher):
    by_score = searcher.entity("person", "ada quill", SearchRequest(), rank="score")
    assert by_score.ranked_by == "score"
    people = [(c.label, c.count) for c in by_score.with_people]
    # Tess (3 of her 4 articles with Ada) > Otto (his only one) > Cole (about as common with Ada as without:
    # 5 of her 11, 15 of the 30 others: near 0) > Elsa (1 of 11, 9 of 30: less often with Ada, below 0)
    assert people == [("Tess Telling", 3), ("Otto Once", 1), ("Cole Common", 5), ("Elsa Elsewhere", 1)]
    scores = [c.score for c in by_score.with_people]
    assert scores[0] > scores[1] > 0 and abs(scores[2]) < 0.1 and scores[3] < scores[2]
    assert [c.value for c in by_score.with_countries] == ["FR", "US"]   # Germany never appears with her

    by_count = searcher.entity("person", "ada quill", SearchRequest(), rank="count")
    assert by_count.ranked_by == "count"
    assert [(c.label, c.count) for c in by_count.with_people] == [
        ("Cole Common", 5), ("Tess Telling", 3), ("Otto Once", 1), ("Elsa Elsewhere", 1)]
    assert [c.value for c in by_count.with_countries] == ["US", "FR"]


def test_significance_is_dunnings_log_likelihood_ratio():
    # a hand-computed 2x2 table: 3 of 10 foreground articles, 1 of the 30 others
    k = np.array([[3, 7], [1, 29]], dtype=float)
    expected = k.sum(1, keepdims=True) * k.sum(0, keepdims=True) / k.sum()
    g2 = 2 * (k * np.log(k / expected)).sum()
    assert significance(np.array([3]), 10, np.array([4]), 40)[0] == pytest.approx(g2)
    # a value as frequent with as without scores 0; less frequent: negative; nothing to compare with: 0
    assert significance(np.array([5, 1]), 10, np.array([20, 10]), 40).tolist()[0] == pytest.approx(0)
    assert significance(np.array([1]), 10, np.array([10]), 40)[0] < 0
    assert significance(np.array([2]), 10, np.array([2]), 10)[0] == 0


def test_a_country_page_and_names_that_resolve(searcher):
    page = searcher.entity("country", "fr", SearchRequest())
    assert (page.key, page.name, page.articles) == ("FR", "France", 3)
    assert [c.label for c in page.with_people][0] in ("Ada Quill", "Tess Telling")
    assert searcher.entity("country", "France", SearchRequest()).key == "FR"
    assert searcher.entity("country", "DEU", SearchRequest()).key == "DE"      # alpha-3
    assert searcher.entity("person", "ADA  QUILL", SearchRequest()).key == "ada quill"


def test_an_unknown_key_is_a_404_with_suggestions(searcher):
    with pytest.raises(UnknownEntity) as err:
        searcher.entity("person", "Ada Quil", SearchRequest())
    assert err.value.status == 404
    assert err.value.suggestions[0].key == "ada quill"
    with pytest.raises(UnknownEntity) as err:
        searcher.entity("country", "JP", SearchRequest())   # a real country no article is about
    assert {s.key for s in err.value.suggestions} <= {"US", "FR", "DE"}
    with pytest.raises(QueryError):
        searcher.entity("person", "ada quill", SearchRequest(), rank="loudest")


# --- the site ------------------------------------------------------------------------------------------------------

def test_api_shape(client):
    data = client.get("/api/person/ada%20quill").get_json()
    assert list(data) == ["kind", "key", "name", "articles", "stories", "archive_articles", "first_seen",
                          "last_seen", "interval", "timeline", "ranked_by", "with_people", "with_countries", "latest"]
    assert data["ranked_by"] == "score"
    assert set(data["timeline"][0]) == {"period", "count", "from", "to"}
    assert set(data["with_people"][0]) == {"value", "label", "count", "score", "key"}
    assert set(data["latest"][0]) >= {"id", "title", "snippet", "published", "source", "people", "countries",
                                      "story_id", "story_size"}
    search = client.get("/api/search?person=Ada+Quill&sort=newest").get_json()
    assert [h["id"] for h in data["latest"]] == [h["id"] for h in search["hits"]]
    assert data["articles"] == search["articles"] and data["stories"] == search["total"]
    narrowed = client.get("/api/person/ada%20quill?lang=fr&rank=count").get_json()
    assert narrowed["ranked_by"] == "count"
    assert narrowed["articles"] == client.get("/api/search?person=Ada+Quill&lang=fr&all_articles=1").get_json()["total"]


def test_api_redirects_names_and_answers_404_with_suggestions(client):
    response = client.get("/api/person/Ada%20Quill?lang=en")
    assert response.status_code == 302
    assert response.headers["Location"] == "/api/person/ada%20quill?lang=en"
    assert client.get("/api/country/france").headers["Location"] == "/api/country/FR"
    response = client.get("/api/person/ada%20quil")
    assert response.status_code == 404
    body = response.get_json()
    assert body["status"] == 404 and "ada quil" in body["error"]
    assert body["suggestions"][0] == {"key": "ada quill", "value": "Ada Quill", "label": "Ada Quill", "count": 11}
    assert client.get("/api/person/ada%20quill?rank=loud").status_code == 400


def test_person_page(client):
    response = client.get("/person/ada%20quill?rank=count")
    assert response.status_code == 200
    soup = BeautifulSoup(response.get_data(as_text=True), "lxml")
    assert soup.select_one("h1").get_text() == "Ada Quill"
    assert soup.select_one(".figures .articles").get_text() == "11"
    assert soup.select_one(".figures .stories").get_text() == "9"
    assert soup.select_one(".first-seen time")["datetime"] == "2025-01-01"
    assert len(soup.select(".timeline svg a")) == 6
    rows = soup.select(".with-people tbody tr")
    assert [r.select_one("a.co-search").get_text() for r in rows][:2] == ["Cole Common", "Tess Telling"]
    link = rows[1].select_one("a.co-search")["href"]
    assert urlsplit(link).path == "/" and parse_qs(urlsplit(link).query)["person"] == ["Ada Quill", "Tess Telling"]
    assert rows[1].select_one("a.page-link")["href"] == "/person/tess%20telling"
    assert soup.select_one(".rank a.rank-score")["href"].endswith("rank=score")
    assert len(soup.select(".latest li.hit")) == 9   # one per story
    feed = soup.select_one('head link[rel=alternate][type="application/atom+xml"]')["href"]
    assert parse_qs(urlsplit(feed).query) == {"person": ["Ada Quill"]}
    csv_link = soup.select_one("a.export-csv")["href"]
    assert urlsplit(csv_link).path == "/api/search.csv" and parse_qs(urlsplit(csv_link).query) == {"person": ["Ada Quill"]}


def test_narrowed_page_keeps_its_filters_in_links(client):
    soup = BeautifulSoup(client.get("/person/ada%20quill?q=report&lang=en").get_data(as_text=True), "lxml")
    assert soup.select_one(".figures .articles").get_text() == "8"
    assert "8 of the 11 articles" in soup.select_one(".narrowed-note").get_text()
    chip = soup.select_one(".chips a.chip")
    assert chip["href"] == "/person/ada%20quill?q=report"     # removing the language stays on the page
    bar = soup.select_one(".timeline svg a")["href"]
    assert bar.startswith("/person/ada%20quill?q=report&lang=en&from=")
    co = soup.select_one(".with-people a.co-search")["href"]
    assert parse_qs(urlsplit(co).query)["q"] == ["report"] and parse_qs(urlsplit(co).query)["lang"] == ["en"]


def test_names_redirect_and_unknown_keys_are_404_pages(client):
    response = client.get("/person/Ada%20Quill?q=harbour")
    assert response.status_code == 302 and response.headers["Location"] == "/person/ada%20quill?q=harbour"
    assert client.get("/country/fr").headers["Location"] == "/country/FR"
    response = client.get("/person/ada%20quil")
    assert response.status_code == 404
    soup = BeautifulSoup(response.get_data(as_text=True), "lxml")
    assert soup.select_one("h1").get_text() == "Not found"
    assert [(a.get_text(), a["href"]) for a in soup.select(".suggested a")][0] == ("Ada Quill", "/person/ada%20quill")
    assert client.get("/country/ZZ").status_code == 404


def test_chips_article_page_and_facets_link_to_the_pages(client):
    soup = BeautifulSoup(client.get("/?q=harbour+report+3").get_data(as_text=True), "lxml")
    hit = soup.select_one('li.hit[data-id="e03"]')
    links = {a["href"] for a in hit.select(".entities a.page-link")}
    assert {"/person/ada%20quill", "/person/otto%20once", "/country/US"} <= links
    assert hit.select_one(".tag-person")["href"].startswith("/?")   # the chip itself still filters
    facet = soup.select_one(".facet-people .buckets .b-page a.page-link")
    assert facet["href"].startswith("/person/")
    assert soup.select_one(".facet-countries .buckets .b-page a.page-link")["href"].startswith("/country/")
    assert soup.select_one('head link[rel=alternate][type="application/atom+xml"]')["href"].startswith("/feed.atom?q=")
    article = BeautifulSoup(client.get("/article/e03").get_data(as_text=True), "lxml")
    assert "/person/otto%20once" in {a["href"] for a in article.select(".article-side a.page-link")}
    assert "/country/US" in {a["href"] for a in article.select(".article-side a.page-link")}
