"""What the index holds: `newsdex stats`, the about page and `/api/stats`."""
from __future__ import annotations

import numpy as np

from index import schema as S
from search.snapshot import Snapshot


def stats(snap: Snapshot) -> dict:
    """Counts for `newsdex stats`: articles, stories (near-duplicate clusters; duplicates = articles - stories),
    per language/source, dates, people, countries, index version."""
    live_dated = snap.dated & snap.live
    days = snap.day[live_dated]
    lang, source = snap.facet("language"), snap.facet("source")
    return {
        "articles": snap.n_docs,
        "stories": snap.stories().count,
        "duplicates": snap.n_docs - snap.stories().count,
        "deleted_pending_merge": snap.n_all - snap.n_docs,
        "languages": {v: int(c) for v, c in sorted(zip(lang.values, lang.totals), key=lambda x: (-x[1], x[0]))},
        "sources": {v: int(c) for v, c in sorted(zip(source.values, source.totals), key=lambda x: (-x[1], x[0]))},
        "people": int(np.count_nonzero(snap.facet("people").totals)),
        "countries": int(np.count_nonzero(snap.facet("countries").totals)),
        "first_published": S.day_to_date(int(days.min())).isoformat() if len(days) else None,
        "last_published": S.day_to_date(int(days.max())).isoformat() if len(days) else None,
        "undated": int(np.count_nonzero(snap.live & ~snap.dated)),
        "segments": snap.segment_count,
        "generation": snap.version[0],
        "commit": snap.version[1],
    }
