"""Reward shaping for RL fine-tuning of language models."""
import numpy as np


def kl_penalty(logp, ref_logp, kind="kl"):
    """Per-token penalty for drifting away from the reference policy."""
    logp = np.asarray(logp, dtype=np.float64)
    ref = np.asarray(ref_logp, dtype=np.float64)
    diff = logp - ref
    if kind == "kl":
        return diff
    if kind == "abs":
        return np.abs(diff)
    if kind == "mse":
        return 0.5 * diff ** 2
    if kind == "low_var_kl":
        ratio = np.exp(-diff)
        return np.clip(ratio + diff - 1.0, -10.0, 10.0)
    raise ValueError(f"unknown KL penalty kind: {kind!r}")


def whiten(values, shift_mean=True, eps=1e-8):
    """Scale `values` to unit variance; keep their mean when `shift_mean` is False."""
    values = np.asarray(values, dtype=np.float64)
    mean = values.mean()
    std = values.std()
    whitened = (values - mean) / (std + eps)
    if not shift_mean:
        whitened = whitened + mean
    return whitened


class RewardShaper:
    """Builds per-token rewards from a sequence score and a KL penalty."""

    def __init__(self, kl_coef=0.1, length_penalty=0.0, clip=None):
        self.kl_coef = kl_coef
        self.length_penalty = length_penalty
        self.clip = clip

    def shape(self, score, logp, ref_logp):
        """Per-token rewards: -kl_coef * KL everywhere, the (clipped) score on the last token."""
        rewards = -self.kl_coef * kl_penalty(logp, ref_logp)
        final = score - self.length_penalty * len(rewards)
        if self.clip is not None:
            final = float(np.clip(final, -self.clip, self.clip))
        rewards[-1] += final
        return rewards
