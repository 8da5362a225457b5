"""Stories on the site and in the API: grouped hits with "also in", the toggles, the article page's versions."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup

from search import SearchRequest, Searcher
from tests.conftest import article, write_index
from web.app import create_app
from web.storydiff import diff_words

WIRE = ("The Riksbank held its policy rate at 2.25 percent on Thursday, citing slower inflation. "
        "Governor Erik Lund said the bank would wait for more data before moving. "
        "Economists had expected the decision. Markets barely moved after the announcement.")
STORY = [
    article(id="nw-1", story_id="nw-1", title="Riksbank holds rates", body=WIRE, source="Nordic Wire",
            published="2025-09-18"),
    article(id="hp-1", story_id="nw-1", title="Sweden's central bank holds rates",
            body=WIRE.replace("Markets barely moved after the announcement.", "")
            + " This story was supplied by <b>Nordic Wire</b> & not edited.",
            source="Harbour Post", published="2025-09-19"),
    article(id="mf-1", story_id="nw-1", title="Riksbank holds rates",
            body=WIRE.replace("on Thursday", "on Thursday morning"), source="MENAFN", published="2025-09-20"),
]
OTHERS = [
    article(id="gt-1", title="Riksbank history", body="The Riksbank is the oldest central bank still working.",
            source="Gulf Times", published="2025-08-01"),
    article(id="gt-2", title="Harbour strike", body="Dock workers went on strike at the harbour.",
            source="Gulf Times", published="2025-09-18"),
]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return write_index(tmp_path_factory.mktemp("webstories") / "index", STORY + OTHERS)


@pytest.fixture(scope="module")
def client(root):
    return create_app({"INDEX_ROOT": str(root)}).test_client()


def get(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return BeautifulSoup(response.get_data(as_text=True), "lxml")


def hit_ids(soup) -> list[str]:
    return [li["data-id"] for li in soup.select("li.hit")]


def params(href: str) -> dict:
    return parse_qs(urlsplit(href).query)


def test_grouped_results_show_each_story_once_with_its_other_outlets(client):
    soup = get(client, "/?q=riksbank")
    assert hit_ids(soup) == ["nw-1", "gt-1"] or hit_ids(soup) == ["gt-1", "nw-1"]
    assert soup.select_one(".count strong").get_text() == "2"
    assert "2 stories (4 articles) for riksbank" in soup.select_one(".count").get_text(" ", strip=True)
    also = soup.select_one('li.hit[data-id="nw-1"] .also')
    assert also.get_text(" ", strip=True).startswith("Also in 2 outlets:")
    assert [(a.get_text(), a["href"]) for a in also.select("a")] == [
        ("Harbour Post", "/article/hp-1"), ("MENAFN", "/article/mf-1")]
    assert soup.select_one('li.hit[data-id="gt-1"] .also') is None


def test_the_toggle_lists_every_article_and_groups_them_again(client):
    soup = get(client, "/?q=riksbank&sort=oldest")
    toggle = soup.select_one("a.story-toggle")
    assert toggle.get_text() == "Show every article"
    assert params(toggle["href"]) == {"q": ["riksbank"], "sort": ["oldest"], "all_articles": ["1"]}
    every = get(client, toggle["href"])
    assert hit_ids(every) == ["gt-1", "nw-1", "hp-1", "mf-1"]
    assert "4 articles for riksbank" in every.select_one(".count").get_text(" ", strip=True)
    assert [p.get_text(" ", strip=True) for p in every.select(".also")] == ["One of 3 versions of this story"] * 3
    back = every.select_one("a.story-toggle")
    assert back.get_text() == "Group copies of a story"
    assert params(back["href"]) == {"q": ["riksbank"], "sort": ["oldest"]}
    # a facet link keeps the mode
    facet_link = every.select_one('.facet-source a[href*="source="]')
    assert params(facet_link["href"])["all_articles"] == ["1"]


def test_counts_follow_the_count_toggle(client):
    def source_counts(soup):
        return {a.select_one(".b-label").get_text(): int(a.select_one(".b-count").get_text())
                for a in soup.select(".facet-source a")}

    soup = get(client, "/?q=riksbank")
    assert source_counts(soup) == {"Gulf Times": 1, "Harbour Post": 1, "MENAFN": 1, "Nordic Wire": 1}
    by_story = get(client, "/?q=rates")
    link = by_story.select_one("a.count-toggle")
    assert params(link["href"]) == {"q": ["rates"], "count": ["articles"]}
    by_article = get(client, link["href"])
    assert len(hit_ids(by_story)) == 1 and hit_ids(by_article) == hit_ids(by_story)
    day_bars = {a["aria-label"] for a in by_story.select(".histogram a") if not a["aria-label"].endswith(": 0 stories")}
    assert day_bars == {"18 Sep 2025: 1 stories", "19 Sep 2025: 1 stories", "20 Sep 2025: 1 stories"}
    assert by_article.select_one(".histogram")["aria-label"].startswith("Articles per day")
    assert params(by_article.select_one("a.count-toggle")["href"]) == {"q": ["rates"]}


def test_article_page_shows_the_other_versions_and_their_differences(client):
    soup = get(client, "/article/nw-1")
    section = soup.select_one("section#story")
    assert section.select_one("h2").get_text() == "Same story in other outlets"
    versions = section.select("li.version")
    assert [v["data-id"] for v in versions] == ["hp-1", "mf-1"]
    assert [v.select_one(".outlet").get_text() for v in versions] == ["Harbour Post", "MENAFN"]
    assert [v.select_one("time")["datetime"][:10] for v in versions] == ["2025-09-19", "2025-09-20"]
    hp = versions[0]
    assert hp.select_one(".diff-summary").get_text() == "+11 words, −6 words; another headline"
    assert [d.get_text() for d in hp.select(".diff del")] == ["Markets barely moved after the announcement"]
    assert [i.get_text() for i in hp.select(".diff ins")] == [
        "This story was supplied by <b>Nordic Wire</b> & not edited"]
    assert hp.select_one(".diff b") is None   # escaped, not markup
    mf = versions[1]
    assert [i.get_text() for i in mf.select(".diff ins")] == ["morning"]
    assert mf.select(".diff del") == []
    assert get(client, "/article/gt-2").select_one("section#story") is None


def test_api_passes_the_story_params_through(client, root):
    searcher = Searcher(root)
    try:
        for query, request in (("q=riksbank", SearchRequest(q="riksbank")),
                               ("q=riksbank&all_articles=1&count=articles",
                                SearchRequest(q="riksbank", all_articles=True, count="articles")),
                               ("q=riksbank&count=articles", SearchRequest(q="riksbank", count="articles"))):
            got = client.get(f"/api/search?{query}").get_json()
            want = searcher.search(request).to_json()
            got.pop("took_ms"), want.pop("took_ms")
            assert got == want
        grouped = client.get("/api/search?q=riksbank&sort=oldest").get_json()
        assert [(h["id"], h["story_id"], h["story_size"]) for h in grouped["hits"]] == [
            ("gt-1", "gt-1", 1), ("nw-1", "nw-1", 3)]
        assert grouped["total"] == 2
        every = client.get("/api/search?q=riksbank&sort=oldest&all_articles=1").get_json()
        assert [(h["id"], h["story_id"], h["story_size"], h["also"]) for h in every["hits"]] == [
            ("gt-1", "gt-1", 1, []), ("nw-1", "nw-1", 3, []), ("hp-1", "nw-1", 3, []), ("mf-1", "nw-1", 3, [])]
        assert every["total"] == 4
    finally:
        searcher.close()
    bad = client.get("/api/search?q=x&count=outlets")
    assert bad.status_code == 400 and "unknown count" in bad.get_json()["error"]
    art = client.get("/api/article/mf-1").get_json()
    assert (art["story_id"], art["story_size"], art["story_ids"]) == ("nw-1", 3, ["nw-1", "hp-1"])
    assert [v["source"] for v in art["versions"]] == ["Nordic Wire", "Harbour Post"]
    stats = client.get("/api/stats").get_json()
    assert (stats["articles"], stats["stories"], stats["duplicates"]) == (5, 3, 2)
    spec = client.get("/api/openapi.json").get_json()
    names = [p["name"] for p in spec["paths"]["/api/search"]["get"]["parameters"]]
    assert {"all_articles", "count"} <= set(names)
    assert {"story_id", "story_size", "also"} <= set(spec["components"]["schemas"]["Hit"]["properties"])


def test_diff_words_shows_only_changed_runs_with_context():
    this = " ".join(f"w{i}" for i in range(100))
    other = this.replace("w10 ", "w10 NEW ").replace(" w80", "")
    d = diff_words(this, other)
    assert (d.added, d.cut, d.more, d.same) == (1, 1, 0, False)
    assert [str(h) for h in d.hunks] == [
        "… w5 w6 w7 w8 w9 w10 <ins>NEW</ins> w11 w12 w13 w14 w15 w16 …",
        "… w74 w75 w76 w77 w78 w79 <del>w80</del> w81 w82 w83 w84 w85 w86 …"]
    assert diff_words("same <i>text</i>", "same <i>text</i>").same


def test_cli_search_groups_copies_and_takes_the_story_options(root):
    import json

    from click.testing import CliRunner

    from web.cli import main
    runner = CliRunner()

    def run(*args):
        result = runner.invoke(main, ["search", "--index", str(root), "--json", "--sort", "oldest", *args])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    grouped = run("riksbank")
    assert (grouped["total"], [h["id"] for h in grouped["hits"]]) == (2, ["gt-1", "nw-1"])
    assert [a["id"] for a in grouped["hits"][1]["also"]] == ["hp-1", "mf-1"]
    every = run("riksbank", "--all-articles")
    assert (every["total"], [h["story_size"] for h in every["hits"]]) == (4, [1, 3, 3, 3])
    by_article = run("rates", "--count", "articles")
    by_story = run("rates")
    assert by_story["total"] == by_article["total"] == 1
    assert [b["count"] for b in by_story["facets"]["source"]] == [1, 1, 1]
    assert sum(b["count"] for b in by_story["facets"]["date"]) == 3   # each copy on its own day
    assert [(b["value"], b["count"]) for b in by_story["facets"]["language"]] == [("en", 1)]
    assert [(b["value"], b["count"]) for b in by_article["facets"]["language"]] == [("en", 3)]
    bad = runner.invoke(main, ["search", "--index", str(root), "--count", "outlets", "x"])
    assert bad.exit_code == 2


def test_about_page_counts_stories_and_copies(client):
    soup = get(client, "/about")
    assert soup.select_one("dd.stories").get_text(" ", strip=True) == "3 (2 articles are copies of another)"


def test_article_page_of_a_long_story_lists_the_first_versions_and_says_so(client, monkeypatch):
    import web.views
    monkeypatch.setattr(web.views, "STORY_VERSIONS", 1)
    soup = get(client, "/article/mf-1")
    assert [v["data-id"] for v in soup.select("section#story li.version")] == ["nw-1"]
    assert soup.select_one(".story-note").get_text(" ", strip=True).startswith(
        "1 other version of this story (the first 1 of 2), earliest first")
