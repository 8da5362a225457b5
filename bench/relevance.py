"""Ranking quality on judged test collections (issue 13): newsdex against BM25 baselines on CISI and Cranfield.

    python bench/relevance.py [--corpora PATH] [--collections cisi,cran] [--runs N] [--or] [--json FILE]
    python -m bench.relevance ...

--corpora defaults to ../shared/corpora relative to the repo root; the raw SMART files are read from its
`ir-judged/cisi/` (CISI.ALL, CISI.QRY, CISI.REL) and `ir-judged/cran/` (cran.all.1400, cran.qry, cranqrel).

Documents: `.T` title and `.W` text (`.A`, `.B`, `.X`, `.K`, `.C` are skipped); documents with neither are left
out (Cranfield 471 and 995; 995 is judged relevant to query 125). Every document here has a title, so newsdex
derives none; Cranfield's `.W` starts with the title again (kept as it is, for every system). Queries: the `.W`
text of each query that has judgments (CISI: 76 of 112), typed as plain words (CISI queries 58-112 also have
`.T`/`.A`/`.B`, a paper's title and authors: not used): lowercased, every non-alphanumeric character replaced by a
space, whitespace collapsed, cut at the last whole word under 1,000 characters. Cranfield queries are numbered
1..225 in file order (as cranqrel does, whatever cran.qry's `.I` says); its codes 1-4 are relevant, -1 is not.
Binary relevance.

Systems, on the same text in one run:
- newsdex: a temporary index built with index.builder.build_index from one JSON Lines record per document
  (title, text, language "en"), searched with search.searcher.Searcher, top 100 (per_page 100, all_articles).
  The query is the plain words as typed (newsdex ANDs them today); with --or, the words joined by ` OR `.
  A query newsdex rejects (QueryError: e.g. more than 64 words) counts as a query with no result.
- SQLite FTS5 (standard library), tokenize='porter unicode61', each word quoted and OR-ed, ORDER BY bm25().
- bm25s with its English stopwords and the PyStemmer English stemmer, its defaults (method lucene, k1=1.5,
  b=0.75).
- tantivy (when installed) with its `en_stem` tokenizer, BM25 k1=1.2 b=0.75, one SHOULD clause per query word.
  Its query parser would keep each distinct word once; FTS5 and bm25s count a repeated word each time it occurs,
  and so does this query (on CISI's long queries the parser's form loses 0.03 MAP).
The baselines index one text per document: title, a space, text.

Metrics over the judged queries (mean): MAP (average precision over the top 100, divided by the number of
relevant documents), nDCG@10 (binary gains), P@10, Recall@100, and the number of queries with no result.
newsdex latency: per query the median of --runs timed searches, then the median and p95 over queries (ms).
"""
from __future__ import annotations

import argparse
import json
import math
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOP = 100                 # ranks evaluated (newsdex's per_page maximum)
MAX_QUERY_CHARS = 1000    # newsdex's query length limit
FIELD_TAG = re.compile(r"^\.([A-Z])(?:\s+(\d+))?\s*$")
TEXT_FIELDS = ("T", "W")
FILES = {"cisi": ("CISI.ALL", "CISI.QRY", "CISI.REL"), "cran": ("cran.all.1400", "cran.qry", "cranqrel")}


# --- SMART files ------------------------------------------------------------------------------------------------

def parse_smart(text: str) -> list[tuple[int, dict[str, str]]]:
    """Records of a SMART file as (`.I` number, {field letter: text}), in file order.

    A field's lines are joined with single spaces. A tag repeated inside one record (Cranfield 240, 576, 578
    have stray `.A`/`.B`/`.W` lines in their abstract) continues the current field: the tag line is dropped.
    """
    records: list[tuple[int, dict[str, list[str]]]] = []
    current: str | None = None
    for line in text.splitlines():
        m = FIELD_TAG.match(line)
        if m and m.group(1) == "I" and m.group(2):
            records.append((int(m.group(2)), {}))
            current = None
        elif m and records and not m.group(2):
            fields = records[-1][1]
            if m.group(1) not in fields:
                current = m.group(1)
                fields[current] = []
        elif records and current is not None:
            records[-1][1][current].append(line)
    return [(n, {k: " ".join(" ".join(v).split()) for k, v in f.items()}) for n, f in records]


def read_documents(path: Path) -> dict[int, tuple[str, str]]:
    """{docno: (title, text)} of a SMART collection, documents with neither title nor text left out."""
    docs = {}
    for n, f in parse_smart(path.read_text(encoding="latin-1")):
        title, text = f.get("T", ""), f.get("W", "")
        if title or text:
            docs[n] = (title, text)
    return docs


