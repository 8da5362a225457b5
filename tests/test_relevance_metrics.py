"""bench/relevance.py's metrics, query typing and SMART parsing, on hand-computed values (no corpora needed)."""
from __future__ import annotations

import math

import pytest

from bench.relevance import (average_precision, cut_query, evaluate, ndcg_at_k, parse_smart, percentile,
                             plain_words, precision_at_k, read_qrels, recall_at_k)


def test_average_precision_divides_by_all_relevant():
    assert average_precision(["a", "x", "b"], {"a", "b", "c"}) == pytest.approx((1 + 2 / 3) / 3)
    assert average_precision(["x", "a"], {"a"}) == pytest.approx(0.5)
    assert average_precision([], {"a"}) == 0.0
    assert average_precision(["a"], set()) == 0.0


def test_average_precision_counts_only_the_top_k():
    assert average_precision(["x", "a", "b"], {"a", "b"}, k=2) == pytest.approx((1 / 2) / 2)


def test_ndcg_binary_gains():
    assert ndcg_at_k(["x", "a"], {"a"}) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k(["a", "x", "b"], {"a", "b"}) == pytest.approx((1 + 1 / 2) / (1 + 1 / math.log2(3)))
    assert ndcg_at_k(["a", "b"], {"a", "b"}) == pytest.approx(1.0)
    # only the top k count, and the ideal ranking has min(k, relevant) relevant documents
    assert ndcg_at_k(["x", "a"], {"a", "b", "c"}, k=1) == 0.0
    assert ndcg_at_k(["a"], {"a", "b", "c"}, k=1) == pytest.approx(1.0)


def test_precision_and_recall():
    ranking = ["a", "x", "b", "y"]
    assert precision_at_k(ranking, {"a", "b", "c"}) == pytest.approx(0.2)   # fewer than 10 hits: still / 10
    assert precision_at_k(ranking, {"a", "b"}, k=2) == pytest.approx(0.5)
    assert recall_at_k(ranking, {"a", "b", "c"}) == pytest.approx(2 / 3)
    assert recall_at_k(ranking, {"a", "b", "c"}, k=1) == pytest.approx(1 / 3)


def test_evaluate_means_and_counts_empty_results():
    figures = evaluate({1: ["a", "x", "b"], 2: []}, {1: {"a", "b", "c"}, 2: {"d"}})
    assert figures["MAP"] == pytest.approx((1 + 2 / 3) / 3 / 2)
    assert figures["P@10"] == pytest.approx(0.1)
    assert figures["R@100"] == pytest.approx(1 / 3)
    assert figures["no result"] == 1 and figures["queries"] == 2


def test_percentile_nearest_rank():
    values = list(range(1, 21))
    assert percentile(values, 95) == 19
    assert percentile(values, 50) == 10
    assert percentile([7.0], 95) == 7.0


def test_queries_typed_as_plain_words():
    assert plain_words("What's the U.S. policy  on\n(tariffs)?") == "what s the u s policy on tariffs"
    assert plain_words("under_score, e-mail") == "under score e mail"


def test_long_queries_cut_at_the_last_whole_word():
    assert cut_query("abc def") == ("abc def", False)
    assert cut_query("abcd efgh ijkl", limit=9) == ("abcd efgh", True)
    assert cut_query("abcd efgh ijkl", limit=11) == ("abcd efgh", True)
    assert cut_query("x" * 1200) == ("x" * 1000, True)
    text = " ".join(["word"] * 300)
    cut, was_cut = cut_query(text)
    assert was_cut and len(cut) <= 1000 and cut.endswith("word") and text.startswith(cut)


SMART = """.I 1
.T
Retrieval of
  descriptive titles
.A
Smith, J.
.W
   Titles are short.
Abstracts are longer.
.X
1\t5\t1
.I 2
.T
.A
.B
.W
.I 3
.T
heat flow .
.A
doe, j.
.B
j. ae. 26, 1959.
.W
heat flow .
a stray tag line
.A
does not end the abstract .
"""


def test_parse_smart_records():
    records = parse_smart(SMART)
    assert [n for n, _ in records] == [1, 2, 3]
    first = records[0][1]
    assert first["T"] == "Retrieval of descriptive titles"
    assert first["W"] == "Titles are short. Abstracts are longer."
    assert first["A"] == "Smith, J." and first["X"] == "1 5 1"
    assert records[1][1] == {"T": "", "A": "", "B": "", "W": ""}
    third = records[2][1]
    assert third["W"] == "heat flow . a stray tag line does not end the abstract ."
    assert third["A"] == "doe, j."


def test_read_qrels_both_formats(tmp_path):
    cisi = tmp_path / "CISI.REL"
    cisi.write_text("     1     28\t0\t0.000000\n     1     35\t0\t0.000000\n     2      7\t0\t0.000000\n")
    assert read_qrels(cisi) == {1: {28, 35}, 2: {7}}
    cran = tmp_path / "cranqrel"
    cran.write_text("1 184 2 \n1 29 4 \n1 13 -1\n2 12 1\n2 9 -1")
    assert read_qrels(cran) == {1: {184, 29}, 2: {12}}
