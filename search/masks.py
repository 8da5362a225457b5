"""A request's document sets: the query's match, the filters, and the sets the multi-select facets count over."""
from __future__ import annotations

from typing import Optional

import numpy as np

from index import schema as S
from index.facets import Facet, declared
from search.evaluate import Evaluator, Plan
from search.model import QueryError, SearchRequest, shown
from search.query import plain_words
from search.snapshot import Snapshot


class Masks:
    """The request's document sets: the result set, and the sets the multi-select facets count over."""

    def __init__(self, final, base, chosen, match, plain=None):
        self.final = final      # query & all filters
        self.base = base        # query & the "all" facets' selections & date
        self.chosen = chosen    # {facet name: its selection's documents} of each "any" facet with a selection
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
    chosen = {}
    for facet in declared():
        values = [stored_value(snap, facet, v) for v in request.selected(facet.name)]
        if not values:
            continue
        if facet.combine == "all":
            for v in values:
                base &= ev.term(facet.field, v, scored=False).mask
        else:
            mask = ev.empty().mask
            for v in values:
                mask |= ev.term(facet.field, v, scored=False).mask
            chosen[facet.name] = mask
    if request.date_from or request.date_to:
        base &= ev.date_mask(request.date_from, request.date_to)
    final = base
    for mask in chosen.values():
        final = final & mask
    return Masks(final, base, chosen, match, plain)


def counted_over(masks: Masks, facet: Facet) -> np.ndarray:
    """The documents a facet counts over. Multi-select: an "any" facet (language, source) counts over the result
    set with every filter applied but its own (how many each other value would add); the others count over the
    result set itself (their selections AND together: a value's count is what clicking it finds)."""
    if facet.combine != "any":
        return masks.final
    mask = masks.base
    for name, chosen in masks.chosen.items():
        if name != facet.name:
            mask = mask & chosen
    return mask


def stored_value(snap: Snapshot, facet: Facet, value: str) -> str:
    """A selected value as the facet's field stores it (its declaration's `match`)."""
    if facet.match == "upper":
        return value.strip().upper()
    if facet.match == "lower":
        return value.strip().lower()
    if facet.match == "name_key":
        return S.person_key(value)
    if facet.match == "loose":   # exact, else the one value equal ignoring case and spacing
        ff = snap.facet(facet.name)
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
