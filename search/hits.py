"""Results as pages show them: the Hit of a document (snippet, marked title, its story), a story's versions, an
article with its story."""
from __future__ import annotations

from dataclasses import replace
from typing import Optional

import numpy as np

from index import schema as S
from search.model import MAX_ALSO, MAX_VERSIONS, ArticleView, Hit, SearchRequest
from search.order import page_of
from search.snapshot import Snapshot
from search.snippets import Highlight, find_marks, lead, render, snippet


def hit(snap: Snapshot, docnum: int, score, hl: Highlight, with_snippet: bool, rank: int, stories=None,
        with_also: bool = False, missing: tuple = ()) -> Hit:
    """The Hit of document `docnum` at 1-based `rank`; with `stories`, its story's size, outlets and (with_also)
    up to MAX_ALSO other versions."""
    art = snap.stored_article(docnum)
    story_id, size, outlets, also = art.story_id or art.id, 1, 0, ()
    if stories is not None:
        o = int(stories.ord[docnum])
        story_id = stories.story_id(o, lambda _doc: art.id)
        members = stories.members_of(o)
        size = len(members)
        others = members[members != docnum]
        if len(others):
            outlets = len(snap.facet("source").values_of(others))
            if with_also:
                also = tuple(version(snap, int(o2)) for o2 in others[:MAX_ALSO])
    if with_snippet:
        text, _ = snippet(art.body, art.language, hl)
    else:
        text = lead(art.body)
    title_html = render(art.title, find_marks(art.title, art.language, hl))
    return Hit(id=art.id, title=art.title, snippet=text,
               published=art.published.isoformat() if art.published else None, source=art.source,
               language=art.language, people=tuple(p.name for p in art.people),
               countries=tuple(c.code for c in art.countries if c.about), score=score, url=art.url,
               title_html=title_html, title_derived=art.title_derived, via=art.via, rank=rank,
               story_id=story_id, story_size=size, story_outlets=outlets, also=also, missing=missing)


def version(snap: Snapshot, docnum: int) -> dict:
    """One version of a story, as a collapsed hit and the article page list it."""
    art = S.article_from_stored(snap.stored(docnum))
    return {"id": art.id, "source": art.source, "title": art.title,
            "published": art.published.isoformat() if art.published else None}


def article_view(snap: Snapshot, article_id: str, with_story: bool = True) -> Optional[ArticleView]:
    """One article by id, or None; with its story's other live versions, earliest first (with_story=False:
    without them, cheaper for a long story's members)."""
    d = snap.docnum_of(article_id)
    if d is None:
        return None
    art = snap.stored_article(d)
    stories = snap.stories()
    o = int(stories.ord[d])
    story_id = stories.story_id(o, lambda _doc: art.id)
    if not with_story:
        return ArticleView(art, (), story_id, ())
    members = stories.members_of(o)
    versions = tuple(version(snap, int(m)) for m in members[members != d][:MAX_VERSIONS])
    return ArticleView(art, tuple(v["id"] for v in versions), story_id, versions, len(members))


def latest(snap: Snapshot, mask: np.ndarray, request: SearchRequest, n: int) -> tuple[Hit, ...]:
    """The newest n hits of `mask` (one per story unless request.all_articles), as a search lists them."""
    if n <= 0:
        return ()
    docs, _ = page_of(snap, mask, None, "newest", replace(request, page=1, per_page=n))
    hl = Highlight(set())
    return tuple(hit(snap, d, None, hl, False, rank, snap.stories(), not request.all_articles)
                 for rank, d in enumerate(docs, 1))
