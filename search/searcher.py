"""The Searcher: one per process, shared by requests and threads; sees a rebuilt or updated index by itself.

It holds the live Snapshot (`search/live.py`) and answers each call by running one job on it: a search (below:
masks, ranking, hits, facets, did-you-mean), an article, more like this, facet value search, stats, explain, an
entity page or an export. Each job lives in its own module; this one only puts a search together.
"""
from __future__ import annotations

import os
import time
from contextlib import ExitStack
from dataclasses import replace
from datetime import datetime, timezone
from typing import Optional

import numpy as np

from index import schema as S
from index.facets import declared, named
from index.store import index_version, version_time
from search import entities
from search.evaluate import Evaluator, Plan
from search.explain import explain_hits, explain_query
from search.export import MAX_EXPORT_ROWS, Export
from search.facet_values import facet_values
from search.facets import count_facets
from search.hits import article_view, hit, latest as latest_hits
from search.live import LiveSnapshot
from search.masks import every_word, masks_for, missing
from search.model import (ArticleView, EntityPage, FacetBucket, Hit, IndexVersion, QueryError, SearchRequest,
                          SearchResult)
from search.order import rank, rank_stories
from search.query import has_positive, parse_query, to_text
from search.rerank import rerank
from search.similar import more_like_this
from search.snapshot import Snapshot
from search.snippets import Highlight
from search.stats import stats
from search.suggest import did_you_mean


class Searcher:
    """Answers searches over the live index under `index_root`; refreshes itself when the index changes."""

    def __init__(self, index_root: str | os.PathLike, verify_in_background: bool = False,
                 refresh_in_background: bool = False, preload_postings: bool = False):
        self._live = LiveSnapshot(index_root, verify_in_background, warm=_warm,
                                  refresh_in_background=refresh_in_background, preload_postings=preload_postings)
        self.root = self._live.root

    @property
    def _snap(self) -> Optional[Snapshot]:
        """The snapshot open now (None before the first call)."""
        return self._live.snap

    def _use(self, force: bool = False):
        return self._live.use(force)

    def _run(self, fn):
        return self._live.run(fn)

    def refresh(self) -> None:
        """Open the live index version now (searches do this by themselves when they notice a change)."""
        with self._use():
            pass

    def close(self) -> None:
        """Release the open index files."""
        self._live.close()

    # -- search ------------------------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResult:
        """Run one search (raises QueryError for a malformed query or request)."""
        t0 = time.perf_counter()
        request.validate()
        tree = parse_query(request.q)
        result = self._run(lambda snap: _search(snap, request, tree))
        return replace(result, took_ms=(time.perf_counter() - t0) * 1000)

    def facet_values(self, facet: str, prefix: str = "", limit: int = 20,
                     request: Optional[SearchRequest] = None) -> list[FacetBucket]:
        """Values of one facet whose value or label (any word of it) starts with `prefix`, most frequent first.

        Counts are articles over the whole index, or over `request`'s result set (with multi-select) when given,
        counting stories or articles as the request says."""
        names = [f.name for f in declared()]
        if facet not in names:
            raise QueryError(f"unknown facet {facet!r}; valid facets: {', '.join(names)}")
        if not 1 <= limit <= 1000:
            raise QueryError(f"limit must be between 1 and 1000, not {limit!r}")
        tree = parse_query(request.q) if request is not None else None
        return self._run(lambda snap: facet_values(snap, named(facet), prefix, limit, request, tree))

    # -- articles ----------------------------------------------------------------------------------------

    def article(self, article_id: str, with_story: bool = True) -> Optional[ArticleView]:
        """One article by id, or None; with its story's other live versions, earliest first (with_story=False:
        without them, cheaper for a long story's members)."""
        return self._run(lambda snap: article_view(snap, article_id, with_story))

    def more_like_this(self, article_id: str, n: int = 10) -> list[Hit]:
        """Articles sharing the most distinctive words of one article (not itself or its duplicates)."""
        return self._run(lambda snap: more_like_this(snap, article_id, n))

    # -- stats and explain -------------------------------------------------------------------------------

    def stats(self) -> dict:
        """Counts for `newsdex stats`: articles, stories (near-duplicate clusters; duplicates = articles - stories),
        per language/source, dates, people, countries, index version."""
        return self._run(stats)

    def explain_hits(self, request: SearchRequest, ids: tuple[str, ...] = ()) -> dict:
        """Elasticsearch's explain: for the articles `ids` (default: the request's page of hits), what each query
        word contributed to the score. Raises QueryError for a malformed query or an unknown id."""
        request.validate()
        tree = parse_query(request.q)
        if tree is None:
            raise QueryError("explain needs a query (q): an empty query is sorted by date, not scored")

        def run(snap: Snapshot) -> dict:
            masks_for(snap, request, tree)   # a query with nothing to search is refused before the hits are listed
            return explain_hits(snap, request, tree, ids or [h.id for h in _search(snap, request, tree).hits])
        return self._run(run)

    def explain(self, q: str) -> str:
        """The parsed form of a query and what it searches, field by field (raises QueryError)."""
        tree = parse_query(q)
        return self._run(lambda snap: explain_query(snap, q, tree))

    # -- entity pages, exports, version (search/entities.py, search/export.py) ----------------------------

    def entity(self, kind: str, key: str, request: SearchRequest, rank: str = "score",
               limit: int = entities.MAX_WITH, latest: int = 10) -> EntityPage:
        """A person's or country's page over the request's result set: `articles` is what a search with the
        request and this filter counts (the same masks). Raises UnknownEntity (404, with suggestions), QueryError."""
        request.validate()
        entities.check(kind, rank)
        tree = parse_query(request.q)

        def run(snap: Snapshot) -> EntityPage:
            value = entities.resolve(snap, kind, key)
            base = masks_for(snap, request, tree).final
            page, fg = entities.page(snap, kind, value, base, request, rank, limit)
            return replace(page, latest=latest_hits(snap, fg, request, latest))
        return self._run(run)

    def export(self, request: SearchRequest, limit: int = MAX_EXPORT_ROWS) -> Export:
        """Every article the request matches (one row per article, newest first or oldest first with
        sort=oldest, at most `limit`), streamed from one index version: close() the Export (or use `with`)."""
        request.validate()
        if not isinstance(limit, int) or not 1 <= limit <= MAX_EXPORT_ROWS:
            raise QueryError(f"limit must be between 1 and {MAX_EXPORT_ROWS}, not {limit!r}")
        tree = parse_query(request.q)
        held = ExitStack()
        snap = held.enter_context(self._use())
        try:
            final = masks_for(snap, request, tree).final
        except BaseException:
            held.close()
            raise
        return Export(snap, final, request.sort, limit, held.close)

    def version(self) -> IndexVersion:
        """The live index version on disk and when it became live (cheap: a file read and two stats)."""
        generation, commit = index_version(self.root)
        modified = version_time(self.root)
        return IndexVersion(generation, commit,
                            datetime.fromtimestamp(modified, timezone.utc) if modified is not None else None)


