"""The Flask site and JSON API through the test client, over a real index (tests/web_fixtures.py)."""
from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup

from search import SearchRequest, Searcher
from tests.web_fixtures import LONG_TITLE, build, web_index  # noqa: F401  (fixture)
from web.app import create_app

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


@pytest.fixture(scope="module")
def app(web_index):
    return create_app({"INDEX_ROOT": str(web_index)})


@pytest.fixture()
def client(app):
    return app.test_client()


def get(client, url):
    response = client.get(url)
    return response, BeautifulSoup(response.get_data(as_text=True), "lxml")


def hit_ids(soup) -> list[str]:
    return [li["data-id"] for li in soup.select("li.hit")]


def titles(soup) -> list[str]:
    return [a.get_text() for a in soup.select("li.hit .hit-title a")]


def params(href: str) -> dict:
    return parse_qs(urlsplit(href).query)


def assert_inert(soup) -> None:
    """No script but our own, no event handler attribute, no link or source outside http(s)/same-site."""
    for tag in soup.find_all(True):
        if tag.name == "script":
            assert tag.get("src") == "/static/typeahead.js" and not tag.string, tag
        for attr, value in tag.attrs.items():
            assert not attr.lower().startswith("on"), tag
            if attr in ("href", "src", "action", "formaction", "xlink:href"):
                assert re.match(r"^(https?://|/(?!/)|#)", value), tag


# --- search page -----------------------------------------------------------------------------------------------------

def test_search_page_ranks_highlights_and_keeps_the_query(client):
    response, soup = get(client, "/?q=riksbank")
    assert response.status_code == 200
    assert soup.select_one("header input[name=q]")["value"] == "riksbank"
    # the third one's headline is its first sentence (derived): its words count once, in the body
    assert titles(soup) == ["Riksbank holds rates and signals a long pause",
                            "Riksbank cuts its policy rate as inflation cools in Sweden",
                            "Sweden's Riksbank governor Tobias Engström warned on Saturday that cash must remain "
                            "available across Sweden."]
    first = soup.select_one("li.hit")
    assert [m.get_text() for m in first.select(".hit-title mark")] == ["Riksbank"]
    assert "Riksbank" in [m.get_text() for m in first.select(".snippet mark")]
    assert soup.select_one(".count").get_text(" ", strip=True).startswith("3 articles for riksbank ")
    assert_inert(soup)


def test_hit_shows_outlet_date_language_people_countries(client):
    _, soup = get(client, "/?q=dockers+vote")
    hit = soup.select_one('li.hit[data-id="hp-001"]')
    assert hit.select_one(".outlet").get_text() == "The Harbour Post"
    assert hit.select_one("time").get_text() == "14 Jan 2025"
    assert hit.select_one(".lang").get_text() == "English"
    assert hit.select_one(".hit-title a")["href"] == "/article/hp-001"
    assert [a.get_text() for a in hit.select(".tag-person")] == ["Pieter Claes"]
    assert "Belgium" in [a.get_text() for a in hit.select(".tag-country")]
    assert params(hit.select_one(".tag-person")["href"]) == {"q": ["dockers vote"], "person": ["Pieter Claes"]}


def test_empty_query_browses_newest_first(client):
    response, soup = get(client, "/")
    assert response.status_code == 200
    dates = [t["datetime"] for t in soup.select("li.hit time")]
    assert dates == sorted(dates, reverse=True) and len(dates) == 10
    assert soup.select_one(".sort a.is-on").get_text() == "Newest"
    assert soup.select_one("header input[name=q]").has_attr("autofocus")


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_sort_by_date(client, sort):
    _, soup = get(client, f"/?q=harbour&sort={sort}")
    dates = [t["datetime"] for t in soup.select("li.hit time")]
    assert dates == sorted(dates, reverse=sort == "newest") and len(dates) == 7
    assert soup.select_one(".sort a.is-on").get_text() == sort.capitalize()


