"""The article page's text: the plain body sliced at the people/country mention spans into paragraphs of segments.

No HTML is built here: segments are plain strings the template escapes, so nothing in an article can become markup.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")


@dataclass(frozen=True)
class Segment:
    """A run of body text; `kind` is "person" or "country" for a mention, None for plain text."""

    text: str
    kind: Optional[str] = None
    label: str = ""       # the canonical name the mention stands for
    value: str = ""       # what the search filter takes (person name, country code)


def mention_spans(article) -> list[tuple[int, int, str, str, str]]:
    """(start, end, kind, label, value) of every valid mention, sorted, without overlaps (the longer one wins)."""
    n = len(article.body)
    spans = []
    for person in article.people:
        for start, end in person.mentions:
            spans.append((start, end, "person", person.name, person.name))
    for country in article.countries:
        for start, end in country.mentions:
            spans.append((start, end, "country", country.name, country.code))
    spans = [s for s in spans if isinstance(s[0], int) and isinstance(s[1], int) and 0 <= s[0] < s[1] <= n]
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    out, last_end = [], 0
    for span in spans:
        if span[0] >= last_end:
            out.append(span)
            last_end = span[1]
    return out


def marked_paragraphs(article) -> list[list[Segment]]:
    """The body as paragraphs (split at blank lines) of plain and mention segments."""
    body = article.body
    segments: list[Segment] = []
    pos = 0
    for start, end, kind, label, value in mention_spans(article):
        if start > pos:
            segments.append(Segment(body[pos:start]))
        segments.append(Segment(body[start:end], kind, label, value))
        pos = end
    if pos < len(body):
        segments.append(Segment(body[pos:]))
    paragraphs: list[list[Segment]] = [[]]
    for seg in segments:
        if seg.kind is not None:
            paragraphs[-1].append(seg)
            continue
        pieces = _PARAGRAPH_BREAK.split(seg.text)
        for i, piece in enumerate(pieces):
            if i:
                paragraphs.append([])
            if piece:
                paragraphs[-1].append(Segment(piece))
    return [p for p in (_strip(p) for p in paragraphs) if p]


def _strip(paragraph: list[Segment]) -> list[Segment]:
    """Trim whitespace at the paragraph's edges (plain segments only)."""
    if paragraph and paragraph[0].kind is None:
        paragraph[0] = Segment(paragraph[0].text.lstrip())
    if paragraph and paragraph[-1].kind is None:
        paragraph[-1] = Segment(paragraph[-1].text.rstrip())
    return [s for s in paragraph if s.text]
