"""Damage is found and named (issue 15, item 4): truncated, deleted, altered and garbage files of a real index give
one line naming the file and what to do, in the CLI (exit 1) and the site (503), never a traceback and never
silently wrong counts; `newsdex check` verifies every byte; every commit writes the checksum list."""
from __future__ import annotations

import json
import random
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from index import integrity, store
from index.builder import build_index, delete_articles
from index.stories import STORIES_FILE, STORY_LOG_FILE, STORY_MAP_FILE
from index.errors import IndexDamaged
from search import SearchRequest, Searcher
from tests.web_fixtures import build
from web.app import create_app
from web.cli import main

ADVICE = "run `newsdex rollback` to serve the previous index, or `newsdex reindex`"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    """A real index of the web fixture corpus (15 articles), built once; tests damage copies of it."""
    base = tmp_path_factory.mktemp("damage")
    return build(base / "corpus", base / "index")


@pytest.fixture
def index(pristine, tmp_path) -> Path:
    """A fresh copy of the pristine index (its root)."""
    return Path(shutil.copytree(pristine, tmp_path / "index"))


def gen_of(root: Path) -> Path:
    return store.current_generation(root)


def segment_of(root: Path) -> Path:
    return sorted(gen_of(root).glob("MAIN_*.seg"))[0]


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def overwrite(path: Path, offset: int, count: int) -> None:
    """`count` random bytes over `path` from `offset` (the size stays the same)."""
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(random.Random(offset).randbytes(count))


def truncate(path: Path, size: int) -> None:
    with open(path, "r+b") as fh:
        fh.truncate(size)


