"""Near-duplicate detection (index/stories.py): precision on real pairs, recall on synthetic copies, and cost.

    python bench/dedup.py [CORPORA] [--pairs-out FILE] [--seed N] [--runs N] [--containment X] [--jaccard X]

CORPORA defaults to ../shared/corpora from the repository root; it needs reuters21578/reuters21578-dev.jsonl.gz
and bbc-news-2225/bbc.jsonl.gz (read only; nothing from them is written into the repository).

1. Precision. Every article of both corpora goes through a StoryIndex in corpus order; every (story
   representative, member) pair it forms is a claimed duplicate. Each pair is judged by a criterion that shares
   nothing with shingles or MinHash (see `judge`): a character-level diff of the bodies, plus the dates. All pairs
   are written to --pairs-out (ids, estimated similarity, judge's figures and verdict, the first 100 characters
   of each) for checking by eye; the figure is over a random sample of at least 200 of them and over all.
2. Recall. Real articles (>= 60 words) are re-published in five ways: changed headline, added boilerplate lines,
   trimmed last paragraphs, small word edits, and a mix of all of them, dated 0-48 h later. Each is assigned into
   an index that already holds both corpora (the distractors); for half of the originals a copy arrives before the
   original. A copy is found when it ends up in its original's story.
3. Cost. CPU time (process time, robust to the other jobs on a shared machine; medians of --runs runs) of
   `signature` and of `StoryIndex.assign` per article, and their share of 2 ms per article (500 articles/s
   end-to-end indexing).
"""
from __future__ import annotations

import argparse
import difflib
import gzip
import json
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.stories import StoryIndex, Thresholds, signature, similarity  # noqa: E402

WINDOW = timedelta(days=3)


@dataclass
class Doc:
    id: str
    title: str
    body: str
    published: Optional[datetime]


# --- corpora -------------------------------------------------------------------------------------------------------

_SIGNATURE = re.compile(r"\s*\bReuter\s*$", re.I)


def reuters_docs(path: Path) -> list[Doc]:
    """Reuters-21578 as index/readers.py makes it: dateline + paragraphs, the closing "Reuter" dropped."""
    docs = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            body = _SIGNATURE.sub("", (rec.get("body") or "").strip())
            paras = [" ".join(p.split()) for p in re.split(r"\n\s{2,}|\n\s*\n", body) if p.strip()]
            if paras and rec.get("dateline"):
                paras[0] = f"{' '.join(rec['dateline'].split())} {paras[0]}"
            title = " ".join((rec.get("title") or "").split())
            body = "\n\n".join(paras) or title
            if not body:
                continue
            when = datetime.fromisoformat(rec["date"]).replace(tzinfo=timezone.utc) if rec.get("date") else None
            docs.append(Doc(f"reuters-{rec['newid']}", title, body, when))
    return docs


