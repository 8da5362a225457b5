"""Facet value search: the values of one facet whose value or label starts with a prefix (the type-ahead)."""
from __future__ import annotations

from bisect import bisect_left
from typing import Optional

from index import schema as S
from index.facets import Facet
from search.facets import bucket_value, labeller
from search.masks import counted_over, masks_for
from search.model import FacetBucket, SearchRequest
from search.snapshot import Snapshot

def facet_values(snap: Snapshot, facet: Facet, prefix: str, limit: int, request: Optional[SearchRequest],
                 tree) -> list[FacetBucket]:
    """Values of `facet` whose value or label (any word of it) starts with `prefix`, most frequent first: articles
    over the whole index, or over `request`'s result set (with multi-select) when given."""
    ff = snap.facet(facet.name)
    if request is None:
        counts = ff.totals
    else:
        masks = masks_for(snap, request, tree)
        counts = ff.count(counted_over(masks, facet), snap.stories() if request.count_stories else None)
    label = labeller(snap, facet)
    ords = _prefix_ords(ff, facet, prefix, label)
    ords = [i for i in ords if counts[i] > 0]
    ords.sort(key=lambda i: (-int(counts[i]), ff.values[i]))
    value_of = bucket_value(snap, facet)
    return [FacetBucket(value_of(ff.values[i]), label(ff.values[i]), int(counts[i])) for i in ords[:limit]]


def _prefix_ords(ff, facet: Facet, prefix: str, label) -> list[int]:
    by_name = facet.match == "name_key"   # values are keys of names: any word of the name may start the prefix
    key = " ".join((S.person_key(prefix) if by_name else prefix.casefold()).split())
    if not key:
        return list(range(len(ff.values)))
    if by_name:   # any word of the name (surname too), or the whole name, starts with the prefix
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