def test_language_facet_filters_and_click_again_removes(client):
    _, soup = get(client, "/?q=engstr%C3%B6m")
    languages = {a.select_one(".b-label").get_text(): a for a in soup.select(".facet-language .buckets a")}
    assert sorted(languages) == ["English", "French", "German"]
    german = languages["German"]
    assert german.select_one(".b-count").get_text() == "1"
    _, filtered = get(client, german["href"])
    assert hit_ids(filtered) == ["ra-002"]
    on = filtered.select_one(".facet-language a.is-on")
    assert on.select_one(".b-label").get_text() == "German"
    chip = filtered.select_one(".chips a.chip")
    assert chip.get_text(" ", strip=True) == "Language German ×"
    assert chip["href"] == on["href"] == "/?q=engstr%C3%B6m"


def test_languages_and_sources_or_together_people_and_countries_and(client):
    _, soup = get(client, "/?q=engstr%C3%B6m&lang=de&lang=fr")
    assert sorted(hit_ids(soup)) == ["gs-002", "ra-002"]
    _, soup = get(client, "/?source=Gulf+Times&source=Nordic+Wire&per_page=20")
    assert sorted(hit_ids(soup))[:5] == ["gt-001", "gt-002", "gt-003", "nw-001", "nw-002"]
    assert sorted(o.get_text() for o in soup.select("li.hit .outlet")) == ["Gulf Times"] * 3 + ["Nordic Wire"] * 3
    _, soup = get(client, "/?country=JP&country=KR")
    assert hit_ids(soup) == ["gt-002"]


def test_person_facet_counts_match_the_filtered_results(client):
    _, soup = get(client, "/?q=harbour")
    person = next(a for a in soup.select(".facet-people .buckets a")
                  if a.select_one(".b-label").get_text() == "Pieter Claes")
    assert person.select_one(".b-count").get_text() == "2"
    _, filtered = get(client, person["href"])
    assert sorted(hit_ids(filtered)) == ["hp-001", "hp-002"]
    assert filtered.select_one(".chips a.chip").get_text(" ", strip=True) == "Person Pieter Claes ×"


def test_date_range_filter_histogram_and_inputs(client):
    _, soup = get(client, "/?q=harbour")
    bars = soup.select("svg.histogram a")
    assert len(bars) >= 12
    first = params(bars[0]["href"])
    assert first == {"q": ["harbour"], "from": ["2025-01-01"], "to": ["2025-01-31"]}
    _, january = get(client, bars[0]["href"])
    assert hit_ids(january) == ["hp-001"]
    assert january.select_one("input[name=from]")["value"] == "2025-01-01"
    assert january.select_one("input[name=to]")["value"] == "2025-01-31"
    chips = [c.get_text(" ", strip=True) for c in january.select(".chips a.chip")]
    assert chips == ["From 2025-01-01 ×", "To 2025-01-31 ×"]
    _, soup = get(client, "/?from=2025-03&to=2025-04")
    assert sorted(hit_ids(soup)) == ["nw-001", "nw-002"]


def test_pagination_with_totals(client):
    _, soup = get(client, "/?q=harbour&per_page=3&page=2")
    assert len(hit_ids(soup)) == 3
    assert soup.select_one(".count").get_text(" ", strip=True).startswith("4–6 of 7 articles")
    nav = soup.select_one("nav.pagination")
    assert params(nav.select_one("a[rel=prev]")["href"]) == {"q": ["harbour"], "per_page": ["3"]}
    assert params(nav.select_one("a[rel=next]")["href"]) == {"q": ["harbour"], "per_page": ["3"], "page": ["3"]}
    assert nav.select_one("[aria-current=page]").get_text() == "2"
    _, page3 = get(client, nav.select_one("a[rel=next]")["href"])
    assert len(hit_ids(page3)) == 1 and not set(hit_ids(page3)) & set(hit_ids(soup))
    _, beyond = get(client, "/?q=harbour&per_page=3&page=9")
    assert "There is no page 9: this search has 3 pages." in beyond.select_one(".empty").get_text(" ", strip=True)
    assert [a.get_text() for a in beyond.select(".page-numbers a")] == ["1", "3"]
    _, nothing = get(client, "/?q=zzyzx&page=4")
    assert nothing.select_one("nav.pagination") is None


def test_did_you_mean_links_to_the_corrected_query(client):
    _, soup = get(client, "/?q=harbuor&lang=en")
    link = soup.select_one(".didyoumean a")
    assert link.get_text() == "harbour"
    assert params(link["href"]) == {"q": ["harbour"], "lang": ["en"]}


