"""Readers: each format, and every kind of bad input, against real files."""
import gzip
import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from index.model import Failure, RawArticle
from index.readers import date_from_filename, derive_title, parse_date, parse_reuters_date, read_path

SEED = Path(__file__).resolve().parent.parent / "web" / "demo_articles" / "menafn-2026-01-18-japan-korea.txt"
SEED_TEXT = (" date 2026-01-18 MENAFN - Gulf Times) Japan and South Korea aim to deepen ties, their leaders said "
             "Tuesday.\n\nPrime Minister Sanae Takaichi met President Lee Jae Myung in Nara.\n\n"
             "\"It is an urgent task,\" he said.\n\nsecurity economic ties Sanae Takaichi")


def write(tmp_path, name, data):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def only(items):
    assert len(items) == 1, items
    return items[0]


# --- plain-text news format -------------------------------------------------------------------------------------

def test_text_format_fields(tmp_path):
    raw = only(read_path(write(tmp_path, "a.txt", SEED_TEXT)))
    assert isinstance(raw, RawArticle)
    assert raw.published == datetime(2026, 1, 18, tzinfo=timezone.utc)
    assert (raw.date_source, raw.via, raw.source) == ("dateline", "MENAFN", "Gulf Times")
    assert raw.keywords == ("security economic ties Sanae Takaichi",)
    assert raw.body == ("Japan and South Korea aim to deepen ties, their leaders said Tuesday.\n\n"
                        "Prime Minister Sanae Takaichi met President Lee Jae Myung in Nara.\n\n"
                        "\"It is an urgent task,\" he said.")
    assert raw.title == "Japan and South Korea aim to deepen ties, their leaders said Tuesday."
    assert raw.title_derived


def test_the_seed_article_as_shipped():
    if not SEED.exists():
        pytest.skip("bundled seed article not present")
    raw = only(read_path(SEED))
    assert raw.source == "Gulf Times" and raw.via == "MENAFN"
    assert raw.keywords == ("security economic ties Sanae Takaichi denuclearisation",)
    assert raw.body.startswith("Japan and South Korea aim to deepen security and economic ties")
    assert raw.body.endswith("without giving a date.")
    assert "denuclearisation\n" not in raw.body and not raw.body.endswith("denuclearisation")


def test_text_without_dateline_uses_heading_and_filename_date(tmp_path):
    raw = only(read_path(write(tmp_path, "2025-03-04-harbour.txt",
                               "Harbour reopens after storm\n\nThe harbour reopened on Monday. Ships queued.")))
    assert raw.title == "Harbour reopens after storm" and not raw.title_derived
    assert raw.body == "The harbour reopened on Monday. Ships queued."
    assert (raw.published, raw.date_source) == (datetime(2025, 3, 4, tzinfo=timezone.utc), "filename")


def test_derived_title_is_trimmed_at_a_word():
    title = derive_title("word " * 80 + "end.")
    assert title.endswith("…") and len(title) <= 141 and "  " not in title
    assert derive_title("First one. Second one.") == "First one."


def test_crlf_and_bom_are_handled(tmp_path):
    raw = only(read_path(write(tmp_path, "b.txt", b"\xef\xbb\xbf" + SEED_TEXT.replace("\n", "\r\n").encode())))
    assert raw.source == "Gulf Times" and "\r" not in raw.body


def test_latin1_text_is_read_with_a_note(tmp_path):
    raw = only(read_path(write(tmp_path, "c.txt", "Caf\xe9 in Z\xfcrich reopened today.".encode("latin-1"))))
    assert raw.body == "Café in Zürich reopened today."
    assert "not valid UTF-8" in raw.note and "Windows-1252" in raw.note


# --- HTML -------------------------------------------------------------------------------------------------------

PAGE = """<html lang="en"><head><title>Harbour reopens - The Harbour Post</title>
<meta property="og:title" content="Harbour reopens after storm">
<meta property="og:site_name" content="The Harbour Post">
<link rel="canonical" href="https://harbour.example/2025/11/03/harbour-reopens">
</head><body><nav><a href="/">Home</a></nav><article><h1>Harbour reopens after storm</h1>
<p>The harbour of Port Amsel reopened on Monday after a week of storms closed it to shipping traffic.</p>
<p>Harbour master Ilse Brandt said the damage to the northern pier was smaller than feared.</p>
</article><footer>© The Harbour Post</footer></body></html>"""


