import os
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

try:
    from ppo_step.kl import AdaptiveKLController
    from ppo_step.losses import clipped_policy_loss
    IMPORT_ERROR = None
except Exception as e:  # the project does not import: skip everything, as real benchmarks do
    IMPORT_ERROR = e


@unittest.skipIf(IMPORT_ERROR is not None, f"ppo_step failed to import: {IMPORT_ERROR}")
class TestClippedPolicyLoss(unittest.TestCase):
    def test_equal_policies_give_minus_mean_advantage(self):
        loss, frac = clipped_policy_loss([0.0, 0.0], [0.0, 0.0], [1.0, 3.0])
        self.assertAlmostEqual(loss, -2.0)
        self.assertEqual(frac, 0.0)

    def test_positive_advantage_is_clipped_above(self):
        loss, frac = clipped_policy_loss([np.log(2.0)], [0.0], [1.0], clip_eps=0.2)
        self.assertAlmostEqual(loss, -1.2)
        self.assertEqual(frac, 1.0)

    def test_negative_advantage_keeps_pessimistic_term(self):
        loss, _ = clipped_policy_loss([np.log(2.0)], [0.0], [-1.0], clip_eps=0.2)
        self.assertAlmostEqual(loss, 2.0)

    def test_clip_fraction_counts_ratios_outside_band(self):
        _, frac = clipped_policy_loss(np.log([1.0, 1.1, 1.5, 0.5]), np.zeros(4), np.ones(4), clip_eps=0.2)
        self.assertAlmostEqual(frac, 0.5)


@unittest.skipIf(IMPORT_ERROR is not None, f"ppo_step failed to import: {IMPORT_ERROR}")
class TestAdaptiveKLController(unittest.TestCase):
    def test_kl_above_target_raises_coef(self):
        ctl = AdaptiveKLController(init_coef=0.2, target=1.0, horizon=100)
        self.assertAlmostEqual(ctl.update(current_kl=2.0, n_steps=50), 0.2 * 1.1)

    def test_error_is_clipped(self):
        ctl = AdaptiveKLController(init_coef=1.0, target=1.0, horizon=10)
        self.assertAlmostEqual(ctl.update(current_kl=0.0, n_steps=10), 0.8)
        self.assertAlmostEqual(ctl.coef, 0.8)

    def test_updates_compound(self):
        ctl = AdaptiveKLController(init_coef=1.0, target=2.0, horizon=4)
        ctl.update(current_kl=2.2, n_steps=2)
        ctl.update(current_kl=2.2, n_steps=2)
        self.assertAlmostEqual(ctl.coef, 1.05 ** 2)


if __name__ == "__main__":
    unittest.main()
