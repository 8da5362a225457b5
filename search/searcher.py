"""The Searcher: one per process, shared by requests and threads; sees a rebuilt or updated index by itself.

Each call checks `index_version(root)` (one small file read and a directory listing). When it changed, the
calling thread opens and warms a new Snapshot while other threads keep answering from the old one (a server,
`refresh_in_background`: a thread of its own does, and every request keeps the old one until the new is warm); the
old one is closed when its last request finishes. A request that trips over a vanished generation is retried
once on a fresh snapshot, so no request fails because of a swap.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from bisect import bisect_left
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import numpy as np

from index import schema as S
from index.errors import IndexMissing
from index.store import index_version, version_time
from search.evaluate import Evaluator, Plan, stem_tokens, universal_tokens
from search.facets import country_label, date_histogram, language_label, top_buckets
from search.model import (MAX_ALSO, MAX_VERSIONS, ArticleView, FacetBucket, Hit, QueryError, SearchRequest, SearchResult)
from search import entities
from search.export import MAX_EXPORT_ROWS, Export
from search.model import EntityPage, IndexVersion
from search import ranking
from search.model import shown
from search.query import Word, has_positive, leaves, parse_query, plain_words, to_text
from search.rerank import rerank
from search.snapshot import Snapshot
from search.snippets import Highlight, find_marks, lead, render, snippet

log = logging.getLogger(__name__)

RECENCY_HALF_LIFE_DAYS = 30   # recency=True: an article this much older than the newest counts 1.5x, not 2x
FACET_VALUE_FACETS = ("people", "countries", "language", "source")
RARE_DOCS = 3        # did-you-mean looks at words held by at most this many articles (more in big indexes)
SUGGEST_RATIO = 20   # ... and suggests a word held by at least 20 times as many
SUGGEST_MAX_WORDS = 8   # queries of more words get no suggestion


class _Masks:
    """The request's document sets: the result set, and the sets the multi-select facets count over."""

    def __init__(self, final, base, lang, source, match, plain=None):
        self.final = final      # query & all filters
        self.base = base        # query & people & countries & date
        self.lang = lang        # language selection (None: no selection)
        self.source = source    # source selection (None: no selection)
        self.match = match      # the query's Match (None: empty query)
        self.plain = plain      # a plain-words query: (Relaxation, [(word, Match)]); None otherwise


