"""The Searcher: one per process, shared by requests and threads (implementation in progress)."""
from __future__ import annotations

import os
from typing import Optional

from search.model import ArticleView, FacetBucket, Hit, SearchRequest, SearchResult


class Searcher:
    """Answers searches over the live index under `index_root`; refreshes itself when the index changes."""

    def __init__(self, index_root: str | os.PathLike):
        self.root = index_root

    def search(self, request: SearchRequest) -> SearchResult:
        """Run one search (raises QueryError for a malformed query or request)."""
        raise NotImplementedError

    def article(self, article_id: str) -> Optional[ArticleView]:
        """One article by id, or None."""
        raise NotImplementedError

    def more_like_this(self, article_id: str, n: int = 10) -> list[Hit]:
        """Articles similar to one article (not including it)."""
        raise NotImplementedError

    def facet_values(self, facet: str, prefix: str = "", limit: int = 20) -> list[FacetBucket]:
        """Values of one facet over the whole index whose label (or any word of it) starts with `prefix`."""
        raise NotImplementedError

    def stats(self) -> dict:
        """Counts for `newsdex stats`: articles, per language/source, date range, people, countries, index version."""
        raise NotImplementedError

    def explain(self, q: str) -> str:
        """The parsed form of a query (raises QueryError)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the open index files."""


def search(request: SearchRequest, index_root: str | os.PathLike) -> SearchResult:
    """Run one search with a throwaway Searcher (reuse a Searcher when answering many)."""
    searcher = Searcher(index_root)
    try:
        return searcher.search(request)
    finally:
        searcher.close()
