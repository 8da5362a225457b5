"""The `newsdex` command line: the composition root, the one module that imports index/, search/ and web/."""
from __future__ import annotations

import html
import json
import os
import re
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import click

from index import durable, facets, store
from index.builder import build_index, default_workers, delete_articles, enrich, optimize_index
from index.entities import AliasError, load_aliases, make_extractor
from index.errors import IndexDamaged, IndexMissing, NewsdexError, RebuildRefused
from index.model import Failure, IndexReport
from index.readers import read_path

DEMO_ARTICLES = Path(__file__).resolve().parent / "demo_articles"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
ALIASES_ENV = "NEWSDEX_ALIASES"
ALIASES_FILENAME = "aliases.txt"
CHECK_LOCK_WAIT = 60.0   # seconds `newsdex check` waits for a running indexing run to finish

# Each setting is declared once: name, environment variable, default, help.
index_option = click.option(
    "--index", "index_root", type=click.Path(file_okay=False, path_type=Path), envvar=store.ENV_VAR,
    default=store.DEFAULT_DIRNAME, show_default=True, show_envvar=True,
    help="Index folder (holds the index's generations).")
aliases_option = click.option(
    "--aliases", "aliases_path", type=click.Path(dir_okay=False, path_type=Path), envvar=ALIASES_ENV,
    default=None, show_envvar=True,
    help=f"Entity alias file (default: {ALIASES_FILENAME} in the index folder, if present).")
workers_option = click.option(
    "--workers", type=click.IntRange(1, 64), default=None,
    help="Worker processes for cleaning, language and entities [default: one per core].")
host_option = click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
port_option = click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True,
                           help="Port to listen on.")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="newsdex")
def main() -> None:
    """newsdex: full-text search for news archives, with people, country, date, language and outlet facets."""


# --- indexing --------------------------------------------------------------------------------------------------

def _aliases_for(index_root: Path, aliases_path: Path | None) -> str | None:
    """The alias file to use, checked here so a bad line is reported before any work starts."""
    if aliases_path is not None:
        if not aliases_path.is_file():
            raise click.BadParameter(f"no alias file at {aliases_path}", param_hint="--aliases")
    else:
        aliases_path = index_root / ALIASES_FILENAME
        if not aliases_path.is_file():
            return None
    try:
        load_aliases(aliases_path)
    except AliasError as exc:
        raise click.ClickException(f"{exc} (fix the alias file, then run this again)") from None
    return str(aliases_path)


