"""Text analysis for the index: a universal (unstemmed) analyzer with CJK bigrams, and per-language stemmers.

The universal analyzer feeds the `title`/`body` fields (exact words, phrases, spelling, snippets); each language
Whoosh has a Snowball stemmer for gets its own stemmed field, so a French plural finds its singular without an
English stemmer mangling it. A query is analysed once per field it searches.

Tokens, in every script (character offsets always point at whole characters of the original text):

- Words: letters and digits *with their combining marks* (Devanagari vowel signs and virama, Thai tone marks,
  Arabic harakat, decomposed accents), so हिन्दी is one word, not three letters. Joiners inside a word (ZWNJ in
  Persian, soft hyphens) are dropped from the term. French/Italian/Catalan elisions are cut off (l'État -> état,
  dell'Italia -> italia), the English possessive too (Trump's -> trump), dotted acronyms lose their dots
  (U.S. -> us); numbers keep theirs (3.5).
- Han, kana and Hangul runs: overlapping character bigrams (a run of one character is one unigram). Korean
  words carry their particles (서울에서), so bigrams serve Hangul too. The katakana middle dot ・ splits runs.
- Thai, Lao, Khmer and Myanmar runs (no spaces between words): bigrams of grapheme clusters (a letter with its
  marks), so a mark is never cut off its letter.

Universal terms are NFKC-normalised (full-width ＡＢＣ -> abc, half-width ｶﾀｶﾅ -> カタカナ) and lowercased, with
İ -> i; accents are kept there, so a query with the accent can ask for exactly that word. Optional vowel marks of
Arabic (harakat, tatweel) and Hebrew (niqqud) are dropped: the same word is written with and without them.

Stemmed fields fold accents per language, after stemming (Snowball needs the accents): folded where they are
optional or commonly omitted (French, Spanish vowels, Portuguese, Italian, Dutch, English, German umlauts and ß,
Romanian), kept where they make a different letter of the alphabet (Spanish ñ; Swedish, Finnish, Danish and
Norwegian å ä ö ø æ; every Hungarian vowel; Russian й). Russian ё is folded to е (news text writes е for both).
Arabic is normalised the usual way (alef forms -> ا, ى -> ي, ة -> ه).
"""
from __future__ import annotations

import re
import unicodedata

from whoosh.analysis import Filter, RegexTokenizer, StemFilter, StopFilter, Token, Tokenizer
from whoosh.lang import has_stemmer
from whoosh.lang.isri import ISRIStemmer
from whoosh.lang.stopwords import stoplists

# Languages Whoosh can stem (Turkish is listed by whoosh.lang but has no stemmer).
STEM_LANGUAGES = tuple(lang for lang in ("ar", "da", "de", "en", "es", "fi", "fr", "hu", "it", "nl", "no", "pt",
                                         "ro", "ru", "sv") if has_stemmer(lang))

# Han (with 々〆〇), Hiragana, Katakana (not the middle dot ・), Bopomofo, Hangul and their compatibility and
# extension blocks: scripts written without spaces between words, or (Hangul) with particles glued on.
_CJK = ("\u2e80-\u2fdf\u3005-\u3007\u3040-\u309f\u30a0-\u30fa\u30fc-\u30ff\u3100-\u312f\u3131-\u318e"
        "\u31a0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f\U00020000-\U0002fa1f")
# Thai, Lao, Myanmar, Khmer: no spaces between words either, and marks stacked on letters.
_SEA = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"
_JOINERS = "\u00ad\u200b\u200c\u200d\u2060"   # soft hyphen, zero-width space/non-joiner/joiner, word joiner


def _mark_class() -> str:
    """Regex class body of every combining mark (Mn, Mc, Me) in the BMP and the joiners, as ranges."""
    ranges, start, prev = [], None, None
    for cp in range(0x300, 0x10000):
        if unicodedata.category(chr(cp))[0] == "M":
            if start is None:
                start = cp
            elif cp != prev + 1:
                ranges.append((start, prev))
                start = cp
            prev = cp
    ranges.append((start, prev))
    return "".join(f"{chr(a)}-{chr(b)}" if b > a else chr(a) for a, b in ranges) + _JOINERS


