"""Throughput of `--executor ray` with one and with two worker nodes (a benchmark script, not a test): `make bench`.

A real Ray cluster on this machine (tests/ray_cluster.py: a head without CPUs, worker nodes started as separate
`ray start` processes with `--cpus` CPUs each). The workload is the embedded demo with `mutants:0`, n = 4 (15 tasks,
60 completions), census computed beforehand; every repetition judges a fresh copy of the run directory, and its wall
time includes starting the node actors and their warm servers. Local runs with as many parallel runs as the cluster
has CPUs are the yardstick. Prints completions per second and whether the verdicts agree with the local run.
"""
import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from ray_cluster import RayCluster  # noqa: E402  (before ray: it sets Ray's authentication mode)

try:
    import ray  # noqa: F401
except ImportError:
    print('bench_ray: ray is not installed (pip install "codebench[ray]"); skipped')
    raise SystemExit(0)

from codebench.core import Result, Task, model_slug, read_jsonl, write_jsonl
from codebench.evaluate import RayExecutor, close_warm_pools, compute_census, evaluate
from codebench.backend import Request, Sampling, parse_spec
from codebench.offline import OfflineBackend
from codebench.parse import parse_benchmark, write_tasks
from codebench.prompts import build_prompt
from codebench.sandbox import choose_isolation, own_python

MODEL = 'mutants:0'


def prepare(root: Path, n: int) -> Path:
    "The demo's tasks, `n` mutants each and the census: what every repetition copies."
    runs = root / 'runs0'
    write_tasks(parse_benchmark(), runs)
    backend, iso = OfflineBackend(parse_spec(MODEL)), choose_isolation()
    for p in sorted(runs.glob('*/*/tasks.jsonl')):
        tasks = read_jsonl(p, Task)
        comps = list(backend.generate([Request(build_prompt(t), t, list(range(n))) for t in tasks], Sampling(n=n)))
        write_jsonl(p.parent / model_slug(MODEL) / 'completions.jsonl', comps)
        compute_census(tasks, p.parent, isolation=iso, progress=False, env=own_python())
    return runs


def once(runs0: Path, work: Path, executor, jobs: int) -> tuple:
    "`(seconds, {(task, sample): verdict})` of one evaluation of a fresh copy."
    runs = Path(tempfile.mkdtemp(dir=work)) / 'runs'
    shutil.copytree(runs0, runs)
    close_warm_pools()
    t0 = time.perf_counter()
    evaluate(runs, MODEL, jobs=jobs, executor=executor, progress=False)
    secs = time.perf_counter() - t0
    close_warm_pools()
    got = {(r.task_id, r.sample): r.verdict for p in runs.glob(f'*/*/{model_slug(MODEL)}/results.jsonl') for r in read_jsonl(p, Result)}
    return secs, got


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--n', type=int, default=4, help='mutants per task')
    ap.add_argument('--cpus', type=int, default=1, help='CPUs of each worker node')
    ap.add_argument('--reps', type=int, default=1)
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix='bench-ray-'))
    try:
        runs0 = prepare(work, a.n)
        total = sum(1 for p in runs0.glob(f'*/*/{model_slug(MODEL)}/completions.jsonl') for _ in open(p))
        rows, ref = [], {}
        for jobs in sorted({a.cpus, 2 * a.cpus}):
            for _ in range(a.reps):
                secs, got = once(runs0, work, 'local', jobs)
                ref = ref or got
                rows.append((f'local, -j {jobs}', secs, got == ref))
        with RayCluster() as cluster:
            for k in (1, 2):
                cluster.add_node(f'node{k}', cpus=a.cpus)
                for _ in range(a.reps):
                    ex = RayExecutor()  # the cluster's driver connection is this process's; new actors, cold nodes
                    try: secs, got = once(runs0, work, ex, None)
                    finally: ex.close()
                    rows.append((f'ray, {k} worker node{"s" * (k > 1)} x {a.cpus} CPU', secs, got == ref))
        print(f'bench_ray: demo, {total} completions of {MODEL} (census beforehand), {a.reps} repetition(s) each')
        for name, secs, same in rows:
            print(f'  {name:32s} {secs:7.2f} s  {total / secs:6.2f} completions/s  verdicts {"identical" if same else "DIFFER"}')
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
