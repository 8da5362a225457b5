"""Readable names for codes the index stores: languages, countries, where a date came from."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from search import country_name  # noqa: F401  (`JP` -> Japan: the countries facet's names, one function for both)
from search import language_name as search_language_name

DATE_SOURCES = {
    "dateline": "the dateline at the start of the text",
    "meta": "the page's metadata",
    "json-ld": "the page's structured data (JSON-LD)",
    "time": "a <time> element in the page",
    "url": "the article's web address",
    "json": "the record's date field",
    "sgml": "the Reuters record's DATE field",
    "filename": "the file name",
}


def language_name(code: str) -> str:
    """`fr` -> French, `zh-tw` -> Chinese (Traditional): the names the language facet shows."""
    return search_language_name((code or "").strip().lower() or "und")


def date_source_text(source: str) -> str:
    """Where a publication date was found, as a phrase."""
    return DATE_SOURCES.get(source or "none", "")


def parse_iso(value) -> Optional[datetime | date]:
    """An ISO 8601 string (or a date) as a date/datetime, None when unreadable (the one parser of dates the search
    layer hands over as text)."""
    if value is None or isinstance(value, (date, datetime)):
        return value
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            return None


def human_date(value, with_time: bool = False) -> str:
    """`2026-01-18T09:30:00+00:00` -> 18 Jan 2026 (UTC)."""
    parsed = parse_iso(value)
    if parsed is None:
        return ""
    text = f"{parsed.day} {parsed.strftime('%b %Y')}"
    if with_time and isinstance(parsed, datetime) and (parsed.hour or parsed.minute):
        text += f", {parsed.strftime('%H:%M')} UTC"
    return text