_MARKS = _mark_class()
_LETTER = rf"[^\W_{_CJK}{_SEA}]"
_WORD = rf"(?:{_LETTER}+[{_MARKS}]*)+"  # letters and marks are disjoint: linear
_TOKEN = re.compile(rf"([{_CJK}]+)|([{_SEA}]+)|({_WORD}(?:['’.]{_WORD})*)")
_CJK_RUN = re.compile(rf"[{_CJK}]+")
_CJK_COMPAT = re.compile("[\u2e80-\u2fdf\u3131-\u318e\uf900-\ufaff\uff00-\uffef]")  # NFKC changes these
_CLUSTER = re.compile(rf"[^{_MARKS}][{_MARKS}]*|[{_MARKS}]+")

# Elided articles and prepositions (French, Italian, Catalan) cut off the word they precede.
_ELISIONS = frozenset("l d j m n s t c qu jusqu lorsqu puisqu quoiqu presqu quelqu dell dall nell sull all coll "
                      "pell dagl degl sugl negl tutt quest quell nessun bell sant un".split())
_APOSTROPHES = "'’"
_STRIP = dict.fromkeys(map(ord, _JOINERS + "\u0640"), None)                     # joiners, Arabic tatweel
_STRIP.update(dict.fromkeys(range(0x064B, 0x0660), None))                      # Arabic harakat
_STRIP[0x0670] = None                                                          # Arabic superscript alef
_STRIP.update(dict.fromkeys(range(0x0591, 0x05C8), None))                      # Hebrew points and accents
for _cp in (0x05BE, 0x05C0, 0x05C3, 0x05C6):                                   # ... but not its punctuation
    _STRIP.pop(_cp, None)


def is_cjk_text(text: str) -> bool:
    """True when the text holds any CJK characters."""
    return bool(_CJK_RUN.search(text))


def normalize_term(text: str) -> str:
    """The universal form of a term: NFKC, lowercase (İ -> i), optional Arabic/Hebrew vowel marks dropped."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKC", text.translate(_STRIP)).replace("İ", "i")
    return text.lower()


def _word_pieces(word: str, start: int):
    """(text, offset) of the terms of one word match: elisions, possessives and dots handled."""
    if "'" in word or "’" in word:
        parts = re.split("['’]", word)
        head = parts[0].lower()
        if len(parts) == 2 and head in _ELISIONS and parts[1]:
            start += len(parts[0]) + 1
            word = parts[1]
        elif len(parts) == 2 and parts[0] and (parts[1] in ("s", "S") or (
                parts[0][0].isupper() and parts[1].islower() and len(parts[1]) <= 4)):
            word = parts[0]  # Trump's -> trump; Turkish case endings on names: Ankara'da -> ankara
    if "." in word:
        parts = word.split(".")
        if all(len(p) == 1 and p.isalpha() for p in parts):
            return [("".join(parts), start, start + len(word))]  # an acronym: U.S. -> us
        if not all(p.isdigit() for p in parts):
            pieces, offset = [], start
            for p in parts:
                if p:
                    pieces.append((p, offset, offset + len(p)))
                offset += len(p) + 1
            return pieces
    return [(word, start, start + len(word))]


def _bigrams(run: str, start: int, clusters: bool):
    """(text, start, end) of the overlapping bigrams of a run (of characters, or of grapheme clusters)."""
    if clusters:
        units = [(m.group(), start + m.start()) for m in _CLUSTER.finditer(run)]
    else:
        units = [(ch, start + i) for i, ch in enumerate(run)]
    if len(units) == 1:
        text, offset = units[0]
        return [(text, offset, offset + len(text))]
    out = []
    for (a, a_start), (b, b_start) in zip(units, units[1:]):
        out.append((a + b, a_start, b_start + len(b)))
    return out


def iter_terms(text: str):
    """(term, start, end) of the universal analyzer's tokens: what is indexed and where it is in the text."""
    for match in _TOKEN.finditer(text):
        word = match.group(3)
        if word is not None:
            if word.isalnum():  # the common case: one plain word (isalnum is False with marks, dots, apostrophes)
                yield (word.lower() if word.isascii() else normalize_term(word)), match.start(), match.end()
            else:
                yield from word_terms(word, match.start())
            continue
        elif match.group(1) is not None and not _CJK_COMPAT.search(match.group(1)):
            run, start = match.group(1), match.start()
            if len(run) == 1:
                yield run, start, start + 1
            for i in range(len(run) - 1):  # bigrams of plain CJK need no normalising
                yield run[i:i + 2], start + i, start + i + 2
            continue
        else:
            for piece, start, end in _bigrams(match.group(), match.start(), clusters=match.group(2) is not None):
                term = normalize_term(piece)
                if term:
                    yield term, start, end