def bbc_docs(path: Path) -> list[Doc]:
    """BBC News 2004-05 (undated)."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [Doc(f"bbc-{r['id']}", r["title"], r["text"].strip(), None) for r in map(json.loads, fh)]


# --- the independent judge -----------------------------------------------------------------------------------------

def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def char_containment(a: str, b: str) -> float:
    """Share of the shorter text's characters that a character-level diff (difflib, no junk heuristic) finds,
    in order, in the longer one."""
    short, long_ = sorted((_norm(a), _norm(b)), key=len)
    if not short:
        return 0.0
    blocks = difflib.SequenceMatcher(None, short, long_, autojunk=False).get_matching_blocks()
    return sum(m.size for m in blocks) / len(short)


_FACT = re.compile(r"\b(?:\w*\d[\w.,/-]*|[A-Z][\w'-]*)")
_WORDS = re.compile(r"\w+")


def lead_facts(a: str, b: str) -> float:
    """Share of the facts (numbers, capitalised words: names, places, amounts, dates) in the first 40 words of
    the shorter body that appear anywhere in the longer one. Templated items about different companies or days
    share their wording but not these; updates and copies of one story keep their lead."""
    short, long_ = sorted((a, b), key=len)
    lead = " ".join(short.split()[:40])
    facts = {m.group().lower().rstrip(".,") for m in _FACT.finditer(lead)}
    words = set(_WORDS.findall(long_.lower())) | {m.group().lower().rstrip(".,") for m in _FACT.finditer(long_)}
    return len(facts & words) / len(facts) if facts else 1.0


def judge(a: Doc, b: Doc) -> tuple[bool, float, float, str]:
    """Same story? Yes when (1) at least 80% of the shorter body's characters are matched in order in the longer
    one by a character-level diff, (2) at least 80% of the facts of the shorter's lead are in the longer, and
    (3) if both are dated, they are at most 3 days apart. Returns (verdict, char containment, lead facts, reason)."""
    if a.published and b.published and abs(a.published - b.published) > WINDOW:
        return False, 0.0, 0.0, "dated more than 3 days apart"
    c, f = char_containment(a.body, b.body), lead_facts(a.body, b.body)
    why = "; ".join(r for r, bad in (("character diff below 0.8", c < 0.8), ("lead facts below 0.8", f < 0.8))
                    if bad)
    return not why, c, f, why


# --- synthetic copies ----------------------------------------------------------------------------------------------

OUTLETS = ["Gulf Times", "The Daily Ledger", "Northern Echo Online", "Business Wire Asia", "Metro Herald",
           "Pacific Courier", "El Observador", "The Riverside Post"]
BOILERPLATE = [
    "This article first appeared in {o}.",
    "This story was originally published by {o} and is republished here with permission.",
    "(c) {y} {o}. All rights reserved. Distributed by MENAFN.",
    "Follow {o} on Facebook, X and LinkedIn for the latest updates.",
    "Read more: the day's other top stories from {o}.",
    "Editing by Jane Okafor; additional reporting by {o} staff.",
    "Subscribe to the {o} newsletter to get stories like this in your inbox.",
    "Disclaimer: the views expressed are those of the author and do not necessarily reflect those of {o}.",
]
SWAPS = {"said": "stated", "says": "states", "told": "informed", "would": "will", "percent": "pct",
         "pct": "percent", "mln": "million", "million": "mln", "company": "firm", "government": "administration",
         "also": "additionally", "but": "however", "about": "around", "rose": "increased", "fell": "declined"}


def _paragraphs(body: str) -> list[str]:
    return [p for p in body.split("\n\n") if p.strip()]


def add_boilerplate(body: str, rng: random.Random) -> str:
    lines = [t.format(o=rng.choice(OUTLETS), y=rng.randint(2020, 2026)) for t in rng.sample(BOILERPLATE,
                                                                                             rng.randint(1, 3))]
    head = [lines.pop()] if len(lines) > 1 and rng.random() < 0.5 else []
    return "\n\n".join(head + _paragraphs(body) + lines)


def trim(body: str, rng: random.Random) -> str:
    """Cut the last paragraphs, keeping at least half of them (and of the words)."""
    paras = _paragraphs(body)
    words = len(body.split())
    keep = len(paras) - rng.randint(1, max(1, len(paras) // 2))
    keep = max(1, keep)
    while keep < len(paras) and len(" ".join(paras[:keep]).split()) < words / 2:
        keep += 1
    if keep == len(paras):   # one long paragraph: cut its last sentences instead
        sentences = re.split(r"(?<=[.!?])\s+", paras[-1])
        cut = max(1, (len(sentences) + 1) // 2)
        paras[-1] = " ".join(sentences[:cut]) if len(sentences) > 1 else paras[-1]
        return "\n\n".join(paras)
    return "\n\n".join(paras[:keep])


def edit_words(body: str, rng: random.Random, share: float = 0.03) -> str:
    """Small edits: about `share` of the words swapped for a synonym, dropped, or a word inserted."""
    out = []
    for para in _paragraphs(body):
        words = para.split(" ")
        new = []
        for w in words:
            r = rng.random()
            if r < share:
                key = w.lower().strip(".,")
                kind = rng.random()
                if key in SWAPS and kind < 0.6:
                    new.append(w.replace(key, SWAPS[key]) if w.islower() else SWAPS[key])
                elif kind < 0.8:
                    continue   # dropped
                else:
                    new.extend([w, rng.choice(["reportedly", "also", "now", "still", "officially"])])
            else:
                new.append(w)
        out.append(" ".join(new))
    return "\n\n".join(out)


def variant(doc: Doc, kind: str, rng: random.Random) -> Doc:
    body = doc.body
    title = f"{rng.choice(['UPDATE 1:', 'Report:', 'Exclusive:', 'WATCH:'])} {doc.title.title()}"
    if kind in ("boilerplate", "mix"):
        body = add_boilerplate(body, rng)
    if kind in ("trim", "mix"):
        body = trim(body, rng) if kind == "trim" else add_boilerplate(trim(doc.body, rng), rng)
    if kind in ("edits", "mix"):
        body = edit_words(body, rng)
    when = doc.published + timedelta(hours=rng.uniform(0, 48)) if doc.published else None
    return Doc(f"{doc.id}~{kind}", title, body, when)


KINDS = ("headline", "boilerplate", "trim", "edits", "mix")


# --- the three measurements ----------------------------------------------------------------------------------------

def build(docs: list[Doc], sigs: dict, thresholds: Thresholds) -> StoryIndex:
    ix = StoryIndex(thresholds)
    for d in docs:
        ix.assign(d.id, sigs[d.id], d.published)
    return ix


def precision(docs: list[Doc], ix: StoryIndex, sigs: dict, out: Path, sample: int, rng: random.Random) -> dict:
    by_id = {d.id: d for d in docs}
    pairs = ix.duplicate_pairs()
    rows = []
    for rep, member in pairs:
        a, b = by_id[rep], by_id[member]
        j, c = similarity(sigs[rep], sigs[member])
        ok, cc, fc, why = judge(a, b)
        rows.append((rep, member, j, c, ok, cc, fc, why, a, b))
    rng.shuffle(rows)
    with open(out, "w", encoding="utf-8") as fh:
        fh.write("# verdict\tsampled\trepresentative\tmember\tminhash_jaccard\tminhash_containment\t"
                 "char_containment\tlead_facts\treason\trep_first_100\tmember_first_100\n")
        for i, (rep, member, j, c, ok, cc, fc, why, a, b) in enumerate(rows):
            fh.write("\t".join([("SAME" if ok else "DIFFERENT"), "yes" if i < sample else "no", rep, member,
                                f"{j:.2f}", f"{c:.2f}", f"{cc:.2f}", f"{fc:.2f}", why, _flat(a.body[:100]),
                                _flat(b.body[:100])]) + "\n")
    sampled = rows[:sample]
    return {"pairs": len(rows), "sampled": len(sampled),
            "precision_sample": sum(r[4] for r in sampled) / max(1, len(sampled)),
            "precision_all": sum(r[4] for r in rows) / max(1, len(rows)),
            "by_corpus": {name: (sum(r[4] for r in rows if r[0].startswith(name)),
                                 sum(1 for r in rows if r[0].startswith(name))) for name in ("reuters", "bbc")}}


def _flat(text: str) -> str:
    return " ".join(text.split())


def recall(docs: list[Doc], sigs: dict, n_originals: int, rng: random.Random, thresholds: Thresholds) -> dict:
    pool = [d for d in docs if len(d.body.split()) >= 60]
    originals = rng.sample(pool, n_originals)
    chosen = {d.id for d in originals}
    ix = build([d for d in docs if d.id not in chosen], sigs, thresholds)
    found = {k: [0, 0] for k in KINDS}
    misses = []
    for n, doc in enumerate(originals):
        copies = [variant(doc, kind, rng) for kind in KINDS]
        order = [doc] + copies
        if n % 2:   # a copy comes first, the original after it
            first = rng.randrange(len(copies))
            order = [copies[first], doc] + copies[:first] + copies[first + 1:]
        for d in order:
            ix.assign(d.id, d.body, d.published)
        for kind, copy in zip(KINDS, copies):
            ok = ix.story_of(copy.id) == ix.story_of(doc.id)
            found[kind][0] += ok
            found[kind][1] += 1
            if not ok:
                j, c = similarity(signature(doc.body), signature(copy.body))
                misses.append((copy.id, round(j, 2), round(c, 2)))
    total = [sum(v[0] for v in found.values()), sum(v[1] for v in found.values())]
    return {"variants": total[1], "recall": total[0] / total[1],
            "per_kind": {k: round(v[0] / v[1], 3) for k, v in found.items()}, "misses": misses[:20]}


def cost(docs: list[Doc], runs: int) -> dict:
    sig_ms, assign_ms = [], []
    for _ in range(runs):
        t0 = time.process_time()
        sigs = {d.id: signature(d.body) for d in docs}
        t1 = time.process_time()
        ix = StoryIndex()
        for d in docs:
            ix.assign(d.id, sigs[d.id], d.published)
        t2 = time.process_time()
        sig_ms.append((t1 - t0) * 1000 / len(docs))
        assign_ms.append((t2 - t1) * 1000 / len(docs))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stories.bin"
        t0 = time.perf_counter()
        ix.save(path)
        t1 = time.perf_counter()
        StoryIndex.load(path)
        t2 = time.perf_counter()
        size = path.stat().st_size
    sig, assign = statistics.median(sig_ms), statistics.median(assign_ms)
    return {"articles": len(docs), "words_per_article": round(sum(len(d.body.split()) for d in docs) / len(docs)),
            "signature_ms": round(sig, 3), "assign_ms": round(assign, 3),
            "share_of_2ms_cpu": round((sig + assign) / 2.0, 3),
            "share_of_2ms_wall_2_workers": round((sig / 2 + assign) / 2.0, 3),
            "save_s": round(t1 - t0, 2), "load_s": round(t2 - t1, 2), "file_bytes_per_article": size // len(docs)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("corpora", nargs="?", default=str(ROOT.parent / "shared" / "corpora"))
    ap.add_argument("--pairs-out", default=str(Path(tempfile.gettempdir()) / "newsdex-dedup-pairs.tsv"))
    ap.add_argument("--sample", type=int, default=300, help="pairs in the random precision sample")
    ap.add_argument("--originals", type=int, default=120, help="real articles to copy (5 copies each)")
    ap.add_argument("--runs", type=int, default=3, help="runs of the cost measurement (median)")
    ap.add_argument("--seed", type=int, default=8)
    default = Thresholds()
    ap.add_argument("--containment", type=float, default=default.containment)
    ap.add_argument("--jaccard", type=float, default=default.jaccard)
    args = ap.parse_args(argv)
    corpora = Path(args.corpora)
    reuters = corpora / "reuters21578" / "reuters21578-dev.jsonl.gz"
    bbc = corpora / "bbc-news-2225" / "bbc.jsonl.gz"
    if not reuters.exists() or not bbc.exists():
        print(f"corpora not found under {corpora}", file=sys.stderr)
        return 2
    docs = reuters_docs(reuters) + bbc_docs(bbc)
    thresholds = Thresholds(containment=args.containment, jaccard=args.jaccard)
    print(f"{len(docs)} articles; {thresholds}")
    sigs = {d.id: signature(d.body) for d in docs}
    ix = build(docs, sigs, thresholds)
    print("stories:", ix.stats())
    p = precision(docs, ix, sigs, Path(args.pairs_out), args.sample, random.Random(args.seed))
    print(f"precision: {p['precision_sample']:.3f} on a random sample of {p['sampled']} pairs, "
          f"{p['precision_all']:.3f} on all {p['pairs']} pairs {p['by_corpus']} (listed in {args.pairs_out})")
    r = recall(docs, sigs, args.originals, random.Random(args.seed), thresholds)
    print(f"recall: {r['recall']:.3f} over {r['variants']} copies; per kind {r['per_kind']}")
    if r["misses"]:
        print("  missed (id, minhash jaccard, containment):", r["misses"])
    for name, corpus in (("reuters", reuters_docs(reuters)), ("bbc", bbc_docs(bbc))):
        print(f"cost on {name} (CPU, median of {args.runs}): {cost(corpus, args.runs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
