"""Main-text and metadata extraction from news HTML pages, built on BeautifulSoup (placeholder version)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from bs4 import BeautifulSoup


@dataclass(frozen=True)
class HtmlExtract:
    """What a page yields: clean body (paragraphs separated by blank lines) and metadata with where each came from."""

    body: str
    title: str = ""
    title_source: str = "none"      # og:title, h1, title, json-ld, none
    published: Optional[datetime] = None   # timezone-aware, UTC
    date_source: str = "none"       # meta, json-ld, time, url, none
    source: str = ""                # outlet (og:site_name, JSON-LD publisher)
    url: str = ""                   # canonical URL
    url_source: str = "none"        # canonical, og:url, none
    language: str = ""              # <html lang>, og:locale, meta content-language


def extract_html(data: bytes | str, url: str = "") -> HtmlExtract:
    """Extract the article from one HTML page (bytes are decoded by the page's declared charset)."""
    soup = BeautifulSoup(data, "lxml")
    for tag in soup(["script", "style", "nav", "header", "footer", "aside", "form", "noscript"]):
        tag.decompose()
    paras = [" ".join(p.get_text(" ").split()) for p in soup.find_all("p")]
    title = soup.title.get_text(" ").strip() if soup.title else ""
    return HtmlExtract(body="\n\n".join(p for p in paras if p), title=title,
                       title_source="title" if title else "none", url=url)
