"""A Whoosh segment writer for newsdex's schema that does in batches what Whoosh does posting by posting.

Whoosh 2.7.4's `SegmentWriter` spends ~12 ms per news article: every token goes through a generator chain of
Token objects, every posting through a sorting pool, and at flush every posting through four method calls, a
column lookup of its document's length and a protocol-2 pickle (which writes each bytes value as a call to
`_codecs.encode`). `FastSegmentWriter` produces the same segment (the same terms, postings, positions, weights,
lengths, stored fields and columns, read by Whoosh's own W3 reader) at a fraction of the cost:

- Text fields whose analyzer is newsdex's (`WordAndBigramTokenizer`, optionally followed by a stop filter and
  one-to-one token filters such as the stemmer and accent folding) are tokenised once per string with the same
  `term_list` the tokenizer uses, and each token becomes a number (its word's id in the writer's vocabulary).
  Filters run once per distinct word, not once per token, as one function made of the filters' text rules (a
  field with a filter whose rule is not known here goes through Whoosh's `field.index`): a stemmed field maps
  the word ids through an array (stop words to -1) and renumbers positions as Whoosh's StopFilter does. A
  stemmed field whose text is "title\n\nbody" reuses the title's and body's tokens (no token spans a line
  break).
- A document's text fields are kept as arrays of word ids; the flush sorts them by word (numpy, stable) and
  cuts them into postings, frequencies and positions without a Python loop per token.
- Id fields (IDTokenizer, no scoring) index their value as it is; other fields (keywords) go through Whoosh's
  own `field.index`, remembered for values that recur; both are kept per term.
- The flush writes W3 posting blocks (128 postings, the same block info) and the term file (Whoosh's ordered
  hash format; its hash tables filled in another valid order) itself: `index.postings` writes every field's
  posting pickles with numpy (see there), a text field's a slice of terms at a time.
- The frequent terms of the text fields also go, as arrays, to the segment's posting arrays file
  (index.segment_postings), named once the segment is assembled.
- `add_documents` analyses a batch of documents before keeping any: each stage's tables stay in the caches.

`tests/test_segment.py` builds the same articles with both writers and compares everything a reader can see.
"""
from __future__ import annotations

from array import array
from collections import defaultdict
from functools import partial
from itertools import chain, count
from typing import Any, NamedTuple

import numpy as np
from whoosh import fields as whoosh_fields
from whoosh import formats
from whoosh.analysis import IDTokenizer, StopFilter
from whoosh.analysis.analyzers import CompositeAnalyzer
from whoosh.analysis.morph import StemFilter
from whoosh.lang import stemmer_for_language
from whoosh.util.numeric import length_to_byte

from index import segment_postings
from index.postings import compress, encode_postings, term_records
from index.whoosh_wall import SegmentWriterBase, key_prefix
from index.analysis import (FoldFilter, FrenchPluralFilter, PortuguesePluralFilter, WordAndBigramTokenizer, fold,
                            term_list)

CHUNK_POSTINGS = 65536         # postings a flush encodes at a time (bounds the size of index.postings' arrays)


_EMPTY_IDS = np.zeros(0, np.int32)


class _Vocabulary:
    """Every distinct term string a writer has seen (words and their stems) -> a small int, and back."""

    def __init__(self):
        self.ids: defaultdict = defaultdict(count().__next__)   # a new string gets the next id (no Python code)
        self.strings: list[str] = []

    def __len__(self) -> int:
        return len(self.strings)

    def encode(self, terms: list[str]) -> np.ndarray:
        ids = np.fromiter(map(self.ids.__getitem__, terms), dtype=np.int32, count=len(terms))
        if len(self.ids) > len(self.strings):   # new strings: the dict's newest keys, in id order
            new = len(self.ids) - len(self.strings)
            keys = reversed(self.ids)
            self.strings += reversed([next(keys) for _ in range(new)])
        return ids

    def id_of(self, term: str) -> int:
        got = self.ids[term]
        if got == len(self.strings):
            self.strings.append(term)
        return got

    def text(self, text: str) -> np.ndarray:
        """The universal analyzer's terms of `text`, as ids."""
        return self.encode(term_list(text))


def _stem_rule(f: StemFilter):
    """What StemFilter.__call__ does to a word, without its cache's wrapper."""
    stem = stemmer_for_language(f.lang) if f.lang else f.stemfn
    ignore = f.ignore
    return lambda text: text if text in ignore else stem(text)


