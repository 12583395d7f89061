"""Concurrent episode collection."""
import asyncio


async def gather_episode_returns(env_fns, gamma=1.0, max_concurrency=4):
    """Run episode coroutines concurrently; return their discounted returns in input order."""
    semaphore = asyncio.Semaphore(max_concurrency)

    async def run_one(fn):
        async with semaphore:
            rewards = await fn()
        total = 0.0
        for r in reversed(rewards):
            total = r + gamma * total
        return total

    return list(await asyncio.gather(*(run_one(fn) for fn in env_fns)))
