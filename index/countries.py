"""Countries an article mentions, and the ones it is about.

The gazetteer is pycountry's ISO 3166 names (English, plus translations for the article's language) and
index/data/countries.txt (aliases, demonyms, capitals and cities, ambiguous names, phrases that are no country).
Matching walks a token trie from each capitalised token, so its cost is one dict lookup per token.

Policies (documented in index/data/ALIASES.md):
- every ISO 3166-1 code is its own value: Taiwan is TW, Hong Kong HK, Macao MO, Puerto Rico PR, Greenland GL;
  historic names map to successors (USSR -> RU, Zaire -> CD, Burma -> MM, West Germany -> DE);
- a name listed under several codes, or marked ambiguous, counts only when the article names one of those countries
  another way ("Georgia" needs "Tbilisi" or "Georgian", or is the US state when the article is about the US);
  `~name` marks the code it falls back to when nothing decides (bare "Korea" -> KR, bare "Congo" -> CG);
- a country name that is also a common word ("Turkey", "Chad", "China") at the start of a sentence or in an
  all-capitals line does not count when the article uses the word in lower case ("turkey prices");
- spans inside a person's name do not count ("Michael Jordan", "Paris Hilton").
"""
from __future__ import annotations

import gettext
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, NamedTuple, Optional

import pycountry

from index.model import Country
from index.tokens import Tokens

DATA = Path(__file__).parent / "data"
TRANSLATED_LANGUAGES = ("fr", "de", "es", "it", "pt", "ru", "nl", "pl", "sv", "da", "no", "fi", "cs", "ro", "hu",
                        "tr", "id", "uk", "bg", "hr", "sk", "sl", "ca")
_LOCALE = {"no": "nb_NO"}     # langdetect's code -> pycountry's catalogue
_ELISION = re.compile(r"(?:[LlDd]|[Dd]ell|[Nn]ell|[Aa]ll|[Ss]ull|[Dd]all|[Qq]u)['’]")
_ALIAS_WORD = re.compile(r"(?:[^\W\d_]\.){2,}(?![^\W\d_])|[^\W\d_]+(?:['’][^\W\d_]+)*|&")
_SENTENCE_END = re.compile(r"[.!?](?=\s)")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def alias_words(alias: str) -> list[str]:
    """The lower-case words of a name as the trie keys them ("Guinea-Bissau" -> guinea, bissau)."""
    return [w.lower() for w in _ALIAS_WORD.findall(alias)]


_new_tuple = tuple.__new__   # _new_tuple(Match, row): a Match made at C speed (Match(*row) costs a Python call)


class Match(NamedTuple):
    """A gazetteer match (CountryGazetteer.find)."""

    i: int          # the number of its first capitalised word
    start: int      # its offsets in the text
    entries: list   # what the name may be (_Entry)
    end: int


@dataclass(frozen=True)
class _Entry:
    code: str            # "" for a blocked phrase
    ambiguous: bool      # ?name / ~name / listed under several codes
    default: bool        # ~name: the fallback for its ambiguous name
    kind: str            # name, adj, city
    after_comma: bool
    exact: Optional[str]  # the exact spelling required (all-capital abbreviations)
    needs_period: bool = False   # "Calif." but not "Calif"


