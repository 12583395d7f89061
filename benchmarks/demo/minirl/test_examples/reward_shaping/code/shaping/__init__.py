"""shaping: turn sequence scores into per-token RL rewards."""
from .rewards import RewardShaper, kl_penalty, whiten
from .rollout import gather_episode_returns