def read_queries(path: Path, renumber: bool) -> dict[int, str]:
    """{query number: `.W` text}; `renumber` numbers them 1..n in file order (Cranfield)."""
    records = parse_smart(path.read_text(encoding="latin-1"))
    return {(k if renumber else n): f.get("W", "") for k, (n, f) in enumerate(records, 1)}


def read_qrels(path: Path) -> dict[int, set[int]]:
    """{query: relevant docnos} from CISI.REL (`q doc 0 0.0`) or cranqrel (`q doc code`, relevant when >= 1)."""
    qrels: dict[int, set[int]] = {}
    for line in path.read_text(encoding="latin-1").splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        q, doc = int(parts[0]), int(parts[1])
        if len(parts) == 3 and int(parts[2]) < 1:    # cranqrel: -1 = not relevant
            continue
        qrels.setdefault(q, set()).add(doc)
    return qrels


@dataclass
class Collection:
    """One judged test collection, queries already typed as plain words."""

    name: str
    docs: dict[int, tuple[str, str]]
    queries: dict[int, str]               # judged queries only
    qrels: dict[int, set[int]]
    all_queries: int = 0
    empty_docs: list[int] = field(default_factory=list)
    cut_queries: list[int] = field(default_factory=list)


def load_collection(corpora: Path, name: str) -> Collection:
    """Parse one collection under `corpora`/ir-judged/`name`."""
    folder = corpora / "ir-judged" / name
    all_name, qry_name, rel_name = FILES[name]
    docs = read_documents(folder / all_name)
    raw_ids = [n for n, _ in parse_smart((folder / all_name).read_text(encoding="latin-1"))]
    queries = read_queries(folder / qry_name, renumber=(name == "cran"))
    qrels = read_qrels(folder / rel_name)
    coll = Collection(name, docs, {}, qrels, all_queries=len(queries),
                      empty_docs=[n for n in raw_ids if n not in docs])
    for q in sorted(qrels):
        typed, cut = cut_query(plain_words(queries[q]))
        coll.queries[q] = typed
        if cut:
            coll.cut_queries.append(q)
    return coll


# --- queries ----------------------------------------------------------------------------------------------------

def plain_words(text: str) -> str:
    """The query as typed into a search box: lowercased, punctuation replaced by spaces, whitespace collapsed."""
    return " ".join(re.sub(r"[\W_]+", " ", text.lower()).split())


def cut_query(query: str, limit: int = MAX_QUERY_CHARS) -> tuple[str, bool]:
    """(query cut at the last whole word that ends within `limit` characters, whether it was cut)."""
    if len(query) <= limit:
        return query, False
    head = query[:limit + 1]
    return (head.rsplit(" ", 1)[0].rstrip() if " " in head else query[:limit]), True


# --- metrics ----------------------------------------------------------------------------------------------------

def average_precision(ranking: list, relevant: set, k: int = TOP) -> float:
    """Average precision over the top k, divided by the number of relevant documents."""
    if not relevant:
        return 0.0
    found, total = 0, 0.0
    for rank, doc in enumerate(ranking[:k], 1):
        if doc in relevant:
            found += 1
            total += found / rank
    return total / len(relevant)


def ndcg_at_k(ranking: list, relevant: set, k: int = 10) -> float:
    """nDCG@k with binary gains (1 for a relevant document, log2(rank + 1) discount)."""
    dcg = sum(1 / math.log2(rank + 1) for rank, doc in enumerate(ranking[:k], 1) if doc in relevant)
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(k, len(relevant)) + 1))
    return dcg / ideal if ideal else 0.0


def precision_at_k(ranking: list, relevant: set, k: int = 10) -> float:
    """Relevant documents among the top k, divided by k."""
    return sum(1 for doc in ranking[:k] if doc in relevant) / k


def recall_at_k(ranking: list, relevant: set, k: int = TOP) -> float:
    """Relevant documents among the top k, divided by the number of relevant documents."""
    return sum(1 for doc in ranking[:k] if doc in relevant) / len(relevant) if relevant else 0.0


def evaluate(rankings: dict[int, list], qrels: dict[int, set]) -> dict:
    """Mean MAP, nDCG@10, P@10, Recall@100 over the queries of `rankings`, and the queries with no result."""
    qs = sorted(rankings)

    def mean(metric) -> float:
        return statistics.fmean(metric(rankings[q], qrels[q]) for q in qs) if qs else 0.0

    return {"MAP": mean(average_precision), "nDCG@10": mean(ndcg_at_k), "P@10": mean(precision_at_k),
            "R@100": mean(recall_at_k), "no result": sum(1 for q in qs if not rankings[q]), "queries": len(qs)}


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else 0.0


