"""index.segment_postings: a segment's posting arrays hold exactly what Whoosh reads from its W3 blocks (documents,
weights, positions), whether the writer or the merger wrote them; the search layer's reads and phrases through
them answer as Whoosh's block reads and span matchers do."""
from __future__ import annotations

import pickle
import random
import struct

import numpy as np
import pytest
from whoosh import formats
from whoosh import query as wq
from whoosh.writing import SegmentWriter

from index import merge, segment_postings, whoosh_wall
from index.postings import decode_positions
from index.schema import build_schema, document_for
from index.segment import FastSegmentWriter
from search.snapshot import Snapshot
from tests.test_merge import delete, write_segments
from tests.test_segment import _ascii_articles, _tricky_articles


def _whoosh_terms(sub):
    """{(field, term bytes): (docs, weights, positions or None)} of every term of a Positions field, as Whoosh's
    reader reads them from the blocks (deleted documents included: the arrays do not know of deletions)."""
    out = {}
    for field, fieldobj in sub.schema.items():
        if not isinstance(fieldobj.format, formats.Positions) or field not in whoosh_wall.field_names(sub):
            continue
        for btext, info in whoosh_wall.term_records(sub, field):
            ids, weights, values = whoosh_wall.term_postings(sub, info, None)
            positions = [fieldobj.format.decode_positions(v) for v in values]
            out[field, btext] = (list(ids), list(weights), positions, info)
    return out


def _check_segment(gen_dir, sub, expect_file: bool = True) -> int:
    """Every term the segment's file holds reads as Whoosh reads it, and every term it should hold is there;
    returns how many terms it holds."""
    arrays = segment_postings.load(gen_dir, sub.segment().segment_id())
    if not expect_file:
        assert arrays is None
        return 0
    assert arrays is not None
    held = 0
    for (field, btext), (ids, weights, positions, info) in _whoosh_terms(sub).items():
        term = arrays.term(field, btext)
        if len(ids) < segment_postings.MIN_DF:
            assert term is None, (field, btext)
            continue
        assert term is not None, (field, btext)
        held += 1
        assert term.docs.tolist() == ids, (field, btext)
        assert term.weights.tolist() == pytest.approx(weights, rel=1e-6), (field, btext)
        if field in segment_postings.POSITIONS_FOR:
            assert term.has_positions
            flat = term.positions().tolist()
            assert flat == [p for ps in positions for p in ps], (field, btext)
            assert term.freqs.tolist() == [len(ps) for ps in positions]
        else:
            assert not term.has_positions
    assert held == len(arrays)
    return held


@pytest.fixture
def small_min_df(monkeypatch):
    monkeypatch.setattr(segment_postings, "MIN_DF", 3)


def _docs():
    return [document_for(a) for a in _tricky_articles() + _ascii_articles()]


def test_the_writer_and_the_merger_write_what_whoosh_reads(tmp_path, small_min_df, monkeypatch):
    docs = _docs()
    groups = [docs[:90], docs[90:95], docs[95:300], docs[300:]]
    ix = write_segments(tmp_path / "ix", groups, [FastSegmentWriter, SegmentWriter, FastSegmentWriter,
                                                   FastSegmentWriter])
    gen = tmp_path / "ix"
    with ix.reader() as r:
        subs = [sub for sub, _ in r.leaf_readers()]
        held = [_check_segment(gen, sub, expect_file=i != 1) for i, sub in enumerate(subs)]
    assert held[0] > 50 and held[2] > 50
    delete(ix, [docs[i]["id"] for i in (0, 3, 91, 150, 151, 300, 459)])
    monkeypatch.setattr(merge, "CHUNK_POSTINGS", 7)   # the merger's slices of terms cut everywhere
    merge.merge_all(gen)
    from whoosh import index as whoosh_index
    with whoosh_index.open_dir(str(gen)).reader() as r:
        (sub, _), = r.leaf_readers()
        assert _check_segment(gen, sub) > 100
    # the sources' files went with them
    assert len(list(gen.glob(f"*{segment_postings.SUFFIX}"))) == 1


def test_widths_of_large_documents_numbers_and_positions(tmp_path, small_min_df):
    """Document gaps and positions past 255 and 65,535 take wider items."""
    from tests.test_segment import article
    rng = random.Random(3)
    docs = []
    for i in range(700):
        body = "alpha " + " ".join(rng.choice(["beta", "gamma", "delta"]) for _ in range(300 if i % 97 else 70_000))
        docs.append(document_for(article(id=f"w{i}", title="t", body=body + " omega" * (i % 300 == 1),
                                         language="en")))
    ix = write_segments(tmp_path / "ix", [docs], [FastSegmentWriter])
    with ix.reader() as r:
        (sub, _), = r.leaf_readers()
        arrays = segment_postings.load(tmp_path / "ix", sub.segment().segment_id())
        assert _check_segment(tmp_path / "ix", sub) >= 4
    assert {int(w) for w in arrays.entries["pw"]} >= {2, 4}
    assert {int(w) for w in arrays.entries["dw"]} >= {1, 2}   # "omega": documents 1, 301 and 601


