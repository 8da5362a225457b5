"""The `newsdex` CLI against real files and a real index on disk."""
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from index import store
from index.builder import build_index
from web.cli import main

ARTICLE = (" date 2025-0{m}-1{d} WIRE - The Harbour Post) Harbour master Ilse Brandt said on Monday that the port "
           "of Kiel would reopen after the storm number {n}.\n\nShips queued outside the harbour.\n\nharbour storm")


def make_folder(root: Path, n: int = 3) -> Path:
    folder = root / "articles"
    folder.mkdir()
    for i in range(n):
        (folder / f"a{i}.txt").write_text(ARTICLE.format(m=i % 9 + 1, d=i % 9, n=i), encoding="utf-8")
    return folder


def run(*args, **kwargs):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False, **kwargs)
    return result


def stored_ids(root: Path) -> list[str]:
    ix = store.open_index(root)
    with ix.searcher() as searcher:
        return sorted(f["id"] for f in searcher.all_stored_fields())


def test_reindex_reports_and_exits_zero_when_all_good(tmp_path):
    folder = make_folder(tmp_path)
    result = run("reindex", folder, "--index", tmp_path / "ix", "--workers", 1, "-q")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("indexed 3 articles in ")
    assert len(stored_ids(tmp_path / "ix")) == 3


def test_bad_input_is_reported_and_the_rest_indexed(tmp_path):
    folder = make_folder(tmp_path)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 10)
    (folder / "latin1.txt").write_bytes("Caf\xe9 owners in Kiel said prices rose.".encode("latin-1"))
    (folder / "broken.html").write_bytes(b"<html><body><p>Truncated page about the harbour of Kiel and its")
    (folder / "dangling.txt").symlink_to(folder / "gone.txt")
    (folder / "feed.jsonl").write_text('{"id": "dup", "text": "First copy."}\nnot json\n'
                                       '{"id": "dup", "text": "Second copy."}\n', encoding="utf-8")
    (folder / "readme.md").write_text("not an article")
    result = run("reindex", folder, "--index", tmp_path / "ix", "--workers", 1, "-q")
    assert result.exit_code == 1
    err = result.stderr
    assert f"{folder / 'empty.txt'}: empty file" in err
    assert f"{folder / 'binary.txt'}: binary file, not text" in err
    assert f"{folder / 'dangling.txt'}: broken link" in err
    assert f"{folder / 'feed.jsonl'}:line 2: not valid JSON" in err
    assert "duplicate id 'dup' (first seen in" in err
    assert "latin1.txt: not valid UTF-8 (byte 0xe9 at offset 3); read as Windows-1252" in err
    assert "ignored 1 file(s) that are not articles" in err
    ids = stored_ids(tmp_path / "ix")
    assert "dup" in ids and len(ids) == 3 + 1 + 1 + 1   # three good, latin-1, truncated HTML, first "dup"
    ix = store.open_index(tmp_path / "ix")
    with ix.searcher() as searcher:
        assert searcher.document(id="dup")["body"] == "First copy."


def test_missing_path_fails_clearly(tmp_path):
    result = run("reindex", tmp_path / "nope", "--index", tmp_path / "ix", "-q")
    assert result.exit_code == 1
    assert f"{tmp_path / 'nope'}: no such file or folder" in result.stderr


def test_rebuild_is_atomic_when_interrupted(tmp_path):
    folder = make_folder(tmp_path, 4)
    root = tmp_path / "ix"
    build_index([folder], root, workers=1)
    before = store.current_generation(root)
    (folder / "a9.txt").write_text(ARTICLE.format(m=1, d=1, n=99))

    def interrupt(done, total, articles):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_index([folder], root, workers=1, progress=interrupt)
    assert store.current_generation(root) == before
    assert len(stored_ids(root)) == 4
    report = build_index([folder], root, workers=1)
    assert report.indexed == 5 and len(stored_ids(root)) == 5
    assert store.current_generation(root) != before


def test_second_writer_is_told_who_holds_the_lock(tmp_path):
    folder = make_folder(tmp_path, 1)
    with store.writer_lock(tmp_path / "ix"):
        result = run("reindex", folder, "--index", tmp_path / "ix", "-q")
    assert result.exit_code == 1
    assert f"another indexing run is in progress (pid {os.getpid()})" in result.stderr


def test_inspect_json_fields(tmp_path):
    folder = make_folder(tmp_path, 1)
    result = run("inspect", folder / "a0.txt", "--json")
    assert result.exit_code == 0
    record = json.loads(result.stdout)
    assert set(record) >= {"id", "path", "url", "title", "body", "published", "date_source", "source",
                           "language", "people", "countries", "keywords"}
    assert record["published"] == "2025-01-10T00:00:00+00:00"
    assert (record["date_source"], record["source"], record["language"]) == ("dateline", "The Harbour Post", "en")
    assert record["keywords"] == ["harbour storm"] and record["path"] == str(folder / "a0.txt")
    for person in record["people"]:
        for start, end in person["mentions"]:
            assert record["body"][start:end].split()[-1] in person["name"]


def test_inspect_reports_failures(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    result = run("inspect", tmp_path / "empty.txt", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"path": str(tmp_path / "empty.txt"), "position": "",
                                         "error": "empty file"}


def test_add_and_delete(tmp_path):
    folder = make_folder(tmp_path, 2)
    root = tmp_path / "ix"
    assert run("reindex", folder, "--index", root, "-q", "--workers", 1).exit_code == 0
    (folder / "a0.txt").write_text(ARTICLE.format(m=5, d=5, n=500))
    (folder / "new.txt").write_text(ARTICLE.format(m=6, d=6, n=600))
    result = run("add", folder, "--index", root, "-q", "--workers", 1)
    assert result.exit_code == 0, result.output
    assert "added 1, replaced 1, unchanged 1" in result.stdout
    ids = stored_ids(root)
    assert len(ids) == 3
    result = run("delete", ids[0], "no-such-id", "--index", root)
    assert result.exit_code == 1 and "deleted 1 articles" in result.stdout
    assert "not in the index: no-such-id" in result.stderr
    assert stored_ids(root) == ids[1:]


def test_index_location_from_environment(tmp_path):
    folder = make_folder(tmp_path, 1)
    result = run("reindex", folder, "-q", "--workers", 1, env={"NEWSDEX_INDEX": str(tmp_path / "env-ix")})
    assert result.exit_code == 0
    assert stored_ids(tmp_path / "env-ix") != []
