"""A facet whose counting fails is listed as failed (result, JSON, page, CLI), not shown as a facet without values;
the search and the other facets go on."""
from __future__ import annotations

import logging

import pytest
from bs4 import BeautifulSoup

import search.facets
from search import SearchRequest
from web.app import create_app


@pytest.fixture
def countries_fail(monkeypatch):
    real = search.facets.facet_buckets

    def failing(snap, facet, *args):
        if facet.name == "countries":
            raise RuntimeError("counting went wrong")
        return real(snap, facet, *args)
    monkeypatch.setattr(search.facets, "facet_buckets", failing)


def test_a_failed_facet_is_listed_not_empty(sample_searcher, countries_fail, caplog):
    with caplog.at_level(logging.ERROR, logger="search.facets"):
        result = sample_searcher.search(SearchRequest(q="election"))
    assert result.failed_facets == ("countries",)
    assert result.facets["countries"] == () and result.facets["people"] and result.total
    assert result.to_json()["failed_facets"] == ["countries"]
    assert "facet countries failed" in caplog.text


def test_a_failed_date_histogram_is_listed(sample_searcher, monkeypatch):
    def failing(*args, **kwargs):
        raise RuntimeError("no dates today")
    monkeypatch.setattr(search.facets, "date_histogram", failing)
    result = sample_searcher.search(SearchRequest(q="election"))
    assert result.failed_facets == ("date",) and result.facets["date"] == ()


def test_nothing_failed_lists_nothing(sample_searcher):
    result = sample_searcher.search(SearchRequest(q="election"))
    assert result.failed_facets == () and result.to_json()["failed_facets"] == []


def test_the_page_and_the_api_say_a_facet_failed(sample_index, countries_fail):
    client = create_app({"INDEX_ROOT": str(sample_index)}).test_client()
    soup = BeautifulSoup(client.get("/?q=election").data, "html.parser")
    assert soup.select_one('section[data-facet="countries"] .facet-failed')
    assert soup.select_one('section[data-facet="people"] .facet-failed') is None
    assert "None in these results" not in soup.select_one('section[data-facet="countries"]').get_text()
    assert client.get("/api/search?q=election").get_json()["failed_facets"] == ["countries"]
