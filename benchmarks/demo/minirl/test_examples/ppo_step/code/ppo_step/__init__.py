"""ppo_step: one PPO update, written with numpy only."""
from .advantages import ESTIMATORS, compute_gae, discounted_returns
from .kl import AdaptiveKLController
from .losses import clipped_policy_loss