# --- systems ----------------------------------------------------------------------------------------------------

def one_text(title: str, text: str) -> str:
    """The single text the baselines index for a document."""
    return f"{title} {text}".strip()


def run_newsdex(coll: Collection, workdir: Path, or_words: bool = False, runs: int = 1) -> dict:
    """Index `coll` with newsdex and run its queries: rankings, latencies (ms), errors, index report figures."""
    from index.builder import build_index
    from search.model import QueryError, SearchRequest
    from search.searcher import Searcher

    jsonl, root = workdir / f"{coll.name}.jsonl", workdir / f"{coll.name}-index"
    with jsonl.open("w", encoding="utf-8") as fh:
        for n, (title, text) in coll.docs.items():
            record = {"id": f"{coll.name}-{n}", "title": title, "text": text or title, "language": "en"}
            if not title:
                del record["title"]
            fh.write(json.dumps(record) + "\n")
    t0 = time.perf_counter()
    report = build_index([jsonl], root, mode="rebuild", workers=1)
    build_s = time.perf_counter() - t0
    searcher = Searcher(root)
    rankings, latencies, errors = {}, [], {}
    prefix = f"{coll.name}-"
    try:
        for q, words in coll.queries.items():
            typed = " OR ".join(words.split()) if or_words else words
            times, hits = [], []
            for _ in range(max(1, runs)):
                t1 = time.perf_counter()
                try:
                    result = searcher.search(SearchRequest(q=typed, per_page=TOP, facets=False, snippets=False,
                                                           all_articles=True))
                    hits = [int(h.id[len(prefix):]) for h in result.hits]
                except QueryError as exc:
                    errors[q], hits = str(exc), []
                times.append((time.perf_counter() - t1) * 1000)
            rankings[q] = hits
            latencies.append(statistics.median(times))
    finally:
        searcher.close()
    return {"rankings": rankings, "latencies": latencies, "errors": errors, "build_s": build_s,
            "indexed": report.indexed, "failed": len(report.failed) + len(report.skipped)}


