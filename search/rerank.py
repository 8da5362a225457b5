"""The second pass of a plain-words query: RM3 feedback, then term proximity (search.ranking says why and how).

Both change the order inside the result set, never the set: totals, facets and pages stay what the matching rule
gave. The words' positions come from the stored text of the candidates (the analyser's terms, in order), read once
per request.
"""
from __future__ import annotations

import numpy as np

from index import schema as S
from index.analysis import term_list
from search import ranking
from search.evaluate import Evaluator, universal_tokens
from search.snapshot import Snapshot

USE_FEEDBACK = True
USE_PROXIMITY = True


class _Texts:
    """The analysed terms of candidate documents, read from their stored title and body once per request."""

    def __init__(self, snap: Snapshot):
        self.snap = snap
        self._terms: dict[int, list[str]] = {}

    def __call__(self, doc: int) -> list[str]:
        terms = self._terms.get(doc)
        if terms is None:
            stored = self.snap.stored(doc)
            title = stored.get(S.TITLE, "") if self.snap.title_weights()[doc] else ""   # a derived one: in the body
            text = f"{title}\n{stored.get(S.BODY, '')}"[:ranking.FEEDBACK_CHARS]
            terms = self._terms[doc] = term_list(text)
        return terms


def _top(score: np.ndarray, mask: np.ndarray, k: int) -> np.ndarray:
    """The k best-scored documents of mask, best first (ties: lower doc number)."""
    cand = np.flatnonzero(mask)
    if len(cand) > k:
        cand = cand[np.argpartition(-score[cand], k - 1)[:k]]
    return cand[np.lexsort((cand, -score[cand]))]


def rerank(snap: Snapshot, ev: Evaluator, found: list, score: np.ndarray, final: np.ndarray) -> np.ndarray:
    """Scores of a plain-words query's result set after feedback and proximity (a new array)."""
    if not np.any(final):
        return score
    texts = _Texts(snap)
    tokens = [(universal_tokens(word) or ("",))[0] for word, _ in found]
    scale = 1.0
    if USE_FEEDBACK:
        score, scale = _feedback(snap, ev, found, tokens, score, final, texts)
    if USE_PROXIMITY and len(found) > 1:
        score = _proximity(found, tokens, score, final, texts, scale)
    return score


def _feedback(snap: Snapshot, ev: Evaluator, found, tokens, score, final, texts) -> tuple[np.ndarray, float]:
    """RM3: the query re-weighted and expanded from its best FEEDBACK_DOCS documents, scored over the set; and
    the weight a query word had in the mixture (proximity is added in those units)."""
    if np.count_nonzero(final) <= ranking.FEEDBACK_DOCS:   # the feedback would be the whole set re-weighting itself
        return score, 1.0
    fb = _top(score, final, ranking.FEEDBACK_DOCS)
    weights = ranking.feedback_weights([texts(int(d)) for d in fb], [float(score[d]) for d in fb], tokens,
                                       lambda t: max(snap.doc_frequency(S.BODY, t), snap.doc_frequency(S.TITLE, t)),
                                       snap.n_docs)
    out = np.zeros_like(score)
    for token, (_, m) in zip(tokens, found):
        out += m.score * weights.pop(token, 0.0)
    fields = ev.text_fields(None)
    for term, w in weights.items():
        m = ev.concept(term, fields)
        if m is not None:
            out += m.score * w
    out[~final] = 0
    return out, ranking.ORIGINAL_WEIGHT / len(tokens)


def _proximity(found, tokens, score, final, texts, scale: float) -> np.ndarray:
    """BM25TP: the best RERANK_DOCS documents gain for query words standing close together."""
    query_idf = {t: m.idf for t, (_, m) in zip(tokens, found) if t}
    if len(query_idf) < 2:
        return score
    out = score.copy()
    for d in _top(score, final, ranking.RERANK_DOCS):
        out[d] += scale * ranking.proximity(texts(int(d)), query_idf)
    return out

