"""The read interface of one opened index version, declared once: what the search layer asks of the index.

`search/snapshot.py` `Snapshot` implements it over Whoosh's files (through `index/whoosh_wall.py`). Every other
module of search/ reaches the index only through these members (`tests/test_index_view.py` checks that every
`snap.<member>` they use is declared here, and that `Snapshot` has each), so another storage backend is a class
that implements this Protocol: per-document arrays, posting lists as numpy arrays, phrase matching, term
expansion, facet and story arrays, stored articles.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Optional, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class IndexView(Protocol):
    """One index version, as the searcher reads it. Document numbers run from 0 to `n_all` - 1; deleted ones
    stay numbered (False in `live`) until a merge."""

    # -- documents: arrays of n_all entries --------------------------------------------------------------------
    n_all: int                 # documents, deleted ones included
    n_docs: int                # live documents
    live: np.ndarray           # bool: not deleted
    day: np.ndarray            # int64: day number of publication (index.schema.NO_DAY when undated)
    ts: np.ndarray             # int64: publication time, seconds
    dated: np.ndarray          # bool: has a publication date
    stem_fields: dict          # language -> its stemmed text field, for the languages the index holds
    version: tuple             # (generation, commit) this view shows
    segment_count: int         # segments it reads (for stats)

    def calendar_index(self, unit: str) -> np.ndarray: ...         # month or year of each document
    def norms(self, field: str) -> np.ndarray: ...                  # BM25 length normalisation per document
    def title_weights(self) -> np.ndarray: ...                      # the title's weight in BM25F per document

    # -- terms -----------------------------------------------------------------------------------------------
    def postings(self, field: str, text: str) -> Any: ...           # .ids (sorted int32), .weights (float32)
    def term_frequencies(self, field: str, text: str) -> Any: ...   # the same, weights as plain frequencies
    def doc_frequency(self, field: str, text: str) -> int: ...
    def phrase_docs(self, field: str, words: tuple[str, ...]) -> np.ndarray: ...
    def expand(self, field: str, text: str, kind: str, distance: int = 0) -> list[str]: ...
    def concept_scores(self, key) -> tuple[bool, object]: ...       # a query word's scores kept by the view
    def keep_concept_scores(self, key, value) -> None: ...
    def warm_kept_terms(self, limit: int) -> int: ...               # re-read the last version's recent lists
    def release_prior(self) -> None: ...                            # drop the last version's arrays kept to extend

    # -- facets and stories ----------------------------------------------------------------------------------
    def facet(self, name: str) -> Any: ...                          # values, count(), totals, ords (FacetField)
    def stories(self) -> Any: ...                                   # story of each document (Stories)
    def person_name(self, key: str) -> str: ...

    # -- stored articles -------------------------------------------------------------------------------------
    def stored(self, docnum: int) -> dict: ...
    def stored_article(self, docnum: int) -> Any: ...               # index.model.Article
    def stored_each(self, docnums: Iterable[int]) -> Iterator[dict]: ...
    def docnum_of(self, article_id: str) -> Optional[int]: ...

    # -- lifecycle (search/live.py) ----------------------------------------------------------------------------
    refs: int                  # requests using it
    retired: bool              # replaced by a newer version: closed when its last request ends
    damage: Optional[Exception]   # set once a read found a damaged file: every later read raises it

    root: Any                  # the index root it was opened from (for messages)

    def verify_in_background(self) -> Any: ...
    def preload_postings(self, budget: int) -> tuple[int, bool]: ...   # map posting files' pages (a server)
    def close(self) -> None: ...
