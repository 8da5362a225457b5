"""Countries: names, aliases, demonyms, cities, other languages, and every trap issue 3 names."""
from __future__ import annotations

import pytest

from index.entities import make_extractor


def countries(text: str, language: str = "en", title: str = "") -> dict[str, list[str]]:
    """code -> the mention texts, for every country found (about or not)."""
    _, found = make_extractor().extract(text, language, title)
    return {c.code: [text[s:e] for s, e in c.mentions] for c in found}


def about(text: str, language: str = "en", title: str = "") -> set[str]:
    _, found = make_extractor().extract(text, language, title)
    return {c.code for c in found if c.about}


def test_names_aliases_demonyms_and_cities():
    text = "Britain and the U.S. backed South Korean plans; Japanese officials in Tokyo and Beijing agreed."
    assert countries(text) == {"GB": ["Britain"], "US": ["U.S."], "KR": ["South Korean"], "JP": ["Japanese", "Tokyo"],
                               "CN": ["Beijing"]}


def test_us_pronoun_is_not_the_united_states():
    text = "Let us know, he told us. Us and them. The US said it would act."
    assert countries(text) == {"US": ["US"]}


def test_us_in_a_capitals_headline_is_not_trusted_but_dotted_form_is():
    assert countries("LET US TALK\nThe talks went on.") == {}
    assert countries("U.S. TO RAISE RATES\nThe Fed acted.") == {"US": ["U.S."]}


def test_georgia_the_us_state():
    text = "ATLANTA, Georgia - Rates will rise in Georgia, the U.S. utility said."
    assert countries(text) == {"US": ["ATLANTA", "Georgia", "Georgia", "U.S."]}


def test_georgia_the_country_needs_its_own_evidence():
    assert countries("Tbilisi said Georgia would join the talks.") == {"GE": ["Tbilisi", "Georgia"]}
    assert countries("Georgia said it would join the talks.") == {}


def test_jordan_the_person_is_not_the_country():
    text = "Michael Jordan scored 40 points. Jordan said he was tired."
    assert countries(text) == {}
    assert countries("King Hussein of Jordan met officials in Amman.") == {"JO": ["Jordan", "Amman"]}


def test_turkey_the_bird():
    assert countries("Turkey prices rose before Thanksgiving as turkey farmers cut flocks.") == {}
    assert countries("TURKEY PRICES RISE\nFrozen turkey sold well.") == {}
    assert countries("Exports to Turkey rose, officials in Ankara said.") == {"TR": ["Turkey", "Ankara"]}


def test_bare_korea_is_south_korea_unless_the_article_is_about_the_north():
    assert countries("Korea's exports rose, the ministry in Seoul said.") == {"KR": ["Korea", "Seoul"]}
    assert countries("North Korea fired a missile. Korea's leader watched.") == {"KP": ["North Korea", "Korea"]}
    assert countries("Tension on the Korean peninsula rose.") == {}


def test_the_two_congos():
    text = "Fighting in the Democratic Republic of Congo spread to the Republic of the Congo."
    assert countries(text) == {"CD": ["Democratic Republic of Congo"], "CG": ["Republic of the Congo"]}
    assert countries("The DRC said Congo's army advanced near Kinshasa.") == {"CD": ["DRC", "Congo", "Kinshasa"]}
    assert countries("Congo's president spoke in Brazzaville.") == {"CG": ["Congo", "Brazzaville"]}


def test_new_mexico_latin_america_uruguay_round():
    assert countries("Oil was found in New Mexico.") == {"US": ["New Mexico"]}
    assert countries("Latin America's debt worried banks in South America.") == {}
    assert countries("The Uruguay Round of trade talks resumed.") == {}


def test_towns_sharing_a_name_with_a_countrys_place():
    text = "Stanley Works said profits rose. Douglas Hurd spoke. The Jersey Devils won."
    assert countries(text) == {}
    assert countries("Fans in New Jersey cheered.") == {"US": ["New Jersey"]}
    assert countries("Jersey's parliament in St Helier voted.") == {"JE": ["Jersey", "St Helier"]}


def test_territories_are_their_own_values():
    text = "Tensions rose over Taiwan and Hong Kong; Puerto Rico and Macau were calm."
    assert countries(text) == {"TW": ["Taiwan"], "HK": ["Hong Kong"], "PR": ["Puerto Rico"], "MO": ["Macau"]}


def test_historic_names_map_to_successors():
    assert countries("The Soviet Union and West Germany traded with Zaire and Burma.") == {
        "RU": ["Soviet Union"], "DE": ["West Germany"], "CD": ["Zaire"], "MM": ["Burma"]}


def test_hyphenated_and_possessive_forms():
    assert countries("Japan-South Korea relations and China's growth.") == {"JP": ["Japan"], "KR": ["South Korea"],
                                                                          "CN": ["China"]}


def test_state_abbreviation_only_after_a_comma():
    assert countries("GREENWICH, Conn., March 3 - The company was sold.") == {"US": ["GREENWICH", "Conn"]}
    assert countries("Miss. Smith and Ind. voters.") == {}


@pytest.mark.parametrize("language,text,expected", [
    ("fr", "L'Allemagne et la France ont signé un accord avec le Japon.", {"DE", "FR", "JP"}),
    ("es", "Japón y Alemania firmaron un acuerdo con Rusia.", {"JP", "DE", "RU"}),
    ("ru", "Россия и Германия подписали соглашение с Японией.", {"RU", "DE", "JP"}),
    ("de", "Deutschland und Russland sprachen mit Japan.", {"DE", "RU", "JP"}),
    ("it", "La Germania e il Giappone hanno firmato con la Russia.", {"DE", "JP", "RU"}),
    ("pt", "A Alemanha e o Japão assinaram com a Rússia.", {"DE", "JP", "RU"}),
])
def test_other_languages(language, text, expected):
    assert set(countries(text, language)) == expected


def test_russian_case_endings_point_into_the_text():
    text = "В России говорят о Японии."
    assert countries(text, "ru") == {"RU": ["России"], "JP": ["Японии"]}


def test_translations_only_apply_to_their_language():
    # "Maurice" is Mauritius in French and a first name in English
    assert countries("Maurice a voté.", "fr") == {"MU": ["Maurice"]}
    assert countries("Maurice voted.", "en") == {}


def test_about_versus_merely_mentioned():
    body = ("Japan's exports rose sharply in March, the finance ministry in Tokyo said on Tuesday, as demand "
            "for cars and chips held up across the region. " + "Analysts expect more growth this year. " * 8
            + "Shipments to Chile also rose.")
    _, found = make_extractor().extract(body)
    assert [(c.code, c.about) for c in found] == [("JP", True), ("CL", False)]


def test_title_decides_about_without_spans():
    _, found = make_extractor().extract("Shares rose. " * 40 + "Trade with Peru grew.", title="PERU TRADE GROWS")
    assert [(c.code, c.about, len(c.mentions)) for c in found] == [("PE", True, 1)]


def test_mention_spans_index_the_body():
    body = "Talks in Paris.\n\nFrance agreed."
    _, found = make_extractor().extract(body)
    assert [(c.code, c.name, c.mentions) for c in found] == [("FR", "France", ((9, 14), (17, 23)))]
