"""The query language: every query class parses to the tree it means; every malformed class has its message."""
from datetime import date

import pytest

from search.model import MAX_QUERY_CHARS, MAX_QUERY_CLAUSES, QueryError, SearchRequest
from search.query import And, DateRange, Not, Or, Phrase, Word, parse_query, to_text

FIELDS = "title, body, person, country, lang, source, date"


@pytest.mark.parametrize("q, text", [
    ("elections", "elections"),
    ("prime minister", "(prime AND minister)"),
    ("prime AND minister", "(prime AND minister)"),
    ('"prime minister"', '"prime minister"'),
    ("gold OR silver", "(gold OR silver)"),
    ("gold || silver", "(gold OR silver)"),
    ("budget -vote", "(budget AND NOT vote)"),
    ("budget NOT vote", "(budget AND NOT vote)"),
    ("+budget vote", "(budget AND vote)"),
    ("(budget OR trade) -vote", "((budget OR trade) AND NOT vote)"),
    ("a OR b c", "(a OR (b AND c))"),
    ('title:"x y" person:ikeda', '(title:"x y" AND person:ikeda)'),
    ("title:(budget OR trad*)", "(title:budget OR title:trad*)"),
    ("COUNTRY:kr Lang:fr source:gulf*", "(country:kr AND lang:fr AND source:gulf*)"),
    ("elect* parliam?nt budgit~ budgit~2", "(elect* AND parliam?nt AND budgit~1 AND budgit~2)"),
    ("date:2025-05", "date:2025-05-01..2025-05-31"),
    ("date:2025-01..2025-06", "date:2025-01-01..2025-06-30"),
    ("date:..2024", "date:..2024-12-31"),
    ("date:2025-05-20..", "date:2025-05-20.."),
    ("東京都 地震", "(東京都 AND 地震)"),
    ("http://example.com 10:30 Note: or not", "(http://example.com AND 10:30 AND Note: AND or AND not)"),
    ("", "(everything)"),
    ("   ", "(everything)"),
])
def test_query_classes_parse_to_what_they_mean(q, text):
    assert to_text(parse_query(q)) == text


def test_tree_nodes_carry_kind_field_and_position():
    tree = parse_query('title:"a b" -elect* x~2 date:2025')
    assert tree == And((Phrase("a b", "title", 6), Not(Word("elect", None, "prefix", 0, 13)),
                        Word("x", None, "fuzzy", 2, 20), DateRange(date(2025, 1, 1), date(2025, 12, 31), "2025", 29)))
    assert parse_query("a OR b") == Or((Word("a", pos=0), Word("b", pos=5)))


