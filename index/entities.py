"""People and countries an article mentions, with the spans of every mention in the body.

`make_extractor(aliases_path)` builds an Extractor (tables are loaded once per process and shared, so building one
per worker is cheap); `Extractor.extract(body, language, title)` returns (people, countries). The alias file format
is documented in index/data/ALIASES.md. `entities_batch` is the JSON Lines batch interface (`newsdex entities`).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator, Optional

from index.countries import CountryGazetteer, resolve
from index.errors import NewsdexError
from index.model import Country, Person
from index.people import PeopleFinder, load_common_words
from index.schema import person_key as _person_key
from index.tokens import Tokens

_CODE = re.compile(r"^[A-Z]{2}$")


@lru_cache(maxsize=65536)
def person_key(name: str) -> str:
    """index.schema.person_key, cached (the same names recur across a corpus)."""
    return _person_key(name)


class AliasError(NewsdexError, ValueError):
    """A line of the alias file that cannot be read; the message names the file and line."""


@dataclass
class Aliases:
    """What a user's alias file says (see index/data/ALIASES.md)."""

    country_aliases: list[tuple[str, str]] = field(default_factory=list)     # (phrase, code)
    country_blocks: set[str] = field(default_factory=set)                    # codes never reported
    country_phrase_blocks: list[str] = field(default_factory=list)           # phrases that name no country
    person_aliases: list[tuple[str, str]] = field(default_factory=list)      # (phrase, full name)
    merges: dict[str, str] = field(default_factory=dict)                     # key -> canonical display name
    person_blocks: set[str] = field(default_factory=set)                     # keys never reported


def load_aliases(path: str | Path) -> Aliases:
    """Read an alias file; a bad line raises AliasError naming the line number."""
    out = Aliases()
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise AliasError(f"{path}: cannot read alias file: {exc.strerror or exc}") from exc
    for number, raw in enumerate(lines, 1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        try:
            _parse_line(line, out)
        except ValueError as exc:
            raise AliasError(f"{path}:{number}: {exc}: {raw.strip()!r}") from None
    return out


def _parse_line(line: str, out: Aliases) -> None:
    verb, sep, rest = line.partition(":")
    verb, rest = verb.strip().lower(), rest.strip()
    if not sep or verb not in ("alias", "merge", "block"):
        raise ValueError("expected 'alias: TEXT => CODE or NAME', 'merge: NAME = NAME' or 'block: person|country ...'")
    if verb == "alias":
        left, arrow, right = (p.strip() for p in rest.partition("=>"))
        if not arrow or not left or not right:
            raise ValueError("alias needs 'TEXT => CODE' or 'TEXT => Full Name'")
        if _CODE.match(right):
            _check_code(right)
            out.country_aliases.append((left, right))
        else:
            out.person_aliases.append((left, right))
    elif verb == "merge":
        left, eq, right = (p.strip() for p in rest.partition("="))
        if not eq or not left or not right or right.startswith(">"):
            raise ValueError("merge needs 'NAME = NAME' (the second is the one kept)")
        out.merges[person_key(left)] = right
        out.merges.setdefault(person_key(right), right)
    else:
        kind, _, what = rest.partition(" ")
        kind, what = kind.strip().lower(), what.strip()
        if kind not in ("person", "country") or not what:
            raise ValueError("block needs 'person NAME' or 'country CODE|NAME'")
        if kind == "person":
            out.person_blocks.add(person_key(what))
        elif _CODE.match(what):
            _check_code(what)
            out.country_blocks.add(what)
        else:
            out.country_phrase_blocks.append(what)


def _check_code(code: str) -> None:
    import pycountry
    if code != "XK" and pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"unknown ISO 3166 alpha-2 code {code!r}")


@lru_cache(maxsize=1)
def _tables() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """The big read-only tables, loaded once per process: common words, first names, last names."""
    from index.people import DATA, _load_names
    return (load_common_words(), _load_names(DATA / "first_names.txt"), _load_names(DATA / "last_names.txt"))


@lru_cache(maxsize=1)
def _base_gazetteer() -> CountryGazetteer:
    return CountryGazetteer(common_words=_tables()[0])


