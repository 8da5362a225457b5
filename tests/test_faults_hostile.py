"""Hostile requests (issue 15, item 2 and 3): deep nesting, many filter values, huge URLs and parameters are refused
with a 400/414 and a short message (CLI: exit 2), quickly, without a traceback and without echoing the input."""
from __future__ import annotations

from urllib.parse import urlencode

import pytest
from click.testing import CliRunner

from search.model import MAX_QUERY_DEPTH, QueryError
from search.query import parse_query, to_text
from tests.web_fixtures import web_index  # noqa: F401  (fixture)
from web.app import create_app
from web.cli import main

NESTED_195 = "(" * 195 + "harbour" + ")" * 195          # 397 characters: under the 1,000-character limit
DEPTH_MESSAGE = f"query nested too deeply: more than {MAX_QUERY_DEPTH} levels of parentheses or NOT (at position 33)"


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
