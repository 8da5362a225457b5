"""Shared fixtures: an Article factory and real on-disk newsdex indexes built from Articles."""
from __future__ import annotations

import itertools
from datetime import datetime, timezone
from pathlib import Path

import pytest
from whoosh import index as whoosh_index

from index import integrity, store
from index.model import Article, Country, Person
from index.schema import document_for, person_key

_ids = itertools.count(1)


def person(name: str, *mentions) -> Person:
    return Person(name, person_key(name), tuple(mentions))


def country(code: str, name: str, about: bool = True) -> Country:
    return Country(code, name, about)


def when(text: str) -> datetime:
    """An aware UTC datetime from YYYY-MM-DD."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def article(**overrides) -> Article:
    """An Article with sensible defaults; any field can be overridden (published may be a YYYY-MM-DD string)."""
    n = next(_ids)
    fields = dict(id=f"a{n}", path=f"samples/a{n}.txt", title=f"Article {n}", body=f"Body of article {n}.",
                  published=when("2025-03-01"), date_source="meta", source="Harbour Post", language="en",
                  checksum=f"c{n}")
    fields.update(overrides)
    if isinstance(fields["published"], str):
        fields["published"] = when(fields["published"])
    return Article(**fields)


def write_index(root: Path, articles) -> Path:
    """Publish a new generation holding `articles` under `root` (the way a rebuild does); returns root."""
    gen = store.new_generation(root)
    ix = whoosh_index.open_dir(str(gen), indexname=store.INDEX_NAME)
    writer = ix.writer()
    for art in articles:
        writer.add_document(**document_for(art))
    writer.commit()
    integrity.write_manifest(gen)
    store.publish(root, gen)
    return root


@pytest.fixture
def make_article():
    """Factory: make_article(**overrides) -> Article."""
    return article


@pytest.fixture
def make_index(tmp_path):
    """Factory: make_index(articles, name="index") -> index root, a real published index in tmp_path."""
    def make(articles, name: str = "index") -> Path:
        return write_index(tmp_path / name, articles)
    return make


# -- the search tests' sample articles (fictional people; hostile text; French and Japanese) ----------------

JP, KR, FR, US, DE = (country("JP", "Japan"), country("KR", "South Korea"), country("FR", "France"),
                      country("US", "United States"), country("DE", "Germany"))

SAMPLES = (
    article(id="jp-quake", title="Strong earthquake shakes Tokyo",
            body="A strong earthquake struck near Tokyo on Monday. The Prime Minister Haruto Ikeda said rescue "
                 "teams were ready. Trains stopped across the region.",
            published="2025-01-06", source="Harbour Post", people=(person("Haruto Ikeda"),), countries=(JP,)),
    article(id="kr-election", title="South Korea holds presidential election",
            body="Voters in South Korea elected a new president on Tuesday. Turnout in the election was high. "
                 "Lena Vossberg, an observer, said the vote was calm.",
            published="2025-06-03", source="Gulf Times", people=(person("Lena Vossberg"),), countries=(KR,)),
    article(id="kr-trade", title="Seoul and Tokyo agree trade talks",
            body="Officials from South Korea and Japan agreed to hold trade talks in May. Haruto Ikeda welcomed "
                 "the talks. Min-jun Park led the Korean delegation.",
            published="2025-05-12", source="Gulf Times",
            people=(person("Haruto Ikeda"), person("Min-jun Park")), countries=(KR, JP)),
    article(id="fr-elections", title="Les élections législatives approchent",
            body="Les électeurs français voteront en juin. Tomas Ferrante, ministre de l'Intérieur, a présenté "
                 "le calendrier des élections.",
            published="2025-05-20", source="Le Quotidien", language="fr", people=(person("Tomas Ferrante"),),
            countries=(FR,)),
    article(id="ja-quake", title="東京都で強い地震",
            body="東京都で強い地震が発生した。気象庁によると、地震の規模はマグニチュード6.1だった。",
            published="2025-01-07", source="Asahi Test", language="ja", countries=(JP,)),
    article(id="hostile", title="<script>alert('x')</script> Budget vote delayed",
            body='The budget vote was delayed after a page showed <img src=x onerror=alert(1)> & other "tricks". '
                 "Mara Quill said the budget would pass.",
            published="2025-02-14", source="Harbour Post", people=(person("Mara Quill"),), countries=(US,)),
    article(id="budget-2024", title="City budget approved",
            body="The city council approved the budget for 2025. Mara Quill voted against the budget plan. "
                 "The parliament later debated it.",
            published="2024-12-18", source="Harbour Post", people=(person("Mara Quill"),), countries=(US,)),
    article(id="undated", title="Harbour cranes repaired",
            body="Workers repaired two cranes at the harbour. The harbour reopened.",
            published=None, date_source="none", source="Harbour Post"),
    article(id="de-trade", title="German exporters expect trade growth",
            body="German exporters expect trade with Korea to grow. Lena Vossberg of the trade association spoke "
                 "in Berlin.",
            published="2025-05-28", source="Gulf Times", people=(person("Lena Vossberg"),), countries=(DE, KR)),
    article(id="kr-quake", title="Minor earthquake in South Korea",
            body="A minor earthquake hit the south coast of South Korea. No damage was reported.",
            published="2025-05-30", source="Harbour Post", countries=(KR,)),
    article(id="fr-budget", title="Le budget de la ville",
            body="Le conseil municipal a adopté le budget. Mara Quill était présente.",
            published="2025-03-10", source="Le Quotidien", language="fr", people=(person("Mara Quill"),),
            countries=(FR,)),
)


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory) -> Path:
    """A real index of SAMPLES, built once per test session (read-only: tests must not change it)."""
    return write_index(tmp_path_factory.mktemp("samples") / "index", SAMPLES)


@pytest.fixture(scope="session")
def sample_searcher(sample_index):
    """One Searcher over the sample index, shared like a web process shares it."""
    from search import Searcher
    searcher = Searcher(sample_index)
    yield searcher
    searcher.close()
