"""How the index side grows with the archive: build, add, delete and segment count at several sizes.

    python bench/scale.py [CORPORA] [--sizes 100000,300000,1000000] [--workers 2] [--work DIR] [--keep]
                          [--small-adds 100] [--no-optimize] [--seed 14] [--rule sentences|wire]

CORPORA defaults to ../shared/corpora (relative to the repo root).

The archive (the rule, seeded, so every run and every machine makes the same articles): every sentence of 6-60
words of the Reuters-21578 bodies (`reuters21578/reuters21578-dev.jsonl.gz`, the closing "Reuter" dropped) and
of BBC News (`bbc-news-2225/bbc.jsonl.gz`), split after `.`, `!` or `?` before a capital, digit or quote, whitespace
collapsed, each distinct sentence once, in file order (Reuters first): ~103,000 sentences. Article i (0, 1, 2, ...)
draws from `random.Random(seed * 10**9 + i)`: 4-14 sentences picked at random (with replacement) from the whole
pool, in paragraphs of 1-3 sentences; the title is an other sentence cut to its first 6-12 words; the date a day
and second in 1995-2024; the outlet one of 12 names. So no two articles are copies of one story (two articles
share a sentence now and then, rarely two), every article is real English prose, and article i is the same at
every size: the 100,000-article archive is the first tenth of the 1,000,000 one. The archive is written once as
JSON Lines shards of 10,000 articles (`part-NNNN.jsonl`, ids `s0000000`...); a size takes the first shards, so
sizes are multiples of 10,000. Added articles continue the numbering past the largest size.

Per size, each measurement is one function of `MEASUREMENTS` taking a `Context` (the index, its archive, the
size) and returning {label: value}; they run in order on the same index. The index side measures:

- build: `newsdex reindex` of the size's shards (wall, and peak RSS and PSS summed over the CLI process and its
  workers, sampled every 0.25 s), index size on disk and segment count;
- add: `newsdex add` of a file of 100 new articles, as a new process (wall, median of 3 runs);
- delete: `newsdex delete` of 100 ids of the archive, as a new process (wall, median of 3 runs);
- small adds: `--small-adds` adds of 5 articles each, in one process (build_index, workers=1): the segment
  count after them and the most there were (the merge policy at work), the median and slowest add;
- optimize: `newsdex optimize` (wall, peak memory), the segment count and index size after it (skip it with
  `--no-optimize`: minutes at 1,000,000).

The search side adds its own functions there (first search of a new process, server heap after a query mix,
search p50/p95 beside FTS5): each takes the same Context and returns its figures, printed in the same table.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.indexing import _memory, _tree  # noqa: E402  (process-tree memory sampling)

SHARD = 10_000
SPLIT = re.compile(r"(?<=[.!?])\s+(?=[\"'A-Z0-9])")
SOURCES = ("Harbour Post", "Daily Ledger", "Wire Service", "Evening Courier", "Market Report", "City Times",
           "Northern Gazette", "Coast Herald", "Business Daily", "World Desk", "Morning Star", "Valley News")
EPOCH = datetime(1995, 1, 1, tzinfo=timezone.utc)
DAYS = 30 * 365


# --- the synthetic archive ------------------------------------------------------------------------------------------

def sentence_pool(corpora: Path) -> list[str]:
    """Every distinct sentence of 6-60 words of Reuters-21578 and BBC News, in file order (see the docstring)."""
    pool: dict[str, None] = {}
    sources = ((corpora / "reuters21578" / "reuters21578-dev.jsonl.gz", "body"),
               (corpora / "bbc-news-2225" / "bbc.jsonl.gz", "text"))
    for path, key in sources:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                body = re.sub(r"\s+", " ", json.loads(line).get(key) or "").strip()
                body = re.sub(r"\s*Reuter\s*$", "", body, flags=re.IGNORECASE)
                for sentence in SPLIT.split(body):
                    if 6 <= len(sentence.split()) <= 60 and sentence[-1] in ".!?\"":
                        pool.setdefault(sentence, None)
    return list(pool)


RULES = ("sentences", "wire")
COPY_SHARE = 0.25            # the wire rule: this share of articles are republications of an earlier one


def is_copy(seed: int, i: int) -> bool:
    return i > 0 and random.Random(seed * 10 ** 9 + i + 7 * 10 ** 8).random() < COPY_SHARE


def article_by_rule(pool: list[str], seed: int, i: int, rule: str = "sentences") -> dict:
    """Article number i under a rule. `sentences`: `article()`. `wire` (the second rule, as a wire archive is):
    three articles in four are made as by `sentences`; the fourth (chosen by its own seeded draw) is a
    republication of an original published up to 3,000 articles earlier: the same text under another outlet, a
    date 0-3 days later, the last paragraph dropped when there are more than two, and now and then the headline
    marked "UPDATE 1-". So a quarter of the archive are near-duplicates: stories of 2-5 versions, and a story map
    as large as a syndicated archive's."""
    if rule == "sentences" or not is_copy(seed, i):
        return article(pool, seed, i)
    rng = random.Random(seed * 10 ** 9 + i + 3 * 10 ** 8)
    j = max(0, i - rng.randint(1, 3000))
    while is_copy(seed, j):
        j -= 1
    original = article(pool, seed, j)
    paragraphs = original["text"].split("\n\n")
    if len(paragraphs) > 2:
        paragraphs = paragraphs[:-1]
    when = datetime.strptime(original["date"], "%Y-%m-%dT%H:%M:%SZ") + timedelta(seconds=rng.randrange(3 * 86400))
    title = ("UPDATE 1-" if rng.random() < 0.2 else "") + original["title"]
    return {"id": f"s{i:07d}", "title": title, "text": "\n\n".join(paragraphs),
            "date": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "source": rng.choice([o for o in SOURCES if o != original["source"]])}


