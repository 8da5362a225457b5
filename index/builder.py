"""Building an index: units of input stream through worker processes that read, clean, detect the language, find
entities AND write their own Whoosh segment; the parent only hands out work, keeps the tally and commits.
`build_index` is the one public entry; it returns an IndexReport.

Why workers write: on 2 cores a single writer in the parent is the bottleneck (Whoosh's analysis, posting and
segment flush cost more per article than all the enrichment), so each worker keeps a `SegmentWriter` on the target
generation (as Whoosh's own `MpWriter(multisegment=True)` does) and the parent commits a TOC listing the finished
segments. A full rebuild writes a new generation and publishes it atomically (index.store); `add` writes new
segments into the live generation, invisible to readers until the parent's commit writes the TOC (one atomic
rename), and long adds commit every `commit_every` articles so a kill loses at most the current chunk.

Workers write with index.segment's FastSegmentWriter (the same segments Whoosh writes, several times faster).

Memory: the input is streamed as small units with at most `INFLIGHT_PER_WORKER` tasks per worker in flight; a
worker whose segment holds more than `limitmb` of postings finishes it and starts another, handing the finished
one to the parent with the task's outcome (the next commit lists it). What grows with the archive is per-article
bookkeeping only (id -> checksum for `add`, the ids seen in this run): ~100-200 bytes per article, no text.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import queue as queue_mod
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Optional

from index.segment import FastSegmentWriter

from index import integrity, store, whoosh_wall
from index.stories import STORIES_FILE, Signature, StoriesFileError, StoryIndex, signatures
from index.entities import make_extractor
from index.errors import IndexMissing, IndexOutdated, NewsdexError, RebuildRefused
from index.known import Known, KnownSpec, short_checksum
from index.language import detect_language
from index.locations import Keys, read_archives, write_archives
from index.merge import MergeReport, apply_policy, merge_all, seal
from index.model import Article, Failure, IndexReport, RawArticle, article_id
from index.readers import Unit, iter_units, read_unit, walk
from index.schema import ID, SCHEMA_VERSION, article_from_stored, document_for

WRITER_LIMIT_MB = 128          # per worker: postings held before a segment is finished (peak RSS ~3x this)
ANALYSIS_WORDS = 1_000_000     # per worker: distinct words whose analysis is kept from one segment to the next
UNITS_PER_TASK = 128          # units (files or records) per task handed to a worker (its stages run task-wide)
TASK_BYTES = 512 * 1024       # ... or fewer, when they hold this many bytes (HTML pages: ~30 ms each to clean)
INFLIGHT_PER_WORKER = 2        # tasks queued per worker: enough to keep it busy, small enough to bound memory
COMMIT_EVERY = 50_000          # `add` commits after this many written articles (a kill keeps the last commit)
GC_THRESHOLDS = (50_000, 20, 10)   # a worker's garbage collector thresholds (Python's default: 700, 10, 10)
POLL_SECONDS = 0.5             # how often the parent checks that its workers are alive while it waits

Progress = Callable[[int, int, int], None]   # (bytes done, bytes total or 0, articles done)

# Stage costs are CPU seconds of the thread doing the work: on a shared machine wall time measures the neighbours.
_clock = time.thread_time

_LANG_WARMUP = "The quick brown fox jumps over the lazy dog near the river bank."


class Written(NamedTuple):
    """An article a worker wrote: where it came from, its number in the worker's segment, and what the parent
    clusters stories by."""

    id: str
    path: str
    position: Any             # the record inside a multi-article file (None for a file of its own)
    docnum: int               # in the segment of the task (Outcome.segment_id)
    signature: Signature      # near-duplicate signature (index.stories)
    published: Any            # the article's date (datetime or None)
    known: bool               # an article of that id was in the index already (add only)


@dataclass
class Outcome:
    """What a worker made of one task: the articles it wrote, failures, notes."""

    written: list[Written] = field(default_factory=list)
    segment_id: str = ""                                  # the segment the task's articles went to
    segments: list = field(default_factory=list)          # segments finished while doing the task
    failures: list[Failure] = field(default_factory=list)
    notes: list[Failure] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)   # ids whose checksum matched the index (add only)
    size: int = 0
    stage_seconds: dict = field(default_factory=dict)


# --- enrichment (runs in workers) ----------------------------------------------------------------------------------

_extractor = None


def enrich(raw: RawArticle, extractor=None, timing: dict | None = None) -> Article:
    """Language and entities for a read article (`timing`, when given, accumulates seconds per stage)."""
    got = enrich_many([raw], extractor, timing)[0]
    if isinstance(got, Exception):
        raise got
    return got


def enrich_many(raws: list[RawArticle], extractor=None, timing: dict | None = None) -> list:
    """`enrich` for a batch, stage by stage (every language, then every article's entities: each stage's tables
    stay in the processor's caches); an article whose enrichment raised gets the exception in its place."""
    extractor = extractor or _extractor or make_extractor(None)
    t0 = _clock()
    languages: list = []
    for raw in raws:
        try:
            languages.append(detect_language(f"{raw.title}\n{raw.body}" if not raw.title_derived else raw.body,
                                             hint=raw.language))
        except Exception as exc:  # noqa: BLE001 - the caller reports it for this article
            languages.append(exc)
    t1 = _clock()
    out: list = []
    for raw, language in zip(raws, languages):
        if isinstance(language, Exception):
            out.append(language)
            continue
        try:
            people, countries = extractor.extract(raw.body, language=language, title=raw.title)
            out.append(Article(id=article_id(raw), path=raw.path, body=raw.body, title=raw.title,
                               title_derived=raw.title_derived, url=raw.url, published=raw.published,
                               date_source=raw.date_source, source=raw.source, via=raw.via, language=language,
                               people=people, countries=countries, keywords=raw.keywords, checksum=raw.checksum))
        except Exception as exc:  # noqa: BLE001
            out.append(exc)
    if timing is not None:
        timing["language"] = timing.get("language", 0.0) + t1 - t0
        timing["entities"] = timing.get("entities", 0.0) + _clock() - t1
    return out


class _SegmentBuilder:
    """Reads, enriches and writes articles into one new Whoosh segment of the generation at `gen_dir`."""

    def __init__(self, gen_dir: str, extractor, known: Known | None, limitmb: int):
        self.gen_dir, self.extractor, self.known, self.limitmb = gen_dir, extractor, known, limitmb
        self.writer: FastSegmentWriter | None = None
        self.analysis = None

    def _writer(self) -> FastSegmentWriter:
        if self.writer is None:
            ix = store.open_generation(Path(self.gen_dir))
            # _lk=False: the parent holds the index's locks; this writer only ever contributes a segment.
            if self.analysis is not None and len(self.analysis) > ANALYSIS_WORDS:
                self.analysis = None   # bound the memory of what is remembered about words
            self.writer = FastSegmentWriter(ix, analysis=self.analysis, _lk=False)
            self.analysis = self.writer.analysis   # the next segment's writer starts from what this one learnt
        return self.writer

    def process(self, units: list[Unit]) -> Outcome:
        """Read, enrich and write a batch of units (the worker's task)."""
        out = Outcome()
        out.stage_seconds = timing = {"read": 0.0, "clean": 0.0, "language": 0.0, "entities": 0.0,
                                      "signature": 0.0, "write": 0.0, "flush": 0.0}
        pending: list[RawArticle] = []
        for unit in units:
            out.size += unit.size
            t0 = _clock()
            items = read_unit(unit)
            # HTML pages cost their extraction ("clean"); the other formats are parsed in a few regexes ("read")
            timing["clean" if unit.kind == "html" else "read"] += _clock() - t0
            for item in items:
                if isinstance(item, Failure):
                    out.failures.append(item)
                    continue
                if item.note:
                    out.notes.append(Failure(item.path, item.note, item.position))
                if self.known is not None and self.known.get(article_id(item)) == short_checksum(item.checksum):
                    out.unchanged.append(article_id(item))
                    continue
                pending.append(item)
        # stage by stage over the task's articles: language, entities, then writing
        kept, docs = [], []
        enriched = enrich_many(pending, self.extractor, timing)
        t0 = _clock()
        for item, article in zip(pending, enriched):
            try:
                if isinstance(article, Exception):
                    raise article
                docs.append(document_for(article))
                kept.append((item, article))
            except Exception as exc:  # an enrichment bug costs one article, not the run
                out.failures.append(_internal_error(item, exc))
        if not docs:
            return out
        writer = self._writer()
        out.segment_id = writer.newsegment.segment_id()
        written = []
        for (item, article), got in zip(kept, writer.add_documents(docs)):
            if isinstance(got, Exception):
                out.failures.append(_internal_error(item, got))
            else:
                written.append((item, article, got))
        timing["write"] += _clock() - t0
        if writer.approx_bytes > self.limitmb * 2 ** 20:   # memory: finish this segment, start another
            t0 = _clock()
            out.segments.append(self.finish())
            timing["flush"] += _clock() - t0
        t0 = _clock()   # the near-duplicate signatures of the task's articles, in one batch
        sigs = signatures([article.body for _, article, _ in written])
        timing["signature"] += _clock() - t0
        known = self.known if self.known is not None else ()
        out.written = [Written(article.id, item.path, item.position, docnum, sig, article.published,
                               article.id in known)
                       for (item, article, docnum), sig in zip(written, sigs)]
        return out

    def finish(self):
        """Flush and close the segment; returns it (None when nothing was written). A new one starts on demand."""
        writer, self.writer = self.writer, None
        if writer is None:
            return None
        if writer.docnum == 0:
            writer.close_segment()
            return None
        segment = writer.finish_segment()
        store.fsync_segment(Path(self.gen_dir), segment)
        return segment

    def abandon(self) -> None:
        writer, self.writer = self.writer, None
        if writer is not None:
            writer.close_segment()


def _internal_error(item: RawArticle, exc: Exception) -> Failure:
    return Failure(item.path, f"internal error while indexing: {type(exc).__name__}: {exc}", item.position)


# --- worker processes ----------------------------------------------------------------------------------------------

# What the parent sends a worker (through its inbox), and what a worker answers (through the shared outbox).

class Task(NamedTuple):
    """Read, enrich and write these units (answered by Done)."""
    seq: int                  # the task's place in the input order
    units: list


class Flush(NamedTuple):
    """Finish the current segment once the queued tasks are done (answered by Flushed)."""


STOP = None                   # no more work: the worker abandons what it has not finished and ends


class Done(NamedTuple):
    """A task's outcome."""
    worker: int
    seq: int
    outcome: Outcome


class Flushed(NamedTuple):
    """The worker's finished segment (None when it held nothing) and the CPU seconds the flush took."""
    worker: int
    segment: Optional[Any]
    seconds: float


class WorkerOSError(NamedTuple):
    """The disk refused something (full, read-only...): the parent raises it as an OSError."""
    worker: int
    errno: Optional[int]
    strerror: Optional[str]
    filename: Optional[str]


class WorkerFailed(NamedTuple):
    """Anything else that stopped a worker, with its traceback."""
    worker: int
    traceback: str


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL this worker when its parent dies, so no orphan outlives a killed run."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:   # the parent died before the request took effect
        os._exit(1)


def _worker_main(idx: int, inbox, outbox, parent_pid: int, close_fds: tuple, gen_dir: str, limitmb: int,
                 extractor, aliases_path, known) -> None:
    """A worker's life: Tasks in, Done out; a Flush answered by Flushed with the finished segment; STOP ends it."""
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for fd in close_fds:   # the parent's lock: held by the parent alone, so it goes when the parent goes
        try:
            os.close(fd)
        except OSError:
            pass
    global _extractor
    _extractor = extractor = extractor or make_extractor(aliases_path)
    # The collector: what the worker inherited or built (tables, profiles) lives as long as it does, so it is
    # never scanned again; and young objects are collected every 50,000 allocations instead of every 700 (a task
    # allocates millions, nearly all freed by reference counting: 3-4% of a worker's CPU went to the collector).
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    builder = _SegmentBuilder(gen_dir, extractor, known.open() if known is not None else None, limitmb)
    try:
        while True:
            msg = inbox.get()
            if msg is STOP:
                builder.abandon()
                return
            if isinstance(msg, Task):
                outbox.put(Done(idx, msg.seq, builder.process(msg.units)))
            elif isinstance(msg, Flush):
                t0 = _clock()
                segment = builder.finish()
                outbox.put(Flushed(idx, segment, _clock() - t0))
    except OSError as exc:   # disk full, read-only...: the parent says so in one line, no traceback here
        outbox.put(WorkerOSError(idx, exc.errno, exc.strerror, exc.filename))
    except BaseException:
        outbox.put(WorkerFailed(idx, traceback.format_exc()))
        raise


class _Pool:
    """`workers` processes, each with its own inbox (so a flush reaches every one of them) and one shared outbox."""

    def __init__(self, workers: int, gen_dir: str, limitmb: int, extractor, aliases_path, known, close_fds: tuple):
        linux = sys.platform.startswith("linux")
        # fork shares the extractor's tables and the language profiles copy-on-write; each worker opens its own
        # look-up of the index's checksums (`known`: a KnownSpec, or None for a rebuild).
        ctx = multiprocessing.get_context("fork" if linux else "spawn")
        self.outbox = ctx.Queue()
        self.inboxes = [ctx.Queue() for _ in range(workers)]
        self.inflight = [0] * workers
        self.procs = []
        for idx in range(workers):
            proc = ctx.Process(target=_worker_main, name=f"newsdex-worker-{idx}", daemon=True,
                               args=(idx, self.inboxes[idx], self.outbox, os.getpid(), close_fds, gen_dir, limitmb,
                                     extractor if linux else None, aliases_path, known))
            proc.start()
            self.procs.append(proc)

    def has_room(self) -> bool:
        return min(self.inflight) < INFLIGHT_PER_WORKER

    def submit(self, seq: int, units: list[Unit]) -> None:
        idx = self.inflight.index(min(self.inflight))
        self.inflight[idx] += 1
        self.inboxes[idx].put(Task(seq, units))

    def busy(self) -> bool:
        return any(self.inflight)

    def receive(self):
        """The next message from a worker; raises if a worker died or failed."""
        while True:
            try:
                msg = self.outbox.get(timeout=POLL_SECONDS)
            except queue_mod.Empty:
                for idx, proc in enumerate(self.procs):
                    if not proc.is_alive():
                        raise NewsdexError(f"indexing worker {idx} (pid {proc.pid}) died unexpectedly "
                                           f"(exit code {proc.exitcode}); what it had not committed is discarded")
                continue
            if isinstance(msg, WorkerOSError):
                raise OSError(msg.errno, msg.strerror, msg.filename)
            if isinstance(msg, WorkerFailed):
                raise NewsdexError(f"indexing worker {msg.worker} failed:\n{msg.traceback}")
            if isinstance(msg, Done):
                self.inflight[msg.worker] -= 1
            return msg

    def request_flush(self) -> int:
        """Ask every worker to finish its segment once its queued tasks are done (each then answers Flushed and
        starts a new one on demand); returns how many answers to expect."""
        for inbox in self.inboxes:
            inbox.put(Flush())
        return len(self.inboxes)

    def close(self, graceful: bool) -> None:
        if graceful:
            for inbox in self.inboxes:
                inbox.put(STOP)
            for proc in self.procs:
                proc.join(timeout=10)
        for proc in self.procs:
            if proc.is_alive():
                proc.kill()
        for proc in self.procs:
            proc.join(timeout=5)
        for q in [self.outbox, *self.inboxes]:
            q.close()
            q.cancel_join_thread()


class _InProcess:
    """The same protocol without processes (workers=1): simpler to debug, nothing to start for a small add."""

    def __init__(self, gen_dir: str, limitmb: int, extractor, known):
        global _extractor
        _extractor = extractor
        self.builder = _SegmentBuilder(gen_dir, extractor, known.open() if known is not None else None, limitmb)
        self.results: list = []

    def has_room(self) -> bool:
        return not self.results

    def submit(self, seq: int, units: list[Unit]) -> None:
        self.results.append(Done(0, seq, self.builder.process(units)))

    def busy(self) -> bool:
        return bool(self.results)

    def receive(self):
        return self.results.pop(0)

    def request_flush(self) -> int:
        t0 = _clock()
        segment = self.builder.finish()
        self.results.append(Flushed(0, segment, _clock() - t0))
        return 1

    def close(self, graceful: bool) -> None:
        self.builder.abandon()


# --- the run -------------------------------------------------------------------------------------------------------

def _batches(units: Iterable, report: IndexReport) -> Iterator[list[Unit]]:
    batch: list[Unit] = []
    size = 0
    for unit in units:
        if isinstance(unit, Failure):
            report.failed.append(unit)
            continue
        batch.append(unit)
        size += unit.size
        if len(batch) >= UNITS_PER_TASK or size >= TASK_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def default_workers() -> int:
    """One worker per core (at least 1)."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def _total_bytes(paths: Iterable[str]) -> int:
    """The bytes the units of `paths` will account for (progress): file sizes, and for gzipped multi-record files
    the uncompressed size (their records count uncompressed bytes)."""
    total = 0
    for path, kind, _ in walk(paths):
        if kind is None:
            continue
        try:
            size = os.stat(path).st_size
            if kind in ("jsonl", "sgml") and size >= 18:
                with open(path, "rb") as fh:
                    if fh.read(2) == b"\x1f\x8b":
                        fh.seek(-4, os.SEEK_END)   # gzip's ISIZE: the uncompressed size modulo 2**32
                        isize = int.from_bytes(fh.read(4), "little")
                        size = isize if isize >= size else size * 4
            total += size
        except OSError:
            pass
    return total


class _Run:
    """The parent's side of one run: hands out tasks, tallies outcomes in input order, commits."""

    def __init__(self, root: Path, gen: Path, mode: str, report: IndexReport, progress,
                 stories: StoryIndex | None = None):
        self.root, self.gen, self.mode, self.report = root, gen, mode, report
        self.stories = stories if stories is not None else StoryIndex()
        self.progress = progress
        self.seen: dict[str, int] = {}          # id -> index into self.paths (the file it was first seen in)
        self.paths: list[str] = []
        self.path_index: dict[str, int] = {}
        self.waiting: dict[int, Outcome] = {}   # outcomes that arrived before an earlier task's
        self.next_seq = 0
        self.deleted: dict[str, list[int]] = {}  # segment id -> docnums to drop (duplicates within the run)
        self.segments: list = []                 # finished by workers mid-run, for the next commit
        self.replaced_ids: list[str] = []        # ids to delete from the segments that were there before
        self.done_bytes = 0
        self.total = 0
        self.since_commit = 0
        self.keys = Keys()                       # the run's archive folders, saved with every commit

    def _where(self, path: str) -> int:
        idx = self.path_index.get(path)
        if idx is None:
            idx = self.path_index[path] = len(self.paths)
            self.paths.append(path)
        return idx

    def receive(self, pool) -> None:
        """Wait for one outcome (see `outcome`)."""
        msg = pool.receive()
        assert isinstance(msg, Done), msg
        self.outcome(msg)

    def outcome(self, msg: Done) -> None:
        """Tally every outcome that is next in input order (so the first of two articles with one id wins, whichever
        worker finished first)."""
        self.waiting[msg.seq] = msg.outcome
        while self.next_seq in self.waiting:
            self.tally(self.waiting.pop(self.next_seq))
            self.next_seq += 1

    def finish(self, pool) -> tuple[list, float]:
        """Tally everything handed out so far and finish every worker's segment; returns the segments and the CPU
        seconds of their flushes. Each worker flushes as soon as its own tasks are done, while the others may
        still be working."""
        expected = pool.request_flush()
        segments, seconds = [], 0.0
        while expected or pool.busy():
            msg = pool.receive()
            if isinstance(msg, Flushed):
                expected -= 1
                seconds += msg.seconds
                if msg.segment is not None:
                    segments.append(msg.segment)
            else:
                self.outcome(msg)
        return segments, seconds

    def tally(self, outcome: Outcome) -> None:
        report, stages = self.report, self.report.stage_seconds
        for name, secs in outcome.stage_seconds.items():
            stages[name] = stages.get(name, 0.0) + secs
        report.failed.extend(outcome.failures)
        report.notes.extend(outcome.notes)
        report.unchanged += len(outcome.unchanged)
        for uid in outcome.unchanged:
            self.seen.setdefault(uid, -1)
        t_stories = _clock()
        self.segments.extend(outcome.segments)
        for w in outcome.written:
            uid = w.id
            first = self.seen.get(uid)
            if first is not None:
                shown = "an unchanged article already indexed" if first < 0 else self.paths[first]
                report.failed.append(Failure(w.path, f"duplicate id {uid!r} (first seen in {shown}); "
                                                     f"this one was not indexed", w.position))
                self.deleted.setdefault(outcome.segment_id, []).append(w.docnum)
                continue
            self.seen[uid] = self._where(w.path)
            if self.mode == "add" and w.known:
                self.replaced_ids.append(uid)
                report.replaced += 1
            else:
                report.added += 1
            self.stories.assign(uid, w.signature, w.published)   # in input order: story ids do not depend on timing
            report.indexed += 1
            self.since_commit += 1
        stages["stories"] = stages.get("stories", 0.0) + _clock() - t_stories
        self.done_bytes += outcome.size
        if self.progress:
            self.progress(self.done_bytes, self.total, report.indexed)

    def _before_toc(self, toc: int) -> None:
        """What a commit writes before its TOC: the stories (readers of this commit see its stories; a frame of a
        commit that never happens is skipped by readers and cut off by the next writer) and the archives."""
        if self.mode == "rebuild" or self.stories.reconciled:
            self.stories.compact(self.gen, toc)
            self.stories.reconciled = False
        else:
            self.stories.log_changes(self.gen, toc)
        write_archives(self.gen, self.keys.archives)
        if self.mode == "add":   # segments, stories log and archives.json were fsynced as they were written
            store.fsync_names(self.gen)

    def commit(self, pool) -> None:
        """Tally what was handed out, finish the workers' segments and commit them (plus deletions of replaced and
        duplicate documents)."""
        segments, flush_secs = self.finish(pool)
        segments = self.segments + segments
        self.segments = []
        stages = self.report.stage_seconds
        stages["flush"] = stages.get("flush", 0.0) + flush_secs
        t0 = _clock()
        for segment in segments:
            for docnum in self.deleted.pop(segment.segment_id(), ()):
                segment.delete_document(docnum)
        ix = store.open_generation(self.gen)
        writer = ix.writer()
        try:
            if self.replaced_ids:
                with writer.searcher() as searcher:   # one reader of every segment for all the look-ups
                    for uid in self.replaced_ids:
                        writer.delete_by_term(ID, uid, searcher=searcher)
            # no document of its own: the TOC names the old segments, then the workers' new ones
            whoosh_wall.commit_with(writer, segments, before_toc=lambda: self._before_toc(writer.generation))
        except BaseException:
            if not writer.is_closed:
                writer.cancel()
            raise
        if self.mode == "add" and self.stories.needs_compaction():
            self.stories.compact(self.gen, writer.generation)   # after the commit it reflects (see storyfile)
        seal(self.gen)
        self.replaced_ids.clear()
        self.since_commit = 0
        stages["commit"] = stages.get("commit", 0.0) + _clock() - t0


def build_index(paths: Iterable[str | os.PathLike], root: str | os.PathLike, *, mode: str = "rebuild",
                workers: int | None = None, aliases_path: str | None = None, progress: Progress | None = None,
                lock_timeout: float = 0.0, limitmb: int = WRITER_LIMIT_MB,
                commit_every: int = COMMIT_EVERY, force: bool = False) -> IndexReport:
    """Index the files under `paths` into the index at `root`.

    mode "rebuild": a new generation from scratch, published atomically when complete (a kill or Ctrl-C leaves
    the previous index serving and the half-built one is removed, now or by the next run). RebuildRefused, and
    nothing published, when a path is missing, when no article was read, or (unless `force`) when the new index
    would hold fewer than half the live one's articles.
    mode "add": new articles added, changed ones (same id, other checksum) replaced, unchanged ones skipped
    without enrichment. Articles that disappeared from a re-added file are NOT deleted (use delete_articles or a
    rebuild). Commits every `commit_every` written articles, so a kill keeps what was committed.
    """
    if mode not in ("rebuild", "add"):
        raise ValueError(f"mode must be 'rebuild' or 'add', not {mode!r}")
    paths = [os.fspath(p) for p in paths]
    root = Path(root)
    report = IndexReport(index_dir=str(root))
    started, parent_cpu = time.perf_counter(), _clock()
    workers = default_workers() if workers is None else max(1, workers)
    if mode == "rebuild":
        _check_paths(paths, root)
    with store.disk_errors(root, lambda: _kept(root, mode)), \
            store.writer_lock(root, timeout=lock_timeout) as lock_fd, _sigterm_as_interrupt():
        report.recovered = store.recover(root)
        if mode == "add" and store.current_generation(root) is None:
            mode = "rebuild"   # nothing to add to: the first add builds the index
        known = None
        if mode == "rebuild":
            keys = Keys.for_rebuild(paths)
            gen = store.new_generation(root)
            stories = StoryIndex()
        else:
            gen = store.current_generation(root)
            _check_schema(gen, root)
            integrity.check_at_open(gen)   # an add must not build on damage (nor carry it into a merge)
            toc, segments = store.live_toc(gen)
            known = KnownSpec(gen, segments)
            stories = open_stories(gen, toc)
            looked_up = known.open()
            try:
                keys = Keys.for_add(paths, read_archives(gen), looked_up)
            finally:
                looked_up.close()
        try:
            _run(paths, root, gen, mode, report, known, workers, aliases_path, progress, limitmb, commit_every,
                 lock_fd, stories, keys)
            report.stories = stories.stats()
            if mode == "add":   # after the workers are gone; searches read the last commit meanwhile
                t0 = _clock()
                merged = apply_policy(gen)
                report.merges, report.segments = merged.merges, merged.segments
                report.stage_seconds["merge"] = _clock() - t0
            if mode == "rebuild":
                _check_replacement(report, root, force)
                t0 = _clock()
                store.publish(root, gen)
                report.stage_seconds["publish"] = _clock() - t0
        except BaseException:
            _clean_up(root, gen, mode)
            raise
    report.seconds = time.perf_counter() - started
    report.stage_seconds["parent"] = _clock() - parent_cpu
    return report


def _clean_up(root: Path, gen: Path, mode: str) -> None:
    """Remove what a failed or interrupted run wrote (a best effort: on a broken disk the next run's recovery
    tries again, and the error that stopped this run is the one to report)."""
    try:
        if mode == "rebuild" and store.current_generation(root) != gen:   # interrupted after publishing: keep it
            store.discard(gen)
        else:
            store.remove_orphans(gen)
    except OSError:
        pass


def _kept(root: Path, mode: str) -> str:
    """What a run stopped by an OS error leaves (for its one-line message)."""
    if mode == "add":
        return "the index keeps what was committed before this run"
    return _nothing_replaced(root)


def _check_schema(gen: Path, root: Path) -> None:
    """Refuse to add to an index whose ids were made another way (the new ones would duplicate its articles)."""
    version = store.schema_version(gen)
    if version is not None and version < SCHEMA_VERSION:
        raise IndexOutdated(f"the index at {root} was made by an older newsdex (format {version}, whose ids "
                            f"depend on where the archive is): adding to it would duplicate its articles; rebuild "
                            f"it once with `newsdex reindex PATH --index {root}`")


def _check_paths(paths: list[str], root: Path) -> None:
    """Refuse a rebuild from a path that does not exist (a typo must not empty the live index)."""
    missing = [p for p in paths if not os.path.lexists(p)]
    if not paths or missing:
        what = f"{missing[0]}: no such file or folder" if missing else "no path given"
        raise RebuildRefused(f"{what}; {_nothing_replaced(root)}")


def _check_replacement(report: IndexReport, root: Path, force: bool) -> None:
    """Refuse to publish a rebuild that read no article, or (unless forced) that holds fewer than half the live
    index's articles: both are far likelier a wrong path than an archive that shrank."""
    if report.indexed == 0:
        raise RebuildRefused(f"no article could be read from the given paths; {_nothing_replaced(root)}",
                             report)
    live = store.article_count(store.current_generation(root))
    if not force and live and report.indexed * 2 < live:
        raise RebuildRefused(f"the new index would hold {report.indexed:,} articles, fewer than half of the "
                             f"{live:,} in the live index; nothing was replaced (check the paths, or use --force "
                             f"to replace it anyway)", report)


def _nothing_replaced(root: Path) -> str:
    live = store.article_count(store.current_generation(root))
    if live is None:
        return "nothing was built"
    return f"nothing was replaced: the live index ({live:,} articles) still serves"


def _run(paths, root, gen, mode, report, known, workers, aliases_path, progress, limitmb, commit_every,
         lock_fd, stories: StoryIndex, keys: Keys) -> None:
    extractor = make_extractor(aliases_path)
    detect_language(_LANG_WARMUP)   # load the language profiles once, before the workers fork
    (gen / whoosh_wall.TEMP_DIR).mkdir(exist_ok=True)   # Whoosh's temp dir, shared by the workers' writers
    run = _Run(root, gen, mode, report, progress, stories)
    run.keys = keys
    run.total = _total_bytes(paths) if progress else 0
    ignored: list[Failure] = []
    skipped: list[Failure] = []
    batches = _batches(iter_units(paths, ignored, keys, skipped), report)
    if workers > 1:
        pool = _Pool(workers, str(gen), limitmb, extractor, aliases_path, known, (lock_fd,))
    else:
        pool = _InProcess(str(gen), limitmb, extractor, known)
    graceful = False
    try:
        seq = 0
        for batch in batches:
            while not pool.has_room():
                run.receive(pool)
            pool.submit(seq, batch)
            seq += 1
            if mode == "add" and run.since_commit >= commit_every:
                run.commit(pool)   # a checkpoint: everything handed out so far is tallied, then committed
        run.commit(pool)
        graceful = True
    finally:
        pool.close(graceful)
    stages = report.stage_seconds
    for name in ("read", "clean", "language", "entities", "write", "flush", "commit"):
        stages.setdefault(name, 0.0)
    report.ignored.extend(ignored)
    report.skipped.extend(skipped)


class _Interrupted(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: stop cleanly, keep the last complete index."""


def _raise_interrupt(signum, frame):
    raise _Interrupted(f"stopped by signal {signum}")


class _sigterm_as_interrupt:
    """In the main thread, turn SIGTERM into KeyboardInterrupt for the duration of a run (clean stop)."""

    def __enter__(self):
        self.old = None
        if threading.current_thread() is threading.main_thread():
            self.old = signal.signal(signal.SIGTERM, _raise_interrupt)
        return self

    def __exit__(self, *exc):
        if self.old is not None:
            signal.signal(signal.SIGTERM, self.old)
        return False


def open_stories(gen: Path, toc: int) -> StoryIndex:
    """The generation's story clusterer as of commit `toc` (base and log, index.storyfile), or, when it cannot be
    used (lost, corrupt, of an older format, or not matching the index's articles), one rebuilt from the index
    and marked `reconciled` (the next commit saves it whole)."""
    try:
        stories = StoryIndex.open(gen, toc)
    except StoriesFileError:
        stories = None
    if stories is not None and not stories.reconciled and len(stories) == store.article_count(gen):
        return stories
    return _reconciled(gen, stories)


def _reconciled(gen: Path, stories: StoryIndex | None) -> StoryIndex:
    """A clusterer matching the index's live articles: stale entries removed, missing ones assigned from the
    stored documents (a pass over every id: only for a lost or outdated stories file)."""
    if stories is None:
        try:
            stories = StoryIndex.load(gen / STORIES_FILE)
        except StoriesFileError:
            stories = StoryIndex()
    ix = store.open_generation(gen)
    with ix.searcher() as searcher:
        reader = searcher.reader()
        live_ids = {term.decode("utf-8") for term in reader.lexicon(ID)
                    if any(not reader.is_deleted(d) for d in reader.postings(ID, term).all_ids())}
        for stale in [aid for aid in stories.article_ids() if aid not in live_ids]:
            stories.remove(stale)
        for aid in sorted(live_ids):
            if aid not in stories:
                fields = searcher.document(**{ID: aid})
                if fields:
                    article = article_from_stored(fields)
                    stories.assign(aid, article.body, article.published)
    stories.reconciled = True
    return stories


def delete_articles(root: str | os.PathLike, ids: Iterable[str],
                    lock_timeout: float = 0.0) -> tuple[list[str], list[str]]:
    """Delete articles by id from the live index: (deleted ids, ids not found)."""
    deleted, missing = [], []
    with store.disk_errors(root, lambda: "nothing was deleted"), store.writer_lock(root, timeout=lock_timeout):
        store.recover(root)
        ix = store.open_index(root)
        gen = store.current_generation(root)
        stories = open_stories(gen, store.live_toc(gen)[0])
        writer = ix.writer()
        try:
            with writer.searcher() as searcher:   # one reader of every segment for all the look-ups
                for article_id_ in ids:
                    if writer.delete_by_term(ID, article_id_, searcher=searcher):
                        deleted.append(article_id_)
                        stories.remove(article_id_)
                    else:
                        missing.append(article_id_)
            if stories.reconciled:
                stories.compact(gen, writer.generation)
            else:
                stories.log_changes(gen, writer.generation)   # before the commit's TOC, as an add's
        except BaseException:
            writer.cancel()
            raise
        writer.commit(merge=False)
        if stories.needs_compaction():
            stories.compact(gen, writer.generation)
        apply_policy(gen)   # segments left mostly deleted are rewritten
        seal(gen)
    return deleted, missing


def optimize_index(root: str | os.PathLike, lock_timeout: float = 0.0) -> MergeReport:
    """Merge every segment of the live index into one (without its deleted documents) and fold the stories log
    into a new base; searches read the previous commit meanwhile."""
    with store.disk_errors(root, lambda: "the index keeps what it held"), \
            store.writer_lock(root, timeout=lock_timeout):
        store.recover(root)
        gen = store.current_generation(root)
        if gen is None:
            raise IndexMissing(root)
        integrity.check_at_open(gen)
        report = merge_all(gen)
        toc = store.live_toc(gen)[0]
        open_stories(gen, toc).compact(gen, toc)
        seal(gen)
    return report