class Searcher:
    """Answers searches over the live index under `index_root`; refreshes itself when the index changes."""

    def __init__(self, index_root: str | os.PathLike, verify_in_background: bool = False,
                 refresh_in_background: bool = False):
        self.root = Path(index_root)
        self._verify = verify_in_background   # a server checks every byte of each version it opens, once
        # a server opens a new version in a thread of its own and answers from the old one meanwhile (no request
        # waits for it); otherwise the request that notices the change opens it (a search after an add sees it)
        self._background = refresh_in_background
        self._refresher: Optional[threading.Thread] = None
        self._snap: Optional[Snapshot] = None
        self._refresh_lock = threading.Lock()
        self._refs_lock = threading.Lock()

    # -- snapshot lifecycle ------------------------------------------------------------------------------

    def _fresh(self, force: bool = False) -> Snapshot:
        snap = self._snap
        stale = force or snap is None or index_version(self.root) != snap.version
        if stale and snap is not None and not force and self._background:
            self._refresh_later()
        elif stale:
            # the first opener waits; later refreshes happen in one thread while the others use the old snapshot
            if self._refresh_lock.acquire(blocking=snap is None or force):
                try:
                    snap = self._snap
                    if force or snap is None or index_version(self.root) != snap.version:
                        new = Snapshot(self.root, reuse=snap)
                        if self._verify:
                            new.verify_in_background()
                        if snap is not None:   # a swap: build the facet arrays before requests see it
                            self._warm(new)
                        old, self._snap = self._snap, new
                        if old is not None:
                            self._retire(old)
                finally:
                    self._refresh_lock.release()
            snap = self._snap
        if snap is None:
            raise IndexMissing(self.root)
        return snap

    def _refresh_later(self) -> None:
        """Open the new version in a thread of its own (one at a time); requests keep the old one until it is
        ready and warm."""
        with self._refs_lock:
            if self._refresher is not None and self._refresher.is_alive():
                return
            self._refresher = threading.Thread(target=self._refresh_in_thread, name="newsdex-refresh", daemon=True)
            self._refresher.start()

    def _refresh_in_thread(self) -> None:
        try:
            with self._refresh_lock:
                snap = self._snap
                if snap is None or index_version(self.root) == snap.version:   # closed, or already done
                    return
                new = Snapshot(self.root, reuse=snap)
                if self._verify:
                    new.verify_in_background()
                self._warm(new)
                if self._snap is not snap:   # closed meanwhile
                    self._retire(new)
                    return
                self._snap = new
                self._retire(snap)
        except Exception:   # noqa: BLE001 - the old version keeps serving; the next request tries again
            log.exception("opening the new index version of %s failed; still serving the previous one", self.root)

    @staticmethod
    def _warm(snap: Snapshot) -> None:
        for name in FACET_VALUE_FACETS:
            snap.facet(name)
        snap.stories()
        for field in (S.TITLE, S.BODY):   # every ranked search reads these
            snap.norms(field)
        snap.title_weights()

    def _retire(self, snap: Snapshot) -> None:
        with self._refs_lock:
            snap.retired = True
            if snap.refs == 0:
                snap.close()

    @contextmanager
    def _use(self, force: bool = False):
        while True:   # a snapshot retired between _fresh() and here is never used: take the new one
            snap = self._fresh(force)
            force = False
            with self._refs_lock:
                if not snap.retired:
                    snap.refs += 1
                    break
        try:
            yield snap
        finally:
            with self._refs_lock:
                snap.refs -= 1
                if snap.retired and snap.refs == 0:
                    snap.close()

    def _run(self, fn):
        """fn(snapshot), retried once on a fresh snapshot if the index moved under it."""
        for attempt in (0, 1):
            with self._use(force=attempt == 1) as snap:
                try:
                    result = fn(snap)
                    if snap.damage is not None:   # a part that degrades alone (a facet) met a damaged file
                        raise snap.damage
                    return result
                except (QueryError, IndexMissing):
                    raise
                except Exception:
                    if attempt or (not snap.retired and index_version(self.root) == snap.version):
                        raise
                    log.info("index changed during a request; retrying on the new version")

    def refresh(self) -> None:
        """Open the live index version now (searches do this by themselves when they notice a change)."""
        with self._use():
            pass

    def close(self) -> None:
        """Release the open index files."""
        snap, self._snap = self._snap, None
        if snap is not None:
            self._retire(snap)

    # -- search ------------------------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResult:
        """Run one search (raises QueryError for a malformed query or request)."""
        t0 = time.perf_counter()
        request.validate()
        tree = parse_query(request.q)
        result = self._run(lambda snap: self._search(snap, request, tree))
        return _with_time(result, (time.perf_counter() - t0) * 1000)

    def _search(self, snap: Snapshot, request: SearchRequest, tree) -> SearchResult:
        plan = Plan()
        masks = self._masks(snap, request, tree, plan)
        final = masks.final
        stories = snap.stories()
        articles = int(np.count_nonzero(final))
        n_stories = stories.distinct(np.flatnonzero(final))
        total = articles if request.all_articles else n_stories
        positive = masks.match is not None and masks.match.score is not None and has_positive(tree)
        sort = request.sort if (request.sort != "relevance" or positive) else "newest"
        score = masks.match.score if positive else None
        tier = None
        if score is not None and sort == "relevance" and masks.plain is not None:
            score, _ = rerank(snap, Evaluator(snap), masks.plain[1], score, final)
            tier = _every_word(masks)
        if request.all_articles or n_stories == articles:   # no two matching articles share a story
            docs, scores = self._rank(snap, final, score, sort, request, tier)
        else:
            docs, scores = self._rank_stories(snap, stories, final, score, sort, request, tier)
        hl = Highlight(plan.highlight, plan.highlight_stems)
        hits = tuple(self._hit(snap, d, s, hl, request.snippets, rank, stories, not request.all_articles,
                               _missing(masks, d))
                     for rank, (d, s) in enumerate(zip(docs, scores), (request.page - 1) * request.per_page + 1))
        facets, interval = {}, "month"
        if request.facets:
            facets, interval = self._facets(snap, request, masks)
        did_you_mean = self._did_you_mean(snap, request.q, tree, articles)
        return SearchResult(request=request, total=total, hits=hits, facets=facets, date_interval=interval,
                            did_you_mean=did_you_mean, query_explain=to_text(tree), articles=articles,
                            stories=n_stories, matching=masks.plain[0] if masks.plain else None)

    def _masks(self, snap: Snapshot, request: SearchRequest, tree, plan: Plan) -> _Masks:
        ev = Evaluator(snap, plan)
        words, plain = plain_words(request.q), None
        if words:
            match, info, found = ev.plain(words)
            plain = (info, found)
        else:
            match = ev.evaluate(tree) if tree is not None else None
        if tree is not None and match is None:
            raise QueryError(f"the query {shown(request.q)} has no searchable words (only punctuation or symbols)")
        base = snap.live.copy() if match is None else (match.mask & snap.live)
        for name in request.people:
            base &= ev.term(S.PERSON, S.person_key(name), scored=False).mask
        for code in request.countries:
            base &= ev.term(S.COUNTRY, code.strip().upper(), scored=False).mask
        if request.date_from or request.date_to:
            base &= ev.date_mask(request.date_from, request.date_to)
        lang = self._any_of(ev, S.LANG, [v.strip().lower() for v in request.languages])
        source = self._any_of(ev, S.SOURCE, [self._source_value(snap, v) for v in request.sources])
        final = base
        if lang is not None:
            final = final & lang
        if source is not None:
            final = final & source
        return _Masks(final, base, lang, source, match, plain)

    @staticmethod
    def _any_of(ev: Evaluator, field: str, values: list[str]):
        if not values:
            return None
        mask = ev.empty().mask
        for v in values:
            mask |= ev.term(field, v, scored=False).mask
        return mask

    @staticmethod
    def _source_value(snap: Snapshot, value: str) -> str:
        """The source as indexed: exact, else the one source equal ignoring case and spacing."""
        ff = snap.facet("source")
        if value in ff.ords:
            return value
        key = " ".join(value.casefold().split())
        for v in ff.values:
            if " ".join(v.casefold().split()) == key:
                return v
        return value

    @staticmethod
    def _sort_key(snap: Snapshot, cand: np.ndarray, score, sort: str, request: SearchRequest,
                  tier=None) -> np.ndarray:
        """The ranking key of each candidate (higher first; ties: newer first, then lower doc number); with `tier`
        (relevance only), the candidates in it before all others."""
        ts = snap.ts[cand]
        if sort == "relevance":
            key = score[cand].astype(np.float64)
            if request.recency:
                newest = int(snap.day[snap.dated & snap.live].max()) if snap.dated.any() else 0
                age = np.where(snap.dated[cand], newest - snap.day[cand], 10 ** 6)
                key = key * (1.0 + 0.5 ** (np.maximum(age, 0) / RECENCY_HALF_LIFE_DAYS))
        elif sort == "newest":
            key = ts.astype(np.float64)
        else:
            key = np.where(snap.dated[cand], -ts.astype(np.float64), -np.inf)
        if tier is not None and sort == "relevance" and len(key):
            key = key + np.where(tier[cand], key.max() - key.min() + 1.0, 0.0)
        return key

    def _rank_stories(self, snap: Snapshot, stories, final: np.ndarray, score, sort: str,
                      request: SearchRequest, tier=None):
        """(doc numbers, scores) of the requested page with one hit per story.

        Sorted by relevance, a story is shown by its best-ranked matching article, at that article's rank (the
        same order as with every article listed, keeping each story's first occurrence). Sorted by date, a story
        is shown by its earliest matching article (the original, not the latest copy; undated ones only when none
        is dated) and placed by that article's date. Only articles of stories with copies are sorted to pick the
        representatives; the page is then ranked like any other."""
        cand = np.flatnonzero(final)
        if not len(cand):
            return [], []
        shared = cand[stories.size[stories.ord[cand]] > 1]   # only copies compete: a story of one is its own hit
        ords = stories.ord[shared]
        if sort == "relevance":
            key = self._sort_key(snap, shared, score, sort, request, tier)
            best = np.lexsort((shared, -snap.ts[shared], -key, ords))   # same tie-breaks as _rank
        else:
            best = np.lexsort((shared, np.where(snap.dated[shared], snap.ts[shared], 2 ** 62), ords))
        _, first = np.unique(ords[best], return_index=True)
        reps = final.copy()
        reps[shared] = False
        reps[shared[best[first]]] = True
        return self._rank(snap, reps, score, sort, request, tier)

    def _rank(self, snap: Snapshot, final: np.ndarray, score, sort: str, request: SearchRequest, tier=None):
        """(doc numbers, scores) of the requested page (the scores without the tier's lift)."""
        cand = np.flatnonzero(final)
        start = (request.page - 1) * request.per_page
        k = min(start + request.per_page, len(cand))
        if start >= len(cand):
            return [], []
        ts = snap.ts[cand]
        key = self._sort_key(snap, cand, score, sort, request, tier)
        if k < len(cand):
            top = np.argpartition(-key, k - 1)[:k]
            # widen to every candidate tied with the cut-off so ties are broken the same way on every page
            cut = key[top].min()
            top = np.flatnonzero(key >= cut)
        else:
            top = np.arange(len(cand))
        order = top[np.lexsort((cand[top], -ts[top], -key[top]))][start:k]
        docs = cand[order].tolist()
        scores = (self._sort_key(snap, cand[order], score, sort, request).tolist() if sort == "relevance"
                  else [None] * len(docs))
        return docs, scores

    def _hit(self, snap: Snapshot, docnum: int, score, hl: Highlight, with_snippet: bool, rank: int,
             stories=None, with_also: bool = False, missing: tuple = ()) -> Hit:
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
                    also = tuple(self._version(snap, int(o2)) for o2 in others[:MAX_ALSO])
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

    @staticmethod
    def _version(snap: Snapshot, docnum: int) -> dict:
        """One version of a story, as a collapsed hit and the article page list it."""
        stored = snap.stored(docnum)
        art = S.article_from_stored(stored)
        return {"id": art.id, "source": art.source, "title": art.title,
                "published": art.published.isoformat() if art.published else None}

    # -- facets ------------------------------------------------------------------------------------------

    def _facets(self, snap: Snapshot, request: SearchRequest, masks: _Masks):
        limit = request.facet_limit
        people_keys = [S.person_key(p) for p in request.people]
        st = snap.stories() if request.count_stories else None
        specs = {
            "people": lambda: top_buckets(snap.facet("people").count(masks.final, st), snap.facet("people").values,
                                          limit, people_keys, snap.person_name, snap.person_name),
            "countries": lambda: top_buckets(snap.facet("countries").count(masks.final, st),
                                             snap.facet("countries").values, limit,
                                             [c.strip().upper() for c in request.countries], country_label),
            "language": lambda: top_buckets(
                snap.facet("language").count(masks.base if masks.source is None else masks.base & masks.source,
                                             st),
                snap.facet("language").values, limit, [v.strip().lower() for v in request.languages],
                language_label),
            "source": lambda: top_buckets(
                snap.facet("source").count(masks.base if masks.lang is None else masks.base & masks.lang, st),
                snap.facet("source").values, limit, [self._source_value(snap, v) for v in request.sources],
                lambda v: v),
        }
        facets = {}
        for name, make in specs.items():
            try:
                facets[name] = make()
            except Exception:   # one failing facet degrades alone (logged), it does not fail the search
                log.exception("facet %s failed", name)
                facets[name] = ()
        interval = "month"
        try:
            interval, facets["date"] = date_histogram(snap, masks.final, request.date_from, request.date_to, st)
        except Exception:
            log.exception("date histogram failed")
            facets["date"] = ()
        return facets, interval

    def facet_values(self, facet: str, prefix: str = "", limit: int = 20,
                     request: Optional[SearchRequest] = None) -> list[FacetBucket]:
        """Values of one facet whose value or label (any word of it) starts with `prefix`, most frequent first.

        Counts are articles over the whole index, or over `request`'s result set (with multi-select) when given,
        counting stories or articles as the request says."""
        if facet not in FACET_VALUE_FACETS:
            raise QueryError(f"unknown facet {facet!r}; valid facets: {', '.join(FACET_VALUE_FACETS)}")
        if not 1 <= limit <= 1000:
            raise QueryError(f"limit must be between 1 and 1000, not {limit!r}")
        tree = parse_query(request.q) if request is not None else None

        def run(snap: Snapshot):
            ff = snap.facet(facet)
            if request is None:
                counts = ff.totals
            else:
                masks = self._masks(snap, request, tree, Plan())
                mask = {"language": masks.base if masks.source is None else masks.base & masks.source,
                        "source": masks.base if masks.lang is None else masks.base & masks.lang
                        }.get(facet, masks.final)
                counts = ff.count(mask, snap.stories() if request.count_stories else None)
            label = {"people": snap.person_name, "countries": country_label, "language": language_label,
                     "source": lambda v: v}[facet]
            ords = self._prefix_ords(ff, facet, prefix, label)
            ords = [i for i in ords if counts[i] > 0]
            ords.sort(key=lambda i: (-int(counts[i]), ff.values[i]))
            value_of = snap.person_name if facet == "people" else (lambda v: v)
            return [FacetBucket(value_of(ff.values[i]), label(ff.values[i]), int(counts[i]))
                    for i in ords[:limit]]

        return self._run(run)

    @staticmethod
    def _prefix_ords(ff, facet: str, prefix: str, label) -> list[int]:
        key = " ".join((S.person_key(prefix) if facet == "people" else prefix.casefold()).split())
        if not key:
            return list(range(len(ff.values)))
        if facet == "people":   # any word of the name (surname too), or the whole name, starts with the prefix
            words, ords = ff.words()
            found = set()
            i = bisect_left(words, key.split()[0])
            while i < len(words) and words[i].startswith(key.split()[0]):
                found.add(ords[i])
                i += 1
            return [o for o in found if key in ff.values[o] or " " not in key]
        out = []
        for i, v in enumerate(ff.values):
            texts = [v.casefold()] + label(v).casefold().split() + [label(v).casefold()]
            if any(t.startswith(key) for t in texts):
                out.append(i)
        return out

    # -- did you mean --------------------------------------------------------------------------------------

    def _did_you_mean(self, snap: Snapshot, q: str, tree, total: int) -> Optional[str]:
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
            best = self._suggest(snap, word, max(df, 1) * SUGGEST_RATIO if df else 1)
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

    @staticmethod
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

    # -- articles --------------------------------------------------------------------------------------------

    def article(self, article_id: str, with_story: bool = True) -> Optional[ArticleView]:
        """One article by id, or None; with its story's other live versions, earliest first (with_story=False:
        without them, cheaper for a long story's members)."""
        def run(snap: Snapshot):
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
            versions = tuple(self._version(snap, int(m)) for m in members[members != d][:MAX_VERSIONS])
            return ArticleView(art, tuple(v["id"] for v in versions), story_id, versions, len(members))
        return self._run(run)

    def more_like_this(self, article_id: str, n: int = 10) -> list[Hit]:
        """Articles sharing the most distinctive words of one article (not itself or its duplicates)."""
        def run(snap: Snapshot):
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
                hits.append(self._hit(snap, int(o), float(score[o]), hl, True, len(hits) + 1, snap.stories()))
                if len(hits) == n:
                    break
            return hits
        return self._run(run)

    # -- stats and explain -----------------------------------------------------------------------------------

    def stats(self) -> dict:
        """Counts for `newsdex stats`: articles, stories (near-duplicate clusters; duplicates = articles - stories),
        per language/source, dates, people, countries, index version."""
        def run(snap: Snapshot):
            live_dated = snap.dated & snap.live
            days = snap.day[live_dated]
            lang, source = snap.facet("language"), snap.facet("source")
            return {
                "articles": snap.n_docs,
                "stories": snap.stories().count,
                "duplicates": snap.n_docs - snap.stories().count,
                "deleted_pending_merge": snap.n_all - snap.n_docs,
                "languages": {v: int(c) for v, c in sorted(zip(lang.values, lang.totals), key=lambda x: -x[1])},
                "sources": {v: int(c) for v, c in sorted(zip(source.values, source.totals), key=lambda x: -x[1])},
                "people": int(np.count_nonzero(snap.facet("people").totals)),
                "countries": int(np.count_nonzero(snap.facet("countries").totals)),
                "first_published": S.day_to_date(int(days.min())).isoformat() if len(days) else None,
                "last_published": S.day_to_date(int(days.max())).isoformat() if len(days) else None,
                "undated": int(np.count_nonzero(snap.live & ~snap.dated)),
                "segments": len(snap.leaves),
                "generation": snap.version[0],
                "commit": snap.version[1],
            }
        return self._run(run)

    def explain_hits(self, request: SearchRequest, ids: tuple[str, ...] = ()) -> dict:
        """Elasticsearch's explain: for the articles `ids` (default: the request's page of hits), what each query
        word contributed to the score. Raises QueryError for a malformed query or an unknown id."""
        request.validate()
        tree = parse_query(request.q)
        if tree is None:
            raise QueryError("explain needs a query (q): an empty query is sorted by date, not scored")

        def run(snap: Snapshot) -> dict:
            masks = self._masks(snap, request, tree, Plan())
            ev = Evaluator(snap)
            score = masks.match.score if masks.match is not None else None
            feedback = {}
            if score is not None and masks.plain is not None:
                score, feedback = rerank(snap, ev, masks.plain[1], score, masks.final)
            docs = []
            for i in ids or [h.id for h in self._search(snap, request, tree).hits]:
                d = snap.docnum_of(i)
                if d is None:
                    raise QueryError(f"no article with id {i[:100]!r}")
                docs.append(d)
            return {"query": request.q, "parsed": to_text(tree),
                    "matching": masks.plain[0].to_json() if masks.plain else None,
                    "hits": [_explain_doc(snap, ev, masks, tree, feedback, d,
                                          float(score[d]) if score is not None and masks.final[d] else 0.0)
                             for d in docs]}
        return self._run(run)

    def explain(self, q: str) -> str:
        """The parsed form of a query and what it searches, field by field (raises QueryError)."""
        tree = parse_query(q)

        def run(snap: Snapshot):
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
        return self._run(run)

    # -- entity pages, exports, version (search/entities.py, search/export.py) --------------------------------

    def entity(self, kind: str, key: str, request: SearchRequest, rank: str = "score",
               limit: int = entities.MAX_WITH, latest: int = 10) -> EntityPage:
        """A person's or country's page over the request's result set: `articles` is what a search with the
        request and this filter counts (the same masks). Raises UnknownEntity (404, with suggestions), QueryError."""
        request.validate()
        entities.check(kind, rank)
        tree = parse_query(request.q)

        def run(snap: Snapshot) -> EntityPage:
            value = entities.resolve(snap, kind, key)
            base = self._masks(snap, request, tree, Plan()).final
            page, fg = entities.page(snap, kind, value, base, request, rank, limit)
            return replace(page, latest=self._latest(snap, fg, request, latest))
        return self._run(run)

    def _latest(self, snap: Snapshot, mask: np.ndarray, request: SearchRequest, n: int) -> tuple[Hit, ...]:
        """The newest n hits of `mask` (one per story unless request.all_articles), as a search lists them."""
        if n <= 0:
            return ()
        page = replace(request, page=1, per_page=n)
        stories = snap.stories()
        if request.all_articles:
            docs, _ = self._rank(snap, mask, None, "newest", page)
        else:
            docs, _ = self._rank_stories(snap, stories, mask, None, "newest", page)
        hl = Highlight(set())
        return tuple(self._hit(snap, d, None, hl, False, rank, stories, not request.all_articles)
                     for rank, d in enumerate(docs, 1))

    def export(self, request: SearchRequest, limit: int = MAX_EXPORT_ROWS) -> Export:
        """Every article the request matches (one row per article, newest first or oldest first with
        sort=oldest, at most `limit`), streamed from one index version: close() the Export (or use `with`)."""
        request.validate()
        if not isinstance(limit, int) or not 1 <= limit <= MAX_EXPORT_ROWS:
            raise QueryError(f"limit must be between 1 and {MAX_EXPORT_ROWS}, not {limit!r}")
        tree = parse_query(request.q)
        held = ExitStack()
        snap = held.enter_context(self._use())
        try:
            final = self._masks(snap, request, tree, Plan()).final
        except BaseException:
            held.close()
            raise
        return Export(snap, final, request.sort, limit, held.close)

    def version(self) -> IndexVersion:
        """The live index version on disk and when it became live (cheap: a file read and two stats)."""
        generation, commit = index_version(self.root)
        modified = version_time(self.root)
        return IndexVersion(generation, commit,
                            datetime.fromtimestamp(modified, timezone.utc) if modified is not None else None)