def _positions_value(positions: list[int]) -> bytes:
    """Whoosh's Positions encoding of one posting (formats.Positions.encode)."""
    return formats.Positions().encode(positions)


def test_positions_decode_as_whoosh_encodes_them():
    rng = random.Random(5)
    postings = [sorted(rng.sample(range(max(4 * k, 2 ** rng.choice([4, 9, 17, 31]))), k)) for k in
                [1, 2, 3, 1, 999, 1000, 1001, 2500, 7, 1] + [rng.randint(1, 40) for _ in range(300)]]
    values = [_positions_value(p) for p in postings]
    data = np.frombuffer(b"".join(values), np.uint8)
    sizes = np.array([len(v) for v in values])
    counts, deltas = decode_positions(data, np.cumsum(sizes) - sizes, sizes)
    assert counts.tolist() == [len(p) for p in postings]
    assert segment_postings.absolute_positions(counts, deltas).tolist() == [x for p in postings for x in p]
    # a subset, in another order
    pick = np.array([5, 2, 9])
    starts = (np.cumsum(sizes) - sizes)[pick]
    counts, _ = decode_positions(data, starts, sizes[pick])
    assert counts.tolist() == [len(postings[i]) for i in pick]
    # not this layout: None, not garbage
    bad = struct.pack("!I", 2) + pickle.dumps([1.5, 2], 2)
    assert decode_positions(np.frombuffer(bad, np.uint8), np.array([0]), np.array([len(bad)])) is None
    two = values[0] + values[1]   # an empty value beside good ones (it would read its neighbour's bytes)
    assert decode_positions(np.frombuffer(two, np.uint8), np.array([0, 0]), np.array([0, len(two)])) is None


def test_a_file_cut_short_or_foreign_is_not_read(tmp_path, small_min_df):
    docs = _docs()[:200]
    ix = write_segments(tmp_path / "ix", [docs], [FastSegmentWriter])
    with ix.reader() as r:
        (sub, _), = r.leaf_readers()
        seg_id = sub.segment().segment_id()
    path = segment_postings.path_of(tmp_path / "ix", seg_id)
    assert segment_postings.load(tmp_path / "ix", seg_id) is not None
    data = path.read_bytes()
    path.write_bytes(data[:-5])
    assert segment_postings.load(tmp_path / "ix", seg_id) is None
    path.write_bytes(b"not ours" * 10)
    assert segment_postings.load(tmp_path / "ix", seg_id) is None


_WORDS = ("the of and to in a said market oil prices bank rates minister prime central trade deficit surplus "
          "government election football cup world gold silver coffee wheat corn tokyo profit chief executive "
          "interest stock shares new york the the of a").split()