def test_no_results_page_suggests_what_to_do(client):
    response, soup = get(client, "/?q=zzyzx+qwerty&lang=de")
    assert response.status_code == 200
    assert soup.select_one(".empty h2").get_text(" ", strip=True) == "Nothing matches zzyzx qwerty with these filters."


def test_syntax_help_and_about_pages(client):
    response, soup = get(client, "/help")
    assert response.status_code == 200
    assert {c.get_text() for c in soup.select("table.syntax td code")} >= {"person:", "country:", "date:", "lang:"}
    response, soup = get(client, "/about")
    assert response.status_code == 200
    assert soup.select_one(".figures dd.articles").get_text() == "16"
    languages = [(a.select_one(".b-label").get_text(), a["href"]) for a in soup.select("ul.buckets a")[:3]]
    assert languages == [("English", "/?lang=en"), ("German", "/?lang=de"), ("French", "/?lang=fr")]


def test_facet_value_search_without_javascript(client):
    _, soup = get(client, "/?q=harbour")
    form = soup.select_one(".facet-people form.facet-find")
    assert form["action"] == "/facets/people"
    assert [(i["name"], i["value"]) for i in form.select("input[type=hidden]")] == [("q", "harbour")]
    response, soup = get(client, "/facets/people?q=harbour&prefix=pie")
    assert response.status_code == 200
    links = soup.select("ul.buckets a")
    assert [a.select_one(".b-label").get_text() for a in links] == ["Pieter Claes"]
    assert params(links[0]["href"]) == {"q": ["harbour"], "person": ["Pieter Claes"]}
    assert client.get("/facets/nothing").status_code == 404


# --- errors ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("query, message", [
    ("(harbour", "unbalanced parenthesis: the ( at position 1 is never closed"),
    ('"harbour', 'unbalanced quote: the " at position 1 has no closing quote'),
    ("foo:bar", 'unknown field "foo" (in foo:bar); valid fields: title, body, person, country, lang, source, date'),
])
def test_malformed_query_shows_its_message_with_400(client, query, message):
    response, soup = get(client, "/?q=" + query.replace('"', "%22"))
    assert response.status_code == 400
    assert soup.select_one(".alert-error .alert-message").get_text() == message
    assert soup.select_one("header input[name=q]")["value"] == query
    api = client.get("/api/search?q=" + query.replace('"', "%22"))
    assert api.status_code == 400 and api.get_json()["error"] == message and api.get_json()["status"] == 400


def test_error_position_is_pointed_at(client):
    _, soup = get(client, "/?q=harbour+(strike")
    assert soup.select_one(".query-pointer mark.errpos").get_text() == "("


@pytest.mark.parametrize("query, message", [
    ("page=0", "page must be a whole number >= 1, not 0"),
    ("page=abc", "page must be a whole number, not 'abc'"),
    ("per_page=1000", "per_page must be between 1 and 100, not 1000"),
    ("sort=evil", "unknown sort 'evil': use one of relevance, newest, oldest"),
    ("from=yesterday", "bad date 'yesterday': use YYYY, YYYY-MM or YYYY-MM-DD"),
    ("from=2025-06&to=2025-01", "date range is empty: from 2025-06-01 is after to 2025-01-31"),
    ("page=100000", "page 100000 is beyond the deep-pagination limit"),
])
def test_bad_parameters_are_400_on_page_and_api(client, query, message):
    response, soup = get(client, "/?q=harbour&" + query)
    assert response.status_code == 400
    assert soup.select_one(".alert-message").get_text().startswith(message)
    api = client.get("/api/search?q=harbour&" + query)
    assert api.status_code == 400 and api.get_json()["error"].startswith(message)


def test_unknown_article_is_a_404_page_and_json(client):
    response, soup = get(client, "/article/no-such-id")
    assert response.status_code == 404
    assert soup.select_one("h1").get_text() == "Not found"
    assert "No article with the id 'no-such-id'" in soup.select_one(".error-message").get_text()
    api = client.get("/api/article/no-such-id")
    assert api.status_code == 404
    assert api.get_json() == {"error": "no article with id 'no-such-id'", "status": 404}


@pytest.mark.parametrize("path", ["../../../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%2e%2e/CURRENT",
                                  "gen-1/../CURRENT", "/etc/passwd", "x" * 600, "evil-1%00", "evil-1/"])
