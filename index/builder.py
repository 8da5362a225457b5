"""Building an index: units of input stream through worker processes (read, clean, language, entities) into
one Whoosh writer. `build_index` is the one public entry; it returns an IndexReport.

A full rebuild writes a new generation and publishes it atomically (index.store); `add`/`delete` change the live
generation with one Whoosh commit, which is itself atomic (the TOC is written last).
"""
from __future__ import annotations

import os
import signal
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional

from whoosh import index as whoosh_index

from index import store
from index.entities import make_extractor
from index.language import detect_language
from index.model import Article, Failure, IndexReport, RawArticle, article_id
from index.readers import Unit, iter_units, note_of, read_unit
from index.schema import CHECKSUM, ID, document_for

WRITER_LIMIT_MB = 256
UNITS_PER_TASK = 48

Progress = Callable[[int, int, int], None]   # (bytes done, bytes total or 0, articles done)


@dataclass
class Outcome:
    """What a worker made of one unit: articles to write, failures, and notes (read, but with a problem)."""

    articles: list[Article] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    notes: list[Failure] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)   # ids whose checksum matched the index (add only)
    size: int = 0
    stage_seconds: dict = field(default_factory=dict)


# --- enrichment (runs in workers) ----------------------------------------------------------------------------------

_extractor = None
_known: dict[str, str] = {}


def _init_worker(aliases_path: Optional[str], known: dict[str, str], die_with_parent: bool) -> None:
    """Per-process set-up: the entity extractor's tables, the checksums already indexed, and parent-death signal."""
    global _extractor, _known
    if die_with_parent:
        _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the parent's to handle
    _extractor = make_extractor(aliases_path)
    _known = known


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this worker when its parent dies, so no orphan outlives a killed run."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
        if os.getppid() == 1:
            os._exit(1)
    except (OSError, AttributeError):
        pass


def enrich(raw: RawArticle, extractor=None) -> Article:
    """Language and entities for a read article."""
    extractor = extractor or _extractor or make_extractor(None)
    language = detect_language(f"{raw.title}\n{raw.body}" if not raw.title_derived else raw.body, hint=raw.language)
    people, countries = extractor.extract(raw.body, language=language, title=raw.title)
    return Article(id=article_id(raw), path=raw.path, body=raw.body, title=raw.title,
                   title_derived=raw.title_derived, url=raw.url, published=raw.published,
                   date_source=raw.date_source, source=raw.source, via=raw.via, language=language,
                   people=people, countries=countries, keywords=raw.keywords, checksum=raw.checksum)


def process_units(units: list[Unit]) -> Outcome:
    """Read and enrich a batch of units (the worker's task)."""
    out = Outcome()
    timing = {"read": 0.0, "enrich": 0.0}
    for unit in units:
        out.size += unit.size
        t0 = time.perf_counter()
        items = read_unit(unit)
        t1 = time.perf_counter()
        timing["read"] += t1 - t0
        for item in items:
            if isinstance(item, Failure):
                out.failures.append(item)
                continue
            note = note_of(item)
            if note:
                out.notes.append(Failure(item.path, note, item.position))
            if _known and _known.get(article_id(item)) == item.checksum:
                out.unchanged.append(article_id(item))
                continue
            out.articles.append(enrich(item))
        timing["enrich"] += time.perf_counter() - t1
    out.stage_seconds = timing
    return out


# --- the run -------------------------------------------------------------------------------------------------------

def _batches(units: Iterable, report: IndexReport) -> Iterator[list[Unit]]:
    batch: list[Unit] = []
    for unit in units:
        if isinstance(unit, Failure):
            report.failed.append(unit)
            continue
        batch.append(unit)
        if len(batch) >= UNITS_PER_TASK:
            yield batch
            batch = []
    if batch:
        yield batch


def _outcomes(batches: Iterator[list[Unit]], workers: int, aliases_path, known) -> Iterator[Outcome]:
    """Outcomes in input order, computed by `workers` processes with a bounded number of tasks in flight."""
    if workers <= 1:
        _init_worker(aliases_path, known, die_with_parent=False)
        try:
            for batch in batches:
                yield process_units(batch)
        finally:
            globals()["_known"] = {}
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                             initargs=(aliases_path, known, True)) as pool:
        pending: deque = deque()
        try:
            for batch in batches:
                pending.append(pool.submit(process_units, batch))
                while len(pending) >= workers * 3:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for fut in pending:
                fut.cancel()


