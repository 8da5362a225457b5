"""People and countries an article mentions (placeholder: the extractors of issue 3 replace this)."""
from __future__ import annotations

from index.model import Country, Person


def extract_entities(body: str, language: str = "en", title: str = "") -> tuple[tuple[Person, ...], tuple[Country, ...]]:
    """People and countries found in `body`, with mention spans as offsets into `body`."""
    return (), ()


class _NullExtractor:
    def extract(self, body: str, language: str = "en", title: str = ""):
        return extract_entities(body, language, title)


def make_extractor(aliases_path: str | None = None):
    """An extractor with its tables built once (placeholder)."""
    return _NullExtractor()