def _write_archive(path, n: int, seed: int) -> list[str]:
    """JSON Lines of `n` English-like articles (words drawn from a small vocabulary, so phrases recur)."""
    import json
    rng = random.Random(seed)
    lines, texts = [], []
    for i in range(n):
        body = ". ".join(" ".join(rng.choice(_WORDS) for _ in range(rng.randint(4, 14)))
                         for _ in range(rng.randint(1, 40 if i % 20 else 120)))
        texts.append(body)
        lines.append(json.dumps({"id": f"s{seed}-{i}", "headline": " ".join(rng.choice(_WORDS) for _ in range(6)),
                                 "text": body.capitalize() + ".", "date": "2025-03-%02d" % (1 + i % 28),
                                 "source": f"Outlet {i % 5}"}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return texts


def _answers(root, phrases, words) -> dict:
    """Phrase documents and posting lists as a Snapshot reads them."""
    from search.snapshot import Snapshot
    from index import schema as S
    snap = Snapshot(root)
    try:
        out = {"phrases": {k: snap.phrase_docs(*k).tolist() for k in phrases}, "postings": {}}
        for w in words:
            for field in (S.TITLE, S.BODY, S.STEM_FIELDS["en"]):
                post = snap.postings(field, w)
                out["postings"][field, w] = (post.ids.tolist(), post.weights.tolist())
        return out
    finally:
        snap.close()


def _whoosh_answers(root, phrases, words) -> dict:
    """The same from Whoosh itself: its Phrase query (span matchers) and its posting matchers, deleted documents
    left out."""
    from index import schema as S
    from index.store import open_index
    with open_index(root).searcher() as searcher:
        reader = searcher.reader()
        out = {"phrases": {(f, w): sorted(searcher.docs_for_query(wq.Phrase(f, list(w)))) for f, w in phrases},
               "postings": {}}
        for w in words:
            for field in (S.TITLE, S.BODY, S.STEM_FIELDS["en"]):
                ids, weights = [], []
                if (field, w.encode()) in reader:
                    m = reader.postings(field, w.encode())
                    while m.is_active():
                        ids.append(m.id())
                        weights.append(float(np.float32(m.weight())))
                        m.next()
                out["postings"][field, w] = (ids, weights)
        return out


def test_searches_and_phrases_through_the_arrays_answer_as_whoosh(tmp_path, small_min_df, monkeypatch):
    """A Snapshot's posting lists and phrase documents with the arrays equal those it reads without them (Whoosh's
    blocks and span matchers): over several segments, after deletes, and after a merge."""
    from index import schema as S
    from index.builder import build_index, delete_articles, optimize_index
    root = tmp_path / "ix"
    for seed in range(3):
        _write_archive(tmp_path / f"part{seed}.jsonl", 120, seed)
        build_index([tmp_path / f"part{seed}.jsonl"], root, mode="add", workers=1)
    delete_articles(root, ["s0-1", "s0-7", "s1-30", "s2-119"])
    rng = random.Random(9)
    phrases = sorted({(S.BODY, (rng.choice(_WORDS), rng.choice(_WORDS))) for _ in range(120)}
                     | {(S.BODY, (rng.choice(_WORDS), rng.choice(_WORDS), rng.choice(_WORDS))) for _ in range(60)}
                     | {(S.TITLE, (rng.choice(_WORDS), rng.choice(_WORDS))) for _ in range(60)}
                     | {(S.BODY, ("the", "the")), (S.BODY, ("prime", "minister")), (S.BODY, ("of", "the", "of"))})
    words = sorted(set(_WORDS))
    real_load = segment_postings.load
    for _ in range(2):
        assert list(root.glob(f"**/*{segment_postings.SUFFIX}"))
        whoosh = _whoosh_answers(root, phrases, words)
        with_arrays = _answers(root, phrases, words)
        monkeypatch.setattr(segment_postings, "load", lambda *a: None)   # every term from its W3 blocks
        from_blocks = _answers(root, phrases, words)
        monkeypatch.setattr(segment_postings, "load", real_load)
        for got in (with_arrays, from_blocks):
            assert got["postings"] == whoosh["postings"]
            for key in phrases:
                assert got["phrases"][key] == whoosh["phrases"][key], key
        assert sum(1 for v in whoosh["phrases"].values() if v) > 60   # the phrases do match documents
        optimize_index(root)   # then again on the merged segment


def test_a_segment_without_a_language_is_not_asked_for_its_stemmed_words(tmp_path, monkeypatch):
    """A word's stemmed form in a language is looked up only in the segments that hold articles in that language
    (the others' stemmed field is empty), and the answers are the same as asking every segment."""
    import json
    from whoosh.reading import SegmentReader
    from index import schema as S
    from index.builder import build_index
    from search import SearchRequest, Searcher
    root = tmp_path / "ix"
    english = ["The harbour authority said the ferries would sail again on Monday after the storm.",
               "Ministers met in Kiel to discuss the price of electricity and the new harbour tax."]
    french = ["Les électeurs du port ont voté pour le nouveau maire de la ville, dit le ministre.",
              "Le ministre de l'Intérieur a présenté les élections municipales devant les électeurs du port."]
    for name, texts in (("en", english * 3), ("fr", french * 3)):
        with open(tmp_path / f"{name}.jsonl", "w", encoding="utf-8") as fh:
            for k, text in enumerate(texts):
                fh.write(json.dumps({"id": f"{name}-{k}", "title": text[:40], "text": f"{text} ({k})"}) + "\n")
        build_index([tmp_path / f"{name}.jsonl"], root, mode="add", workers=1)   # a segment per language
    fr_field = S.STEM_FIELDS["fr"]
    asked = []
    real = SegmentReader.__contains__

    def contains(self, key):
        asked.append((self.segment().segment_id(), self.field_length(key[0]), key[0]))
        return real(self, key)
    real_info = whoosh_wall.term_info

    def term_info(sub, field, btext):   # (a term the segment's posting arrays lack is looked up here)
        asked.append((sub.segment().segment_id(), sub.field_length(field), field))
        return real_info(sub, field, btext)

    requests = [SearchRequest(q=q, all_articles=True) for q in ("électeurs", "ministre", '"les électeurs"', "harbour")]
    searcher = Searcher(root)
    try:
        monkeypatch.setattr(SegmentReader, "__contains__", contains)
        monkeypatch.setattr(whoosh_wall, "term_info", term_info)
        got = [[h.id for h in searcher.search(r).hits] for r in requests]
        leaves = searcher._snap.leaves
        assert len(leaves) == 2 and sorted(sub.field_length(fr_field) == 0 for sub, _ in leaves) == [False, True]
        with_check, asked[:] = list(asked), []
        monkeypatch.setattr(Snapshot, "_empty_in", lambda self, sub, field: False)   # ask every segment
        searcher.close()
        searcher = Searcher(root)
        expected = [[h.id for h in searcher.search(r).hits] for r in requests]
    finally:
        searcher.close()
    assert got == expected and all(got[:3]) and got[3]

    def empty_segment_asked(calls):
        return [call for call in calls if call[1] == 0 and call[2] == fr_field]
    assert with_check and not empty_segment_asked(with_check)
    assert empty_segment_asked(asked)   # without the check, the English segment is asked for French stems