# Each class of damage: (what is done to the index, the damaged file, the problem as the message states it).
def truncated_segment(root):
    seg = segment_of(root)
    size = seg.stat().st_size
    truncate(seg, size // 2)
    return seg, f"has {size // 2:,} bytes, {size:,} expected (cut short)"


def truncated_posting_arrays(root):
    """A segment's posting arrays (index/segment_postings.py) cut short: found by its size when the index opens."""
    path = sorted(gen_of(root).glob("MAIN_*.post"))[0]
    size = path.stat().st_size
    truncate(path, size // 2)
    return path, f"has {size // 2:,} bytes, {size:,} expected (cut short)"


def truncated_toc(root):
    toc = gen_of(root) / integrity.live_toc(gen_of(root))
    size = toc.stat().st_size
    truncate(toc, 1000)
    return toc, f"has 1,000 bytes, {size:,} expected (cut short)"


def deleted_segment(root):
    seg = segment_of(root)
    seg.unlink()
    return seg, "is missing"


def garbage_at_the_start_of_a_segment(root):
    seg = segment_of(root)
    overwrite(seg, 0, 64)
    return seg, "does not match its checksum at its beginning or end (altered)"


def story_map_not_json(root):
    path = gen_of(root) / STORY_MAP_FILE
    path.write_text("{not json", encoding="utf-8")
    return path, "is not valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"


def stories_file_cut_in_half(root):
    path = gen_of(root) / STORIES_FILE
    size = path.stat().st_size
    truncate(path, size // 2)
    return path, "is cut short (its sections end past the file)"


def stories_file_deleted(root):
    path = gen_of(root) / STORIES_FILE
    path.unlink()
    return path, "is missing"


def schema_version_garbage(root):
    path = gen_of(root) / "SCHEMA_VERSION"
    path.write_bytes(b"\x00\xffgarbage")
    return path, "does not hold a schema version number (it holds b'\\x00\\xffgarbage')"


def checksum_list_garbage(root):
    path = gen_of(root) / integrity.MANIFEST
    path.write_text("[1, 2", encoding="utf-8")
    return path, ("is not a valid checksum list (JSONDecodeError: Expecting ',' delimiter: line 1 column 6 "
                  "(char 5))")


def archives_not_json(root):
    path = gen_of(root) / integrity.ARCHIVES_FILE
    path.write_text('["/archive", ', encoding="utf-8")
    return path, "is not valid JSON (Expecting value: line 1 column 14 (char 13))"


DAMAGE = [truncated_segment, truncated_posting_arrays, truncated_toc, deleted_segment, garbage_at_the_start_of_a_segment, story_map_not_json,
          stories_file_cut_in_half, stories_file_deleted, schema_version_garbage, checksum_list_garbage,
          archives_not_json]


@pytest.mark.parametrize("damage", DAMAGE)
def test_damage_is_one_line_naming_the_file_in_every_command(index, damage):
    path, problem = damage(index)
    message = f"the index is damaged: {path} {problem}; {ADVICE}"
    for args in (["search", "harbour"], ["search", "--json"], ["stats"]):
        result = cli(*args, "--index", index)
        assert result.exit_code == 1, (args, result.output)
        assert result.stderr == f"Error: {message}\n"
        assert result.stdout == ""


@pytest.mark.parametrize("damage", DAMAGE)
def test_check_names_each_damaged_file(index, damage):
    path, problem = damage(index)
    result = cli("check", "--index", index)
    assert result.exit_code == 1
    full = "does not match its checksum (altered)" if "beginning or end" in problem else problem   # every byte
    assert result.stdout.splitlines() == [f"damaged: {path} {full}", f"1 damaged file in {gen_of(index)}; {ADVICE}"]


@pytest.mark.parametrize("damage", DAMAGE)
def test_damage_is_a_503_naming_the_file_on_the_site_and_the_api(index, damage):
    path, problem = damage(index)
    message = f"the index is damaged: {path} {problem}; {ADVICE}"
    client = create_app({"INDEX_ROOT": str(index)}).test_client()
    for url in ("/api/search?q=harbour", "/api/stats", "/api/facets/people", "/api/explain?q=harbour"):
        response = client.get(url)
        assert response.status_code == 503, url
        assert response.get_json() == {"error": message, "status": 503}
    page = client.get("/?q=harbour")
    assert page.status_code == 503
    html = page.get_data(as_text=True)
    assert "The index is damaged" in html and str(path) in html
    assert "To build an index" not in html and "Traceback" not in html


@pytest.mark.parametrize("damage", DAMAGE)
def test_an_add_to_a_damaged_index_is_refused_and_changes_nothing(index, damage, tmp_path):
    path, problem = damage(index)
    before = sorted((p.name, p.stat().st_size) for p in gen_of(index).iterdir())
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "a.txt").write_text("Harbour cranes in Kiel stopped on Monday after a storm hit the port.\n")
    result = cli("add", folder, "--index", index, "--workers", 1, "-q")
    assert result.exit_code == 1
    assert result.stderr == f"Error: the index is damaged: {path} {problem}; {ADVICE}\n"
    assert sorted((p.name, p.stat().st_size) for p in gen_of(index).iterdir()) == before


def member(seg: Path, suffix: str) -> tuple[int, int]:
    """(offset, length) of one of a compound segment file's members (`.trm` terms, `.pst` postings...)."""
    from whoosh.filedb.compound import CompoundStorage
    from whoosh.filedb.filestore import FileStorage
    storage = CompoundStorage(FileStorage(str(seg.parent)).open_file(seg.name))
    try:
        return next(storage.range(name) for name in storage.list() if name.endswith(suffix))
    finally:
        storage.close()


def inside(seg: Path, suffix: str) -> tuple[int, int]:
    """(offset, length) of a member's bytes clear of the file's edges (which opening checks)."""
    offset, length = member(seg, suffix)
    start, end = max(offset, integrity.EDGE), min(offset + length, seg.stat().st_size - integrity.EDGE)
    assert end - start > 10_000, (suffix, offset, length)
    return start, end - start


def test_garbage_inside_a_segment_is_found_by_check(index):
    seg = segment_of(index)
    overwrite(seg, seg.stat().st_size // 4, seg.stat().st_size // 2)   # the middle half; both edges intact
    result = cli("check", "--index", index)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == f"damaged: {seg} does not match its checksum (altered)"


def test_a_search_that_reads_garbage_names_the_file_and_so_do_later_ones(index):
    seg = segment_of(index)
    overwrite(seg, *inside(seg, ".pst"))   # posting lists: opening does not read them, a search does
    message = f"the index is damaged: {seg} does not match its checksum (altered); {ADVICE}"
    result = cli("search", "harbour", "--index", index)
    assert (result.exit_code, result.stderr) == (1, f"Error: {message}\n")
    searcher = Searcher(index)
    try:
        with pytest.raises(IndexDamaged) as err:
            searcher.search(SearchRequest(q="harbour"))
        assert str(err.value) == message
        with pytest.raises(IndexDamaged):   # even a search the damage would not touch: the version is in doubt
            searcher.search(SearchRequest(q="", facets=False, snippets=False))
    finally:
        searcher.close()
    assert create_app({"INDEX_ROOT": str(index)}).test_client().get("/api/search?q=harbour").status_code == 503


def test_the_server_checks_every_byte_of_a_version_in_the_background(index):
    seg = segment_of(index)
    start, length = inside(seg, ".trm")
    overwrite(seg, start + length // 4, length // 2)   # terms no longer found: wrong answers, not errors
    client = create_app({"INDEX_ROOT": str(index)}).test_client()
    deadline = time.monotonic() + 10
    while (response := client.get("/api/search?q=harbour")).status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert response.status_code == 503
    assert response.get_json()["error"] == f"the index is damaged: {seg} does not match its checksum (altered); {ADVICE}"


def test_a_sound_index_checks_in_one_line(index):
    result = cli("check", "--index", index)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and result.stderr == ""
    listed = json.loads((Path(gen_of(index)) / integrity.MANIFEST).read_text(encoding="utf-8"))
    files = len(listed["files"])   # the segment, its values and posting arrays files, the TOC, SCHEMA_VERSION
    assert files == 5              # (archives.json: checked by its structure, an add rewrites it before its commit)
    assert lines[0].startswith(f"ok: {gen_of(index)}: every file matches its size and checksum ({files} files, ")


def test_check_reports_unlisted_files_and_a_missing_index(index, tmp_path):
    (gen_of(index) / "stray.bin").write_bytes(b"x" * 10)
    result = cli("check", "--index", index)
    assert result.exit_code == 0
    assert result.stderr == (f"note: {gen_of(index) / 'stray.bin'} is not in the checksum list: not part of the "
                             f"committed index (left by an interrupted run?)\n")
    result = cli("check", "--index", tmp_path / "nowhere")
    assert result.exit_code == 1 and "no newsdex index at" in result.stderr
    assert not (tmp_path / "nowhere").exists()


def test_an_index_from_before_checksums_opens_and_says_a_reindex_adds_them(index, tmp_path):
    (gen_of(index) / integrity.MANIFEST).unlink()
    assert cli("search", "harbour", "--index", index).exit_code == 0
    result = cli("check", "--index", index)
    assert result.exit_code == 0
    assert result.stdout.endswith("but the index has no checksums (it was built before newsdex wrote them): "
                                  "`newsdex reindex` adds them\n")
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "a.txt").write_text("Harbour cranes in Kiel stopped on Monday after a storm hit the port.\n")
    assert cli("add", folder, "--index", index, "--workers", 1, "-q").exit_code == 0
    assert not (gen_of(index) / integrity.MANIFEST).exists()   # an add does not vouch for files it never checked


def test_damage_of_an_index_without_checksums_is_still_named(index):
    (gen_of(index) / integrity.MANIFEST).unlink()
    truncate(segment_of(index), 5000)   # found by what Whoosh makes of the file
    result = cli("search", "harbour", "--index", index)
    assert result.exit_code == 1 and result.stderr.startswith(f"Error: the index is damaged: {segment_of(index)} "
                                                              f"cannot be read (")


def listed(root: Path) -> dict:
    return integrity.read_manifest(gen_of(root))


def committed_files(root: Path) -> set:
    return {p.name for p in gen_of(root).iterdir()} - integrity.VOLATILE   # (the story files check themselves)


def test_every_commit_writes_the_checksum_list(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        (folder / f"a{i}.txt").write_text(f"Harbour cranes in Kiel number {i} stopped after a storm.\n")
    root = tmp_path / "ix"
    build_index([folder], root, workers=1)
    manifest = listed(root)
    assert manifest["toc"] == integrity.live_toc(gen_of(root)) and set(manifest["files"]) == committed_files(root)
    (folder / "b.txt").write_text("Ships queued outside the harbour of Kiel for a second day.\n")
    build_index([folder], root, mode="add", workers=1)
    manifest = listed(root)
    assert manifest["toc"] == integrity.live_toc(gen_of(root)) and set(manifest["files"]) == committed_files(root)
    assert len([n for n in manifest["files"] if n.endswith(".seg")]) == 2
    ids = delete_articles(root, [json.loads(cli("search", "--json", "--index", root).stdout)["hits"][0]["id"]])[0]
    assert len(ids) == 1
    manifest = listed(root)
    assert manifest["toc"] == integrity.live_toc(gen_of(root)) and set(manifest["files"]) == committed_files(root)
    assert "pending" not in manifest
    assert cli("check", "--index", root).exit_code == 0


def test_a_segment_damaged_since_its_commit_stays_found_after_later_commits(index, tmp_path):
    seg = segment_of(index)
    overwrite(seg, seg.stat().st_size // 2, 16)   # inside: opening does not see it
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "a.txt").write_text("Harbour cranes in Kiel stopped on Monday after a storm hit the port.\n")
    assert cli("add", folder, "--index", index, "--workers", 1, "-q").exit_code == 0   # no merge reads it
    result = cli("check", "--index", index)
    assert result.exit_code == 1 and result.stdout.startswith(f"damaged: {seg} does not match its checksum")


def test_a_merge_checks_every_byte_of_the_segments_it_reads(tmp_path, monkeypatch):
    from index import builder
    root = tmp_path / "ix"
    words = random.Random(7)
    monkeypatch.setattr(builder, "apply_policy", lambda gen: builder.MergeReport())   # no merge while adding
    for i in range(5):   # five one-article segments, then `optimize` merges them
        folder = tmp_path / f"in{i}"
        folder.mkdir()
        body = " ".join("".join(words.choices("abcdefghij", k=8)) for _ in range(1500))   # a segment over 8 KiB
        (folder / "a.txt").write_text(f"Harbour cranes in Kiel number {i} stopped after a storm.\n\n{body}\n")
        build_index([folder], root, mode="add", workers=1)
    segments = integrity._toc_segments(gen_of(root))[1]
    assert len(segments) >= 2
    seg = gen_of(root) / (segments[-1].segment_id() + ".seg")
    assert seg.stat().st_size > 3 * integrity.EDGE   # damage clear of the edges: opening does not see it
    overwrite(seg, seg.stat().st_size // 2, 8)
    toc = integrity.live_toc(gen_of(root))
    monkeypatch.undo()
    result = cli("optimize", "--index", root)
    assert result.exit_code == 1
    assert f"the index is damaged: {seg} does not match its checksum (altered); {ADVICE}" in result.stderr
    assert integrity.live_toc(gen_of(root)) == toc   # nothing committed


def test_opening_reads_only_the_edges_of_segment_files(index, monkeypatch):
    whole = []
    crc = integrity._crc
    monkeypatch.setattr(integrity, "_crc", lambda path: whole.append(Path(path).name) or crc(path))
    store.open_index(index)
    assert whole and not [name for name in whole if name.endswith(".seg")]   # the TOC and small files only


def test_a_segment_altered_after_an_open_found_sound_is_found_at_the_next_open(index, monkeypatch):
    """A process does not read the edges of a file again while its size and identity hold (a server opens a
    version after each add), but a file rewritten since, its size the same, is read again."""
    edges = []
    real = integrity._edges_crc
    monkeypatch.setattr(integrity, "_edges_crc", lambda path, size: edges.append(Path(path).name) or real(path, size))
    store.open_index(index)
    assert segment_of(index).name in edges
    edges.clear()
    store.open_index(index)   # nothing changed: nothing read again
    assert segment_of(index).name not in edges
    seg = segment_of(index)
    overwrite(seg, 0, 16)
    with pytest.raises(IndexDamaged) as caught:
        store.open_index(index)
    assert seg.name in str(caught.value) and "altered" in str(caught.value)


def test_a_run_stopped_after_writing_its_stories_log_leaves_no_false_damage(index):
    gen = gen_of(index)
    with open(gen / STORY_LOG_FILE, "ab") as fh:   # a frame cut short: the run was killed while appending it
        fh.write(b"SLF1" + bytes(range(40)))
    assert cli("check", "--index", index).exit_code == 0
    assert cli("search", "harbour", "--index", index).exit_code == 0
    folder = index.parent / "new"
    folder.mkdir()
    (folder / "a.txt").write_text("Harbour cranes in Kiel stopped on Monday after a storm hit the port.\n")
    assert cli("add", folder, "--index", index, "--workers", 1, "-q").exit_code == 0
    assert cli("check", "--index", index).exit_code == 0


def test_a_run_stopped_between_its_commit_and_its_checksums_leaves_no_false_damage(index, monkeypatch):
    folder = index.parent / "new"
    folder.mkdir()
    (folder / "a.txt").write_text("Harbour cranes in Kiel stopped on Monday after a storm hit the port.\n")

    def killed(gen, create=False):
        raise KeyboardInterrupt
    monkeypatch.setattr(integrity, "write_manifest", killed)
    with pytest.raises(KeyboardInterrupt):
        build_index([folder], index, mode="add", workers=1)
    monkeypatch.undo()
    assert integrity.read_manifest(gen_of(index))["toc"] != integrity.live_toc(gen_of(index))
    result = cli("check", "--index", index)
    assert result.exit_code == 0, result.output
    assert "the checksums were written for _MAIN_1.toc, the live commit is _MAIN_2.toc" in result.stderr
    assert cli("search", "harbour", "--index", index).exit_code == 0
    (folder / "b.txt").write_text("Ships queued outside the harbour of Kiel for a second day.\n")
    assert cli("add", folder, "--index", index, "--workers", 1, "-q").exit_code == 0
    result = cli("check", "--index", index)
    assert (result.exit_code, result.stderr) == (0, "")


def test_check_waits_for_a_running_writer_then_says_so(index, monkeypatch):
    import web.cli
    monkeypatch.setattr(web.cli, "CHECK_LOCK_WAIT", 0.2)
    with store.writer_lock(index):   # another open file: its flock holds even against this process
        result = cli("check", "--index", index)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: another indexing run is in progress")
