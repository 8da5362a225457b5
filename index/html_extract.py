"""Main-text and metadata extraction from news HTML pages, built on BeautifulSoup (lxml parser).

How the body is found (general heuristics, no per-site rules):
1. Bytes are decoded by the declared charset (BOM, <meta charset>, http-equiv, XML declaration), falling back to
   UTF-8 then cp1252; gzip bytes are inflated first. Scripts, styles, comments, SVG and elements that are never
   article text (nav, footer, aside, figure, forms controls...) are cut with a regex before parsing: building the
   BeautifulSoup tree is most of the cost, and every element cut is one object fewer.
2. A walk gives every block element its own text length and link-text length. A block with enough unlinked text
   is prose (+chars); link-heavy or short blocks cost a little. Each element scores the sum over its subtree;
   prose inside containers that publishing systems name as the article text (article-body, entry-content,
   itemprop=articleBody...) counts double.
3. Boilerplate is skipped by tag, hidden state, ARIA role, an <article> nested in an article (comments, teaser
   cards), and class/id words (share, related, comments, cookie, newsletter, ads; sidebar, header, menu...). A
   first walk measures the prose under every element, so that a class match on a wrapper that holds most of the
   page's prose ("has-sidebar") does not throw the article away; if everything still looks like boilerplate, the
   page is judged by tags alone.
4. The best-scoring element is the article; a JSON-LD articleBody that it (or a close candidate) contains
   refines the choice; inside it, article-text containers that hold most of the prose narrow it further. Its
   blocks are emitted as paragraphs; the headline (it is the title), link lists and the labels heading them,
   kickers, bylines, datelines, calls to action and copyright lines are dropped.
"""
from __future__ import annotations

import codecs
import gzip
import json
import re
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Optional
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, NavigableString, Tag


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
    url_source: str = "none"        # canonical, og:url, argument (the caller's url), none
    language: str = ""              # <html lang>, og:locale, meta content-language


# ---------------------------------------------------------------------------------------------------------------
# decoding

_META_CHARSET = re.compile(rb"""<meta[^>]{0,300}?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]{0,100}encoding\s*=\s*["']([A-Za-z0-9._:-]+)""", re.I)
# WHATWG: pages labelled latin-1 or ascii are decoded as windows-1252 by every browser.
_CHARSET_ALIASES = {"latin1": "cp1252", "iso8859-1": "cp1252", "ascii": "cp1252", "us-ascii": "cp1252",
                    "iso-8859-1": "cp1252", "x-user-defined": "cp1252", "utf-16": "utf-8", "utf-16le": "utf-8",
                    "utf-16be": "utf-8"}   # a page that says utf-16 in its own bytes is ASCII-compatible


def _inflate(data: bytes) -> bytes:
    """Gzip-decompress, keeping whatever a truncated stream yields."""
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error):
        try:
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data)
        except zlib.error:
            return data


def _declared_charset(data: bytes) -> Optional[str]:
    """The codec a page declares for itself in its first 4 KB, normalised, or None."""
    head = data[:4096]
    m = _XML_ENCODING.match(head) or _META_CHARSET.search(head)
    if not m:
        return None
    label = m.group(1).decode("ascii", "ignore").strip().lower()
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _CHARSET_ALIASES.get(name, _CHARSET_ALIASES.get(label, name))


# NUL and lone surrogates (the parser refuses them) and other control characters (never text) go; the separator
# controls that Python counts as whitespace become spaces, so that words stay apart. One scan: they are rare.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ud800-\udfff]")
_SEPARATORS = frozenset("\x0b\x1c\x1d\x1e\x1f")


def _control(match: re.Match) -> str:
    return " " if match.group() in _SEPARATORS else ""


def decode_html(data: bytes | str) -> str:
    """Text of an HTML page: BOM, then declared charset, then UTF-8, then cp1252; never raises."""
    return _CONTROL.sub(_control, data if isinstance(data, str) else _decode(data))