# In ASCII text the universal token is just this (no marks, no CJK, no ’).
_ASCII_TOKEN = re.compile(r"[A-Za-z0-9]+(?:['.][A-Za-z0-9]+)*", re.ASCII)
# In text without CJK, Thai, Lao, Khmer or Myanmar, every token is a word (_TOKEN's third group).
_WORD_TOKEN = re.compile(rf"{_WORD}(?:['’.]{_WORD})*")
_UNSPACED = re.compile(rf"[{_CJK}{_SEA}]")
# What normalize_term changes in a text that is already NFKC: the characters it drops, and İ.
_UNNORMAL = re.compile("[" + "".join(re.escape(chr(cp)) for cp in _STRIP) + "İ]")


def word_matches(text: str):
    """The matches of `text` whose group() is each token `iter_terms` reads from it, in order, when every token is a
    word (ASCII text, or text without CJK, Thai, Lao, Khmer or Myanmar), else None. For a caller that wants the
    offsets of a few terms without a generator step per token: a match whose text is alphanumeric is one term,
    `word_terms` gives the others' (iter_terms does exactly this, with a costlier pattern)."""
    if text.isascii():
        return _ASCII_TOKEN.finditer(text)
    if _UNSPACED.search(text):
        return None
    return _WORD_TOKEN.finditer(text)


def word_terms(word: str, start: int) -> list[tuple[str, int, int]]:
    """(term, start, end) of a word match that is not alphanumeric (U.S., Trump's, l'État, 3.5), as iter_terms
    gives them."""
    terms = ((normalize_term(piece), a, b) for piece, a, b in _word_pieces(word, start))
    return [(term, a, b) for term, a, b in terms if term]


def term_list(text: str) -> list[str]:
    """The terms `iter_terms` yields, without their offsets, as a list: the indexer's fast path (index.segment).

    Text without scripts written without spaces is cut by one findall. If it is NFKC already and holds nothing
    normalize_term drops, every word is too (NFKC text cut anywhere stays NFKC): lowercasing is all it needs."""
    if text.isascii():
        words, lower = _ASCII_TOKEN.findall(text), str.lower
    elif _UNSPACED.search(text):
        return [term for term, _, _ in iter_terms(text)]
    else:
        words = _WORD_TOKEN.findall(text)
        plain = unicodedata.is_normalized("NFKC", text) and not _UNNORMAL.search(text)
        lower = str.lower if plain else normalize_term
    joined = [i for i, w in enumerate(words) if not w.isalnum()]   # ' . or marks (U.S., Trump's, 3.5, हिन्दी)
    if not joined:
        return list(map(lower, words))
    out: list[str] = []
    done = 0
    for i in joined:
        out += map(lower, words[done:i])
        out += [term for term in (normalize_term(piece) for piece, _, _ in _word_pieces(words[i], 0)) if term]
        done = i + 1
    out += map(lower, words[done:])
    return out


class WordAndBigramTokenizer(Tokenizer):
    """Words for alphabetic scripts; bigrams for CJK and for Thai/Lao/Khmer/Myanmar (see the module docstring).

    Terms come out normalised (NFKC, lowercase); offsets (for highlighting) and positions (for phrases across
    bigrams) are kept.
    """

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.original = t.text = normalize_term(value)
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar, t.endchar = start_char, start_char + len(value)
            yield t
            return
        pos = start_pos
        for term, start, end in iter_terms(value):
            t.text = term
            t.boost = 1.0
            if keeporiginal:
                t.original = value[start:end]
            t.stopped = False
            if positions:
                t.pos = pos
                pos += 1
            if chars:
                t.startchar = start_char + start
                t.endchar = start_char + end
            yield t


# --- folding (stemmed fields) --------------------------------------------------------------------------------

_LIGATURES = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l", "ı": "i"})
# Letters (base + combining mark, composed) that are letters of their own in the language: never folded.
_KEEP = {
    "es": set("ñ"), "sv": set("åäö"), "fi": set("åäö"), "da": set("åæø"), "no": set("åæø"),
    "hu": set("áéíóöőúüű"), "ru": set("й"), "": set("й"),
}
_NORDIC_LIGATURES = str.maketrans({"ß": "ss", "œ": "oe", "ł": "l", "đ": "d"})
_ARABIC = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"})


