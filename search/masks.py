"""A request's document sets: the query's match, the filters, and the sets the multi-select facets count over."""
from __future__ import annotations

from typing import Optional

import numpy as np

from index import schema as S
from search.evaluate import Evaluator, Plan
from search.model import QueryError, SearchRequest, shown
from search.query import plain_words
from search.snapshot import Snapshot


class Masks:
    """The request's document sets: the result set, and the sets the multi-select facets count over."""

    def __init__(self, final, base, lang, source, match, plain=None):
        self.final = final      # query & all filters
        self.base = base        # query & people & countries & date
        self.lang = lang        # language selection (None: no selection)
        self.source = source    # source selection (None: no selection)
        self.match = match      # the query's Match (None: empty query)
        self.plain = plain      # a plain-words query: (Relaxation, [(word, Match)]); None otherwise


def masks_for(snap: Snapshot, request: SearchRequest, tree, plan: Optional[Plan] = None) -> Masks:
    """The request's Masks (raises QueryError for a query with nothing to search)."""
    ev = Evaluator(snap, plan if plan is not None else Plan())
    words, plain = plain_words(request.q), None
    if words:
        match, info, found = ev.plain(words)
        plain = (info, found)
    else:
        match = ev.evaluate(tree) if tree is not None else None
    if tree is not None and match is None:
        raise QueryError(f"the query {shown(request.q)} has no searchable words (only punctuation or symbols)")
    base = snap.live.copy() if match is None else (match.mask & snap.live)
    for name in request.people:
        base &= ev.term(S.PERSON, S.person_key(name), scored=False).mask
    for code in request.countries:
        base &= ev.term(S.COUNTRY, code.strip().upper(), scored=False).mask
    if request.date_from or request.date_to:
        base &= ev.date_mask(request.date_from, request.date_to)
    lang = _any_of(ev, S.LANG, [v.strip().lower() for v in request.languages])
    source = _any_of(ev, S.SOURCE, [source_value(snap, v) for v in request.sources])
    final = base
    if lang is not None:
        final = final & lang
    if source is not None:
        final = final & source
    return Masks(final, base, lang, source, match, plain)


def counted_over(masks: Masks, facet: str) -> np.ndarray:
    """The documents a facet counts over. Multi-select: language and source count over the result set with every
    filter applied but their own; the other facets count over the result set itself."""
    if facet == "language":
        return masks.base if masks.source is None else masks.base & masks.source
    if facet == "source":
        return masks.base if masks.lang is None else masks.base & masks.lang
    return masks.final


def _any_of(ev: Evaluator, field: str, values: list[str]):
    if not values:
        return None
    mask = ev.empty().mask
    for v in values:
        mask |= ev.term(field, v, scored=False).mask
    return mask


def source_value(snap: Snapshot, value: str) -> str:
    """The source as indexed: exact, else the one source equal ignoring case and spacing."""
    ff = snap.facet("source")
    if value in ff.ords:
        return value
    key = " ".join(value.casefold().split())
    for v in ff.values:
        if " ".join(v.casefold().split()) == key:
            return v
    return value


def every_word(masks: Masks) -> Optional[np.ndarray]:
    """A relaxed query's articles holding every word (ranked before the others), else None."""
    if masks.plain is None or not masks.plain[0].relaxed:
        return None
    found = masks.plain[1]
    every = found[0][1].mask.copy()
    for _, m in found[1:]:
        every &= m.mask
    return every


def missing(masks: Masks, docnum: int) -> tuple[str, ...]:
    """The words of a relaxed plain-words query that an article lacks (Google's "Missing: ...")."""
    if masks.plain is None or not masks.plain[0].relaxed:
        return ()
    return tuple(word for word, m in masks.plain[1] if not m.mask[docnum])