def run_fts5(coll: Collection) -> dict[int, list[int]]:
    """SQLite FTS5 (porter unicode61), each query word quoted and OR-ed, ranked by bm25()."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize='porter unicode61')")
    db.executemany("INSERT INTO t(rowid, body) VALUES (?, ?)", ((n, one_text(*d)) for n, d in coll.docs.items()))
    rankings = {}
    for q, words in coll.queries.items():
        match = " OR ".join('"' + w.replace('"', '""') + '"' for w in words.split())
        rows = db.execute("SELECT rowid FROM t WHERE t MATCH ? ORDER BY bm25(t) LIMIT ?", (match, TOP)) if match else []
        rankings[q] = [r[0] for r in rows]
    db.close()
    return rankings


def run_bm25s(coll: Collection) -> dict[int, list[int]]:
    """bm25s with English stopwords and the PyStemmer English stemmer, default parameters (lucene, k1=1.5, b=0.75)."""
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    docnos = list(coll.docs)
    corpus = [one_text(*coll.docs[n]) for n in docnos]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(corpus, stopwords="en", stemmer=stemmer, show_progress=False),
                    show_progress=False)
    rankings = {}
    for q, words in coll.queries.items():
        tokens = bm25s.tokenize([words], stopwords="en", stemmer=stemmer, show_progress=False)
        if not tokens.ids[0]:
            rankings[q] = []
            continue
        ids, scores = retriever.retrieve(tokens, k=min(TOP, len(docnos)), show_progress=False)
        rankings[q] = [docnos[i] for i, s in zip(ids[0], scores[0]) if s > 0]
    return rankings


def run_tantivy(coll: Collection) -> dict[int, list[int]]:
    """tantivy, `en_stem` tokenizer, one SHOULD clause per query word (a repeated word counts each time), BM25."""
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("docno", stored=True)
    builder.add_text_field("body", stored=False, tokenizer_name="en_stem")
    index = tantivy.Index(builder.build())
    writer = index.writer(heap_size=50_000_000, num_threads=1)
    for n, d in coll.docs.items():
        writer.add_document(tantivy.Document(docno=n, body=one_text(*d)))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    searcher = index.searcher()
    rankings = {}
    for q, words in coll.queries.items():
        if not words:
            rankings[q] = []
            continue
        clauses = [(tantivy.Occur.Should, index.parse_query(w, ["body"])) for w in words.split()]
        hits = searcher.search(tantivy.Query.boolean_query(clauses), TOP).hits
        rankings[q] = [searcher.doc(addr)["docno"][0] for _, addr in hits]
    return rankings


def has_tantivy() -> bool:
    """True when the tantivy package is importable."""
    try:
        import tantivy  # noqa: F401
    except ImportError:
        return False
    return True


# --- report -----------------------------------------------------------------------------------------------------

COLUMNS = ("MAP", "nDCG@10", "P@10", "R@100", "no result")


def print_table(title: str, rows: dict[str, dict]) -> None:
    """One table: a row per system, a column per metric."""
    print(title)
    width = max(len(s) for s in rows) + 2
    print(" " * width + "".join(f"{c:>10}" for c in COLUMNS))
    for system, m in rows.items():
        cells = "".join(f"{m[c]:>10}" if c == "no result" else f"{m[c]:>10.4f}" for c in COLUMNS)
        print(f"{system:<{width}}{cells}")


def bench_collection(coll: Collection, workdir: Path, or_words: bool, runs: int) -> dict:
    """All systems on one collection: printed table, and the figures as a dict."""
    nd = run_newsdex(coll, workdir, or_words=or_words, runs=runs)
    rankings = {"newsdex (words OR-ed)" if or_words else "newsdex (plain words)": nd["rankings"],
                "SQLite FTS5 bm25()": run_fts5(coll), "bm25s (k1=1.5 b=0.75)": run_bm25s(coll)}
    if has_tantivy():
        rankings["tantivy (k1=1.2 b=0.75)"] = run_tantivy(coll)
    rows = {system: evaluate(r, coll.qrels) for system, r in rankings.items()}
    words = [len(q.split()) for q in coll.queries.values()]
    print(f"\n{coll.name}: {len(coll.docs)} documents ({sum(1 for t, _ in coll.docs.values() if not t)} without "
          f"title; left out, no text: {coll.empty_docs or 'none'}), {coll.all_queries} queries, "
          f"{len(coll.queries)} judged and evaluated, {sum(len(r) for r in coll.qrels.values())} relevant pairs; "
          f"words per query median {statistics.median(words)}, max {max(words)}; "
          f"cut at {MAX_QUERY_CHARS} characters: {len(coll.cut_queries)}")
    print_table(f"{coll.name}, top {TOP}, binary relevance:", rows)
    lat = nd["latencies"]
    print(f"newsdex: index built in {nd['build_s']:.1f} s ({nd['indexed']} articles, {nd['failed']} failed); "
          f"latency median {statistics.median(lat):.1f} ms, p95 {percentile(lat, 95):.1f} ms over {len(lat)} queries "
          f"({runs} run{'s' if runs > 1 else ''} each; {len(nd['errors'])} of them rejected)")
    accepted = {}
    if nd["errors"]:
        kinds = sorted({re.sub(r"\d+", "N", e) for e in nd["errors"].values()})
        print(f"newsdex rejected {len(nd['errors'])} queries (counted as no result): {'; '.join(kinds)}")
        keep = [q for q in coll.queries if q not in nd["errors"]]
        accepted = {s: evaluate({q: r[q] for q in keep}, coll.qrels)["MAP"] for s, r in rankings.items()}
        print(f"MAP on the {len(keep)} queries newsdex accepted: "
              + ", ".join(f"{s.split(' (')[0]} {m:.4f}" for s, m in accepted.items()))
    return {"collection": coll.name, "documents": len(coll.docs), "queries": coll.all_queries,
            "judged": len(coll.queries), "cut_queries": coll.cut_queries, "systems": rows,
            "newsdex": {"mode": "or" if or_words else "plain", "build_s": nd["build_s"],
                        "latency_ms": {"median": statistics.median(lat), "p95": percentile(lat, 95)},
                        "rejected": nd["errors"], "map_on_accepted_queries": accepted}}


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments, run every system on every collection, print the tables."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpora", default=str(ROOT.parent / "shared" / "corpora"))
    ap.add_argument("--collections", default="cisi,cran")
    ap.add_argument("--runs", type=int, default=3, help="timed newsdex searches per query (median taken)")
    ap.add_argument("--or", dest="or_words", action="store_true", help="newsdex: join the words with OR")
    ap.add_argument("--json", help="write all figures to this file")
    args = ap.parse_args(argv)
    corpora = Path(args.corpora)
    if not (corpora / "ir-judged").is_dir():
        sys.exit(f"judged collections not found at {corpora / 'ir-judged'}")
    started, out = time.perf_counter(), []
    with tempfile.TemporaryDirectory(prefix="newsdex-relevance-") as tmp:
        for name in args.collections.split(","):
            out.append(bench_collection(load_collection(corpora, name.strip()), Path(tmp), args.or_words,
                                        args.runs))
    print(f"\ntotal {time.perf_counter() - started:.1f} s")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "collections": out}, indent=2) + "\n")


if __name__ == "__main__":
    main()
