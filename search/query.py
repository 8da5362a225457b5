"""The query language: text -> a small tree of plain nodes, validated (Whoosh's own parser never raises).

Grammar (operators are upper case; lower-case `or`/`not` are ordinary words):

    query    := or_expr
    or_expr  := and_expr ("OR" and_expr)*
    and_expr := unary+                     words side by side must all match ("AND" may be written)
    unary    := ("NOT" | "-") unary | "+" unary | atom
    atom     := "(" or_expr ")" | FIELD ":" value | "\"phrase\"" | word | word* | wo?d | word~ | word~2
    FIELD    := title | body | person | country | lang | source | date

`date:` takes `2025`, `2025-05`, `2025-05-17`, or a range `A..B` (either side may be left open).
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Optional, Union

from search.dates import parse_date_range
from search.model import (MAX_QUERY_CHARS, MAX_QUERY_CLAUSES, MAX_QUERY_DEPTH, QUERY_FIELDS, QueryError, clip,
                          not_text)

FIELDS = tuple(QUERY_FIELDS)
_FIELD_NAME = re.compile(r"^([A-Za-z_]+):(.*)$", re.S)
_FUZZY = re.compile(r"^(.+?)~(\d*)$")
_OPERATORS = {"OR", "AND", "NOT", "||", "&&"}


@dataclass(frozen=True)
class Word:
    """One word (or word-like value) in a field (None = the default text fields)."""

    text: str
    field: Optional[str] = None
    kind: str = "word"           # word | prefix | wildcard | fuzzy
    distance: int = 0            # fuzzy edit distance
    pos: int = 0


@dataclass(frozen=True)
class Phrase:
    """Words in this order, next to each other."""

    text: str
    field: Optional[str] = None
    pos: int = 0


@dataclass(frozen=True)
class DateRange:
    """Published on a day between lo and hi (inclusive; None = open)."""

    lo: Optional[date]
    hi: Optional[date]
    text: str = ""
    pos: int = 0


@dataclass(frozen=True)
class And:
    children: tuple


@dataclass(frozen=True)
class Or:
    children: tuple


@dataclass(frozen=True)
class Not:
    child: object


Node = Union[Word, Phrase, DateRange, And, Or, Not]


@dataclass(frozen=True)
class _Tok:
    kind: str      # ( ) PHRASE WORD FIELD OR AND NOT MINUS
    text: str
    pos: int


def _unknown_field(name: str, raw: str) -> QueryError:
    return QueryError(f'unknown field "{clip(name)}" (in {clip(raw)}); valid fields: {", ".join(FIELDS)}',
                      valid_fields=FIELDS)


def tokenize(q: str) -> list[_Tok]:
    """Split a query into tokens; raises QueryError for unbalanced quotes and unknown fields."""
    toks: list[_Tok] = []
    i, n = 0, len(q)
    while i < n:
        ch = q[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            toks.append(_Tok(ch, ch, i))
            i += 1
        elif ch in "-+" and i + 1 < n and q[i + 1] in '"(':   # -"a phrase", -(a OR b); + is the default
            if ch == "-":
                toks.append(_Tok("MINUS", "-", i))
            i += 1
        elif ch == '"':
            end = q.find('"', i + 1)
            if end < 0:
                raise QueryError(f'unbalanced quote: the " at position {i + 1} has no closing quote', position=i + 1)
            toks.append(_Tok("PHRASE", q[i + 1:end], i))
            i = end + 1
        else:
            j = i
            while j < n and not q[j].isspace() and q[j] not in '()"':
                j += 1
            raw = q[i:j]
            # a field name directly followed by a quoted phrase or a parenthesised group: `title:"..."`
            if raw.endswith(":") and j < n and q[j] in '"(' and _FIELD_NAME.match(raw):
                name = raw[:-1]
                if name.lower() not in QUERY_FIELDS:
                    close = q.find('"' if q[j] == '"' else ")", j + 1)
                    raise _unknown_field(name, q[i:close + 1] if close > 0 else q[i:])
                toks.append(_Tok("FIELD", name.lower(), i))
            else:
                toks.extend(_word_tokens(raw, i))
            i = j
    return toks


def _word_tokens(raw: str, pos: int) -> list[_Tok]:
    """A word's tokens: its leading signs (- is NOT, + the default; a loop: `-----...` may be 1,000 long), then it."""
    signs = []
    while len(raw) > 1 and raw[0] in "-+":
        if raw[0] == "-":
            signs.append(_Tok("MINUS", "-", pos))
        raw, pos = raw[1:], pos + 1
    return signs + _unsigned_word_tokens(raw, pos)