def test_ids_cannot_reach_outside_the_index(client, path):
    for prefix in ("/article/", "/api/article/", "/api/similar/"):
        response = client.get(prefix + path)
        if response.status_code == 308:   # "//" collapses to "/": still an id lookup under the same prefix
            assert response.headers["Location"] == "http://localhost" + prefix + path.lstrip("/")
            response = client.get(response.headers["Location"])
        assert response.status_code == 404, (prefix, path)
        assert b"root:" not in response.data and b"o article" in response.data


def test_article_ids_with_slashes_work(client):
    response, soup = get(client, "/article/world/042")
    assert response.status_code == 200
    assert soup.select_one("h1").get_text() == "Port workers in Peru join a regional harbour strike"
    assert client.get("/api/article/world/042").get_json()["id"] == "world/042"


def test_unknown_api_path_and_wrong_method_answer_json(client):
    response = client.get("/api/nothing")
    assert response.status_code == 404 and response.get_json()["status"] == 404
    response = client.post("/api/search")
    assert response.status_code == 405 and response.get_json()["status"] == 405
    assert sorted(response.headers["Allow"].split(", ")) == ["GET", "HEAD", "OPTIONS"]
    response, soup = get(client, "/nothing")
    assert response.status_code == 404 and soup.select_one(".status-code").get_text() == "404"


def test_missing_index_says_how_to_build_one_then_picks_it_up(tmp_path):
    root = tmp_path / "index"
    app = create_app({"INDEX_ROOT": str(root)})
    client = app.test_client()
    response, soup = get(client, "/?q=harbour")
    assert response.status_code == 503
    assert soup.select_one(".error-message").get_text() == f"There is no newsdex index at {root} yet."
    assert [c.get_text() for c in soup.select(".howto code")] == [f"newsdex reindex PATH --index {root}",
                                                                 "newsdex demo"]
    api = client.get("/api/search?q=harbour")
    assert api.status_code == 503 and api.headers["Retry-After"] == "30"
    assert api.get_json()["error"] == f"There is no newsdex index at {root} yet."
    build(tmp_path / "corpus", root)
    response, soup = get(client, "/?q=harbour")
    assert response.status_code == 200 and len(hit_ids(soup)) == 7
    assert hit_ids(get(client, "/?q=zeppelin")[1]) == []
    (tmp_path / "corpus" / "zeppelin.jsonl").write_text(json.dumps(
        {"id": "zep-1", "date": "2026-02-01", "title": "Zeppelin lands at the harbour", "source": "Air Post",
         "text": "A zeppelin landed at the harbour on Sunday, drawing crowds to the quay."}) + "\n", encoding="utf-8")
    from index.builder import build_index
    build_index([tmp_path / "corpus"], root, workers=1)   # a full rebuild, swapped in while the app runs
    assert hit_ids(get(client, "/?q=zeppelin")[1]) == ["zep-1"]


def test_empty_index_is_503_too(tmp_path):
    from tests.conftest import write_index
    write_index(tmp_path / "index", [])   # a rebuild that reads nothing is refused; deleting everything gets here
    response, soup = get(create_app({"INDEX_ROOT": str(tmp_path / "index")}).test_client(), "/")
    assert response.status_code == 503
    assert soup.select_one(".error-message").get_text() == f"The index at {tmp_path / 'index'} holds no articles yet."


def test_security_headers_on_pages_api_errors_and_static(client):
    for url in ("/", "/?q=(", "/article/hp-001", "/api/search?q=x", "/api/nothing", "/static/site.css"):
        headers = client.get(url).headers
        assert headers["Content-Security-Policy"] == CSP, url
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"


# --- article page ----------------------------------------------------------------------------------------------------

