import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from shaping.rewards import kl_penalty


@pytest.mark.parametrize("kind", ["kl", "abs", "mse", "low_var_kl"])
def test_identical_policies_have_no_penalty(kind):
    np.testing.assert_allclose(kl_penalty([-1.0, -2.0], [-1.0, -2.0], kind), [0.0, 0.0], atol=1e-12)


def test_low_var_kl_is_clipped():
    assert kl_penalty([-30.0], [0.0], "low_var_kl")[0] == pytest.approx(10.0)