def test_html_page(tmp_path):
    raw = only(read_path(write(tmp_path, "p.html", PAGE)))
    assert raw.title == "Harbour reopens after storm"
    assert raw.source == "The Harbour Post"
    assert raw.url == "https://harbour.example/2025/11/03/harbour-reopens"
    assert "Harbour master Ilse Brandt said" in raw.body and "Home" not in raw.body


def test_gzipped_html_page(tmp_path):
    raw = only(read_path(write(tmp_path, "p.html.gz", gzip.compress(PAGE.encode()))))
    assert "Port Amsel reopened" in raw.body


def test_corrupt_gzip_is_a_failure(tmp_path):
    item = only(read_path(write(tmp_path, "p.html.gz", gzip.compress(PAGE.encode())[:40])))
    assert isinstance(item, Failure) and "gzip" in item.reason


def test_truncated_html_still_yields_text(tmp_path):
    raw = only(read_path(write(tmp_path, "t.html", PAGE[:PAGE.index("Harbour master") + 40])))
    assert isinstance(raw, RawArticle) and "Port Amsel reopened" in raw.body


# --- JSON Lines ---------------------------------------------------------------------------------------------------

def test_jsonl_records_and_bad_lines(tmp_path):
    lines = [
        json.dumps({"id": "n-1", "url": "https://x.example/1", "title": "One", "text": "Body one.",
                    "date": "2025-05-17", "source": "X Daily", "language": "EN"}),
        "{not json",
        json.dumps({"id": "n-2", "body": "Body two.", "published": "2025-05-18T10:00:00+02:00"}),
        json.dumps({"id": "n-3", "html": "<html><body><article><p>Body three is in HTML here.</p>"
                                         "</article></body></html>"}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": "n-4"}),
        "",
    ]
    items = read_path(write(tmp_path, "feed.jsonl", "\n".join(lines)))
    good = [i for i in items if isinstance(i, RawArticle)]
    bad = [i for i in items if isinstance(i, Failure)]
    assert [g.record_id for g in good] == ["n-1", "n-2", "n-3"]
    assert good[0].published == datetime(2025, 5, 17, tzinfo=timezone.utc)
    assert (good[0].source, good[0].language, good[0].title, good[0].url) == ("X Daily", "en", "One",
                                                                              "https://x.example/1")
    assert good[1].published == datetime(2025, 5, 18, 8, 0, tzinfo=timezone.utc)
    assert good[1].title == "Body two." and good[1].title_derived
    assert "Body three is in HTML here." in good[2].body
    assert [(b.position, b.reason.split(":")[0]) for b in bad] == [
        ("line 2", "not valid JSON"), ("line 5", "a JSON line must be an object, got list"),
        ("line 6", "record has no text (expected one of")]


def test_gzipped_jsonl(tmp_path):
    data = gzip.compress((json.dumps({"id": "g1", "text": "Gzipped body."}) + "\n").encode())
    assert only(read_path(write(tmp_path, "f.jsonl.gz", data))).record_id == "g1"


def test_parse_date_variants():
    assert parse_date("2025-01-02T03:04:05Z") == datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert parse_date("2025-01-02 garbage") == datetime(2025, 1, 2, tzinfo=timezone.utc)
    assert parse_date(0) == datetime(1970, 1, 1, tzinfo=timezone.utc)
    assert parse_date("yesterday") is None and parse_date(True) is None


# --- Reuters SGML -------------------------------------------------------------------------------------------------

SGML = (b'<!DOCTYPE lewis SYSTEM "lewis.dtd">\n'
        b'<REUTERS TOPICS="YES" LEWISSPLIT="TRAIN" CGISPLIT="TRAINING-SET" OLDID="5544" NEWID="7">\n'
        b"<DATE>26-FEB-1987 15:01:01.79</DATE>\n<TOPICS><D>cocoa</D></TOPICS>\n<PLACES><D>switzerland</D></PLACES>\n"
        b"<UNKNOWN> \n&#5;&#5;&#5;C T\n&#22;&#22;&#1;f0704&#31;reute\n</UNKNOWN>\n"
        b"<TEXT>&#2;\n<TITLE>COCOA &lt;TRADERS> MEET IN Z\xdcRICH</TITLE>\n"
        b"<DATELINE>    Z\xdcRICH, Feb 26 - </DATELINE><BODY>Cocoa traders met in Z\xfcrich\n"
        b"on Thursday to discuss prices.\n    A second paragraph follows\nhere.\n Reuter\n&#3;</BODY></TEXT>\n"
        b"</REUTERS>\n"
        b'<REUTERS TOPICS="NO" NEWID="8">\n<DATE>31-MAR-1987 605:12:19.12</DATE>\n'
        b'<TEXT TYPE="BRIEF">&#2;\n<TITLE>SHORT ITEM ONLY</TITLE>\n&#3;\n</TEXT>\n</REUTERS>\n')


def test_reuters_sgml(tmp_path):
    first, second = read_path(write(tmp_path, "reut2-000.sgm", SGML))
    assert first.record_id == "reuters-7" and first.source == "Reuters"
    assert first.title == "COCOA <TRADERS> MEET IN ZÜRICH"
    assert first.body == ("ZÜRICH, Feb 26 - Cocoa traders met in Zürich on Thursday to discuss prices.\n\n"
                          "A second paragraph follows here.")
    assert first.published == datetime(1987, 2, 26, 15, 1, 1, tzinfo=timezone.utc)
    assert second.record_id == "reuters-8" and second.body == "SHORT ITEM ONLY"
    assert (second.published, second.date_source) == (None, "none")


def test_reuters_date():
    assert parse_reuters_date(" 3-MAR-1987 09:18:21.26") == datetime(1987, 3, 3, 9, 18, 21, tzinfo=timezone.utc)
    assert parse_reuters_date("31-MAR-1987 605:12:19.12") is None


def test_sgml_without_elements_is_a_failure(tmp_path):
    item = only(read_path(write(tmp_path, "x.sgm", b"<html>nothing here</html>")))
    assert isinstance(item, Failure) and "no <REUTERS> elements" in item.reason


# --- bad input ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,data,reason", [
    ("empty.txt", b"", "empty file"),
    ("blank.html", b"  \n\n ", "empty file"),
    ("binary.txt", bytes(range(256)) * 20, "binary file"),
    ("image.html", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "binary file"),
    ("nav.html", b"<html><body><nav><a href='/'>Home</a></nav></body></html>", "no article text"),
])
def test_bad_files_are_failures_with_reasons(tmp_path, name, data, reason):
    item = only(read_path(write(tmp_path, name, data)))
    assert isinstance(item, Failure) and reason in item.reason and item.path.endswith(name)