def default_workers() -> int:
    """One worker per core (at least 1)."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def _total_bytes(paths: Iterable[str]) -> int:
    total = 0
    for path in paths:
        path = os.fspath(path)
        if os.path.isdir(path):
            for dirpath, _, files in os.walk(path):
                for name in files:
                    try:
                        total += os.stat(os.path.join(dirpath, name)).st_size
                    except OSError:
                        pass
        else:
            try:
                total += os.stat(path).st_size
            except OSError:
                pass
    return total


def build_index(paths: Iterable[str | os.PathLike], root: str | os.PathLike, *, mode: str = "rebuild",
                workers: int | None = None, aliases_path: str | None = None, progress: Progress | None = None,
                lock_timeout: float = 0.0, limitmb: int = WRITER_LIMIT_MB) -> IndexReport:
    """Index the files under `paths` into the index at `root`.

    mode "rebuild": a new generation from scratch, published atomically when complete.
    mode "add": new articles added and changed ones replaced in the live generation; unchanged ones skipped.
    """
    if mode not in ("rebuild", "add"):
        raise ValueError(f"mode must be 'rebuild' or 'add', not {mode!r}")
    paths = [os.fspath(p) for p in paths]
    root = Path(root)
    report = IndexReport(index_dir=str(root))
    started = time.perf_counter()
    workers = default_workers() if workers is None else max(1, workers)
    with store.writer_lock(root, timeout=lock_timeout):
        report.recovered = store.prune(root) if mode == "rebuild" else []
        if mode == "add" and store.current_generation(root) is None:
            mode = "rebuild"   # nothing to add to: the first add builds the index
        if mode == "rebuild":
            gen = store.new_generation(root)
            ix = whoosh_index.open_dir(str(gen), indexname=store.INDEX_NAME)
            known: dict[str, str] = {}
        else:
            ix = store.open_index(root)
            known = _known_checksums(ix)
        writer = ix.writer(limitmb=limitmb)
        try:
            _write_all(paths, writer, report, mode, workers, aliases_path, known, progress)
        except BaseException:
            writer.cancel()
            raise
        t0 = time.perf_counter()
        writer.commit()
        report.stage_seconds["commit"] = time.perf_counter() - t0
        if mode == "rebuild":
            store.publish(root, gen)
    report.seconds = time.perf_counter() - started
    return report


def _known_checksums(ix) -> dict[str, str]:
    """{article id: checksum} of everything in the index (for skipping unchanged input in `add`)."""
    with ix.searcher() as searcher:
        return {f[ID]: f.get(CHECKSUM, "") for f in searcher.all_stored_fields()}


def _write_all(paths, writer, report: IndexReport, mode: str, workers: int, aliases_path, known, progress) -> None:
    ignored: list[Failure] = []
    total = _total_bytes(paths) if progress else 0
    done_bytes = 0
    seen: dict[str, str] = {}
    write_seconds = 0.0
    stages = report.stage_seconds
    batches = _batches(iter_units(paths, ignored), report)
    for outcome in _outcomes(batches, workers, aliases_path, known):
        for name, secs in outcome.stage_seconds.items():
            stages[name] = stages.get(name, 0.0) + secs
        report.failed.extend(outcome.failures)
        report.notes.extend(outcome.notes)
        report.unchanged += len(outcome.unchanged)
        for uid in outcome.unchanged:
            seen.setdefault(uid, "(unchanged)")
        t0 = time.perf_counter()
        for article in outcome.articles:
            first = seen.get(article.id)
            if first is not None:
                report.failed.append(Failure(article.path, f"duplicate id {article.id!r} (first seen in {first}); "
                                                           f"this one was not indexed"))
                continue
            seen[article.id] = article.path
            doc = document_for(article)
            if mode == "add" and article.id in known:
                writer.update_document(**doc)
                report.replaced += 1
            else:
                writer.add_document(**doc)
                report.added += 1
            report.indexed += 1
        write_seconds += time.perf_counter() - t0
        done_bytes += outcome.size
        if progress:
            progress(done_bytes, total, report.indexed)
    stages["write"] = write_seconds
    report.ignored.extend(ignored)


def delete_articles(root: str | os.PathLike, ids: Iterable[str], lock_timeout: float = 0.0) -> tuple[list[str], list[str]]:
    """Delete articles by id from the live index: (deleted ids, ids not found)."""
    deleted, missing = [], []
    with store.writer_lock(root, timeout=lock_timeout):
        ix = store.open_index(root)
        writer = ix.writer()
        try:
            for article_id_ in ids:
                if writer.delete_by_term(ID, article_id_):
                    deleted.append(article_id_)
                else:
                    missing.append(article_id_)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
    return deleted, missing
