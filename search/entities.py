"""Entity pages: one person or country over a request's result set, computed on a Snapshot's facet arrays.

The foreground is the request's result set narrowed to the entity (the same mask a search with that filter
finds); the background is the request's result set without the entity (the whole archive when the request sets
no filter). Counts are articles. Co-mentioned people and countries are ranked by count or by significance, as
Elasticsearch's significant_terms ranks terms: how much more often a value appears with the entity than in the
background, so that a value found everywhere does not crowd out the telling ones (see `significance`).
"""
from __future__ import annotations

import difflib
from bisect import bisect_left
from typing import Optional

import numpy as np

from index import schema as S
from search.evaluate import Evaluator
from search.facets import country_label, date_histogram
from search.model import CoMention, EntityPage, QueryError, SearchRequest, UnknownEntity
from search.snapshot import Snapshot

KINDS = {"person": "people", "country": "countries"}   # page kind -> facet
FIELDS = {"person": S.PERSON, "country": S.COUNTRY}
RANKS = ("score", "count")
MAX_WITH = 20            # co-mentioned people / countries listed per page
SUGGESTIONS = 5          # close names offered for an unknown key
SUGGEST_POOL = 2000      # ... chosen among at most this many candidates (the most mentioned first)


def check(kind: str, rank: str) -> None:
    """Raise QueryError for an unknown kind or rank."""
    if kind not in KINDS:
        raise QueryError(f"unknown entity kind {kind!r}: use person or country")
    if rank not in RANKS:
        raise QueryError(f"unknown rank {rank!r}: use one of {', '.join(RANKS)}")


def narrowed(request: SearchRequest, kind: str, value: str) -> SearchRequest:
    """The request with the entity added as a filter (what "search these articles" links to)."""
    from dataclasses import replace
    if kind == "person":
        return replace(request, people=request.people + (value,))
    return replace(request, countries=request.countries + (value,))


# -- which entity ----------------------------------------------------------------------------------------------

def resolve(snap: Snapshot, kind: str, key: str) -> str:
    """The indexed value (person key, ISO code) `key` names: a key, a display name, a code in any case or a
    country's name. Raises UnknownEntity, with suggestions, when no live article is about it."""
    ff = snap.facet(KINDS[kind])
    for value in _candidates(snap, kind, key):
        i = ff.ords.get(value)
        if i is not None and ff.totals[i] > 0:
            return value
    shown = key if len(key) <= 100 else key[:100] + "…"
    what = "person" if kind == "person" else "country"
    raise UnknownEntity(f"no article in the index is about the {what} {shown!r}", kind, suggest(snap, kind, key))


def _candidates(snap: Snapshot, kind: str, key: str) -> list[str]:
    if kind == "person":
        return [S.person_key(key)]
    text = " ".join(key.split())
    out = [text.upper()]
    folded = text.casefold()
    ff = snap.facet("countries")
    out += [v for v in ff.values if country_label(v).casefold() == folded]   # "Japan", "south korea"
    try:   # official names and alpha-3 codes ("Korea, Republic of", "JPN")
        import pycountry
        out.append(pycountry.countries.lookup(text).alpha_2)
    except (LookupError, ImportError):
        pass
    return out


def suggest(snap: Snapshot, kind: str, key: str, n: int = SUGGESTIONS) -> tuple[CoMention, ...]:
    """Up to n entities whose names are closest to `key` (the most mentioned when none is close)."""
    ff = snap.facet(KINDS[kind])
    live = np.flatnonzero(ff.totals)
    if not len(live):
        return ()
    if kind == "person":
        target = S.person_key(key)
        pool = _word_prefix_ords(ff, target)
        label = snap.person_name
    else:
        target = " ".join(key.casefold().split())
        pool = live.tolist()
        label = country_label
    if len(pool) > SUGGEST_POOL or not pool:   # keep the most mentioned (and with no candidate: all of them)
        pool = pool or live.tolist()
        pool = sorted(pool, key=lambda i: (-int(ff.totals[i]), ff.values[i]))[:SUGGEST_POOL]   # (ties: by value)
    scored = []
    for i in pool:
        if not ff.totals[i]:
            continue
        names = (ff.values[i].casefold(),) if kind == "person" else (ff.values[i].casefold(),
                                                                        country_label(ff.values[i]).casefold())
        ratio = max(difflib.SequenceMatcher(None, target, name).ratio() for name in names)
        scored.append((-round(ratio, 2), -int(ff.totals[i]), ff.values[i], i))
    scored.sort()
    close = [s for s in scored if -s[0] >= 0.5] or sorted(scored, key=lambda s: (s[1], s[2]))
    return tuple(_co(ff, i, int(ff.totals[i]), 0.0, kind, label) for *_, i in close[:n])


def _word_prefix_ords(ff, target: str) -> list[int]:
    """Values with a word starting like a word of `target` (its first three letters: "Jon Smith" finds
    "john smyth")."""
    words, ords = ff.words()
    found: set[int] = set()
    for word in set(target.split()):
        stem = word[:3]
        i = bisect_left(words, stem)
        while i < len(words) and words[i].startswith(stem):
            found.add(ords[i])
            i += 1
    return sorted(found)


def _co(ff, i: int, count: int, score: float, kind: str, label) -> CoMention:
    value = ff.values[i]
    if kind == "person":
        return CoMention(label(value), label(value), count, score, value)
    return CoMention(value, label(value), count, score, value)


