"""Query tree -> (which documents match, their BM25F scores), as numpy arrays over a Snapshot.

Each word is analysed once per field it searches: the unstemmed `title` and `body` fields (exact words, CJK
bigrams: a word that analyses to several tokens becomes a phrase of them) plus the stemmed field of every
language present in the index. A document matches a word when any of those fields holds it; the word is scored
once, BM25F over its fields (search.ranking): the title boosted (unless derived from the body), other forms of the
word found through the stemmed field counted with the body.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from functools import lru_cache
from typing import Optional

import numpy as np

from index import schema as S
from index.analysis import stem_analyzer, universal_analyzer
from search import ranking
from search.model import MAX_PLAIN_WORDS
from search.query import And, DateRange, Not, Or, Phrase, Word
from search.snapshot import Snapshot

BOOSTS = {S.TITLE: S.TITLE_BOOST, S.PERSON_NAME: 1.5}
METADATA_SCORE = 1.0           # score of a country:/lang:/source: match (a constant: they are filters)
CONSTANT_SCORE = 1.0           # score per field of a prefix/wildcard match (like Lucene's constant score)


@lru_cache(maxsize=1)
def _universal():
    return universal_analyzer()


@lru_cache(maxsize=None)
def _stemmer(lang: str):
    return stem_analyzer(lang)


@lru_cache(maxsize=20000)
def universal_tokens(text: str) -> tuple[str, ...]:
    return tuple(t.text for t in _universal()(text))


@lru_cache(maxsize=20000)
def stem_tokens(lang: str, text: str) -> tuple[str, ...]:
    return tuple(t.text for t in _stemmer(lang)(text))


@dataclass
class Match:
    """Documents a node matches (bool mask) and their scores (None: matches without ranking)."""

    mask: np.ndarray
    score: Optional[np.ndarray] = None
    idf: float = 0.0               # a word's idf (over the documents holding it in any of its fields)
    qtf: int = 1                   # how often a plain-words query repeats the word


@dataclass
class Plan:
    """What a leaf searches, field by field (for --explain and highlighting)."""

    lines: list = dc_field(default_factory=list)
    highlight: set = dc_field(default_factory=set)            # unstemmed words to mark
    highlight_stems: dict = dc_field(default_factory=dict)    # lang -> stems to mark
    highlight_prefixes: set = dc_field(default_factory=set)


class Evaluator:
    """Evaluates query trees against one snapshot."""

    def __init__(self, snap: Snapshot, plan: Optional[Plan] = None):
        self.snap = snap
        self.n = snap.n_all
        self.plan = plan or Plan()

    # -- building blocks ---------------------------------------------------------------------------------

    def empty(self) -> Match:
        return Match(np.zeros(self.n, dtype=bool), None)

    def term(self, field: str, text: str, scored: bool = True) -> Match:
        post = self.snap.term_frequencies(field, text) if scored else self.snap.postings(field, text)
        mask = np.zeros(self.n, dtype=bool)
        mask[post.ids] = True
        if not scored:
            return Match(mask, None)
        score = np.zeros(self.n, dtype=np.float32)
        if len(post.ids):
            snap = self.snap
            idf = ranking.idf(snap.n_docs, len(post.ids))
            pf = post.weights / snap.norms(field)[post.ids]
            score[post.ids] = ranking.saturate(pf, idf * BOOSTS.get(field, 1.0))
        return Match(mask, score)

    def concept(self, text: str, fields: list[tuple[str, Optional[str]]]) -> Optional[Match]:
        """One query word over its fields, scored once (BM25F): exact occurrences in each unstemmed field by that
        field's weight and length norm, other forms of the word (the stemmed field's occurrences beyond the exact
        ones) with the body's; None when the word has nothing searchable. The snapshot keeps each word's scores
        (its documents and their scores, not arrays over the index): a word met again costs two scatters."""
        key = (text, tuple(fields))
        found, kept = self.snap.concept_scores(key)
        if found:
            if kept is None:
                return None
            ids, scores, idf = kept
            mask = np.zeros(self.n, dtype=bool)
            mask[ids] = True
            score = np.zeros(self.n, dtype=np.float32)
            score[ids] = scores
            return Match(mask, score, idf)
        m = self._concept(text, fields)
        if m is None:
            self.snap.keep_concept_scores(key, None)
        else:
            ids = np.flatnonzero(m.mask)
            self.snap.keep_concept_scores(key, (ids, m.score[ids], m.idf))
        return m

    def _concept(self, text: str, fields: list[tuple[str, Optional[str]]]) -> Optional[Match]:
        analysed = [(f, lang, stem_tokens(lang, text) if lang else universal_tokens(text)) for f, lang in fields]
        analysed = [(f, lang, toks) for f, lang, toks in analysed if toks]
        if not analysed:
            return None
        if any(len(toks) > 1 for _, _, toks in analysed):
            return self._multi_token(analysed)
        snap, n = self.snap, self.n
        mask = np.zeros(n, dtype=bool)
        pf = np.zeros(n, dtype=np.float32)
        exact = np.zeros(n, dtype=np.float32)
        stem = None
        for fname, lang, (tok,) in analysed:
            post = snap.term_frequencies(fname, tok)
            if not len(post.ids):
                continue
            mask[post.ids] = True
            if lang:
                if stem is None:
                    stem = np.zeros(n, dtype=np.float32)
                stem[post.ids] += post.weights
            else:
                weight = self._field_weight(fname, post.ids, len(analysed) > 1)
                pf[post.ids] += weight * post.weights / snap.norms(fname)[post.ids]
                exact[post.ids] += post.weights
        if stem is not None:
            other = np.flatnonzero(stem > exact)
            pf[other] += ranking.VARIANT_WEIGHT * (stem[other] - exact[other]) / snap.norms(S.BODY)[other]
        idf = ranking.idf(snap.n_docs, int(np.count_nonzero(mask & snap.live)))
        ids = np.flatnonzero(mask)
        score = np.zeros(n, dtype=np.float32)
        score[ids] = ranking.saturate(pf[ids], idf)
        return Match(mask, score, idf)

    def explain_word(self, text: str, fields: list[tuple[str, Optional[str]]], doc: int) -> dict:
        """What one query word contributed to one document's score, field by field (as concept() computes it)."""
        m = self.concept(text, fields)
        out = {"word": text, "score": 0.0 if m is None else float(m.score[doc]),
               "idf": 0.0 if m is None else round(m.idf, 4), "fields": []}
        if m is None or not m.mask[doc]:
            return out
        exact = 0.0
        analysed = [(f, lang, stem_tokens(lang, text) if lang else universal_tokens(text)) for f, lang in fields]
        analysed = [(f, lang, toks) for f, lang, toks in analysed if toks]
        for fname, lang, toks in analysed:
            if len(toks) != 1:
                continue
            post = self.snap.term_frequencies(fname, toks[0])
            i = int(np.searchsorted(post.ids, doc))
            if i == len(post.ids) or post.ids[i] != doc:
                continue
            tf = float(post.weights[i])
            if lang:   # occurrences beyond the exact ones are other forms of the word, counted with the body
                other = tf - exact
                if other > 0:
                    out["fields"].append({"field": f"{fname} (other forms)", "tf": other,
                                          "weight": ranking.VARIANT_WEIGHT,
                                          "norm": round(float(self.snap.norms(S.BODY)[doc]), 4)})
            else:
                exact += tf
                weight = self._field_weight(fname, np.array([doc]), len(analysed) > 1)
                out["fields"].append({"field": fname, "tf": tf, "weight": float(np.ravel(weight)[0]),
                                      "norm": round(float(self.snap.norms(fname)[doc]), 4)})
        return out

    def _field_weight(self, fname: str, ids: np.ndarray, several: bool):
        """A field's weight in a word's BM25F: a derived headline counts nothing beside the body it repeats."""
        if fname == S.TITLE and several:
            return self.snap.title_weights()[ids]
        return BOOSTS.get(fname, 1.0)

    def _multi_token(self, analysed) -> Match:
        """A word the analyser cuts into several tokens (CJK, `jae-myung`): a phrase of them in any field, scored
        as the sum of its tokens' BM25F."""
        mask = np.zeros(self.n, dtype=bool)
        for fname, _, toks in analysed:
            m = self.tokens(fname, toks, scored=False)
            mask |= m.mask
        exact = [(f, lang) for f, lang, _ in analysed if lang is None]
        first = next(toks for _, lang, toks in analysed if lang is None) if exact else analysed[0][2]
        score = np.zeros(self.n, dtype=np.float32)
        idfs = []
        for tok in dict.fromkeys(first):
            m = self.concept(tok, exact or [(analysed[0][0], None)])
            if m is not None:
                score += m.score
                idfs.append(m.idf)
        score[~mask] = 0
        return Match(mask, score, sum(idfs))

    def phrase(self, field: str, words: tuple[str, ...]) -> Match:
        docs = self.snap.phrase_docs(field, words)
        mask = np.zeros(self.n, dtype=bool)
        mask[docs] = True
        score = np.zeros(self.n, dtype=np.float32)
        for w in dict.fromkeys(words):
            score += self.term(field, w).score
        score[~mask] = 0
        return Match(mask, score)

    def tokens(self, field: str, words: tuple[str, ...], scored: bool = True) -> Optional[Match]:
        if not words:
            return None
        if len(words) == 1:
            return self.term(field, words[0], scored)
        if not scored:
            mask = np.zeros(self.n, dtype=bool)
            mask[self.snap.phrase_docs(field, words)] = True
            return Match(mask, None)
        return self.phrase(field, words)

    def expanded(self, field: str, terms: list[str], constant: bool) -> Match:
        mask = np.zeros(self.n, dtype=bool)
        score = np.zeros(self.n, dtype=np.float32)
        for t in terms:
            m = self.term(field, t, scored=not constant)
            mask |= m.mask
            if not constant:
                np.maximum(score, m.score, out=score)
        if constant:
            score[mask] = CONSTANT_SCORE * BOOSTS.get(field, 1.0)
        return Match(mask, score)

    @staticmethod
    def union(parts: list[Match]) -> Optional[Match]:
        parts = [p for p in parts if p is not None]
        if not parts:
            return None
        mask = parts[0].mask.copy()
        score = None
        for p in parts[1:]:
            mask |= p.mask
        for p in parts:
            if p.score is not None:
                score = p.score.copy() if score is None else score + p.score
        return Match(mask, score)

    # -- tree ----------------------------------------------------------------------------------------------

    def evaluate(self, node) -> Optional[Match]:
        """The match of a node (None: a node with nothing searchable in it, e.g. only punctuation)."""
        if isinstance(node, And):
            return self._and([self.evaluate(c) for c in node.children])
        if isinstance(node, Or):
            return self.union([self.evaluate(c) for c in node.children])
        if isinstance(node, Not):
            inner = self.evaluate(node.child)
            if inner is None:
                return None
            return Match(self.snap.live & ~inner.mask, None)
        if isinstance(node, DateRange):
            return Match(self.date_mask(node.lo, node.hi), None)
        if isinstance(node, Phrase):
            return self._phrase_leaf(node)
        if isinstance(node, Word):
            return self._word_leaf(node)
        raise TypeError(node)

    def plain(self, words: tuple[Word, ...]) -> tuple[Optional[Match], "ranking.Relaxation", list]:
        """A plain-words query: (its match, how it matched, [(word, Match)] of the words searched).

        Every word is required while ranking.ENOUGH articles hold them all; otherwise the query is relaxed
        (ranking.relax). A repeated word is searched once and its score counted as often as the query repeats it
        (BM25's query term frequency: a word a long request names three times matters more); a paragraph keeps
        its MAX_PLAIN_WORDS rarest words that some article holds."""
        qtf: dict[str, int] = {}
        unique = []
        for w in words:
            key = w.text.casefold()
            if key not in qtf:
                unique.append(w)
            qtf[key] = qtf.get(key, 0) + 1
        dropped = []
        if len(unique) > MAX_PLAIN_WORDS:
            df = {w: max(self.snap.doc_frequency(S.BODY, t) for t in universal_tokens(w.text) or ("",))
                  for w in unique}
            # the rarest words inform most; a word no article holds cannot match anything, so it goes first
            keep = set(sorted(unique, key=lambda w: (df[w] == 0, df[w], w.pos))[:MAX_PLAIN_WORDS])
            dropped = [w.text for w in unique if w not in keep]
            unique = [w for w in unique if w in keep]
        found = []
        for w in unique:
            m = self._word_leaf(w)
            if m is None:
                dropped.append(w.text)
            else:
                m.qtf = qtf[w.text.casefold()]
                found.append((w.text, m))
        info = ranking.Relaxation(words=tuple(t for t, _ in found), dropped=tuple(dropped))
        if not found:
            return None, info, []
        idfs = [m.idf if np.any(m.mask & self.snap.live) else 0.0 for _, m in found]
        self._unmark_common(found, idfs)
        info.weights = {t: w / (sum(idfs) or 1.0) for (t, _), w in zip(found, idfs)}
        mask, share = ranking.relax([m.mask for _, m in found], idfs, self.snap.live)
        score = np.zeros(self.n, dtype=np.float32)
        for _, m in found:
            score += m.score * m.qtf
        score[~mask] = 0
        if share < 1.0:
            info.relaxed, info.share, info.optional = True, share, info.words
        return Match(mask, score), info, found

    def _unmark_common(self, found: list, idfs: list[float]) -> None:
        """A plain-words query's common words (held by half the articles or more: "the", "what") are not marked
        in snippets: marking every "the" hides the words that matter (and costs the snippet search its time).
        A query of common words only keeps its marks: they are then all it asked for."""
        if all(idf <= ranking.COMMON_IDF for idf in idfs):
            return
        for (word, _), idf in zip(found, idfs):
            if idf > ranking.COMMON_IDF:
                continue
            self.plan.highlight.difference_update(universal_tokens(word))
            for lang, stems in self.plan.highlight_stems.items():
                stems.difference_update(stem_tokens(lang, word))

    def _and(self, parts: list[Optional[Match]]) -> Optional[Match]:
        parts = [p for p in parts if p is not None]
        if not parts:
            return None
        mask = parts[0].mask.copy()
        for p in parts[1:]:
            mask &= p.mask
        score = None
        for p in parts:
            if p.score is not None:
                score = p.score.copy() if score is None else score + p.score
        if score is not None:
            score[~mask] = 0
        return Match(mask, score)

    def date_mask(self, lo, hi) -> np.ndarray:
        day = self.snap.day
        mask = self.snap.dated.copy()
        if lo is not None:
            mask &= day >= S.day_number(lo)
        if hi is not None:
            mask &= day <= S.day_number(hi)
        return mask

    def text_fields(self, field: Optional[str]) -> list[tuple[str, Optional[str]]]:
        """(Whoosh field, stem language or None) pairs a user field searches."""
        if field == "title":
            return [(S.TITLE, None)]
        if field == "body":
            return [(S.BODY, None)]
        if field == "person":
            return [(S.PERSON_NAME, None)]
        return [(S.TITLE, None), (S.BODY, None)] + [(f, lang) for lang, f in self.snap.stem_fields.items()]

    def _word_leaf(self, w: Word) -> Optional[Match]:
        if w.field in ("country", "lang", "source"):
            return self._metadata(w.field, w.text, w.kind)
        if w.kind in ("prefix", "wildcard", "fuzzy"):
            return self._expansion(w)
        fields = self.text_fields(w.field)
        for fname, lang in fields:
            toks = stem_tokens(lang, w.text) if lang else universal_tokens(w.text)
            if lang:
                self.plan.highlight_stems.setdefault(lang, set()).update(toks)
            else:
                self.plan.highlight.update(toks)
            if toks:
                self.plan.lines.append(f"{fname}:{' '.join(toks)}" if len(toks) == 1
                                       else f'{fname}:"{" ".join(toks)}"')
        return self.concept(w.text, fields)

    def _phrase_leaf(self, p: Phrase) -> Optional[Match]:
        if p.field in ("country", "lang", "source"):
            return self._metadata(p.field, p.text, "word")
        fields = [(S.TITLE, None), (S.BODY, None)] if p.field is None else self.text_fields(p.field)
        parts = []
        for fname, _ in fields:
            toks = universal_tokens(p.text)
            self.plan.highlight.update(toks)
            parts.append(self.tokens(fname, toks))
            if toks:
                self.plan.lines.append(f'{fname}:"{" ".join(toks)}"')
        return self.union(parts)

    def _expansion(self, w: Word) -> Optional[Match]:
        text = w.text.lower()
        fields = [f for f, lang in self.text_fields(w.field) if lang is None]
        parts = []
        for fname in fields:
            terms = self.snap.expand(fname, text, w.kind, w.distance)
            self.plan.highlight.update(terms)
            shown = ", ".join(terms[:8]) + (f", ... ({len(terms)} words)" if len(terms) > 8 else "")
            self.plan.lines.append(f"{fname}:{text}{'*' if w.kind == 'prefix' else ''}"
                                   f"{'~' + str(w.distance) if w.kind == 'fuzzy' else ''} -> [{shown}]")
            parts.append(self.expanded(fname, terms, constant=w.kind != "fuzzy"))
        return self.union(parts)

    def _metadata(self, field: str, text: str, kind: str) -> Match:
        if field == "lang":
            terms = [text.strip().lower()]
            wfield = S.LANG
        elif field == "country":
            terms = [c for c in [resolve_country(text)] if c]
            wfield = S.COUNTRY
        else:
            wfield = S.SOURCE_KEY
            key = " ".join(text.casefold().split())
            terms = self.snap.expand(wfield, key, kind) if kind in ("prefix", "wildcard") else [key]
        self.plan.lines.append(f"{wfield}:{'|'.join(terms) or '(no such value)'}")
        m = self.expanded(wfield, terms, constant=True)
        m.score[m.mask] = METADATA_SCORE
        return m


@lru_cache(maxsize=4096)
def resolve_country(text: str) -> Optional[str]:
    """An ISO alpha-2 code for a code (`jp`, `JPN`) or an English name (`japan`, `south korea`)."""
    text = text.strip()
    if len(text) == 2 and text.isalpha():
        return text.upper()
    try:
        import pycountry
        found = pycountry.countries.lookup(text)
        return found.alpha_2
    except (LookupError, ImportError):
        pass
    try:
        import pycountry
        matches = pycountry.countries.search_fuzzy(text)
        return matches[0].alpha_2 if matches else None
    except (LookupError, ImportError):
        return None
