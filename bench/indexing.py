"""Indexing throughput and memory, end to end: files in, committed index out, all enrichment on.

    python bench/indexing.py [CORPORA] [--workers 2] [--runs 3] [--limit N] [--keep DIR]

CORPORA defaults to ../shared/corpora (relative to the repo root). The input is every full article there: the
Reuters-21578 SGML files (extracted from the .tar.xz into a temp dir), BBC News as 2,225 text files (extracted),
the JSON Lines sets (MasakhaNEWS dev, Japanese Wikinews, the open news sample) and the Zyte HTML pages (~27,000
articles). Each run is a fresh `build_index(mode="rebuild")` in a child process; this process samples the memory
of the child and its workers every 0.25 s (sum of RSS, and sum of PSS which counts pages the forked workers share
with the parent once). After the build the child builds an SQLite FTS5 table of the same text (title + body read
back from the new index) and times that too, for the ratio.

Stage costs are CPU seconds summed over the processes that did them (the machine is shared: wall time measures
the neighbours too). "capacity" = articles / (CPU seconds of parent and workers) x workers: the rate the run would
reach with that many free cores. Figures are medians over --runs.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STAGES = ("read", "clean", "language", "entities", "signature", "stories", "write", "flush", "commit", "publish",
          "parent")


def prepare(corpora: Path, work: Path) -> list[str]:
    """The input paths (archives extracted under `work`)."""
    paths: list[str] = []
    sgml = work / "reuters"
    if not sgml.exists():
        with tarfile.open(corpora / "reuters21578" / "reuters21578-dev-sgml.tar.xz") as tar:
            members = [m for m in tar.getmembers() if m.name.endswith(".sgm")]
            tar.extractall(work, members=members, filter="data")
    paths += sorted(str(p) for p in sgml.glob("*.sgm"))
    bbc = work / "bbc"
    if not bbc.exists():
        with tarfile.open(corpora / "bbc-news-2225" / "bbc-fulltext.tar.xz") as tar:
            members = [m for m in tar.getmembers() if m.name.endswith(".txt") and m.name.count("/") == 2]
            tar.extractall(work, members=members, filter="data")
    paths += sorted(str(p) for p in bbc.iterdir() if p.is_dir())
    for rel in ("multilingual/masakhanews-dev.jsonl.gz", "multilingual/jawikinews/jawikinews-detok.jsonl.gz",
                "open-news-sample/wikinews-en-gum.jsonl.gz", "open-news-sample/wikinews-fr-2012.jsonl.gz",
                "open-news-sample/wikinews-ja-sample150.jsonl.gz", "open-news-sample/voa-lingala-shona.jsonl.gz",
                "zyte-extraction/html"):
        if (corpora / rel).exists():
            paths.append(str(corpora / rel))
    return paths


def limited(paths: list[str], limit: int, work: Path) -> list[str]:
    """The first `limit` units of the input, written out as one JSON Lines file (quick runs)."""
    from index.readers import iter_units, read_unit
    out = work / f"first-{limit}.jsonl"
    if not out.exists():
        n = 0
        with open(out, "w", encoding="utf-8") as fh:
            for unit in iter_units(paths):
                if n >= limit:
                    break
                for item in ([] if not hasattr(unit, "kind") else read_unit(unit)):
                    if hasattr(item, "body"):
                        fh.write(json.dumps({"id": f"b{n}", "title": item.title, "text": item.body}) + "\n")
                        n += 1
    return [str(out)]


# --- the child: one build, then FTS5 --------------------------------------------------------------------------------

def child(args: dict) -> None:
    from index import store
    from index.builder import build_index
    from index.schema import BODY, TITLE
    t0, c0 = time.perf_counter(), time.process_time()
    report = build_index(args["paths"], args["root"], workers=args["workers"])
    wall = time.perf_counter() - t0
    self_cpu = time.process_time() - c0
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = self_cpu + kids.ru_utime + kids.ru_stime
    size = sum(p.stat().st_size for p in store.current_generation(args["root"]).iterdir() if p.is_file())

    db_path = Path(args["root"]) / "fts.db"
    texts = []
    ix = store.open_index(args["root"])
    with ix.searcher() as searcher:
        for fields in searcher.all_stored_fields():
            texts.append((fields.get(TITLE, ""), fields.get(BODY, "")))
    t0, c0 = time.perf_counter(), time.process_time()
    db = sqlite3.connect(db_path)
    db.execute("CREATE VIRTUAL TABLE articles USING fts5(title, body)")
    db.executemany("INSERT INTO articles(title, body) VALUES (?, ?)", texts)
    db.commit()
    db.close()
    fts_wall, fts_cpu = time.perf_counter() - t0, time.process_time() - c0
    print("RESULT " + json.dumps({
        "indexed": report.indexed, "failed": len(report.failed), "notes": len(report.notes), "wall": wall,
        "cpu": cpu, "stages": report.stage_seconds, "index_mb": size / 2**20, "fts_wall": fts_wall,
        "fts_cpu": fts_cpu, "fts_mb": db_path.stat().st_size / 2**20, "recovered": report.recovered,
        "failures": [str(f) for f in report.failed[:5]]}), flush=True)


# --- the parent: runs, memory sampling, medians ---------------------------------------------------------------------

def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                todo += [int(c) for c in Path(f"/proc/{p}/task/{task}/children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            pass
    return out


def _memory(pids: list[int]) -> tuple[int, int]:
    """(sum of RSS, sum of PSS) in bytes."""
    rss = pss = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            pass
    return rss, pss


def one_run(paths: list[str], root: Path, workers: int) -> dict:
    shutil.rmtree(root, ignore_errors=True)
    arg = json.dumps({"paths": paths, "root": str(root), "workers": workers})
    proc = subprocess.Popen([sys.executable, __file__, "--child", arg], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    peak_rss = peak_pss = 0
    while proc.poll() is None:
        rss, pss = _memory(_tree(proc.pid))
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(0.25)
    out = proc.stdout.read()
    if proc.returncode != 0:
        raise SystemExit(f"build failed ({proc.returncode})\n{out}")
    result = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])
    result.update(peak_rss_mb=peak_rss / 2**20, peak_pss_mb=peak_pss / 2**20)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpora", nargs="?", default=str(ROOT.parent / "shared" / "corpora"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=0, help="only the first N articles (quick runs)")
    parser.add_argument("--keep", help="extract inputs and build indexes here (default: a temp dir, removed)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        child(json.loads(opts.child))
        return
    corpora = Path(opts.corpora)
    if not corpora.is_dir():
        raise SystemExit(f"no corpora at {corpora} (give the path as the first argument)")
    work = Path(opts.keep) if opts.keep else Path(tempfile.mkdtemp(prefix="newsdex-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        paths = prepare(corpora, work)
        if opts.limit:
            paths = limited(paths, opts.limit, work)
        print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; {opts.runs} runs, "
              f"{opts.workers} workers", flush=True)
        results = []
        for i in range(opts.runs):
            r = one_run(paths, work / "index", opts.workers)
            results.append(r)
            cap = r["indexed"] / r["cpu"] * opts.workers
            print(f"run {i + 1}: {r['indexed']} articles ({r['failed']} failed) in {r['wall']:.1f} s wall = "
                  f"{r['indexed'] / r['wall']:.0f}/s; CPU {r['cpu']:.1f} s -> capacity {cap:.0f}/s on "
                  f"{opts.workers} free cores; peak RSS {r['peak_rss_mb']:.0f} MB, PSS {r['peak_pss_mb']:.0f} MB; "
                  f"FTS5 {r['fts_wall']:.1f} s wall, {r['fts_cpu']:.1f} s CPU; load {os.getloadavg()[0]:.1f}",
                  flush=True)
        report(results, opts.workers)
    finally:
        if not opts.keep:
            shutil.rmtree(work, ignore_errors=True)


def report(results: list[dict], workers: int) -> None:
    med = lambda key: statistics.median(r[key] for r in results)  # noqa: E731
    n = results[0]["indexed"]
    print(f"\nmedians of {len(results)} runs, {n} articles, {results[0]['failed']} failed, "
          f"{results[0]['notes']} with notes")
    print(f"  end to end: {med('wall'):.1f} s wall = {n / med('wall'):.0f} articles/s (shared machine); "
          f"CPU {med('cpu'):.1f} s = {n / med('cpu') * workers:.0f} articles/s on {workers} free cores")
    print(f"  peak memory (parent + workers): RSS {med('peak_rss_mb'):.0f} MB, PSS {med('peak_pss_mb'):.0f} MB; "
          f"index {med('index_mb'):.0f} MB")
    print(f"  SQLite FTS5 of the same text: {med('fts_wall'):.1f} s wall, {med('fts_cpu'):.1f} s CPU "
          f"({med('fts_mb'):.0f} MB); newsdex/FTS5 = {med('wall') / med('fts_wall'):.1f}x wall, "
          f"{med('cpu') / med('fts_cpu'):.1f}x CPU")
    print("  stage CPU seconds (summed over processes), ms per article:")
    total = 0.0
    for stage in STAGES:
        secs = statistics.median(r["stages"].get(stage, 0.0) for r in results)
        total += secs
        print(f"    {stage:9s} {secs:7.1f} s  {1000 * secs / n:6.2f} ms")
    print(f"    {'sum':9s} {total:7.1f} s  {1000 * total / n:6.2f} ms")
    if results[0]["failures"]:
        print("  first failures: " + "; ".join(results[0]["failures"]))


if __name__ == "__main__":
    main()