def _decode(data: bytes) -> str:
    if data[:2] == b"\x1f\x8b":
        data = _inflate(data)
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                       (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(codec, "replace")
    declared = _declared_charset(data)
    for codec in (declared, "utf-8"):
        if codec:
            try:
                return data.decode(codec)
            except (UnicodeDecodeError, LookupError):
                pass
    return data.decode(declared or "cp1252", "replace")


# ---------------------------------------------------------------------------------------------------------------
# main text

# Cut before parsing: never text (raw-text elements run to the end of the page when unclosed, as in browsers),
# and elements the walk always skips (unrolled loops, so a page of unclosed tags stays linear). Parsing is most
# of the cost and each element cut is one BeautifulSoup object fewer.
_RAW = "script|style|noscript|template|iframe|textarea"
_SKIPPED = "svg|nav|footer|aside|figure|select|picture|video|audio|object|button|math|canvas|map"
_NOT_TEXT = re.compile(r"<!--(?:.*?-->|.*\Z)|<(" + _RAW + r")(?=[\s>/])(?:.*?</\1\s*>|.*\Z)"
                       r"|<(" + _SKIPPED + r")(?=[\s>/])[^<]*(?:<(?!/?\2[\s>/])[^<]*)*</\2\s*>",
                       re.S | re.I)
# Whitespace between a tag and a following block-level tag is never text (the block breaks the line anyway), but
# each run would be one more BeautifulSoup string object.
_BLOCK_GAP = re.compile(r"(?<=>)\s+(?=</?(?:div|p|li|ul|ol|dl|dt|dd|section|article|header|main|h[1-6]|table"
                        r"|tbody|thead|tfoot|tr|td|th|blockquote|form|html|head|body|meta|link|title|br|hr)[\s/>])",
                        re.I)
_JSONLD = re.compile(r"""<script[^>]*type\s*=\s*["']?application/ld\+json["']?[^>]*>(.*?)</script\s*>""",
                     re.S | re.I)

_SKIP_TAGS = frozenset("""nav aside footer button input select option textarea label menu menuitem dialog
    figure figcaption picture img video audio object embed canvas map area head title meta link base fieldset
    legend datalist output progress meter math frameset frame iframe noscript script style svg template""".split())
_INLINE = frozenset("""a abbr acronym b bdi bdo big cite code data del dfn em font i ins kbd mark nobr q rp rt
    ruby s samp small span strike strong sub sup time tt u var wbr""".split())
_HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())
# Boilerplate class/id tokens (matched on whole tokens of class + id, split at -, _ and spaces). Layout words
# (sidebar, header, rail...) also name page wrappers ("has-sidebar"), so any class match is overruled when the
# element holds most of the page's prose; the strong ones need nearly all of it.
_STRONG_JUNK = r"""comment\w*|disqus|replies|respond|cookie\w*|consent|gdpr|newsletter\w*|share\w*|sharing|social\w*
    |sociable|addthis|related\w*|recommend\w*|outbrain|taboola|sponsor\w*|promo\w*|ad|ads|adv|advert\w*|dfp|gpt
    |subscri\w*|signup|breadcrumbs?|popup|modal|byline\w*|author\w*|caption\w*|footer\w*"""
_WEAK_JUNK = r"""banner|trending|popular|most|sidebar\w*|rail|widget\w*|nav|navbar|navigation|menu\w*
    |masthead|header|pagination|pager|toolbar|tools|tags?|tagged|topics|bio|credits?|print|overlay|hidden
    |visually|sr|screen|skip|jump|read|more|next|prev|previous|follow|login|signin|register|meta|timestamp
    |dateline|date|published|updated|video|gallery|slideshow|carousel|embed\w*|teaser|cta|alert
    |notice|rating|vote|feedback|survey|donate|lightbox"""
_JUNK = re.compile(r"(?:^|[\s_-])(?:" + _STRONG_JUNK + "|" + _WEAK_JUNK + r")(?=$|[\s_-])", re.X)
_STRONG = re.compile(r"(?:^|[\s_-])(?:" + _STRONG_JUNK + r")(?=$|[\s_-])", re.X)
# ... unless the same class/id also says it is the article.
_KEEP = re.compile(r"""(?:^|[\s_-])(?:article|articles?body|story|storybody|content|entry|post|main|body|text
    |prose|richtext)(?:[\s_-]|$)""", re.X)
# Class/id names that publishing systems give the article's own text: prose inside counts double.
_BODY = re.compile(r"""(?:^|[\s_-])(?:article|story|entry|post|blog|news|main|body|rich)[\s_-]?
    (?:body|content|text|copy)(?=$|[\s_-])""", re.X)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_SPACES = re.compile(r"\s+")

