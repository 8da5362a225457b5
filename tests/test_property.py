"""Property-based tests (hypothesis): random query strings and parameters never crash the parser, the CLI or the app.

The parser answers a tree or a QueryError; `newsdex search` exits 0 or 2 without a traceback; the site and the API
answer below 500. Queries are made of the language's own pieces (operators, fields, quotes, parentheses, signs,
wildcards, dates) mixed with arbitrary text, including lone surrogates (what a shell passes for undecodable bytes).
"""
from __future__ import annotations

import os
from urllib.parse import quote, urlencode

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from search.model import QueryError
from search.query import parse_query, to_text
from tests.web_fixtures import web_index  # noqa: F401  (fixture)
from web.app import create_app
from web.cli import main

# 200 examples per target keep the file near 6 s here; NEWSDEX_EXAMPLES=3000 searches longer (about 30 s).
EXAMPLES = settings(max_examples=int(os.environ.get("NEWSDEX_EXAMPLES", 200)), deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

PIECES = ["(", ")", '"', "OR", "AND", "NOT", "||", "&&", "-", "+", "*", "?", "~", "~2", "~9", ":", "..",
          "title:", "body:", "person:", "country:", "lang:", "source:", "date:", "foo:", "title:(", "-(", "+(",
          "harbour", "strike", "riksbank", "engström", "東京都", "2025", "2025-05", "2025-13-40", "..2024",
          "\udcff", "\ud800", "\x00", "\u200b", "%", "&", "=", "#", "/", "\\", "\n", "\t"]
piece = st.one_of(st.sampled_from(PIECES), st.text(max_size=12))
queries = st.one_of(
    st.lists(piece, max_size=40).map(" ".join),
    st.lists(piece, max_size=40).map("".join),
    st.text(max_size=300),
    st.integers(0, 200).map(lambda n: "(" * n + "a" + ")" * n),
    st.integers(0, 1200).map(lambda n: "-" * n + "a"),
)


def mostly(sane, wild):
    """Usually a sane value (so searches run to the end), sometimes a wild one."""
    return st.one_of(sane, sane, sane, wild)


values = st.lists(mostly(st.sampled_from(["en", "fr", "de", "KR", "JP", "BE", "Gulf Times", "The Harbour Post",
                                          "Tobias Engström", "Pieter Claes"]), st.text(max_size=30)),
                  max_size=3).flatmap(lambda few: st.one_of(st.just(few), st.just(few),
                                                            st.lists(st.text(max_size=30), max_size=25)))
numbers = mostly(st.integers(1, 12).map(str), st.one_of(st.integers(-10**30, 10**30).map(str), st.text(max_size=8),
                                                         st.just("9" * 5000), st.integers(-5, 150).map(str)))
dates = mostly(st.sampled_from(["2025", "2025-05", "2025-05-17", "2024-12-31", ""]),
               st.one_of(st.sampled_from(["2025-13", "0000", "9999-12-31", "May"]), st.text(max_size=12)))
flags = st.sampled_from(["", "1", "0", "true", "yes", "on", "x"])
sorts = mostly(st.sampled_from(["relevance", "newest", "oldest"]), st.text(max_size=9))
counts = mostly(st.sampled_from(["stories", "articles"]), st.text(max_size=9))


@st.composite
def params(draw) -> list[tuple[str, str]]:
    """URL parameters of a search: any subset, any values (repeatable ones repeated)."""
    out = [("q", draw(queries))]
    for name in ("person", "country", "lang", "source"):
        if draw(st.integers(0, 3)) == 0:
            out += [(name, v) for v in draw(values)]
    for name, strategy in (("from", dates), ("to", dates), ("page", numbers), ("per_page", numbers),
                           ("sort", sorts), ("count", counts),
                           ("recency", flags), ("all_articles", flags), ("prefix", st.text(max_size=40)),
                           ("limit", numbers)):
        if draw(st.integers(0, 2)) == 0:
            out.append((name, draw(strategy)))
    return draw(st.permutations(out))


@EXAMPLES
@given(queries)
def test_the_parser_answers_a_tree_or_a_query_error(q):
    try:
        tree = parse_query(q)
    except QueryError as exc:
        event("QueryError")
        assert exc.message and len(exc.message) < 600
        return
    assert isinstance(to_text(tree), str)


@pytest.fixture(scope="module")
def client(web_index):
    return create_app({"INDEX_ROOT": str(web_index)}).test_client()


@EXAMPLES
@given(path=mostly(st.sampled_from(["/", "/api/search", "/api/explain", "/api/facets/people",
                                       "/api/facets/countries", "/api/facets/language", "/api/facets/source",
                                       "/facets/people"]),
                      st.text(max_size=20).map(lambda s: "/api/facets/" + quote(s, safe="", errors="surrogatepass"))),
       query=params())
def test_the_app_never_answers_a_server_error(client, path, query):
    response = client.get(path, query_string=urlencode(query, errors="surrogatepass"))
    event(f"status {response.status_code}")
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if path.startswith("/api/") and response.status_code >= 400:
        assert response.get_json()["status"] == response.status_code


def _cli_args(query: list[tuple[str, str]], words: list[str]) -> list[str]:
    """`newsdex search` arguments from URL-style parameters (flags take their values; words are the query)."""
    options = {"person": "--person", "country": "--country", "lang": "--lang", "source": "--source",
               "from": "--from", "to": "--to", "page": "--page", "per_page": "--per-page", "sort": "--sort",
               "count": "--count"}
    args = list(words)
    for name, value in query:
        if name in options:
            args += [options[name], value]
        elif name in ("recency", "all_articles") and value:
            args.append("--" + name.replace("_", "-"))
    return args


@EXAMPLES
@given(query=params(), words=st.lists(piece, max_size=8), as_json=st.booleans())
def test_the_cli_exits_0_or_2_without_a_traceback(web_index, query, words, as_json):
    q = next(v for k, v in query if k == "q")
    args = ["search", "--index", str(web_index)] + _cli_args(query, words + [q]) + (["--json"] if as_json else [])
    result = CliRunner().invoke(main, args)
    event(f"exit {result.exit_code}")
    assert result.exit_code in (0, 2), (args, result.output[-2000:], result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
