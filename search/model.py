"""The plain data of the search layer: requests in, results out (JSON-ready, no Whoosh object inside)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Mapping, NamedTuple, Optional

from index.errors import NewsdexError
from index.facets import declared, named
from index.model import Article

SORTS = ("relevance", "newest", "oldest")
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 10
# Deep pagination limit (like Elasticsearch's max_result_window): hits beyond this rank cannot be paged to;
# `total` stays exact. Narrow the query or the filters, or sort by date, to reach older articles.
MAX_RESULT_WINDOW = 10_000
MAX_QUERY_CHARS = 1_000        # longer queries are rejected, not truncated
MAX_QUERY_CLAUSES = 64         # words, phrases and field:values together (a query written with operators)
MAX_PLAIN_WORDS = 64           # distinct words of a plain-words query searched: a pasted paragraph keeps its rarest
MAX_QUERY_DEPTH = 32           # nested parentheses and NOTs (the parser and evaluator recurse once per level)
MAX_FILTER_VALUES = 20         # values per filter (person, country, lang, source): each link of a page repeats them
SHOWN_CHARS = 100              # an error message quotes at most this much of what it refuses
MAX_WILDCARD_TERMS = 512       # a prefix/wildcard may expand to at most this many index terms
MIN_WILDCARD_PREFIX = 1        # `a*` is allowed (bounded by MAX_WILDCARD_TERMS); a bare `*` is not
COUNT_MODES = ("stories", "articles")
MAX_ALSO = 5                   # other versions listed under a collapsed hit
MAX_VERSIONS = 200             # other versions an ArticleView lists (an aggregator may hold a story many times)
DATE_INTERVALS = ("day", "month", "year")

# The user-facing query fields (what `field:value` accepts), with what each searches.
QUERY_FIELDS = {
    "title": "words in the title",
    "body": "words in the body",
    "person": "a person's name (any part, e.g. person:takaichi)",
    "country": "an ISO country code or name the article is about (country:jp)",
    "lang": "a language code (lang:fr)",
    "source": "the outlet (source:\"gulf times\")",
    "date": "a day, month, year or range (date:2025-05, date:2025-01..2025-06-15, date:..2024)",
}


class QueryError(NewsdexError, ValueError):
    """A query or request that makes no sense; the message names the problem (and the valid fields when relevant).

    The web layer answers it with HTTP 400 (`to_json()` as the body), the CLI prints it and exits with status 2.
    """

    status = 400

    def __init__(self, message: str, *, position: Optional[int] = None, valid_fields: tuple[str, ...] = ()):
        super().__init__(message)
        self.message = message
        self.position = position
        self.valid_fields = tuple(valid_fields)

    def to_json(self) -> dict:
        out: dict[str, Any] = {"error": self.message}
        if self.position is not None:
            out["position"] = self.position
        if self.valid_fields:
            out["valid_fields"] = list(self.valid_fields)
        return out


def facet_names() -> tuple[str, ...]:
    """The names of `SearchResult.facets`: the declared facets (index/facets.py), then the date histogram."""
    return tuple(f.name for f in declared()) + ("date",)


def clip(text: str) -> str:
    """`text` cut to SHOWN_CHARS (for messages that quote part of a query)."""
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}... ({len(text):,} characters)"


def shown(value) -> str:
    """`value` quoted for an error message, cut to SHOWN_CHARS (a refused request is not echoed back whole)."""
    try:
        text = value if isinstance(value, str) else str(value)
    except ValueError:   # an integer too long to print
        return "a number of more than 4,300 digits"
    if len(text) <= SHOWN_CHARS:
        return repr(value) if isinstance(value, str) else text
    cut = text[:SHOWN_CHARS] + "..."
    return f"{repr(cut) if isinstance(value, str) else cut} ({len(text):,} characters)"


_SURROGATE = re.compile("[\ud800-\udfff]")


def not_text(text: str) -> Optional[int]:
    """The 1-based position of the first lone surrogate (what Python makes of an undecodable byte), else None."""
    found = _SURROGATE.search(text)
    return found.start() + 1 if found else None


def _tuple(value) -> tuple[str, ...]:
    """The non-blank values, each once, in order."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    return tuple(dict.fromkeys(str(v) for v in value if str(v).strip()))