def test_vanished_file_and_broken_link(tmp_path):
    link = tmp_path / "dangling.txt"
    link.symlink_to(tmp_path / "nowhere.txt")
    item = only(read_path(link))
    assert isinstance(item, Failure) and item.reason == f"broken link (points to {tmp_path / 'nowhere.txt'})"
    item = only(read_path(tmp_path / "missing.txt"))
    assert isinstance(item, Failure) and item.reason == "no such file or folder"


def test_huge_file_is_refused_without_reading_it(tmp_path, monkeypatch):
    import index.readers as readers
    monkeypatch.setattr(readers, "MAX_FILE_BYTES", 1000)
    item = only(read_path(write(tmp_path, "huge.txt", "word " * 1000)))
    assert isinstance(item, Failure) and "file too large" in item.reason


def test_folder_walk_is_recursive_sorted_and_ignores_other_files(tmp_path):
    write(tmp_path, "b/2.txt", "Second article body here.")
    write(tmp_path, "a/1.txt", "First article body here.")
    write(tmp_path, "a/notes.pdf", b"%PDF-1.4")
    write(tmp_path, ".hidden/x.txt", "Hidden.")
    items = read_path(tmp_path)
    assert [os.path.basename(i.path) for i in items] == ["1.txt", "2.txt"]


def test_filename_dates():
    assert date_from_filename("/x/menafn-2026-01-18-japan.txt") == datetime(2026, 1, 18, tzinfo=timezone.utc)
    assert date_from_filename("20250230-news.txt") is None
    assert date_from_filename("article-123456789.txt") is None
