"""Policy losses."""
import numpy as np


def clipped_policy_loss(logp_new, logp_old, advantages, clip_eps=0.2):
    """PPO's clipped surrogate loss; returns (loss, fraction of clipped ratios)."""
    ratio = np.exp(np.asarray(logp_new, dtype=np.float64) - np.asarray(logp_old, dtype=np.float64))
    adv = np.asarray(advantages, dtype=np.float64)
    unclipped = ratio * adv
    clipped = np.clip(ratio, 1.0 - clip_eps, 1.0 + clip_eps) * adv
    loss = -np.mean(np.minimum(unclipped, clipped))
    clip_fraction = float(np.mean(np.abs(ratio - 1.0) > clip_eps))
    return float(loss), clip_fraction