class _Progress:
    """A progress bar with rate and ETA on a terminal; a plain log line every few seconds otherwise."""

    LOG_EVERY = 5.0

    def __init__(self, label: str, quiet: bool):
        self.label, self.quiet = label, quiet
        self.tty = sys.stderr.isatty()
        self.started = time.monotonic()
        self.last_log = self.started
        self.bar = None
        self.done = 0

    def __call__(self, done_bytes: int, total_bytes: int, articles: int) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        rate = articles / max(now - self.started, 1e-6)
        if self.tty:
            if self.bar is None:
                self.bar = click.progressbar(length=max(total_bytes, 1), label=self.label, file=sys.stderr,
                                             show_eta=True, show_percent=True, width=30)
                self.bar.__enter__()
            self.bar.label = f"{self.label} {articles:,} articles ({rate:,.0f}/s)"
            self.bar.update(done_bytes - self.done)
            self.done = done_bytes
        elif now - self.last_log >= self.LOG_EVERY:
            self.last_log = now
            share = f" {100 * done_bytes / total_bytes:.0f}% of input," if total_bytes else ""
            eta = ""
            if total_bytes and done_bytes:
                eta = f", about {(now - self.started) * (total_bytes - done_bytes) / done_bytes:.0f}s left"
            click.echo(f"{self.label}{share} {articles:,} articles ({rate:,.0f}/s){eta}", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _print_report(report: IndexReport, verb: str) -> None:
    parts = [f"{verb} {report.indexed:,} articles"]
    if verb != "indexed":
        parts.append(f"added {report.added:,}, replaced {report.replaced:,}, unchanged {report.unchanged:,}")
    click.echo(f"{'; '.join(parts)} in {report.seconds:.1f}s -> {report.index_dir}")
    if report.stories.get("duplicates"):
        click.echo(f"{report.stories['stories']:,} stories: {report.stories['duplicates']:,} articles are copies "
                   f"of another outlet's story")
    for message in report.recovered:
        click.echo(f"recovered: {message}", err=True)
    if report.ignored:
        click.echo(f"ignored {len(report.ignored)} file(s) that are not articles "
                   f"(e.g. {report.ignored[0].path})", err=True)
    _print_problems(report)


def _print_problems(report: IndexReport) -> None:
    """What went wrong per file (a refused rebuild shows these before saying why it was refused)."""
    for title, items in (("problems (indexed anyway)", report.notes), ("skipped", report.skipped),
                         ("failed", report.failed)):
        if items:
            click.echo(f"{title}: {len(items)}", err=True)
            for item in items[:200]:
                click.echo(f"  {item}", err=True)
            if len(items) > 200:
                click.echo(f"  ... and {len(items) - 200} more", err=True)


def _run_build(paths, index_root: Path, mode: str, workers, aliases_path, quiet: bool, force: bool = False) -> None:
    label = "Indexing" if mode == "rebuild" else "Adding"
    progress = _Progress(label, quiet)
    try:
        report = build_index(paths, index_root, mode=mode, workers=workers, force=force,
                             aliases_path=_aliases_for(index_root, aliases_path), progress=progress)
    except KeyboardInterrupt:
        progress.close()
        kept = ("the previous index is still live" if mode == "rebuild"
                else "the index keeps every chunk that was committed; run the same add again to finish")
        click.echo(f"\ninterrupted: {kept}", err=True)
        sys.exit(130)
    except RebuildRefused as exc:
        progress.close()
        if exc.report is not None:
            _print_problems(exc.report)
        raise click.ClickException(str(exc)) from None
    except NewsdexError as exc:
        progress.close()
        raise click.ClickException(str(exc)) from None
    progress.close()
    _print_report(report, "indexed" if mode == "rebuild" else "processed")
    if report.failed:   # warnings (problems indexed anyway, skipped, ignored files) leave the status 0
        sys.exit(1)


paths_argument = click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))


def build_options(command):
    """The arguments and options `reindex` and `add` share."""
    for option in reversed((paths_argument, index_option, workers_option, aliases_option,
                            click.option("--quiet", "-q", is_flag=True, help="No progress output."))):
        command = option(command)
    return command


@main.command()
@build_options
@click.option("--force", is_flag=True,
              help="Replace the live index even when the new one holds fewer than half its articles.")
def reindex(paths, index_root, workers, aliases_path, quiet, force):
    """Build the index from scratch from PATHS (files or folders, recursively).

    The new index is built beside the live one and replaces it atomically when complete: searches keep
    working meanwhile, and an interrupted run leaves the previous index serving. A missing path, a run that
    reads no article, or one that would hold fewer than half the live index's articles (unless --force) is
    refused and the live index keeps serving. The index it replaces is kept for `newsdex rollback`. Exit
    status 1 when any file failed (each is listed with its reason).
    """
    _run_build(paths, index_root, "rebuild", workers, aliases_path, quiet, force)


@main.command()
@index_option
def rollback(index_root):
    """Make the previous index live again (the one the last reindex replaced); run it again to swap back.

    The previous index comes back as it was: articles added to the newer one since are not carried over.
    """
    try:
        live, previous = store.rollback(index_root)
    except NewsdexError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"rolled back: {index_root} now serves {live.name} ({_count(live)} articles); {previous.name} "
               f"({_count(previous)} articles) is kept: `newsdex rollback` again swaps back")


def _count(gen: Path) -> str:
    count = store.article_count(gen)
    return "?" if count is None else f"{count:,}"


@main.command()
@build_options
def add(paths, index_root, workers, aliases_path, quiet):
    """Add new articles from PATHS and replace changed ones; unchanged files are skipped by checksum."""
    _run_build(paths, index_root, "add", workers, aliases_path, quiet)


