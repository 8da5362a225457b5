"""Snippets: the best passages of an article with <mark> around the query's words as the article writes them.

Every character outside the marks is HTML-escaped. A word is marked when its unstemmed form is a query term
(or an expansion of a wildcard/fuzzy term), or when its stem in the article's language is a stem the query
searched for; CJK text is matched bigram by bigram and adjacent marks merge. No match in the text (the query
hit metadata only, or there is no query): the lead of the article.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from index.analysis import iter_terms, normalize_term, word_matches, word_terms   # the index's own tokens
from search.evaluate import stem_tokens

SNIPPET_CHARS = 240          # target length of a snippet (two passages at most)
LEAD_CHARS = 220
SCAN_STEPS = (1_500, 8_000, None)   # passages are looked for in the first 1,500 characters, then further
_WS = re.compile(r"\s+")


@dataclass
class Highlight:
    """What to mark: unstemmed words/bigrams, and per-language stems."""

    words: set = field(default_factory=set)
    stems: dict = field(default_factory=dict)
    memo: dict = field(default_factory=dict)       # lang -> {word: marked?}, shared by a result page's hits

    def __bool__(self) -> bool:
        return bool(self.words or any(self.stems.values()))


def find_marks(text: str, lang: str, hl: Highlight) -> list[tuple[int, int]]:
    """Character spans of the words to mark, merged where they touch or overlap.

    The text is tokenised by the index's own analyzer (`iter_terms`), so a word is marked exactly when the
    term the index holds for it matched: "l'Intérieur", Thai, Arabic with vowel marks and CJK bigrams included.
    """
    if not hl:
        return []
    words = hl.words
    stems = hl.stems.get(lang) or ()
    memo = hl.memo.setdefault(lang, {})

    def marked(term: str) -> bool:
        hit = memo[term] = term in words or (bool(stems) and any(s in stems for s in stem_tokens(lang, term)))
        return hit

    spans = []
    matches = word_matches(text)
    if matches is None:   # CJK, Thai...: bigrams
        for term, start, end in iter_terms(text):
            hit = memo.get(term)
            if hit if hit is not None else marked(term):
                spans.append((start, end))
    else:   # every token a word: one step per word, most of them a lookup (the same terms as iter_terms)
        get = memo.get
        for m in matches:
            word = m.group()
            if word.isalnum():
                term = word.lower() if word.isascii() else normalize_term(word)
                hit = get(term)
                if hit if hit is not None else marked(term):
                    spans.append(m.span())
            else:
                for term, start, end in word_terms(word, m.start()):
                    hit = get(term)
                    if hit if hit is not None else marked(term):
                        spans.append((start, end))
    return merge_spans(spans)


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans in text order merged where they touch or overlap."""
    merged: list[list[int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged]


def render(text: str, marks: list[tuple[int, int]], start: int = 0, end: int | None = None) -> str:
    """text[start:end] HTML-escaped, with <mark> around the spans inside it."""
    end = len(text) if end is None else end
    out, pos = [], start
    for s, e in marks:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(html.escape(text[pos:s]))
        out.append("<mark>" + html.escape(text[s:e]) + "</mark>")
        pos = e
    out.append(html.escape(text[pos:end]))
    return _WS.sub(" ", "".join(out))


def _word_start(text: str, i: int, reach: int = 15) -> int:
    """Move i back to the start of the word it falls in (not further than `reach`: CJK has no spaces)."""
    i = max(0, min(i, len(text)))
    j = i
    while j > 0 and i - j < reach and not text[j - 1].isspace():
        j -= 1
    return j if j == 0 or text[j - 1].isspace() else i


def _word_end(text: str, i: int, reach: int = 15) -> int:
    """Move i forward to the end of the word it falls in (not further than `reach`)."""
    i = max(0, min(i, len(text)))
    j = i
    while j < len(text) and j - i < reach and not text[j].isspace():
        j += 1
    return j if j == len(text) or text[j].isspace() else i


def lead(text: str, limit: int = LEAD_CHARS) -> str:
    """The start of the text, cut at a word boundary, escaped."""
    text = text.strip()
    if len(text) <= limit:
        return render(text, [])
    cut = text.rfind(" ", 0, limit)
    cut = cut if cut > limit // 2 else limit
    return render(text, [], 0, cut).rstrip() + " …"


def _best_window(marks, lows, width: int, covered: set) -> tuple[int, int]:
    """The window of `width` characters, starting a little before a mark, holding the most words not yet
    covered (then the most words, then the earliest)."""
    best, best_key = None, None
    for i, (s, _) in enumerate(marks):
        w_start = max(0, s - 40)
        w_end = w_start + width
        inside = {lows[j] for j in range(i, len(marks)) if marks[j][1] <= w_end}
        key = (len(inside - covered), len(inside), -s)
        if best_key is None or key > best_key:
            best, best_key = (w_start, w_end), key
    return best


def _covered(marks, lows, window) -> set:
    return {lows[j] for j, (s, e) in enumerate(marks) if window[0] <= s and e <= window[1]}


def snippet(text: str, lang: str, hl: Highlight, limit: int = SNIPPET_CHARS) -> tuple[str, bool]:
    """(snippet HTML, whether it holds a mark): the best one or two passages, or the lead."""
    marks: list = []
    for size in SCAN_STEPS:   # news puts the matching words early: look at the start first
        scan = text[:size] if size else text
        marks = find_marks(scan, lang, hl)
        if marks or len(scan) == len(text):
            break
    if not marks:
        return lead(text), False
    lows = [scan[s:e].lower() for s, e in marks]
    chosen = [_best_window(marks, lows, limit, set())]
    covered = _covered(marks, lows, chosen[0])
    if len(covered) < len(set(lows)):   # one window misses some words: two half windows instead
        first = _best_window(marks, lows, limit // 2, set())
        second = _best_window(marks, lows, limit // 2, _covered(marks, lows, first))
        if len(_covered(marks, lows, first) | _covered(marks, lows, second)) > len(covered):
            chosen = [first, second]
    chosen.sort()
    pieces = []
    for w_start, w_end in chosen:
        a = _word_start(scan, w_start) if w_start else 0
        b = _word_end(scan, min(w_end, len(scan)))
        if pieces and a <= pieces[-1][1]:
            pieces[-1] = (pieces[-1][0], max(b, pieces[-1][1]))
        else:
            pieces.append((a, b))
    parts = []
    for a, b in pieces:
        body = render(scan, marks, a, b).strip()
        parts.append(("… " if a > 0 else "") + body + (" …" if b < len(text) else ""))
    return " ".join(parts).replace("… …", "…"), True
