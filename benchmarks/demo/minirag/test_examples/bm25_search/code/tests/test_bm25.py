import math
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from minirag.bm25 import BM25Index
from minirag.text import tokenize

DOCS = [
    "The cat sat on the mat",
    "Dogs and cats are friends",
    "A cat, a cat, and another cat!",
    "Quantum computing in 2024",
]


def test_tokenize_lowercases_and_drops_stopwords():
    assert tokenize("The Cat sat on THE mat.") == ["cat", "sat", "mat"]


def test_tokenize_min_len_and_digits():
    assert tokenize("go to 2024 in a jet", min_len=3) == ["2024", "jet"]
    assert tokenize("x y", stopwords=frozenset()) == ["x", "y"]


def test_score_shape_and_zero_for_unknown_terms():
    index = BM25Index(DOCS)
    scores = index.score("zebra")
    assert scores.shape == (4,)
    assert np.all(scores == 0)


def test_score_matches_hand_computation():
    index = BM25Index(DOCS, k1=1.2, b=0.5)
    n, df = 4, 2
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
    lens = [3, 4, 4, 3]
    avgdl = sum(lens) / 4
    expected = [0.0] * 4
    for i, f in [(0, 1), (2, 3)]:
        expected[i] = idf * f * 2.2 / (f + 1.2 * (0.5 + 0.5 * lens[i] / avgdl))
    np.testing.assert_allclose(index.score("cat"), expected)


def test_more_occurrences_rank_higher():
    index = BM25Index(DOCS)
    assert index.search("cat", k=2) == [2, 0]


@pytest.mark.parametrize("query", ["cat mat", "quantum", "friends cats"])
def test_scores_non_negative(query):
    assert np.all(BM25Index(DOCS).score(query) >= 0)
