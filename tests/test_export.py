"""Exports: /api/search.csv, /api/search.jsonl and `newsdex export` (search.Export, web/export.py)."""
from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from search import EXPORT_COLUMNS, SearchRequest, Searcher
from tests.conftest import article, country, person, write_index
from web.app import create_app
from web.cli import main
from web.export import csv_cells

HOSTILE_TITLES = ["=HYPERLINK(\"http://evil.example\",\"click\")", "+1+2", "-2+3", "@SUM(A1:A2)", "\tTabbed",
                  "\rReturn", 'Quotes "inside", and a comma', "Line\nbreak", "Ünïcödé — 東京"]


def articles() -> list:
    out = [article(id=f"x{i}", title=title, body=f"Harbour export body {i}.", published=f"2025-03-{10 + i:02d}",
                   people=(person("Ada Quill"), person("Bo Lund")) if i % 2 else (person("Ada Quill"),),
                   countries=(country("US", "United States"), country("FR", "France", about=False)),
                   url=f"https://news.example/{i}")
           for i, title in enumerate(HOSTILE_TITLES)]
    # two copies of one story: exported as two rows
    out.append(article(id="s1", title="Wire story", body="Harbour export wire.", published="2025-04-01",
                       source="Wire One"))
    out.append(article(id="s2", title="Wire story", body="Harbour export wire.", published="2025-04-02",
                       source="Wire Two", story_id="s1"))
    out.append(article(id="nodate", title="Undated", body="Harbour export undated.", published=None,
                       date_source="none"))
    return out


@pytest.fixture(scope="module")
def index_root(tmp_path_factory):
    return write_index(tmp_path_factory.mktemp("export") / "index", articles())


@pytest.fixture(scope="module")
def searcher(index_root):
    s = Searcher(index_root)
    yield s
    s.close()


@pytest.fixture()
def app(index_root):
    return create_app({"INDEX_ROOT": str(index_root)})


def expected_rows(searcher, request=SearchRequest(q="harbour")) -> list:
    with searcher.export(request) as export:
        return list(export)


def rfc4180(text: str) -> list[list[str]]:
    """A strict RFC 4180 reader written apart from Python's csv module, as a spreadsheet reads: records end with
    CRLF, a field is quoted when it starts with a quote, a quote inside a quoted field is doubled."""
    rows, row, field, i, quoted = [], [], [], 0, False
    while i < len(text):
        c = text[i]
        if quoted:
            if c == '"' and text[i + 1:i + 2] == '"':
                field.append('"')
                i += 1
            elif c == '"':
                quoted = False
                assert text[i + 1:i + 2] in (",", "\r", ""), f"a closing quote must end the field at {i}"
            else:
                field.append(c)
        elif c == '"':
            assert not field, f"a quote inside an unquoted field at {i}"
            quoted = True
        elif c == ",":
            row.append("".join(field))
            field = []
        elif c == "\r":
            assert text[i + 1] == "\n", f"a bare CR at {i}"
            row.append("".join(field))
            rows.append(row)
            row, field = [], []
            i += 1
        else:
            assert c != "\n", f"a bare LF at {i}"
            field.append(c)
        i += 1
    assert not quoted and not row and not field, "the last record must end with CRLF"
    return rows


def test_export_rows_one_per_article_newest_first(searcher):
    rows = expected_rows(searcher)
    assert [r.id for r in rows] == ["s2", "s1"] + [f"x{i}" for i in reversed(range(len(HOSTILE_TITLES)))] + ["nodate"]
    assert {r.story_id for r in rows if r.id in ("s1", "s2")} == {"s1"}
    x1 = next(r for r in rows if r.id == "x1")
    assert x1.people == ("Ada Quill", "Bo Lund") and x1.countries == ("US",)   # France is only mentioned
    assert x1.published == "2025-03-11T00:00:00+00:00" and x1.url == "https://news.example/1"
    oldest = expected_rows(searcher, SearchRequest(q="harbour", sort="oldest"))
    assert [r.id for r in oldest] == [r.id for r in rows[:-1]][::-1] + ["nodate"]


def test_csv_parses_back_to_the_rows(app, searcher):
    response = app.test_client().get("/api/search.csv?q=harbour")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8; header=present"
    assert response.headers["Content-Disposition"] == 'attachment; filename="newsdex-export.csv"'
    assert response.headers["X-Export-Rows"] == response.headers["X-Export-Total"] == "12"
    assert response.headers["X-Export-Truncated"] == "false"
    raw = response.data
    assert raw.startswith(b"\xef\xbb\xbf")                    # a BOM: spreadsheets then read UTF-8
    text = raw.decode("utf-8-sig")
    rows = expected_rows(searcher)
    want = [list(EXPORT_COLUMNS)] + [csv_cells(r) for r in rows]
    assert list(csv.reader(io.StringIO(text, newline=""))) == want
    assert rfc4180(text) == want
    assert text.count("\r\n") == len(want)                     # line breaks inside titles are quoted, as they are
    by_id = {cells[0]: cells for cells in want[1:]}
    assert by_id["x1"][5] == "Ada Quill; Bo Lund"
    assert by_id["x8"][1] == "Ünïcödé — 東京"
    assert by_id["nodate"][2] == ""


