"""Atom feeds (/feed.atom): read by feedparser, conditional requests, and new articles after `newsdex add`."""
from __future__ import annotations

import json
import time
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import feedparser
import pytest
from bs4 import BeautifulSoup

from index.builder import build_index
from web.app import create_app


def record(i: int, **over) -> dict:
    rec = {"id": f"f{i}", "url": f"https://news.example/f{i}", "title": f"Harbour crane {i} repaired",
           "text": f"Workers at the harbour repaired crane number {i} on a {'calm' if i % 2 else 'windy'} morning. "
                   "The port authority said the work went well.",
           "date": f"{date(2025, 6, 1) + timedelta(days=i)}T08:00:00Z", "source": "Harbour Post" if i % 2 else "Gulf Times",
           "language": "en"}
    rec.update(over)
    return rec


def write_jsonl(path, records) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


@pytest.fixture()
def site(tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    records = [record(i) for i in range(60)]
    records.append(record(99, title="Ctrl\x0b chars & <tags> in a title", date=None, id="odd"))
    write_jsonl(archive / "feed.jsonl", records)
    root = tmp_path / "index"
    build_index([archive], root, workers=1)
    app = create_app({"INDEX_ROOT": str(root)})
    return app, archive, root


def test_feedparser_reads_the_newest_50(site):
    app, _, _ = site
    response = app.test_client().get("/feed.atom?q=harbour")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "newsdex: \u201charbour\u201d"
    assert len(feed.entries) == 50
    first = feed.entries[0]
    assert first.title == "Harbour crane 59 repaired"
    assert first.link == "http://localhost/article/f59" and first.id == first.link
    assert first.published == "2025-07-30T08:00:00Z"
    assert first.author == "Harbour Post"
    assert first.summary.startswith("Workers at the harbour repaired crane number 59")
    dates = [e.published_parsed for e in feed.entries]
    assert dates == sorted(dates, reverse=True)
    assert feed.feed.links[0].rel == "self" or any(link.rel == "self" for link in feed.feed.links)


def test_filters_narrow_the_feed_and_odd_text_stays_well_formed(site):
    app, _, _ = site
    feed = feedparser.parse(app.test_client().get("/feed.atom?source=Gulf+Times&from=2025-06-10&to=2025-06-20").data)
    assert not feed.bozo
    assert [(e.title, e.author) for e in feed.entries] == [(f"Harbour crane {i} repaired", "Gulf Times")
                                                           for i in (18, 16, 14, 12, 10)]
    assert "Gulf Times" in feed.feed.title
    odd = feedparser.parse(app.test_client().get("/feed.atom?q=ctrl").data)
    assert not odd.bozo
    assert odd.entries[0].title == "Ctrl chars & <tags> in a title"
    assert "updated" in odd.entries[0]   # an undated article is dated by the index


def test_conditional_requests_get_304(site):
    app, _, _ = site
    client = app.test_client()
    response = client.get("/feed.atom?q=harbour")
    etag, modified = response.headers["ETag"], response.headers["Last-Modified"]
    assert etag.startswith('"') and modified.endswith("GMT")
    assert response.headers["Cache-Control"] == "no-cache"
    again = client.get("/feed.atom?q=harbour", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert client.get("/feed.atom?q=harbour", headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get("/feed.atom?q=crane", headers={"If-None-Match": etag}).status_code == 200   # another search
    assert client.get("/feed.atom?q=harbour", headers={"If-None-Match": '"other"'}).status_code == 200


def test_a_subscribed_reader_sees_new_articles_after_add(site):
    app, archive, root = site
    client = app.test_client()
    before = client.get("/feed.atom?q=harbour")
    etag = before.headers["ETag"]
    time.sleep(1.1)   # Last-Modified counts whole seconds
    write_jsonl(archive / "new.jsonl", [record(200, date="2025-08-01T09:00:00Z", title="Harbour reopens")])
    build_index([archive / "new.jsonl"], root, mode="add", workers=1)
    after = client.get("/feed.atom?q=harbour", headers={"If-None-Match": etag,
                                                        "If-Modified-Since": before.headers["Last-Modified"]})
    assert after.status_code == 200 and after.headers["ETag"] != etag
    feed = feedparser.parse(after.data)
    assert feed.entries[0].title == "Harbour reopens"
    assert client.get("/feed.atom?q=harbour", headers={"If-None-Match": after.headers["ETag"]}).status_code == 304


def test_pages_advertise_their_feed(site):
    app, _, _ = site
    soup = BeautifulSoup(app.test_client().get("/?q=harbour&sort=oldest&page=2").get_data(as_text=True), "lxml")
    link = soup.select_one('head link[rel=alternate][type="application/atom+xml"]')
    assert urlsplit(link["href"]).path == "/feed.atom"
    assert parse_qs(urlsplit(link["href"]).query) == {"q": ["harbour"]}   # newest first, whatever the page shows
    assert soup.select_one(".outlets a.feed")["href"] == link["href"]
    assert client_status(app, "/feed.atom?q=(harbour") == 400


def client_status(app, url: str) -> int:
    return app.test_client().get(url).status_code
