"""Plain data that flows through the indexer: file -> RawArticle -> Article -> Whoosh document."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

Span = tuple[int, int]


@dataclass(frozen=True)
class Person:
    """A person an article mentions: display name, canonical key, spans of every mention in the body."""

    name: str
    key: str
    mentions: tuple[Span, ...] = ()

    def to_json(self) -> dict:
        return {"name": self.name, "key": self.key, "mentions": [list(m) for m in self.mentions]}


@dataclass(frozen=True)
class Country:
    """A country an article mentions; `about` marks the ones the article is about (the facet uses those)."""

    code: str
    name: str
    about: bool
    mentions: tuple[Span, ...] = ()

    def to_json(self) -> dict:
        return {"code": self.code, "name": self.name, "about": self.about,
                "mentions": [list(m) for m in self.mentions]}


@dataclass(frozen=True)
class RawArticle:
    """What a reader found in a file, before enrichment (language, entities)."""

    path: str
    body: str
    title: str = ""
    title_source: str = "none"       # og:title, h1, title, json, sgml, derived, none
    url: str = ""
    published: Optional[datetime] = None   # timezone-aware UTC
    date_source: str = "none"        # dateline, meta, json-ld, time, url, json, sgml, filename, none
    source: str = ""                 # the outlet, e.g. "Gulf Times"
    via: str = ""                    # the aggregator, e.g. "MENAFN"
    language: str = ""               # a language the file declares (trusted only if detection agrees)
    keywords: tuple[str, ...] = ()
    record_id: str = ""              # an id the record itself carries (JSON Lines `id`, Reuters NEWID)
    key: str = ""                    # the file's place inside its archive, e.g. "2026-11/x.txt" (index.locations)
    position: str = ""               # where in a multi-article file (line number, NEWID)
    checksum: str = ""               # of the bytes this article came from
    note: str = ""                   # a problem met while reading it anyway (e.g. not valid UTF-8)

    @property
    def title_derived(self) -> bool:
        return self.title_source == "derived"


@dataclass(frozen=True)
class Article:
    """An article exactly as it is indexed."""

    id: str
    path: str
    body: str
    title: str = ""
    title_derived: bool = False
    url: str = ""
    published: Optional[datetime] = None
    date_source: str = "none"
    source: str = ""
    via: str = ""
    language: str = "und"
    people: tuple[Person, ...] = ()
    countries: tuple[Country, ...] = ()
    keywords: tuple[str, ...] = ()
    checksum: str = ""
    story_id: str = ""

    def to_json(self) -> dict:
        """The shape `newsdex inspect --json` prints."""
        return {
            "id": self.id, "path": self.path, "url": self.url, "title": self.title,
            "title_derived": self.title_derived, "body": self.body,
            "published": self.published.isoformat() if self.published else None,
            "date_source": self.date_source, "source": self.source, "via": self.via,
            "language": self.language,
            "people": [p.to_json() for p in self.people],
            "countries": [c.to_json() for c in self.countries],
            "keywords": list(self.keywords), "checksum": self.checksum,
        }


@dataclass
class Failure:
    """A file (or a record in one) that could not be read, and why."""

    path: str
    reason: str
    position: str = ""

    def __str__(self) -> str:
        where = f"{self.path}:{self.position}" if self.position else self.path
        return f"{where}: {self.reason}"


def checksum_of(data: bytes | str) -> str:
    """Content checksum used for incremental updates (sha1 is plenty: this is not a security boundary)."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    return hashlib.sha1(data).hexdigest()


_URL_ID_TRIM = re.compile(r"^https?://(www\.)?|[?#].*$|/+$", re.I)


def article_id(raw: RawArticle) -> str:
    """A stable id: the record's own id, else one from the URL, else from the file's key (its place inside the
    archive, not the archive's location) + position.

    Content is deliberately left out, so an edited file keeps its id and `newsdex add` replaces it."""
    if raw.record_id:
        return raw.record_id
    if raw.url:
        return "u" + checksum_of(_URL_ID_TRIM.sub("", raw.url.strip()).lower())[:16]
    return key_id(raw.key or raw.path, raw.position)


def key_id(key: str, position: str = "") -> str:
    """The id of an article known only by where it sits in its archive."""
    return "p" + checksum_of(f"{key}\0{position}")[:16]


@dataclass
class IndexReport:
    """The summary of an indexing run."""

    indexed: int = 0
    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    deleted: int = 0
    skipped: list[Failure] = field(default_factory=list)   # left out on purpose, no article lost (a warning)
    failed: list[Failure] = field(default_factory=list)    # could not be read, or rejected (duplicate id)
    notes: list[Failure] = field(default_factory=list)     # indexed, but with a problem (e.g. not valid UTF-8)
    ignored: list[Failure] = field(default_factory=list)   # files in a folder that are not article files
    recovered: list[str] = field(default_factory=list)     # leftovers of an interrupted run that were cleaned up
    stories: dict = field(default_factory=dict)            # {"articles", "stories", "duplicates"} after the run
    merges: list = field(default_factory=list)             # (documents, segments) of each merge after an add
    segments: int = 0                                      # segments of the index after the run
    seconds: float = 0.0
    index_dir: str = ""
    stage_seconds: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every input was indexed (or unchanged) without a problem."""
        return not self.failed and not self.skipped and not self.notes