_MIN_GOOD = 60        # chars of unlinked text that make a block a paragraph
_MIN_GOOD_CJK = 25    # Chinese and Japanese say as much in far fewer characters
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")   # kana and han: no spaces between words
_MAX_LINK = 0.35      # link share above which a block is navigation


_MAX_CHARS = 5_000_000   # of markup parsed, after scripts and styles are cut: a bigger page is not an article


def _parseable(raw: str) -> str:
    """The page with what is never text cut out, ready for the parser."""
    return _BLOCK_GAP.sub("", _NOT_TEXT.sub(" ", raw)[:_MAX_CHARS])


def _names(tag: Tag) -> str:
    """Class and id of an element, camelCase split, lower-cased ("ArticleBody-x" -> "article body-x")."""
    attrs = tag.attrs
    names = " ".join(v if isinstance(v, str) else " ".join(v) for k, v in attrs.items() if k in ("class", "id"))
    if not names or names.islower():
        return names
    return _CAMEL.sub(" ", names).lower()


def _is_body(tag: Tag) -> bool:
    """Whether an element's class/id/itemprop marks it as the article's text container."""
    attrs = tag.attrs
    if not attrs:
        return False
    if attrs.get("itemprop") == "articleBody":
        return True
    names = _names(tag)
    return bool(names) and bool(_BODY.search(names))


_HARD, _STRONG_CLASS, _WEAK_CLASS = 1, 2, 3
_GUARD = {_STRONG_CLASS: 0.95, _WEAK_CLASS: 0.8}   # share of the page's prose that overrules a class match


def _junk(tag: Tag) -> int:
    """0, or how an element looks like boilerplate: by tag / hidden state / role (hard), or by class/id."""
    name = tag.name
    if name in _SKIP_TAGS:
        return _HARD
    attrs = tag.attrs
    if name in ("form", "header"):      # ASP.NET pages wrap everything in a form; some articles in a header
        return _WEAK_CLASS
    if name == "article" and tag.find_parent("article") is not None:
        return _STRONG_CLASS            # an article inside an article: a comment or a teaser card
    if not attrs:
        return 0
    # hidden or ARIA-marked furniture: as sure as a class word (a page that hides its whole article until a
    # script runs still yields it: the guard keeps an element that holds nearly all the prose)
    if "hidden" in attrs or attrs.get("aria-hidden") == "true":
        return _STRONG_CLASS
    style = attrs.get("style")
    if style and _HIDDEN_STYLE.search(style):
        return _STRONG_CLASS
    if attrs.get("role") in ("navigation", "complementary", "contentinfo", "dialog", "alert"):
        return _STRONG_CLASS
    names = _names(tag)
    if not names or name in ("html", "body", "main"):
        return 0
    if not _JUNK.search(names):
        return 0
    if _STRONG.search(names):     # "entry-content share-enabled" may be the article: judge it as a layout word
        return _WEAK_CLASS if _BODY.search(names) else _STRONG_CLASS
    return 0 if _KEEP.search(names) else _WEAK_CLASS


