"""What one version of a story changed against another: a compact word-level diff for the article page.

Only the changed runs are shown, each with a few words of context; words are escaped here and the result is
Markup holding nothing but <ins> (in the other version, not in this one) and <del> (here, cut there).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from markupsafe import Markup, escape

MAX_WORDS = 3000        # words of each body compared (copies share their start; bounds the cost)
CONTEXT = 6             # words of unchanged text shown either side of a change
MAX_HUNKS = 6           # changed runs shown per version
MAX_RUN = 40            # words shown of one long added or cut run
_TOKEN = re.compile(r"\s*(?:\w+|[^\w\s])")    # a word or a punctuation mark, with the space before it


@dataclass(frozen=True)
class StoryDiff:
    added: int                    # words in the other version only
    cut: int                      # words in this version only
    hunks: tuple[Markup, ...]     # the first MAX_HUNKS changed runs with context
    more: int                     # changed runs not shown

    @property
    def same(self) -> bool:
        return not self.added and not self.cut


def _text(tokens: list[str]) -> str:
    return "".join(tokens)


def _clip(tokens: list[str], limit: int = MAX_RUN) -> str:
    """The run's text, its middle elided when long; leading space stripped (the markup adds its own)."""
    if len(tokens) <= limit:
        return _text(tokens).strip()
    half = limit // 2
    return _text(tokens[:half]).strip() + " …" + _text(tokens[-half:])


def _words(tokens: list[str]) -> int:
    return sum(1 for t in tokens if any(c.isalnum() for c in t))


def diff_words(this: str, other: str) -> StoryDiff:
    """The differences of `other` against `this` (both plain text)."""
    a = _TOKEN.findall(this or "")[:MAX_WORDS]
    b = _TOKEN.findall(other or "")[:MAX_WORDS]
    ops = SequenceMatcher(None, [t.strip() for t in a], [t.strip() for t in b], autojunk=False).get_opcodes()
    added = sum(_words(b[j1:j2]) for tag, _, _, j1, j2 in ops if tag in ("insert", "replace"))
    cut = sum(_words(a[i1:i2]) for tag, i1, i2, _, _ in ops if tag in ("delete", "replace"))
    hunks = []
    changes = [k for k, op in enumerate(ops) if op[0] != "equal"]
    for k in changes[:MAX_HUNKS]:
        tag, i1, i2, j1, j2 = ops[k]
        before = a[max(0, i1 - CONTEXT):i1]
        after = a[i2:i2 + CONTEXT]
        parts = [escape(("… " if i1 > CONTEXT else "") + _text(before).strip())]
        for tokens, tag in ((a[i1:i2], "del"), (b[j1:j2], "ins")):
            if tokens:
                space = " " if tokens[0][:1].isspace() else ""
                parts.append(Markup("{}<{}>{}</{}>").format(space, Markup(tag), _clip(tokens), Markup(tag)))
        parts.append(escape(_text(after) + (" …" if i2 + CONTEXT < len(a) else "")))
        hunks.append(Markup("").join(parts))
    return StoryDiff(added, cut, tuple(hunks), max(0, len(changes) - MAX_HUNKS))