def _fold(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def _plurals(adj: str) -> list[str]:
    """Derived plural demonyms: American -> Americans; Japanese, Swiss, French stay."""
    if adj.endswith(("ese", "ss", "sh", "ch", "s", "x", "z")) or " " in adj and adj.endswith("ese"):
        return []
    if adj.endswith("man"):
        return [adj[:-3] + "men"]
    return [adj + "s"]


class CountryGazetteer:
    """Name tables built once (per language on first use); `find` returns a text's country mentions."""

    def __init__(self, data_path: Path | str = DATA / "countries.txt", common_words: frozenset[str] = frozenset()):
        self.names: dict[str, str] = {}
        self.common_words = common_words
        self._base: list[tuple[str, str, bool, bool, str]] = []   # (alias, code, ambiguous, default, kind)
        self._load_pycountry()
        self._load_data(Path(data_path))
        self._tries: dict[str, dict] = {}
        self._extra: list[tuple[str, str, bool, bool, str]] = []

    # ---- building -------------------------------------------------------------------------------------------
    def _load_pycountry(self) -> None:
        for c in pycountry.countries:
            self.names[c.alpha_2] = getattr(c, "common_name", None) or c.name
            for attr in ("name", "common_name", "official_name"):
                value = getattr(c, attr, None)
                if value and "," not in value and "(" not in value:
                    self._base.append((value, c.alpha_2, False, False, "name"))

    def _load_data(self, path: Path) -> None:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            fields = [f.strip() for f in line.split("|")]
            if len(fields) != 5:
                raise ValueError(f"{path}:{number}: expected 5 fields separated by '|', got {len(fields)}")
            code, display, aliases, adjectives, places = fields
            code = "" if code == "-" else code
            if code:
                self.names[code] = display
                self._add(display, code, "name")
            for kind, field in (("name", aliases), ("adj", adjectives), ("city", places)):
                for alias in filter(None, (a.strip() for a in field.split(";"))):
                    self._add(alias, code, kind)
                    if kind == "adj" and not alias.startswith(","):
                        for plural in _plurals(alias.lstrip("?~")):
                            self._add(alias[0] + plural if alias[0] in "?~" else plural, code, kind)

    def _add(self, alias: str, code: str, kind: str) -> None:
        ambiguous = alias[0] in "?~"
        default = alias[0] == "~"
        self._base.append((alias.lstrip("?~"), code, ambiguous, default, kind))

    def add_alias(self, alias: str, code: str, kind: str = "name") -> None:
        """A user alias (alias file): clears the built tables so they are rebuilt with it."""
        self._extra.append((alias, code, False, False, kind))
        self._tries.clear()

    def _translations(self, language: str) -> list[tuple[str, str, bool, bool, str]]:
        lang = language.split("-")[0].lower()
        if lang not in TRANSLATED_LANGUAGES:
            return []
        try:
            tr = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[_LOCALE.get(lang, lang)])
        except OSError:
            return []
        out = []
        for c in pycountry.countries:
            for attr in ("name", "common_name", "official_name"):
                value = getattr(c, attr, None)
                if value:
                    local = tr.gettext(value)
                    if local != value and "," not in local and "(" not in local:
                        out.append((local, c.alpha_2, False, False, "name"))
        return out

    def trie(self, language: str = "en") -> dict:
        """The token trie for a language (English names always; translations for the language's own)."""
        lang = (language or "en").split("-")[0].lower()
        if lang not in TRANSLATED_LANGUAGES:
            lang = "en"
        trie = self._tries.get(lang)
        if trie is None:
            rows = self._base + self._translations(lang) + _LOCAL_NAMES.get(lang, [])
            if self._extra:   # a user's alias replaces what the built-in tables say about the same words
                mine = {tuple(alias_words(a)) for a, *_ in self._extra}
                rows = [r for r in rows if tuple(alias_words(r[0].lstrip(","))) not in mine]
            trie = self._tries[lang] = self._build(rows + self._extra)
        return trie

    def _build(self, rows: Iterable[tuple[str, str, bool, bool, str]]) -> dict:
        rows = list(rows)
        codes_of: dict[tuple, set[str]] = {}
        for alias, code, *_ in rows:
            if code:
                codes_of.setdefault(tuple(alias_words(alias.lstrip(","))), set()).add(code)
        trie: dict = {}
        for alias, code, ambiguous, default, kind in rows:
            after_comma = alias.startswith(",")
            alias = alias.lstrip(",")
            key = tuple(alias_words(alias))
            if not key or not alias[0].isupper() and not alias[0].isdigit():
                continue
            shared = len(codes_of.get(key, ())) > 1
            bare = alias.replace(".", "")
            exact = alias if bare.isupper() and len(bare) <= 5 and "." not in alias else None
            needs_period = alias.endswith(".") and not key[-1].endswith(".")
            entry = _Entry(code, ambiguous or shared, default, kind, after_comma, exact, needs_period)
            for variant in {key, tuple(_fold(t) for t in key)}:
                node = trie
                for tok in variant:
                    node = node.setdefault(tok, {})
                node.setdefault(None, [])
                if entry not in node[None]:
                    node[None].append(entry)
        return trie

    # ---- matching -------------------------------------------------------------------------------------------
    def find(self, tokens: Tokens, language: str = "en") -> list[Match]:
        """The matches, longest first."""
        trie = self.trie(language)
        words, lower, starts = tokens.words, tokens.lower, tokens.starts
        cyrillic = language.startswith(("ru", "uk", "bg"))
        out = []
        covered = -1
        if cyrillic:
            candidates = range(len(words))
        else:   # most capitalised words start no name: pick the others out at C speed
            candidates = [i for i, (w, low) in enumerate(zip(words, lower)) if low in trie or not w.isalpha()]
        for i in candidates:
            w = words[i]
            if starts[i] < covered:
                continue
            if not w.isalpha() and ("-" in w or "‐" in w or "'" in w or "’" in w):
                pieces = self._pieces(w, starts[i])
            else:
                pieces = ((lower[i], starts[i], tokens.ends[i]),)
            for low, s, e in pieces:
                if s < covered:
                    continue
                node = trie.get(low)
                if node is None and cyrillic and _CYRILLIC.match(low):
                    node = self._stem_lookup(trie, low)
                if node is None:
                    continue
                best = (e, node[None]) if None in node else None
                if len(node) > (None in node):
                    for word, _ws, we in tokens.next_words(e):
                        node = node.get(word.lower())
                        if node is None:
                            break
                        if None in node:
                            best = (we, node[None])
                if best is None:
                    continue
                end, entries = best
                entries = self._usable(tokens, i, s, end, entries)
                if entries:
                    out.append(_new_tuple(Match, (i, s, entries, end)))
                    covered = end
        return out

    @staticmethod
    def _pieces(word: str, start: int):
        """The capitalised parts of a hyphenated word ("Japan-South" -> Japan, South)."""
        out, pos = [], start
        if "-" in word or "‐" in word:
            for part in re.split(r"[-‐]", word):
                if part and part[0].isupper():
                    out.append((part.lower(), pos, pos + len(part)))
                pos += len(part) + 1
        else:
            out.append((word.lower(), start, start + len(word)))
        # French and Italian elision: L'Allemagne, d'Italia, dell'Egitto
        m = _ELISION.match(word)
        if m and len(word) > m.end() and word[m.end()].isupper():
            out = [(word[m.end():].lower(), start + m.end(), start + len(word))]
        return out

    @staticmethod
    def _stem_lookup(trie: dict, word: str) -> Optional[dict]:
        """Russian/Ukrainian case endings: Россия / России / Россией -> Россия."""
        for cut in (1, 2, 3):
            stem = word[:-cut]
            if len(stem) < 3:
                break
            for ending in ("я", "а", "й", "ия", "ь", ""):
                node = trie.get(stem + ending)
                if node is not None and None in node:
                    return node
        return None

    def _usable(self, tokens: Tokens, i: int, start: int, end: int, entries: list[_Entry]) -> list[_Entry]:
        out = []
        text = tokens.text
        for e in entries:
            if e.exact is not None:
                if text[start:end] != e.exact or (e.exact == "US" and tokens.caps[i]):
                    continue
            if e.after_comma and not text[max(0, start - 3):start].rstrip().endswith(","):
                continue
            if e.needs_period and text[end:end + 1] != ".":
                continue
            out.append(e)
        return out


