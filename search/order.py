"""Which documents a page of results lists, in which order: sort keys, the page cut, one hit per story."""
from __future__ import annotations

import numpy as np

from search.model import SearchRequest
from search.snapshot import Snapshot, Stories

RECENCY_HALF_LIFE_DAYS = 30   # recency=True: an article this much older than the newest counts 1.5x, not 2x


def sort_key(snap: Snapshot, cand: np.ndarray, score, sort: str, request: SearchRequest, tier=None) -> np.ndarray:
    """The ranking key of each candidate (higher first; ties: newer first, then lower doc number); with `tier`
    (relevance only), the candidates in it before all others."""
    ts = snap.ts[cand]
    if sort == "relevance":
        key = score[cand].astype(np.float64)
        if request.recency:
            newest = int(snap.day[snap.dated & snap.live].max()) if snap.dated.any() else 0
            age = np.where(snap.dated[cand], newest - snap.day[cand], 10 ** 6)
            key = key * (1.0 + 0.5 ** (np.maximum(age, 0) / RECENCY_HALF_LIFE_DAYS))
    elif sort == "newest":
        key = ts.astype(np.float64)
    else:
        key = np.where(snap.dated[cand], -ts.astype(np.float64), -np.inf)
    if tier is not None and sort == "relevance" and len(key):
        key = key + np.where(tier[cand], key.max() - key.min() + 1.0, 0.0)
    return key


def rank_stories(snap: Snapshot, stories: Stories, final: np.ndarray, score, sort: str, request: SearchRequest,
                 tier=None):
    """(doc numbers, scores) of the requested page with one hit per story.

    Sorted by relevance, a story is shown by its best-ranked matching article, at that article's rank (the
    same order as with every article listed, keeping each story's first occurrence). Sorted by date, a story
    is shown by its earliest matching article (the original, not the latest copy; undated ones only when none
    is dated) and placed by that article's date. Only articles of stories with copies are sorted to pick the
    representatives; the page is then ranked like any other."""
    cand = np.flatnonzero(final)
    if not len(cand):
        return [], []
    shared = cand[stories.size[stories.ord[cand]] > 1]   # only copies compete: a story of one is its own hit
    ords = stories.ord[shared]
    if sort == "relevance":
        key = sort_key(snap, shared, score, sort, request, tier)
        best = np.lexsort((shared, -snap.ts[shared], -key, ords))   # same tie-breaks as rank
    else:
        best = np.lexsort((shared, np.where(snap.dated[shared], snap.ts[shared], 2 ** 62), ords))
    _, first = np.unique(ords[best], return_index=True)
    reps = final.copy()
    reps[shared] = False
    reps[shared[best[first]]] = True
    return rank(snap, reps, score, sort, request, tier)


def rank(snap: Snapshot, final: np.ndarray, score, sort: str, request: SearchRequest, tier=None,
         cand: np.ndarray | None = None):
    """(doc numbers, scores) of the requested page (the scores without the tier's lift); `cand`:
    np.flatnonzero(final) when the caller has it."""
    cand = np.flatnonzero(final) if cand is None else cand
    start = (request.page - 1) * request.per_page
    k = min(start + request.per_page, len(cand))
    if start >= len(cand):
        return [], []
    ts = snap.ts[cand]
    key = sort_key(snap, cand, score, sort, request, tier)
    if k < len(cand):
        top = np.argpartition(-key, k - 1)[:k]
        # widen to every candidate tied with the cut-off so ties are broken the same way on every page
        cut = key[top].min()
        top = np.flatnonzero(key >= cut)
    else:
        top = np.arange(len(cand))
    order = top[np.lexsort((cand[top], -ts[top], -key[top]))][start:k]
    docs = cand[order].tolist()
    scores = (sort_key(snap, cand[order], score, sort, request).tolist() if sort == "relevance"
              else [None] * len(docs))
    return docs, scores


def page_of(snap: Snapshot, mask: np.ndarray, score, sort: str, request: SearchRequest, tier=None):
    """(doc numbers, scores) of the requested page: one hit per story unless request.all_articles."""
    if request.all_articles:
        return rank(snap, mask, score, sort, request, tier)
    return rank_stories(snap, snap.stories(), mask, score, sort, request, tier)