def test_article_page_marks_every_mention_at_its_span(client):
    response, soup = get(client, "/article/hp-001")
    data = client.get("/api/article/hp-001").get_json()
    assert response.status_code == 200
    assert soup.select_one("h1").get_text() == "Dockers at Antwerp harbour vote to strike over automation"
    assert soup.select_one(".kicker .outlet").get_text() == "The Harbour Post"
    assert soup.select_one(".article-meta time").get_text() == "14 Jan 2025"
    assert soup.select_one(".date-source").get_text() == "date from the record's date field"
    assert soup.select_one(".article-meta dd:-soup-contains('English')").get_text(" ", strip=True) == "English en"
    assert soup.select_one("a.original")["href"] == "https://www.harbourpost.example/antwerp-vote"
    body = data["body"]
    expected = sorted([(s, e, "person", p["name"]) for p in data["people"] for s, e in p["mentions"]] +
                      [(s, e, "country", c["code"]) for c in data["countries"] for s, e in c["mentions"]])
    marks = soup.select(".article-body mark.mention")
    assert [(m["class"][1], m.get(f"data-{m['class'][1].split('-')[1]}"), m.get_text()) for m in marks] == \
        [(f"mention-{kind}", value, body[s:e]) for s, e, kind, value in expected]
    assert ("mention-person", "Pieter Claes", "Pieter Claes") in \
        [(m["class"][1], m.get("data-person"), m.get_text()) for m in marks]
    text = "\n\n".join(p.get_text() for p in soup.select(".article-body p"))
    assert text == body
    people = soup.select(".article-side .tag-person")
    assert [(a.get_text(), a["href"]) for a in people] == [("Pieter Claes", "/?person=Pieter+Claes")]


def test_more_like_this_links_to_similar_articles(client):
    _, soup = get(client, "/article/hp-001")
    links = [a["href"] for a in soup.select(".related a")]
    assert links and "/article/hp-001" not in links
    assert "/article/hp-002" in links
    api = client.get("/api/similar/hp-001?n=3").get_json()
    assert [f"/article/{h['id']}" for h in api["hits"]] == links[:3]


def test_hostile_article_is_inert(client):
    response, soup = get(client, "/article/evil-1")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert soup.select_one("h1").get_text() == '<script>alert("title")</script> Harbour cranes <img src=x onerror=alert(1)>'
    assert soup.select_one(".kicker .outlet").get_text() == "<i>Evil</i> Outlet"
    assert 'href="javascript' not in html.lower() and "<script>alert" not in html
    assert soup.select_one(".inert-url").get_text() == "javascript:alert(document.cookie)"
    assert soup.select_one("a.original") is None
    paragraphs = [p.get_text() for p in soup.select(".article-body p")]
    assert paragraphs[0] == ('The harbour cranes stopped. <script>alert("body")</script> An <b onmouseover="alert(2)">'
                             'unusual</b> note was left at the gate, with a link <a href="javascript:alert(3)">'
                             'click here</a>.')
    assert_inert(soup)


def test_hostile_results_are_inert_and_long_titles_are_clamped(client):
    response, soup = get(client, "/?q=harbour+cranes&per_page=20")
    assert {"evil-1", "evil-2"} <= set(hit_ids(soup))
    assert_inert(soup)
    evil = soup.select_one('li.hit[data-id="evil-1"]')
    assert evil.select_one(".hit-title a").get_text() == \
        '<script>alert("title")</script> Harbour cranes <img src=x onerror=alert(1)>'
    long = soup.select_one('li.hit[data-id="evil-2"] .hit-title a')
    assert long.get_text() == LONG_TITLE.strip()
    response, soup = get(client, "/article/evil-2")
    assert soup.select_one("a.original") is None
    assert soup.select_one(".inert-url").get_text() == "JaVa ScRiPt:alert(1)"
    assert_inert(soup)


def test_hostile_html_page_comes_out_as_text(client):
    _, soup = get(client, "/?q=pilots")
    (article_id,) = hit_ids(soup)
    response, soup = get(client, f"/article/{article_id}")
    assert soup.select_one("h1").get_text() == "Harbour pilots protest new rules"
    assert "<script>alert('escaped')</script>" in soup.select_one(".article-body").get_text()
    assert "alert('img')" not in response.get_data(as_text=True)
    assert_inert(soup)


