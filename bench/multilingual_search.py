"""Multilingual search quality through the real indexer and search layer: Japanese headline words, French plurals.

    .venv/bin/python -m bench.multilingual_search [CORPORA] [--sample 200] [--seed 7] [--workers 2]

CORPORA defaults to ../shared/corpora relative to the repo root. Each corpus is indexed with
`index.builder.build_index` into a temporary directory and searched with `search.searcher.Searcher`.

Japanese (multilingual/jawikinews, 3,670 Wikinews articles): for `--sample` headlines drawn with `--seed`, the query
is made of the headline's content words: its MeCab tokens (the dataset's own tokenisation,
full-articles-origin.tsv.gz) of at least two characters written only in kanji and katakana (no particles, kana
endings, digits or Latin). Three rules, each reported:
  longest  - the longest content word (the first among equals);
  rarest   - the content word found in the fewest article texts (then the longest): a word a reader who remembers
             the story would type;
  two      - the two longest content words (AND), as a reader typically searches.
Headlines without a content word are skipped (counted). A hit is the article with that headline in the top 10.

French (open-news-sample/wikinews-fr-2012, 100 articles): every pair of words w / w+s (or w+x) that both occur in
the corpus (unstemmed tokens, w at least 4 letters, not a stopword) and for which some article has one form and not
the other. Querying one form must return every article that has only the other form; reported per direction and
as recall over those articles.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from whoosh.lang.stopwords import stoplists

from index.analysis import simple_tokens
from index.builder import build_index
from search.model import MAX_PER_PAGE, SearchRequest
from search.searcher import Searcher

REPO = Path(__file__).resolve().parent.parent
_CONTENT = re.compile(r"[\u4e00-\u9fff\u3005\u30a0-\u30fa\u30fc-\u30ff]{2,}")  # kanji / katakana only, 2+


def content_words(tokens: list[str]) -> list[str]:
    """The headline's content words (see the module docstring), longest first, in headline order among equals."""
    seen = []
    for t in tokens:
        if _CONTENT.fullmatch(t) and t not in seen:
            seen.append(t)
    return sorted(seen, key=len, reverse=True)


def queries(words: list[str], df) -> dict:
    """The query of each rule for one headline."""
    return {"longest": words[0], "rarest": min(words, key=lambda w: (df(w), -len(w))), "two": " ".join(words[:2])}


def japanese(corpora: Path, sample: int, seed: int, workers: int) -> None:
    """Share of sampled headlines whose article is in the top 10 for words of its headline, per rule."""
    base = corpora / "multilingual" / "jawikinews"
    with gzip.open(base / "full-articles-origin.tsv.gz", "rt", encoding="utf-8") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        tokens = {row["id"]: row["headline"].split() for row in reader}
    with gzip.open(base / "jawikinews-detok.jsonl.gz", "rt", encoding="utf-8") as f:
        records = {str(rec["id"]): rec for rec in map(json.loads, f)}
    texts = [rec["text"] for rec in records.values()]
    eligible = sorted((i for i in records if content_words(tokens.get(i, []))), key=int)
    skipped = len(records) - len(eligible)
    chosen = random.Random(seed).sample(eligible, min(sample, len(eligible)))
    df_cache: dict = {}

    def df(word: str) -> int:
        if word not in df_cache:
            df_cache[word] = sum(word in text for text in texts)
        return df_cache[word]

    with tempfile.TemporaryDirectory() as tmp:
        report = _build([base / "jawikinews-detok.jsonl.gz"], Path(tmp) / "ix", workers)
        searcher = Searcher(Path(tmp) / "ix")
        try:
            found, misses, took = defaultdict(int), defaultdict(list), []
            for i in chosen:
                headline = records[i]["headline"]
                for rule, q in queries(content_words(tokens[i]), df).items():
                    t0 = time.perf_counter()
                    result = searcher.search(SearchRequest(q=q, per_page=10, facets=False, snippets=False))
                    took.append(time.perf_counter() - t0)
                    if headline in [hit.title for hit in result.hits]:
                        found[rule] += 1
                    else:
                        misses[rule].append((q, headline, result.total))
        finally:
            searcher.close()
    print(f"\nJapanese (jawikinews, {report}; {len(chosen)} headlines, seed {seed}, {skipped} without a content "
          f"word; median query {sorted(took)[len(took) // 2] * 1000:.1f} ms):")
    for rule in ("longest", "rarest", "two"):
        print(f"  {rule:<8} {found[rule]}/{len(chosen)} = {found[rule] / len(chosen):.3f} in the top 10")
        for q, headline, total in misses[rule][:4]:
            print(f"    miss: {q!r} ({total} results) <- {headline}")


def _build(paths, root: Path, workers: int) -> str:
    t0 = time.perf_counter()
    report = build_index([str(p) for p in paths], root, workers=workers)
    indexed = getattr(report, "indexed", "?")
    return f"{indexed} articles indexed in {time.perf_counter() - t0:.0f} s"


def french(corpora: Path, workers: int) -> None:
    """Plural -> singular and singular -> plural recall on French Wikinews."""
    path = corpora / "open-news-sample" / "wikinews-fr-2012.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        records = [json.loads(line) for line in f]
    words_of = {rec["title"]: set(simple_tokens(f"{rec['title']}\n{rec['text']}")) for rec in records}
    vocab = defaultdict(set)
    for title, words in words_of.items():
        for w in words:
            vocab[w].add(title)
    stop = stoplists["fr"]
    pairs = []
    for w in vocab:
        if len(w) < 4 or not w.isalpha() or w in stop:
            continue
        for plural in (w + "s", w + "x"):
            if plural in vocab and (vocab[w] ^ vocab[plural]):
                pairs.append((w, plural))
    with tempfile.TemporaryDirectory() as tmp:
        report = _build([path], Path(tmp) / "ix", workers)
        searcher = Searcher(Path(tmp) / "ix")
        try:
            stats = {}
            for direction in ("singular->plural", "plural->singular"):
                full = n = targets = got = 0
                for singular, plural in pairs:
                    query, other = (singular, plural) if direction == "singular->plural" else (plural, singular)
                    want = vocab[other] - vocab[query]
                    if not want:
                        continue
                    titles = _all_titles(searcher, query)
                    n += 1
                    targets += len(want)
                    got += len(want & titles)
                    full += want <= titles
                stats[direction] = (full, n, got, targets)
        finally:
            searcher.close()
    print(f"\nFrench (wikinews-fr-2012, {report}; {len(pairs)} singular/plural pairs):")
    for direction, (full, n, got, targets) in stats.items():
        print(f"  {direction}: {full}/{n} = {full / n:.3f} of queries find every article that has only the other "
              f"form; recall over those articles {got}/{targets} = {got / targets:.3f}")


def _all_titles(searcher: Searcher, q: str) -> set:
    """Titles of every result of a query (all pages)."""
    titles, page = set(), 1
    while True:
        result = searcher.search(SearchRequest(q=q, page=page, per_page=MAX_PER_PAGE, facets=False,
                                               snippets=False))
        titles |= {hit.title for hit in result.hits}
        if page * MAX_PER_PAGE >= result.reachable:
            return titles
        page += 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpora", nargs="?", default=str(REPO.parent / "shared" / "corpora"))
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    corpora = Path(args.corpora)
    if not (corpora / "multilingual").exists():
        print(f"no corpora at {corpora}", file=sys.stderr)
        return 2
    french(corpora, args.workers)
    japanese(corpora, args.sample, args.seed, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
