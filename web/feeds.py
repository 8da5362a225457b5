"""Atom 1.0 feeds (RFC 4287) of a search's newest articles, and their validators for conditional requests.

A feed changes only when the index does (or the request does): its ETag is a hash of the live index version and
the feed's parameters, its Last-Modified the time that version became live. A reader's conditional request is
answered 304 before anything is searched.
"""
from __future__ import annotations

import hashlib
import html
import re
from datetime import datetime, timezone
from xml.etree import ElementTree as ET

ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_ENTRIES = 50
CONTENT_TYPE = "application/atom+xml; charset=utf-8"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")   # not allowed in XML 1.0
_TAGS = re.compile(r"</?mark>")


def etag(version, params: str, base_url: str) -> str:
    """A strong validator: the index version, the feed's parameters and the site's address it links to."""
    raw = f"{version.generation}\0{version.commit}\0{params}\0{base_url}"
    return hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()[:32]


def xml_text(text: str) -> str:
    """Text XML 1.0 can hold (control characters and lone surrogates dropped)."""
    return _NOT_XML.sub("", text or "")


def atom(*, title: str, feed_url: str, page_url: str, updated: datetime | None, entries, generator: str) -> bytes:
    """The feed document. `entries`: dicts with id_url (the article page), title, published (datetime or
    None), source, summary (text), original (the outlet's link or "")."""
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(_q("feed"))
    when = updated or datetime.now(timezone.utc)
    _add(feed, "id", feed_url)
    _add(feed, "title", title)
    _add(feed, "updated", _iso(when))
    ET.SubElement(feed, _q("link"), rel="self", type="application/atom+xml", href=xml_text(feed_url))
    ET.SubElement(feed, _q("link"), rel="alternate", type="text/html", href=xml_text(page_url))
    _add(ET.SubElement(feed, _q("author")), "name", generator)
    _add(feed, "generator", generator)
    for e in entries:
        entry = ET.SubElement(feed, _q("entry"))
        _add(entry, "id", e["id_url"])
        _add(entry, "title", e["title"] or "(untitled)")
        ET.SubElement(entry, _q("link"), rel="alternate", type="text/html", href=xml_text(e["id_url"]))
        if e.get("original"):
            ET.SubElement(entry, _q("link"), rel="related", type="text/html", href=xml_text(e["original"]))
        published = e.get("published")
        if published is not None:
            _add(entry, "published", _iso(published))
        _add(entry, "updated", _iso(published or when))
        if e.get("source"):
            _add(ET.SubElement(entry, _q("author")), "name", e["source"])
        _add(entry, "summary", e.get("summary", ""), type="text")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8", xml_declaration=False)


def summary_text(snippet_html: str) -> str:
    """A hit's snippet (escaped HTML with <mark>) as plain text."""
    return html.unescape(_TAGS.sub("", snippet_html or ""))


def _q(tag: str) -> str:
    return f"{{{ATOM_NS}}}{tag}"


def _add(parent, tag: str, text: str, **attrs) -> ET.Element:
    el = ET.SubElement(parent, _q(tag), **attrs)
    el.text = xml_text(text)
    return el


def _iso(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