def _unsigned_word_tokens(raw: str, pos: int) -> list[_Tok]:
    if raw in _OPERATORS:
        return [_Tok({"||": "OR", "&&": "AND"}.get(raw, raw), raw, pos)]
    m = _FIELD_NAME.match(raw)
    if m and not m.group(2).startswith("//"):
        name, value = m.group(1), m.group(2)
        if name.lower() in QUERY_FIELDS:
            if not value:
                raise QueryError(f'field "{name}" at position {pos + 1} needs a value, e.g. {name.lower()}:word '
                                 f'or {name.lower()}:"a phrase"', position=pos + 1)
            return [_Tok("FIELD", name.lower(), pos), _Tok("WORD", value, pos + len(name) + 1)]
        if value:
            raise _unknown_field(name, raw)
    return [_Tok("WORD", raw, pos)]


class _Parser:
    def __init__(self, toks: list[_Tok], q: str):
        self.toks = toks
        self.i = 0
        self.q = q
        self.clauses = 0
        self.depth = 0                         # parentheses and NOTs open around the current token
        self.field_ctx: Optional[str] = None   # inside field:( ... )

    def peek(self) -> Optional[_Tok]:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def parse(self) -> Optional[Node]:
        if not self.toks:
            return None
        node = self.or_expr()
        tok = self.peek()
        if tok is not None:  # only a stray ")" can stop or_expr early
            raise QueryError(f"unbalanced parenthesis: the ) at position {tok.pos + 1} has no matching (",
                             position=tok.pos + 1)
        return node

    def or_expr(self) -> Node:
        first = self.peek()
        if first is not None and first.kind == "OR":
            raise QueryError(f"OR at position {first.pos + 1} needs a term on both sides", position=first.pos + 1)
        parts = [self.and_expr()]
        while self.peek() is not None and self.peek().kind == "OR":
            op = self.take()
            nxt = self.peek()
            if nxt is None or nxt.kind in ("OR", ")"):
                raise QueryError(f"OR at position {op.pos + 1} needs a term on both sides", position=op.pos + 1)
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_expr(self) -> Node:
        parts = []
        while True:
            tok = self.peek()
            if tok is None or tok.kind in ("OR", ")"):
                break
            if tok.kind == "AND":
                self.take()
                nxt = self.peek()
                if not parts or nxt is None or nxt.kind in ("OR", ")", "AND"):
                    raise QueryError(f"AND at position {tok.pos + 1} needs a term on both sides",
                                     position=tok.pos + 1)
                continue
            parts.append(self.unary())
        if not parts:  # only reachable from "( )" or "(OR" forms, reported by the caller
            tok = self.peek()
            where = tok.pos + 1 if tok else len(self.q)
            raise QueryError(f"missing term at position {where}", position=where)
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def unary(self) -> Node:
        tok = self.peek()
        if tok.kind in ("NOT", "MINUS"):
            self.take()
            nxt = self.peek()
            if nxt is None or nxt.kind in ("OR", ")", "AND"):
                what = "NOT" if tok.kind == "NOT" else "-"
                raise QueryError(f"{what} at position {tok.pos + 1} needs a term after it", position=tok.pos + 1)
            with self.nested(tok):
                return Not(self.unary())
        return self.atom()

    @contextmanager
    def nested(self, tok: _Tok):
        """One level deeper: refused past MAX_QUERY_DEPTH, before the recursion could exhaust Python's stack."""
        self.depth += 1
        if self.depth > MAX_QUERY_DEPTH:
            raise QueryError(f"query nested too deeply: more than {MAX_QUERY_DEPTH} levels of parentheses or NOT "
                             f"(at position {tok.pos + 1})", position=tok.pos + 1)
        try:
            yield
        finally:
            self.depth -= 1

    def atom(self, field: Optional[str] = None) -> Node:
        tok = self.take()
        if tok.kind == "(":
            nxt = self.peek()
            if nxt is not None and nxt.kind == ")":
                raise QueryError(f"empty parentheses at position {tok.pos + 1}", position=tok.pos + 1)
            if nxt is None:
                raise QueryError(f"unbalanced parenthesis: the ( at position {tok.pos + 1} is never closed",
                                 position=tok.pos + 1)
            with self.nested(tok):
                inner = self.or_expr_in(field)
            close = self.peek()
            if close is None or close.kind != ")":
                raise QueryError(f"unbalanced parenthesis: the ( at position {tok.pos + 1} is never closed",
                                 position=tok.pos + 1)
            self.take()
            return inner
        if tok.kind == "FIELD":
            field = field or self.field_ctx
            if field is not None:
                raise QueryError(f"field {tok.text}: at position {tok.pos + 1} is inside {field}:( ); "
                                 f"one field per term", position=tok.pos + 1)
            nxt = self.peek()
            if nxt is None or nxt.kind not in ("WORD", "PHRASE", "("):
                raise QueryError(f'field "{tok.text}" at position {tok.pos + 1} needs a value', position=tok.pos + 1)
            return self.atom(tok.text)
        if tok.kind == "PHRASE":
            return self.leaf_phrase(tok, field)
        if tok.kind in ("WORD", "NOT", "AND", "OR"):
            return self.leaf_word(tok, field)
        raise QueryError(f"unexpected {tok.text!r} at position {tok.pos + 1}", position=tok.pos + 1)

    def or_expr_in(self, field: Optional[str]) -> Node:
        if field is None:
            return self.or_expr()
        # field:(a OR b c): parse the group, then push the field down onto its leaves
        outer, self.field_ctx = self.field_ctx, field
        try:
            return _with_field(self.or_expr(), field)
        finally:
            self.field_ctx = outer

    def count(self) -> None:
        self.clauses += 1
        if self.clauses > MAX_QUERY_CLAUSES:
            raise QueryError(f"query too complex: more than {MAX_QUERY_CLAUSES} terms")

    def leaf_phrase(self, tok: _Tok, field: Optional[str]) -> Node:
        self.count()
        text = " ".join(tok.text.split())
        if not text:
            raise QueryError(f"empty phrase at position {tok.pos + 1}", position=tok.pos + 1)
        if field == "date":
            return _date_node(text, tok.pos)
        return Phrase(text, field, tok.pos)

    def leaf_word(self, tok: _Tok, field: Optional[str]) -> Node:
        self.count()
        return make_word(tok.text, field, tok.pos)


