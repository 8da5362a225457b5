"""Ranking-quality gate (issue 13): newsdex on the judged collections CISI and Cranfield, queries typed as plain
words, must answer every query and reach a MAP floor. Skipped where ../shared/corpora/ir-judged is absent.
The full comparison with the BM25 baselines is bench/relevance.py."""
from __future__ import annotations

from pathlib import Path

import pytest

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"

# TODO(issue 13): pin the floors once the new ranking lands. Measured on the code of 3fce6ee (AND of every word),
# bench/relevance.py: CISI MAP 0.0004 (73 of 76 queries with no result, 28 of them rejected: more than 64 words),
# Cranfield MAP 0.0108 (216 of 225 with no result); with the words OR-ed: CISI 0.0557 (28 rejected), Cranfield
# 0.2581. Best BM25 baseline of the same run: bm25s, CISI 0.1689, Cranfield 0.3039.
MAP_FLOOR = {"cisi": 0.0, "cran": 0.0}

pytestmark = [
    pytest.mark.skipif(not (CORPORA / "ir-judged").is_dir(), reason="../shared/corpora/ir-judged is absent"),
    # TODO(issue 13): remove once plain words are no longer ANDed (today 73 of 76 CISI and 216 of 225 Cranfield
    # queries return nothing).
    pytest.mark.xfail(reason="issue 13: plain-words queries AND every word today", strict=False),
]


@pytest.mark.parametrize("name", ["cisi", "cran"])
def test_plain_words_queries_answered_and_ranked(name, tmp_path):
    from bench.relevance import evaluate, load_collection, run_newsdex

    coll = load_collection(CORPORA, name)
    figures = evaluate(run_newsdex(coll, tmp_path, runs=1)["rankings"], coll.qrels)
    assert figures["no result"] == 0, f"{name}: {figures['no result']} of {figures['queries']} queries answered nothing"
    assert figures["MAP"] >= MAP_FLOOR[name], f"{name}: MAP {figures['MAP']:.4f} < floor {MAP_FLOOR[name]}"
