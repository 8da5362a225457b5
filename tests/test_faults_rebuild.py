"""Faults: a live index is never replaced by accident.

Every case runs the real CLI on a real index on disk. A refused rebuild exits non-zero with one line saying why,
publishes nothing and leaves the live index serving.
"""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from index import store
from tests.test_builder import make_folder, state
from web.cli import main


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def reindex(folder, root, *extra):
    return run("reindex", folder, "--index", root, "--workers", 1, "-q", *extra)


def generations(root: Path) -> list[str]:
    return sorted(p.name for p in root.glob("gen-*"))


def error_line(result) -> str:
    """The one line a refused command prints last (what the user reads first)."""
    lines = result.stderr.strip().splitlines()
    assert not any("Traceback" in line for line in lines), result.stderr
    return lines[-1]


def live_index(tmp_path, count=6):
    root = tmp_path / "ix"
    result = reindex(make_folder(tmp_path / "arch", count), root)
    assert result.exit_code == 0, result.output
    return root


def test_a_typo_in_the_path_is_refused_and_the_live_index_keeps_serving(tmp_path):
    root = live_index(tmp_path)
    before, live = state(root), store.current_generation(root)
    for _ in range(2):   # the second run used to delete the old generation for good
        result = reindex(tmp_path / "archive-typo", root)
        assert result.exit_code == 1
        assert error_line(result) == (f"Error: {tmp_path / 'archive-typo'}: no such file or folder; nothing was "
                                      f"replaced: the live index (6 articles) still serves")
        assert store.current_generation(root) == live and state(root) == before
    assert generations(root) == [live.name]


def test_one_missing_path_among_several_refuses_the_whole_rebuild(tmp_path):
    root = live_index(tmp_path)
    before = state(root)
    result = reindex(tmp_path / "arch", root, tmp_path / "gone")   # the given folder exists, the second not
    assert result.exit_code == 1
    assert error_line(result).startswith(f"Error: {tmp_path / 'gone'}: no such file or folder; nothing was")
    assert state(root) == before


def test_a_rebuild_that_reads_no_article_is_refused(tmp_path):
    root = live_index(tmp_path)
    before = state(root)
    empty = tmp_path / "empty"
    empty.mkdir()
    result = reindex(empty, root)
    assert result.exit_code == 1
    assert error_line(result) == ("Error: no article could be read from the given paths; nothing was replaced: "
                                  "the live index (6 articles) still serves")
    assert state(root) == before

    (empty / "blank.txt").write_text("")   # files that all fail: they are listed, then the refusal
    result = reindex(empty, root)
    assert result.exit_code == 1
    assert f"{empty / 'blank.txt'}: empty file" in result.stderr
    assert error_line(result).startswith("Error: no article could be read from the given paths")
    assert state(root) == before and len(generations(root)) == 1   # the refused generation was removed


def test_a_first_rebuild_of_an_empty_folder_builds_nothing(tmp_path):
    (tmp_path / "empty").mkdir()
    result = reindex(tmp_path / "empty", tmp_path / "ix")
    assert result.exit_code == 1
    assert error_line(result) == "Error: no article could be read from the given paths; nothing was built"
    assert store.current_generation(tmp_path / "ix") is None and generations(tmp_path / "ix") == []


def test_fewer_than_half_the_live_articles_needs_force(tmp_path):
    root = live_index(tmp_path, 6)
    before = state(root)
    result = reindex(make_folder(tmp_path / "small", 2), root)
    assert result.exit_code == 1
    assert error_line(result) == ("Error: the new index would hold 2 articles, fewer than half of the 6 in the "
                                  "live index; nothing was replaced (check the paths, or use --force to replace "
                                  "it anyway)")
    assert state(root) == before
    assert reindex(make_folder(tmp_path / "half", 3, start=50), root).exit_code == 0   # half is not fewer
    assert len(state(root)) == 3
    one = make_folder(tmp_path / "one", 1, start=80)
    assert reindex(one, root).exit_code == 1 and len(state(root)) == 3
    result = reindex(one, root, "--force")
    assert result.exit_code == 0, result.output
    assert len(state(root)) == 1
