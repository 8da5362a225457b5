"""The one module that names the index's fields: the schema, Article -> document, stored fields -> Article.

search/ imports field names from here and nothing else of whoosh's schema; nothing else spells a field name, but
for the facets' fields, which their declaration names (`index/facets.py`) and this module reads.
"""
from __future__ import annotations

import json
import unicodedata
from datetime import date, datetime, timezone
from typing import Mapping, Optional

from whoosh import fields

from index import facets
from index.analysis import STEM_LANGUAGES, stem_analyzer, universal_analyzer
from index.model import Article, Country, Person

SCHEMA_VERSION = 2   # 2: ids of articles without an id or URL come from their place in the archive, not the path;
                     # a title_derived field (a headline taken from the first sentence is not weighted as one)

# Field names (constants so a typo is an import error, not an empty result).
ID = "id"
PATH = "path"
URL = "url"
CHECKSUM = "checksum"
TITLE = "title"            # unstemmed, boosted, stored
TITLE_DERIVED = "title_derived"  # "1" when the headline was derived from the body's first sentence (not boosted)
BODY = "body"              # unstemmed, stored, spelling source
KEYWORDS = "keywords"      # the article's own keyword line
PERSON = facets.named("people").field      # canonical person keys (multi-valued facet)
PERSON_NAME = "person_name"  # the display names, tokenised, for person:takaichi in queries
COUNTRY = facets.named("countries").field  # ISO alpha-2 codes of countries the article is about (the facet)
COUNTRY_ANY = "country_any"  # every country mentioned
LANG = facets.named("language").field
SOURCE = facets.named("source").field      # outlet name exactly as written
SOURCE_KEY = "source_key"  # lowercased outlet, for case-insensitive source: queries
DAY = "day"                # whole days since 1970-01-01 (UTC), for filters and the histogram
TS = "ts"                  # seconds since the epoch, for sorting by date
STORY = "story"            # near-duplicate cluster id (syndicated stories)
META = "meta"              # stored JSON: everything else the result pages need

TITLE_BOOST = 2.5
NO_DAY = -10 ** 6          # sentinel for articles without a date (sorts last when newest-first)


def stem_field(lang: str) -> str:
    """The stemmed text field of one language, e.g. `stem_fr`."""
    return f"stem_{lang}"


STEM_FIELDS = {lang: stem_field(lang) for lang in STEM_LANGUAGES}


def _column_number(bits: int) -> fields.NUMERIC:
    """A whole number kept as a per-document column only. The search layer filters, sorts and draws the histogram
    from the columns; Whoosh's 8-16 trie terms per value (for range queries by term) were never read, and a
    timestamp's were mostly unique: a large share of the terms an indexer had to write."""
    field = fields.NUMERIC(numtype=int, bits=bits, signed=True, sortable=True)
    field.indexed = False
    return field


def build_schema() -> fields.Schema:
    """The Whoosh schema of a newsdex index."""
    universal = universal_analyzer()
    spec = {
        ID: fields.ID(stored=True, unique=True),
        PATH: fields.STORED(),      # shown, never looked up
        URL: fields.STORED(),
        CHECKSUM: fields.ID(stored=True),
        TITLE: fields.TEXT(analyzer=universal, stored=True, field_boost=TITLE_BOOST, phrase=True),
        TITLE_DERIVED: fields.ID(),
        BODY: fields.TEXT(analyzer=universal, stored=True, phrase=True, spelling=True),
        KEYWORDS: fields.TEXT(analyzer=universal),
        PERSON_NAME: fields.TEXT(analyzer=universal, phrase=True),
        COUNTRY_ANY: fields.KEYWORD(commas=True, lowercase=False),
        SOURCE_KEY: fields.ID(),
        DAY: _column_number(32),
        TS: _column_number(64),
        STORY: fields.ID(stored=True),
        META: fields.STORED(),
    }
    for facet in facets.declared():   # one term per value: several comma-separated, or one stored
        spec[facet.field] = (fields.KEYWORD(commas=True, lowercase=False) if facet.multi_valued
                             else fields.ID(stored=True))
    for lang, name in STEM_FIELDS.items():
        spec[name] = fields.TEXT(analyzer=stem_analyzer(lang), phrase=True)
    return fields.Schema(**spec)


