"""Faults: the operating system refuses a write (disk full, read-only folder, permission denied).

The user gets one line naming the path and the error, never a traceback (not even from a worker process); the
live index is intact and what the run had written is removed. The disk-full cases inject ENOSPC at a real write
point of the worker path (the posting file a worker's segment flush writes) or of the parent (CURRENT), since a
small tmpfs needs mount rights a CI runner may not have; the read-only cases use chmod, which root bypasses, so
as root they inject the error the kernel would give at the first write instead.
"""
from __future__ import annotations

import errno
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from index import segment, store
from tests.test_builder import make_folder, state
from web.cli import main

ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))   # what a failed write(2) raises: no file name
DISK_FULL = "No space left on device [ENOSPC]; free some space (or use --index on another disk) and run this again"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture
def live(tmp_path):
    """A live index of 6 articles; returns (root, its state, every file under it)."""
    root = tmp_path / "ix"
    assert run("reindex", make_folder(tmp_path / "arch", 6), "--index", root, "-q", "--workers", 1).exit_code == 0
    return root, state(root), files_under(root)


def only_line(result, capfd) -> str:
    """The command's stderr is one line; nothing else reached the terminal (workers write to fd 2 directly)."""
    out, err = capfd.readouterr()
    assert "Traceback" not in result.output + out + err, result.output + out + err
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def disk_full_in_worker_writes(monkeypatch):
    """A worker's segment flush hits a full disk while writing its posting file."""
    def full(self, keys, blob, infos):
        raise ENOSPC
    monkeypatch.setattr(segment._Files, "add", full)


@pytest.mark.parametrize("workers", [1, 2])
def test_disk_full_during_a_rebuild_is_one_line_and_the_live_index_is_intact(live, tmp_path, monkeypatch, capfd,
                                                                            workers):
    root, before, files = live
    disk_full_in_worker_writes(monkeypatch)
    result = run("reindex", make_folder(tmp_path / "more", 8, start=100), "--index", root, "-q",
                 "--workers", workers)
    assert result.exit_code == 1
    assert only_line(result, capfd) == (f"Error: cannot write {root}: {DISK_FULL}; nothing was replaced: the live "
                                        f"index (6 articles) still serves")
    assert state(root) == before
    assert files_under(root) == files   # the half-written generation and its temporary files are gone


@pytest.mark.parametrize("workers", [1, 2])
def test_disk_full_during_an_add_keeps_the_last_commit_and_removes_its_files(live, tmp_path, monkeypatch, capfd,
                                                                            workers):
    root, before, files = live
    disk_full_in_worker_writes(monkeypatch)
    result = run("add", make_folder(tmp_path / "more", 3, start=100), "--index", root, "-q", "--workers", workers)
    assert result.exit_code == 1
    assert only_line(result, capfd) == (f"Error: cannot write {root}: {DISK_FULL}; the index keeps what was "
                                        f"committed before this run")
    assert state(root) == before
    assert files_under(root) == files   # no uncommitted segment, no Whoosh temp folder


def test_disk_full_while_publishing_leaves_the_old_index_live(live, tmp_path, monkeypatch, capfd):
    root, before, _ = live
    live_gen = store.current_generation(root)
    write_pointer = store._write_pointer

    def full(root_, pointer, name):
        if pointer == store.CURRENT:
            raise ENOSPC
        write_pointer(root_, pointer, name)

    monkeypatch.setattr(store, "_write_pointer", full)
    result = run("reindex", make_folder(tmp_path / "more", 8, start=100), "--index", root, "-q", "--workers", 1)
    assert result.exit_code == 1
    assert only_line(result, capfd).startswith(f"Error: cannot write {root}: {DISK_FULL}; nothing was replaced")
    assert store.current_generation(root) == live_gen and state(root) == before
    assert [p.name for p in root.glob("gen-*")] == [live_gen.name]


def test_a_read_only_index_folder_is_one_line(live, tmp_path, monkeypatch, capfd):
    root, before, files = live
    lock = root / store.LOCK
    if os.geteuid() == 0:   # root writes through chmod: give what a read-only mount gives at the first write
        real_open = os.open

        def read_only(path, flags, *args, **kwargs):
            if Path(path) == lock:
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", read_only)
        expected = (f"Error: cannot write {lock}: Read-only file system [EROFS]; the file system is read-only: "
                    f"use --index on a writable disk; nothing was replaced: the live index (6 articles) still "
                    f"serves")
    else:
        root.chmod(0o555)
        expected = None
    try:
        result = run("reindex", make_folder(tmp_path / "more", 8, start=100), "--index", root, "-q",
                     "--workers", 1)
    finally:
        root.chmod(0o755)
    assert result.exit_code == 1
    line = only_line(result, capfd)
    if expected:
        assert line == expected
    else:
        assert re.fullmatch(rf"Error: cannot write {re.escape(str(root))}/gen-[^:]+: Permission denied \[EACCES\]; "
                            r"check the folder's permissions \(or use --index elsewhere\); nothing was replaced: "
                            r"the live index \(6 articles\) still serves", line), line
    assert state(root) == before and files_under(root) == files


def test_an_index_folder_that_cannot_be_made_is_one_line(tmp_path, capfd):
    (tmp_path / "a-file").write_text("not a folder")
    root = tmp_path / "a-file" / "ix"
    result = run("reindex", make_folder(tmp_path / "arch", 2), "--index", root, "-q", "--workers", 1)
    assert result.exit_code == 1
    assert only_line(result, capfd) == f"Error: cannot write {root}: Not a directory [ENOTDIR]; nothing was built"


def test_a_permission_denied_in_a_worker_is_one_line_too(live, tmp_path, monkeypatch, capfd):
    root, before, files = live

    def denied(self, keys, blob, infos):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), "/ix/gen-x/MAIN_abc.pst")

    monkeypatch.setattr(segment._Files, "add", denied)
    result = run("add", make_folder(tmp_path / "more", 3, start=100), "--index", root, "-q", "--workers", 2)
    assert result.exit_code == 1
    assert only_line(result, capfd) == ("Error: cannot write /ix/gen-x/MAIN_abc.pst: Permission denied [EACCES]; "
                                        "check the folder's permissions (or use --index elsewhere); the index "
                                        "keeps what was committed before this run")
    assert state(root) == before and files_under(root) == files
