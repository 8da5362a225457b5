"""Faults: ids that survive a move. An article without its own id or URL keeps its id when the archive is moved,
renamed or mounted elsewhere, and when a subfolder of it is given to `add`; unchanged files add nothing and an
edited file replaces its earlier version. Real CLI, real index on disk.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from click.testing import CliRunner

from index import store
from tests.test_builder import article_text, state
from web.cli import DEMO_ARTICLES, main


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def build(verb, path, root):
    result = run(verb, path, "--index", root, "-q", "--workers", 1)
    assert result.exit_code == 0, result.output
    return result


def add_counts(path, root) -> tuple[int, int, int]:
    """(added, replaced, unchanged) of `newsdex add PATH`."""
    out = build("add", path, root).stdout
    return tuple(map(int, re.search(r"added (\d+), replaced (\d+), unchanged (\d+)", out).groups()))


def make_archive(folder: Path) -> Path:
    """Files without ids or URLs; two share a name in different month folders; a JSON Lines file without ids."""
    for rel, n in (("2026-10/a.txt", 1), ("2026-11/a.txt", 2), ("2026-11/b.txt", 3), ("top.txt", 4)):
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(article_text(n), encoding="utf-8")
    (folder / "2026-11" / "feed.jsonl").write_text(
        "".join(json.dumps({"title": f"Feed {n}", "text": article_text(n)}) + "\n" for n in (5, 6)),
        encoding="utf-8")
    return folder


def test_a_copied_archive_adds_nothing(tmp_path):
    """The issue's case: the demo articles indexed, copied to another folder under another name, the copy added."""
    arch = shutil.copytree(DEMO_ARTICLES, tmp_path / "arch")
    root = tmp_path / "ix"
    build("reindex", arch, root)
    before = state(root)
    copy = shutil.copytree(arch, tmp_path / "elsewhere" / "copy-of-arch")
    assert add_counts(copy, root) == (0, 0, len(before))
    assert state(root) == before


def test_a_moved_and_renamed_archive_keeps_its_ids(tmp_path):
    arch = make_archive(tmp_path / "arch")
    root = tmp_path / "ix"
    build("reindex", arch, root)
    before = state(root)
    assert len(before) == 6   # a.txt in two folders: two articles, not one duplicate
    moved = tmp_path / "mnt" / "disk2" / "news"
    moved.parent.mkdir(parents=True)
    shutil.move(arch, moved)
    assert add_counts(moved, root) == (0, 0, 6)
    (moved / "2026-11" / "a.txt").write_text(article_text(2, version=1), encoding="utf-8")
    assert add_counts(moved, root) == (0, 1, 5)   # the edited file replaces its earlier version
    after = state(root)
    assert set(after) == set(before) and after != before
    build("reindex", moved, tmp_path / "again")
    assert state(tmp_path / "again") == after   # a rebuild at the new place gives the same ids


def test_a_subfolder_added_after_a_reindex_of_the_parent(tmp_path, monkeypatch):
    """The README's own example: `newsdex reindex ~/archive`, then `newsdex add ~/archive/2026-11` (the first
    run from the home folder, as `newsdex reindex archive`)."""
    arch = make_archive(tmp_path / "arch")
    root = tmp_path / "ix"
    monkeypatch.chdir(tmp_path)
    build("reindex", "arch", root)
    before = state(root)
    assert add_counts(arch / "2026-11", root) == (0, 0, 4)
    assert add_counts(arch / "2026-11" / "b.txt", root) == (0, 0, 1)   # a single file too
    (arch / "2026-11" / "a.txt").write_text(article_text(2, version=1), encoding="utf-8")
    assert add_counts(arch / "2026-11", root) == (0, 1, 3)
    assert set(state(root)) == set(before)


def test_a_subfolder_of_a_moved_archive(tmp_path):
    arch = make_archive(tmp_path / "arch")
    root = tmp_path / "ix"
    build("reindex", arch, root)
    before = state(root)
    moved = shutil.move(arch, tmp_path / "renamed")
    assert add_counts(Path(moved) / "2026-11", root) == (0, 0, 4)
    assert add_counts(Path(moved) / "2026-10", root) == (0, 0, 1)
    (Path(moved) / "2026-12").mkdir()
    (Path(moved) / "2026-12" / "a.txt").write_text(article_text(7), encoding="utf-8")
    assert add_counts(Path(moved) / "2026-12", root) == (1, 0, 0)   # a new month of the moved archive
    added = state(root)
    assert set(added) > set(before)
    build("reindex", moved, tmp_path / "again")
    assert state(tmp_path / "again") == added   # ... got the id a rebuild of the whole archive gives it


def test_a_new_subfolder_keeps_its_ids_through_a_rebuild(tmp_path):
    arch = make_archive(tmp_path / "arch")
    root = tmp_path / "ix"
    build("reindex", arch, root)
    (arch / "2026-12").mkdir()
    (arch / "2026-12" / "a.txt").write_text(article_text(7), encoding="utf-8")   # same name as two others
    assert add_counts(arch / "2026-12", root) == (1, 0, 0)
    after_add = state(root)
    build("reindex", arch, root)
    assert state(root) == after_add
    moved = shutil.move(arch, tmp_path / "moved")
    build("reindex", moved, root)
    assert state(root) == after_add


def test_relative_and_absolute_paths_give_the_same_ids(tmp_path, monkeypatch):
    make_archive(tmp_path / "arch")
    root = tmp_path / "ix"
    monkeypatch.chdir(tmp_path)
    build("reindex", "arch", root)
    assert add_counts(tmp_path / "arch", root) == (0, 0, 6)
    monkeypatch.chdir(tmp_path / "arch")
    assert add_counts(".", root) == (0, 0, 6)


def test_adding_a_folder_that_holds_an_indexed_archive(tmp_path, monkeypatch):
    arch = make_archive(tmp_path / "arch")
    root = tmp_path / "ix"
    monkeypatch.chdir(arch)
    build("reindex", "2026-11", root)
    assert add_counts(arch, root) == (2, 0, 4)   # 2026-10/a.txt and top.txt are new; 2026-11's four are not
    assert len(state(root)) == 6


def test_file_names_written_decomposed_elsewhere_keep_their_ids(tmp_path):
    arch = tmp_path / "arch"
    arch.mkdir()
    (arch / "Cafe\u0301.txt").write_text(article_text(1), encoding="utf-8")   # as macOS writes it
    root = tmp_path / "ix"
    build("reindex", arch, root)
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "Caf\u00e9.txt").write_text(article_text(1), encoding="utf-8")
    assert add_counts(copy, root) == (0, 0, 1)


def test_an_index_with_location_ids_must_be_rebuilt_before_adding(tmp_path):
    arch = make_archive(tmp_path / "arch")
    root = tmp_path / "ix"
    build("reindex", arch, root)
    before = state(root)
    gen = store.current_generation(root)
    (gen / "SCHEMA_VERSION").write_text("1")   # as newsdex made it before: without a checksum list either
    (gen / "checksums.json").unlink()
    result = run("add", arch, "--index", root, "-q", "--workers", 1)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: the index at {root} was made by an older newsdex (format 1, whose ids depend on where the "
        f"archive is): adding to it would duplicate its articles; rebuild it once with `newsdex reindex PATH "
        f"--index {root}`")
    assert state(root) == before
    build("reindex", arch, root)
    assert add_counts(arch, root) == (0, 0, 6)
