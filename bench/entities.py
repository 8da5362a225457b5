"""Quality and speed of the people and countries extractors (issue 3).

    .venv/bin/python bench/entities.py [CORPORA] [--split dev|train] [--only conll,reuters,seed,speed] [--runs 3]

CORPORA defaults to ../shared/corpora relative to the repo root. Figures:
- CoNLL-2003 (dev = valid.txt.gz; --split train for tuning): PER mentions, exact span P/R/F1 (micro), and the
  per-document people set: micro P/R/F1 over (document, person_key(mention text)) pairs.
  The text of a document is its sentences, tokens joined by spaces, sentences separated by a blank line.
- Reuters-21578 (labelled articles: PLACES non-empty): countries the extractor marks `about`, micro P/R/F1 over
  (article, ISO code) pairs, PLACES mapped with places-iso.json. Text = title, dateline and body, one per line
  (passed as the body, as `newsdex entities` would); a second figure passes the title as `title=`.
- Speed: Reuters articles per second, extraction alone, one process, median of --runs passes.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.entities import make_extractor  # noqa: E402
from index.schema import person_key  # noqa: E402


def conll_docs(path: Path):
    """Yield (text, gold PER spans) per document."""
    docs, sents, sent = [], [], []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if line.startswith("-DOCSTART-"):
                if sent:
                    sents.append(sent)
                if sents:
                    docs.append(sents)
                sents, sent = [], []
            elif not line.strip():
                if sent:
                    sents.append(sent)
                sent = []
            else:
                parts = line.split()
                sent.append((parts[0], parts[-1]))
    if sent:
        sents.append(sent)
    if sents:
        docs.append(sents)
    for sents in docs:
        text_parts, gold, offset = [], [], 0
        for k, sent in enumerate(sents):
            if k:
                text_parts.append("\n\n")
                offset += 2
            start = None
            for t, (tok, tag) in enumerate(sent):
                if t:
                    text_parts.append(" ")
                    offset += 1
                if start is not None and not tag.startswith("I-PER"):
                    gold.append((start, end))
                    start = None
                if tag == "B-PER" or (tag == "I-PER" and start is None):
                    start = offset
                text_parts.append(tok)
                offset += len(tok)
                end = offset
            if start is not None:
                gold.append((start, end))
        yield "".join(text_parts), gold


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def bench_conll(corpora: Path, split: str, show: int = 0) -> None:
    path = corpora / "conll2003-en" / ("valid.txt.gz" if split == "dev" else "train.txt.gz")
    ex = make_extractor()
    m_tp = m_fp = m_fn = d_tp = d_fp = d_fn = 0
    errors = []
    for text, gold in conll_docs(path):
        people, _ = ex.extract(text, "en")
        pred = {m for p in people for m in p.mentions}
        g = set(gold)
        m_tp += len(pred & g)
        m_fp += len(pred - g)
        m_fn += len(g - pred)
        gk = {person_key(text[s:e]) for s, e in g}
        pk = {person_key(text[s:e]) for s, e in pred}
        d_tp += len(pk & gk)
        d_fp += len(pk - gk)
        d_fn += len(gk - pk)
        if show:
            for s, e in sorted(pred - g):
                errors.append(("FP", text[max(0, s - 30):s] + "[[" + text[s:e] + "]]" + text[e:e + 30]))
            for s, e in sorted(g - pred):
                errors.append(("FN", text[max(0, s - 30):s] + "[[" + text[s:e] + "]]" + text[e:e + 30]))
    print(f"CoNLL-2003 {split}: PER mentions P/R/F1 = %.3f / %.3f / %.3f" % prf(m_tp, m_fp, m_fn))
    print(f"CoNLL-2003 {split}: per-document people  P/R/F1 = %.3f / %.3f / %.3f" % prf(d_tp, d_fp, d_fn))
    if show:
        import random
        random.Random(1).shuffle(errors)
        for kind, ctx in errors[:show]:
            print(kind, ctx.replace("\n", " / "))


def reuters_articles(corpora: Path):
    places = json.loads((corpora / "reuters21578" / "places-iso.json").read_text())
    with gzip.open(corpora / "reuters21578" / "reuters21578-dev.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            gold = {places[p] for p in d["places"] if p in places}
            yield d, gold


def bench_reuters(corpora: Path, split: str, show: int = 0) -> None:
    ex = make_extractor()
    counts = {"text": [0, 0, 0], "title=": [0, 0, 0]}
    errors = []
    for d, gold in reuters_articles(corpora):
        if not d["places"]:
            continue
        if split == "train" and d["lewissplit"] != "TRAIN" or split == "test" and d["lewissplit"] != "TEST":
            continue
        title, dateline, body = d["title"] or "", d["dateline"] or "", d["body"] or ""
        for mode in counts:
            if mode == "text":
                _, countries = ex.extract("\n".join(x for x in (title, dateline, body) if x), "en")
            else:
                _, countries = ex.extract("\n".join(x for x in (dateline, body) if x), "en", title=title)
            pred = {c.code for c in countries if c.about}
            c = counts[mode]
            c[0] += len(pred & gold)
            c[1] += len(pred - gold)
            c[2] += len(gold - pred)
            if show and mode == "text" and pred != gold:
                errors.append((d["newid"], sorted(pred - gold), sorted(gold - pred), title))
    for mode, c in counts.items():
        label = "title+dateline+body as text" if mode == "text" else "title passed as title="
        print(f"Reuters-21578 ({split}, {label}): about-country P/R/F1 = %.3f / %.3f / %.3f" % prf(*c))
    if show:
        import random
        random.Random(1).shuffle(errors)
        for e in errors[:show]:
            print(e)


def bench_speed(corpora: Path, runs: int) -> None:
    """Articles per second, by wall clock and by the process's CPU time (the fairer figure on a shared machine)."""
    ex = make_extractor()
    texts = ["\n".join(x for x in (d["title"], d["dateline"], d["body"]) if x) for d, _ in reuters_articles(corpora)]
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        for t in texts:
            ex.extract(t, "en")
        wall.append(len(texts) / (time.perf_counter() - t0))
        cpu.append(len(texts) / (time.process_time() - c0))
    print(f"Speed: {len(texts)} Reuters articles (avg {sum(map(len, texts)) / len(texts):.0f} chars), extraction "
          f"alone, one process, {runs} runs: median {statistics.median(cpu):.0f} articles per CPU-second, best "
          f"{max(cpu):.0f} (runs: {', '.join(f'{r:.0f}' for r in cpu)}); wall clock median "
          f"{statistics.median(wall):.0f}/s (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


def bench_seed() -> None:
    path = ROOT.parent / "shared" / "samples" / "menafn-2026-01-18-japan-korea.txt"
    if not path.exists():
        print("seed article not found, skipped")
        return
    raw = path.read_text(encoding="utf-8")
    body = raw.split(")", 1)[1].strip().rsplit("\n", 1)[0].strip()
    people, countries = make_extractor().extract(body, "en")
    print("Seed: people", sorted(p.name for p in people), "about", sorted(c.code for c in countries if c.about),
          "mentioned only", sorted(c.code for c in countries if not c.about))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("corpora", nargs="?", default=str(ROOT.parent / "shared" / "corpora"))
    ap.add_argument("--split", default="dev", help="conll: dev|train; reuters: dev (all) |train|test")
    ap.add_argument("--only", default="seed,conll,reuters,speed")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--show", type=int, default=0, help="print this many random errors")
    args = ap.parse_args()
    corpora = Path(args.corpora)
    only = set(args.only.split(","))
    if not corpora.exists():
        sys.exit(f"corpora not found at {corpora}")
    t0 = time.perf_counter()
    make_extractor()
    print(f"Tables built in {time.perf_counter() - t0:.2f} s")
    if "seed" in only:
        bench_seed()
    if "conll" in only:
        bench_conll(corpora, args.split, args.show)
    if "reuters" in only:
        bench_reuters(corpora, args.split, args.show)
    if "speed" in only:
        bench_speed(corpora, args.runs)


if __name__ == "__main__":
    main()
