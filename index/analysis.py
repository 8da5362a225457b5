"""Text analysis for the index: a universal (unstemmed) analyzer with CJK bigrams, and per-language stemmers.

The universal analyzer feeds the `title`/`body` fields (exact words, phrases, spelling, snippets); each language
Whoosh has a Snowball stemmer for gets its own stemmed field, so a French plural finds its singular without an
English stemmer mangling it. A query is analysed once per field it searches.
"""
from __future__ import annotations

import re
import unicodedata

from whoosh.analysis import (Filter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter, Token, Tokenizer)
from whoosh.lang import has_stemmer

# Languages Whoosh can stem (Turkish is listed by whoosh.lang but has no stemmer).
STEM_LANGUAGES = tuple(lang for lang in ("ar", "da", "de", "en", "es", "fi", "fr", "hu", "it", "nl", "no", "pt",
                                         "ro", "ru", "sv") if has_stemmer(lang))

# Han, Hiragana, Katakana, Hangul and their compatibility/extension blocks: scripts written without spaces
# (Hangul has spaces, but bigrams over it still match Korean compounds better than whole words).
_CJK = ("\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f\u31a0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
        "\uf900-\ufaff\uff66-\uff9f\U00020000-\U0002fa1f")
_TOKEN = re.compile(rf"[{_CJK}]+|[^\W_]+(?:['’.][^\W_]+)*", re.UNICODE)
_CJK_RUN = re.compile(rf"[{_CJK}]+")


def is_cjk_text(text: str) -> bool:
    """True when the text holds any CJK characters."""
    return bool(_CJK_RUN.search(text))


class WordAndBigramTokenizer(Tokenizer):
    """Words for alphabetic scripts; overlapping character bigrams for runs of CJK characters.

    Keeps character offsets (for highlighting) and positions (for phrase queries across bigrams).
    """

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.original = t.text = value
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar, t.endchar = start_char, start_char + len(value)
            yield t
            return
        pos = start_pos
        for match in _TOKEN.finditer(value):
            word = match.group()
            start = match.start()
            if _CJK_RUN.fullmatch(word):
                pieces = [(word[i:i + 2], start + i) for i in range(max(1, len(word) - 1))]
            else:
                pieces = [(word, start)]
            for text, offset in pieces:
                t.text = text
                t.boost = 1.0
                if keeporiginal:
                    t.original = text
                t.stopped = False
                if positions:
                    t.pos = pos
                    pos += 1
                if chars:
                    t.startchar = start_char + offset
                    t.endchar = start_char + offset + len(text)
                yield t


class FoldFilter(Filter):
    """Strips combining accents (é -> e) and folds ß, æ, œ; used only on stemmed fields.

    The unstemmed fields keep accents, so a query with the accent can still ask for exactly that word.
    """

    def __call__(self, tokens):
        for t in tokens:
            t.text = fold(t.text)
            yield t


_FOLD_TABLE = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l", "ı": "i"})


def fold(text: str) -> str:
    """Accent and ligature folding for Latin, Greek and Cyrillic text (keeps й and ё apart from и and е)."""
    text = text.translate(_FOLD_TABLE)
    if text.isascii():
        return text
    out = []
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch):
            base = out[-1] if out else ""
            # Cyrillic й (и + breve) and ё are distinct letters in Russian spelling rules; keep them composed.
            if base in "иИеЕ" and base:
                out[-1] = unicodedata.normalize("NFC", base + ch)
            continue
        out.append(ch)
    return "".join(out)


def universal_analyzer():
    """Unstemmed, lowercased words and CJK bigrams: exact matching, phrases, spelling and highlighting."""
    return WordAndBigramTokenizer() | LowercaseFilter()


def stem_analyzer(lang: str):
    """Words stemmed with the language's Snowball stemmer, stopwords of that language removed, accents folded."""
    chain = WordAndBigramTokenizer() | LowercaseFilter()
    try:
        chain = chain | StopFilter(lang=lang)
    except Exception:  # no stopword list for this language in Whoosh
        pass
    return chain | StemFilter(lang=lang, cachesize=50000) | FoldFilter()


def simple_tokens(text: str) -> list[str]:
    """The universal analyzer's terms for a string (used for query validation and highlighting)."""
    return [t.text for t in universal_analyzer()(text)]


def regex_word_tokenizer():
    """The plain word tokenizer (no bigrams), for keyword-ish fields."""
    return RegexTokenizer(r"[^\W_]+")