def person_key(name: str) -> str:
    """The canonical key of a person's name: "Lee Jae-myung" and "Lee Jae Myung" are one person."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("-", " ").replace("‐", " ").replace(".", " ").replace("’", "'")
    return " ".join(text.casefold().split())


def day_number(value: date | datetime | None) -> int:
    """Whole days since 1970-01-01 (UTC) for a date or aware datetime; NO_DAY for none."""
    if value is None:
        return NO_DAY
    if isinstance(value, datetime):
        value = value.astimezone(timezone.utc).date() if value.tzinfo else value.date()
    return value.toordinal() - date(1970, 1, 1).toordinal()


def day_to_date(day: int) -> Optional[date]:
    """The inverse of day_number."""
    if day == NO_DAY:
        return None
    return date.fromordinal(day + date(1970, 1, 1).toordinal())


def document_for(article: Article) -> dict:
    """The Whoosh document of an article."""
    doc = {
        ID: article.id,
        PATH: article.path,
        URL: article.url or "",
        CHECKSUM: article.checksum,
        TITLE: article.title,
        TITLE_DERIVED: "1" if article.title_derived else "",
        BODY: article.body,
        KEYWORDS: "\n".join(article.keywords),
        PERSON_NAME: " \n ".join(p.name for p in article.people),
        COUNTRY_ANY: ",".join(c.code for c in article.countries),
        SOURCE_KEY: (article.source or "").casefold(),
        DAY: day_number(article.published),
        TS: int(article.published.timestamp()) if article.published else -(2 ** 62),
        STORY: article.story_id or article.id,
        META: json.dumps(_meta_of(article), ensure_ascii=False, separators=(",", ":")),
    }
    for facet in facets.declared():
        doc[facet.field] = facets.stored_values(facet, article)
    stem = STEM_FIELDS.get(article.language)
    if stem:
        doc[stem] = f"{article.title}\n\n{article.body}"
    return {k: v for k, v in doc.items() if v != ""}


def _meta_of(article: Article) -> dict:
    return {
        "title_derived": article.title_derived,
        "published": article.published.isoformat() if article.published else None,
        "date_source": article.date_source,
        "via": article.via,
        "keywords": list(article.keywords),
        "people": [p.to_json() for p in article.people],
        "countries": [c.to_json() for c in article.countries],
    }


def article_from_stored(stored: Mapping) -> Article:
    """Rebuild an Article from a document's stored fields (inside a searcher's lifetime)."""
    meta = json.loads(stored.get(META) or "{}")
    published = meta.get("published")
    return Article(
        id=stored[ID],
        path=stored.get(PATH, ""),
        body=stored.get(BODY, ""),
        title=stored.get(TITLE, ""),
        title_derived=bool(meta.get("title_derived")),
        url=stored.get(URL, ""),
        published=datetime.fromisoformat(published) if published else None,
        date_source=meta.get("date_source", "none"),
        source=stored.get(SOURCE, ""),
        via=meta.get("via", ""),
        language=stored.get(LANG, "und"),
        people=tuple(Person(p["name"], p["key"], tuple(map(tuple, p.get("mentions", ()))))
                     for p in meta.get("people", ())),
        countries=tuple(Country(c["code"], c["name"], bool(c.get("about")), tuple(map(tuple, c.get("mentions", ()))))
                        for c in meta.get("countries", ())),
        keywords=tuple(meta.get("keywords", ())),
        checksum=stored.get(CHECKSUM, ""),
        story_id=stored.get(STORY, ""),
    )


def flat_from_stored(stored: Mapping) -> tuple:
    """(id, title, published ISO or None, source, language, people's names, codes of the countries it is about,
    url) from stored fields: what an export row needs, without building the Article (twice as fast)."""
    meta = json.loads(stored.get(META) or "{}")
    return (stored[ID], stored.get(TITLE, ""), meta.get("published"), stored.get(SOURCE, ""), stored.get(LANG, "und"),
            tuple(p["name"] for p in meta.get("people", ())),
            tuple(c["code"] for c in meta.get("countries", ()) if c.get("about")), stored.get(URL, ""))
