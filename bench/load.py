"""Load check (not a test): concurrent clients against `newsdex serve` on loopback, then the same during a reindex.

    python bench/load.py --demo                        # the bundled sample articles
    python bench/load.py --corpora ../shared/corpora   # Reuters + BBC, repeated to >= 30,000 articles

Starts `python -m web.cli serve` on a free port, runs --clients keep-alive clients for --seconds each (a mix of
search pages, API searches with filters, facet clicks, article pages and facet type-ahead), and prints requests/s,
p50/p95/p99 latency and errors. Phase 2 runs `newsdex reindex` of the same input (a full rebuild that swaps the
index atomically) while the clients keep going, and lasts until the reindex has finished and at least --seconds.
Any status other than 200, or a failed connection, is an error. Latency includes this script's own client
overhead (Python threads on the same machine).
"""
from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = ["bank", "rates", "oil", "prices", "government", "election", "trade", "minister", "market", "growth",
         "strike", "coffee", "harbour", "inflation", "profit", "shares", "talks", "budget", "football", "music",
         "film", "economy", "exports", "central bank", "\"interest rates\"", "gold", "wheat", "japan", "china",
         "europe", "technology", "court", "tax", "sales", "dollar"]


# --- corpora -------------------------------------------------------------------------------------------------------

def big_corpus(corpora: Path, out: Path, minimum: int) -> tuple[list[Path], int]:
    """Reuters + BBC JSON Lines records with text from `corpora`, repeated with new ids (and dates shifted a year per copy) until
    there are at least `minimum` records; written under `out` (outside the repo). Returns (files, records)."""
    sources = [corpora / "reuters21578" / "reuters21578-dev.jsonl.gz", corpora / "bbc-news-2225" / "bbc.jsonl.gz"]
    for src in sources:
        if not src.exists():
            sys.exit(f"missing {src}: pass --corpora pointing at the shared corpora folder")
    records = []
    for src in sources:
        with gzip.open(src, "rt", encoding="utf-8") as fh:
            for n, line in enumerate(fh):
                rec = json.loads(line)
                if not (rec.get("body") or rec.get("text") or "").strip():
                    continue   # Reuters has records with a title only: the indexer rejects them
                rec["id"] = f"{src.name.split('.')[0]}:{rec.get('id') or rec.get('newid') or n}"
                rec.setdefault("source", "Reuters" if "reuters" in src.name else "BBC News")
                records.append(rec)
    out.mkdir(parents=True, exist_ok=True)
    files, total, copy = [], 0, 0
    while total < minimum:
        path = out / f"copy{copy}.jsonl"
        with open(path, "w", encoding="utf-8") as fh:
            for rec in records:
                rec = dict(rec, id=f"{rec['id']}#{copy}" if copy else rec["id"])
                if copy and isinstance(rec.get("date"), str) and rec["date"][:4].isdigit():
                    rec["date"] = f"{int(rec['date'][:4]) + copy}{rec['date'][4:]}"
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        files.append(path)
        total += len(records)
        copy += 1
    return files, total


def reindex_cmd(paths: list[Path], index_root: Path, workers: int) -> list[str]:
    return [sys.executable, "-m", "web.cli", "reindex", *map(str, paths), "--index", str(index_root),
            "--workers", str(workers), "--quiet"]


# --- server --------------------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(index_root: Path, port: int, threads: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--index", str(index_root), "--host",
                             "127.0.0.1", "--port", str(port), "--threads", str(threads)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/stats")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    sys.exit("the server did not come up")


def get_json(port: int, path: str):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path)
    response = conn.getresponse()
    return json.loads(response.read())


# --- workload ------------------------------------------------------------------------------------------------------

def workload(port: int, rng: random.Random) -> list[str]:
    """A fixed list of realistic URLs, built from what the index holds."""
    ids, people, langs, sources = [], [], [], []
    for word in WORDS[:12]:
        result = get_json(port, "/api/search?" + urlencode({"q": word, "per_page": 20}))
        ids += [h["id"] for h in result["hits"]]
        people += [b["value"] for b in result["facets"].get("people", [])[:5]]
        langs += [b["value"] for b in result["facets"].get("language", [])[:3]]
        sources += [b["value"] for b in result["facets"].get("source", [])[:3]]
    people, langs, sources = sorted(set(people)) or ["x"], sorted(set(langs)) or ["en"], sorted(set(sources)) or ["x"]
    urls = []
    for _ in range(2000):
        word = rng.choice(WORDS)
        roll = rng.random()
        if roll < 0.35:
            urls.append("/?" + urlencode({"q": word}))
        elif roll < 0.50:
            urls.append("/?" + urlencode({"q": word, "page": rng.randint(2, 3)}))
        elif roll < 0.65:
            urls.append("/?" + urlencode({"q": word, "person": rng.choice(people)}))
        elif roll < 0.75:
            urls.append("/api/search?" + urlencode({"q": word, "lang": rng.choice(langs), "sort": "newest"}))
        elif roll < 0.80:
            urls.append("/?" + urlencode({"source": rng.choice(sources)}))
        elif roll < 0.95 and ids:
            urls.append("/article/" + quote(rng.choice(ids), safe="/"))
        else:
            urls.append("/api/facets/people?" + urlencode({"prefix": rng.choice(people)[:2]}))
    return urls