# Filters that map one token to one token by its text alone (safe to run once per distinct word), and that rule
# as a function of the text.
_TEXT_RULES = {
    FrenchPluralFilter: lambda f: f.convert,
    PortuguesePluralFilter: lambda f: f.convert,
    FoldFilter: lambda f: partial(fold, lang=f.lang),
    StemFilter: _stem_rule,
}


def _chain(field) -> tuple:
    """(tokenizer, stop filter or None, the other filters) of a field's analyzer."""
    analyzer = field.analyzer
    items = analyzer.items if isinstance(analyzer, CompositeAnalyzer) else [analyzer]
    rest = list(items[1:])
    stop = rest.pop(0) if rest and isinstance(rest[0], StopFilter) else None
    return items[0], stop, rest


class _TextPlan:
    """How to index one text field quickly: its stop rule and its per-word filters (none: the words as they are)."""

    def __init__(self, field):
        _, stop, filters = _chain(field)
        self.boost = field.format.field_boost
        self.stops, self.minsize, self.maxsize = None, 0, None
        if stop is not None:
            if not stop.renumber:
                raise ValueError("only renumbering stop filters are supported")
            self.stops, self.minsize, self.maxsize = stop.stops, stop.min, stop.max
        rules = [_TEXT_RULES[type(f)](f) for f in filters]

        def word_function(text: str) -> str:
            for rule in rules:
                text = rule(text)
            return text
        self.word_function = word_function
        self.plain = self.stops is None and not filters
        self.mapping = np.zeros(0, np.int32)   # word id -> term id, -1 for a stop word (not plain fields)

    @staticmethod
    def supports(field) -> bool:
        """True when the field is positional text analysed by newsdex's tokenizer and filters whose text rule is
        known (see _TEXT_RULES)."""
        if not isinstance(field.format, formats.Positions) or field.vector or field.separate_spelling():
            return False
        tokenizer, _, filters = _chain(field)
        return type(tokenizer) is WordAndBigramTokenizer and all(type(f) in _TEXT_RULES for f in filters)

    def map_word(self, word: str):
        """The term of one word through the filters, or None for a stop word."""
        stops = self.stops
        if stops is not None and (len(word) < self.minsize or word in stops
                                  or (self.maxsize is not None and len(word) > self.maxsize)):
            return None
        return self.word_function(word)

    def terms(self, words: np.ndarray, vocab: _Vocabulary) -> tuple[np.ndarray, int]:
        """The field's term ids for the tokenizer's word ids, and the position of the first: stop words removed
        and the rest renumbered, as Whoosh's StopFilter(renumber=True) does (the first kept word keeps its
        position, the others follow it)."""
        if self.plain or not len(words):
            return words, 0
        mapping = self.mapping
        top = int(words.max())
        if top >= len(mapping):
            grown = np.full(max(top + 1, 2 * len(mapping)), -2, np.int32)
            grown[:len(mapping)] = mapping
            mapping = self.mapping = grown
        mapped = mapping[words]
        if (mapped == -2).any():
            for word in np.unique(words[mapped == -2]).tolist():
                term = self.map_word(vocab.strings[word])
                mapping[word] = -1 if term is None else vocab.id_of(term)
            mapped = mapping[words]
        if self.stops is None:
            return mapped, 0
        kept = mapped >= 0
        if kept.all():
            return mapped, 0
        if not kept.any():
            return _EMPTY_IDS, 0
        return mapped[kept], int(kept.argmax())


class _TextField:
    """One text field's documents so far: doc numbers, term-id arrays and first positions."""

    __slots__ = ("docs", "arrays", "firsts")

    def __init__(self):
        self.docs: list[int] = []
        self.arrays: list[np.ndarray] = []
        self.firsts: list[int] = []


class Analysis:
    """What a writer learns about words (the vocabulary, each stemmed field's word -> term map): pass it on to
    the writer of the next segment of the same index (same schema) so its words are not analysed again; drop it
    when it grows too big (len: the words it holds)."""

    def __init__(self, schema):
        self.names = schema.names()
        self.plans = {name: _TextPlan(field) for name, field in schema.items()
                      if field.indexed and _TextPlan.supports(field)}
        self.vocab = _Vocabulary()

    def __len__(self) -> int:
        return len(self.vocab)


class Staged(NamedTuple):
    """One field of a document, analysed and not yet kept (add_documents analyses a batch before keeping any)."""

    name: str
    field: Any      # the schema's field
    value: Any      # the value as given (stored when the field is)
    items: Any      # None: not indexed; an array of term ids: a planned text field; else (term bytes, frequency,
    #                 weight, value bytes) per term, as Whoosh's field.index gives them
    length: int     # the field's length in tokens (scorable fields), else 0
    first: int      # the position of the first kept token (a stop filter numbers the others from it)


