import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ppo_step.advantages import ESTIMATORS, compute_gae, discounted_returns


def test_discounted_returns_geometric():
    np.testing.assert_allclose(discounted_returns([1.0, 1.0, 1.0], gamma=0.5), [1.75, 1.5, 1.0])


def test_discounted_returns_resets_at_done():
    out = discounted_returns([1.0, 2.0, 3.0, 4.0], gamma=1.0, dones=[0, 1, 0, 0])
    np.testing.assert_allclose(out, [3.0, 2.0, 7.0, 4.0])


def test_discounted_returns_dtype_and_shape():
    out = discounted_returns(np.arange(5), gamma=0.9)
    assert out.shape == (5,) and out.dtype == np.float64


def test_gae_with_lambda_one_is_return_minus_value():
    rewards = np.array([0.5, -1.0, 2.0, 0.0])
    values = np.array([0.1, 0.2, 0.3, 0.4])
    adv, targets = compute_gae(rewards, values, last_value=0.0, gamma=0.9, lam=1.0)
    np.testing.assert_allclose(adv, discounted_returns(rewards, gamma=0.9) - values)
    np.testing.assert_allclose(targets, adv + values)


def test_gae_with_lambda_zero_is_td_error():
    rewards = np.array([1.0, 0.0, 1.0])
    values = np.array([0.5, 0.5, 0.5])
    adv, _ = compute_gae(rewards, values, last_value=2.0, gamma=0.5, lam=0.0)
    np.testing.assert_allclose(adv, [1.0 + 0.25 - 0.5, 0.25 - 0.5, 1.0 + 1.0 - 0.5])


def test_gae_bootstraps_nothing_past_done():
    adv, _ = compute_gae([1.0, 1.0], [0.0, 0.0], last_value=10.0, gamma=1.0, lam=1.0, dones=[0, 1])
    np.testing.assert_allclose(adv, [2.0, 1.0])


def test_gae_is_registered():
    assert ESTIMATORS["gae"] is compute_gae
    adv, _ = ESTIMATORS["gae"]([1.0], [0.0], gamma=0.9, lam=0.9)
    assert adv[0] == pytest.approx(1.0)
