"""Article-body extraction quality and speed on the Zyte article-extraction benchmark pages.

Usage: python -m bench.extraction [CORPORA_DIR] [--runs N] [--no-trafilatura] [--worst K]

CORPORA_DIR defaults to ../shared/corpora relative to the repo root; the pages are read from its
`zyte-extraction/` folder (html/<id>.html.gz + ground-truth.json.gz). The metric is the benchmark's own:
per document, `\\w+` tokens, 4-token shingles counted as TP/FP/FN (multiset), precision and recall per document,
averaged over documents, F1 of the two averages. Ours and trafilatura's are computed in the same run on the
same pages; timings are medians over pages of the per-page median of N runs, wall clock and this thread's CPU
time (the machine is shared: wall clock is noisy, CPU time much less so).
"""
from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from index.html_extract import _parseable, decode_html, extract_html  # noqa: E402

TOKEN_RE = re.compile(r"\w+")


def shingles(text: str, n: int = 4) -> Counter:
    """Multiset of n-token shingles, as the benchmark's evaluate.py builds them."""
    tokens = TOKEN_RE.findall(text or "")
    return Counter(" ".join(tokens[i:i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i:i + n])


def precision_recall(true: str, pred: str) -> tuple[float, float]:
    """Per-document shingle precision and recall (benchmark conventions for empty cases)."""
    t, p = shingles(true), shingles(pred)
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    precision = 1.0 if fp == fn == 0 else (0.0 if tp == fp == 0 else tp / (tp + fp))
    recall = 1.0 if fp == fn == 0 else (0.0 if tp == fn == 0 else tp / (tp + fn))
    return precision, recall


def score(truth: dict[str, str], preds: dict[str, str]) -> tuple[float, float, float, dict]:
    """(F1, precision, recall, per-doc (p, r)) over all documents of `truth`."""
    per_doc = {k: precision_recall(truth[k], preds.get(k, "")) for k in truth}
    p = statistics.mean(v[0] for v in per_doc.values())
    r = statistics.mean(v[1] for v in per_doc.values())
    return (2 * p * r / (p + r) if p + r else 0.0), p, r, per_doc


def load(corpus: Path) -> tuple[dict[str, str], dict[str, bytes], dict[str, str]]:
    """Gold bodies, raw page bytes and page URLs, keyed by item id."""
    gold = json.loads(gzip.decompress((corpus / "ground-truth.json.gz").read_bytes()))
    pages = {k: gzip.decompress((corpus / "html" / f"{k}.html.gz").read_bytes()) for k in gold}
    return {k: v["articleBody"] for k, v in gold.items()}, pages, {k: v.get("url", "") for k, v in gold.items()}


def run(fns, pages: dict[str, bytes], urls: dict[str, str], runs: int):
    """Outputs of the first of `fns` per page, and for each fn (wall ms, CPU ms): medians over pages of the page's
    median time. The fns take turns on each page, so a load change on the shared machine hits them alike; CPU
    time (this thread's) is what the page costs whatever the other processes do."""
    out, walls, cpus = {}, [[] for _ in fns], [[] for _ in fns]
    for k, data in pages.items():
        wall, cpu = [[] for _ in fns], [[] for _ in fns]
        for _ in range(runs):
            for i, fn in enumerate(fns):
                t0, c0 = time.perf_counter(), time.thread_time()
                result = fn(data, urls[k])
                cpu[i].append(time.thread_time() - c0)
                wall[i].append(time.perf_counter() - t0)
                if i == 0:
                    out[k] = result
        for i in range(len(fns)):
            walls[i].append(statistics.median(wall[i]) * 1000)
            cpus[i].append(statistics.median(cpu[i]) * 1000)
    return out, [(statistics.median(w), statistics.median(c)) for w, c in zip(walls, cpus)]


def ours(data: bytes, url: str) -> str:
    return extract_html(data, url).body


def soup_only(data: bytes, url: str) -> str:
    """The parse alone (decode, cut scripts, build the BeautifulSoup tree): the floor under our time."""
    from bs4 import BeautifulSoup
    BeautifulSoup(_parseable(decode_html(data)), "lxml", multi_valued_attributes=None)
    return ""


def lxml_only(data: bytes, url: str) -> str:
    """The same text parsed by lxml.html directly, for comparison (what a non-BeautifulSoup tree would cost)."""
    import lxml.html
    lxml.html.document_fromstring(_parseable(decode_html(data)) or "<html></html>")
    return ""


def trafilatura_fn():
    """trafilatura's default extraction (bench-only dependency), or None when it is not installed."""
    try:
        import trafilatura
    except ImportError:
        return None
    return lambda data, url: trafilatura.extract(data, url=url) or ""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpora", nargs="?", default=str(REPO.parent / "shared" / "corpora"))
    ap.add_argument("--runs", type=int, default=3, help="timed runs per page (median taken)")
    ap.add_argument("--no-trafilatura", action="store_true")
    ap.add_argument("--worst", type=int, default=0, help="list the K documents where our F1 is lowest")
    args = ap.parse_args(argv)
    corpus = Path(args.corpora) / "zyte-extraction"
    if not (corpus / "ground-truth.json.gz").exists():
        print(f"no benchmark at {corpus}", file=sys.stderr)
        return 2
    truth, pages, urls = load(corpus)
    print(f"{len(truth)} pages from {corpus}")
    preds, (ms, parse_ms, lxml_ms) = run([ours, soup_only, lxml_only], pages, urls, args.runs)
    f1, p, r, per_doc = score(truth, preds)
    print(f"newsdex      F1 {f1:.3f}  precision {p:.3f}  recall {r:.3f}  "
          f"median {ms[0]:.1f} ms/page wall, {ms[1]:.1f} ms CPU")
    print(f"             of which parsing into BeautifulSoup {parse_ms[0]:.1f} ms wall, {parse_ms[1]:.1f} ms CPU "
          f"(lxml.html alone on the same text: {lxml_ms[0]:.1f} ms wall, {lxml_ms[1]:.1f} ms CPU)")
    traf = None if args.no_trafilatura else trafilatura_fn()
    if traf is not None:
        tpreds, (tms,) = run([traf], pages, urls, 1)
        tf1, tp, tr, _ = score(truth, tpreds)
        print(f"trafilatura  F1 {tf1:.3f}  precision {tp:.3f}  recall {tr:.3f}  "
              f"median {tms[0]:.1f} ms/page wall, {tms[1]:.1f} ms CPU (1 run)")
    for k, (dp, dr) in sorted(per_doc.items(), key=lambda kv: 2 * kv[1][0] * kv[1][1] / (sum(kv[1]) or 1))[:args.worst]:
        print(f"  p {dp:.2f} r {dr:.2f}  {k[:12]}  {urls[k]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