# Everyday names pycountry spells formally (Russian Federation; Korea, Republic of): a few per language.
_LOCAL = {
    "fr": "Russie=RU; Corée du Sud=KR; Corée du Nord=KP; Iran=IR; Syrie=SY; Vietnam=VN; Taïwan=TW; Bolivie=BO; "
          "Venezuela=VE; Tanzanie=TZ; Moldavie=MD",
    "es": "Rusia=RU; Corea del Sur=KR; Corea del Norte=KP; Irán=IR; Siria=SY; Vietnam=VN; EEUU=US",
    "de": "Russland=RU; Südkorea=KR; Nordkorea=KP; Iran=IR; Syrien=SY; USA=US",
    "it": "Russia=RU; Corea del Sud=KR; Corea del Nord=KP; Iran=IR; Siria=SY",
    "pt": "Rússia=RU; Coreia do Sul=KR; Coreia do Norte=KP; Irã=IR; Irão=IR; Síria=SY; EUA=US",
    "ru": "Россия=RU; Южная Корея=KR; Северная Корея=KP; США=US; Иран=IR; Сирия=SY; Великобритания=GB; "
          "Британия=GB",
    "nl": "Rusland=RU; Zuid-Korea=KR; Noord-Korea=KP",
}
_LOCAL_NAMES: dict[str, list[tuple[str, str, bool, bool, str]]] = {
    lang: [(name, code, False, False, "name") for name, code in (pair.split("=") for pair in names.split("; "))]
    for lang, names in _LOCAL.items()
}


