"""Agent overhead per task against the scripted server (a benchmark script, not a test): wall time of one conversation of
8 turns and 9 tool calls (a shell command among them) on the demo, split into the model's side and codebench's.

    python tests/bench_agent.py [--n 4]
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from codebench.testing import FakeOpenAI  # noqa: E402
from test_agent import scripted_agent  # noqa: E402

from codebench.backend import Sampling  # noqa: E402
from codebench.core import Completion, Task, read_jsonl  # noqa: E402
from codebench.generate import generate  # noqa: E402
from codebench.parse import parse_benchmark, write_tasks  # noqa: E402
from codebench.prompts import write_prompts  # noqa: E402


def main():
    ap = argparse.ArgumentParser(); ap.add_argument('--n', type=int, default=4); ap.add_argument('--concurrency', type=int, default=1)
    args = ap.parse_args()
    runs = Path(tempfile.mkdtemp()) / 'runs'
    write_tasks(parse_benchmark(framework='minirl', example='ppo_step'), runs)
    write_prompts(runs)
    tasks = read_jsonl(runs / 'minirl/ppo_step/tasks.jsonl', Task)
    server = FakeOpenAI(answer=scripted_agent(tasks))
    t0 = time.perf_counter()
    try: generate(runs, f'agent:openai:tiny@{server.url},max_turns=12', Sampling(n=args.n), progress=False,
                  backend_args=dict(concurrency=args.concurrency))
    finally: server.close()
    wall = time.perf_counter() - t0
    comps = read_jsonl(next(runs.glob('minirl/ppo_step/agent_*/completions.jsonl')), Completion)
    secs = [c.usage['seconds'] for c in comps]
    print(f"{len(comps)} conversations ({len(tasks)} tasks x {args.n}), concurrency {args.concurrency}: {wall:.2f} s in all")
    print(f"per conversation: median {statistics.median(secs):.3f} s, max {max(secs):.3f} s; "
          f"{comps[0].usage['turns']} turns, {comps[0].usage['tool_calls']} tool calls, "
          f"{comps[0].usage['prompt_tokens']} prompt + {comps[0].usage['completion_tokens']} completion tokens (as the server reports them)")
    print(f"per conversation including the stripped copy, the corpus (once) and the transcript: {wall / len(comps):.3f} s")


if __name__ == '__main__':
    main()
