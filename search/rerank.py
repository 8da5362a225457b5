"""The second pass of a plain-words query: RM3 feedback (search.ranking says why and how).

It changes the order inside the result set, never the set: totals, facets and pages stay what the matching rule
gave. The feedback documents' words come from their stored text (the analyser's terms), read once per request.
"""
from __future__ import annotations

import numpy as np

from index import schema as S
from index.analysis import term_list
from search import ranking
from search.evaluate import Evaluator, universal_tokens
from search.snapshot import Snapshot


def _token(word: str) -> str:
    """The index term a query word stands for in the feedback model (its first, for a CJK run of bigrams)."""
    return (universal_tokens(word) or ("",))[0]


def _terms(snap: Snapshot, doc: int) -> list[str]:
    """The analysed terms of a document's stored title (unless derived: the body holds it) and body."""
    stored = snap.stored(doc)
    title = stored.get(S.TITLE, "") if snap.title_weights()[doc] else ""
    return term_list(f"{title}\n{stored.get(S.BODY, '')}"[:ranking.FEEDBACK_CHARS])


def _top(score: np.ndarray, mask: np.ndarray, k: int) -> np.ndarray:
    """The k best-scored documents of mask, best first (ties: lower doc number)."""
    cand = np.flatnonzero(mask)
    if len(cand) > k:
        cand = cand[np.argpartition(-score[cand], k - 1)[:k]]
    return cand[np.lexsort((cand, -score[cand]))]


def rerank(snap: Snapshot, ev: Evaluator, found: list, score: np.ndarray,
           final: np.ndarray) -> tuple[np.ndarray, dict]:
    """RM3: a plain-words query of FEEDBACK_MIN_WORDS or more, re-weighted and expanded from its best
    FEEDBACK_DOCS documents, scored again over its result set: (new scores, {word or expansion term: weight});
    (`score` itself, {}) when skipped."""
    query = [_token(word) for word, m in found for _ in range(m.qtf)]
    if len(query) < ranking.FEEDBACK_MIN_WORDS or np.count_nonzero(final) <= ranking.FEEDBACK_DOCS:
        return score, {}   # (a set this small would only re-weight itself)
    fb = _top(score, final, ranking.FEEDBACK_DOCS)
    weights = ranking.feedback_weights([_terms(snap, int(d)) for d in fb], [float(score[d]) for d in fb], query,
                                       lambda t: max(snap.doc_frequency(S.BODY, t), snap.doc_frequency(S.TITLE, t)),
                                       snap.n_docs)
    out = np.zeros_like(score)
    shown = {}
    for word, m in found:
        shown[word] = weights.pop(_token(word), 0.0)   # repeats are in the weight
        out += m.score * shown[word]
    fields = ev.text_fields(None)
    for term, w in weights.items():
        m = ev.concept(term, fields)
        if m is not None:
            out += m.score * w
            shown[term] = w
    out[~final] = 0
    return out, shown