def make_word(text: str, field: Optional[str], pos: int) -> Node:
    """A word token as a node: date ranges, wildcards, fuzzy words (validated)."""
    if field == "date":
        return _date_node(text, pos)
    if set(text) <= set("*?"):
        raise QueryError(f"a bare {clip(text)} would match everything (at position {pos + 1}): put at least one letter "
                         f"before it (e.g. elect*), or leave the query empty to browse", position=pos + 1)
    fuzzy = _FUZZY.match(text)
    if fuzzy and not set(fuzzy.group(1)) & set("*?"):
        dist = int(fuzzy.group(2) or 1)
        if dist not in (1, 2):
            raise QueryError(f"fuzzy distance must be 1 or 2 (in {clip(text)})", position=pos + 1)
        return Word(fuzzy.group(1), field, "fuzzy", dist, pos)
    first = min((text.find(c) for c in "*?" if c in text), default=-1)
    if first == 0:
        raise QueryError(f"wildcards need at least one letter before them (in {clip(text)} at position {pos + 1})",
                         position=pos + 1)
    if first > 0:
        if text.endswith("*") and first == len(text) - 1:
            return Word(text[:-1], field, "prefix", 0, pos)
        return Word(text, field, "wildcard", 0, pos)
    return Word(text, field, "word", 0, pos)


