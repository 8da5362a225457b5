"""The facets, declared once: one row per facet, read by every part of newsdex that names one.

The indexer stores each facet's values in its own field (`index/schema.py`: the Whoosh schema and `document_for`);
the search layer filters by them, counts them over a result set and labels them (`search/masks.py`,
`search/facets.py`, `search/facet_values.py`); the page, the JSON API, the CLI and the OpenAPI description take
their parameters, headings and help from here (`web/state.py`, `web/views.py`, `web/api.py`, `web/cli.py`).
Adding a facet is adding a row (and, when nothing finds its values yet, the extractor that does).

index/ is the lowest layer, so the table lives here: search/ reads it through `search`'s exports, web/ through
search/. Read it with `declared()` and `named()` (at call time: a test may add a row).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from index.model import Article

COMBINE = ("all", "any")
MATCH = ("exact", "upper", "lower", "name_key", "loose")
SHOW = ("value", "person", "country", "language")


@dataclass(frozen=True)
class Facet:
    """One facet: where its values are stored, how a request selects them, how they are shown."""

    name: str            # the facet's name: `SearchResult.facets[name]`, `/facets/<name>`, `/api/facets/<name>`
    field: str           # the index field its values are stored in (one term per value)
    param: str           # the URL parameter and CLI option (`--param`) that filter by it; repeatable
    label: str           # the page's heading for it ("People")
    singular: str        # what one selected value is called on a filter chip ("Person")
    combine: str         # several selected values: "all" AND together (the facet counts over the result set);
                         # "any" OR together (multi-select: it counts over the result set without its own selection)
    values: Callable[[Article], tuple[str, ...]]   # an article's values, as stored
    multi_valued: bool = False   # several values per article (a comma-separated KEYWORD field); else exactly one
                                 # (a stored ID field; `empty` when the article has none)
    empty: str = ""      # the value of an article without one (an empty value is not stored)
    match: str = "exact"  # how a selected value finds the stored one: "exact"; "upper"/"lower" (trimmed, in that
                          # case); "name_key" (a person's name -> its key, index.schema.person_key); "loose" (the
                          # stored value equal ignoring case and spacing)
    show: str = "value"  # how a stored value is shown: "value" as it is; "person" the display name of a person key
                         # (which the filter takes too); "country" an ISO code's name; "language" a code's name
    findable: bool = True   # the page offers "Find ..." (value search by prefix) for it
    page: str = ""       # the kind of page a value links to ("person", "country"), or none
    request_attr: str = ""   # the SearchRequest attribute that holds its selection ("": `request.filters`)
    help: str = ""       # what a value is and how several combine: the CLI's --help and the OpenAPI description

    def __post_init__(self):
        if self.combine not in COMBINE or self.match not in MATCH or self.show not in SHOW:
            raise ValueError(f"facet {self.name}: combine, match or show is not one of {COMBINE}, {MATCH}, {SHOW}")


def _people(article: Article) -> tuple[str, ...]:
    return tuple(p.key for p in article.people)


def _countries(article: Article) -> tuple[str, ...]:
    return tuple(c.code for c in article.countries if c.about)


def _language(article: Article) -> tuple[str, ...]:
    return (article.language,) if article.language else ()


def _source(article: Article) -> tuple[str, ...]:
    return (article.source,) if article.source else ()


FACETS: tuple[Facet, ...] = (
    Facet("people", field="person", param="person", label="People", singular="Person", combine="all",
          values=_people, multi_valued=True, match="name_key", show="person", page="person",
          request_attr="people",
          help="Only articles about this person (a people facet value); repeat to require several (AND)."),
    Facet("countries", field="country", param="country", label="Countries", singular="Country", combine="all",
          values=_countries, multi_valued=True, match="upper", show="country", page="country",
          request_attr="countries",
          help="Only articles about this country (ISO 3166 alpha-2 code); repeat to require several (AND)."),
    Facet("language", field="lang", param="lang", label="Language", singular="Language", combine="any",
          values=_language, empty="und", match="lower", show="language", findable=False,
          request_attr="languages",
          help="Only articles in this language (ISO 639-1 code, zh-cn/zh-tw, und); repeat for any of them (OR)."),
    Facet("source", field="source", param="source", label="Source", singular="Source", combine="any",
          values=_source, match="loose", request_attr="sources",
          help="Only articles from this outlet, as the source facet spells it; repeat for any of them (OR)."),
)


def declared() -> tuple[Facet, ...]:
    """Every facet, in the order pages and results list them."""
    return FACETS


def named(name: str) -> Facet:
    """The facet called `name` (KeyError for none)."""
    for facet in FACETS:
        if facet.name == name:
            return facet
    raise KeyError(name)


def stored_values(facet: Facet, article: Article) -> str:
    """What an article's document holds in the facet's field: the values joined by commas (several), or the one
    value (`empty` when none)."""
    values = facet.values(article)
    if facet.multi_valued:
        return ",".join(values)
    return values[0] if values else facet.empty