# -- the page --------------------------------------------------------------------------------------------------

def page(snap: Snapshot, kind: str, value: str, base: np.ndarray, request: SearchRequest, rank: str,
         limit: int = MAX_WITH) -> tuple[EntityPage, np.ndarray]:
    """The entity's page over `base` (the request's result set without the entity), and the foreground mask
    (for the latest articles, which the Searcher lists as it lists hits)."""
    ff = snap.facet(KINDS[kind])
    own = ff.ords[value]
    fg = base & _holding(snap, kind, value)
    docs = np.flatnonzero(fg)
    first, last = _seen(snap, docs)
    interval, timeline = date_histogram(snap, fg, request.date_from, request.date_to) if len(docs) else ("month", ())
    bg_size = int(np.count_nonzero(base))
    with_people = co_mentions(snap, "people", fg, len(docs), base, bg_size, own if kind == "person" else None,
                              rank, limit)
    with_countries = co_mentions(snap, "countries", fg, len(docs), base, bg_size,
                                 own if kind == "country" else None, rank, limit)
    name = snap.person_name(value) if kind == "person" else country_label(value)
    return EntityPage(kind=kind, key=value, name=name, articles=len(docs), stories=snap.stories().distinct(docs),
                      first_seen=first, last_seen=last, interval=interval, timeline=timeline, ranked_by=rank,
                      with_people=with_people, with_countries=with_countries,
                      archive_articles=int(ff.totals[own])), fg


def _holding(snap: Snapshot, kind: str, value: str) -> np.ndarray:
    """The documents about the entity: the mask a search's person or country filter ANDs in."""
    return Evaluator(snap).term(FIELDS[kind], value, scored=False).mask


def _seen(snap: Snapshot, docs: np.ndarray) -> tuple[Optional[str], Optional[str]]:
    days = snap.day[docs]
    days = days[days != S.NO_DAY]
    if not len(days):
        return None, None
    return S.day_to_date(int(days.min())).isoformat(), S.day_to_date(int(days.max())).isoformat()


def co_mentions(snap: Snapshot, facet: str, fg: np.ndarray, fg_size: int, bg: np.ndarray, bg_size: int,
                exclude: Optional[int], rank: str, limit: int = MAX_WITH) -> tuple[CoMention, ...]:
    """The values of `facet` held by foreground articles (any count, the entity itself left out), the top
    `limit` by significance (then count) or by count (then significance); remaining ties by value order."""
    ff = snap.facet(facet)
    counts = ff.count(fg)
    if exclude is not None:
        counts[exclude] = 0
    held = np.flatnonzero(counts)
    if not len(held):
        return ()
    background = ff.totals if bg_size == ff.n_live else ff.count(bg)   # no filter: the whole archive, counted once
    a = counts[held]
    scores = significance(a, fg_size, background[held], bg_size)
    if rank == "score":
        order = np.lexsort((held, -a, -scores))
    else:
        order = np.lexsort((held, -scores, -a))
    label = snap.person_name if facet == "people" else country_label
    kind = "person" if facet == "people" else "country"
    return tuple(_co(ff, int(held[j]), int(a[j]), float(scores[j]), kind, label) for j in order[:limit])


def significance(fg_counts: np.ndarray, fg_size: int, bg_counts: np.ndarray, bg_size: int) -> np.ndarray:
    """Dunning's log-likelihood ratio G² (Dunning 1993, "Accurate methods for the statistics of surprise and
    coincidence"), signed: how surely a value is more (+) or less (-) frequent with the entity than without it.

    Per value, the 2x2 table over the background's articles (which include the foreground's):

        k11 = fg_counts            foreground articles with the value
        k12 = fg_size - k11        foreground articles without it
        k21 = bg_counts - k11      other background articles with it
        k22 = the rest             other background articles without it

    G² = 2 Σ k·ln(k / E), E being each cell's count if the value were as frequent with the entity as without
    (row total x column total / N); 0·ln 0 = 0. It is the likelihood-ratio sibling of the chi-square test that
    Elasticsearch's significant_terms offers (`chi_square`), better behaved for the small expected counts of
    rare names, and unlike JLH (`(fg% - bg%) · fg% / bg%`, the default there, which puts a name seen once, with
    this entity, above everything) it grows with the evidence: a person seen 8 times with the entity and twice
    elsewhere outranks one seen once in the whole archive, and a country in a third of the archive scores near 0
    even when it appears in half the entity's articles. The sign is the sign of fg% - rest%: values less
    frequent with the entity than elsewhere score below 0. No foreground or no rest: 0.
    """
    k11 = np.asarray(fg_counts, dtype=np.float64)
    bg = np.asarray(bg_counts, dtype=np.float64)
    n = float(bg_size)
    rest = n - fg_size
    if fg_size <= 0 or rest <= 0:
        return np.zeros(len(k11))
    k12 = fg_size - k11
    k21 = np.maximum(bg - k11, 0.0)
    k22 = np.maximum(rest - k21, 0.0)
    g2 = np.zeros(len(k11))
    for k, row, col in ((k11, fg_size, bg), (k12, fg_size, n - bg), (k21, rest, bg), (k22, rest, n - bg)):
        expected = row * col / n
        with np.errstate(divide="ignore", invalid="ignore"):
            g2 += np.where(k > 0, k * np.log(k / expected), 0.0)
    g2 = np.maximum(2.0 * g2, 0.0)
    return np.where(k11 * rest >= k21 * fg_size, g2, -g2)
