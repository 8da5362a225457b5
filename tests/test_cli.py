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


def test_optimize_merges_the_segments_and_leaves_the_articles(tmp_path):
    folder = make_folder(tmp_path, 4)
    root = tmp_path / "ix"
    assert run("reindex", folder, "--index", root, "-q", "--workers", 2).exit_code == 0
    (folder / "new.txt").write_text(ARTICLE.format(m=6, d=6, n=600))
    assert run("add", folder, "--index", root, "-q", "--workers", 1).exit_code == 0
    ids = stored_ids(root)
    assert run("delete", ids[0], "--index", root).exit_code == 0
    segments = len(store.live_toc(store.current_generation(root))[1])
    result = run("optimize", "--index", root)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"merged {segments} segments (4 articles) into 1 in ")
    assert stored_ids(root) == ids[1:] and len(store.live_toc(store.current_generation(root))[1]) == 1
    assert run("optimize", "--index", root).stdout.startswith("nothing to merge: ")
    result = run("optimize", "--index", tmp_path / "none")
    assert result.exit_code == 1 and "no newsdex index at" in result.stderr


def test_index_location_from_environment(tmp_path):
    folder = make_folder(tmp_path, 1)
    result = run("reindex", folder, "-q", "--workers", 1, env={"NEWSDEX_INDEX": str(tmp_path / "env-ix")})
    assert result.exit_code == 0
    assert stored_ids(tmp_path / "env-ix") != []


@pytest.fixture
def built(tmp_path):
    folder = make_folder(tmp_path, 4)
    (folder / "fr.jsonl").write_text(json.dumps({
        "id": "fr-1", "title": "Le port de Kiel rouvre", "date": "2025-02-03", "source": "La Gazette",
        "text": "Le port de Kiel a rouvert lundi après la tempête, a déclaré la capitaine Ilse Brandt. "
                "Les navires attendaient devant le port depuis une semaine."}, ensure_ascii=False) + "\n")
    root = tmp_path / "ix"
    assert run("reindex", folder, "--index", root, "-q", "--workers", 1).exit_code == 0
    return root


def test_search_json_shape(built):
    result = run("search", "harbour", "--index", built, "--json", "--per-page", 2)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["total"] == 4 and len(data["hits"]) == 2
    hit = data["hits"][0]
    assert set(hit) >= {"id", "title", "snippet", "published", "source", "language", "people", "countries",
                        "score"}
    assert "<mark>harbour</mark>" in hit["snippet"].lower() and hit["source"] == "The Harbour Post"
    assert set(data["facets"]) == {"people", "countries", "language", "source", "date"}
    assert sum(b["count"] for b in data["facets"]["source"]) == 4
    assert all(set(b) >= {"value", "label", "count", "selected"} for b in data["facets"]["language"])


def test_search_filters_and_browse(built):
    result = run("search", "--index", built, "--lang", "fr", "--json")
    data = json.loads(result.stdout)
    assert [h["id"] for h in data["hits"]] == ["fr-1"]
    result = run("search", "--index", built, "--from", "2025-03", "--to", "2025-04", "--json")
    assert sorted(h["published"][:7] for h in json.loads(result.stdout)["hits"]) == ["2025-03", "2025-04"]


@pytest.mark.parametrize("query,message", [
    ('"unclosed', 'unbalanced quote'),
    ("(harbour", "unbalanced parenthesis"),
    ("colour:red", 'unknown field "colour"'),
    ("*", "*"),
])
def test_malformed_query_exits_2_with_the_reason(built, query, message):
    result = run("search", query, "--index", built)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and message in result.stderr
    assert result.stdout == ""


def test_search_explain_and_text_output(built):
    result = run("search", "harbour", "-storm", "--index", built, "--explain")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("query: (harbour AND NOT storm)")
    assert "searches body:harbour" in result.stdout
    assert "0 results" in result.stdout
    result = run("search", "harbour", "--contry", "DE", "--index", built)
    assert result.exit_code == 2 and "no such option: --contry" in result.stderr


def test_search_without_an_index_says_how_to_build_one(tmp_path):
    result = run("search", "x", "--index", tmp_path / "none")
    assert result.exit_code == 1
    assert f"no newsdex index at {tmp_path / 'none'}: build one with `newsdex reindex PATH" in result.stderr


def test_stats_without_an_index(tmp_path):
    result = run("stats", "--index", tmp_path / "none")
    assert result.exit_code == 1 and "no newsdex index at" in result.stderr


def test_stats(built):
    result = run("stats", "--index", built, "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["articles"] == 5


def test_entities_batch_from_stdin():
    lines = json.dumps({"id": "a", "text": "Prime Minister Sanae Takaichi visited Seoul on Monday."}) + "\nnot json\n"
    result = run("entities", "-", input=lines)
    assert result.exit_code == 1
    first, second = [json.loads(line) for line in result.stdout.splitlines()]
    assert first["id"] == "a"
    assert [p["name"] for p in first["people"]] == ["Sanae Takaichi"]
    assert first["people"][0]["mentions"] == [[15, 29]]
    assert [c["code"] for c in first["countries"]] == ["KR"]
    assert second["id"] is None and "error" in second


def test_bad_alias_file_is_reported_before_indexing(tmp_path):
    folder = make_folder(tmp_path, 1)
    aliases = tmp_path / "aliases.txt"
    aliases.write_text("alias: Hermit Kingdom => KP\nalias: Foo => ZZ\n")
    result = run("reindex", folder, "--index", tmp_path / "ix", "--aliases", aliases, "-q")
    assert result.exit_code == 1
    assert "aliases.txt:2" in result.stderr and "ZZ" in result.stderr
    assert store.current_generation(tmp_path / "ix") is None