def _explain_doc(snap: Snapshot, ev: Evaluator, masks: _Masks, tree, feedback: dict, doc: int,
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
    return {"id": art.id, "title": art.title, "score": score, "missing": list(_missing(masks, doc)),
            "words": words, "expansion": expansion}


def _every_word(masks: _Masks) -> Optional[np.ndarray]:
    """A relaxed query's articles holding every word (ranked before the others), else None."""
    if masks.plain is None or not masks.plain[0].relaxed:
        return None
    found = masks.plain[1]
    every = found[0][1].mask.copy()
    for _, m in found[1:]:
        every &= m.mask
    return every


def _missing(masks: _Masks, docnum: int) -> tuple[str, ...]:
    """The words of a relaxed plain-words query that an article lacks (Google's "Missing: ...")."""
    if masks.plain is None or not masks.plain[0].relaxed:
        return ()
    return tuple(word for word, m in masks.plain[1] if not m.mask[docnum])


def _with_time(result: SearchResult, ms: float) -> SearchResult:
    from dataclasses import replace
    return replace(result, took_ms=ms)


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


def search(request: SearchRequest, index_root: str | os.PathLike) -> SearchResult:
    """Run one search with a throwaway Searcher (reuse a Searcher when answering many)."""
    searcher = Searcher(index_root)
    try:
        return searcher.search(request)
    finally:
        searcher.close()
