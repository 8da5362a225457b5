"""Snippet building on its own: marks as written, escaping, passages, CJK, accents, leads."""
from search.snippets import Highlight, find_marks, lead, merge_spans, render, snippet


def test_marks_are_whole_tokens_as_written():
    text = "Elections, elected, ELECTION and electricity; U.S. voters' don't"
    hl = Highlight({"us", "voters"}, {"en": {"elect"}})
    assert [text[s:e] for s, e in find_marks(text, "en", hl)] == ["Elections", "elected", "ELECTION", "U.S",
                                                                   "voters"]


def test_marks_follow_the_index_tokens_in_every_script():
    text = "Le ministre de l'Intérieur; ข่าวทั่วโลก; قال مُحَمَّد"
    hl = Highlight({"intérieur", "ทั่ว", "วโ", "โล", "ลก", "محمد"})
    assert [text[s:e] for s, e in find_marks(text, "fr", hl)] == ["Intérieur", "ทั่วโลก", "مُحَمَّد"]


def test_accented_words_match_their_folded_stems():
    text = "Les élections et les électeurs; Élection présidentielle"
    hl = Highlight(set(), {"fr": {"elect", "electeur"}})
    assert [text[s:e] for s, e in find_marks(text, "fr", hl)] == ["élections", "électeurs", "Élection"]


def test_cjk_bigrams_merge_into_the_word():
    text = "東京都で強い地震。京都"
    hl = Highlight({"東京", "京都", "地震"})
    assert render(text, find_marks(text, "ja", hl)) == "<mark>東京都</mark>で強い<mark>地震</mark>。<mark>京都</mark>"


def test_everything_outside_marks_is_escaped():
    text = '<b onmouseover="x">bold</b> & <script>budget</script>'
    assert render(text, find_marks(text, "en", Highlight({"budget"}))) == (
        "&lt;b onmouseover=&quot;x&quot;&gt;bold&lt;/b&gt; &amp; &lt;script&gt;<mark>budget</mark>&lt;/script&gt;")


def test_two_passages_when_the_words_are_far_apart():
    text = ("Tokyo opened the day. " + "Filler words go here. " * 30 + "Then the harbour closed early. "
            + "More filler text. " * 20)
    html, marked = snippet(text, "en", Highlight({"tokyo", "harbour"}))
    assert marked
    assert html == ("<mark>Tokyo</mark> opened the day. Filler words go here. Filler words go here. Filler words go "
                    "here. Filler words go here. Filler words … go here. Filler words go here. Then the "
                    "<mark>harbour</mark> closed early. More filler text. More filler text. More filler text. More …")


def test_no_match_gives_the_lead():
    assert snippet("Short body & more.", "en", Highlight({"absent"})) == ("Short body &amp; more.", False)
    assert lead("one two three four", limit=9) == "one two …"
    assert lead("") == ""


def _reference_marks(text, lang, words, stems):
    """find_marks as iter_terms defines it: every token of the index's analyzer, one at a time."""
    from index.analysis import iter_terms
    from search.evaluate import stem_tokens
    return merge_spans([(s, e) for term, s, e in iter_terms(text)
                        if term in words or any(t in stems for t in stem_tokens(lang, term))])


def test_marks_are_the_analyzer_s_tokens_in_every_kind_of_text():
    """find_marks reads words with one pattern match each (ASCII text, text without unspaced scripts): the same
    tokens, terms and offsets as iter_terms, over the demo articles and the cases a word match splits."""
    import gzip
    from pathlib import Path
    from index.analysis import iter_terms
    folder = Path(__file__).resolve().parent.parent / "web" / "demo_articles"
    texts = [(gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()).decode("utf-8", "replace")
             for p in sorted(folder.iterdir()) if p.is_file()]
    tricky = ["U.S. rates rose 3.5 pct; Trump's l'État dell'Italia it's rates' … oil.OIL Oil's 'oil' O'Neill",
              "a.b.c oil. .oil 3.5.6 x'y'z Ankara'da İstanbul ＡＢＣ Ｔｏｋｙｏ soft\u00adhyphen مُحَمَّد Straße ǅ",
              "ｶﾀｶﾅ 東京都で強い地震 and Tokyo", "ข่าวทั่วโลก news", "", "  ", "x"]
    assert any(t.isascii() for t in texts) and any(not t.isascii() for t in texts)
    checked = 0
    for text in texts + tricky:
        terms = sorted({term for term, _, _ in iter_terms(text)})
        for lang in ("en", "fr", "de"):
            words = set(terms if text in tricky else terms[::3])
            stems = {"elect", "minist", "rate", "harbour", "presid"}
            expected = _reference_marks(text, lang, words, stems)
            assert find_marks(text, lang, Highlight(words, {lang: stems})) == expected, text[:60]
            checked += len(expected)
    assert checked > 1000
