"""FastSegmentWriter writes what Whoosh's own SegmentWriter writes: every term, posting, position, weight, length,
stored field and column, read back through Whoosh's reader; and the term list equals the tokenizer's."""
from __future__ import annotations

import random
import struct
from pathlib import Path

import numpy as np
import pytest
from whoosh import index as whoosh_index
from whoosh.writing import SegmentWriter

from index.analysis import iter_terms, term_list
from index.readers import iter_units, read_unit
from index.builder import enrich
from index.entities import make_extractor
from index.model import Failure
from index.schema import build_schema, document_for
from index.postings import TERM_INFO, compress, encode_postings, term_records
from index.segment import FastSegmentWriter
from tests.conftest import SAMPLES, article, country, person

DEMO = Path(__file__).resolve().parent.parent / "web" / "demo_articles"


def _demo_articles():
    extractor = make_extractor(None)
    out = []
    for unit in iter_units([str(DEMO)]):
        if isinstance(unit, Failure):
            continue
        for item in read_unit(unit):
            if not isinstance(item, Failure):
                out.append(enrich(item, extractor))
    return out


def _tricky_articles():
    """Stop words first (renumbered positions), repeated words, every script, empty-ish fields, > 128 postings
    per term (several blocks), long documents (length bytes), and the same word in many fields."""
    rng = random.Random(7)
    words = ("the of and le la les der die das el los news market 東京 タワー 서울에서 ภาษาไทย महात्मा "
             "العربية l'État U.S. Trump's 3.5 eleições conflits bateaux élection Élections straße").split()
    arts = []
    for i in range(300):
        body = " ".join(rng.choice(words) for _ in range(rng.randint(1, 400 if i % 50 == 0 else 40)))
        lang = rng.choice(["en", "fr", "de", "pt", "es", "ar", "ja", "und", "sv"])
        arts.append(article(id=f"t{i}", title=rng.choice(["The the market", "Le marché", "東京", "x"]),
                            body=f"The {body}\n\nand of the {rng.choice(words)}", language=lang,
                            keywords=("news", "market") if i % 3 else (),
                            people=(person("Haruto Ikeda"),) if i % 4 == 0 else (),
                            countries=(country("JP", "Japan"),) if i % 5 == 0 else (),
                            published="2025-01-%02d" % (1 + i % 28), source=f"Outlet {i % 7}"))
    return arts


def _ascii_articles():
    """English wire copy (the ASCII fast path): U.S., Trump's, 3.5, e.g., words in capitals and lower case."""
    rng = random.Random(11)
    words = ("The the U.S. said Trump's market 3.5 pct e.g. a.m. Reuters REUTERS reuters it's O'Neill "
             "U.S.-based rate rates 1987 Fed fed's").split()
    return [article(id=f"e{i}", title=" ".join(rng.choice(words) for _ in range(5)),
                    body=" ".join(rng.choice(words) for _ in range(rng.randint(1, 300))), language="en")
            for i in range(160)]


def _schema_before_columns():
    """The schema of indexes built before dates became columns only: dates as trie terms, path and url as ids
    (`add` to such an index writes with the schema stored in it)."""
    from whoosh import fields
    from index import schema as S
    old = build_schema()
    for name, bits in ((S.DAY, 32), (S.TS, 64)):
        old.remove(name)
        old.add(name, fields.NUMERIC(numtype=int, bits=bits, signed=True, sortable=True))
    for name in (S.PATH, S.URL):
        old.remove(name)
        old.add(name, fields.ID(stored=True))
    return old


def _build(path: Path, writer_class, docs, schema=None) -> object:
    path.mkdir()
    ix = whoosh_index.create_in(str(path), schema or build_schema())
    writer = writer_class(ix)
    for doc in docs:
        writer.add_document(**doc)
    writer.commit()
    return whoosh_index.open_dir(str(path))


def _view(ix) -> dict:
    """Everything a reader can see of an index."""
    schema = ix.schema
    with ix.reader() as r:
        n = r.doc_count_all()
        terms = {}
        for fieldname in sorted(r.indexed_field_names()):
            fmt = schema[fieldname].format
            for btext in r.lexicon(fieldname):
                m = r.postings(fieldname, btext)
                posts = []
                while m.is_active():
                    value = m.value()
                    posts.append((m.id(), m.weight(), fmt.decode_positions(value)
                                  if fmt.supports("positions") else value))
                    m.next()
                ti = r.term_info(fieldname, btext)
                terms[fieldname, btext] = (posts, ti.weight(), ti.doc_frequency(), ti.min_length(),
                                           ti.max_length(), ti.max_weight(), ti.min_id(), ti.max_id())
        scorable = [f for f, obj in schema.items() if obj.scorable]
        return {
            "count": n,
            "terms": terms,
            "stored": list(r.all_stored_fields()),
            "lengths": {f: [r.doc_field_length(d, f) for d in range(n)] for f in scorable},
            "field_lengths": {f: r.field_length(f) for f in scorable},
            "minmax": {f: (r.min_field_length(f), r.max_field_length(f)) for f in scorable if r.field_length(f)},
            "columns": {f: list(r.column_reader(f)) for f, obj in schema.items() if obj.column_type},
        }


