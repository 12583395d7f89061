"""The Ray executor gives the verdicts of a local run: in the library on a one-process Ray cluster, and through
`codebench evaluate --executor ray=ADDRESS` on a real multi-node cluster on this machine (a head without CPUs and
worker nodes started as separate `ray start` processes, each with CPUs and a resource of its own)."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from ray_cluster import RayCluster  # noqa: E402  (before ray: it sets Ray's authentication mode)

ray = pytest.importorskip('ray')

from codebench.core import Completion, Result, Task, model_slug, read_jsonl, write_jsonl
from codebench.evaluate import LocalExecutor, RayExecutor, compute_census, evaluate_completions
from codebench.backend import Request, Sampling, parse_spec
from codebench.offline import OfflineBackend
from codebench.parse import parse_benchmark, write_tasks
from codebench.prompts import build_prompt
from codebench.sandbox import choose_isolation

CODEBENCH = Path(sys.executable).parent / 'codebench'
HANG = 1800  # hang guard for a whole evaluation on a busy 2-core machine


def mutants(tasks, n, seed=4):
    return list(OfflineBackend(parse_spec(f'mutants:{seed}')).generate([Request(build_prompt(t), t, list(range(n))) for t in tasks], Sampling(n=n)))


def test_ray_executor_matches_local_pool(tmp_path):
    runs = tmp_path / 'runs'
    write_tasks(parse_benchmark(framework='minirl', example='ppo_step'), runs)
    d = runs / 'minirl/ppo_step'
    tasks = read_jsonl(d / 'tasks.jsonl', Task)
    comps = mutants(tasks, 4)
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
    iso_of = lambda rs: {(r.task_id, r.sample): r.isolation for r in rs}
    assert iso_of(remote) == iso_of(local) and any(r.isolation.endswith(', warm') for r in remote)  # each node keeps a warm pool, as locally
    assert all(Path(r.log_path).is_file() for r in remote)  # every log came back to the driver


def demo_runs(root: Path, n: int = 2) -> Path:
    "A run directory of the whole demo with `n` mutants per task (model `mutants:4`)."
    runs = root / 'runs'
    write_tasks(parse_benchmark(), runs)
    for d in sorted(runs.glob('*/*/tasks.jsonl')):
        comps = mutants(read_jsonl(d, Task), n)
        write_jsonl(d.parent / model_slug('mutants:4') / 'completions.jsonl', comps)
    return runs


def cli(*args, env=None):
    return subprocess.run([str(CODEBENCH), *map(str, args)], capture_output=True, text=True, timeout=HANG, env={**os.environ, **(env or {})})


def verdicts(runs: Path) -> dict:
    return {(r.task_id, r.sample): (r.verdict, r.tests) for p in runs.glob(f"*/*/{model_slug('mutants:4')}/results.jsonl")
            for r in read_jsonl(p, Result)}


def no_bwrap_path(tmp: Path) -> str:
    "A PATH with every command of /usr/bin but bubblewrap: a node where the sandbox is missing."
    d = tmp / 'bin-without-bwrap'
    d.mkdir()
    for f in Path('/usr/bin').iterdir():
        if f.name != 'bwrap': (d / f.name).symlink_to(f)
    return f"{Path(sys.executable).parent}:{d}"


@pytest.mark.skipif(not shutil.which('bwrap'), reason='the multi-node test runs the answers in bubblewrap')
def test_cli_on_a_multi_node_cluster(tmp_path):
    runs = demo_runs(tmp_path / 'a')
    shutil.copytree(runs, tmp_path / 'b' / 'runs')
    local = cli('evaluate', '-m', 'mutants:4', runs, '-j', '2')
    assert local.returncode == 0, local.stderr[-3000:]
    with RayCluster(timeout=HANG) as cluster:
        nodes = [cluster.add_node(f'node{i}', cpus=1) for i in (1, 2)]
        remote = cli('evaluate', '-m', 'mutants:4', tmp_path / 'b' / 'runs', '--executor', f'ray={cluster.address}',
                     env={'RAY_ADDRESS': ''})
        assert remote.returncode == 0, remote.stderr[-3000:]
        want, got = verdicts(runs), verdicts(tmp_path / 'b' / 'runs')
        assert len(want) == 30 and {v for v, _ in want.values()} >= {'pass', 'fail'}
        assert got == want  # verdicts and test outcomes identical to the local run
        census = lambda r: [(c['task_id'], c['ok'], c['tests']) for p in sorted(r.glob('*/*/census.jsonl')) for c in read_jsonl(p)]
        assert census(tmp_path / 'b' / 'runs') == census(runs)  # the gold and stub runs went through the cluster as well
        again = cli('evaluate', '-m', 'mutants:4', tmp_path / 'b' / 'runs', '--executor', f'ray={cluster.address}')
        assert again.returncode == 0 and verdicts(tmp_path / 'b' / 'runs') == want  # resume: nothing new, nothing doubled
        lines = sum(1 for p in (tmp_path / 'b' / 'runs').glob(f"*/*/{model_slug('mutants:4')}/results.jsonl") for _ in open(p))
        assert lines == len(want)

        bad = cluster.add_node('nobwrap', cpus=1, env={'PATH': no_bwrap_path(tmp_path)})
        shutil.copytree(runs, tmp_path / 'c' / 'runs')
        failed = cli('evaluate', '-m', 'mutants:4', tmp_path / 'c' / 'runs', '--rerun', 'all', '--executor', f'ray={cluster.address}')
        assert failed.returncode == 2, failed.stderr[-3000:]
        assert f'({bad[:8]}): bubblewrap (bwrap) does not work here' in failed.stderr, failed.stderr[-3000:]
        assert not any(n[:8] in failed.stderr for n in nodes)  # only the node that lacks it is named