@main.command()
@click.argument("ids", nargs=-1, required=True)
@index_option
def delete(ids, index_root):
    """Delete articles by id."""
    try:
        deleted, missing = delete_articles(index_root, ids)
    except NewsdexError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"deleted {len(deleted)} articles")
    for article_id in missing:
        click.echo(f"not in the index: {article_id}", err=True)
    if missing:
        sys.exit(1)


@main.command()
@index_option
def optimize(index_root):
    """Merge the index's segments into one (one per 500,000 articles), leaving out deleted articles; searches
    go on meanwhile.

    `add` keeps the number of segments down by itself, merging small ones; this merges everything (minutes
    for a million articles), so searches open few segments and scores no longer count deleted articles.
    """
    try:
        report = optimize_index(index_root)
    except NewsdexError as exc:
        raise click.ClickException(str(exc)) from None
    if not report.merges:
        click.echo(f"nothing to merge: {index_root} holds no segment to merge and no deleted article")
        return
    articles, segments = (sum(merged) for merged in zip(*report.merges))
    click.echo(f"merged {segments:,} segments ({articles:,} articles) into {report.segments} in "
               f"{report.seconds:.1f}s -> {index_root}")


@main.command()
@paths_argument
@click.option("--json", "as_json", is_flag=True, help="One JSON object per article per line.")
@aliases_option
@click.option("--index", "index_root", type=click.Path(file_okay=False, path_type=Path), envvar=store.ENV_VAR,
              default=store.DEFAULT_DIRNAME, hidden=True)
def inspect(paths, as_json, aliases_path, index_root):
    """Show each article in PATHS exactly as it would be indexed (nothing is written)."""
    extractor = make_extractor(_aliases_for(index_root, aliases_path))
    failed = False
    for path in paths:
        for item in read_path(path):
            if isinstance(item, Failure):
                failed = True
                if as_json:
                    click.echo(json.dumps({"path": item.path, "position": item.position, "error": item.reason},
                                          ensure_ascii=False))
                else:
                    click.echo(f"FAILED {item}", err=True)
                continue
            article = enrich(item, extractor)
            if as_json:
                click.echo(json.dumps(article.to_json(), ensure_ascii=False))
            else:
                _echo_article(article)
    if failed:
        sys.exit(1)


def _echo_article(article) -> None:
    data = article.to_json()
    click.secho(article.title + ("  (derived title)" if article.title_derived else ""), bold=True)
    for key in ("id", "path", "url", "published", "date_source", "source", "via", "language"):
        if data[key]:
            click.echo(f"  {key:12} {data[key]}")
    if article.people:
        click.echo("  people       " + "; ".join(f"{p.name} ({len(p.mentions)})" for p in article.people))
    if article.countries:
        click.echo("  countries    " + "; ".join(f"{c.code} {c.name}{'' if c.about else ' (mentioned)'}"
                                                 for c in article.countries))
    if article.keywords:
        click.echo("  keywords     " + "; ".join(article.keywords))
    body = article.body if len(article.body) < 600 else article.body[:600] + " …"
    click.echo("\n  " + body.replace("\n", "\n  ") + "\n")


@main.command()
@click.argument("source", type=click.File("r", encoding="utf-8"), default="-")
@aliases_option
@click.option("--index", "index_root", type=click.Path(file_okay=False, path_type=Path), envvar=store.ENV_VAR,
              default=store.DEFAULT_DIRNAME, hidden=True)
def entities(source, aliases_path, index_root):
    """People and countries for JSON Lines {"id", "text", "language"?} from SOURCE (a file, or - for stdin)."""
    from index.entities import entities_batch
    extractor = make_extractor(_aliases_for(index_root, aliases_path))
    errors = 0
    for out in entities_batch(source, extractor):
        errors += "error" in out
        click.echo(json.dumps(out, ensure_ascii=False))
    if errors:
        click.echo(f"{errors} input lines could not be read (see their \"error\")", err=True)
        sys.exit(1)


# --- searching -------------------------------------------------------------------------------------------------

def _searcher(index_root: Path):
    """A Searcher (it opens the index on first use: callers turn IndexMissing into a clear error)."""
    from search import Searcher
    return Searcher(index_root)


_MARK = re.compile(r"<mark>(.*?)</mark>", re.S)


