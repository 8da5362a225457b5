"""Analyzers: words with their marks in every script, CJK/Thai bigrams with exact offsets, per-language folding and
stemming, and a real on-disk Whoosh index built with the project's schema. Texts are written for these tests."""
from __future__ import annotations

import unicodedata

import pytest
from whoosh import index as whoosh_index
from whoosh.qparser import QueryParser

from index.analysis import (STEM_LANGUAGES, fold, is_cjk_text, iter_terms, simple_tokens, stem_analyzer,
                            universal_analyzer)
from index.schema import BODY, ID, build_schema, document_for, stem_field
from tests.conftest import article


def terms_with_text(text):
    """(term, the exact original characters it came from)."""
    return [(term, text[start:end]) for term, start, end in iter_terms(text)]


def stems(lang, text):
    return [t.text for t in stem_analyzer(lang)(text)]


# --- universal analyzer ----------------------------------------------------------------------------------------

def test_cjk_runs_become_overlapping_bigrams_with_their_own_offsets():
    text = "速報：東京都で地震。"
    assert terms_with_text(text) == [("速報", "速報"), ("東京", "東京"), ("京都", "京都"), ("都で", "都で"),
                                     ("で地", "で地"), ("地震", "地震")]


def test_a_lone_cjk_character_is_one_term_and_digits_are_not_glued_to_kanji():
    assert simple_tokens("2025年3月、株価は上昇") == ["2025", "年", "3", "月", "株価", "価は", "は上", "上昇"]


def test_katakana_middle_dot_splits_a_name():
    assert simple_tokens("ハル・イケダ") == ["ハル", "イケ", "ケダ"]


def test_hangul_bigrams_find_a_word_inside_its_particles():
    assert simple_tokens("서울에서 회의") == ["서울", "울에", "에서", "회의"]


def test_thai_bigrams_never_split_a_mark_from_its_letter():
    # น้ำ is น + tone mark ้ + ำ: clusters น้ | ำ; NFKC writes ำ as ํ + า in the term (query and index alike).
    assert terms_with_text("น้ำท่วมหนัก") == [
        ("น้\u0e4d\u0e32", "น้ำ"), ("\u0e4d\u0e32ท่", "ำท่"), ("ท่ว", "ท่ว"), ("วม", "วม"), ("มห", "มห"),
        ("หนั", "หนั"), ("นัก", "นัก")]


@pytest.mark.parametrize("text, terms", [
    ("हिन्दी समाचार", ["हिन्दी", "समाचार"]),            # vowel signs and virama stay in the word
    ("தமிழ் செய்தி", ["தமிழ்", "செய்தி"]),
    ("الْعَرَبِيَّةُ", ["العربية"]),                        # optional harakat dropped from the term
    ("الســـلام", ["السلام"]),                            # tatweel (kashida) dropped
    ("می‌خواهم", ["میخواهم"]),                            # ZWNJ inside a Persian word
    ("Ελλάδα ΟΔΟΣ", ["ελλάδα", "οδος"]),
    ("Россия ёлка", ["россия", "ёлка"]),
])
def test_words_keep_their_marks_in_every_script(text, terms):
    assert simple_tokens(text) == terms


def test_offsets_of_words_with_marks_cover_whole_characters():
    text = "खबर: हिन्दी"
    assert terms_with_text(text) == [("खबर", "खबर"), ("हिन्दी", "हिन्दी")]


@pytest.mark.parametrize("text, terms", [
    ("l'État", ["état"]), ("L’homme", ["homme"]), ("dell'Italia", ["italia"]), ("qu'il", ["il"]),
    ("aujourd'hui", ["aujourd'hui"]), ("O'Brien", ["o'brien"]), ("Trump's plan", ["trump", "plan"]),
    ("Ankara'da", ["ankara"]), ("U.S. and E.U.", ["us", "and", "eu"]), ("3.5 1.000.000", ["3.5", "1.000.000"]),
    ("end.Next", ["end", "next"]),
])
def test_elisions_possessives_and_dots(text, terms):
    assert simple_tokens(text) == terms


def test_elided_word_is_highlighted_without_its_article():
    assert terms_with_text("dans l'Hôtel") == [("dans", "dans"), ("hôtel", "Hôtel")]


@pytest.mark.parametrize("text, terms", [
    ("Café", ["café"]), ("cafe\u0301", ["café"]),           # composed and decomposed input index alike
    ("İstanbul", ["istanbul"]),                             # not i + combining dot
    ("ＡＢＣ１２３", ["abc123"]), ("ｶﾀｶﾅ", ["カタ", "タカ", "カナ"]), ("ﬁnance", ["finance"]),
])
def test_universal_terms_are_nfkc_lowercase_and_keep_accents(text, terms):
    assert simple_tokens(text) == terms


def test_universal_analyzer_is_unstemmed():
    assert [t.text for t in universal_analyzer()("Elections élections")] == ["elections", "élections"]


def test_is_cjk_text():
    assert (is_cjk_text("Tokyo 東京"), is_cjk_text("Tokyo"), is_cjk_text("서울")) == (True, False, True)