class _Page:
    """Per-element statistics of a walk: direct text of each block, subtree score, blocks in document order.

    A first walk skips only hard boilerplate and measures the prose (good text) under every element; the second
    also skips class-matched elements unless they hold most of the page's prose (then they are wrappers)."""

    def __init__(self, root: Tag, min_good: int = _MIN_GOOD, classes: bool = True):
        self.min_good = min_good
        self.level: dict[int, int] = {}      # id(element) -> _junk() result, computed once
        self.good: dict[int, float] = {}
        self.body: set[int] = set()          # elements whose class/id/itemprop names the article text
        self._reset()
        self.classes = False
        self._walk(root, root, False, False)
        total = self.good.get(id(root), 0.0) or sum(v for k, v in self.good.items())
        self.total = max(total, 1.0)
        self.wrappers: set[int] = set()      # the first walk's best element and its ancestors
        if not classes:                      # lenient: only tags mark boilerplate
            return
        best = max(self.elements, key=lambda e: self.score[id(e)], default=None)
        while isinstance(best, Tag):
            self.wrappers.add(id(best))
            best = best.parent
        self._reset()
        self.classes = True
        self._walk(root, root, False, False)

    def _reset(self):
        self.direct: dict[int, list] = {}    # id(block) -> [text chars, link chars]
        self.score: dict[int, float] = {}    # id(element) -> sum of block values in its subtree
        self.elements: list[Tag] = []
        self.prose: dict[int, float] = {}    # id(element) -> good text in its subtree

    def _skip(self, tag: Tag) -> bool:
        key = id(tag)
        level = self.level.get(key)
        if level is None:
            level = self.level[key] = _junk(tag)
            if not level and tag.attrs and _is_body(tag):
                self.body.add(key)
        if not level:
            return False
        if level == _HARD:
            return True
        if not self.classes or (level == _WEAK_CLASS and key in self.wrappers):
            return False
        return self.good.get(key, 0.0) < _GUARD[level] * self.total

    def _walk(self, el: Tag, block: Tag, in_link: bool, boost: bool) -> tuple[float, float]:
        """Accumulate text into `block`; returns (summed value, good text) of the blocks that start below `el`."""
        counts = self.direct.setdefault(id(block), [0, 0])
        total = good = 0.0
        for child in el.contents:
            if type(child) is NavigableString:
                n = len(child.strip())
                if n:
                    counts[0] += n
                    if in_link:
                        counts[1] += n
            elif isinstance(child, Tag):
                if self._skip(child):
                    continue
                name = child.name
                if name in _INLINE:
                    s, g = self._walk(child, block, in_link or name == "a", boost)
                else:
                    b = boost or id(child) in self.body
                    s, g = self._walk(child, child, in_link, b)   # a block inside a link is link text
                    v = self._value(child)
                    g += max(v, 0.0)
                    s += 2.0 * v if b and v > 0 else v
                    self.score[id(child)] = s
                    self.elements.append(child)
                    self.prose[id(child)] = g
                    if not self.classes:
                        self.good[id(child)] = g
                total += s
                good += g
        if el is block and not self.classes:
            self.good.setdefault(id(el), good)
        return total, good

    def _value(self, block: Tag) -> float:
        text, link = self.direct.get(id(block), (0, 0))
        if not text:
            return 0.0
        if text - link >= self.min_good and link <= _MAX_LINK * text:
            return text - link
        if block.name in _HEADINGS and not link:
            return 0.0
        return -(link + 0.25 * (text - link))


_WORD = re.compile(r"\w+")


def _bigrams(text: str) -> list[str]:
    words = _WORD.findall(text.lower())
    return [a + " " + b for a, b in zip(words, words[1:])]


def _choose(page: _Page, article_body: str, root: Tag) -> Optional[Tag]:
    """The element that holds the article: the best-scoring subtree, or the one closest to JSON-LD articleBody.

    articleBody is often a truncated teaser (the first 500 characters), so only an element that contains nearly
    all of it may be chosen, and one much weaker than the best only when articleBody is long enough to be whole.
    Closeness is measured on word pairs, block by block, in one pass over the page."""
    if not page.elements:
        return None
    ranked = sorted(page.elements, key=lambda e: page.score[id(e)], reverse=True)
    best = ranked[0]
    if page.score[id(best)] <= 0:
        return None
    target = set(_bigrams(article_body))
    if len(article_body) < 200 or not target:
        return best
    size = len(_bigrams(article_body))
    floor = 0.0 if len(article_body) >= 1000 else 0.5 * page.score[id(best)]
    candidates = ranked[:10] + [e for e in page.elements if id(e) in page.body]
    parent = best.parent
    while isinstance(parent, Tag) and parent.name not in ("html", "[document]"):
        candidates.append(parent)
        parent = parent.parent
    blocks = []                              # (matched pairs, all pairs, ids of the block and its ancestors)
    for text, block in _block_pairs(root, page):
        pairs = _bigrams(text)
        chain, el = set(), block
        while isinstance(el, Tag):
            chain.add(id(el))
            el = el.parent
        blocks.append((sum(1 for p in pairs if p in target), len(pairs), chain))
    choice, choice_f1, seen = best, -1.0, set()
    for c in candidates:
        key = id(c)
        if key in seen or page.score.get(key, 0.0) < floor:
            continue
        seen.add(key)
        matched = sum(m for m, _, chain in blocks if key in chain)
        total = sum(n for _, n, chain in blocks if key in chain)
        if not matched or matched < 0.9 * size:
            continue
        precision, recall = matched / total, min(1.0, matched / size)
        f1 = 2 * precision * recall / (precision + recall)
        if f1 > choice_f1:
            choice, choice_f1 = c, f1
    return choice