def parse_date_param(text: str | date | None, *, end: bool = False) -> Optional[date]:
    """`2025`, `2025-05` or `2025-05-17` as a date (the first day of the period, or its last with end=True)."""
    from search.dates import parse_partial_date  # one implementation of partial dates
    if text is None or isinstance(text, date):
        return text.date() if isinstance(text, datetime) else text
    text = str(text).strip()
    if not text:
        return None
    period = parse_partial_date(text)
    if period is None:
        raise QueryError(f"bad date {shown(text)}: use YYYY, YYYY-MM or YYYY-MM-DD")
    return period[1] if end else period[0]


@dataclass(frozen=True)
class SearchRequest:
    """One search: query text, filters (independent of the text), sort and page.

    Filter values are what the facet buckets' `value`s carry: person names (or keys), ISO country codes,
    language codes, exact source names. Several people / countries AND together; several languages / sources OR
    (each facet's `combine` in index/facets.py). A declared facet's selection is in the attribute its declaration
    names (`people`, `countries`, `languages`, `sources`), any other's in `filters` ({facet name: values});
    `selected(name)` reads either.

    Stories: by default the copies of one story (near-duplicates, same STORY id) collapse into one hit, and
    `total` counts stories; `count` says whether facet counts and the date histogram count stories (distinct
    stories among the matching articles with that value) or articles. `all_articles=True` lists every article
    and counts articles exactly as without stories (`count` is then ignored).
    """

    q: str = ""
    people: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    date_from: Optional[date] = None
    date_to: Optional[date] = None       # inclusive
    sort: str = "relevance"              # relevance | newest | oldest
    recency: bool = False                # favour recent articles when sorting by relevance
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    facets: bool = True                  # compute facet counts and the date histogram
    facet_limit: int = 20                # buckets per facet (selected values are always included)
    snippets: bool = True
    all_articles: bool = False           # list every article instead of one hit per story
    count: str = "stories"               # stories | articles: what facets and the histogram count (collapsed)
    filters: Any = ()                    # {facet name: values} of declared facets without an attribute of their own

    @property
    def count_stories(self) -> bool:
        """True when facet counts and the histogram count distinct stories."""
        return not self.all_articles and self.count == "stories"

    def selected(self, facet: str) -> tuple[str, ...]:
        """The selected values of the facet called `facet`."""
        attr = named(facet).request_attr
        return getattr(self, attr) if attr else dict(self.filters).get(facet, ())

    def __post_init__(self):
        for name in ("people", "countries", "languages", "sources"):
            object.__setattr__(self, name, _tuple(getattr(self, name)))
        pairs = self.filters.items() if isinstance(self.filters, Mapping) else self.filters
        others = {}
        for name, values in pairs or ():
            attr = next((f.request_attr for f in declared() if f.name == name), "")
            if attr:   # a facet with an attribute of its own: the values join it
                object.__setattr__(self, attr, _tuple(getattr(self, attr) + _tuple(values)))
            elif _tuple(values):
                others[name] = _tuple(values)
        object.__setattr__(self, "filters", tuple(others.items()))
        object.__setattr__(self, "q", self.q or "")
        for name, end in (("date_from", False), ("date_to", True)):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
                object.__setattr__(self, name, parse_date_param(value, end=end))

    def validate(self) -> None:
        """Raise QueryError for an impossible request (bad sort, page, per_page, date range)."""
        if self.count not in COUNT_MODES:
            raise QueryError(f"unknown count {shown(self.count)}: use one of {', '.join(COUNT_MODES)}")
        if self.sort not in SORTS:
            raise QueryError(f"unknown sort {shown(self.sort)}: use one of {', '.join(SORTS)}")
        unknown = sorted({name for name, _ in self.filters} - {f.name for f in declared()})
        if unknown:
            raise QueryError(f"unknown facet {shown(unknown[0])}: the facets are "
                             f"{', '.join(f.name for f in declared())}")
        for facet in declared():
            param, values = facet.param, self.selected(facet.name)
            if len(values) > MAX_FILTER_VALUES:
                raise QueryError(f"too many {param} values: {len(values):,} (the limit is "
                                 f"{MAX_FILTER_VALUES} per filter)")
            for value in values:
                if not_text(value):   # it could match nothing, and would break a UTF-8 output
                    raise QueryError(f"a {param} value is not valid text: character {not_text(value)} is an "
                                     f"undecodable byte")
        if not isinstance(self.page, int) or self.page < 1:
            raise QueryError(f"page must be a whole number >= 1, not {shown(self.page)}")
        if not isinstance(self.per_page, int) or not 1 <= self.per_page <= MAX_PER_PAGE:
            raise QueryError(f"per_page must be between 1 and {MAX_PER_PAGE}, not {shown(self.per_page)}")
        if (self.page - 1) * self.per_page >= MAX_RESULT_WINDOW:
            raise QueryError(f"page {shown(self.page)} is beyond the deep-pagination limit: only the first "
                             f"{MAX_RESULT_WINDOW} results can be paged to; narrow the query or the filters, "
                             f"or sort by newest/oldest with a date range")
        if not isinstance(self.facet_limit, int) or self.facet_limit < 1:
            raise QueryError(f"facet_limit must be a whole number >= 1, not {shown(self.facet_limit)}")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise QueryError(f"date range is empty: from {self.date_from} is after to {self.date_to}")

    @classmethod
    def from_params(cls, params: Mapping, **overrides) -> "SearchRequest":
        """A request from URL-style parameters: q, each facet's parameter (person, country, lang, source: each
        repeatable: pass a werkzeug MultiDict or a dict of lists), from, to, sort, recency, page, per_page,
        all_articles, count. Raises QueryError."""
        def many(name):
            if hasattr(params, "getlist"):
                return tuple(v for v in params.getlist(name) if v)
            value = params.get(name)
            return _tuple(value)

        def one(name, default=None):
            values = many(name)
            return values[-1] if values else default

        def number(name, default):
            value = one(name)
            if value is None:
                return default
            try:
                return int(value)
            except (TypeError, ValueError):
                raise QueryError(f"{name} must be a whole number, not {shown(value)}") from None

        kwargs = dict(
            q=one("q", ""), date_from=parse_date_param(one("from")),
            date_to=parse_date_param(one("to"), end=True), sort=one("sort", "relevance"),
            recency=str(one("recency", "")).lower() in ("1", "true", "yes", "on"),
            page=number("page", 1), per_page=number("per_page", DEFAULT_PER_PAGE),
            all_articles=str(one("all_articles", "")).lower() in ("1", "true", "yes", "on"),
            count=str(one("count", "stories")).strip().lower(),
        )
        others = {}
        for facet in declared():
            if facet.request_attr:
                kwargs[facet.request_attr] = many(facet.param)
            elif many(facet.param):
                others[facet.name] = many(facet.param)
        kwargs["filters"] = others
        kwargs.update(overrides)
        return cls(**kwargs)