@pytest.mark.parametrize("query", [
    '"><script>alert(1)</script>', "<img src=x onerror=alert(1)>", "javascript:alert(1)", "harbour\x00",
    "\u202eharbour", "harbour 🚢 ", "' OR 1=1 --", "%00%0d%0a", "a" * 999, "{{ 7*7 }}",
])
def test_hostile_query_strings_are_escaped_everywhere(client, query):
    for url in ("/", "/facets/people"):
        response = client.get(url, query_string={"q": query, "person": query, "source": query, "prefix": query})
        assert response.status_code in (200, 400)
        html = response.get_data(as_text=True)
        assert "<script>alert(1)" not in html and "<img src=x" not in html and ">49<" not in html
        assert_inert(BeautifulSoup(html, "lxml"))
    api = client.get("/api/search", query_string={"q": query})
    assert api.status_code in (200, 400) and api.is_json


def test_overlong_query_is_rejected_with_400(client):
    response, soup = get(client, "/?q=" + "a" * 1001)
    assert response.status_code == 400
    assert "1000" in soup.select_one(".alert-message").get_text()


# --- JSON API --------------------------------------------------------------------------------------------------------

def test_api_search_is_the_search_layers_json(client, web_index):
    url = "/api/search?q=harbour&lang=en&per_page=3&page=2&sort=newest"
    got = client.get(url).get_json()
    searcher = Searcher(web_index)
    try:
        want = searcher.search(SearchRequest(q="harbour", languages=("en",), per_page=3, page=2,
                                             sort="newest")).to_json()
    finally:
        searcher.close()
    got.pop("took_ms"), want.pop("took_ms")
    assert got == want
    assert client.get(url).headers["Content-Type"] == "application/json"


def test_api_article_facets_stats_explain(client, web_index):
    article = client.get("/api/article/hp-002").get_json()
    assert (article["id"], article["title"], article["source"], article["published"]) == \
        ("hp-002", "Strike closes Antwerp harbour as ships queue offshore", "The Harbour Post",
         "2025-02-03T00:00:00+00:00")
    facets = client.get("/api/facets/countries?prefix=bel").get_json()
    assert facets == {"facet": "countries", "param": "country", "prefix": "bel",
                      "values": [{"value": "BE", "label": "Belgium", "count": facets["values"][0]["count"],
                                  "selected": False}]}
    assert facets["values"][0]["count"] >= 3
    assert client.get("/api/facets/nothing").status_code == 404
    assert client.get("/api/facets/people?limit=0").status_code == 400
    assert client.get("/api/facets/people?prefix=" + "x" * 201).status_code == 400
    stats = client.get("/api/stats").get_json()
    searcher = Searcher(web_index)
    try:
        assert stats == json.loads(json.dumps(searcher.stats(), default=str))
    finally:
        searcher.close()
    assert stats["articles"] == 16 and (stats["languages"]["de"], stats["languages"]["fr"]) == (2, 2)
    explain = client.get("/api/explain?q=harbour+-strike").get_json()
    assert explain["explain"].startswith("query: (harbour AND NOT strike)")
    assert client.get("/api/explain?q=(").status_code == 400


def test_openapi_describes_every_api_route(app, client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    documented = {p.replace("{", "<").replace("}", ">") for p in spec["paths"]}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and rule.rule != "/api/":
            routes.add(re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", rule.rule))
    assert documented == routes
    json.dumps(spec)   # plain JSON


def test_api_index_lists_endpoints(client):
    data = client.get("/api/").get_json()
    assert data["openapi"] == "/api/openapi.json"
    assert set(data["endpoints"]) == {"/api/search", "/api/article/{id}", "/api/similar/{id}", "/api/facets/{facet}",
                                      "/api/explain", "/api/stats", "/api/search.csv", "/api/search.jsonl",
                                      "/api/person/{key}", "/api/country/{code}"}


def test_static_files_and_type_ahead_hooks(client):
    assert client.get("/static/typeahead.js").status_code == 200
    _, soup = get(client, "/?q=harbour")
    forms = soup.select("form[data-typeahead]")
    assert [(f["data-typeahead"], f["data-param"], f["data-search"]) for f in forms] == \
        [("/api/facets/people", "person", "/"), ("/api/facets/countries", "country", "/"),
         ("/api/facets/source", "source", "/")]


def test_one_searcher_per_app(app, client):
    client.get("/?q=harbour")
    first = app.extensions["newsdex"].get()
    client.get("/?q=strike")
    assert app.extensions["newsdex"].get() is first


def test_openapi_file_is_in_the_package():
    assert (Path(__file__).resolve().parent.parent / "web" / "openapi.json").is_file()
