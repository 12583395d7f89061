import os
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

try:
    from shaping.rewards import RewardShaper, kl_penalty, whiten
except ImportError as e:  # guard as the real benchmarks do: no import, no tests
    raise unittest.SkipTest(f"shaping failed to import: {e}")


class TestKLPenalty(unittest.TestCase):
    def test_kinds(self):
        logp, ref = np.array([0.0, -1.0]), np.array([-0.5, -0.5])
        np.testing.assert_allclose(kl_penalty(logp, ref, "kl"), [0.5, -0.5])
        np.testing.assert_allclose(kl_penalty(logp, ref, "abs"), [0.5, 0.5])
        np.testing.assert_allclose(kl_penalty(logp, ref, "mse"), [0.125, 0.125])

    def test_low_variance_kl_is_non_negative(self):
        out = kl_penalty(np.linspace(-2, 2, 9), np.zeros(9), "low_var_kl")
        self.assertTrue(np.all(out >= 0))
        self.assertAlmostEqual(float(out[4]), 0.0)

    def test_unknown_kind_raises(self):
        with self.assertRaises(ValueError):
            kl_penalty([0.0], [0.0], "nope")


class TestWhiten(unittest.TestCase):
    def test_zero_mean_unit_std(self):
        out = whiten([1.0, 2.0, 3.0, 4.0])
        self.assertAlmostEqual(float(out.mean()), 0.0)
        self.assertAlmostEqual(float(out.std()), 1.0, places=6)

    def test_keep_mean(self):
        out = whiten([1.0, 2.0, 3.0, 4.0], shift_mean=False)
        self.assertAlmostEqual(float(out.mean()), 2.5)

    def test_constant_input_is_finite(self):
        self.assertTrue(np.all(np.isfinite(whiten([5.0, 5.0, 5.0]))))


class TestRewardShaper(unittest.TestCase):
    def test_score_lands_on_last_token(self):
        shaper = RewardShaper(kl_coef=0.5)
        out = shaper.shape(2.0, [0.0, 0.0, -1.0], [0.0, -1.0, -1.0])
        np.testing.assert_allclose(out, [0.0, -0.5, 2.0])

    def test_length_penalty_and_clip(self):
        shaper = RewardShaper(kl_coef=0.0, length_penalty=1.0, clip=1.5)
        np.testing.assert_allclose(shaper.shape(10.0, [0.0] * 4, [0.0] * 4), [0.0, 0.0, 0.0, 1.5])


if __name__ == "__main__":
    unittest.main()
