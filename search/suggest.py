"""Did-you-mean: a query's rare words replaced by close words of the body that are far more frequent."""
from __future__ import annotations

from typing import Optional

from index import schema as S
from search.evaluate import stem_tokens, universal_tokens
from search.model import QueryError
from search.query import Word, leaves
from search.snapshot import Snapshot

RARE_DOCS = 3        # did-you-mean looks at words held by at most this many articles (more in big indexes)
SUGGEST_RATIO = 20   # ... and suggests a word held by at least 20 times as many
SUGGEST_MAX_WORDS = 8   # queries of more words get no suggestion


def did_you_mean(snap: Snapshot, q: str, tree, total: int) -> Optional[str]:
    """The query with each rare word replaced by a close word of the body that is far more frequent, or None.

    A word is rare when at most max(RARE_DOCS, articles / 20,000) articles hold it (any word, when the query
    found nothing); a word no article holds but whose stem some do (a plural, a verb form) is a real word and
    left alone."""
    words = [leaf for leaf, _ in leaves(tree) if isinstance(leaf, Word)]
    if len(words) > SUGGEST_MAX_WORDS:   # a pasted question: each look-up costs ~30 ms, one typo matters little
        return None
    fixes = []
    # no result at all: any word may be the misspelled one (as long as a far more frequent neighbour exists)
    rare = max(RARE_DOCS, snap.n_docs // 20000) if total else snap.n_docs
    for leaf, negated in leaves(tree):
        if not isinstance(leaf, Word) or leaf.kind != "word" or leaf.field not in (None, "title", "body"):
            continue
        toks = universal_tokens(leaf.text)
        if len(toks) != 1 or not toks[0].isalpha() or len(toks[0]) < 3:
            continue
        word = toks[0]
        df = max(snap.doc_frequency(S.BODY, word), snap.doc_frequency(S.TITLE, word))
        if df > rare:
            continue
        if not df and any(snap.doc_frequency(f, t) for lang, f in snap.stem_fields.items()
                          for t in stem_tokens(lang, word)):
            continue
        best = _suggest(snap, word, max(df, 1) * SUGGEST_RATIO if df else 1)
        if best:
            start = q.find(leaf.text, leaf.pos)
            if start >= 0:
                fixes.append((start, start + len(leaf.text), best))
    if not fixes:
        return None
    out, pos = [], 0
    for s, e, word in sorted(fixes):
        out.append(q[pos:s])
        out.append(word)
        pos = e
    out.append(q[pos:])
    return "".join(out)

def _suggest(snap: Snapshot, word: str, min_df: int) -> Optional[str]:
    """The closest body word (1 edit, else 2 for longer words) held by at least min_df articles."""
    for dist in (1, 2):
        if dist == 2 and len(word) < 5:
            break
        try:
            cands = [c for c in snap.expand(S.BODY, word, "fuzzy", dist) if c != word and c.isalpha()]
        except QueryError:   # too many neighbours: a short, ambiguous word; no suggestion
            return None
        scored = [(_edit_distance(word, c), -snap.doc_frequency(S.BODY, c), c) for c in cands]
        scored = [x for x in scored if -x[1] >= min_df]
        if scored:
            return min(scored)[2]
    return None


def _edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance."""
    prev2, prev = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if prev2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]