def _narrow(page: _Page, best: Tag) -> Tag:
    """Inside the chosen element, the article-text containers (class/id/itemprop), when they hold most of its
    prose: teaser lists and excerpts beside the article then stay out."""
    marked = []
    for el in page.elements:
        if id(el) not in page.body or page.prose.get(id(el), 0.0) <= 0:
            continue
        chain, parent, inside = [], el.parent, False
        while isinstance(parent, Tag):
            if parent is best:
                inside = True
                break
            chain.append(parent)
            parent = parent.parent
        if (inside or el is best) and not any(id(p) in page.body for p in chain):
            marked.append((el, chain))
    if not marked or sum(page.prose[id(e)] for e, _ in marked) < 0.6 * page.prose.get(id(best), 0.0):
        return best
    common = [marked[0][0]] + marked[0][1] + [best]    # the first one's ancestors up to best, innermost first
    for el, chain in marked[1:]:
        ancestors = {id(el)} | {id(p) for p in chain} | {id(best)}
        common = [c for c in common if id(c) in ancestors]
    return common[0]


def _label(text: str) -> bool:
    """A short line that is not a sentence: a heading or a widget label ("More stories", "Filed under:")."""
    return len(text) < 50 and not text.endswith((".", "!", "?", '"', "”", "»", "。", ")"))


def _blocks(root: Tag, page: _Page) -> list[str]:
    """Paragraph texts under `root` in document order; link lists, the labels that head them, furniture lines
    and the headline left out."""
    return [text for text, _ in _block_pairs(root, page)]


def _block_pairs(root: Tag, page: _Page) -> list[tuple[str, Tag]]:
    """(text, block element) of each paragraph under `root`, as _blocks keeps them."""
    out: list[tuple[str, Tag]] = []
    parts: list[str] = []
    stats = page.direct

    def flush(block: Tag):
        text = _SPACES.sub(" ", "".join(parts)).strip()
        parts.clear()
        if not text or block.name == "h1":           # the headline is the title, not body
            return
        n, link = stats.get(id(block), (0, 0))
        # a link list, and the label just above it (a sentence in a <p> may link most of its words)
        prose = block.name == "p" and text.endswith((".", "!", "?", '"', "”", "»", "。"))
        if n and link > (0.8 if prose else 0.5) * n:
            if out and _label(out[-1][0]):
                out.pop()
            return
        if len(text) < 160 and _boilerplate_line(text):
            return
        out.append((text, block))

    def walk(el: Tag, block: Tag):
        for child in el.contents:
            if type(child) is NavigableString:
                parts.append(child)
            elif isinstance(child, Tag):
                name = child.name
                if name == "br":
                    parts.append("\n")
                    continue
                if page._skip(child):
                    continue
                if name in _INLINE:
                    walk(child, block)
                else:
                    flush(block)
                    walk(child, child)
                    flush(child)

    walk(root, root)
    flush(root)
    while len(out) > 1 and _label(out[-1][0]) and len(out[-1][0]) < 30:   # trailing labels of left-out widgets
        out.pop()
    while len(out) > 1 and _label(out[0][0]) and len(out[0][0]) < 30:     # leading kickers ("World", "Interview")
        out.pop(0)
    return out


# Labels and furniture that start a short line.
_LABELS = ("advertisement", "advert", "ad", "sponsored", "share", "share this", "tweet", "email", "print",
           "read more", "continue reading", "see also", "related", "related articles", "more from",
           "subscribe", "follow us", "comment", "comments", "loading", "photo", "image", "source",
           "credit", "getty images", "ap photo", "text size", "you may also like", "you might also like",
           "recommended", "more stories", "most read", "most popular", "trending", "don't miss", "highlights",
           "anzeige", "werbung", "publicidad", "publicité", "pubblicità", "publicidade", "реклама", "iklan", "広告",
           "광고")
_BOILERPLATE_LINE = re.compile(r"^(?:" + "|".join(map(re.escape, _LABELS)) + r")\b", re.I)
# calls to action and legal lines: never article text, whatever their length
_CTA_LINE = re.compile(r"^copyright\b|©|\ball rights reserved\b|^(?:sign up|subscribe)\b.*\bnewsletter\b"
                       r"|^subscribe to\b|^get \w+(?: \w+){0,4} delivered", re.I)
