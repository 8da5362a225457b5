"""More like this: the articles sharing the most distinctive words of one article (not itself or its copies)."""
from __future__ import annotations

import numpy as np

from index import schema as S
from search.evaluate import Evaluator, universal_tokens
from search.hits import hit
from search.model import Hit
from search.snapshot import Snapshot
from search.snippets import Highlight


def more_like_this(snap: Snapshot, article_id: str, n: int = 10) -> list[Hit]:
    """Articles sharing the most distinctive words of one article (not itself or its duplicates)."""
    d = snap.docnum_of(article_id)
    if d is None:
        return []
    art = snap.stored_article(d)
    terms = _key_terms(snap, f"{art.title}\n{art.body}")
    if not terms:
        return []
    ev = Evaluator(snap)
    score = np.zeros(snap.n_all, dtype=np.float32)
    for t in terms:
        for f in (S.TITLE, S.BODY):
            score += ev.term(f, t).score
    score[~snap.live] = 0
    score[d] = 0
    stories = snap.stories()
    score[stories.members_of(int(stories.ord[d]))] = 0
    cand = np.flatnonzero(score > 0)
    hl = Highlight(set(terms))
    hits, seen = [], {(art.title, art.body[:300])}
    for o in cand[np.lexsort((cand, -score[cand]))][:n * 5 + 20]:
        other = snap.stored_article(int(o))
        if (other.title, other.body[:300]) in seen:   # an unmarked copy of the same text
            continue
        seen.add((other.title, other.body[:300]))
        hits.append(hit(snap, int(o), float(score[o]), hl, True, len(hits) + 1, snap.stories()))
        if len(hits) == n:
            break
    return hits


def _key_terms(snap: Snapshot, text: str, count: int = 12) -> list[str]:
    """The words of a text with the highest tf-idf (ignoring very common and one-off words)."""
    tf: dict[str, int] = {}
    for t in universal_tokens(text[:20000]):
        if len(t) >= 3 and not t.isdigit():
            tf[t] = tf.get(t, 0) + 1
    n = max(snap.n_docs, 1)
    scored = []
    for t, c in tf.items():
        df = snap.doc_frequency(S.BODY, t)
        if df < 2 or df > n * 0.2:
            continue
        scored.append((c * (np.log(n / df)), t))
    scored.sort(reverse=True)
    return [t for _, t in scored[:count]]
