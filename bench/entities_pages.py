"""Person and country pages, and exports, at 100k articles: page and API latency, export rows/s and memory.

    python bench/entities_pages.py [--index /tmp/newsdex-bench/n100000/index] [--rounds 5] [--people 20]

The index is the one `python bench/search_speed.py build --sizes 100000` makes (real articles of the corpora,
repeated with distinct ids; thousands of people). It is only read. Requests go through the Flask app in this
process (the test client: routing, the search layer, templates and JSON; no socket), one at a time:

- person pages: the `--people` most mentioned people and as many picked evenly among those with at least 5
  articles, each as the HTML page and the API, `--rounds` times after one warm-up request each;
- the most frequent country's page and API, the same way (it is the largest foreground: the co-mention counts
  and the timeline run over all of its articles);
- the same pages narrowed by a word and a date range (`q`, `from`, `to`: the query is evaluated too);
- an export of 100,000 rows (/api/search.csv and .jsonl with no filter: every article, capped at 100,000),
  read chunk by chunk as a client would: rows per second, and the process's anonymous memory (RssAnon: the
  Python heap and numpy arrays, not the index files the OS maps) sampled every 10,000 rows. A second pass under
  tracemalloc gives the peak of Python allocations while streaming.

Prints one table; the README quotes it.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from web.app import create_app  # noqa: E402

DEFAULT_INDEX = Path("/tmp/newsdex-bench/n100000/index")


def rss_anon_mb() -> float:
    """Anonymous resident memory of this process (MB): what the export could grow."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))]


def timed(client, url: str) -> float:
    t0 = time.perf_counter()
    response = client.get(url)
    ms = (time.perf_counter() - t0) * 1000
    assert response.status_code == 200, (url, response.status_code, response.data[:300])
    return ms


def latency(client, urls: list[str], rounds: int) -> dict:
    """Cold (first request of each URL), then p50/p95 over `rounds` warm requests of every URL."""
    cold = [timed(client, u) for u in urls]
    warm = [timed(client, u) for _ in range(rounds) for u in urls]
    return {"n": len(warm), "cold_p50": statistics.median(cold), "p50": statistics.median(warm),
            "p95": pct(warm, 95), "max": max(warm)}


def pick_people(client, n: int) -> list[str]:
    """The n most mentioned people, and n spread evenly over those with at least 5 articles."""
    values = client.get("/api/facets/people?limit=100").get_json()["values"]
    top = [v["value"] for v in values[:n]]
    from search import Searcher
    searcher = client.application.extensions["newsdex"].get()
    assert isinstance(searcher, Searcher)
    with searcher._use() as snap:
        ff = snap.facet("people")
        keys = sorted((int(c), v) for v, c in zip(ff.values, ff.totals) if c >= 5)
    step = max(1, len(keys) // n)
    spread = [snap.person_name(v) for _, v in keys[::step][:n]]
    return list(dict.fromkeys(top + spread))


def export_run(client, fmt: str, trace: bool = False) -> dict:
    """Stream /api/search.<fmt> to the end: rows/s, memory sampled every 10,000 rows."""
    if trace:
        tracemalloc.start()
    before = rss_anon_mb()
    t0 = time.perf_counter()
    response = client.get(f"/api/search.{fmt}", buffered=False)
    rows, samples, nbytes, next_sample = 0, [], 0, 10_000
    newline = b"\r\n" if fmt == "csv" else b"\n"
    for chunk in response.response:
        nbytes += len(chunk)
        rows += chunk.count(newline)
        if rows >= next_sample:
            samples.append(rss_anon_mb())
            next_sample += 10_000
    seconds = time.perf_counter() - t0
    response.close()
    peak = tracemalloc.get_traced_memory()[1] / 2 ** 20 if trace else None
    if trace:
        tracemalloc.stop()
    rows -= 1 if fmt == "csv" else 0   # the header row
    return {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds, "mb": nbytes / 2 ** 20,
            "rss_before": before, "rss_samples": samples, "traced_peak_mb": peak,
            "truncated": response.headers["X-Export-Truncated"], "total": int(response.headers["X-Export-Total"])}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--people", type=int, default=20)
    args = ap.parse_args(argv)
    if not (args.index / "CURRENT").is_file():
        print(f"no index at {args.index}: build one with `python bench/search_speed.py build --sizes 100000 "
              f"--out {args.index.parent.parent}`", file=sys.stderr)
        return 2
    app = create_app({"INDEX_ROOT": str(args.index)})
    client = app.test_client()
    t0 = time.perf_counter()
    stats = client.get("/api/stats").get_json()
    print(f"index: {stats['articles']:,} articles, {stats['people']:,} people, {stats['countries']} countries "
          f"(opened in {time.perf_counter() - t0:.1f} s)")
    people = pick_people(client, args.people)
    countries = client.get("/api/facets/countries?limit=1").get_json()["values"]
    top_country, top_count = countries[0]["value"], countries[0]["count"]
    person_keys = [quote(p) for p in people]
    # a display name redirects to the key: ask for the keys themselves
    person_keys = [client.get(f"/api/person/{k}").headers.get("Location", f"/api/person/{k}").split("/api/person/")[1]
                   for k in person_keys]
    narrowing = "?q=market&from=1987-01&to=1995-12"
    cases = [
        (f"person page, {len(people)} people (HTML)", [f"/person/{k}" for k in person_keys]),
        (f"person API, {len(people)} people", [f"/api/person/{k}" for k in person_keys]),
        ("person page narrowed (q, from, to)", [f"/person/{k}{narrowing}" for k in person_keys]),
        (f"country page, {top_country} ({top_count:,} articles) (HTML)", [f"/country/{top_country}"]),
        (f"country API, {top_country}", [f"/api/country/{top_country}"]),
        (f"country page {top_country} narrowed", [f"/country/{top_country}{narrowing}"]),
    ]
    print(f"\n{'what':58} {'n':>5} {'cold p50':>9} {'p50':>8} {'p95':>8} {'max':>8}")
    for label, urls in cases:
        r = latency(client, urls, args.rounds if len(urls) > 1 else args.rounds * 10)
        print(f"{label:58} {r['n']:5d} {r['cold_p50']:8.1f}  {r['p50']:7.1f}  {r['p95']:7.1f}  {r['max']:7.1f}  ms")
    print()
    for fmt in ("csv", "jsonl"):
        runs = [export_run(client, fmt) for _ in range(3)]
        best = statistics.median([r["rows_per_s"] for r in runs])
        each = ", ".join(f"{x['rows_per_s']:,.0f}" for x in runs)
        r = runs[-1]
        print(f"export {fmt}: {r['rows']:,} rows of {r['total']:,} (truncated: {r['truncated']}), {r['mb']:.1f} MB, "
              f"median of 3: {best:,.0f} rows/s ({each})")
        samples = ", ".join(f"{m:.0f}" for m in r["rss_samples"])
        print(f"  RssAnon before {r['rss_before']:.0f} MB; every 10,000 rows: {samples} MB")
    traced = export_run(client, "csv", trace=True)
    print(f"export csv under tracemalloc: peak of Python allocations while streaming {traced['traced_peak_mb']:.1f} MB "
          f"({traced['rows']:,} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