def _terminal_snippet(snippet: str) -> str:
    """Snippet HTML to terminal text: <mark> as bold, entities unescaped."""
    parts = []
    last = 0
    for m in _MARK.finditer(snippet):
        parts.append(html.unescape(snippet[last:m.start()]))
        parts.append(click.style(html.unescape(m.group(1)), bold=True, fg="yellow"))
        last = m.end()
    parts.append(html.unescape(snippet[last:]))
    return "".join(parts)


def filter_options(command):
    """The query and filters `search` and `export` share: an option per declared facet (index/facets.py), each
    passed to the command as `facet_<name>` (read them with `_selected`)."""
    for option in reversed((
            click.argument("query", nargs=-1, type=click.UNPROCESSED),
            index_option,
            *(click.option(f"--{f.param}", f"facet_{f.name}", multiple=True, help=f.help)
              for f in facets.declared()),
            click.option("--from", "date_from", metavar="DATE", help="From this day, month or year (YYYY[-MM[-DD]])."),
            click.option("--to", "date_to", metavar="DATE", help="Up to this day, month or year, inclusive."))):
        command = option(command)
    return command


def _selected(options: dict) -> dict:
    """{facet name: values} of the facet options filter_options added (taken out of `options`)."""
    return {f.name: options.pop(f"facet_{f.name}", ()) for f in facets.declared()}


def _query_text(query) -> str:
    """The QUERY words as one query (`--word` is a mistyped option, `-word` excludes a word)."""
    typo = next((word for word in query if word.startswith("--")), None)
    if typo:
        raise click.UsageError(f"no such option: {typo}")
    return " ".join(query)


@main.command(context_settings={"ignore_unknown_options": True})
@filter_options
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default=None,
              help="Order [default: relevance; newest when there is no query].")
@click.option("--recency", is_flag=True, help="Favour recent articles when ranking by relevance.")
@click.option("--page", type=click.IntRange(1), default=1, show_default=True)
@click.option("--per-page", "--limit", "per_page", type=click.IntRange(1, 100), default=10, show_default=True,
              help="Results per page (at most 100).")
@click.option("--all-articles", is_flag=True,
              help="List every article (copies of a story are grouped by default); counts then count articles.")
