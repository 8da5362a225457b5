"""newsdex search: queries, ranking, facets, snippets over a newsdex index.

Public API (plain dataclasses in and out; no Whoosh object leaves this package):

    Searcher(index_root)           reusable across requests and threads; refreshes when the index changes
      .search(SearchRequest) -> SearchResult
      .article(id) -> ArticleView | None
      .more_like_this(id, n=10) -> list[Hit]
      .facet_values(facet, prefix="", limit=20, request=None) -> list[FacetBucket]
      .stats() -> dict
      .entity(kind, key, request, rank="score") -> EntityPage     a person's / country's page (search/entities.py)
      .export(request, limit=100_000) -> Export                  every matching article as ExportRows, streamed
      .version() -> IndexVersion   the live index version and when it became live (feeds' ETag, Last-Modified)
      .explain(q) -> str
      .refresh()                   open the live index version now (searches do it by themselves)
      .close()
    search(request, index_root) -> SearchResult      one-off convenience (opens and closes a Searcher)
    declared_facets(), facet_named(name)             the facet table (index/facets.py): parameters, labels, ...
    QueryError (a NewsdexError, and a ValueError): a malformed query or request; HTTP 400 / CLI exit 2
    IndexMissing, IndexDamaged: no index yet; a file of the index is damaged (the message names it); HTTP 503
    UnknownEntity (QueryError): an entity page for a person or country no article is about; HTTP 404
"""
from search.model import (ArticleView, FacetBucket, Hit, QueryError, SearchRequest, SearchResult,  # noqa: F401
                          facet_names, MAX_FILTER_VALUES, MAX_PER_PAGE, MAX_PLAIN_WORDS, MAX_QUERY_CHARS,
                          MAX_RESULT_WINDOW, QUERY_FIELDS, SORTS, shown)
from search.model import CoMention, EntityPage, ExportRow, IndexVersion, UnknownEntity  # noqa: F401
from search.searcher import Searcher, search  # noqa: F401
from search.entities import RANKS as ENTITY_RANKS  # noqa: F401
from search.export import EXPORT_COLUMNS, MAX_EXPORT_ROWS, Export  # noqa: F401
from index.schema import person_key  # noqa: F401  (a person's page is named by this key)
from search.facets import language_label as language_name  # noqa: F401  (readable names, as facets label them)
from search.facets import country_label as country_name  # noqa: F401  (... and country names)
from index.facets import declared as declared_facets, named as facet_named  # noqa: F401  (the facet table)
from index.errors import IndexDamaged, IndexMissing  # noqa: F401  (Searcher: a damaged index, no index yet)
from index.store import default_index_root  # noqa: F401  (where an index is when no one says)

__all__ = ["IndexDamaged", "IndexMissing", "default_index_root", "language_name", "country_name", "ArticleView",
           "FacetBucket", "Hit",
           "QueryError", "SearchRequest", "SearchResult", "Searcher", "search", "CoMention", "EntityPage", "ExportRow",
           "IndexVersion", "UnknownEntity", "ENTITY_RANKS", "EXPORT_COLUMNS", "MAX_EXPORT_ROWS", "Export", "person_key",
           "facet_names", "declared_facets", "facet_named", "MAX_FILTER_VALUES", "MAX_PER_PAGE", "MAX_PLAIN_WORDS",
           "MAX_QUERY_CHARS", "MAX_RESULT_WINDOW", "QUERY_FIELDS", "SORTS", "shown"]
