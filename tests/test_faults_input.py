"""Faults in the input: what each bad file or record gives (the message a user reads and the exit status).

Exit status 0 when everything was indexed, even with warnings; 1 when something failed. Real CLI, real index.
"""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from tests.test_builder import article_text, make_folder, state
from web.cli import main


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def reindex(path, root):
    return run("reindex", path, "--index", root, "-q", "--workers", 1)


def test_warnings_exit_zero_and_failures_one(tmp_path):
    folder = make_folder(tmp_path / "arch", 2)
    (folder / "latin1.txt").write_bytes("Caf\xe9 owners in Kiel said prices rose again.".encode("latin-1"))
    (folder / "notes.md").write_text("not an article")
    result = reindex(folder, tmp_path / "ix")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"ignored 1 file(s) that are not articles (e.g. {folder / 'notes.md'})",
        "problems (indexed anyway): 1",
        f"  {folder / 'latin1.txt'}: not valid UTF-8 (byte 0xe9 at offset 3); read as Windows-1252"]
    assert len(state(tmp_path / "ix")) == 3

    (folder / "blank.txt").write_text("  \n\n ")   # an empty file is a failure: exit status 1
    result = reindex(folder, tmp_path / "ix")
    assert result.exit_code == 1
    assert f"  {folder / 'blank.txt'}: empty file" in result.stderr.splitlines()