@click.option("--count", "count_mode", type=click.Choice(["stories", "articles"]), default="stories",
              show_default=True, help="What facet counts and the date histogram count when copies are grouped.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.option("--explain", is_flag=True, help="Print the parsed query and what each word contributed to each hit's score.")
def search(query, index_root, date_from, date_to, sort, recency, page, per_page, all_articles, count_mode, as_json,
           explain, **options):
    """Search the index. QUERY uses words (all must match), "phrases", OR, NOT/-word, (groups),
    field:value (title, person, country, lang, source, date), word*, word~ and date:2025-01..2025-06."""
    from search import QueryError, SearchRequest
    q = _query_text(query)
    try:
        request = SearchRequest(q=q, filters=_selected(options), date_from=date_from, date_to=date_to,
                                sort=sort or ("relevance" if q.strip() else "newest"), recency=recency,
                                page=page, per_page=per_page, all_articles=all_articles, count=count_mode)
        searcher = _searcher(index_root)
        try:
            result = searcher.search(request)
            explained = searcher.explain(q) if explain and q.strip() else ""
            scores = searcher.explain_hits(request) if explain and q.strip() else None
        finally:
            searcher.close()
    except QueryError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(2)
    except (IndexMissing, IndexDamaged) as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        data = result.to_json()
        if explain:
            data["explain"] = result.query_explain
            data["scores"] = scores["hits"] if scores else []
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    if explain:
        click.echo((explained or "query: (everything)") + "\n")
    _echo_result(result, {h["id"]: h for h in scores["hits"]} if scores else {})


def _echo_result(result, scores: dict) -> None:
    if result.did_you_mean:
        click.echo(f"Did you mean: {result.did_you_mean}")
    if result.relaxed and result.hits:
        click.echo("Not every word was required: too few articles hold all of them; those with every word come "
                   "first. Join the words with AND to require them all.")
    if result.matching is not None and result.matching.dropped:
        click.echo("Not searched: " + ", ".join(result.matching.dropped))
    first = (result.page - 1) * result.per_page + 1
    if not result.hits:
        click.echo(f"{result.total:,} results" + (" (past the last page)" if result.total else ""))
        return
    click.echo(f"{first}-{first + len(result.hits) - 1} of {result.total:,} results ({result.took_ms:.0f} ms)\n")
    for hit in result.hits:
        meta = " · ".join(x for x in (hit.source, (hit.published or "")[:10], hit.language) if x)
        click.secho(f"{hit.rank}. {hit.title}", bold=True)
        click.echo(f"   {meta}   [{hit.id}]")
        if hit.snippet:
            click.echo("   " + _terminal_snippet(hit.snippet).replace("\n", " "))
        if hit.missing:
            click.echo("   Missing: " + " ".join(hit.missing))
        if hit.id in scores:
            _echo_score(scores[hit.id])
        if hit.also:
            others = ", ".join(o["source"] or o["id"] for o in hit.also)
            more = hit.story_size - 1 - len(hit.also)
            click.echo(f"   also in: {others}" + (f" and {more} more" if more > 0 else ""))
        click.echo()
    for name, buckets in result.facets.items():
        if buckets and name != "date":
            top = ", ".join(f"{b.label} ({b.count})" for b in list(buckets)[:8])
            click.echo(f"{name}: {top}")
    if result.failed_facets:
        click.echo(f"not counted (failed): {', '.join(result.failed_facets)}")


def _echo_score(explained: dict) -> None:
    """One hit's score, word by word: idf, and per field term frequency x weight / length norm."""
    click.echo(f"   score {explained['score']:.4f}:")
    for w in explained["words"]:
        fields = ", ".join(f"{f['field']} tf {f['tf']:g} x{f['weight']:g} /{f['norm']:g}" for f in w["fields"])
        extra = f" x qtf {w['qtf']}" if w.get("qtf", 1) > 1 else ""
        extra += f", feedback weight {w['feedback_weight']:g}" if "feedback_weight" in w else ""
        idf = f" idf {w['idf']:g}" if "idf" in w else ""
        click.echo(f"     {w['word']}: {w['score']:.4f}{idf}{extra}" + (f" ({fields})" if fields else ""))
    for e in explained.get("expansion", ()):
        click.echo(f"     +{e['term']} (feedback): {e['score']:.4f} x {e['feedback_weight']:g}")


@main.command(context_settings={"ignore_unknown_options": True})
@filter_options
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True,
              help="CSV (RFC 4180, UTF-8 with a BOM, for spreadsheets) or JSON Lines.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file [default: standard output].")
@click.option("--oldest", is_flag=True, help="Oldest first [default: newest first].")
@click.option("--limit", type=click.IntRange(1, 100_000), default=100_000, show_default=True,
              help="At most this many articles.")
def export(query, index_root, date_from, date_to, fmt, output, oldest, limit, **options):
    """Every article matching QUERY and the filters, one row per article (copies of a story too), newest first:
    id, title, published, source, language, people, countries, url, story_id. Messages go to standard error."""
    from search import QueryError, SearchRequest
    from web.export import CHUNKS
    q = _query_text(query)
    searcher = _searcher(index_root)
    try:
        request = SearchRequest(q=q, filters=_selected(options), date_from=date_from, date_to=date_to,
                                sort="oldest" if oldest else "newest",
                                facets=False, snippets=False)
        with searcher.export(request, limit) as rows:
            _write_export(CHUNKS[fmt](rows), output)
    except QueryError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(2)
    except IndexMissing as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        searcher.close()
    where = f" to {output}" if output else ""
    click.echo(f"exported {rows.rows:,} article{'' if rows.rows == 1 else 's'}{where}", err=True)
    if rows.cut:
        click.echo(f"cut at {rows.rows:,} of the {rows.total:,} matching articles (--limit; at most 100,000): "
                   f"narrow the query or the dates to export the rest", err=True)


def _write_export(chunks, output: Path | None) -> None:
    """The chunks to the file (replaced only when complete) or to standard output."""
    if output is None:
        sys.stdout.flush()
        out = sys.stdout.buffer
        try:
            for chunk in chunks:
                out.write(chunk)
            out.flush()
        except BrokenPipeError:   # `newsdex export | head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
            sys.exit(0)
        return
    def write(fh) -> None:
        for chunk in chunks:
            fh.write(chunk)

    try:   # the one atomic write (index/durable.py): a `.partial` file, renamed when complete
        durable.write_atomically(output, write, tmp=output.with_name(output.name + ".partial"))
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None


