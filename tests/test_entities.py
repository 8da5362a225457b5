"""The extractor's public contract: extract(), the alias file, the batch interface, and the quality floors."""
from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from index.entities import AliasError, Extractor, entities_batch, extract_entities, load_aliases, make_extractor
from index.model import Country, Person

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPORA = SHARED / "corpora"


def test_extract_returns_model_objects_with_spans_into_the_body():
    body = "Prime Minister Harumi Okabe visited Canada.\n\nOkabe said trade would grow."
    people, countries = extract_entities(body, "en", title="OKABE IN OTTAWA")
    assert people == (Person(name="Harumi Okabe", key="harumi okabe", mentions=((15, 27), (45, 50))),)
    assert countries == (Country(code="CA", name="Canada", about=True, mentions=((36, 42),)),)


def test_empty_and_unknown_language_text():
    assert extract_entities("") == ((), ())
    assert extract_entities("no capitals here at all.", "xx") == ((), ())


def test_extractor_is_cheap_to_rebuild_and_pickles(tmp_path):
    ex = make_extractor()
    assert make_extractor() is ex
    clone = pickle.loads(pickle.dumps(ex))
    assert isinstance(clone, Extractor)
    text = "Exports to Japan rose, Minister Ana Ruiz said."
    assert clone.extract(text) == ex.extract(text)


# ---- the alias file ---------------------------------------------------------------------------------------------
ALIASES = """\
# newsdex aliases
alias: Hermit Kingdom => KP            # a nickname of a country
alias: the Iron Chancellor => Otto Brandt
merge: Otto Brandt = Otto Brand

block: person Kowalczyk
block: country CL
block: country Montevideo
"""


def write_aliases(tmp_path, text: str) -> str:
    path = tmp_path / "aliases.txt"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_alias_file_adds_merges_and_blocks(tmp_path):
    ex = make_extractor(write_aliases(tmp_path, ALIASES))
    body = ("The Hermit Kingdom tested a missile. Chancellor Otto Brandt, the Iron Chancellor, said Chile and "
            "Montevideo objected. Mr Kowalczyk declined to comment.")
    people, countries = ex.extract(body)
    assert [(p.name, p.key, [body[s:e] for s, e in p.mentions]) for p in people] == [
        ("Otto Brand", "otto brand", ["Otto Brandt", "the Iron Chancellor"])]
    assert [(c.code, [body[s:e] for s, e in c.mentions]) for c in countries] == [("KP", ["Hermit Kingdom"])]


def test_user_alias_overrides_the_built_in_reading(tmp_path):
    ex = make_extractor(write_aliases(tmp_path, "alias: Georgia => GE\nalias: U.S. Treasury => US\n"))
    body = "Georgia signed a deal with the U.S. Treasury."
    _, countries = ex.extract(body)
    assert [(c.code, [body[s:e] for s, e in c.mentions]) for c in countries] == [
        ("GE", ["Georgia"]), ("US", ["U.S. Treasury"])]


def test_an_edited_alias_file_is_read_again(tmp_path):
    path = write_aliases(tmp_path, "alias: Hermit Kingdom => KP\n")
    assert make_extractor(path) is make_extractor(path)
    assert [c.code for c in make_extractor(path).extract("The Hermit Kingdom and Land of Smiles.")[1]] == ["KP"]
    Path(path).write_text("alias: Hermit Kingdom => KP\nalias: Land of Smiles => TH\n", encoding="utf-8")
    assert [c.code for c in make_extractor(path).extract("The Hermit Kingdom and Land of Smiles.")[1]] == ["KP", "TH"]


def test_alias_file_leaves_the_default_extractor_alone(tmp_path):
    make_extractor(write_aliases(tmp_path, ALIASES))
    _, countries = make_extractor().extract("Chile and Montevideo objected.")
    assert sorted(c.code for c in countries) == ["CL", "UY"]


@pytest.mark.parametrize("line,message", [
    ("alias: Foo", "alias needs 'TEXT => CODE' or 'TEXT => Full Name'"),
    ("alias: Foo => ZZ", "unknown ISO 3166 alpha-2 code 'ZZ'"),
    ("merge: Ann Lee", "merge needs 'NAME = NAME' (the second is the one kept)"),
    ("block: city Paris", "block needs 'person NAME' or 'country CODE|NAME'"),
    ("rename: A = B", "expected 'alias: TEXT => CODE or NAME', 'merge: NAME = NAME' or 'block: person|country ...'"),
])
def test_bad_alias_line_names_its_number(tmp_path, line, message):
    path = write_aliases(tmp_path, "# ok\nalias: Hermit Kingdom => KP\n\n" + line + "\n")
    with pytest.raises(AliasError) as err:
        load_aliases(path)
    assert str(err.value) == f"{path}:4: {message}: {line!r}"


