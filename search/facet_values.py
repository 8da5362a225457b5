"""Facet value search: the values of one facet whose value or label starts with a prefix (the type-ahead)."""
from __future__ import annotations

from bisect import bisect_left
from typing import Optional

from index import schema as S
from search.facets import country_label, language_label
from search.masks import counted_over, masks_for
from search.model import FacetBucket, SearchRequest
from search.snapshot import Snapshot

FACET_VALUE_FACETS = ("people", "countries", "language", "source")


def facet_values(snap: Snapshot, facet: str, prefix: str, limit: int, request: Optional[SearchRequest],
                 tree) -> list[FacetBucket]:
    """Values of `facet` whose value or label (any word of it) starts with `prefix`, most frequent first: articles
    over the whole index, or over `request`'s result set (with multi-select) when given."""
    ff = snap.facet(facet)
    if request is None:
        counts = ff.totals
    else:
        masks = masks_for(snap, request, tree)
        counts = ff.count(counted_over(masks, facet), snap.stories() if request.count_stories else None)
    label = {"people": snap.person_name, "countries": country_label, "language": language_label,
             "source": lambda v: v}[facet]
    ords = _prefix_ords(ff, facet, prefix, label)
    ords = [i for i in ords if counts[i] > 0]
    ords.sort(key=lambda i: (-int(counts[i]), ff.values[i]))
    value_of = snap.person_name if facet == "people" else (lambda v: v)
    return [FacetBucket(value_of(ff.values[i]), label(ff.values[i]), int(counts[i])) for i in ords[:limit]]


def _prefix_ords(ff, facet: str, prefix: str, label) -> list[int]:
    key = " ".join((S.person_key(prefix) if facet == "people" else prefix.casefold()).split())
    if not key:
        return list(range(len(ff.values)))
    if facet == "people":   # any word of the name (surname too), or the whole name, starts with the prefix
        words, ords = ff.words()
        found = set()
        i = bisect_left(words, key.split()[0])
        while i < len(words) and words[i].startswith(key.split()[0]):
            found.add(ords[i])
            i += 1
        return [o for o in found if key in ff.values[o] or " " not in key]
    out = []
    for i, v in enumerate(ff.values):
        texts = [v.casefold()] + label(v).casefold().split() + [label(v).casefold()]
        if any(t.startswith(key) for t in texts):
            out.append(i)
    return out
