"""The search side of bench/scale.py: what a growing archive costs the reader (issue 14).

Each function takes scale.py's `Context` (the index built from the size's shards) and returns {label: value}:

- first search of a new process: `Searcher(root).search(...)` with all facets, timed from nothing to the answer
  in a fresh `python` (median of 3; the OS page cache is warm, as on a server that restarts);
- server heap: anonymous RSS (RssAnon: what the kernel cannot drop, unlike the mapped index) of one process after
  the search_speed.py query mix, 3 rounds;
- search p50/p95 of that mix (24 queries: words, two-word AND, phrases, OR; all facets, the date histogram, 10
  snippets), the first time each word is read too (by a library Searcher, and by one that preloads the posting
  arrays as `newsdex serve` does), and SQLite FTS5 doing the same work in the same run on the
  same articles (bm25 top 10, snippet(), GROUP BY counts; no people or countries tables: the synthetic archive has
  no gold entities);
- refresh after an add: a Searcher that has answered searches sees `newsdex add` of 100 articles; the next search
  pays for opening the new version (reusing what it had for unchanged segments). A server's Searcher
  (`refresh_in_background`, as `newsdex serve` runs it) sees a second add: the time until the new version serves,
  and the slowest search answered from the old one meanwhile.
"""
from __future__ import annotations

import json
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.search_speed import QUERIES, _pct, sqlite_same_work  # noqa: E402

_FIRST = """
import sys, time
t0 = time.perf_counter()
from search import SearchRequest, Searcher
s = Searcher(sys.argv[1])
s.search(SearchRequest(q="oil prices"))
print(time.perf_counter() - t0)
"""

_MIX = """
import json, sys, time
sys.path.insert(0, sys.argv[2])
from bench.search_speed import QUERIES
from search import SearchRequest, Searcher
preload = sys.argv[3] == "preload"   # as `newsdex serve` runs it: the posting arrays mapped in the background
s = Searcher(sys.argv[1], preload_postings=preload)
s.search(SearchRequest(per_page=1))
if preload:   # (done in the background, mostly while the first search ran)
    s._live._preloader.idle.wait(300)
preloaded = s._live._preloader.seconds if preload else 0.0
cold, warm = [], []
for q in QUERIES:
    t = time.perf_counter(); s.search(SearchRequest(q=q, all_articles=True)); cold.append((time.perf_counter() - t) * 1000)
for _ in range(int(sys.argv[4])):
    for q in QUERIES:
        t = time.perf_counter(); s.search(SearchRequest(q=q, all_articles=True)); warm.append((time.perf_counter() - t) * 1000)
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(json.dumps({"cold": cold, "warm": warm, "anon_kb": int(status["RssAnon"].split()[0]),
                  "rss_kb": int(status["VmRSS"].split()[0]), "preloaded": preloaded}))
"""


def measure_first_search(ctx) -> dict:
    """A new process: import, open the index, answer one search with all facets (median of 3, seconds)."""
    runs = [float(subprocess.run([sys.executable, "-c", _FIRST, str(ctx.root)], capture_output=True, text=True,
                                 check=True, cwd=ROOT).stdout) for _ in range(3)]
    return {"first search (new process), s": round(statistics.median(runs), 2)}


def _mix(ctx, preload: bool, rounds: int) -> dict:
    return json.loads(subprocess.run([sys.executable, "-c", _MIX, str(ctx.root), str(ROOT),
                                      "preload" if preload else "-", str(rounds)],
                                     capture_output=True, text=True, check=True, cwd=ROOT).stdout)


def measure_search(ctx) -> dict:
    """The query mix in one process (its heap after it), and SQLite FTS5 on the same articles. The first read of
    each word twice: by a library Searcher, and by a server's (`newsdex serve` maps the posting arrays in the
    background first: how long that took is reported)."""
    out = _mix(ctx, False, 3)
    served = _mix(ctx, True, 0)
    figures = {"search p50, ms": round(_pct(out["warm"], 50), 1), "search p95, ms": round(_pct(out["warm"], 95), 1),
               "first read of each word p95, ms": round(_pct(out["cold"], 95), 1),
               "... as newsdex serve reads it (posting arrays preloaded), ms": round(_pct(served["cold"], 95), 1),
               "... the preload (in the background, while the first search ran), s": round(served["preloaded"], 2),
               "server heap (RssAnon) after the mix, MB": round(out["anon_kb"] / 1024),
               "server RSS incl. mapped index, MB": round(out["rss_kb"] / 1024)}
    con = _fts(ctx)
    times = []
    for _ in range(3):
        for q in QUERIES:
            t = time.perf_counter()
            sqlite_same_work(con, q)
            times.append((time.perf_counter() - t) * 1000)
    con.close()
    figures.update({"SQLite FTS5 p50, ms": round(_pct(times, 50), 1), "SQLite FTS5 p95, ms": round(_pct(times, 95), 1)})
    return figures