class Extractor:
    """People and countries for one article at a time. Build with `make_extractor`."""

    def __init__(self, aliases_path: Optional[str] = None):
        self.aliases_path = aliases_path
        common, first, last = _tables()
        self.aliases = load_aliases(aliases_path) if aliases_path else Aliases()
        if self.aliases.country_aliases or self.aliases.country_phrase_blocks:
            self.gazetteer = CountryGazetteer(common_words=common)
            for phrase, code in self.aliases.country_aliases:
                self.gazetteer.add_alias(phrase, code)
            for phrase in self.aliases.country_phrase_blocks:
                self.gazetteer.add_alias(phrase, "")
        else:
            self.gazetteer = _base_gazetteer()
        self.people = PeopleFinder(common, *_place_words(self.gazetteer), first, last)
        self._person_alias_res = [(re.compile(r"(?<!\w)" + re.escape(a) + r"(?!\w)"), name)
                                  for a, name in self.aliases.person_aliases]

    def __reduce__(self):
        return (make_extractor, (self.aliases_path,))

    def extract(self, body: str, language: str = "en", title: str = "") -> tuple[tuple[Person, ...], tuple[Country, ...]]:
        """People and countries found in `body` (mention spans are offsets into `body`); the title helps decide
        which countries the article is about."""
        language = language or "en"
        tokens = Tokens(body)
        people = self._people(tokens, language)
        excluded = [m for p in people for m in p.mentions]
        matches = self.gazetteer.find(tokens, language)
        title_codes = self._title_codes(title, language, people) if title else set()
        countries = resolve(tokens, matches, self.gazetteer, excluded, title_codes)
        if self.aliases.country_blocks:
            countries = tuple(c for c in countries if c.code not in self.aliases.country_blocks)
        return people, countries

    def _people(self, tokens: Tokens, language: str = "en") -> tuple[Person, ...]:
        found = self.people.find(tokens, language)
        merged: dict[str, tuple[str, list]] = {}
        for f in found:
            key = person_key(f.name)
            name = self.aliases.merges.get(key, f.name)
            key = person_key(name)
            entry = merged.setdefault(key, (name, []))
            entry[1].extend(f.mentions)
        for rx, name in self._person_alias_res:
            spans = [(m.start(), m.end()) for m in rx.finditer(tokens.text)]
            if spans:
                name = self.aliases.merges.get(person_key(name), name)
                merged.setdefault(person_key(name), (name, []))[1].extend(spans)
        out = []
        for key, (name, spans) in merged.items():
            if key in self.aliases.person_blocks or not key:
                continue
            out.append(Person(name=name, key=key, mentions=tuple(sorted(set(spans)))))
        out.sort(key=lambda p: (-len(p.mentions), p.mentions[0] if p.mentions else (0, 0)))
        return tuple(out)

    def _title_codes(self, title: str, language: str, people: tuple[Person, ...]) -> set[str]:
        """Countries the title names unambiguously (a word of a person's name does not count)."""
        tokens = Tokens(title)
        person_words = {w for p in people for w in p.key.split()}
        codes = set()
        for i, end, entries, _ in self.gazetteer.find(tokens, language):
            if len(entries) == 1 and entries[0].code and not entries[0].ambiguous:
                if end - i == 1 and tokens.lower[i] in person_words:
                    continue
                codes.add(entries[0].code)
        return codes - self.aliases.country_blocks


# Languages whose country names also rule out person names ("Na Bélgica" is Portuguese for "in Belgium").
PLACE_NAME_LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl")


def _place_words(gazetteer: CountryGazetteer) -> tuple[frozenset[str], frozenset[str]]:
    """Place names and demonyms (English, and country names in the main Latin-script languages): one-word names
    (such a word alone is no person) and longer phrases."""
    single, phrases = set(), set()
    stack = [((), gazetteer.trie(lang)) for lang in PLACE_NAME_LANGUAGES]
    while stack:
        path, node = stack.pop()
        for k, v in node.items():
            if k is None:
                if any(e.code and not e.after_comma for e in v):
                    (single.add(path[0]) if len(path) == 1 else phrases.add(" ".join(path)))
                continue
            stack.append((path + (k,), v))
    return frozenset(single), frozenset(phrases)


_EXTRACTORS: dict[tuple, Extractor] = {}


def make_extractor(aliases_path: Optional[str] = None) -> Extractor:
    """An Extractor, optionally with a user's alias file (AliasError names a bad line).

    Built once per process and alias file version: an edited alias file (new size or mtime) gives a new one."""
    path = str(aliases_path) if aliases_path else None
    key: tuple = (None,)
    if path:
        try:
            st = Path(path).stat()
            key = (path, st.st_mtime_ns, st.st_size)
        except OSError:
            key = (path,)     # Extractor raises the AliasError
    ex = _EXTRACTORS.get(key)
    if ex is None:
        ex = Extractor(path)
        if len(_EXTRACTORS) > 16:
            _EXTRACTORS.clear()
        _EXTRACTORS[key] = ex
    return ex


def extract_entities(body: str, language: str = "en", title: str = "") -> tuple[tuple[Person, ...], tuple[Country, ...]]:
    """People and countries found in `body`, with mention spans as offsets into `body` (default extractor)."""
    return make_extractor().extract(body, language, title)


def entities_batch(lines: Iterable[str], extractor: Extractor) -> Iterator[dict]:
    """JSON Lines in (`{"id", "text", "language"?}`), one dict out per non-blank line, never raising on a bad one."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            yield {"id": None, "error": f"line {number}: not JSON: {exc}"}
            continue
        if not isinstance(record, dict):
            yield {"id": None, "error": f"line {number}: expected a JSON object"}
            continue
        text = record.get("text")
        rid = record.get("id")
        if not isinstance(text, str):
            yield {"id": rid if isinstance(rid, (str, int)) else None,
                   "error": f"line {number}: 'text' must be a string"}
            continue
        language = record.get("language") or "en"
        if not isinstance(language, str):
            language = "en"
        try:
            people, countries = extractor.extract(text, language)
        except Exception as exc:   # one bad record must not end the batch
            yield {"id": rid, "error": f"line {number}: {type(exc).__name__}: {exc}"}
            continue
        yield {"id": rid, "people": [p.to_json() for p in people],
               "countries": [c.to_json() for c in countries]}
