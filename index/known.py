"""What a committed index holds, looked up id by id: `add` asks only about the articles it reads.

Reading every id and checksum of the index at each `add` (as it once did) cost what the archive holds: 45 s of a
100-article add to a 100,000-article index. A `Known` is opened on the segments of one commit (the one the run
started from: articles written earlier in the same run are the run's own business, its duplicate check) and
answers, for an id, the short checksum of its live document, looking the ID term up in each segment (a hash
probe) and reading that one document's stored fields. Each worker process opens its own (a reader's files are
not shared across a fork).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from whoosh.reading import SegmentReader

from index import store
from index.schema import CHECKSUM, ID


def short_checksum(checksum: str) -> bytes:
    """The first 64 bits of a checksum: plenty to notice a change, and half the memory of the hex string."""
    try:
        return bytes.fromhex(checksum[:16])
    except ValueError:
        return checksum.encode()[:8]


class Known:
    """{article id: short checksum} of the live documents of one commit, looked up on demand."""

    def __init__(self, gen_dir: str | os.PathLike, segments: list):
        self._gen, self._segments = Path(gen_dir), list(segments)
        self._readers: Optional[list] = None   # opened at the first look-up
        self._cache: dict[str, Optional[bytes]] = {}

    def get(self, article_id: str, default=None) -> Optional[bytes]:
        """The short checksum of the live document with this id (`default` when there is none)."""
        if article_id not in self._cache:
            self._cache[article_id] = self._lookup(article_id)
        got = self._cache[article_id]
        return default if got is None else got

    def __contains__(self, article_id: str) -> bool:
        return self.get(article_id) is not None

    def _lookup(self, article_id: str) -> Optional[bytes]:
        if self._readers is None:
            ix = store.open_generation(self._gen)
            self._readers = [SegmentReader(ix.storage, ix.schema, segment) for segment in reversed(self._segments)]
        term = article_id.encode("utf-8", "surrogatepass")
        for reader in self._readers:   # newest segment first: a changed article's live version is there
            if (ID, term) not in reader:
                continue
            for docnum in reader.postings(ID, term).all_ids():
                if not reader.is_deleted(docnum):
                    return short_checksum(reader.stored_fields(docnum).get(CHECKSUM, ""))
        return None

    def close(self) -> None:
        for reader in self._readers or ():
            reader.close()
        self._readers = None


class KnownSpec:
    """How to open a Known in another process: the generation and the commit's segments."""

    def __init__(self, gen_dir: str | os.PathLike, segments: list):
        self.gen_dir, self.segments = str(gen_dir), list(segments)

    def open(self) -> Known:
        return Known(Path(self.gen_dir), self.segments)
