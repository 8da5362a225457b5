"""Search speed: newsdex's Searcher against SQLite FTS5 doing the same work, at 10k and 100k real articles.

    python bench/search_speed.py build [--corpora ../shared/corpora] [--out /tmp/newsdex-bench] [--sizes 10000,100000]
    python bench/search_speed.py run   [--out /tmp/newsdex-bench] [--sizes 10000,100000] [--rounds 5] [--mix long]

`build` makes, per size, a newsdex index (index.schema.document_for on Article objects, one Whoosh writer) and an
SQLite FTS5 database of the same articles. The articles come from the real corpora (Reuters-21578, BBC News,
MasakhaNEWS, Japanese/French/English Wikinews, VOA), repeated with distinct ids and dates shifted by whole years
until the size is reached. People and countries: Reuters' gold PEOPLE/PLACES labels, plus capitalised name pairs
from English text (so the people facet has thousands of values, like a real archive), unless
index.entities.extract_entities finds some.

`run` answers a realistic query mix (single words, two-word AND, phrases, OR, with and without filters), each with
all facets + the date histogram + 10 snippets, several rounds, and prints p50/p95 for both engines (newsdex with
all_articles: the same work as SQLite), and newsdex's default (copies of a story collapsed and counted once). The
bench articles carry no story ids, so every article is a story of one and the default costs only the check that
no two matching articles share a story. It first checks every facet count of every query against a brute-force
count over the stored articles.
"""
from __future__ import annotations

import argparse
import gzip
import json
import re
import sqlite3
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index import store  # noqa: E402
from index.model import Article, Country, Person  # noqa: E402
from index.schema import document_for, person_key  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LANG3 = {"eng": "en", "fra": "fr", "hau": "ha", "swa": "sw", "yor": "yo", "ibo": "ig", "amh": "am", "sna": "sn",
         "orm": "om", "run": "rn", "pcm": "pcm", "som": "so", "xho": "xh", "tir": "ti", "lug": "lg", "lin": "ln"}
_NAME_PAIR = re.compile(r"\b([A-Z][a-z]{2,12}) ([A-Z][a-z]{2,14})\b")
_NOT_NAMES = set("The This That These Those There Then When What Where Which While With From Into Over Under After "
                 "Before During Since Until About Above Below Between Monday Tuesday Wednesday Thursday Friday "
                 "Saturday Sunday January February March April June July August September October November "
                 "December New North South East West United Prime Minister President General Bank Federal "
                 "National International Reuters Corp Inc Group Company Street Exchange Board Chairman "
                 "Secretary Treasury House Senate Congress Department Ministry Market Trade Union".split())


def _jsonl(path: Path):
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _names_in(text: str, limit: int = 4) -> list[str]:
    found = []
    for first, last in _NAME_PAIR.findall(text):
        if first in _NOT_NAMES or last in _NOT_NAMES:
            continue
        name = f"{first} {last}"
        if name not in found:
            found.append(name)
        if len(found) >= limit:
            break
    return found


def _people(names) -> tuple[Person, ...]:
    seen, out = set(), []
    for name in names:
        key = person_key(name)
        if key and key not in seen:
            seen.add(key)
            out.append(Person(name, key))
    return tuple(out)