def test_fast_writer_writes_what_whoosh_writes_with_the_earlier_schema(tmp_path):
    docs = [document_for(a) for a in list(SAMPLES) + _ascii_articles()[:20]]
    slow = _view(_build(tmp_path / "whoosh", SegmentWriter, docs, _schema_before_columns()))
    fast = _view(_build(tmp_path / "fast", FastSegmentWriter, docs, _schema_before_columns()))
    assert fast == slow
    assert any(field == "day" for field, _ in slow["terms"])   # the dates' trie terms are there


@pytest.mark.parametrize("source", ["demo", "tricky", "samples", "ascii", "tricky-chunked"])
def test_fast_writer_writes_what_whoosh_writes(tmp_path, source, monkeypatch):
    if source.endswith("-chunked"):   # the flush's slices of terms, cut everywhere
        import index.segment
        monkeypatch.setattr(index.segment, "CHUNK_POSTINGS", 7)
        source = source[:-8]
    arts = {"demo": _demo_articles, "tricky": _tricky_articles, "ascii": _ascii_articles,
            "samples": lambda: list(SAMPLES)}[source]()
    docs = [document_for(a) for a in arts]
    slow = _view(_build(tmp_path / "whoosh", SegmentWriter, docs))
    fast = _view(_build(tmp_path / "fast", FastSegmentWriter, docs))
    assert fast["count"] == slow["count"] == len(docs)
    assert sorted(fast["terms"]) == sorted(slow["terms"])
    for key in slow["terms"]:
        assert fast["terms"][key] == slow["terms"][key], key
    for name in ("stored", "lengths", "field_lengths", "minmax", "columns"):
        assert fast[name] == slow[name], name
    if source == "tricky":   # the case this test exists for is really there
        assert any(len(v[0]) > 128 for v in slow["terms"].values())
        assert any(key[0].startswith("stem_") for key in slow["terms"])


def test_phrases_and_multiblock_terms_search_the_same(tmp_path):
    from whoosh import query as wq
    docs = [document_for(a) for a in _tricky_articles()]
    slow = _build(tmp_path / "whoosh", SegmentWriter, docs)
    fast = _build(tmp_path / "fast", FastSegmentWriter, docs)
    queries = [wq.Phrase("body", ["the", "market"]), wq.Term("body", "news"), wq.Phrase("stem_fr", ["march"]),
               wq.And([wq.Term("body", "the"), wq.Term("title", "market")]), wq.Phrase("body", ["東京", "京タ"])]
    for q in queries:
        with slow.searcher() as s1, fast.searcher() as s2:
            a = [(h.docnum, round(h.score, 5)) for h in s1.search(q, limit=None)]
            b = [(h.docnum, round(h.score, 5)) for h in s2.search(q, limit=None)]
        assert a == b, q
    with fast.searcher() as s:
        assert len(s.search(wq.Term("body", "the"), limit=None)) > 128


def test_a_bad_document_costs_only_itself(tmp_path):
    ix = whoosh_index.create_in(str(tmp_path), build_schema())
    writer = FastSegmentWriter(ix)
    good = document_for(article(id="good", body="Good words here"))
    bad = dict(document_for(article(id="bad", body="Broken \ud800 surrogate")))
    writer.add_document(**good)
    with pytest.raises(UnicodeEncodeError):
        writer.add_document(**bad)
    writer.add_document(**document_for(article(id="after", body="More words")))
    writer.commit()
    with whoosh_index.open_dir(str(tmp_path)).searcher() as s:
        assert sorted(f["id"] for f in s.all_stored_fields()) == ["after", "good"]
        assert [s.stored_fields(d)["id"] for d in s.document_numbers(body="words")] == ["good", "after"]


