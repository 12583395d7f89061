"""minirl: reinforcement-learning building blocks in numpy."""
from .advantages import ESTIMATORS, compute_gae, discounted_returns, register_estimator
from .kl import AdaptiveKLController, FixedKLController
from .losses import clipped_policy_loss
from .rewards import RewardShaper, kl_penalty, whiten
from .rollout import gather_episode_returns

__version__ = "0.1.0"