def fold(text: str, lang: str = "") -> str:
    """Accent and ligature folding for a language's stemmed field (letters of its alphabet kept; see above)."""
    if lang == "ar":
        return text.translate(_STRIP).translate(_ARABIC)
    if text.isascii():
        return text
    keep = _KEEP.get(lang, ())
    text = text.translate(_NORDIC_LIGATURES if lang in ("da", "no", "sv", "fi") else _LIGATURES)
    out = []
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch):
            if out and unicodedata.normalize("NFC", out[-1] + ch) in keep:
                out[-1] = unicodedata.normalize("NFC", out[-1] + ch)
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


class FoldFilter(Filter):
    """Folds accents the way `fold` does for one language; used only on stemmed fields."""

    def __init__(self, lang: str = ""):
        self.lang = lang
        self._cache: dict = {}

    def __eq__(self, other):
        return type(other) is type(self) and other.lang == self.lang

    def __call__(self, tokens):
        cache, lang = self._cache, self.lang
        for t in tokens:
            text = t.text
            folded = cache.get(text)
            if folded is None:
                folded = fold(text, lang)
                if len(cache) < 100_000:
                    cache[text] = folded
            t.text = folded
            yield t

    def __getstate__(self):
        return {"lang": self.lang}

    def __setstate__(self, state):
        self.lang = state.get("lang", "")
        self._cache = {}


class PortuguesePluralFilter(Filter):
    """-ões -> -ão before stemming: Snowball stems eleição and eleições apart (eleiçã, eleiçõ). Not -ães:
    mães (mothers) would become mão (hand)."""

    @staticmethod
    def convert(text: str) -> str:
        return text[:-3] + "ão" if text.endswith("ões") and len(text) > 4 else text

    def __call__(self, tokens):
        convert = self.convert
        for t in tokens:
            t.text = convert(t.text)
            yield t


class FrenchPluralFilter(Filter):
    """Plural -s after u, o, r, t and -eaux -> -eau before stemming. Snowball French keeps those (prévus, euros,
    passagers, conflits, bateaux stem apart from prévu, euro, passager, conflit, bateau). Not after i or a:
    chinois and français would lose their s but not chinoise and française."""

    @staticmethod
    def convert(text: str) -> str:
        if len(text) > 4 and ((text[-1] == "s" and text[-2] in "uort") or text.endswith("eaux")):
            return text[:-1]
        return text

    def __call__(self, tokens):
        convert = self.convert
        for t in tokens:
            t.text = convert(t.text)
            yield t


def universal_analyzer():
    """Unstemmed, normalised words and CJK/Thai bigrams: exact matching, phrases, spelling and highlighting."""
    return WordAndBigramTokenizer()


# Determiners Whoosh's lists miss (its French list has le and la but not les).
_EXTRA_STOPWORDS = {"fr": frozenset({"les", "cette", "cet"})}


class _ISRIStemmer(ISRIStemmer):
    """Whoosh's Arabic (ISRI) stemmer with its Python 3.7+ crash fixed: `norm` passes a raw-string alef escape
    as a regex replacement ("bad escape"), so every Arabic word long enough to reach it raised."""

    def norm(self, num):
        if num in (1, 3):
            self.stm = self.re_short_vowels.sub("", self.stm)
        if num in (2, 3):
            self.stm = self.re_intial_hamza.sub("\u0627", self.stm)
        return self.stm


_ISRI = _ISRIStemmer()


def arabic_stem(word: str) -> str:
    """The ISRI root-ish stem of an Arabic word."""
    return _ISRI.stem(word)


def stem_analyzer(lang: str):
    """Words stemmed with the language's Snowball stemmer, its stopwords removed, accents folded for it."""
    chain = WordAndBigramTokenizer()
    if lang in stoplists:
        chain = chain | StopFilter(stoplist=stoplists[lang] | _EXTRA_STOPWORDS.get(lang, frozenset()))
    if lang == "ar":
        return chain | StemFilter(stemfn=arabic_stem, cachesize=50000) | FoldFilter(lang)
    if lang == "pt":
        chain = chain | PortuguesePluralFilter()
    if lang == "fr":
        chain = chain | FrenchPluralFilter()
    return chain | StemFilter(lang=lang, cachesize=50000) | FoldFilter(lang)


def simple_tokens(text: str) -> list[str]:
    """The universal analyzer's terms for a string (used for query validation and highlighting)."""
    return [term for term, _, _ in iter_terms(text)]


def regex_word_tokenizer():
    """The plain word tokenizer (no bigrams), for keyword-ish fields."""
    return RegexTokenizer(r"[^\W_]+")