class FastSegmentWriter(SegmentWriterBase):
    """A SegmentWriter (same constructor) with a fast `add_document` and flush; see the module docstring."""

    def __init__(self, ix, analysis: "Analysis | None" = None, **kwargs):
        super().__init__(ix, **kwargs)
        # ids (one whole-value term) and keywords (values that recur: languages, outlets, countries)
        self._whole = {name: field.format.field_boost for name, field in self.schema.items()
                       if type(field) is whoosh_fields.ID and field.indexed and type(field.analyzer) is IDTokenizer
                       and type(field.format) is formats.Existence and not field.scorable}
        self._memo: dict = {}
        self.use_compressor(compress)   # Whoosh's zlib.compress: costly state per document
        if analysis is None or analysis.names != self.schema.names():
            analysis = Analysis(self.schema)
        self.analysis = analysis
        self._plans = analysis.plans
        self._vocab = analysis.vocab
        self._text: dict[str, _TextField] = {}    # planned text fields
        self._posts: dict[str, dict] = {}         # other fields: term bytes -> flat [docnum, weight, value, ...]
        self._doc_lengths: dict[str, array] = {}  # field -> length byte of each document (scorable fields)
        self.approx_bytes = 0                     # a rough size of what is held in memory

    def add_reader(self, reader):
        raise NotImplementedError("FastSegmentWriter writes new documents only; Whoosh's own writer merges")

    def commit(self, mergetype=None, optimize=False, merge=False):
        """Commit this segment beside the others (merging them would go through add_reader, which this writer
        does not do: the builder's commit merges with Whoosh's own writer)."""
        if mergetype is not None or optimize or merge:
            raise ValueError("FastSegmentWriter does not merge segments; commit with Whoosh's own writer to merge")
        return super().commit(merge=False)

    # -- adding ---------------------------------------------------------------------------------------------------

    def add_document(self, **fields):
        self._keep(self._stage(fields))

    def add_documents(self, docs: list[dict]) -> list:
        """Add several documents, stage by stage (all analysed, then all kept: each stage's tables stay in the
        processor's caches). Returns each one's docnum, or the exception that refused it (nothing of it kept)."""
        staged = []
        for fields in docs:
            try:
                staged.append(self._stage(fields))
            except Exception as exc:  # noqa: BLE001 - returned in the document's place
                staged.append(exc)
        return [got if isinstance(got, Exception) else self._keep(got) for got in staged]

    def _stage(self, fields: dict) -> list[Staged]:
        """A document's fields analysed, nothing kept yet (a failure here costs this document only)."""
        self.check_open()
        schema = self.schema
        names = sorted(fields)
        self.check_field_names(names)
        if any(name.startswith("_") for name in names):
            raise ValueError("FastSegmentWriter takes no boosts or custom stored values (fields named _...)")
        # Everything is computed before anything is kept, so a failure costs this document only.
        staged = []
        memo: dict[str, np.ndarray] = {}
        for name in names:
            value = fields[name]
            if value is None:
                continue
            field = schema[name]
            if not field.indexed:
                staged.append(Staged(name, field, value, None, 0, 0))
                continue
            plan = self._plans.get(name)
            if plan is not None:
                if not isinstance(value, str):
                    raise ValueError(f"{name}: {value!r} is not text")
                value.encode("utf-8")   # a lone surrogate fails here, not in the middle of the flush
                terms, first = plan.terms(self._words(value, memo), self._vocab)
                staged.append(Staged(name, field, value, terms, len(terms), first))
            elif name in self._whole:   # what IDTokenizer + Existence give: the value itself, once
                if not isinstance(value, str):
                    raise ValueError(f"{name}: {value!r} is not text")
                staged.append(Staged(name, field, value, ((value.encode("utf-8"), 1, self._whole[name], b""),), 0, 0))
            else:
                key = (name, value)
                indexed = self._memo.get(key) if isinstance(value, str) else None
                if indexed is None:
                    indexed = list(field.index(value))
                    if isinstance(value, str):
                        if len(self._memo) >= 20_000:
                            self._memo.clear()
                        self._memo[key] = indexed
                length = sum(freq for _, freq, _, _ in indexed) if field.scorable else 0
                staged.append(Staged(name, field, value, indexed, length, 0))
        return staged

    def _keep(self, staged: list[Staged]) -> int:
        """Keep a staged document: postings, lengths, stored fields and columns; returns its docnum."""
        docnum = self.docnum
        perdoc = self.perdocwriter
        perdoc.start_doc(docnum)
        added = 0
        for name, field, value, items, length, first in staged:
            if items is not None and len(items):
                if items.__class__ is np.ndarray:
                    text = self._text.get(name)
                    if text is None:
                        text = self._text[name] = _TextField()
                    text.docs.append(docnum)
                    text.arrays.append(items)
                    text.firsts.append(first)
                    added += 120 + 40 * len(items)
                else:
                    posts = self._posts.get(name)
                    if posts is None:
                        posts = self._posts[name] = {}
                    for term, _, weight, value_bytes in items:
                        entry = posts.get(term)
                        if entry is None:
                            posts[term] = [docnum, weight, value_bytes]
                            added += 150 + len(term)
                        else:
                            entry += (docnum, weight, value_bytes)
                            added += 40
                if length and field.scorable:
                    lengths = self._doc_lengths.get(name)
                    if lengths is None:
                        lengths = self._doc_lengths[name] = array("B")
                    if len(lengths) < docnum:
                        lengths.extend(bytes(docnum - len(lengths)))
                    lengths.append(length_to_byte(length))
            perdoc.add_field(name, field, value if field.stored else None, length if field.scorable else 0)
            column = field.column_type
            if column:
                perdoc.add_column_value(name, column, field.to_column_value(value))
        perdoc.finish_doc()
        self.approx_bytes += added
        self.mark_added()
        self.docnum += 1
        return docnum

    def _words(self, text: str, memo: dict) -> np.ndarray:
        """The word ids of `text`; a text made of two parts joined by a blank line (the stemmed field's
        "title\n\nbody") reuses the parts' ids, as no token spans a line break."""
        hit = memo.get(text)
        if hit is not None:
            return hit
        cut = text.find("\n\n")
        if cut < 0:
            words = memo[text] = self._vocab.text(text)
            return words
        parts = []
        for part in (text[:cut], text[cut + 2:]):
            got = memo.get(part)
            if got is None:
                got = memo[part] = self._vocab.text(part)
            parts.append(got)
        words = memo[text] = np.concatenate(parts)
        return words

    # -- flushing -------------------------------------------------------------------------------------------------

    def write_terms(self, termfile, postfile, fieldmap: dict) -> tuple[list[bytes], list[int]]:
        with self.keep_beside(segment_postings.Builder(self.segment_path(segment_postings.SUFFIX))) as arrays:
            files = write_postings(self.schema, self._text, self._posts, self._doc_lengths, self._vocab.strings,
                                   termfile, postfile, fieldmap, arrays)
        self._text, self._posts, self._doc_lengths = {}, {}, {}
        return files.keys, files.positions


