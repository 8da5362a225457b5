"""Faults: a live index is never replaced by accident, and `newsdex rollback` brings the previous one back.

Every case runs the real CLI on a real index on disk. A refused rebuild exits non-zero with one line saying why,
publishes nothing and leaves the live index serving; the generation a rebuild replaced is kept until the next
successful rebuild, and rollback swaps the two.
"""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from index import store
from search import SearchRequest, Searcher
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


def test_rollback_without_a_previous_index_says_so_and_changes_nothing(tmp_path):
    root = live_index(tmp_path)
    live = store.current_generation(root)
    result = run("rollback", "--index", root)
    assert result.exit_code == 1
    assert error_line(result) == (f"Error: no previous index to roll back to in {root} (one is kept after each "
                                  f"successful `newsdex reindex`); nothing changed")
    assert store.current_generation(root) == live and generations(root) == [live.name]
    result = run("rollback", "--index", tmp_path / "none")
    assert result.exit_code == 1 and "no newsdex index at" in error_line(result)


def test_rollback_restores_the_previous_index_as_it_was_and_a_second_swaps_back(tmp_path):
    root = live_index(tmp_path, 4)
    first = state(root)
    first_gen = store.current_generation(root)
    assert reindex(make_folder(tmp_path / "more", 6, start=100), root).exit_code == 0
    assert run("add", make_folder(tmp_path / "extra", 1, start=500), "--index", root, "-q",
               "--workers", 1).exit_code == 0
    second, second_gen = state(root), store.current_generation(root)
    assert len(second) == 7

    result = run("rollback", "--index", root)
    assert result.exit_code == 0, result.output
    assert result.stdout == (f"rolled back: {root} now serves {first_gen.name} (4 articles); {second_gen.name} "
                             f"(7 articles) is kept: `newsdex rollback` again swaps back\n")
    assert state(root) == first   # the add made to the newer index is not carried over
    assert (root / store.CURRENT).read_text().strip() == first_gen.name

    assert run("rollback", "--index", root).exit_code == 0
    assert state(root) == second and store.current_generation(root) == second_gen


def test_readers_pick_up_a_rollback_like_any_swap(tmp_path):
    root = live_index(tmp_path, 4)
    assert reindex(make_folder(tmp_path / "more", 6, start=100), root).exit_code == 0
    searcher = Searcher(root)
    try:
        assert searcher.search(SearchRequest(q="newsdex", all_articles=True)).total == 6
        version = store.index_version(root)
        assert run("rollback", "--index", root).exit_code == 0
        assert store.index_version(root) != version
        assert searcher.search(SearchRequest(q="newsdex", all_articles=True)).total == 4
        assert run("rollback", "--index", root).exit_code == 0
        assert searcher.search(SearchRequest(q="newsdex", all_articles=True)).total == 6
    finally:
        searcher.close()


def test_cleanup_keeps_the_previous_generation_and_still_removes_half_built_ones(tmp_path):
    root = live_index(tmp_path, 4)
    assert reindex(make_folder(tmp_path / "more", 6, start=100), root).exit_code == 0
    assert run("rollback", "--index", root).exit_code == 0   # live: the first build; previous: the newer one
    live, previous = store.current_generation(root), store.previous_generation(root)
    assert previous is not None and previous.name > live.name   # the previous one is the newer by name
    half_built = store.new_generation(root)   # what a killed rebuild leaves
    result = run("add", tmp_path / "arch", "--index", root, "-q", "--workers", 1)   # add, delete... recover
    assert result.exit_code == 0, result.output
    assert f"removed half-built index {half_built.name}" in result.stderr
    assert generations(root) == sorted([live.name, previous.name])
    assert store.recover(root) == [] and store.prune(root) == []
    assert generations(root) == sorted([live.name, previous.name])

    # the next successful rebuild keeps what was live as the previous index, and only that
    assert reindex(make_folder(tmp_path / "third", 5, start=200), root).exit_code == 0
    assert generations(root) == sorted([live.name, store.current_generation(root).name])
    assert run("rollback", "--index", root).exit_code == 0
    assert store.current_generation(root) == live


def test_refused_rebuilds_keep_the_previous_generation_too(tmp_path):
    root = live_index(tmp_path, 4)
    assert reindex(make_folder(tmp_path / "more", 6, start=100), root).exit_code == 0
    kept = generations(root)
    assert len(kept) == 2
    for _ in range(2):
        assert reindex(tmp_path / "typo", root).exit_code == 1
        assert reindex(make_folder(tmp_path / f"few{_}", 1, start=300 + _), root).exit_code == 1
    assert generations(root) == kept
    assert run("rollback", "--index", root).exit_code == 0 and len(state(root)) == 4


def test_a_rollback_interrupted_between_its_two_renames_loses_nothing(tmp_path):
    """PREVIOUS is written first: stopped there, both files name the live generation; nothing is removed and
    the previous generation is still found."""
    root = live_index(tmp_path, 4)
    first = store.current_generation(root)
    assert reindex(make_folder(tmp_path / "more", 6, start=100), root).exit_code == 0
    live = store.current_generation(root)
    (root / store.PREVIOUS).write_text(live.name + "\n")
    assert store.previous_generation(root) == first
    assert store.prune(root) == [] and generations(root) == sorted([first.name, live.name])
    assert run("rollback", "--index", root).exit_code == 0 and len(state(root)) == 4


def test_rollback_waits_for_no_writer(tmp_path):
    root = live_index(tmp_path, 4)
    with store.writer_lock(root):
        result = run("rollback", "--index", root)
    assert result.exit_code == 1 and "another indexing run is in progress" in error_line(result)