# --- folding and stemming --------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang, word, folded", [
    ("fr", "élève", "eleve"), ("pt", "ação", "acao"), ("de", "schön", "schon"), ("de", "straße", "strasse"),
    ("es", "canción", "cancion"), ("es", "año", "año"), ("sv", "får", "får"), ("fi", "äiti", "äiti"),
    ("da", "ø", "ø"), ("no", "blåbær", "blåbær"), ("hu", "őrült", "őrült"), ("ru", "йод", "йод"),
    ("ru", "ёлка", "елка"), ("ro", "școală", "scoala"), ("", "Þór", "Þor"), ("ar", "أَحْمَد", "احمد"),
])
def test_fold_keeps_the_letters_a_language_has_of_its_own(lang, word, folded):
    assert fold(word, lang) == folded


def test_stem_languages_are_the_ones_whoosh_can_stem():
    assert STEM_LANGUAGES == ("ar", "da", "de", "en", "es", "fi", "fr", "hu", "it", "nl", "no", "pt", "ro", "ru",
                              "sv")


@pytest.mark.parametrize("lang, singular, plural", [
    ("fr", "élection", "élections"), ("fr", "cheval", "chevaux"), ("fr", "prévu", "prévus"), ("fr", "euro", "euros"),
    ("fr", "passager", "passagers"), ("fr", "bateau", "bateaux"), ("fr", "chinois", "chinoise"),
    ("es", "canción", "canciones"),
    ("de", "Wahl", "Wahlen"), ("it", "elezione", "elezioni"), ("pt", "eleição", "eleições"),
    ("en", "election", "elections"), ("ru", "выбор", "выборы"), ("nl", "verkiezing", "verkiezingen"),
])
def test_singular_and_plural_stem_to_the_same_term(lang, singular, plural):
    assert stems(lang, singular) == stems(lang, plural)


def test_stem_field_drops_stopwords_and_folds_after_stemming():
    assert stems("fr", "Les élections et l'élection") == ["elect", "elect"]


def test_arabic_stemmer_does_not_crash_on_initial_hamza():
    # Whoosh's ISRI stemmer raised "bad escape" on these under Python 3.7+.
    assert stems("ar", "أحمد إسلام المدارس") == ["حمد", "سلم", "درس"]


# --- a real index ----------------------------------------------------------------------------------------------

@pytest.fixture
def multilingual_index(tmp_path):
    """A real on-disk index with the project's schema holding one article per script."""
    articles = [
        article(id="fr", language="fr", title="Les élections municipales",
                body="Les électeurs ont voté dimanche. Le cheval du maire a gagné la course."),
        article(id="ja", language="ja", title="東京都で地震", body="東京都で強い地震が発生した。気象庁が発表した。"),
        article(id="zh", language="zh-cn", title="北京举行会议", body="国务院总理在北京会见了代表团。"),
        article(id="ko", language="ko", title="서울에서 회의", body="정부는 서울에서 회의를 열었다."),
        article(id="th", language="th", title="น้ำท่วมหนัก", body="น้ำท่วมหนักในกรุงเทพ"),
        article(id="hi", language="hi", title="हिन्दी समाचार", body="सरकार ने नई योजना की घोषणा की।"),
        article(id="en", language="en", title="Ferries running again", body="The ferry runs every hour."),
    ]
    ix = whoosh_index.create_in(str(tmp_path), build_schema())
    with ix.writer() as writer:
        for art in articles:
            writer.add_document(**document_for(art))
    return whoosh_index.open_dir(str(tmp_path))  # reopened: the analyzers went through pickling


def ids_for(ix, field, query):
    with ix.searcher() as searcher:
        parsed = QueryParser(field, ix.schema).parse(query)
        return sorted(hit[ID] for hit in searcher.search(parsed, limit=None))


@pytest.mark.parametrize("query, expected", [
    ('"地震"', ["ja"]), ('"東京都"', ["ja"]), ('"气象厅"', []), ('"总理"', ["zh"]), ('"서울"', ["ko"]),
    ('"ท่วม"', ["th"]), ("हिन्दी", ["hi"]), ("élections", ["fr"]), ("elections", []),
])
def test_universal_body_and_title_terms_are_searchable(multilingual_index, query, expected):
    with multilingual_index.searcher() as searcher:
        found = set()
        for field in ("title", BODY):
            parsed = QueryParser(field, multilingual_index.schema).parse(query)
            found |= {hit[ID] for hit in searcher.search(parsed, limit=None)}
    assert sorted(found) == expected


@pytest.mark.parametrize("lang, query, expected", [
    ("fr", "élection", ["fr"]), ("fr", "electeur", ["fr"]), ("fr", "chevaux", ["fr"]),
    ("en", "ferry", ["en"]), ("en", "run", ["en"]),
])
def test_stem_fields_match_other_forms_of_the_word(multilingual_index, lang, query, expected):
    assert ids_for(multilingual_index, stem_field(lang), query) == expected


def test_indexed_offsets_highlight_whole_characters(multilingual_index):
    text = "東京都で強い地震が発生した。"
    spans = [(t.startchar, t.endchar) for t in universal_analyzer()(text, chars=True) if t.text == "地震"]
    assert [text[a:b] for a, b in spans] == ["地震"]