def load_base(corpora: Path) -> list[dict]:
    """Every corpus article as a plain dict (title, body, date, lang, source, people, countries)."""
    base = []
    places = json.loads((corpora / "reuters21578" / "places-iso.json").read_text())
    import pycountry
    for rec in _jsonl(corpora / "reuters21578" / "reuters21578-dev.jsonl.gz"):
        body = re.sub(r"\s*\n\s*", " ", rec.get("body") or "").strip()
        if not body:
            continue
        codes = [places[p] for p in rec.get("places", []) if p in places]
        people = [p.replace("-", " ").title() for p in rec.get("people", [])] + _names_in(body)
        base.append(dict(title=(rec.get("title") or "").title(), body=body, date=rec["date"][:10], lang="en",
                         source="Reuters", people=people, countries=codes))
    for i, rec in enumerate(_jsonl(corpora / "bbc-news-2225" / "bbc.jsonl.gz")):
        day = datetime(2004, 1, 1) + timedelta(days=(i * 7919) % 700)
        base.append(dict(title=rec["title"], body=rec["text"], date=day.strftime("%Y-%m-%d"), lang="en",
                         source="BBC News", people=_names_in(rec["text"]), countries=["GB"] if i % 3 else []))
    for i, rec in enumerate(_jsonl(corpora / "multilingual" / "masakhanews-dev.jsonl.gz")):
        day = datetime(2020, 1, 1) + timedelta(days=(i * 104729) % 900)
        lang = LANG3.get(rec["lang"], rec["lang"])
        base.append(dict(title=rec["headline"], body=rec["text"], date=day.strftime("%Y-%m-%d"), lang=lang,
                         source="MasakhaNEWS", people=_names_in(rec["text"]) if lang == "en" else [], countries=[]))
    for i, rec in enumerate(_jsonl(corpora / "multilingual" / "jawikinews" / "jawikinews-detok.jsonl.gz")):
        day = datetime(2005, 1, 1) + timedelta(days=(i * 7907) % 6000)
        base.append(dict(title=rec["headline"], body=rec["text"], date=day.strftime("%Y-%m-%d"), lang="ja",
                         source="Wikinews (ja)", people=[], countries=["JP"]))
    for name, lang in (("wikinews-fr-2012.jsonl.gz", "fr"), ("wikinews-en-gum.jsonl.gz", "en")):
        for rec in _jsonl(corpora / "open-news-sample" / name):
            base.append(dict(title=rec["title"], body=rec["text"], date=rec.get("date") or "2012-01-01", lang=lang,
                             source=f"Wikinews ({lang})", people=_names_in(rec["text"]) if lang == "en" else [],
                             countries=[]))
    for i, rec in enumerate(_jsonl(corpora / "open-news-sample" / "voa-lingala-shona.jsonl.gz")):
        day = datetime(2019, 6, 1) + timedelta(days=(i * 7901) % 800)
        base.append(dict(title=rec["headline"], body=rec["text"], date=day.strftime("%Y-%m-%d"), lang=rec["lang"],
                         source="VOA", people=[], countries=[]))
    names = {c.alpha_2: c.name for c in pycountry.countries}
    for rec in base:
        rec["countries"] = [(c, names.get(c, c)) for c in dict.fromkeys(rec["countries"])]
    return base