def test_term_list_is_iter_terms():
    rng = random.Random(3)
    alphabet = "abcAB É'’.. \n\u00ad\u200c東京タワー서울에서ภาษาไทยमहात्माال\u064bعربية1234.5ＡＢｶﾀ"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(3000)]
    ascii_alphabet = "abcAB'.. \n12s5S-_"   # the ASCII fast path: elisions, possessives, acronyms, numbers
    texts += ["".join(rng.choice(ascii_alphabet) for _ in range(rng.randint(0, 40))) for _ in range(3000)]
    # no CJK or Thai: the one-findall path, NFKC text or not (decomposed accents, ligatures, full-width letters,
    # Arabic vowel marks, Hebrew points, joiners, İ)
    spaced = "abcAB É'’.. \n\u00ad\u200cé\u0301ﬁＡＢİıßσςмирالعربيةًשָׁלוֹםमहात्मा1234.5"
    texts += ["".join(rng.choice(spaced) for _ in range(rng.randint(0, 40))) for _ in range(3000)]
    texts += ["".join(rng.choice("aé eÉ'’.\n") for _ in range(rng.randint(0, 40))) for _ in range(1000)]
    texts += ["L'État d'Italia U.S. Trump's 3.5 a.m. Ankara'da ok.Next e.g. l'", "L'amour d'un o'clock"]
    texts += [a.body for a in _demo_articles()]
    for text in texts:
        assert term_list(text) == [t for t, _, _ in iter_terms(text)], text


def _whoosh_postings(fmt, postings: list) -> tuple[bytes, object]:
    """What Whoosh's W3PostingsWriter writes for one term's (doc, weight, value, length) postings."""
    from io import BytesIO
    from whoosh.codec.whoosh3 import W3PostingsWriter, W3TermInfo
    from whoosh.filedb.structfile import StructFile
    out = BytesIO()
    writer = W3PostingsWriter(StructFile(out), 128)
    writer.start_postings(fmt, W3TermInfo())
    for doc, weight, value, length in postings:
        writer.add_posting(doc, weight, value, length)
    info = writer.finish_postings()
    return out.getvalue(), info


def _blocks(blob: bytes) -> list:
    """(info tuple, data tuple) of each block of a term's W3 postings."""
    import io
    import pickle
    import zlib
    assert blob[:4] == b"W3Bl"
    at, out = 4, []
    while True:
        (length,) = struct.unpack("!i", blob[at:at + 4])
        end = at + 4 + abs(length)
        stream = io.BytesIO(blob[at + 4:end])
        info = pickle.load(stream)
        data = stream.read()
        out.append((info, pickle.loads(zlib.decompress(data) if info[3] else data)))
        at = end
        if length < 0:
            assert at == len(blob)
            return out


def _decoded(blocks: list, fmt) -> list:
    """The blocks with the compression field of their info dropped (Whoosh compresses every block) and their
    values decoded."""
    def values(vs):
        return tuple(map(fmt.decode_positions, vs)) if fmt.supports("positions") else vs
    return [(info[:3] + info[4:], (ids, weights, values(vs))) for info, (ids, weights, vs) in blocks]