# a clock time or an all-numeric date: "18:30", "05h30", "11/19/2019", "05.12.2025", "2019-11-18"
_DATE_LINE = re.compile(r"\b\d{1,2}[:h]\d\d\b|\b\d{1,2}[./]\d{1,2}[./](?:19|20)?\d\d\b|\b(?:19|20)\d\d-\d\d-\d\d\b")


def _boilerplate_line(text: str) -> bool:
    """Short lines that are page furniture, not prose: labels, bylines, dates, credits."""
    if len(text) < 60 and _BOILERPLATE_LINE.match(text):
        return True
    if len(text) < 160 and _CTA_LINE.search(text):
        return True
    if text.lower().startswith(("by ", "updated", "published", "posted", "filed under")) and len(text) < 80:
        return True
    # bylines and datelines: "Nov 20, 2019 11:28", "Von J. Muster · 05.12.2025, 16:00 Uhr"
    return (len(text) < 90 and not text.endswith((".", "!", "?", "。")) and len(text.split()) <= 14
            and bool(_DATE_LINE.search(text)))


def _main_text(soup: BeautifulSoup, article_body: str, title: str) -> str:
    """The article body as paragraphs separated by blank lines."""
    root = soup.body or soup
    sample = title or article_body[:200]
    min_good = _MIN_GOOD_CJK if len(_CJK.findall(sample)) * 3 > len(sample) > 0 else _MIN_GOOD
    blocks = _article_blocks(_Page(root, min_good), root, article_body)
    if not blocks:    # everything looked like boilerplate (a hidden or oddly named article): judge by tags only
        blocks = _article_blocks(_Page(root, min_good, classes=False), root, article_body)
    return "\n\n".join(blocks)


def _article_blocks(page: _Page, root: Tag, article_body: str) -> list[str]:
    """The paragraphs of the element chosen as the article (of the whole page when none stands out)."""
    best = _choose(page, article_body, root)
    if best is not None:
        best = _narrow(page, best)
    return _blocks(root if best is None else best, page)


# ---------------------------------------------------------------------------------------------------------------
# metadata

def _jsonld(raw: str) -> list[dict]:
    """Every JSON-LD object of the page, @graph and lists flattened; unparsable blocks ignored."""
    found: list[dict] = []

    def add(obj):
        if isinstance(obj, list):
            for o in obj:
                add(o)
        elif isinstance(obj, dict):
            found.append(obj)
            if "@graph" in obj:
                add(obj["@graph"])
            main = obj.get("mainEntity")
            if isinstance(main, (dict, list)):
                add(main)

    for m in _JSONLD.finditer(raw):
        text = m.group(1).strip()
        if text.startswith("<!--"):
            text = text[4:].rstrip("->").strip()
        try:
            add(json.loads(text, strict=False))
        except (ValueError, RecursionError):
            continue
    return found


def _ld_article(objects: list[dict]) -> dict:
    """The JSON-LD object that describes the article (an *Article type first, then any with a headline)."""
    def kind(o):
        t = o.get("@type", "")
        return " ".join(t) if isinstance(t, list) else str(t)
    for test in (lambda o: "Article" in kind(o) or "Posting" in kind(o),
                 lambda o: "articleBody" in o or "datePublished" in o):
        for o in objects:
            if test(o):
                return o
    return {}


def _ld_text(value) -> str:
    """A JSON-LD value that should be a string (may be a list or an object with a name)."""
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or ""
    return value.strip() if isinstance(value, str) else ""


class _Found:
    """The elements metadata comes from, gathered in one pass over the tree (each find_all is a full pass)."""

    def __init__(self, soup: BeautifulSoup):
        self.metas: dict[str, str] = {}   # first content of each <meta> by lower-cased property/name/itemprop
        self.links: list[Tag] = []
        self.times: list[Tag] = []
        self.h1s: list[Tag] = []
        self.title: Optional[Tag] = None
        self.html: Optional[Tag] = None
        for el in soup.descendants:
            if type(el) is not Tag:
                continue
            name = el.name
            if name == "meta":
                self._meta(el)
            elif name == "link":
                self.links.append(el)
            elif name == "time":
                if len(self.times) < 20:
                    self.times.append(el)
            elif name == "h1":
                if len(self.h1s) < 5:
                    self.h1s.append(el)
            elif name == "title":
                self.title = self.title or el
            elif name == "html":
                self.html = self.html or el

    def _meta(self, m: Tag):
        content = m.get("content")
        if not isinstance(content, str) or not content.strip():
            return
        for key in ("property", "name", "itemprop", "http-equiv"):
            k = m.get(key)
            if isinstance(k, str):
                self.metas.setdefault(k.strip().lower(), content.strip())


