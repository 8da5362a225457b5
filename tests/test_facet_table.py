"""The facets are declared once (index/facets.py): a facet added to the table alone is indexed, filtered, counted,
shown on the page, offered by the API and the CLI; the OpenAPI file matches the table."""
from __future__ import annotations

import json

import click
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from index import facets
from index.facets import Facet
from index.schema import build_schema
from search import SearchRequest, Searcher
from web.api import OPENAPI_FILE, openapi_spec
from web.app import create_app
from web.cli import _selected, filter_options
from web.state import AFTER_FILTERS

# A facet that is not there: the aggregator an article came through (Article.via, found by the readers).
AGGREGATORS = Facet("aggregators", field="via", param="via", label="Aggregators", singular="Aggregator",
                    combine="any", values=lambda article: (article.via,) if article.via else (), match="loose",
                    help="Only articles that came through this aggregator; repeat for any of them (OR).")


@pytest.fixture
def aggregators(monkeypatch, make_article, make_index):
    """The table with the aggregators facet added, and an index built with it: 3 articles via MENAFN, 1 via
    Newswire, 2 without."""
    monkeypatch.setattr(facets, "FACETS", facets.FACETS + (AGGREGATORS,))
    arts = ([make_article(title=f"Harbour news {i}", body="The harbour reopened.", via="MENAFN") for i in range(3)]
            + [make_article(title="Harbour wire", body="The harbour reopened.", via="Newswire")]
            + [make_article(title=f"Harbour plain {i}", body="The harbour reopened.") for i in range(2)])
    return make_index(arts)


def test_a_facet_added_to_the_table_is_searched_and_counted(aggregators):
    searcher = Searcher(aggregators)
    try:
        everything = searcher.search(SearchRequest(q="harbour", all_articles=True))
        assert [(b.value, b.count) for b in everything.facets["aggregators"]] == [("MENAFN", 3), ("Newswire", 1)]
        picked = searcher.search(SearchRequest(q="harbour", filters={"aggregators": ["menafn"]}, all_articles=True))
        assert picked.total == 3 and {h.via for h in picked.hits} == {"MENAFN"}
        # "any": the facet counts as if its own selection were not made (multi-select), and marks the selection
        assert [(b.value, b.count, b.selected) for b in picked.facets["aggregators"]] == \
            [("MENAFN", 3, True), ("Newswire", 1, False)]
        assert picked.to_json()["facets"]["aggregators"][0]["value"] == "MENAFN"
        assert [b.value for b in searcher.facet_values("aggregators", "news")] == ["Newswire"]
    finally:
        searcher.close()


def test_a_facet_added_to_the_table_is_on_the_page_and_in_the_api(aggregators):
    client = create_app({"INDEX_ROOT": str(aggregators)}).test_client()
    soup = BeautifulSoup(client.get("/?q=harbour&via=MENAFN&all_articles=1").data, "html.parser")
    section = soup.select_one('section[data-facet="aggregators"]')
    assert section.h3.get_text() == "Aggregators"
    assert [a.select_one(".b-label").get_text() for a in section.select("ul.buckets a")] == ["MENAFN", "Newswire"]
    assert section.select_one("a.is-on")["href"] == "/?q=harbour&all_articles=1"   # clicking it again removes it
    chips = [c.get_text(" ", strip=True) for c in soup.select(".chips a.chip")]
    assert chips == ["Aggregator MENAFN ×"]
    assert soup.select_one("strong").get_text() == "3"
    data = client.get("/api/search?q=harbour&via=newswire&all_articles=1").get_json()
    assert data["total"] == 1 and data["hits"][0]["via"] == "Newswire"
    values = client.get("/api/facets/aggregators?prefix=men").get_json()
    assert (values["param"], [v["value"] for v in values["values"]]) == ("via", ["MENAFN"])
    spec = client.get("/api/openapi.json").get_json()
    assert "via" in [p["name"] for p in spec["paths"]["/api/search"]["get"]["parameters"]]
    assert "aggregators" in spec["paths"]["/api/facets/{facet}"]["get"]["parameters"][0]["schema"]["enum"]


def test_a_facet_added_to_the_table_is_a_cli_option(aggregators):
    made = []

    @click.command()
    @filter_options
    def probe(query, index_root, date_from, date_to, **options):
        made.append(SearchRequest(q=" ".join(query), filters=_selected(options)))

    result = CliRunner().invoke(probe, ["harbour", "--via", "MENAFN", "--via", "Newswire", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert made[0].selected("aggregators") == ("MENAFN", "Newswire") and made[0].languages == ("en",)
    assert "came through this aggregator" in CliRunner().invoke(probe, ["--help"]).output


def test_the_openapi_file_matches_the_table():
    """After changing a facet: python -c 'import web.api as a; a.write_openapi()'."""
    assert json.loads(OPENAPI_FILE.read_text(encoding="utf-8")) == openapi_spec()


def test_the_table_is_consistent():
    table = facets.declared()
    for attr in ("name", "field", "param"):
        assert len({getattr(f, attr) for f in table}) == len(table), f"two facets share a {attr}"
    assert not {f.param for f in table} & (set(AFTER_FILTERS) | {"q"})
    schema = build_schema()
    assert all(f.field in schema.names() for f in table)
    with pytest.raises(ValueError):
        Facet("x", field="x", param="x", label="X", singular="X", combine="some", values=lambda a: ())


def test_an_unknown_facet_in_a_request_is_refused():
    from search import QueryError
    with pytest.raises(QueryError, match="unknown facet 'organisations'"):
        SearchRequest(filters={"organisations": ["UN"]}).validate()
    assert SearchRequest(filters={"people": ["Ann Lee"]}).people == ("Ann Lee",)


def test_a_multi_valued_facet_added_to_the_table_ands_its_selections(monkeypatch, make_article, make_index):
    """An "all" facet of several values per article (the article's own keywords): selections AND together and it
    counts over the result set itself."""
    keywords = Facet("keywords", field="keyword_tags", param="keyword", label="Keywords", singular="Keyword",
                     combine="all", values=lambda article: article.keywords, multi_valued=True)
    monkeypatch.setattr(facets, "FACETS", facets.FACETS + (keywords,))
    root = make_index([make_article(title="Port news", keywords=("ports", "trade")),
                       make_article(title="Port strike", keywords=("ports", "labour")),
                       make_article(title="Trade talks", keywords=("trade",))])
    searcher = Searcher(root)
    try:
        both = searcher.search(SearchRequest(filters={"keywords": ["ports", "trade"]}, all_articles=True))
        assert [h.title for h in both.hits] == ["Port news"]
        assert sorted((b.value, b.count, b.selected) for b in both.facets["keywords"]) == \
            [("ports", 1, True), ("trade", 1, True)]
        one = searcher.search(SearchRequest(filters={"keywords": ["ports"]}, all_articles=True))
        assert sorted((b.value, b.count) for b in one.facets["keywords"]) == [("labour", 1), ("ports", 2), ("trade", 1)]
    finally:
        searcher.close()
