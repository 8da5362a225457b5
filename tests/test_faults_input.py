"""Faults in the input: what each bad file or record gives (the message a user reads and the exit status).

Exit status 0 when everything was indexed, even with warnings; 1 when something failed. Real CLI, real index.
"""
from __future__ import annotations

import errno
import gzip
import json
import os
import tracemalloc
import zlib
from pathlib import Path

from click.testing import CliRunner

from index import readers
from index.readers import iter_units
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


def test_empty_files_of_every_kind_are_reported(tmp_path):
    folder = make_folder(tmp_path / "arch", 2)
    (folder / "empty.jsonl").write_bytes(b"")
    (folder / "blank.ndjson").write_bytes(b"\n  \n\n")
    (folder / "empty.jsonl.gz").write_bytes(gzip.compress(b""))
    (folder / "empty.sgm").write_bytes(b"")
    result = reindex(folder, tmp_path / "ix")
    assert result.exit_code == 1
    failed = result.stderr.splitlines()
    assert failed[failed.index("failed: 4") + 1:] == [
        f"  {folder / name}: empty file" for name in ("blank.ndjson", "empty.jsonl", "empty.jsonl.gz", "empty.sgm")]
    assert len(state(tmp_path / "ix")) == 2


def records(n: int, start: int = 0) -> bytes:
    return b"".join(json.dumps({"id": f"r{i}", "text": article_text(i)}).encode() + b"\n"
                    for i in range(start, start + n))