def _date_node(text: str, pos: int) -> DateRange:
    rng = parse_date_range(text)
    if rng is None:
        raise QueryError(f"bad date in date:{clip(text)}: use date:YYYY, date:YYYY-MM, date:YYYY-MM-DD or a range "
                         f"like date:2025-01..2025-06", position=pos + 1)
    lo, hi = rng
    if lo and hi and lo > hi:
        raise QueryError(f"empty date range in date:{clip(text)}: {lo} is after {hi}", position=pos + 1)
    return DateRange(lo, hi, text, pos)


def _with_field(node: Node, field: str) -> Node:
    if isinstance(node, (And, Or)):
        return type(node)(tuple(_with_field(c, field) for c in node.children))
    if isinstance(node, Not):
        return Not(_with_field(node.child, field))
    if isinstance(node, Word):
        return make_word(node.text if node.kind in ("word",) else _raw_word(node), field, node.pos)
    if isinstance(node, Phrase):
        return Phrase(node.text, field, node.pos) if field != "date" else _date_node(node.text, node.pos)
    return node


def _raw_word(w: Word) -> str:
    if w.kind == "prefix":
        return w.text + "*"
    if w.kind == "fuzzy":
        return f"{w.text}~{w.distance}"
    return w.text


def parse_query(q: str) -> Optional[Node]:
    """The tree of a query string (None for an empty query); raises QueryError when it makes no sense.

    Plain words (see plain_words) are an And of Words whatever their number: pasting a paragraph is normal."""
    if len(q) > MAX_QUERY_CHARS:
        raise QueryError(f"query too long: {len(q)} characters (the limit is {MAX_QUERY_CHARS})")
    if not_text(q):   # an undecodable byte of a command line: it matches nothing and breaks a UTF-8 output
        raise QueryError(f"the query is not valid text: character {not_text(q)} is an undecodable byte",
                         position=not_text(q))
    toks = tokenize(q)
    words = _plain(toks, q)
    if words is not None:
        return words[0] if len(words) == 1 else And(words)
    return _Parser(toks, q).parse()


def plain_words(q: str) -> Optional[tuple[Word, ...]]:
    """The words of a query typed without any syntax (no operator, quote, parenthesis, field:, leading - or +,
    wildcard or ~), or None when it uses some: such a query is relaxed when too few articles hold every word."""
    if len(q) > MAX_QUERY_CHARS:
        return None
    try:
        return _plain(tokenize(q), q)
    except QueryError:
        return None


def _plain(toks: list[_Tok], q: str) -> Optional[tuple[Word, ...]]:
    if not toks or any(t.kind != "WORD" or (t.pos and q[t.pos - 1] == "+") for t in toks):
        return None
    words = []
    for t in toks:
        if set(t.text) & set("*?~"):
            return None
        words.append(Word(t.text, None, "word", 0, t.pos))
    return tuple(words)


def has_positive(node: Optional[Node]) -> bool:
    """True when the query has something to rank by (not only negations and dates)."""
    if node is None or isinstance(node, (Not, DateRange)):
        return False
    if isinstance(node, (And, Or)):
        return any(has_positive(c) for c in node.children)
    return True


def leaves(node: Optional[Node], negated: bool = False):
    """(leaf, negated) pairs of a tree."""
    if node is None:
        return
    if isinstance(node, Not):
        yield from leaves(node.child, not negated)
    elif isinstance(node, (And, Or)):
        for c in node.children:
            yield from leaves(c, negated)
    else:
        yield node, negated


def to_text(node: Optional[Node]) -> str:
    """A normalised one-line form of the tree (explicit AND/OR/NOT, fields spelled out)."""
    if node is None:
        return "(everything)"
    if isinstance(node, And):
        return "(" + " AND ".join(to_text(c) for c in node.children) + ")"
    if isinstance(node, Or):
        return "(" + " OR ".join(to_text(c) for c in node.children) + ")"
    if isinstance(node, Not):
        return "NOT " + to_text(node.child)
    if isinstance(node, DateRange):
        return f"date:{node.lo or ''}..{node.hi or ''}"
    prefix = f"{node.field}:" if node.field else ""
    if isinstance(node, Phrase):
        return f'{prefix}"{node.text}"'
    return prefix + _raw_word(node)