def articles(base: list[dict], n: int):
    """n Articles: the base corpus repeated with distinct ids, each repetition shifted by whole years (fewer
    than the base: an even sample of it, so a small index has the same mix of corpora as a large one)."""
    for i in range(n):
        rec = base[i % len(base)] if n >= len(base) else base[i * len(base) // n]
        rep = i // len(base)
        day = datetime.fromisoformat(rec["date"]).replace(tzinfo=timezone.utc)
        day = day.replace(year=day.year + 3 * rep) if not (day.month == 2 and day.day == 29) else day
        yield Article(
            id=f"b{i:07d}", path=f"bench/{rec['source']}/{i}", body=rec["body"], title=rec["title"],
            published=day, date_source="json", source=rec["source"], language=rec["lang"],
            people=_people(rec["people"]),
            countries=tuple(Country(code, name, True) for code, name in rec["countries"]),
            checksum=str(i))


def build(corpora: Path, out: Path, n: int) -> None:
    """The newsdex index and the SQLite FTS5 database of n articles under out/n{n}/."""
    target = out / f"n{n}"
    target.mkdir(parents=True, exist_ok=True)
    base = load_base(corpora)
    print(f"{len(base)} base articles; building {n} at {target}", flush=True)
    t0 = time.perf_counter()
    root = target / "index"
    gen = store.new_generation(root)
    from whoosh import index as whoosh_index
    ix = whoosh_index.open_dir(str(gen), indexname=store.INDEX_NAME)
    writer = ix.writer(limitmb=512)
    for k, art in enumerate(articles(base, n)):
        writer.add_document(**document_for(art))
        if k % 10000 == 0:
            print(f"  {k} docs {time.perf_counter() - t0:.0f}s", flush=True)
    writer.commit()
    store.publish(root, gen)
    print(f"whoosh index: {time.perf_counter() - t0:.0f}s", flush=True)
    t0 = time.perf_counter()
    db = target / "fts.sqlite"
    db.unlink(missing_ok=True)
    con = sqlite3.connect(db)
    con.executescript("""
        CREATE TABLE docs(rowid INTEGER PRIMARY KEY, id TEXT, title TEXT, body TEXT, lang TEXT, source TEXT, day TEXT);
        CREATE VIRTUAL TABLE fts USING fts5(title, body, content='docs', content_rowid='rowid',
                                            tokenize='unicode61');
        CREATE TABLE people(rowid INTEGER, person TEXT);
        CREATE TABLE countries(rowid INTEGER, code TEXT);
    """)
    for k, art in enumerate(articles(base, n), 1):
        con.execute("INSERT INTO docs VALUES (?,?,?,?,?,?,?)",
                    (k, art.id, art.title, art.body, art.language, art.source, art.published.date().isoformat()))
        con.executemany("INSERT INTO people VALUES (?,?)", [(k, p.name) for p in art.people])
        con.executemany("INSERT INTO countries VALUES (?,?)", [(k, c.code) for c in art.countries])
    con.execute("INSERT INTO fts(fts) VALUES ('rebuild')")
    con.executescript("CREATE INDEX people_r ON people(rowid); CREATE INDEX countries_r ON countries(rowid);"
                      "INSERT INTO fts(fts) VALUES ('optimize');")
    con.commit()
    con.close()
    print(f"sqlite fts5: {time.perf_counter() - t0:.0f}s", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("command", choices=("build", "run"))
    ap.add_argument("--corpora", type=Path, default=ROOT.parent / "shared" / "corpora")
    ap.add_argument("--out", type=Path, default=Path("/tmp/newsdex-bench"))
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--check", type=int, default=len(QUERIES), help="queries to check against brute force (0: none)")
    ap.add_argument("--mix", choices=("short", "long"), default="short",
                    help="short: 1-2 words, phrases, OR (24 queries); long: 20 natural questions of 10-20 words")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.command == "build":
        if not args.corpora.is_dir():
            print(f"no corpora at {args.corpora}", file=sys.stderr)
            return 2
        for n in sizes:
            build(args.corpora, args.out, n)
        return 0
    return run(args.out, sizes, args.rounds, args.check, args.mix)


QUERIES = [
    # single words
    "oil", "bank", "government", "election", "football", "music", "profit", "tokyo", "coffee", "gold",
    # two-word AND
    "oil prices", "interest rates", "trade deficit", "world cup", "stock market", "central bank",
    # phrases
    '"interest rates"', '"prime minister"', '"trade surplus"', '"chief executive"',
    # OR
    "gold OR silver", "coffee OR cocoa", "wheat OR corn", "film OR music",
]


# natural questions and sentences of 10-20 words, typed as plain words (relaxed when few articles hold them all):
# the topics of the corpora (1987 markets and commodities, 2004-05 business, politics, sport, technology, culture)
LONG_QUERIES = [
    "what did the federal reserve say about interest rates and the dollar this week",
    "how much oil did opec agree to produce after the meeting in vienna",
    "why are coffee prices falling after the brazilian harvest and export quotas",
    "which football club won the premier league title and who scored the goals",
    "what are the new rules for music downloads and file sharing in britain",
    "how did the stock market react to the trade deficit figures from washington",
    "will the bank of japan cut interest rates to support the yen and exports",
    "who will win the general election campaign between labour and the conservatives",
    "what happened to the shares of the airline after the takeover bid was rejected",
    "new mobile phone technology lets people watch television programmes on the move",
    "sugar and cocoa prices rose after poor weather hit crops in west africa",
    "the government plans to raise taxes on tobacco and alcohol in the budget",
    "film stars gathered for the oscars ceremony in hollywood on sunday night",
    "wheat exports from the united states to the soviet union under the grain agreement",
    "how many jobs will be lost when the car factory closes next year",
    "the company reported higher quarterly profits thanks to strong sales in europe",
    "tennis champion pulls out of the australian open with a knee injury",
    "gold and silver prices climb as investors worry about inflation and the dollar",
    "the prime minister said the country would not join the single european currency",
    "computer virus spreads through email attachments and infects millions of machines around the world",
]


def _pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def sqlite_same_work(con, q: str, any_word: bool = False) -> dict:
    """What the Searcher does, in SQLite FTS5: bm25 top-10 (title weighted 2.5), snippet(), total, GROUP BY counts
    of people, countries, language, source and month. any_word: the query's words OR-ed (what a user of FTS5
    would write for a natural question; FTS5 has no relaxed match)."""
    if any_word:
        q = " OR ".join(f'"{w}"' for w in q.split())
    con.execute("DELETE FROM m")
    con.execute("INSERT INTO m SELECT rowid FROM fts WHERE fts MATCH ?", (q,))
    # the top 10 by bm25 first, then snippet() for those 10 only (a plain ORDER BY ... LIMIT would build a
    # snippet for every match before sorting: that version is up to 2x slower)
    top = con.execute(
        "SELECT d.id, d.title, d.day, d.lang, d.source, snippet(fts, 1, '<mark>', '</mark>', '…', 24), "
        "bm25(fts, 2.5, 1.0) AS s FROM fts JOIN docs d ON d.rowid = fts.rowid WHERE fts MATCH ? AND fts.rowid IN "
        "(SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY bm25(fts, 2.5, 1.0) LIMIT 10) ORDER BY s",
        (q, q)).fetchall()
    out = {"hits": top, "total": con.execute("SELECT count(*) FROM m").fetchone()[0]}
    out["people"] = con.execute("SELECT p.person, count(*) c FROM m JOIN people p ON p.rowid = m.rowid "
                                "GROUP BY p.person ORDER BY c DESC LIMIT 20").fetchall()
    out["countries"] = con.execute("SELECT c.code, count(*) n FROM m JOIN countries c ON c.rowid = m.rowid "
                                   "GROUP BY c.code ORDER BY n DESC LIMIT 20").fetchall()
    out["language"] = con.execute("SELECT d.lang, count(*) FROM m JOIN docs d ON d.rowid = m.rowid "
                                  "GROUP BY d.lang").fetchall()
    out["source"] = con.execute("SELECT d.source, count(*) FROM m JOIN docs d ON d.rowid = m.rowid "
                                "GROUP BY d.source").fetchall()
    out["date"] = con.execute("SELECT substr(d.day, 1, 7), count(*) FROM m JOIN docs d ON d.rowid = m.rowid "
                              "GROUP BY 1").fetchall()
    return out


def _sqlite(db: Path):
    con = sqlite3.connect(db, check_same_thread=False)
    con.execute("CREATE TEMP TABLE m(rowid INTEGER PRIMARY KEY)")
    return con


def brute_force_check(searcher, root: Path, queries) -> list[str]:
    """Facet counts and totals of the Searcher against Whoosh's own matchers + every matching article's stored
    fields (slow, independent of the numpy arrays). Returns the mismatches."""
    from whoosh import query as wq
    from index import schema as S
    from search import SearchRequest
    from search.evaluate import stem_tokens, universal_tokens
    from search.query import And, Or, Phrase, Word, parse_query

    ix = store.open_index(root)
    stems = {lang: f for lang, f in S.STEM_FIELDS.items() if ix.reader().field_length(f) > 0}

    def tokens_query(field, toks):
        if not toks:
            return None
        return wq.Term(field, toks[0]) if len(toks) == 1 else wq.Phrase(field, list(toks))

    def convert(node):
        if isinstance(node, And):
            return wq.And([convert(c) for c in node.children])
        if isinstance(node, Or):
            return wq.Or([convert(c) for c in node.children])
        if isinstance(node, Phrase):
            toks = universal_tokens(node.text)
            return wq.Or([tokens_query(S.TITLE, toks), tokens_query(S.BODY, toks)])
        assert isinstance(node, Word) and node.kind == "word" and node.field is None, node
        parts = [tokens_query(S.TITLE, universal_tokens(node.text)), tokens_query(S.BODY, universal_tokens(node.text))]
        parts += [tokens_query(f, stem_tokens(lang, node.text)) for lang, f in stems.items()]
        return wq.Or([p for p in parts if p is not None])

    problems = []
    with ix.searcher() as ws:
        for q in queries:
            docs = list(ws.docs_for_query(convert(parse_query(q))))
            result = searcher.search(SearchRequest(q=q, facet_limit=10 ** 6, all_articles=True))
            fmt = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}[result.date_interval]
            expected = {k: Counter() for k in ("people", "countries", "language", "source", "date")}
            for d in docs:
                art = S.article_from_stored(ws.stored_fields(d))
                expected["people"].update(p.name for p in art.people)
                expected["countries"].update(c.code for c in art.countries if c.about)
                expected["language"][art.language] += 1
                expected["source"][art.source] += 1
                if art.published:
                    expected["date"][art.published.strftime(fmt)] += 1
            got = {name: Counter({b.value: b.count for b in buckets if b.count})
                   for name, buckets in result.facets.items()}
            if result.total != len(docs):
                problems.append(f"{q}: total {result.total} != {len(docs)}")
            for name in expected:
                if got[name] != expected[name]:
                    problems.append(f"{q}: facet {name} differs: {(got[name] - expected[name]).most_common(3)} / "
                                    f"{(expected[name] - got[name]).most_common(3)}")
    return problems


def run(out: Path, sizes, rounds: int, check: int, mix: str = "short") -> int:
    """p50/p95 of the Searcher and of SQLite FTS5 on the query mix, at each size; facet counts checked first
    (the short mix: its plain words are strict at these sizes, as the brute-force check assumes)."""
    from search import SearchRequest, Searcher
    queries = QUERIES if mix == "short" else LONG_QUERIES
    check = check if mix == "short" else 0
    summary = []
    for n in sizes:
        target = out / f"n{n}"
        if not (target / "fts.sqlite").exists():
            print(f"no index at {target}: run `build --sizes {n}` first", file=sys.stderr)
            return 2
        searcher = Searcher(target / "index")
        t0 = time.perf_counter()
        searcher.search(SearchRequest(per_page=1))   # opens the index and builds the facet arrays
        opened = time.perf_counter() - t0
        con = _sqlite(target / "fts.sqlite")
        cold, times = [], {"newsdex": [], "sqlite": [], "collapsed": []}
        for q in queries:   # first pass: newsdex's term cache is empty (the OS page cache is not)
            t = time.perf_counter()
            searcher.search(SearchRequest(q=q, all_articles=True))
            cold.append((time.perf_counter() - t) * 1000)
            sqlite_same_work(con, q, mix == "long")
        if check:
            t0 = time.perf_counter()
            problems = brute_force_check(searcher, target / "index", QUERIES[:check])
            print(f"n={n}: brute-force facet check of {min(check, len(QUERIES))} queries: "
                  f"{'OK' if not problems else 'MISMATCH'} ({time.perf_counter() - t0:.0f}s)", flush=True)
            for p in problems:
                print("   ", p)
            if problems:
                return 1
        for _ in range(rounds):
            for q in queries:   # interleaved, so both engines see the same machine load
                t = time.perf_counter()
                searcher.search(SearchRequest(q=q, all_articles=True))
                times["newsdex"].append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()   # the default: one hit per story, counts of stories
                searcher.search(SearchRequest(q=q))
                times["collapsed"].append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                sqlite_same_work(con, q, mix == "long")
                times["sqlite"].append((time.perf_counter() - t) * 1000)
        row = {"n": n, "open_s": opened, "cold_p50": _pct(cold, 50), "cold_p95": _pct(cold, 95)}
        for eng, vals in times.items():
            row[f"{eng}_p50"], row[f"{eng}_p95"] = _pct(vals, 50), _pct(vals, 95)
        summary.append(row)
        print(f"n={n} ({mix} mix): newsdex p50 {row['newsdex_p50']:.1f} ms p95 {row['newsdex_p95']:.1f} ms | sqlite fts5 p50 "
              f"{row['sqlite_p50']:.1f} ms p95 {row['sqlite_p95']:.1f} ms | newsdex stories collapsed p50 "
              f"{row['collapsed_p50']:.1f} ms p95 {row['collapsed_p95']:.1f} ms | newsdex first pass p50 "
              f"{row['cold_p50']:.1f} p95 {row['cold_p95']:.1f} ms | open + first search {opened:.1f} s", flush=True)
        searcher.close()
        con.close()
    if len(summary) > 1:
        a, b = summary[0], summary[-1]
        print(f"growth {a['n']} -> {b['n']}: newsdex p50 x{b['newsdex_p50'] / a['newsdex_p50']:.2f}, "
              f"sqlite p50 x{b['sqlite_p50'] / a['sqlite_p50']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
