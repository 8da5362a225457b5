"""Hostile requests (issue 15, item 2 and 3): deep nesting, many filter values, huge URLs and parameters are refused
with a 400/414 and a short message (CLI: exit 2), quickly, without a traceback and without echoing the input."""
from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner

from search.model import MAX_FILTER_VALUES, MAX_QUERY_DEPTH, QueryError, SearchRequest
from search.query import parse_query, to_text
from tests.web_fixtures import web_index  # noqa: F401  (fixture)
from web.app import MAX_URL_BYTES, create_app
from web.cli import main

NESTED_195 = "(" * 195 + "harbour" + ")" * 195          # 397 characters: under the 1,000-character limit
DEPTH_MESSAGE = f"query nested too deeply: more than {MAX_QUERY_DEPTH} levels of parentheses or NOT (at position 33)"
COUNTRIES_1000 = [f"X{i}" for i in range(1000)]


@pytest.fixture(scope="module")
def client(web_index):
    return create_app({"INDEX_ROOT": str(web_index)}).test_client()


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


# --- nesting ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("q", [
    NESTED_195,
    "(" * (MAX_QUERY_DEPTH + 1) + "a" + ")" * (MAX_QUERY_DEPTH + 1),
    "-" * 999 + "a",                      # each - is a NOT: a 999-deep chain
    "-(" * 300 + "a" + ")" * 300,
    "NOT " * 249 + "a",
    "title:(" + "(" * 40 + "a" + ")" * 41,
])
def test_deep_nesting_is_refused_by_the_parser_with_the_limit(q):
    with pytest.raises(QueryError) as err:
        parse_query(q)
    assert f"more than {MAX_QUERY_DEPTH} levels" in err.value.message


def test_nesting_up_to_the_limit_still_parses():
    q = "(" * MAX_QUERY_DEPTH + "a OR b" + ")" * MAX_QUERY_DEPTH
    assert to_text(parse_query(q)) == "(a OR b)"
    assert to_text(parse_query("+" * 900 + "a")) == "a"


@pytest.mark.parametrize("path", ["/?q=", "/api/search?q=", "/api/explain?q="])
def test_deep_nesting_is_a_400_on_every_entry_point(client, path):
    response = client.get(path + NESTED_195)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert DEPTH_MESSAGE in text
    if path.startswith("/api"):
        assert response.get_json()["error"] == DEPTH_MESSAGE


def test_deep_nesting_in_the_cli_exits_2_with_one_line(web_index):
    result = cli("search", NESTED_195, "--index", web_index)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == f"Error: {DEPTH_MESSAGE}"
    assert "Traceback" not in result.output and "RecursionError" not in result.output


def test_deepest_allowed_query_is_answered(client, web_index):
    q = "(" * MAX_QUERY_DEPTH + "harbour" + ")" * MAX_QUERY_DEPTH
    assert client.get("/api/search?" + urlencode({"q": q})).status_code == 200
    assert client.get("/?" + urlencode({"q": q})).status_code == 200
    assert cli("search", q, "--index", web_index).exit_code == 0


@pytest.mark.parametrize("args, message", [
    (["\udcff harbour"], "the query is not valid text: character 1 is an undecodable byte"),
    (["harbour", "--person", "Pieter\udcc3"], "a person value is not valid text: character 7 is an undecodable byte"),
])
def test_an_undecodable_byte_on_the_command_line_exits_2(web_index, args, message):
    result = cli("search", *args, "--json", "--index", web_index)   # a shell passes b"\xff" as "\udcff"
    assert result.exit_code == 2, result.exception
    assert result.stderr.strip() == f"Error: {message}"


# --- many filter values ----------------------------------------------------------------------------------------------

def test_too_many_values_of_one_filter_are_refused():
    with pytest.raises(QueryError) as err:
        SearchRequest(countries=COUNTRIES_1000).validate()
    assert err.value.message == f"too many country values: 1,000 (the limit is {MAX_FILTER_VALUES} per filter)"
    SearchRequest(countries=COUNTRIES_1000[:MAX_FILTER_VALUES]).validate()
    SearchRequest(countries=["KR"] * 1000).validate()   # one value, repeated


def test_1000_country_values_in_the_cli_exit_2(web_index):
    args = [x for code in COUNTRIES_1000 for x in ("--country", code)]
    result = cli("search", "harbour", "--index", web_index, *args)
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"Error: too many country values: 1,000 (the limit is {MAX_FILTER_VALUES} "
                                      f"per filter)")


