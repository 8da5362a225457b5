"""Live ingestion (issue 14): a served index keeps answering while articles arrive.

    python bench/live.py INDEX [CORPORA] [--clients 8] [--every 5] [--batch 10] [--minutes 5] [--port 8765]

INDEX is an existing index (e.g. one bench/scale.py built with --keep, or `newsdex reindex` of its shards; it is
changed: the batches are added to it). CORPORA defaults to ../shared/corpora: the new articles are made by
bench/scale.py's rule (article numbers from 50,000,000 on, so they never collide with the archive's; ids and
words name the run, so a second run on the same index adds new articles).

What runs, all as real processes and HTTP:
- `newsdex serve` over INDEX (waitress, 8 threads);
- CLIENTS threads, each sending the bench/search_speed.py query mix in turn to `/api/search` (all facets, the
  histogram, 10 snippets), as fast as answers come;
- every EVERY seconds, `newsdex add` of a file of BATCH new articles. Each batch's articles carry one made-up word
  of their own (`zqx` + consonants), and a watcher asks the server for that word until it finds all BATCH articles:
  the time from the add's return to that moment is the batch's "searchable after".

Printed: searches answered, errors (any status but 200, or a failed connection), search p50/p95/max during the
run, add wall (median and slowest), searchable-after (median and slowest), and the server's anonymous RSS at the
end. Exit status 1 when there was an error or a batch never became searchable.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scale import article, sentence_pool  # noqa: E402
from bench.search_speed import QUERIES, _pct  # noqa: E402

FIRST_NEW = 50_000_000
SEED = 14


CONSONANTS = "bcdfghjklmnpqrtvwxz"   # no vowel, no y, no s: no stemmer strips or changes such a word


def marker(batch: int, run: int = 0) -> str:
    """A word no article has, of consonants only (so no stemmer folds two of them together: "zqvy" and "zqvi"
    are one stem in English), naming the run and the batch."""
    letters = ""
    n = run * 10_000 + batch
    while True:
        letters = CONSONANTS[n % len(CONSONANTS)] + letters
        n //= len(CONSONANTS)
        if not n:
            return "zqx" + letters


def write_batch(folder: Path, pool: list[str], batch: int, size: int, run: int) -> Path:
    """Batch `batch` of run `run`: new ids (a run's articles are numbered from FIRST_NEW + run * 100,000, so a
    second run on the same index adds articles, not copies it already has)."""
    path = folder / f"live-{batch:04d}.jsonl"
    word = marker(batch, run)
    with open(path, "w", encoding="utf-8") as fh:
        for k in range(size):
            art = article(pool, SEED, FIRST_NEW + run * 100_000 + batch * size + k)
            art["id"] = f"live{run}-{batch:04d}-{k:02d}"
            art["text"] += f"\n\nFiled under {word}."
            fh.write(json.dumps(art, ensure_ascii=False) + "\n")
    return path


def get_json(base: str, path: str, timeout: float = 60.0) -> tuple[int, dict | None]:
    try:
        with urllib.request.urlopen(base + path, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None
    except (urllib.error.URLError, OSError):
        return 0, None


def wait_ready(base: str, proc: subprocess.Popen, limit: float = 300.0) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if proc.poll() is not None:
            raise SystemExit(f"the server stopped (exit {proc.returncode})")
        status, _ = get_json(base, "/api/search?q=oil&per_page=1", timeout=120)
        if status == 200:
            return
        time.sleep(0.5)
    raise SystemExit("the server did not answer within 5 minutes")


def anon_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    return 0.0


def pct(values, p):
    return _pct(values, p) if values else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("index", type=Path)
    ap.add_argument("corpora", type=Path, nargs="?", default=ROOT.parent / "shared" / "corpora")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--every", type=float, default=5.0)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--run", type=int, default=int(time.time()) % 10_000,
                    help="names the run's articles and words (default: from the clock, new every run)")
    args = ap.parse_args()
    if not args.corpora.is_dir():
        print(f"no corpora at {args.corpora}", file=sys.stderr)
        return 2
    pool = sentence_pool(args.corpora)
    newsdex = [sys.executable, "-m", "web.cli"]
    base = f"http://127.0.0.1:{args.port}"
    # the server's log goes to a file: a pipe nobody reads fills up (64 KB of waitress's "Task queue depth"
    # warnings under 8 clients) and then blocks every thread that logs
    log = tempfile.NamedTemporaryFile("w+", prefix="newsdex-live-server-", suffix=".log", delete=False)
    server = subprocess.Popen(newsdex + ["serve", "--index", str(args.index), "--port", str(args.port)],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    try:
        t0 = time.monotonic()
        wait_ready(base, server)
        print(f"server ready in {time.monotonic() - t0:.1f} s", flush=True)
        return run(args, pool, newsdex, base, server)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.seek(0)
        lines = log.read().splitlines()
        log.close()
        os.unlink(log.name)
        queue = sum("Task queue depth" in line for line in lines)
        other = [line for line in lines if "Task queue depth" not in line]
        print(f"server log: {len(lines)} lines, {queue} of them waitress's task queue warnings; the others:")
        for line in other[-20:]:
            print(f"  {line}")


def run(args, pool, newsdex, base: str, server: subprocess.Popen) -> int:
    stop = threading.Event()
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []

    def client(k: int) -> None:
        i = k
        while not stop.is_set():
            q = QUERIES[i % len(QUERIES)]
            i += 1
            t = time.perf_counter()
            status, _ = get_json(base, "/api/search?" + urllib.parse.urlencode({"q": q, "count": "articles"}))
            ms = (time.perf_counter() - t) * 1000
            with lock:
                if status == 200:
                    latencies.append(ms)
                else:
                    errors.append(f"{q!r}: status {status}")

    clients = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(args.clients)]
    for c in clients:
        c.start()
    adds, visible, never = [], [], []
    deadline = time.monotonic() + args.minutes * 60
    batch = 0
    with tempfile.TemporaryDirectory() as tmp:
        while time.monotonic() < deadline:
            started = time.monotonic()
            path = write_batch(Path(tmp), pool, batch, args.batch, args.run)
            t = time.monotonic()
            done = subprocess.run(newsdex + ["add", str(path), "--index", str(args.index), "--quiet"], cwd=ROOT,
                                  capture_output=True, text=True)
            returned = time.monotonic()
            adds.append(returned - t)
            if done.returncode != 0:
                errors.append(f"add of batch {batch}: exit {done.returncode}: {done.stderr.strip()[-300:]}")
            word = marker(batch, args.run)
            after = None
            while after is None:
                status, body = get_json(base, f"/api/search?q={word}&count=articles&per_page=1")
                if status == 200 and body and body.get("total") == args.batch:
                    after = time.monotonic() - returned
                    visible.append(after)
                elif time.monotonic() - returned > 60:
                    never.append(batch)
                    break
                else:
                    time.sleep(0.05)
            shown = f"{after:.2f} s" if after is not None else "never (60 s)"
            print(f"batch {batch}: add {adds[-1]:.2f} s, searchable after {shown}, {len(latencies)} searches so far",
                  flush=True)
            batch += 1
            time.sleep(max(0.0, args.every - (time.monotonic() - started)))
    stop.set()
    for c in clients:
        c.join(timeout=120)
    rss = anon_rss_mb(server.pid)
    print()
    print(f"clients {args.clients}, a batch of {args.batch} every {args.every:g} s for {args.minutes:g} min "
          f"({batch} batches)")
    print(f"searches answered: {len(latencies)}; errors: {len(errors)}")
    for e in errors[:10]:
        print(f"  {e}")
    print(f"search during the run: p50 {pct(latencies, 50):.1f} ms, p95 {pct(latencies, 95):.1f} ms, "
          f"max {max(latencies, default=float('nan')):.1f} ms")
    print(f"add wall: median {statistics.median(adds):.2f} s, slowest {max(adds):.2f} s")
    if visible:
        print(f"searchable after the add returned: median {statistics.median(visible):.2f} s, "
              f"slowest {max(visible):.2f} s")
    print(f"batches never searchable within 60 s: {len(never)}")
    print(f"server anonymous RSS at the end: {rss:,.0f} MB")
    return 1 if errors or never else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
