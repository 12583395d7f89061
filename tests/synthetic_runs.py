"""A KOCO-sized run directory with made-up results, to look at reports at the real benchmark's scale.

131 tasks over 25 examples of five frameworks (KOCO-bench's English split has these counts), ten
models with different skill, n samples each. The benchmark is synthetic too (one small module per
example), so task pages can splice and diff. Nothing here is executed: results are drawn at random.

    python tests/synthetic_runs.py OUT [--models 10] [--n 4]    # writes OUT/bench and OUT/runs
"""
import argparse
import json
import random
from pathlib import Path

from codebench.core import UNUSABLE_VERDICTS, Completion, Result, Task, make_task_id, write_jsonl

FRAMEWORKS = {'verl': 6, 'smolagents': 5, 'raganything': 4, 'open-r1': 6, 'tensorrt_model_optimizer': 4}  # examples each
TASKS = 131
WORDS = ('compute grpo outcome advantage policy loss reward score batch token mask rollout sequence kl penalty entropy chunk '
         'retrieve embed rerank parse table image query graph quantize calibrate amax scale export prune tool agent step memory '
         'plan format prompt extract answer verify accuracy length normalize gather shard').split()
MODELS = ['base', 'base+rag', 'agent', 'lora', 'sft', 'qwen-32b', 'qwen-7b', 'llama-70b', 'deepseek-v3', 'stub']


def _name(rng, i):
    words = rng.sample(WORDS, rng.choice((2, 3, 4)))
    name = '_'.join(words) + f'_{i}'
    return f"{words[0].title()}{words[1].title()}.{name}" if rng.random() < 0.3 else name


def synthetic_runs(out, models=10, n=4, seed=0, unsandboxed=0):
    "Write `out/bench` (the source files) and `out/runs` (tasks, census, completions, results); return the run directory."
    rng = random.Random(seed)
    out = Path(out)
    examples = [(fw, f"{fw.split('_')[0]}_example_{j}") for fw, k in FRAMEWORKS.items() for j in range(k)]
    counts = [TASKS // len(examples) + (i < TASKS % len(examples)) for i in range(len(examples))]
    names = MODELS[:models] if models <= len(MODELS) else [f'model-{i}' for i in range(models)]
    skill = {m: 0.0 if m == 'stub' else rng.uniform(0.15, 0.85) for m in names}
    verdicts = ['fail'] * 6 + ['syntax-error', 'wrong-name', 'timeout', 'no-code', 'error', 'tampered', 'splice-failed']
    for (fw, ex), k in zip(examples, counts):
        code = out/'bench'/fw/'test_examples'/ex/'code'
        code.mkdir(parents=True, exist_ok=True)
        fns = [_name(rng, i).split('.')[-1] for i in range(k)]
        src = ''.join(f"def {f}(x, y=1):\n    \"\"\"Task {i}.\"\"\"\n    z = x * {i + 1}\n    return z + y\n\n\n" for i, f in enumerate(fns))
        (code/'mod.py').write_text(src)
        tasks = [Task(make_task_id(fw, ex, f), fw, ex, f, 'function', 'code/mod.py', [6 * i + 1, 6 * i + 4], [6 * i + 1, 6 * i + 4],
                      f"def {f}(x, y=1):\n    \"\"\"Task {i}.\"\"\"\n    z = x * {i + 1}\n    return z + y\n", ['code/test_mod.py'],
                      example_dir=str(code.parent)) for i, f in enumerate(fns)]
        d = out/'runs'/fw/ex
        write_jsonl(d/'tasks.jsonl', tasks)
        write_jsonl(d/'census.jsonl', [dict(task_id=t.task_id, ok=True, tests=[f'code/test_mod.py::test_{t.name}']) for t in tasks])
        difficulty = {t.task_id: rng.uniform(-0.4, 0.4) for t in tasks}
        for m in names:
            comps, results = [], []
            for i, t in enumerate(tasks):
                for s in range(n):
                    ok = rng.random() < min(1, max(0, skill[m] + difficulty[t.task_id]))
                    v = 'pass' if ok else rng.choice(verdicts)
                    body = t.gold if ok else t.gold.replace(f'* {i + 1}', f'* {i + 2}')
                    comps.append(Completion(t.task_id, m, s, f"```python\n{body}```",
                                            usage=dict(prompt_tokens=rng.randint(300, 3000), completion_tokens=rng.randint(80, 900),
                                                       seconds=round(rng.uniform(0.5, 40), 3), cost=None)))
                    iso = 'rlimits' if rng.random() < unsandboxed else 'bwrap'
                    results.append(Result(task_id=t.task_id, model=m, sample=s, verdict=v,
                                          tests={f'code/test_mod.py::test_{t.name}': 'passed' if ok else 'failed'},
                                          pass_ratio=1.0 if ok else rng.choice((0.0, 0.25, 0.5)), duration=round(rng.uniform(0.05, 12), 3),
                                          isolation=iso if v not in UNUSABLE_VERDICTS else '',
                                          detail='' if ok else 'test_x: failed'))
            write_jsonl(d/m/'completions.jsonl', comps)
            write_jsonl(d/m/'results.jsonl', results)
            passed = sum(r.verdict == 'pass' for r in results)
            (d/m/'metrics.json').write_text(json.dumps(dict(total_functions=len(tasks), total_tests=len(results), total_passed=passed,
                                                            overall_success_rate=passed / len(results), pass_at_k={}, avg_pass_ratio=0.5,
                                                            harness_errors={'count': 0})))
    return out/'runs'


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('out'); ap.add_argument('--models', type=int, default=10); ap.add_argument('--n', type=int, default=4)
    a = ap.parse_args()
    print(synthetic_runs(a.out, a.models, a.n))
