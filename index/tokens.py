"""The capitalised words of a text, with their offsets and context: what the people and country finders read.

Only capitalised words are tokenised: names start with one, and that keeps the cost per article small.
index/people.py reads them as Units (a word, its offsets, whether its line is in capitals); index/countries.py
walks its gazetteer's trie from them.
"""
from __future__ import annotations

import re
from itertools import repeat
from typing import NamedTuple

_UPPER = "".join(chr(c) for c in range(0x41, 0x2000) if chr(c).isupper() and chr(c).isalpha())
_UPPER_CLASS = "[" + re.escape(_UPPER) + "]"
# Capitalised words: dotted abbreviations (U.S., N.Y.) first; apostrophes and hyphens stay inside a word
# (O'Neill, Jae-myung) but a possessive 's is left out (Japan's -> Japan).
_CAP = re.compile(_UPPER_CLASS + r"(?:\.(?:" + _UPPER_CLASS + r"\.)+|"
                  r"[^\W\d_]*(?:['’](?![sS]\b)[^\W\d_]+|[-‐][^\W\d_]+)*)")
# Arabic names written with a lower-case article: al-Kabariti, el-Sisi (checked only when "l-" occurs).
_ARTICLE = re.compile(r"(?<![^\W\d_])[ae]l-(?=" + _UPPER_CLASS + ")")
# Any next word after a position (for multi-word names with lower-case words: "Republic of the Congo").
_NEXT_WORD = re.compile(r"[ \t]*\n?[ \t]*[-‐]?"
                        r"((?:[^\W\d_]\.){2,}(?![^\W\d_])|[^\W\d_]+(?:['’](?![sS]\b)[^\W\d_]+)*)")
_LOWER = re.compile(r"[a-z]")


class Unit(NamedTuple):
    """A capitalised word as people.py reads names from it."""

    i: int          # its number among the text's capitalised words (Tokens.words[i])
    caps: bool      # on a line in capitals (a headline, a dateline: its case says nothing)
    text: str       # the word, an initial with its full stop ("J.")
    low: str        # the same in lower case
    start: int      # offsets in the text
    end: int


_new_tuple = tuple.__new__   # map(_new_tuple, repeat(Unit), rows): NamedTuples made at C speed (Unit(*row) is not)


class Tokens:
    """The capitalised words of a text with offsets; context (sentence start, capitals line) computed on demand.

    Only capitalised words are tokenised: names start with one, and that keeps the cost per article small."""

    __slots__ = ("text", "words", "starts", "ends", "lower", "caps", "units")

    def __init__(self, text: str):
        self.text = text
        words = _CAP.findall(text)
        if "l-" in text:
            words, starts = self._articles(words)
        else:
            starts = None
        # Offsets (findall + str.find is three times faster than finditer, and find cannot land early because
        # every capitalised word after the previous match is itself a match), lower case, whether the word is on
        # a line in capitals (headlines, datelines: case says nothing there), and the name units people.py reads:
        # Units, an initial keeping its full stop ("J.").
        if starts is None:
            starts = []
            append, pos, find = starts.append, 0, text.find
            for w in words:
                pos = find(w, pos)
                append(pos)
                pos += len(w)
        ends = [s + len(w) for s, w in zip(starts, words)]
        lower = [w.lower() for w in words]
        caps = [False] * len(words)
        units = list(map(_new_tuple, repeat(Unit), zip(range(len(words)), caps, words, lower, starts, ends)))
        lines: dict[int, bool] = {}
        for i in [i for i, w in enumerate(words) if w.isupper()]:
            s, w = starts[i], words[i]
            ls = text.rfind("\n", 0, s) + 1
            flag = lines.get(ls)
            if flag is None:
                le = text.find("\n", s)
                flag = lines[ls] = _LOWER.search(text, ls, le if le >= 0 else len(text)) is None
            caps[i] = flag
            e = ends[i]
            if len(w) == 1 and text[e:e + 1] == ".":
                units[i] = Unit(i, flag, w + ".", lower[i] + ".", s, e + 1)
            elif flag:
                units[i] = Unit(i, flag, w, lower[i], s, e)
        self.words, self.starts, self.ends, self.lower, self.caps, self.units = words, starts, ends, lower, caps, units

    def _articles(self, words: list[str]) -> tuple[list[str], list[int]]:
        """Offsets, with "Kabariti" extended to "al-Kabariti"."""
        text = self.text
        at = {m.end(): m.start() for m in _ARTICLE.finditer(text)}
        out, starts, pos = [], [], 0
        for w in words:
            pos = text.find(w, pos)
            if pos in at:
                out.append(text[at[pos]:pos] + w)
                starts.append(at[pos])
            else:
                out.append(w)
                starts.append(pos)
            pos += len(w)
        return out, starts

    def initial(self, i: int) -> bool:
        """True if word i starts a sentence or paragraph (where a capital says little)."""
        text, j = self.text, self.starts[i] - 1
        while j >= 0 and text[j] in _OPENERS_SPACE:
            j -= 1
        if j < 0:
            return True
        c = text[j]
        if c == "\n":
            if self.starts[i] - j > 2 or (j > 0 and text[j - 1] == "\n"):
                return True      # blank line or indented line: a new paragraph
            j -= 1
            while j >= 0 and text[j] in " \t":
                j -= 1
            if j < 0 or text[j] == "\n":
                return True
            c = text[j]
        while c in _CLOSERS and j > 0:
            j -= 1
            c = text[j]
        if c in "!?":
            return True
        if c != ".":
            return False
        word = _word_before(text, j)
        return not (len(word) == 1 or word.lower() in _ABBREVIATIONS)   # "Mr. Lee", "J. Smith"

    def prev_word(self, i: int) -> str:
        """The word just before word i, lower case ('' if punctuation other than a full stop or quote intervenes)."""
        text, j = self.text, self.starts[i]
        while j > 0 and text[j - 1] in " \t\n\"'“‘":
            j -= 1
        if j > 0 and text[j - 1] == ".":
            j -= 1
        if j == 0 or not text[j - 1].isalpha():
            return ""
        k = text.rfind(" ", max(0, j - 25), j)
        word = text[k + 1:j] if k >= 0 else text[max(0, j - 25):j]
        if not word.isalpha():
            word = word.rsplit("\n", 1)[-1].lstrip("(\"'“‘[«-")
            if not word.isalpha():
                return ""
        return word.lower()

    def next_words(self, pos: int, limit: int = 8):
        """Words after offset `pos` on the same paragraph: (word, start, end), stopping at punctuation."""
        text = self.text
        for _ in range(limit):
            m = _NEXT_WORD.match(text, pos)
            if m is None:
                return
            yield m.group(1), m.start(1), m.end(1)
            pos = m.end(1)


_OPENERS_SPACE = frozenset(" \t\"'“‘(«[–—-")
_CLOSERS = frozenset("\"'”’)»]")


def _word_before(text: str, j: int) -> str:
    """The word that ends just before offset j (leading punctuation stripped)."""
    k = max(text.rfind(" ", max(0, j - 25), j), text.rfind("\n", max(0, j - 25), j))
    word = text[k + 1:j] if k >= 0 else text[max(0, j - 25):j]
    if not word.isalpha():
        word = word.lstrip("(\"'“‘[«-")
        if not word.isalpha():
            return ""
    return word


_ABBREVIATIONS = frozenset("mr mrs ms dr prof st sen rep gov gen col lt capt adm sgt rev messrs mme mlle jr sr"
                           .split())