@dataclass(frozen=True)
class FacetBucket:
    """One facet value: `value` is what the matching filter accepts, `label` is for display."""

    value: str
    label: str
    count: int
    selected: bool = False
    date_from: Optional[date] = None     # date histogram buckets only: the bucket's first and last day
    date_to: Optional[date] = None

    def to_json(self) -> dict:
        out = {"value": self.value, "label": self.label, "count": self.count, "selected": self.selected}
        if self.date_from is not None:
            out["from"] = self.date_from.isoformat()
            out["to"] = self.date_to.isoformat() if self.date_to else None
        return out


@dataclass(frozen=True)
class Hit:
    """One result: what a result list shows. `snippet` and `title_html` are safe HTML (only <mark> unescaped)."""

    id: str
    title: str
    snippet: str
    published: Optional[str]             # ISO 8601 or None
    source: str
    language: str
    people: tuple[str, ...]              # display names
    countries: tuple[str, ...]           # ISO codes the article is about
    score: Optional[float]               # None when sorted by date without a query
    url: str = ""
    title_html: str = ""
    title_derived: bool = False
    via: str = ""
    rank: int = 0                        # 1-based position in the whole result list
    story_id: str = ""                   # the story (id of its first article; an article alone: its own id)
    story_size: int = 1                  # live articles of the story in the whole index (this one included)
    story_outlets: int = 0               # distinct outlets of the story's other articles
    also: tuple = ()                     # collapsed hits: up to MAX_ALSO other versions, earliest first:
                                         # {"id", "source", "published" (ISO or None), "title"}
    missing: tuple[str, ...] = ()        # a relaxed query's words this article lacks

    def to_json(self) -> dict:
        return {
            "id": self.id, "title": self.title, "snippet": self.snippet, "published": self.published,
            "source": self.source, "language": self.language, "people": list(self.people),
            "countries": list(self.countries),
            "score": None if self.score is None else round(self.score, 4),
            "url": self.url, "title_html": self.title_html, "title_derived": self.title_derived,
            "via": self.via, "rank": self.rank,
            "story_id": self.story_id, "story_size": self.story_size, "story_outlets": self.story_outlets,
            "also": [dict(a) for a in self.also],
            "missing": list(self.missing),
        }


