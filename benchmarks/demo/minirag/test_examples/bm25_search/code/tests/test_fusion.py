import os
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from minirag.fusion import reciprocal_rank_fusion, top_k_cosine


class TestReciprocalRankFusion(unittest.TestCase):
    def test_agreeing_rankings(self):
        fused = reciprocal_rank_fusion([["a", "b"], ["a", "b"]], k=1)
        self.assertEqual([d for d, _ in fused], ["a", "b"])
        self.assertAlmostEqual(fused[0][1], 1.0)
        self.assertAlmostEqual(fused[1][1], 2 / 3)

    def test_document_in_one_list_only(self):
        fused = dict(reciprocal_rank_fusion([["x"], ["y", "x"]], k=60))
        self.assertAlmostEqual(fused["x"], 1 / 61 + 1 / 62)
        self.assertAlmostEqual(fused["y"], 1 / 61)

    def test_top_n_and_tie_order(self):
        fused = reciprocal_rank_fusion([["b"], ["a"]], top_n=1)
        self.assertEqual(fused, [("a", 1 / 61)])


class TestTopKCosine(unittest.TestCase):
    def test_best_rows_first(self):
        m = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
        idx, sims = top_k_cosine([1.0, 0.1], m, k=2)
        self.assertEqual(idx, [0, 2])
        self.assertAlmostEqual(sims[0], 1 / np.sqrt(1.01))

    def test_zero_rows_score_zero_and_k_is_capped(self):
        idx, sims = top_k_cosine([1.0, 0.0], np.array([[0.0, 0.0], [2.0, 0.0]]), k=10)
        self.assertEqual(idx, [1, 0])
        self.assertEqual(sims, [1.0, 0.0])


if __name__ == "__main__":
    unittest.main()
