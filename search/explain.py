"""Explain: how a query is read and searched, and what each query word contributed to a hit's score."""
from __future__ import annotations

from search import ranking
from search.evaluate import Evaluator, Plan
from search.masks import Masks, masks_for, missing
from search.model import QueryError, SearchRequest
from search.query import Word, has_positive, leaves, plain_words, to_text
from search.rerank import rerank
from search.snapshot import Snapshot


def explain_query(snap: Snapshot, q: str, tree) -> str:
    """The parsed form of a query and what it searches, field by field."""
    plan = Plan()
    Evaluator(snap, plan).evaluate(tree) if tree is not None else None
    lines = [f"query: {to_text(tree)}"]
    if plain_words(q):
        lines.append(f"plain words: every word is required while {ranking.ENOUGH} articles hold them all; "
                     f"else articles holding most of the query's weight (idf) are listed too, after them")
    if tree is None:
        lines.append("matches every article (browse, newest first)")
    for line in dict.fromkeys(plan.lines):
        lines.append(f"  searches {line}")
    if tree is not None and not has_positive(tree):
        lines.append("  no words to rank by: newest first")
    return "\n".join(lines)


def explain_hits(snap: Snapshot, request: SearchRequest, tree, ids) -> dict:
    """Elasticsearch's explain for the articles `ids`: what each query word contributed to the score. Raises
    QueryError for an unknown id."""
    masks = masks_for(snap, request, tree)
    ev = Evaluator(snap)
    score = masks.match.score if masks.match is not None else None
    feedback = {}
    if score is not None and masks.plain is not None:
        score, feedback = rerank(snap, ev, masks.plain[1], score, masks.final)
    docs = []
    for i in ids:
        d = snap.docnum_of(i)
        if d is None:
            raise QueryError(f"no article with id {i[:100]!r}")
        docs.append(d)
    return {"query": request.q, "parsed": to_text(tree),
            "matching": masks.plain[0].to_json() if masks.plain else None,
            "hits": [_explain_doc(snap, ev, masks, tree, feedback, d,
                                  float(score[d]) if score is not None and masks.final[d] else 0.0)
                     for d in docs]}


def _explain_doc(snap: Snapshot, ev: Evaluator, masks: Masks, tree, feedback: dict, doc: int,
                 score: float) -> dict:
    """Why one document scored what it did: each query word's BM25F part (fields, tf, weight, norm, idf), and
    with feedback each word's and expansion term's weight in the re-weighted query."""
    art = snap.stored_article(doc)
    words = []
    if masks.plain is not None:
        for word, m in masks.plain[1]:
            part = ev.explain_word(word, ev.text_fields(None), doc)
            part["qtf"] = m.qtf
            if feedback:
                part["feedback_weight"] = round(feedback.get(word, 0.0), 4)
            words.append(part)
    else:
        for leaf, negated in leaves(tree):
            if negated:
                continue
            if isinstance(leaf, Word) and leaf.kind == "word" and leaf.field in (None, "title", "body", "person"):
                words.append(ev.explain_word(leaf.text, ev.text_fields(leaf.field), doc))
            else:
                m = ev.evaluate(leaf)
                words.append({"word": to_text(leaf), "score": float(m.score[doc]) if m and m.score is not None
                              else 0.0, "fields": []})
    known = {w["word"] for w in words}
    expansion = []
    for term, weight in feedback.items():
        if term not in known:
            m = ev.concept(term, ev.text_fields(None))
            if m is not None and m.mask[doc]:
                expansion.append({"term": term, "feedback_weight": round(weight, 4), "score": float(m.score[doc])})
    return {"id": art.id, "title": art.title, "score": score, "missing": list(missing(masks, doc)),
            "words": words, "expansion": expansion}