@pytest.mark.parametrize("path", ["/", "/api/search"])
def test_1000_country_values_are_refused_at_once_with_a_short_answer(client, path):
    started = time.perf_counter()
    response = client.get(path + "?" + urlencode([("country", c) for c in COUNTRIES_1000]))
    assert time.perf_counter() - started < 1.0
    assert response.status_code == 414
    assert len(response.data) < 4_000
    assert b"X999" not in response.data


@pytest.mark.parametrize("path", ["/", "/api/search"])
def test_more_values_than_the_limit_within_the_url_limit_are_a_400(client, path):
    response = client.get(path + "?" + urlencode([("country", c) for c in COUNTRIES_1000[:300]]))
    assert response.status_code == 400
    assert "too many country values: 300 (the limit is 20 per filter)" in response.get_data(as_text=True)
    assert len(response.data) < 60_000   # the refused state is not repeated in every link


def test_a_page_with_every_filter_full_grows_linearly_not_quadratically(client):
    def page_size(n: int) -> int:
        params = [(p, f"{p}-{i}-" + "v" * 40) for p in ("person", "country", "lang", "source") for i in range(n)]
        response = client.get("/?" + urlencode(params))
        assert response.status_code == 200
        return len(response.data)
    small, full = page_size(5), page_size(MAX_FILTER_VALUES)
    assert full < 1_500_000   # 80 chips and buckets, each linking to a 5 KB state
    # the state is 4x longer and there are 4x more links: bounded by the caps, 16x at worst
    assert full / small < 17


# --- URL and parameter size ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/api/search", "/api/explain", "/api/facets/people", "/article/x"])
def test_a_200_kb_url_is_refused_without_echoing_it(client, path):
    response = client.get(path + "?q=" + "a" * 200_000)
    assert response.status_code == 414
    assert len(response.data) < 4_000
    assert b"a" * 200 not in response.data
    message = f"The address is too long: {len(path) + 200_002:,} bytes (the limit is {MAX_URL_BYTES:,})."
    assert message in response.get_data(as_text=True)


def test_a_url_just_under_the_limit_is_served(client):
    q = "harbour " + "x" * (MAX_URL_BYTES - 100)
    response = client.get("/api/search?" + urlencode({"q": q}))
    assert response.status_code == 400   # the query itself is too long: refused with its own message
    assert response.get_json()["error"].startswith("query too long")


@pytest.mark.parametrize("url, message", [
    ("/api/search?sort=" + "s" * 5000, "unknown sort 'ssss"),
    ("/api/search?page=" + "9" * 5000, "page must be a whole number, not '9999"),
    ("/api/search?per_page=" + "1" * 300, "per_page must be between 1 and 100, not 1111"),
    ("/api/search?from=" + "2" * 5000, "bad date '2222"),
    ("/api/search?count=" + "c" * 5000, "unknown count 'cccc"),
    ("/api/search?q=" + "u" * 900 + ":x", 'unknown field "uuuu'),
    ("/api/search?q=date:" + "9" * 900, "bad date in date:9999"),
    ("/api/similar/x?n=" + "7" * 5000, "n must be a whole number, not '7777"),
    ("/api/facets/people?limit=" + "7" * 5000, "limit must be a whole number, not '7777"),
])
def test_refused_parameters_are_quoted_in_at_most_100_characters(client, url, message):
    response = client.get(url)
    assert response.status_code in (400, 404)
    error = response.get_json()["error"]
    assert error.startswith(message) or message in error
    assert len(error) < 400, error


def test_a_refused_page_echoes_the_query_only_up_to_the_query_limit(client):
    response = client.get("/?" + urlencode({"q": "z" * 5000}))
    assert response.status_code == 400
    assert b"z" * 1001 not in response.data
    assert len(response.data) < 12_000


@pytest.mark.parametrize("url", ["/article/" + "i" * 600, "/api/article/" + "i" * 500, "/facets/" + "f" * 5000,
                                 "/api/facets/" + "f" * 5000])
def test_not_found_answers_quote_at_most_100_characters(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert b"i" * 101 not in response.data and b"f" * 101 not in response.data


def test_page_size_up_to_100_stays_allowed(client):
    assert client.get("/api/search?per_page=100").status_code == 200
    response = client.get("/api/search?per_page=101")
    assert response.status_code == 400
    assert response.get_json()["error"] == "per_page must be between 1 and 100, not 101"
    assert client.get("/?per_page=100").status_code == 200