def test_posting_blocks_read_back_as_whoosh_writes_them():
    """encode_postings against W3PostingsWriter: every block's info and data and every term info, for positions
    (the values byte for byte, Whoosh's Positions encoding, up to pickle's batch of 1000), value bytes as a tuple,
    fixed-size values joined (Frequency) and no values (Existence)."""
    from whoosh.formats import Existence, Frequency, Positions
    from whoosh.util.numeric import length_to_byte
    rng = random.Random(5)
    poslists = [[0], [5], [300], [70000], [1, 2, 3], [0, 255, 256, 65535, 65536, 10 ** 7],
                list(range(0, 3003, 3))]   # more than one pickle batch
    terms = [[(7, [5])], [(0, [0])]]
    terms.append([(d, poslists[d % len(poslists)]) for d in range(0, 300)])          # three blocks
    terms.append(sorted({rng.randrange(70000): [rng.randrange(9)] for _ in range(200)}.items()))
    terms.append([(d, [1, 2]) for d in range(100, 400, 2)])                           # one weight per block
    terms.append([(2 ** 20, [3])])
    terms.append([(2 ** 20 + 70001 * i, [i % 5]) for i in range(300)])              # 4-byte ids
    encodings = {"positions": Positions().encode, "bytes": Positions().encode,
                 "joined": lambda ps: struct.pack("!I", len(ps)), None: lambda ps: b""}
    cases = [(Positions(), 1.0, "positions"), (Positions(), 2.5, "positions"), (Positions(), 1.0, "bytes"),
             (Frequency(), 1.0, "joined"), (Existence(), 1.0, None)]
    for fmt, boost, mode in cases:
        flat = [(doc, len(ps) * boost, ps, 1 + doc % 300) for postings in terms for doc, ps in postings]
        values = [encodings[mode](ps) for _, _, ps, _ in flat]
        bounds = np.cumsum([0] + [len(t) for t in terms])
        docs = np.array([d for d, _, _, _ in flat])
        weights = np.array([w for _, w, _, _ in flat])
        lengths = np.array([length_to_byte(n) for _, _, _, n in flat], np.uint8)
        if mode == "positions":
            given = {"positions": (np.array([len(ps) for _, _, ps, _ in flat]),
                                   np.concatenate([np.diff(ps, prepend=0) for _, _, ps, _ in flat]))}
        elif mode:
            given = {"values": (np.frombuffer(b"".join(values), np.uint8), np.array([len(v) for v in values])),
                     "joined": mode == "joined"}
        else:
            given = {}
        blob, infos = encode_postings(bounds, docs, weights, lengths, compress, **given)
        assert infos["offset"][0] == 0 and int(infos["offset"][-1] + infos["length"][-1]) == len(blob)
        compressed = 0
        for t, postings in enumerate(terms):
            mine = blob[int(infos["offset"][t]):int(infos["offset"][t] + infos["length"][t])]
            theirs, ti = _whoosh_postings(fmt, [(d, w, v, n) for (d, w, _, n), v in
                                                zip(flat[bounds[t]:bounds[t + 1]], values[bounds[t]:bounds[t + 1]])])
            assert _decoded(_blocks(mine), fmt) == _decoded(_blocks(theirs), fmt)
            assert (infos["weight"][t], infos["df"][t], infos["maxweight"][t], infos["minid"][t],
                    infos["maxid"][t]) == (ti.weight(), ti.doc_frequency(), ti.max_weight(), ti.min_id(), ti.max_id())
            assert (infos["minlen"][t], infos["maxlen"][t]) == (length_to_byte(ti.min_length()),
                                                                length_to_byte(ti.max_length()))
            blocks = _blocks(mine)
            compressed += sum(1 for info, _ in blocks if info[3])
            if mode in ("positions", "bytes"):   # the values byte for byte (positions: up to pickle's batch size)
                got = [v for _, data in blocks for v in data[2]]
                for value, want, (_, ps) in zip(got, values[bounds[t]:bounds[t + 1]], postings):
                    assert fmt.decode_positions(value) == ps
                    if len(ps) <= 1000 or mode == "bytes":
                        assert value == want
        assert compressed, mode   # the case of blocks worth compressing is there


def test_term_records_are_what_the_term_file_reads():
    from whoosh.codec.whoosh3 import W3TermInfo
    infos = np.zeros(3, dtype=TERM_INFO)
    infos["weight"], infos["df"], infos["offset"], infos["length"] = [1.5, 2, 3], [1, 2, 3], [0, 10, 2 ** 33], 9
    keys = [b"\x00\x01a", b"\x00\x01bb", "\x00\x02é".encode()]
    records, where = term_records(keys, infos, 100)
    for key, info, at in zip(keys, infos, where.tolist()):
        at -= 100
        klen, ilen = struct.unpack("!ii", records[at:at + 8])
        assert records[at + 8:at + 8 + klen] == key
        ti = W3TermInfo.from_bytes(records[at + 8 + klen:at + 8 + klen + ilen])
        assert (ti.weight(), ti.doc_frequency(), ti.extent()) == (info["weight"], info["df"],
                                                                    (info["offset"], info["length"]))


def test_term_file_hash_tables_find_every_key_and_no_other(tmp_path):
    """The ordered hash file FastSegmentWriter closes: every key found (by hash and by order), absent keys not."""
    import random as _random
    from whoosh.filedb.filestore import FileStorage
    from whoosh.filedb.filetables import OrderedHashReader, OrderedHashWriter
    from index.whoosh_wall import close_term_file
    rng = _random.Random(5)
    keys = sorted({bytes(rng.randrange(256) for _ in range(rng.randint(1, 12))) for _ in range(20000)})
    st = FileStorage(str(tmp_path))
    f = st.create_file("t.trm")
    writer = OrderedHashWriter(f)   # writes the header, as W3FieldWriter does
    positions = []
    for i, key in enumerate(keys):
        positions.append(f.tell())
        value = str(i).encode()
        f.write(struct.pack("!ii", len(key), len(value)) + key + value)
    writer.extras["fieldmap"] = {"body": 0}
    close_term_file(f, keys, positions, writer.extras)
    reader = OrderedHashReader(st.open_file("t.trm"), st.file_length("t.trm"))
    assert reader.extras["fieldmap"] == {"body": 0}
    for i, key in enumerate(keys):
        assert reader[key] == str(i).encode()
    assert list(reader.keys()) == keys
    for _ in range(2000):
        probe = bytes(rng.randrange(256) for _ in range(13))   # longer than any key: never present
        assert probe not in reader
    assert reader.closest_key(keys[100][:-1] + b"\x00") is not None


