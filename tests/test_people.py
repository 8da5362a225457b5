"""People: cues, name lists, coreference, lone surnames, canonical keys (fictional people throughout)."""
from __future__ import annotations

from index.entities import make_extractor


def people(text: str) -> dict[str, list[str]]:
    """display name -> the mention texts."""
    found, _ = make_extractor().extract(text)
    return {p.name: [text[s:e] for s, e in p.mentions] for p in found}


def keys(text: str) -> dict[str, str]:
    found, _ = make_extractor().extract(text)
    return {p.name: p.key for p in found}


def test_title_cue_names_an_unknown_name():
    assert people("Prime Minister Harumi Okabe arrived on Friday.") == {"Harumi Okabe": ["Harumi Okabe"]}
    assert people("The deal was signed by spokesman Dario Veltrano.") == {"Dario Veltrano": ["Dario Veltrano"]}


def test_first_name_list_finds_a_name_without_a_cue():
    assert people("The report was written by Margaret Oyelaran and published.") == {
        "Margaret Oyelaran": ["Margaret Oyelaran"]}


def test_coreference_surname_and_mr():
    text = ("President Tomas Varga met officials on Monday. Varga said the talks went well.\n\n"
            "Mr Varga left on Tuesday, and Mr. Varga's aides followed.")
    assert people(text) == {"Tomas Varga": ["Tomas Varga", "Varga", "Varga", "Varga"]}


def test_coreference_family_name_first():
    text = ("South Korean President Park Min Jae visited Tokyo. Park said ties would deepen. "
            "Earlier, Park, who is on a two-day visit, met business leaders.")
    assert people(text) == {"Park Min Jae": ["Park Min Jae", "Park", "Park"]}


def test_sentence_initial_common_word_joins_a_known_name_only_with_a_cue():
    text = "Governor Amelia Rose spoke first. Rose said taxes would fall. Rose petals covered the stage."
    assert people(text) == {"Amelia Rose": ["Amelia Rose", "Rose"]}


def test_lone_surname_with_a_cue_is_a_person_named_by_it():
    assert people("Mr Kowalczyk declined to comment.") == {"Kowalczyk": ["Kowalczyk"]}
    text = "Officials met Smith on Monday. Smith said the talks went well."
    assert people(text) == {"Smith": ["Smith", "Smith"]}


def test_lone_capitalised_words_without_a_cue_are_not_people():
    assert people("Police said the Treasury and Reuters would comment. Officials said nothing.") == {}
    assert people("IBM said profits rose.") == {}


def test_canonical_keys_join_spellings():
    text = "President Lee Jae-myung spoke. Later President Lee Jae Myung spoke again."
    found, _ = make_extractor().extract(text)
    assert [(p.key, len(p.mentions)) for p in found] == [("lee jae myung", 2)]
    assert keys("Minister José Álvarez spoke.") == {"José Álvarez": "jose alvarez"}


def test_two_people_sharing_a_surname():
    text = "Coach Andy Flower and Grant Flower both played. Flower said it was hard."
    found, _ = make_extractor().extract(text)
    assert sorted(p.name for p in found) == ["Andy Flower", "Grant Flower"]


def test_organisations_and_places_are_not_people():
    text = ("Georgia Power said rates would rise. Goldman Sachs Group and the Sydney Bulldogs agreed. "
            "NAC Breda drew with Fortuna Sittard 1-1.")
    assert people(text) == {}


def test_jordan_the_person():
    assert people("Michael Jordan scored 40 points. Jordan said he was tired.") == {
        "Michael Jordan": ["Michael Jordan", "Jordan"]}


def test_capitals_headline_mentions_join_the_person():
    text = "VARGA WINS VOTE\n\nPresident Tomas Varga won the vote on Sunday."
    assert people(text) == {"Tomas Varga": ["VARGA", "Tomas Varga"]}


def test_results_lists():
    text = "Scorers: Lindqvist 23rd, Okonjo 80th.\n\nMaria Duarte ( Portugal ) beat Anna Berg ( Sweden ) 6-2 6-1"
    assert people(text) == {"Lindqvist": ["Lindqvist"], "Okonjo": ["Okonjo"], "Maria Duarte": ["Maria Duarte"],
                            "Anna Berg": ["Anna Berg"]}


def test_arabic_article_stays_in_the_name():
    assert people("Prime Minister Abdul-Karim al-Kabariti met envoys.") == {
        "Abdul-Karim al-Kabariti": ["Abdul-Karim al-Kabariti"]}


def test_other_languages_titles_and_monsieur():
    found, _ = make_extractor().extract(
        "Le Premier ministre Antonis Karalis a parlé. M. Karalis a ajouté que l'Assemblée Nationale voterait. "
        "Les Talibans ont attaqué.", "fr")
    assert [(p.name, len(p.mentions)) for p in found] == [("Antonis Karalis", 2)]
    found, _ = make_extractor().extract("Bundeskanzler Olaf Brenner sagte, die Deutsche Bank sei einig.", "de")
    assert [p.name for p in found] == ["Olaf Brenner"]


def test_lee_said_and_mr_lee_count_for_lee_jae_myung():
    text = ("South Korean President Lee Jae-myung arrived in Tokyo. Lee said the visit mattered.\n\n"
            "Mr Lee later met students, and aides to Mr. Lee said he was pleased.")
    found, _ = make_extractor().extract(text)
    assert [(p.name, p.key, [text[s:e] for s, e in p.mentions]) for p in found] == [
        ("Lee Jae-myung", "lee jae myung", ["Lee Jae-myung", "Lee", "Lee", "Lee"])]