def article(pool: list[str], seed: int, i: int) -> dict:
    """Article number i of the archive (a JSON Lines record)."""
    rng = random.Random(seed * 10 ** 9 + i)
    picked = [pool[rng.randrange(len(pool))] for _ in range(rng.randint(4, 14))]
    paragraphs, at = [], 0
    while at < len(picked):
        take = rng.randint(1, 3)
        paragraphs.append(" ".join(picked[at:at + take]))
        at += take
    title = " ".join(pool[rng.randrange(len(pool))].split()[:rng.randint(6, 12)]).rstrip(",;:")
    when = EPOCH + timedelta(days=rng.randrange(DAYS), seconds=rng.randrange(86400))
    return {"id": f"s{i:07d}", "title": title, "text": "\n\n".join(paragraphs),
            "date": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "source": rng.choice(SOURCES)}


def write_articles(path: Path, pool: list[str], seed: int, numbers, rule: str = "sentences") -> Path:
    """Write the given articles to a JSON Lines file (atomically: a half-written shard is never reused)."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for i in numbers:
            fh.write(json.dumps(article_by_rule(pool, seed, i, rule), ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    return path


def make_archive(folder: Path, pool: list[str], seed: int, size: int, rule: str = "sentences") -> list[Path]:
    """The shards holding articles 0..size-1 (written where missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    shards = []
    for s in range(size // SHARD):
        path = folder / f"part-{s:04d}.jsonl"
        if not path.exists():
            write_articles(path, pool, seed, range(s * SHARD, (s + 1) * SHARD), rule)
        shards.append(path)
    return shards


# --- measurements ---------------------------------------------------------------------------------------------------

@dataclass
class Context:
    """What a measurement works on: the index, the size's shards, and where to make new articles."""

    size: int
    root: Path
    shards: list[Path]
    work: Path
    pool: list[str]
    seed: int
    workers: int
    small_adds: int
    optimize: bool
    next_number: int                            # the next article number never used (added articles)
    notes: dict = field(default_factory=dict)   # what one measurement leaves for the next

    def new_articles(self, count: int, name: str) -> Path:
        """A JSON Lines file of `count` articles never indexed before."""
        numbers = range(self.next_number, self.next_number + count)
        self.next_number += count
        return write_articles(self.work / f"{name}.jsonl", self.pool, self.seed, numbers)


def newsdex(*args: str) -> list[str]:
    """The command line of the newsdex CLI in this checkout."""
    return [sys.executable, "-c", "from web.cli import main; main()", *args]


def timed_process(cmd: list[str]) -> tuple[float, int, int]:
    """Run a command to its end: (wall seconds, peak RSS, peak PSS) of it and its children, sampled every 0.25 s."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak_rss = peak_pss = 0
    while proc.poll() is None:
        rss, pss = _memory(_tree(proc.pid))
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(0.25)
    wall = time.perf_counter() - t0
    err = proc.stderr.read()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[3:])} failed ({proc.returncode}):\n{err}")
    return wall, peak_rss, peak_pss


def index_figures(root: Path) -> tuple[float, int, int]:
    """(size of the live generation in MB, segments, articles)."""
    from index import store
    gen = store.current_generation(root)
    size = sum(p.stat().st_size for p in gen.iterdir() if p.is_file())
    return size / 2 ** 20, len(store.live_toc(gen)[1]), store.article_count(gen)


def measure_build(ctx: Context) -> dict:
    """A full `newsdex reindex` of the size's shards."""
    shutil.rmtree(ctx.root, ignore_errors=True)
    wall, rss, pss = timed_process(newsdex("reindex", *map(str, ctx.shards), "--index", str(ctx.root),
                                           "--workers", str(ctx.workers), "--quiet"))
    mb, segments, docs = index_figures(ctx.root)
    return {"build s": wall, "build articles/s": docs / wall, "build peak RSS MB": rss / 2 ** 20,
            "build peak PSS MB": pss / 2 ** 20, "index MB": mb, "segments after build": segments,
            "articles": docs}


def measure_add(ctx: Context, runs: int = 3) -> dict:
    """`newsdex add` of 100 new articles, as a new process (the median of `runs`, and the peak memory)."""
    walls, peaks = [], []
    for r in range(runs):
        path = ctx.new_articles(100, f"add-100-{r}")
        wall, rss, _ = timed_process(newsdex("add", str(path), "--index", str(ctx.root), "--quiet"))
        walls.append(wall)
        peaks.append(rss)
    return {"add 100 s": statistics.median(walls), "add 100 s (runs)": walls, "add peak RSS MB": max(peaks) / 2 ** 20}


def measure_delete(ctx: Context, runs: int = 3) -> dict:
    """`newsdex delete` of 100 ids of the archive, as a new process (the median of `runs`)."""
    rng = random.Random(ctx.seed + ctx.size)
    ids = [f"s{i:07d}" for i in rng.sample(range(ctx.size), 100 * runs)]
    walls = [timed_process(newsdex("delete", *ids[100 * r:100 * (r + 1)], "--index", str(ctx.root)))[0]
             for r in range(runs)]
    return {"delete 100 s": statistics.median(walls), "delete 100 s (runs)": walls}


SMALL_ADDS_SCRIPT = r"""
import json, sys, time
from index.builder import build_index
args = json.loads(sys.argv[1])
walls, segments = [], []
for path in args["paths"]:
    t0 = time.perf_counter()
    report = build_index([path], args["root"], mode="add", workers=1)
    walls.append(time.perf_counter() - t0)
    segments.append(report.segments)
print("RESULT " + json.dumps([walls, segments]))
"""


def measure_small_adds(ctx: Context) -> dict:
    """`small_adds` adds of 5 articles in one process (build_index, workers=1): the segment count after them,
    the most there were, and the median and slowest add."""
    if not ctx.small_adds:
        return {}
    folder = ctx.work / "small-adds"
    folder.mkdir(exist_ok=True)
    paths = [str(write_articles(folder / f"add-{k:04d}.jsonl", ctx.pool, ctx.seed,
                                range(ctx.next_number + 5 * k, ctx.next_number + 5 * (k + 1))))
             for k in range(ctx.small_adds)]
    ctx.next_number += 5 * ctx.small_adds
    arg = json.dumps({"paths": paths, "root": str(ctx.root)})
    out = subprocess.run([sys.executable, "-c", SMALL_ADDS_SCRIPT, arg], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"small adds failed:\n{out.stderr}")
    walls, segments = json.loads(next(line for line in out.stdout.splitlines() if line.startswith("RESULT "))[7:])
    return {f"segments after {ctx.small_adds} adds of 5": segments[-1], "segments at most": max(segments),
            "small add p50 s": statistics.median(walls), "small add max s": max(walls)}


def measure_optimize(ctx: Context) -> dict:
    """`newsdex optimize` (every segment merged into one), as a new process, and the segment count after."""
    if not ctx.optimize:
        return {}
    wall, rss, _ = timed_process(newsdex("optimize", "--index", str(ctx.root)))
    mb, segments, _ = index_figures(ctx.root)
    return {"optimize s": wall, "optimize peak RSS MB": rss / 2 ** 20, "segments after optimize": segments,
            "index MB after optimize": mb}


# The measurements, in the order they run on each size's index (each: Context -> {label: value}).
MEASUREMENTS: list[Callable[[Context], dict]] = [measure_build, measure_add, measure_delete, measure_small_adds,
                                                 measure_optimize]


def search_measurements() -> list[Callable[[Context], dict]]:
    """The search side (bench/scale_search.py), run right after the build: first search, heap, speed, refresh."""
    from bench import scale_search
    return scale_search.MEASUREMENTS


# --- the run --------------------------------------------------------------------------------------------------------

def run_size(size: int, opts, pool: list[str], work: Path, shards: list[Path], first_new: int) -> dict:
    """Every measurement on one size; returns {label: value}."""
    tag = "" if opts.rule == "sentences" else f"{opts.rule}-"
    ctx = Context(size=size, root=work / f"index-{tag}{size}", shards=shards[:size // SHARD],
                  work=work / f"new-{tag}{size}",
                  pool=pool, seed=opts.seed, workers=opts.workers, small_adds=opts.small_adds,
                  optimize=not opts.no_optimize, next_number=first_new)
    ctx.work.mkdir(parents=True, exist_ok=True)
    figures: dict = {}
    measurements = MEASUREMENTS if opts.no_search else MEASUREMENTS[:1] + search_measurements() + MEASUREMENTS[1:]
    for measure in measurements:
        got = measure(ctx)
        figures.update(got)
        print(f"  {size:,}: {measure.__name__}: " + ", ".join(f"{k} {_fmt(v)}" for k, v in got.items()), flush=True)
    if not opts.keep:
        shutil.rmtree(ctx.root, ignore_errors=True)
    return figures


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.2f}" if value < 100 else f"{value:,.0f}"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return f"{value:,}" if isinstance(value, int) else str(value)


def print_table(results: dict[int, dict]) -> None:
    """One row per figure, one column per size, and the growth from the smallest size to the largest."""
    sizes = sorted(results)
    labels = list(dict.fromkeys(k for s in sizes for k in results[s] if not k.endswith("(runs)")))
    print("\n| figure | " + " | ".join(f"{s:,}" for s in sizes) + " | largest / smallest |")
    print("|---|" + "---|" * (len(sizes) + 1))
    for label in labels:
        values = [results[s].get(label) for s in sizes]
        first, last = values[0], values[-1]
        ratio = f"{last / first:.2f}x" if isinstance(first, (int, float)) and first and last is not None \
            and len(sizes) > 1 else ""
        print(f"| {label} | " + " | ".join("" if v is None else _fmt(v) for v in values) + f" | {ratio} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpora", nargs="?", default=str(ROOT.parent / "shared" / "corpora"))
    parser.add_argument("--sizes", default="100000,300000,1000000",
                        help="archive sizes, multiples of 10,000 (comma-separated)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--rule", choices=RULES, default="sentences",
                        help="how the archive is made: sentences (the default), or wire (a quarter republications)")
    parser.add_argument("--small-adds", type=int, default=100, help="adds of 5 articles before counting segments")
    parser.add_argument("--no-optimize", action="store_true", help="skip `newsdex optimize` (minutes at 1M)")
    parser.add_argument("--no-search", action="store_true", help="skip the search side (bench/scale_search.py)")
    parser.add_argument("--work", help="where the archive and the indexes go (default: a temp dir, removed)")
    parser.add_argument("--keep", action="store_true", help="keep the indexes (and the work dir)")
    opts = parser.parse_args()
    sizes = sorted(int(s.replace("_", "")) for s in opts.sizes.split(","))
    if any(s <= 0 or s % SHARD for s in sizes):
        raise SystemExit(f"sizes must be positive multiples of {SHARD:,}")
    corpora = Path(opts.corpora)
    if not (corpora / "reuters21578").is_dir():
        raise SystemExit(f"no corpora at {corpora} (give the path as the first argument)")
    work = Path(opts.work) if opts.work else Path(tempfile.mkdtemp(prefix="newsdex-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        pool = sentence_pool(corpora)
        folder = work / ("archive" if opts.rule == "sentences" else f"archive-{opts.rule}")
        shards = make_archive(folder, pool, opts.seed, sizes[-1], opts.rule)
        print(f"{len(pool):,} sentences; archive of {sizes[-1]:,} articles in {folder} "
              f"({time.perf_counter() - t0:.0f} s); {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
              flush=True)
        results = {size: run_size(size, opts, pool, work, shards, sizes[-1] + 1_000_000 * k)
                   for k, size in enumerate(sizes)}
        print_table(results)
        print(f"\nload average at the end {os.getloadavg()[0]:.1f}")
    finally:
        if not opts.work and not opts.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
