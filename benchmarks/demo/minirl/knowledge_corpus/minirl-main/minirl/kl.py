"""KL coefficient controllers."""
import numpy as np


class FixedKLController:
    """A KL coefficient that never changes."""

    def __init__(self, coef=0.1):
        self.coef = coef

    def update(self, current_kl, n_steps):
        return self.coef


class AdaptiveKLController:
    """Adapts the KL coefficient so that the observed KL tracks a target."""

    def __init__(self, init_coef=0.2, target=6.0, horizon=10000):
        self.coef = init_coef
        self.target = target
        self.horizon = horizon

    def update(self, current_kl, n_steps):
        """Move the coefficient towards the target KL and return the new value."""
        proportional_error = np.clip(current_kl / self.target - 1.0, -0.2, 0.2)
        multiplier = 1.0 + proportional_error * n_steps / self.horizon
        self.coef *= multiplier
        return self.coef