class _Files:
    """Where write_postings puts things: the posting and term files, where the next bytes of each go, and the
    keys written (with their records' positions) for the term file's hash tables."""

    __slots__ = ("termfile", "postfile", "keys", "positions", "pos", "offset")

    def __init__(self, termfile, postfile):
        self.termfile, self.postfile = termfile, postfile
        self.keys: list[bytes] = []
        self.positions: list[int] = []      # of each term record in the term file
        self.pos = termfile.tell()
        self.offset = postfile.tell()

    def add(self, keys: list[bytes], blob: bytes, infos: np.ndarray) -> None:
        """Consecutive terms: their postings (`blob`) and their term infos (extents relative to the blob)."""
        infos["offset"] += self.offset
        self.postfile.write(blob)
        self.offset += len(blob)
        records, where = term_records(keys, infos, self.pos)
        self.termfile.write(records)
        self.pos += len(records)
        self.positions += where.tolist()
        self.keys += keys


def write_postings(schema, text: dict, posts: dict, doc_lengths: dict, strings: list, termfile, postfile,
                   fieldmap: dict, arrays: "segment_postings.Builder | None" = None) -> "_Files":
    """Write every field's terms in order: posting blocks to `postfile`, term infos to `termfile` (whose ordered
    hash header is already written), and the text fields' frequent terms to `arrays` (index.segment_postings);
    returns what was written (the writer closes the term file's tables)."""
    files = _Files(termfile, postfile)
    for fieldname in sorted(set(text) | set(posts)):
        field = schema[fieldname]
        prefix = key_prefix(fieldmap, fieldname)
        lengths = doc_lengths.get(fieldname) if field.scorable else None
        if fieldname in text:
            _write_text_field(files, prefix, text[fieldname], strings, field.format.field_boost, lengths,
                              fieldname, arrays)
            continue
        entries = posts[fieldname]   # term -> flat [docnum, weight, value bytes, ...]
        terms = sorted(entries)
        flat = [entries[term] for term in terms]
        docs = np.fromiter(chain.from_iterable(e[0::3] for e in flat), np.int64)
        weights = np.fromiter(chain.from_iterable(e[1::3] for e in flat), np.float64, len(docs))
        fixed = field.format.fixed_value_size()
        values = None
        if fixed != 0:   # Existence stores none
            vals = [v for e in flat for v in e[2::3]]
            values = (np.frombuffer(b"".join(vals), np.uint8), np.fromiter(map(len, vals), np.int64, len(vals)))
        bounds = np.cumsum([0] + [len(e) // 3 for e in flat])
        blob, infos = encode_postings(bounds, docs, weights, _length_bytes(lengths, docs), compress, values=values,
                                      joined=fixed is not None and fixed > 0)
        files.add([prefix + term for term in terms], blob, infos)
    return files


def _write_text_field(files: _Files, prefix: bytes, field: _TextField, strings: list, boost: float, lengths,
                      name: str = "", arrays: "segment_postings.Builder | None" = None) -> None:
    """Write one text field's terms, in term order: the tokens sorted by term (stable, so by document and
    position within a term) and cut where term or document changes; then index.postings encodes a slice of terms
    at a time (CHUNK_POSTINGS), each slice written out before the next, so memory stays near the size of the
    arrays."""
    lens = np.fromiter(map(len, field.arrays), dtype=np.int64, count=len(field.arrays))
    ids = np.concatenate(field.arrays)
    field.arrays = []
    n = len(ids)
    docs = np.repeat(np.asarray(field.docs, dtype=np.int32), lens)
    starts = np.cumsum(lens) - lens
    pos = (np.arange(n, dtype=np.int64) - np.repeat(starts - np.asarray(field.firsts, dtype=np.int64), lens))
    pos = pos.astype(np.int32)
    # rank of each term id in the byte (= code point) order of the strings
    uniq, inverse = np.unique(ids, return_inverse=True)
    del ids
    words = [strings[i] for i in uniq.tolist()]
    order = sorted(range(len(words)), key=words.__getitem__)
    del words
    rank = np.empty(len(order), np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    key = rank[inverse.reshape(-1)]
    del inverse, rank
    srt = np.argsort(key, kind="stable")
    key, docs, pos = key[srt], docs[srt], pos[srt]
    del srt
    cut = np.empty(n, bool)
    cut[0] = True
    np.not_equal(key[1:], key[:-1], out=cut[1:])
    cut[1:] |= docs[1:] != docs[:-1]
    post = np.flatnonzero(cut)                       # first token of each posting
    del cut
    freq = np.diff(np.append(post, n))
    post_key = key[post]
    del key
    term_starts = np.flatnonzero(np.append(True, post_key[1:] != post_key[:-1]))
    term_ids = uniq[np.asarray(order, dtype=np.int64)[post_key[term_starts]]]
    bounds = np.append(term_starts, len(post))
    # deltas between a posting's positions (the first one absolute)
    deltas = pos.copy()
    deltas[1:] -= pos[:-1]
    deltas[post] = pos[post]
    del pos
    post = np.append(post, n)
    t = 0
    while t < len(term_starts):
        t_end = min(len(term_starts), int(np.searchsorted(bounds, bounds[t] + CHUNK_POSTINGS, side="right")) - 1)
        t_end = max(t_end, t + 1)
        a, b = int(bounds[t]), int(bounds[t_end])
        p_docs = docs[post[a:b]]
        p_freq = freq[a:b]
        blob, infos = encode_postings(bounds[t:t_end + 1] - a, p_docs, p_freq * boost,
                                      _length_bytes(lengths, p_docs), compress,
                                      positions=(p_freq, deltas[post[a]:post[b]]))
        texts = [strings[term].encode("utf-8") for term in term_ids[t:t_end].tolist()]
        files.add([prefix + text for text in texts], blob, infos)
        if arrays is not None:
            positions = None
            if name in segment_postings.POSITIONS_FOR:
                positions = segment_postings.absolute_positions(p_freq, deltas[post[a]:post[b]])
            arrays.add(name, boost, texts, bounds[t:t_end + 1] - a, p_docs, p_freq, positions)
        t = t_end


def _length_bytes(lengths, docs: np.ndarray) -> np.ndarray:
    """The length byte of each posting's document (`lengths`: one per document, up to the last document with the
    field; None for a field without lengths)."""
    out = np.zeros(len(docs), np.uint8)
    if lengths is not None:
        known = np.frombuffer(lengths, np.uint8)
        inside = docs < len(known)
        out[inside] = known[docs[inside]]
    return out
