"""Return and advantage estimators for policy-gradient training."""
import numpy as np

ESTIMATORS = {}


def register_estimator(name):
    """Register an advantage estimator under `name` in `ESTIMATORS`."""
    def deco(fn):
        ESTIMATORS[name] = fn
        return fn
    return deco


def discounted_returns(rewards, gamma=0.99, dones=None):
    """Reward-to-go of every step of a trajectory; `dones` cuts the sum at episode ends."""
    rewards = np.asarray(rewards, dtype=np.float64)
    dones = np.zeros_like(rewards) if dones is None else np.asarray(dones, dtype=np.float64)
    returns = np.zeros_like(rewards)
    running = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running * (1.0 - dones[t])
        returns[t] = running
    return returns


@register_estimator("gae")
def compute_gae(rewards, values, last_value=0.0, gamma=0.99, lam=0.95, dones=None):
    """Generalized advantage estimation; returns (advantages, value targets)."""
    rewards = np.asarray(rewards, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    n = len(rewards)
    dones = np.zeros(n) if dones is None else np.asarray(dones, dtype=np.float64)
    advantages = np.zeros(n)
    next_value = last_value
    gae = 0.0
    for t in range(n - 1, -1, -1):
        nonterminal = 1.0 - dones[t]
        delta = rewards[t] + gamma * next_value * nonterminal - values[t]
        gae = delta + gamma * lam * nonterminal * gae
        advantages[t] = gae
        next_value = values[t]
    return advantages, advantages + values