WARM_TERMS = 2_000   # posting lists of the previous version read again before a new version serves


def _warm(snap: Snapshot) -> None:
    """What a swapped-in snapshot builds before requests see it: the facet arrays, the stories, the norms, the
    months and years of the date histogram."""
    for facet in declared():
        snap.facet(facet.name)
    snap.stories()
    for field in (S.TITLE, S.BODY):   # every ranked search reads these
        snap.norms(field)
    snap.title_weights()
    snap.calendar_index("month")   # the date histogram's
    snap.calendar_index("year")
    snap.warm_kept_terms(WARM_TERMS)   # the words searched last: a swap does not make them cold again
    snap.release_prior()   # (what the previous version left to extend is used up)


def _search(snap: Snapshot, request: SearchRequest, tree) -> SearchResult:
    """One search on one snapshot: the masks, the page of hits, the facets, did-you-mean."""
    plan = Plan()
    masks = masks_for(snap, request, tree, plan)
    final = masks.final
    stories = snap.stories()
    final_docs = np.flatnonzero(final)   # (found once: the ranking and the facets count over them too)
    articles = len(final_docs)
    n_stories = stories.distinct(final_docs)
    total = articles if request.all_articles else n_stories
    positive = masks.match is not None and masks.match.score is not None and has_positive(tree)
    sort = request.sort if (request.sort != "relevance" or positive) else "newest"
    score = masks.match.score if positive else None
    tier = None
    if score is not None and sort == "relevance" and masks.plain is not None:
        score, _ = rerank(snap, Evaluator(snap), masks.plain[1], score, final)
        tier = every_word(masks)
    if request.all_articles or n_stories == articles:   # no two matching articles share a story
        docs, scores = rank(snap, final, score, sort, request, tier, final_docs)
    else:
        docs, scores = rank_stories(snap, stories, final, score, sort, request, tier)
    hl = Highlight(plan.highlight, plan.highlight_stems)
    first = (request.page - 1) * request.per_page + 1
    hits = tuple(hit(snap, d, s, hl, request.snippets, rank, stories, not request.all_articles, missing(masks, d))
                 for rank, (d, s) in enumerate(zip(docs, scores), first))
    counted = count_facets(snap, request, masks, final_docs) if request.facets else None
    return SearchResult(request=request, total=total, hits=hits, facets=counted.facets if counted else {},
                        date_interval=counted.interval if counted else "month",
                        failed_facets=counted.failed if counted else (),
                        did_you_mean=did_you_mean(snap, request.q, tree, articles), query_explain=to_text(tree),
                        articles=articles, stories=n_stories, matching=masks.plain[0] if masks.plain else None)


def search(request: SearchRequest, index_root: str | os.PathLike) -> SearchResult:
    """Run one search with a throwaway Searcher (reuse a Searcher when answering many)."""
    searcher = Searcher(index_root)
    try:
        return searcher.search(request)
    finally:
        searcher.close()