_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·•»]\s+|\s+::\s+")


def _simplify(s: str) -> str:
    return re.sub(r"[^\w]", "", s.lower().removeprefix("www.")).removesuffix("com")


def _strip_site(title: str, site: str, host: str, h1: str = "") -> str:
    """A title without its site part (" - Gulf Times", "BBC | "), when one is recognisable."""
    if h1 and len(h1) < len(title) and title.startswith(h1) and _TITLE_SEPARATORS.match(title, len(h1)):
        return h1     # the page's own headline, followed by a separator and more
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    seps = _TITLE_SEPARATORS.findall(title)
    names = {_simplify(x) for x in (site, host.split(":")[0]) if x}
    names |= {_simplify(host.split(".")[-2])} if host.count(".") >= 1 else set()
    names.discard("")

    def is_site(part: str) -> bool:
        p = _simplify(part)
        return bool(p) and any(p == n or (len(p) > 3 and (p in n or n in p)) for n in names)

    if is_site(parts[-1]):
        return "".join(x + s for x, s in zip(parts[:-2], seps[:-1])) + parts[-2] if len(parts) > 2 else parts[0]
    if is_site(parts[0]):
        return title[len(parts[0]) + len(seps[0]):].strip()
    last = parts[-1]
    if len(parts) == 2 and len(last.split()) <= 4 and len(parts[0]) > 2 * len(last) and ":" not in seps[-1]:
        return parts[0]     # "Long headline here - Short Name": the short tail is the site
    return title


def _title(found: _Found, ld: dict, site: str, host: str) -> tuple[str, str]:
    """(title, where it came from): og:title, then <h1>, then JSON-LD headline, then <title>; site suffix removed."""
    metas, title_tag = found.metas, found.title
    # the longest of the first few <h1>: a site that puts its logo in an <h1> has a short one first
    h1_text = max((_SPACES.sub(" ", h.get_text(" ")).strip() for h in found.h1s), key=len, default="")
    for source, value in (("og:title", metas.get("og:title") or metas.get("twitter:title")),
                          ("h1", h1_text),
                          ("json-ld", _ld_text(ld.get("headline"))),
                          ("title", title_tag.get_text(" ") if title_tag else "")):
        value = _SPACES.sub(" ", value or "").strip()
        if value:
            return _strip_site(value, site, host, h1_text), source
    return "", "none"


_NAME_DATE = re.compile(r"(?<!\d)((?:19|20)\d\d)[/_-]?(0[1-9]|1[0-2])[/_-]?(0[1-9]|[12]\d|3[01])(?!\d)")


def date_in_name(name: str) -> datetime | None:
    """A date written in a URL's path or a file's name: YYYY-MM-DD, YYYY/MM/DD, YYYY_MM_DD or YYYYMMDD (UTC
    midnight); None when there is none (or it is no real day)."""
    m = _NAME_DATE.search(name)
    if not m:
        return None
    try:
        return datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), tzinfo=timezone.utc)
    except ValueError:
        return None


_DATE_METAS = ("article:published_time", "og:published_time", "article:published", "datepublished",
               "publishdate", "publish-date", "pubdate", "publication_date", "parsely-pub-date",
               "sailthru.date", "dc.date.issued", "dcterms.issued", "dc.date", "dcterms.created", "date",
               "og:article:published_time", "article.published", "cxenseparse:recs:publishtime")


