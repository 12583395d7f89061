import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from shaping.rollout import gather_episode_returns


def make_env(rewards, delay):
    async def episode():
        await asyncio.sleep(delay)
        return rewards
    return episode


def test_returns_in_input_order():
    envs = [make_env([1.0, 1.0], 0.02), make_env([3.0], 0.0), make_env([], 0.01)]
    assert asyncio.run(gather_episode_returns(envs, gamma=0.5)) == [1.5, 3.0, 0.0]


def test_concurrency_is_bounded():
    running, peak = 0, 0

    def tracked(value):
        async def episode():
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.01)
            running -= 1
            return [value]
        return episode

    out = asyncio.run(gather_episode_returns([tracked(i) for i in range(6)], max_concurrency=2))
    assert out == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert peak == 2