def _fts(ctx):
    """An SQLite FTS5 database of the size's articles (made once per size, beside the index)."""
    db = ctx.work / f"fts-{ctx.size}.sqlite"
    if not db.exists():
        tmp = db.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        con = sqlite3.connect(tmp)
        con.executescript("""
            CREATE TABLE docs(rowid INTEGER PRIMARY KEY, id TEXT, title TEXT, body TEXT, lang TEXT, source TEXT,
                              day TEXT);
            CREATE VIRTUAL TABLE fts USING fts5(title, body, content='docs', content_rowid='rowid',
                                                tokenize='unicode61');
            CREATE TABLE people(rowid INTEGER, person TEXT);
            CREATE TABLE countries(rowid INTEGER, code TEXT);
        """)
        k = 0
        for shard in ctx.shards:
            with open(shard, encoding="utf-8") as fh:
                rows = []
                for line in fh:
                    rec = json.loads(line)
                    k += 1
                    rows.append((k, rec["id"], rec.get("title", ""), rec.get("text", ""), "en",
                                 rec.get("source", ""), str(rec.get("date", ""))[:10]))
                con.executemany("INSERT INTO docs VALUES (?,?,?,?,?,?,?)", rows)
        con.execute("INSERT INTO fts(fts) VALUES ('rebuild')")
        con.execute("INSERT INTO fts(fts) VALUES ('optimize')")
        con.commit()
        con.close()
        tmp.rename(db)
    con = sqlite3.connect(db, check_same_thread=False)
    con.execute("CREATE TEMP TABLE m(rowid INTEGER PRIMARY KEY)")
    return con


_REFRESH = """
import statistics, subprocess, sys, time
from index.store import index_version
from search import SearchRequest, Searcher
def add(path):
    subprocess.run([sys.executable, "-m", "web.cli", "add", path, "--index", sys.argv[1], "-q"], check=True)
s = Searcher(sys.argv[1])
for q in ("oil", "bank rates", "government"):
    s.search(SearchRequest(q=q))
took = []   # the first add after the Searcher opened, then the later ones
for path in sys.argv[3:]:
    add(path)
    t = time.perf_counter()
    s.search(SearchRequest(q="oil"))
    took.append(time.perf_counter() - t)
sync, later = took[0], took[1:]
# as a server does it (refresh_in_background): the next searches answer from the old version while a thread opens
# and warms the new one
b = Searcher(sys.argv[1], refresh_in_background=True)
for q in ("oil", "bank rates", "government"):
    b.search(SearchRequest(q=q))
add(sys.argv[2])
t0 = time.perf_counter()
during = []
while b._snap.version != index_version(sys.argv[1]):
    t = time.perf_counter()
    b.search(SearchRequest(q="bank rates"))
    during.append(time.perf_counter() - t)
opened = time.perf_counter() - t0
print(sync, statistics.median(later) if later else float("nan"), opened, max(during or [0.0]), len(during))
"""

LATER_REFRESHES = 5


def measure_refresh(ctx) -> dict:
    """A running Searcher sees adds of 100 articles: the one search that opens the new version (seconds), for the
    first add after it opened (its heap holds no freed memory yet: every new array is faulted in) and the median
    of the next LATER_REFRESHES (a server that has been running); and a server's Searcher (refresh in the
    background): how long until the new version serves, and the slowest search answered meanwhile (from the old
    version)."""
    batches = [ctx.new_articles(100, f"refresh-{ctx.size}-{k}") for k in range(1 + LATER_REFRESHES)]
    server = ctx.new_articles(100, f"refresh-bg-{ctx.size}")
    out = subprocess.run([sys.executable, "-c", _REFRESH, str(ctx.root), str(server)] + [str(b) for b in batches],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout.strip().splitlines()[-1]
    sync, later, opened, slowest, _ = (float(x) for x in out.split())
    return {"first search after an add of 100 (running searcher), s": round(sync, 3),
            f"... after each of the next {LATER_REFRESHES} adds, median, s": round(later, 3),
            "server: new version serving after, s": round(opened, 3),
            "server: slowest search meanwhile, ms": round(slowest * 1000, 1)}


MEASUREMENTS = [measure_first_search, measure_search, measure_refresh]
