"""The Ray executor runs the same jobs as the local pool, with the same verdicts (on a local 2-CPU Ray cluster)."""
import pytest

ray = pytest.importorskip('ray')

from codebench.core import Completion, Task, read_jsonl
from codebench.evaluate import LocalExecutor, RayExecutor, compute_census, evaluate_completions
from codebench.backend import Request, Sampling, parse_spec
from codebench.offline import OfflineBackend
from codebench.parse import parse_benchmark, write_tasks
from codebench.prompts import build_prompt
from codebench.sandbox import choose_isolation


def test_ray_executor_matches_local_pool(tmp_path):
    runs = tmp_path / 'runs'
    write_tasks(parse_benchmark(framework='minirl', example='ppo_step'), runs)
    d = runs / 'minirl/ppo_step'
    tasks = read_jsonl(d / 'tasks.jsonl', Task)
    comps = list(OfflineBackend(parse_spec('mutants:4')).generate([Request(build_prompt(t), t, list(range(4))) for t in tasks], Sampling(n=4)))
    iso = choose_isolation()
    census = compute_census(tasks, d, isolation=iso, progress=False)
    local = evaluate_completions(tasks, comps, d / 'local/results.jsonl', census, LocalExecutor(2), isolation=iso, progress=False)
    ray.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)
    try:
        remote = evaluate_completions(tasks, comps, d / 'ray/results.jsonl', census, RayExecutor(), isolation=iso, progress=False)
    finally:
        ray.shutdown()
    assert {(r.task_id, r.sample): r.verdict for r in remote} == {(r.task_id, r.sample): r.verdict for r in local}
    assert {r.verdict for r in remote} == {'pass', 'fail'}
    assert all(', warm' not in r.isolation for r in remote if r.isolation)  # Ray workers run each job cold