@main.command()
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def stats(index_root, as_json):
    """Article count, languages, sources, date span and size of the index."""
    searcher = _searcher(index_root)
    try:
        data = searcher.stats()
    except (IndexMissing, IndexDamaged) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        searcher.close()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, default=str))
        return
    for key, value in data.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in list(value.items())[:12])
        elif isinstance(value, (list, tuple)):
            value = ", ".join(map(str, value[:12]))
        click.echo(f"{key:>16}: {value}")


@main.command()
@index_option
def check(index_root):
    """Verify every file of the live index: sizes, full checksums, and every segment its TOC names.

    Names each damaged file and exits with status 1; prints one line and exits 0 when all is well. Runs while
    no indexing run writes (it waits up to a minute for one to finish).
    """
    from index import integrity
    gen = store.current_generation(index_root)
    if gen is None:
        raise click.ClickException(str(IndexMissing(index_root)))
    try:
        with ExitStack() as stack:
            try:
                stack.enter_context(store.writer_lock(index_root, timeout=CHECK_LOCK_WAIT))
            except PermissionError:
                pass   # a read-only index folder: no run can change it while it is checked either
            report = integrity.verify(gen)
    except NewsdexError as exc:
        raise click.ClickException(str(exc)) from None
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    for path, problem in report.damaged:
        click.echo(f"damaged: {path} {problem}")
    if report.damaged:
        click.echo(f"{len(report.damaged)} damaged file{'s' if len(report.damaged) > 1 else ''} in {gen}; "
                   f"{IndexDamaged.ADVICE}")
        sys.exit(1)
    size = f"{report.files:,} file{'s' if report.files != 1 else ''}, {report.bytes / 2**20:,.1f} MB"
    if report.checksummed:
        click.echo(f"ok: {gen}: every file matches its size and checksum ({size})")
    else:
        click.echo(f"ok: {gen}: every segment opens ({size}), but the index has no checksums (it was built before "
                   f"newsdex wrote them): `newsdex reindex` adds them")


# --- serving ---------------------------------------------------------------------------------------------------

def _serve(index_root: Path, host: str, port: int, threads: int) -> None:
    import waitress

    from web.app import create_app
    app = create_app({"INDEX_ROOT": str(index_root), "REFRESH_IN_BACKGROUND": True, "PRELOAD_POSTINGS": True})
    click.echo(f"Serving {index_root} at http://{host}:{port}/  (Ctrl-C to stop)", err=True)
    waitress.serve(app, host=host, port=port, threads=threads, ident="newsdex", _quiet=True)


@main.command()
@index_option
@host_option
@port_option
@click.option("--threads", type=click.IntRange(1, 64), default=8, show_default=True, help="Worker threads.")
def serve(index_root, host, port, threads):
    """Serve the search site and JSON API with a production WSGI server (waitress)."""
    if store.current_generation(index_root) is None:
        click.echo(f"warning: no index at {index_root} yet; the site will say how to build one", err=True)
    _serve(index_root, host, port, threads)


@main.command()
@click.option("--index", "index_root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to build the demo index [default: a folder in the system's temp dir].")
@host_option
@port_option
@click.option("--no-serve", is_flag=True, help="Only build the demo index.")
def demo(index_root, host, port, no_serve):
    """Index the bundled sample articles and serve them."""
    index_root = index_root or Path(tempfile.gettempdir()) / "newsdex-demo"
    click.echo(f"Indexing the bundled sample articles ({DEMO_ARTICLES}) into {index_root}", err=True)
    try:
        report = build_index([DEMO_ARTICLES], index_root, workers=min(2, default_workers()))
    except NewsdexError as exc:
        raise click.ClickException(str(exc)) from None
    _print_report(report, "indexed")
    if no_serve:
        return
    _serve(index_root, host, port, threads=8)


if __name__ == "__main__":  # python -m web.cli
    main()