def test_a_writer_reusing_the_previous_writers_analysis_writes_the_same(tmp_path):
    """Segment two starts from segment one's vocabulary and stem maps (as the builder's workers do)."""
    docs = [document_for(a) for a in _tricky_articles() + _ascii_articles() + _demo_articles()]
    half = len(docs) // 2
    views = []
    for kind in ("whoosh", "fast"):
        path = tmp_path / kind
        path.mkdir()
        ix = whoosh_index.create_in(str(path), build_schema())
        analysis = None
        for part in (docs[:half], docs[half:]):
            writer = SegmentWriter(ix) if kind == "whoosh" else FastSegmentWriter(ix, analysis=analysis)
            for doc in part:
                writer.add_document(**doc)
            analysis = getattr(writer, "analysis", None)
            writer.commit(merge=False)
        with ix.reader() as r:
            assert len(list(r.leaf_readers())) == 2
        views.append(_view(whoosh_index.open_dir(str(path))))
    assert views[0] == views[1]


def test_commit_keeps_the_other_segments_as_they_are(tmp_path):
    """Whoosh's default commit merges small segments through add_reader; FastSegmentWriter never does (it would
    have to re-add their postings), so the earlier segments stay and every document stays searchable."""
    ix = whoosh_index.create_in(str(tmp_path), build_schema())
    for i in range(3):
        writer = FastSegmentWriter(ix)
        writer.add_document(**document_for(article(id=f"k{i}", body=f"common words number{i}")))
        writer.commit()
    with ix.searcher() as s:
        assert len(list(s.reader().leaf_readers())) == 3
        assert sorted(s.stored_fields(d)["id"] for d in s.document_numbers(body="common")) == ["k0", "k1", "k2"]
    with pytest.raises(ValueError):
        FastSegmentWriter(ix).commit(merge=True)


def test_the_per_word_rule_of_every_stemmed_field_is_its_analyzer(tmp_path):
    """Each stemmed field's filters run as one function per distinct word: the same term as the analyzer gives
    (plural rules, Snowball, Arabic, accent folding), for the words of every language the demo holds."""
    from index.schema import STEM_FIELDS
    from index.segment import _TextPlan
    schema = build_schema()
    words = {t for a in _demo_articles() for t in term_list(f"{a.title} {a.body}")}
    words |= {"eleições", "conflits", "bateaux", "élections", "straße", "running", "العربية", "вы", "été",
              "préoccupations", "nations", "x", "ab"}
    for lang, name in STEM_FIELDS.items():
        field = schema[name]
        plan = _TextPlan(field)
        assert plan.word_function is not None, lang
        for word in sorted(words):
            expected = [t.text for t in field.analyzer(word, positions=True, mode="index")]
            got = plan.map_word(word)
            assert ([got] if got is not None else []) == expected, (lang, word)


def test_small_segments_write_their_stored_offsets(tmp_path):
    """Whoosh writes a segment's stored-field offsets only above 32,768 documents and otherwise rebuilds them in
    Python at a reader's first stored read; newsdex's writer and merger write them for every segment, and the
    documents read back the same."""
    from index import merge
    from whoosh.reading import SegmentReader
    from index.whoosh_wall import STORED_COLUMN
    docs = [document_for(a) for a in _ascii_articles()[:40]]
    path = tmp_path / "ix"
    ix = _build(path, FastSegmentWriter, docs[:20])
    writer = FastSegmentWriter(ix)
    for doc in docs[20:]:
        writer.add_document(**doc)
    writer.commit(merge=False)

    def offsets_written(ix) -> list[bool]:
        out = []
        for segment in ix._segments():
            reader = SegmentReader(ix.storage, ix.schema, segment)
            column = reader._perdoc.column_reader("_stored", STORED_COLUMN)._child
            out.append(column.had_stored_offsets)
            reader.close()
        return out

    assert offsets_written(whoosh_index.open_dir(str(path))) == [True, True]
    merge.merge_all(path)
    ix = whoosh_index.open_dir(str(path))
    assert offsets_written(ix) == [True]
    with ix.searcher() as s:
        assert [f["id"] for f in s.all_stored_fields()] == [d["id"] for d in docs]