def _parse_date(value: str) -> Optional[datetime]:
    """An ISO 8601 or RFC 2822 date as aware UTC (naive taken as UTC); None if unreadable or implausible."""
    value = (value or "").strip()
    if not value:
        return None
    dt = None
    iso = value.replace(" ", "T", 1) if re.match(r"\d{4}-\d\d-\d\d \d", value) else value
    try:
        dt = datetime.fromisoformat(iso[:35])
    except ValueError:
        m = re.match(r"(\d{4}-\d\d-\d\d(?:T\d\d:\d\d(?::\d\d)?(?:\.\d+)?)?)\s*(Z|[+-]\d\d:?\d\d)?", value)
        if m:
            try:
                dt = datetime.fromisoformat(m.group(1) + (m.group(2) or ""))
            except ValueError:
                dt = None
        if dt is None:
            try:
                dt = parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError, OverflowError):
                return None
    try:
        dt = (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None
    if not (1990 <= dt.year and dt <= datetime.now(timezone.utc) + timedelta(days=2)):
        return None
    return dt


def _published(found: _Found, ld: dict, url: str) -> tuple[Optional[datetime], str]:
    """(publication time, where it came from): meta tags, JSON-LD, <time datetime>, then a date in the URL."""
    for key in _DATE_METAS:
        dt = _parse_date(found.metas.get(key, ""))
        if dt:
            return dt, "meta"
    dt = _parse_date(_ld_text(ld.get("datePublished")) or _ld_text(ld.get("dateCreated")))
    if dt:
        return dt, "json-ld"
    # a <time> marked as the publication time first ("updated" times often come first on the page)
    marked = [t for t in found.times if t.get("itemprop") == "datePublished" or "pubdate" in t.attrs]
    for t in marked + found.times:
        dt = _parse_date(t.get("datetime") if isinstance(t.get("datetime"), str) else "")
        if dt:
            return dt, "time"
    dt = date_in_name(urlsplit(url).path) if url else None
    if dt:
        return dt, "url"
    return None, "none"


def _canonical(found: _Found, url: str) -> tuple[str, str]:
    """(URL, where it came from): <link rel=canonical>, og:url, else the caller's URL."""
    for link in found.links:
        rel = link.get("rel")
        rel = rel.split() if isinstance(rel, str) else (rel or [])
        href = link.get("href")
        href = href.strip() if isinstance(href, str) else ""
        if "canonical" in [r.lower() for r in rel] and href:
            full = urljoin(url, href)
            if full.startswith(("http://", "https://")):
                return full, "canonical"
    og = found.metas.get("og:url", "")
    if og.startswith(("http://", "https://")):
        return og, "og:url"
    return (url, "argument") if url else ("", "none")


def _language(found: _Found) -> str:
    """The language the page declares, as an ISO 639-1 code (zh-cn / zh-tw kept, as langdetect names them)."""
    html, metas = found.html, found.metas
    for value in ((html.get("lang") or html.get("xml:lang")) if html else None,
                  metas.get("og:locale"), metas.get("content-language"), metas.get("language")):
        if not isinstance(value, str):
            continue
        tag = value.strip().lower().replace("_", "-").split(",")[0]
        primary = tag.split("-")[0]
        if not re.fullmatch(r"[a-z]{2,3}", primary):
            continue
        if primary == "zh":
            return "zh-tw" if any(x in tag for x in ("tw", "hk", "mo", "hant")) else "zh-cn"
        return primary
    return ""


def _source(metas: dict, ld: dict, objects: list[dict]) -> str:
    """The outlet's name: og:site_name, then JSON-LD publisher, then application-name."""
    publisher = _ld_text(ld.get("publisher"))
    name = metas.get("og:site_name") or ("" if "://" in publisher else publisher)
    if not name:
        name = next((_ld_text(o.get("name")) for o in objects if "Organization" in str(o.get("@type", ""))), "")
    return _SPACES.sub(" ", name or metas.get("application-name", "")).strip()


# ---------------------------------------------------------------------------------------------------------------

def extract_html(data: bytes | str, url: str = "") -> HtmlExtract:
    """Extract the article from one HTML page (bytes are decoded by the page's declared charset)."""
    raw = decode_html(data)
    if not raw.strip():
        return HtmlExtract(body="", url=url, url_source="argument" if url else "none")
    objects = _jsonld(raw)
    ld = _ld_article(objects)
    soup = BeautifulSoup(_parseable(raw), "lxml", multi_valued_attributes=None)
    found = _Found(soup)
    canonical, url_source = _canonical(found, url)
    source = _source(found.metas, ld, objects)
    title, title_source = _title(found, ld, source, urlsplit(canonical or url).netloc)
    published, date_source = _published(found, ld, canonical or url)
    article_body = ld.get("articleBody") if isinstance(ld.get("articleBody"), str) else ""
    try:
        body = _main_text(soup, article_body, title)
    except RecursionError:   # pathologically nested markup: plain text is the best there is
        body = _SPACES.sub(" ", soup.get_text(" ")).strip()
    return HtmlExtract(body=body, title=title, title_source=title_source, published=published,
                       date_source=date_source, source=source, url=canonical, url_source=url_source,
                       language=_language(found))