@dataclass(frozen=True)
class SearchResult:
    """A page of results plus counts over the whole result set."""

    request: SearchRequest
    total: int                           # exact number of results: stories when collapsed, else articles
    hits: tuple[Hit, ...]
    facets: dict = field(default_factory=dict)      # name -> tuple[FacetBucket, ...] (facet_names())
    date_interval: str = "month"         # bucket size of facets["date"]: day | month | year
    did_you_mean: Optional[str] = None   # a corrected query, when the query looks misspelled
    query_explain: str = ""              # the parsed query, for --explain
    took_ms: float = 0.0
    articles: Optional[int] = None       # matching articles (= total with all_articles)
    stories: Optional[int] = None        # matching stories (= total when collapsed)
    matching: Any = None                 # a plain-words query: how it matched (search.ranking.Relaxation)
    failed_facets: tuple[str, ...] = ()  # facets (or "date") whose counting failed: not counted, not "no values"

    @property
    def relaxed(self) -> bool:
        """True when not every word of a plain-words query was required."""
        return bool(self.matching is not None and self.matching.relaxed)

    @property
    def page(self) -> int:
        return self.request.page

    @property
    def per_page(self) -> int:
        return self.request.per_page

    @property
    def reachable(self) -> int:
        """How many of the results can be paged to (MAX_RESULT_WINDOW)."""
        return min(self.total, MAX_RESULT_WINDOW)

    @property
    def pages(self) -> int:
        """Number of pages that can be shown (bounded by the deep-pagination limit)."""
        return -(-self.reachable // self.per_page) if self.reachable else 0

    def to_json(self) -> dict:
        """The shape `newsdex search --json` prints and `/api/search` answers."""
        return {
            "query": self.request.q,
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "pages": self.pages,
            "max_result_window": MAX_RESULT_WINDOW,
            "hits": [h.to_json() for h in self.hits],
            "facets": {name: [b.to_json() for b in buckets] for name, buckets in self.facets.items()},
            "failed_facets": list(self.failed_facets),
            "date_interval": self.date_interval,
            "did_you_mean": self.did_you_mean,
            "explain": self.query_explain,
            "took_ms": round(self.took_ms, 2),
            # stories: `total` counts stories when copies are grouped (the default), articles with all_articles
            "all_articles": self.request.all_articles,
            "count": "articles" if self.request.all_articles else self.request.count,
            "articles": self.articles,
            "stories": self.stories,
            # a plain-words query: whether every word was required, and the words' shares of the query's weight
            "relaxed": self.relaxed,
            "matching": self.matching.to_json() if self.matching is not None else None,
        }


@dataclass(frozen=True)
class ArticleView:
    """One article as stored, for the article page / `newsdex inspect`: the Article (with people and
    countries and their mention spans) plus its story: the story id and the other live versions (near-duplicates),
    earliest first, each {"id", "title", "source", "published" (ISO or None)}."""

    article: Article
    story_ids: tuple[str, ...] = ()      # the other versions' ids, earliest first (at most MAX_VERSIONS)
    story_id: str = ""
    versions: tuple = ()
    size: int = 0                        # live articles of the story (0: this one and `versions`)

    @property
    def story_size(self) -> int:
        return self.size or len(self.versions) + 1

    def to_json(self) -> dict:
        """The article as the API shows it: everything but the file's path on the server."""
        out = self.article.to_json()
        out.pop("path", None)
        out["story_ids"] = list(self.story_ids)
        out["story_id"] = self.story_id or self.article.story_id or self.article.id
        out["story_size"] = self.story_size
        out["versions"] = [dict(v) for v in self.versions]
        return out


class UnknownEntity(QueryError):
    """A person or country the index holds no article about: HTTP 404, with close ones to offer instead."""

    status = 404

    def __init__(self, message: str, kind: str, suggestions: tuple = ()):
        super().__init__(message)
        self.kind = kind                  # person | country
        self.suggestions = tuple(suggestions)   # CoMention-like: value, label, count, key

    def to_json(self) -> dict:
        out = super().to_json()
        out["suggestions"] = [{"key": s.key, "value": s.value, "label": s.label, "count": s.count}
                              for s in self.suggestions]
        return out


@dataclass(frozen=True)
class CoMention:
    """An entity mentioned in the same articles as another: `value` is what the search filter takes (a person's
    display name, a country code), `key` what its page is named by; `count` articles mention both, `score` is
    how much more often than elsewhere (search.entities.significance)."""

    value: str
    label: str
    count: int
    score: float = 0.0
    key: str = ""

    def to_json(self) -> dict:
        return {"value": self.value, "label": self.label, "count": self.count, "score": round(self.score, 3),
                "key": self.key}


@dataclass(frozen=True)
class EntityPage:
    """One person or country over a request's result set (search.entities). Counts are articles."""

    kind: str                            # person | country
    key: str                             # the person key / ISO code the page is named by
    name: str                            # display name
    articles: int                        # matching articles about it (= the search's `articles` for this filter)
    stories: int                         # ... and the distinct stories among them
    first_seen: Optional[str]            # ISO dates of the earliest and latest dated ones (None: none dated)
    last_seen: Optional[str]
    interval: str                        # the timeline's bucket size: day | month | year
    timeline: tuple[FacetBucket, ...]    # articles per period, every period from the first to the last
    ranked_by: str                       # score | count: how with_people and with_countries are ordered
    with_people: tuple[CoMention, ...]
    with_countries: tuple[CoMention, ...]
    latest: tuple[Hit, ...] = ()         # the newest matching articles (one per story unless all_articles)
    archive_articles: int = 0            # articles about it in the whole index, whatever the filters

    def to_json(self) -> dict:
        """The shape `/api/person/<key>` and `/api/country/<code>` answer."""
        return {
            "kind": self.kind, "key": self.key, "name": self.name,
            "articles": self.articles, "stories": self.stories, "archive_articles": self.archive_articles,
            "first_seen": self.first_seen, "last_seen": self.last_seen,
            "interval": self.interval,
            "timeline": [{"period": b.value, "count": b.count, "from": b.date_from.isoformat(),
                          "to": b.date_to.isoformat()} for b in self.timeline],
            "ranked_by": self.ranked_by,
            "with_people": [c.to_json() for c in self.with_people],
            "with_countries": [c.to_json() for c in self.with_countries],
            "latest": [h.to_json() for h in self.latest],
        }


@dataclass(frozen=True)
class IndexVersion:
    """The live index version on disk: it changes with every rebuild, add or delete (feeds' ETag and
    Last-Modified)."""

    generation: str
    commit: int
    modified: Optional[datetime]         # when that version was committed (UTC), None without an index


class ExportRow(NamedTuple):
    """One article of an export (search.export): flat fields, several values as tuples."""

    id: str
    title: str
    published: Optional[str]             # ISO 8601 or None
    source: str
    language: str
    people: tuple[str, ...]              # display names
    countries: tuple[str, ...]           # ISO codes the article is about
    url: str
    story_id: str

    def to_json(self) -> dict:
        return {"id": self.id, "title": self.title, "published": self.published, "source": self.source,
                "language": self.language, "people": list(self.people), "countries": list(self.countries),
                "url": self.url, "story_id": self.story_id}