class Client(threading.Thread):
    """One keep-alive client issuing the workload's URLs in a random order until told to stop."""

    def __init__(self, port: int, urls: list[str], seed: int, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.urls, self.stop = port, urls, stop
        self.rng = random.Random(seed)
        self.latencies: list[float] = []
        self.errors: list[str] = []

    def run(self):
        conn = None
        while not self.stop.is_set():
            url = self.rng.choice(self.urls)
            t0 = time.perf_counter()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                conn.request("GET", url)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    self.errors.append(f"{response.status} {url}")
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as exc:
                self.errors.append(f"{type(exc).__name__}: {exc} {url}")
                conn = None
            self.latencies.append(time.perf_counter() - t0)


def run_phase(port: int, urls: list[str], clients: int, seconds: float, until=None) -> dict:
    """Run the clients for `seconds` (and, if given, until `until()` is true); return the figures."""
    stop = threading.Event()
    workers = [Client(port, urls, seed, stop) for seed in range(clients)]
    started = time.perf_counter()
    for w in workers:
        w.start()
    while True:
        time.sleep(0.5)
        elapsed = time.perf_counter() - started
        if elapsed >= seconds and (until is None or until()):
            break
    stop.set()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    latencies = sorted(x for w in workers for x in w.latencies)
    errors = [e for w in workers for e in w.errors]
    q = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [0.0] * 99
    return {"requests": len(latencies), "seconds": round(elapsed, 1), "rps": round(len(latencies) / elapsed, 1),
            "p50_ms": round(q[49] * 1000, 1), "p95_ms": round(q[94] * 1000, 1), "p99_ms": round(q[98] * 1000, 1),
            "max_ms": round(latencies[-1] * 1000, 1) if latencies else 0.0, "errors": len(errors),
            "error_samples": errors[:5]}


def print_phase(name: str, figures: dict) -> None:
    print(f"{name:<28} {figures['requests']:>7} req in {figures['seconds']:>5} s  {figures['rps']:>6} req/s  "
          f"p50 {figures['p50_ms']:>7} ms  p95 {figures['p95_ms']:>7} ms  p99 {figures['p99_ms']:>7} ms  "
          f"errors {figures['errors']}", flush=True)
    for sample in figures["error_samples"]:
        print(f"    {sample}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--demo", action="store_true", help="index the bundled demo articles")
    what.add_argument("--corpora", type=Path, default=ROOT.parent / "shared" / "corpora",
                      help="the shared corpora folder (default: ../shared/corpora)")
    parser.add_argument("--min-articles", type=int, default=30_000)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "newsdex-load",
                        help="where the corpus copies and the index go (reused when present)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--threads", type=int, default=8, help="server threads")
    parser.add_argument("--workers", type=int, default=2, help="reindex worker processes")
    parser.add_argument("--no-reindex", action="store_true")
    args = parser.parse_args(argv)

    if args.demo:
        paths, index_root = [ROOT / "web" / "demo_articles"], args.work / "demo-index"
        shutil.rmtree(index_root, ignore_errors=True)
        label = "demo articles"
    else:
        paths, count = big_corpus(args.corpora, args.work / "corpus", args.min_articles)
        index_root = args.work / "big-index"
        label = f"{count:,} Reuters+BBC records"
    from index.store import current_generation
    if current_generation(index_root) is None:
        t0 = time.perf_counter()
        subprocess.run(reindex_cmd(paths, index_root, args.workers), cwd=ROOT, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(f"built the index of {label} in {time.perf_counter() - t0:.0f} s", flush=True)

    port = free_port()
    server = start_server(index_root, port, args.threads)
    try:
        stats = get_json(port, "/api/stats")
        print(f"index: {stats.get('articles')} articles at {index_root}; {args.clients} clients, server threads "
              f"{args.threads}, {os.cpu_count()} CPUs", flush=True)
        urls = workload(port, random.Random(0))
        run_phase(port, urls, args.clients, 5)   # warm-up: caches, first facet arrays
        print_phase("steady", run_phase(port, urls, args.clients, args.seconds))
        if not args.no_reindex:
            before = stats.get("generation")
            reindex = subprocess.Popen(reindex_cmd(paths, index_root, args.workers), cwd=ROOT,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            t0 = time.perf_counter()
            done_at: list[float] = []

            def swapped_a_while_ago() -> bool:
                """The reindex has finished and the clients have run 5 s more against the new index."""
                if reindex.poll() is not None and not done_at:
                    done_at.append(time.perf_counter())
                return bool(done_at) and time.perf_counter() - done_at[0] >= 5

            figures = run_phase(port, urls, args.clients, args.seconds, until=swapped_a_while_ago)
            after = get_json(port, "/api/stats").get("generation")
            print_phase("during reindex", figures)
            print(f"reindex exit {reindex.returncode} after {time.perf_counter() - t0:.0f} s; generation "
                  f"{before} -> {after} ({'swapped' if after != before else 'NOT swapped'})")
            return 1 if figures["errors"] or after == before else 0
        return 0
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