def test_formula_cells_are_neutralised():
    cells = {title: csv_cells(_row(title))[1] for title in HOSTILE_TITLES}
    for title in HOSTILE_TITLES[:6]:
        assert cells[title] == "'" + title
    for title in HOSTILE_TITLES[6:]:
        assert cells[title] == title
    assert csv_cells(_row("x", people=("-Dash", "Ok")))[5] == "'-Dash; Ok"
    assert csv_cells(_row("x", url="=cmd|' /C calc'!A0"))[7] == "'=cmd|' /C calc'!A0"


def _row(title, people=(), url=""):
    from search import ExportRow
    return ExportRow("id", title, None, "Src", "en", people, (), url, "id")


def test_jsonl_parses_back(app, searcher):
    response = app.test_client().get("/api/search.jsonl?q=harbour&person=Ada+Quill")
    assert response.headers["Content-Type"] == "application/x-ndjson; charset=utf-8"
    lines = response.get_data(as_text=True).split("\n")
    assert lines[-1] == ""
    got = [json.loads(line) for line in lines[:-1]]
    assert got == [r.to_json() for r in expected_rows(searcher, SearchRequest(q="harbour", people=("Ada Quill",)))]
    assert got[0]["title"] == HOSTILE_TITLES[-1] and got[0]["people"] == ["Ada Quill"]   # not neutralised: data


def test_a_cut_is_said_in_headers_only(app):
    response = app.test_client().get("/api/search.csv?q=harbour&limit=3")
    assert response.headers["X-Export-Rows"] == "3" and response.headers["X-Export-Total"] == "12"
    assert response.headers["X-Export-Truncated"] == "true"
    assert len(list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))) == 4
    assert app.test_client().get("/api/search.csv?limit=100001").status_code == 400
    bad = app.test_client().get("/api/search.jsonl?q=(harbour")
    assert bad.status_code == 400 and "unbalanced" in bad.get_json()["error"]


def test_at_most_two_exports_at_once(app):
    client = app.test_client()
    first = client.get("/api/search.csv?q=harbour", buffered=False)
    second = client.get("/api/search.jsonl?q=harbour", buffered=False)
    assert first.status_code == second.status_code == 200
    third = client.get("/api/search.csv?q=harbour")
    assert third.status_code == 503
    assert third.get_json()["error"] == "2 exports are already running; try again when one has finished"
    assert third.headers["Retry-After"] == "30"
    assert client.get("/api/search?q=harbour").status_code == 200   # searches are not held up
    first.close()
    fourth = client.get("/api/search.csv?q=harbour")
    assert fourth.status_code == 200 and fourth.data.count(b"\r\n") > 10
    fourth.close()   # a server closes every response when it is sent (the test client only when told)
    second.close()
    failed = client.get("/api/search.csv?q=(harbour")   # a refused export gives its slot back
    assert failed.status_code == 400
    assert [client.get("/api/search.csv?q=harbour", buffered=False).status_code for _ in range(2)] == [200, 200]


def test_export_holds_its_index_version(index_root, tmp_path):
    root = write_index(tmp_path / "index", articles()[:3])
    s = Searcher(root)
    try:
        export = s.export(SearchRequest())
        rows = iter(export)
        first = next(rows)
        write_index(root, articles()[3:5])     # a rebuild while the export streams
        assert [first.id] + [r.id for r in rows] == ["x2", "x1", "x0"]
        export.close()
        with s.export(SearchRequest()) as again:
            assert [r.id for r in again] == ["x4", "x3"]
    finally:
        s.close()


def test_cli_export(index_root, tmp_path, searcher):
    runner = CliRunner()
    result = runner.invoke(main, ["export", "harbour", "--index", str(index_root), "--format", "jsonl",
                                  "--person", "Bo Lund"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["x7", "x5", "x3", "x1"]
    assert result.stderr == "exported 4 articles\n"
    out = tmp_path / "all.csv"
    result = runner.invoke(main, ["export", "harbour", "--index", str(index_root), "--output", str(out),
                                  "--limit", "5"])
    assert result.exit_code == 0 and result.stdout == ""
    assert "exported 5 articles to" in result.stderr and "cut at 5 of the 12 matching articles" in result.stderr
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"), newline="")))
    assert rows == [list(EXPORT_COLUMNS)] + [csv_cells(r) for r in expected_rows(searcher)[:5]]
    result = runner.invoke(main, ["export", "(harbour", "--index", str(index_root)])
    assert result.exit_code == 2 and "unbalanced" in result.stderr
