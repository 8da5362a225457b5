"""Relevance: the BM25 formula, the rule that relaxes a plain-words query, and RM3's query weights.

BM25F per query word ("one word counts once"): a word's occurrences in the title (boosted, unless the headline
was derived from the body's first sentence, whose words the body already holds), in the body, and as another form
of the word in the stemmed field are added into one pseudo-frequency, each divided by its field's length norm, and
saturated once: `idf * pf * (k1 + 1) / (pf + k1)` (Robertson & Zaragoza 2009, "The Probabilistic Relevance
Framework: BM25 and Beyond", section 3.2). The idf is Lucene's `ln(1 + (N - df + 0.5) / (df + 0.5))`, which falls
towards zero for words most articles hold, so the "what did the" of a question weigh next to nothing.

A plain-words query (no operator, quote, field or wildcard) requires every word while at least ENOUGH articles
hold them all; when fewer do, it is relaxed to the articles that hold words carrying at least a share of the
query's weight (the sum of its words' idf), lowering the share step by step until RELAXED_ENOUGH articles qualify,
and at last to any word that is not common (the searcher ranks the articles holding every word first). The rule
is decided from the query text over the whole index, before any filter, so a facet bucket's count is what
clicking it returns.

A second pass reorders the result set of a plain-words query of three words or more, never changes the set: RM3
pseudo-relevance feedback (Lavrenko & Croft 2001; the parameters are Anserini's defaults: 10 documents, 10 terms,
original query weight 0.5). Keyword queries of one or two words keep their own words' ranking: predictable, and
feedback would cost them half their time.

Term proximity (BM25TP, Rasolofo & Savoy 2003) was tried and left out: it changed MAP by -0.0006 and -0.0003 on
the two judged collections (bench/relevance.py) while reading 100 stored texts per query.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field as dc_field

import numpy as np

K1, B = 1.2, 0.75
VARIANT_WEIGHT = 1.0          # an occurrence of another form of the word (plural, verb form) in the stemmed field
ENOUGH = 10                   # a plain-words query is strict while at least this many articles hold every word
RELAX_SHARES = (0.75, 0.5, 0.25)   # shares of the query's weight tried in turn when too few hold every word ...
RELAXED_ENOUGH = 100               # ... until this many articles qualify (ten pages: recall is the point)
COMMON_IDF = math.log(2.0)    # the idf of a word held by half the articles
FEEDBACK_MIN_WORDS = 3       # keyword queries of one or two words are ranked by their own words alone
FEEDBACK_DOCS = 10
FEEDBACK_TERMS = 10
ORIGINAL_WEIGHT = 0.5
FEEDBACK_MAX_DF = 0.1         # words held by more than this share of the articles are never expansion terms
FEEDBACK_CHARS = 20_000       # text read of each feedback document


def idf(n_docs: int, df: int) -> float:
    """Lucene's BM25 idf: ln(1 + (N - df + 0.5) / (df + 0.5)), never negative."""
    return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


def saturate(pf: np.ndarray, weight: float) -> np.ndarray:
    """BM25's term-frequency saturation of (already length-normalised) pseudo-frequencies, times `weight`."""
    return (weight * (K1 + 1)) * pf / (pf + K1)


def length_norm(lengths: np.ndarray, avg: float) -> np.ndarray:
    """BM25's per-document length normalisation: (1 - b) + b * length / average length."""
    return ((1 - B) + B * lengths / (avg or 1.0)).astype(np.float32)


@dataclass
class Relaxation:
    """How a plain-words query matched: every word, or words carrying at least `share` of its weight."""

    relaxed: bool = False
    share: float = 1.0
    words: tuple = ()          # the words searched, in query order
    optional: tuple = ()       # relaxed: the words an article may lack (all of them, each weighted by its idf)
    dropped: tuple = ()        # words left out: no searchable characters, or beyond MAX_PLAIN_WORDS
    weights: dict = dc_field(default_factory=dict)   # word -> share of the query's weight

    def to_json(self) -> dict:
        return {"relaxed": self.relaxed, "min_share": round(self.share, 2), "words": list(self.words),
                "optional": list(self.optional), "dropped": list(self.dropped),
                "weights": {w: round(v, 3) for w, v in self.weights.items()}}


def relax(masks: list[np.ndarray], weights: list[float], live: np.ndarray) -> tuple[np.ndarray, float]:
    """(result mask, share of the weight required): every word while ENOUGH live articles hold them all, else
    the highest share of RELAX_SHARES that RELAXED_ENOUGH reach, else any word that is not common.

    `weights` are the words' idf (0 for a word no article holds: it cannot be matched), and a common
    word (held by half the articles or more, idf <= ln 2) never makes an article a match on its own, as in
    Lucene's common-terms query: "the" of a question only scores."""
    every = masks[0].copy()
    for m in masks[1:]:
        every &= m
    if len(masks) == 1 or np.count_nonzero(every & live) >= ENOUGH:
        return every, 1.0
    total = sum(weights) or 1.0
    covered = np.zeros(len(live), dtype=np.float32)
    for m, w in zip(masks, weights):
        covered[m] += w / total
    covered[~live] = 0
    for share in RELAX_SHARES:
        mask = covered >= share - 1e-6
        if np.count_nonzero(mask) >= RELAXED_ENOUGH:
            return mask, share
    rare = [m for m, w in zip(masks, weights) if w > COMMON_IDF]
    if not rare:
        return covered > 0, 0.0
    mask = np.zeros(len(live), dtype=bool)
    for m in rare:
        mask |= m
    return mask & live, 0.0


def feedback_weights(docs_terms: list[list[str]], doc_scores: list[float], query: list[str],
                     df_of, n_docs: int) -> dict[str, float]:
    """RM3: the interpolated weight of each word, original and expansion (RM1 over the feedback documents,
    its best FEEDBACK_TERMS words, mixed with the uniform original query at ORIGINAL_WEIGHT)."""
    total_score = sum(doc_scores) or 1.0
    rel: dict[str, float] = {}
    for terms, score in zip(docs_terms, doc_scores):
        if not terms:
            continue
        tf: dict[str, int] = {}
        for t in terms:
            tf[t] = tf.get(t, 0) + 1
        share = score / total_score / len(terms)
        for t, c in tf.items():
            rel[t] = rel.get(t, 0.0) + c * share
    best = []
    for t, p in sorted(rel.items(), key=lambda x: -x[1]):
        if len(best) == FEEDBACK_TERMS:
            break
        if len(t) < 2 or t.isdigit() or df_of(t) > FEEDBACK_MAX_DF * n_docs:
            continue
        best.append((t, p))
    norm = sum(p for _, p in best) or 1.0
    out: dict[str, float] = {}
    for q in query:   # the original query's distribution: a repeated word weighs more
        out[q] = out.get(q, 0.0) + ORIGINAL_WEIGHT / len(query)
    for t, p in best:
        out[t] = out.get(t, 0.0) + (1 - ORIGINAL_WEIGHT) * p / norm
    return out