def resolve(tokens: Tokens, matches: list[Match], gazetteer: CountryGazetteer, excluded: list[tuple[int, int]],
            title_codes: set[str]) -> tuple[Country, ...]:
    """Decide the code of each match, drop the ones the policies reject, and mark what the article is about."""
    text = tokens.text
    kept = []
    excluded = sorted(excluded)
    ex_starts = [s for s, _ in excluded]
    for i, start_off, entries, end_off in matches:
        if excluded:
            k = bisect_right(ex_starts, start_off) - 1
            if k >= 0 and excluded[k][1] > start_off or k + 1 < len(excluded) and ex_starts[k + 1] < end_off:
                continue
        if any(not e.code for e in entries):
            continue   # a blocked phrase ("Latin America", "Uruguay Round")
        lt = text.rfind("<", max(0, start_off - 40), start_off)
        if lt >= 0 and ">" not in text[lt:start_off] and ">" in text[end_off:end_off + 40].split("\n", 1)[0]:
            continue   # a ticker or company code in angle brackets: <UK>, <AMERICAN WEST BANK>
        if not _case_ok(tokens, i, start_off, end_off, gazetteer.common_words):
            continue
        kept.append((start_off, end_off, entries))
    strong: dict[str, int] = {}
    for _, _, entries in kept:
        if len(entries) == 1 and not entries[0].ambiguous:
            strong[entries[0].code] = strong.get(entries[0].code, 0) + 1
    for code in title_codes:
        strong[code] = strong.get(code, 0) + 1
    mentions: dict[str, list[tuple[int, int, str]]] = {}
    for s, e, entries in kept:
        code = _decide(entries, strong)
        if code:
            mentions.setdefault(code, []).append((s, e, entries[0].kind))
    out = []
    lead = _lead_end(text)
    for code, spans in mentions.items():
        about = code in title_codes or len(spans) >= 2 or spans[0][0] < lead
        out.append(Country(code=code, name=gazetteer.names.get(code, code), about=about,
                           mentions=tuple((s, e) for s, e, _ in spans)))
    for code in title_codes - set(mentions):
        out.append(Country(code=code, name=gazetteer.names.get(code, code), about=True, mentions=()))
    out.sort(key=lambda c: (not c.about, -len(c.mentions), c.code))
    return tuple(out)


def _decide(entries: list[_Entry], strong: dict[str, int]) -> str:
    """The code of a match: the one the article names unambiguously, else the marked default, else none."""
    if len(entries) == 1 and not entries[0].ambiguous:
        return entries[0].code
    codes = {e.code for e in entries}
    supported = [c for c in codes if strong.get(c)]
    if supported:
        return max(supported, key=lambda c: (strong[c], c))
    for e in entries:
        if e.default:
            return e.code
    return ""


def _case_ok(tokens: Tokens, i: int, start: int, end: int, common_words: frozenset[str]) -> bool:
    """A one-word name that is also a common word ("Turkey", "Chad") needs a capital that means something."""
    low = tokens.text[start:end].lower()
    if low not in common_words:
        return True
    if not (tokens.caps[i] or tokens.initial(i)):
        return True
    return re.search(r"(?<![\w-])" + re.escape(low) + r"(?![\w-])", tokens.text) is None


def _lead_end(text: str) -> int:
    """Offset where the lead ends: the first sentence end after 200 characters, or 400 at most."""
    m = _SENTENCE_END.search(text, 200)
    return min(m.end() if m else len(text), 400) if len(text) > 200 else len(text)