def test_missing_alias_file(tmp_path):
    with pytest.raises(AliasError) as err:
        make_extractor(str(tmp_path / "nope.txt"))
    assert str(err.value).startswith(f"{tmp_path / 'nope.txt'}: cannot read alias file")


# ---- the batch interface ----------------------------------------------------------------------------------------
def test_batch_shapes_and_bad_lines():
    lines = [
        json.dumps({"id": "a1", "text": "Minister Ana Ruiz visited Peru.", "language": "en"}),
        "",
        "{not json",
        json.dumps(["a list"]),
        json.dumps({"id": 7, "text": None}),
        json.dumps({"id": "a2", "text": "Россия и Япония.", "language": "ru"}),
    ]
    out = list(entities_batch(lines, make_extractor()))
    assert out[0] == {"id": "a1",
                      "people": [{"name": "Ana Ruiz", "key": "ana ruiz", "mentions": [[9, 17]]}],
                      "countries": [{"code": "PE", "name": "Peru", "about": True, "mentions": [[26, 30]]}]}
    assert out[1]["id"] is None and out[1]["error"].startswith("line 3: not JSON: ")
    assert out[2] == {"id": None, "error": "line 4: expected a JSON object"}
    assert out[3] == {"id": 7, "error": "line 5: 'text' must be a string"}
    assert out[4] == {"id": "a2", "people": [],
                      "countries": [{"code": "JP", "name": "Japan", "about": True, "mentions": [[9, 15]]},
                                    {"code": "RU", "name": "Russia", "about": True, "mentions": [[0, 6]]}]}
    assert len(out) == 5
    assert all(json.loads(json.dumps(o)) == o for o in out)


# ---- the seed article and the corpora (skipped where ../shared is absent) ----------------------------------------
def seed_body() -> str:
    path = SHARED / "samples" / "menafn-2026-01-18-japan-korea.txt"
    if not path.exists():
        pytest.skip("seed article not available")
    raw = path.read_text(encoding="utf-8")
    return raw.split(")", 1)[1].strip().rsplit("\n", 1)[0].strip()


def test_seed_article():
    body = seed_body()
    people, countries = extract_entities(body)
    assert sorted(p.name for p in people) == ["Lee Jae Myung", "Sanae Takaichi", "Xi Jinping"]
    assert sorted(c.code for c in countries if c.about) == ["CN", "JP", "KR", "TW", "US"]
    lee = next(p for p in people if p.key == "lee jae myung")
    assert [body[s:e] for s, e in lee.mentions] == ["Lee Jae Myung", "Lee", "Lee", "Lee", "Lee"]


def test_conll_dev_floor():
    path = CORPORA / "conll2003-en" / "valid.txt.gz"
    if not path.exists():
        pytest.skip("CoNLL-2003 not available")
    from bench.entities import conll_docs, prf
    ex = make_extractor()
    tp = fp = fn = 0
    for text, gold in conll_docs(path):
        people, _ = ex.extract(text)
        pred = {m for p in people for m in p.mentions}
        tp, fp, fn = tp + len(pred & set(gold)), fp + len(pred - set(gold)), fn + len(set(gold) - pred)
    assert prf(tp, fp, fn)[2] >= 0.87


def test_reuters_country_floor():
    if not (CORPORA / "reuters21578" / "reuters21578-dev.jsonl.gz").exists():
        pytest.skip("Reuters-21578 not available")
    from bench.entities import prf, reuters_articles
    ex = make_extractor()
    tp = fp = fn = n = 0
    for d, gold in reuters_articles(CORPORA):
        if not d["places"]:
            continue
        n += 1
        if n > 3000:
            break
        _, countries = ex.extract("\n".join(x for x in (d["title"], d["dateline"], d["body"]) if x))
        pred = {c.code for c in countries if c.about}
        tp, fp, fn = tp + len(pred & gold), fp + len(pred - gold), fn + len(gold - pred)
    assert prf(tp, fp, fn)[2] >= 0.85