def test_a_cut_off_compressed_file_keeps_what_was_read_and_names_the_line(tmp_path):
    folder = tmp_path / "arch"
    folder.mkdir()
    data = gzip.compress(records(2000))
    (folder / "feed.jsonl.gz").write_bytes(data[:len(data) // 2])   # a download cut off half way
    whole = zlib.decompressobj(31).decompress(data[:len(data) // 2]).count(b"\n")   # the complete lines in it
    assert 500 < whole < 1500
    result = reindex(folder, tmp_path / "ix")
    assert result.exit_code == 1
    assert f"  {folder / 'feed.jsonl.gz'}:line {whole + 1}: the compressed data is cut off or damaged here " \
           f"(Compressed file ended before the end-of-stream marker was reached); lines 1-{whole} were read" \
        in result.stderr.splitlines()
    assert len(state(tmp_path / "ix")) == whole


def test_the_record_size_limit_is_enforced_while_reading(tmp_path):
    """A 40 MiB line is refused without being read into memory (the limit is 8 MiB)."""
    path = tmp_path / "arch" / "feed.jsonl"
    path.parent.mkdir()
    huge = b'{"id": "huge", "text": "' + b"word " * (8 * 2**20) + b'"}\n'
    path.write_bytes(records(1) + huge + records(1, start=1))
    tracemalloc.start()
    try:
        units = list(iter_units([path]))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 24 * 2**20, f"{peak / 2**20:.0f} MiB held while reading"   # the line is 40 MiB
    assert [u.position for u in units] == ["line 1", "line 2", "line 3"]
    result = reindex(path.parent, tmp_path / "ix")
    assert result.exit_code == 1
    assert f"  {path}:line 2: record too large (40.0 MiB; the limit for one record is 8 MiB)" in \
        result.stderr.splitlines()
    assert sorted(state(tmp_path / "ix")) == ["r0", "r1"]


def test_a_lone_surrogate_is_replaced_and_reported(tmp_path):
    folder = tmp_path / "arch"
    folder.mkdir()
    (folder / "feed.jsonl").write_text(
        '{"id": "bad", "title": "Harbour \\ud800 reopens", "text": "The harbour of Kiel reopened on Monday."}\n'
        '{"id": "good", "text": "Ships queued outside the harbour \\ud83d\\udea2 all week."}\n', encoding="utf-8")
    result = reindex(folder, tmp_path / "ix")
    assert result.exit_code == 0, result.output   # indexed anyway: a warning
    assert result.stderr.splitlines() == [
        "problems (indexed anyway): 1",
        f"  {folder / 'feed.jsonl'}:line 1: invalid Unicode: a lone surrogate \\ud800 in \"title\" (half of a "
        f"UTF-16 pair, not a character); replaced by U+FFFD"]
    result = run("search", "harbour", "--index", tmp_path / "ix", "--json", "--all-articles")
    titles = {hit["id"]: hit["title"] for hit in json.loads(result.stdout)["hits"]}
    assert titles["bad"] == "Harbour \ufffd reopens" and "\U0001f6a2" in titles["good"]


def test_ids_must_be_strings_or_whole_numbers(tmp_path):
    folder = tmp_path / "arch"
    folder.mkdir()
    ids = ['{"a": 1}', "[1, 2]", "1.5", "true", "42", '"ok"', '""']
    (folder / "feed.jsonl").write_text("".join(
        f'{{"id": {value}, "text": "Article {n} about the harbour of Kiel."}}\n' for n, value in enumerate(ids)),
        encoding="utf-8")
    result = reindex(folder, tmp_path / "ix")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[lines.index("failed: 4") + 1:] == [
        f"  {folder / 'feed.jsonl'}:line {n}: the \"id\" must be a string or a whole number, not {kind}"
        for n, kind in ((1, 'an object: {"a": 1}'), (2, "an array: [1, 2]"), (3, "a decimal number: 1.5"),
                        (4, "true or false: true"))]
    got = sorted(state(tmp_path / "ix"))
    assert got[:2] == ["42", "ok"] and len(got) == 3 and got[2].startswith("p")   # "" is no id: made from place


def test_linked_folders_are_followed_once_and_loops_reported(tmp_path):
    data = tmp_path / "data"
    arch = data / "arch"
    make_folder(arch / "real", 2)
    make_folder(data / "elsewhere", 1, start=10)
    (arch / "again").symlink_to(arch / "real")          # a second way into a folder
    (arch / "loop").symlink_to(arch)                    # a loop
    (arch / "outside").symlink_to(data / "elsewhere")   # a folder outside the archive: read
    (data / "elsewhere" / "back").symlink_to(data)      # ... which leads back above the archive
    result = reindex(arch, tmp_path / "ix")
    assert result.exit_code == 0, result.output   # nothing failed: every article was read once
    assert result.stderr.splitlines() == [
        "skipped: 4",
        f"  {arch / 'again'}: a link to a folder already read ({arch / 'real'}); not read again",
        f"  {arch / 'loop'}: a link to a folder already read ({arch}); not read again",
        f"  {arch / 'outside' / 'back' / 'arch'}: a folder already read ({arch}); not read again",
        f"  {arch / 'outside' / 'back' / 'elsewhere'}: a folder already read ({arch / 'outside'}); not read again"]
    assert len(state(tmp_path / "ix")) == 3


def test_folders_and_files_that_cannot_be_read_are_reported(tmp_path, monkeypatch):
    arch = tmp_path / "arch"
    make_folder(arch / "good", 2)
    make_folder(arch / "noenter", 1, start=10)   # no x permission: listed, but nothing in it can be opened
    make_folder(arch / "noread", 1, start=20)    # no r permission: cannot be listed
    secret = arch / "good" / "secret.txt"
    secret.write_text(article_text(30), encoding="utf-8")
    if os.geteuid() == 0:   # root reads through chmod: give what the kernel gives everyone else
        deny_like_the_kernel(monkeypatch, noread=arch / "noread", noenter=arch / "noenter", unreadable=secret)
    else:
        secret.chmod(0)
        (arch / "noenter").chmod(0o600)
        (arch / "noread").chmod(0o300)
    try:
        result = reindex(arch, tmp_path / "ix")
    finally:
        for path in (arch / "noenter", arch / "noread"):
            path.chmod(0o755)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[lines.index("failed: 3") + 1:] == [
        f"  {arch / 'noenter'}: cannot enter this folder (permission denied); the files in it were not indexed",
        f"  {arch / 'noread'}: cannot read this folder (permission denied); the files in it were not indexed",
        f"  {secret}: permission denied"]
    assert len(state(tmp_path / "ix")) == 2


def deny_like_the_kernel(monkeypatch, noread: Path, noenter: Path, unreadable: Path) -> None:
    """EACCES where a non-root user would get it: listing `noread`, looking inside `noenter`, opening
    `unreadable`."""
    def denied(path):
        return PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    real_scandir, real_lstat, real_stat = os.scandir, os.lstat, os.stat

    def scandir(path="."):
        if Path(path) == noread:
            raise denied(path)
        return real_scandir(path)

    def lstat(path, *args, **kwargs):
        if Path(path).parent == noenter:
            raise denied(path)
        return real_lstat(path, *args, **kwargs)

    def stat(path, *args, **kwargs):
        if Path(path).parent == noenter:
            raise denied(path)
        return real_stat(path, *args, **kwargs)

    def open_(path, *args, **kwargs):
        if Path(path) == unreadable:
            raise denied(path)
        return open(path, *args, **kwargs)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "lstat", lstat)
    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr(readers, "open", open_, raising=False)