@pytest.mark.parametrize("q, message", [
    ('"prime minister', 'unbalanced quote: the " at position 1 has no closing quote'),
    ('budget "vote', 'unbalanced quote: the " at position 8 has no closing quote'),
    ("(budget OR trade", "unbalanced parenthesis: the ( at position 1 is never closed"),
    ("budget OR trade)", "unbalanced parenthesis: the ) at position 16 has no matching ("),
    ("()", "empty parentheses at position 1"),
    ("foo:bar", f'unknown field "foo" (in foo:bar); valid fields: {FIELDS}'),
    ('author:"x y"', f'unknown field "author" (in author:"x y"); valid fields: {FIELDS}'),
    ("*", "a bare * would match everything (at position 1): put at least one letter before it (e.g. elect*), "
          "or leave the query empty to browse"),
    ("budget ?", "a bare ? would match everything (at position 8): put at least one letter before it "
                 "(e.g. elect*), or leave the query empty to browse"),
    ("*lection", "wildcards need at least one letter before them (in *lection at position 1)"),
    ("budget OR", "OR at position 8 needs a term on both sides"),
    ("OR budget", "OR at position 1 needs a term on both sides"),
    ("(a OR)", "OR at position 4 needs a term on both sides"),
    ("budget AND", "AND at position 8 needs a term on both sides"),
    ("NOT", "NOT at position 1 needs a term after it"),
    ("budget NOT", "NOT at position 8 needs a term after it"),
    ("title:", 'field "title" at position 1 needs a value, e.g. title:word or title:"a phrase"'),
    ("date:yesterday", "bad date in date:yesterday: use date:YYYY, date:YYYY-MM, date:YYYY-MM-DD or a range like "
                       "date:2025-01..2025-06"),
    ("date:2025-13", "bad date in date:2025-13: use date:YYYY, date:YYYY-MM, date:YYYY-MM-DD or a range like "
                     "date:2025-01..2025-06"),
    ("date:2025-06..2025-01", "empty date range in date:2025-06..2025-01: 2025-06-01 is after 2025-01-31"),
    ("budgit~3", "fuzzy distance must be 1 or 2 (in budgit~3)"),
    ('""', "empty phrase at position 1"),
    ("title:(person:x)", "field person: at position 8 is inside title:( ); one field per term"),
    ("x" * (MAX_QUERY_CHARS + 1), f"query too long: {MAX_QUERY_CHARS + 1} characters (the limit is {MAX_QUERY_CHARS})"),
    (" OR ".join(["w"] * (MAX_QUERY_CLAUSES + 1)), f"query too complex: more than {MAX_QUERY_CLAUSES} terms"),
])
def test_malformed_queries_are_rejected_with_their_problem(q, message):
    with pytest.raises(QueryError) as err:
        parse_query(q)
    assert str(err.value) == message


def test_unknown_field_error_lists_the_valid_fields():
    with pytest.raises(QueryError) as err:
        parse_query("headline:tokyo")
    assert err.value.valid_fields == ("title", "body", "person", "country", "lang", "source", "date")
    assert err.value.to_json() == {"error": f'unknown field "headline" (in headline:tokyo); valid fields: {FIELDS}',
                                   "valid_fields": list(err.value.valid_fields)}
    assert isinstance(err.value, ValueError) and err.value.status == 400


@pytest.mark.parametrize("kwargs, message", [
    (dict(sort="best"), "unknown sort 'best': use one of relevance, newest, oldest"),
    (dict(page=0), "page must be a whole number >= 1, not 0"),
    (dict(per_page=101), "per_page must be between 1 and 100, not 101"),
    (dict(page=1001, per_page=10), "page 1001 is beyond the deep-pagination limit: only the first 10000 results can "
                                   "be paged to; narrow the query or the filters, or sort by newest/oldest with a "
                                   "date range"),
    (dict(date_from="2025-06", date_to="2025-01"), "date range is empty: from 2025-06-01 is after to 2025-01-31"),
])
def test_impossible_requests_are_rejected(kwargs, message):
    with pytest.raises(QueryError) as err:
        SearchRequest(**kwargs).validate()
    assert str(err.value) == message


def test_request_from_url_parameters():
    req = SearchRequest.from_params({"q": "trade", "person": ["Lena Vossberg"], "country": ["KR", "DE"],
                                     "lang": "en", "source": ["Gulf Times"], "from": "2025-05", "to": "2025",
                                     "sort": "newest", "recency": "1", "page": "2", "per_page": "20"})
    assert req == SearchRequest(q="trade", people=("Lena Vossberg",), countries=("KR", "DE"), languages=("en",),
                                sources=("Gulf Times",), date_from=date(2025, 5, 1), date_to=date(2025, 12, 31),
                                sort="newest", recency=True, page=2, per_page=20)
    with pytest.raises(QueryError) as err:
        SearchRequest.from_params({"page": "two"})
    assert str(err.value) == "page must be a whole number, not 'two'"
    with pytest.raises(QueryError) as err:
        SearchRequest.from_params({"from": "May"})
    assert str(err.value) == "bad date 'May': use YYYY, YYYY-MM or YYYY-MM-DD"
