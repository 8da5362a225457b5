"""Snippet building on its own: marks as written, escaping, passages, CJK, accents, leads."""
from search.snippets import Highlight, find_marks, lead, render, snippet


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
