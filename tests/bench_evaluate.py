"""Evaluation throughput on the demo benchmark (a benchmark script, not a test: `python tests/bench_evaluate.py`).

n samples per task are made from each gold implementation and its seeded mutants (the offline `mutants`
backend). The same completions are evaluated
  1. serially, one fresh interpreter and one copied workspace per completion, no dedup (the reference tool's way);
  2. with codebench's engine: a pool, dedup of identical spliced answers, hard-link workspaces;
  3. the same with warm workers (pre-imported test dependencies, one fork per run), when available.
It prints completions/second, the median overhead per test run over a bare pytest run of the gold, the
speedups, and checks that all three give identical verdicts.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from codebench.core import Completion, Task, read_jsonl
from codebench.evaluate import Job, LocalExecutor, _code_rel, compute_census, evaluate_completions, judge, run_job
from codebench.generate import OfflineBackend, Request, Sampling, parse_spec
from codebench.parse import parse_benchmark, write_tasks
from codebench.prompts import build_prompt
from codebench.sandbox import Limits, choose_isolation
from codebench.splice import splice


def completions_for(tasks, n, seed):
    backend = OfflineBackend(parse_spec(f'mutants:{seed}'))
    return list(backend.generate([Request(build_prompt(t), t, list(range(n))) for t in tasks], Sampling(n=n)))


def serial_fresh(tasks, comps, census, isolation, logs):
    "One fresh interpreter and one copied workspace per completion, one at a time, nothing shared."
    by = {t.task_id: t for t in tasks}
    verdicts, durations = {}, []
    for i, c in enumerate(comps):
        t = by[c.task_id]
        s = splice(t, c.text)
        if not s.ok: verdicts[c.task_id, c.sample] = s.verdict; continue
        job = Job(f'serial{i:06d}', t.task_id, str(t.code_dir), {_code_rel(t.source_path): s.source},
                  [_code_rel(p) for p in t.test_paths], census[t.task_id].tests, str(logs / f'{i}.log'), Limits(), isolation)
        _, run = run_job(job, link=False)
        durations.append(run.duration)
        verdicts[c.task_id, c.sample] = judge(run, job.census).verdict
    return verdicts, durations


def bare_gold(tasks, reps=3):
    "Median wall time of a plain `python -m pytest` of each task's test files with the gold code (no sandbox)."
    times = []
    for t in tasks:
        for _ in range(reps):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', *[_code_rel(p) for p in t.test_paths]],
                           cwd=t.code_dir, capture_output=True)
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--n', type=int, default=8, help='samples per task')
    ap.add_argument('--jobs', type=int, default=os.cpu_count(), help='pool size')
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args()
    isolation = choose_isolation()
    tmp = Path(tempfile.mkdtemp(prefix='bench-'))
    report = parse_benchmark()
    write_tasks(report, tmp)
    tasks = report.tasks
    comps = completions_for(tasks, args.n, args.seed)
    census = {}
    by_ex = {}
    for t in tasks: by_ex.setdefault((t.framework, t.example), []).append(t)
    for (fw, ex), ts in by_ex.items(): census.update(compute_census(ts, tmp / fw / ex, isolation=isolation, progress=False))
    print(f"{len(tasks)} tasks x {args.n} samples = {len(comps)} completions; isolation: {isolation}; {os.cpu_count()} cores")

    t0 = time.perf_counter()
    v_serial, d_serial = serial_fresh(tasks, comps, census, isolation, tmp / 'serial-logs')
    s_serial = time.perf_counter() - t0

    rows = [('serial, fresh interpreter, no dedup', s_serial, v_serial, d_serial)]
    for warm in (False, True):
        t0 = time.perf_counter()
        got = {}
        for (fw, ex), ts in by_ex.items():
            cs = [c for c in comps if c.task_id.startswith(f'{fw}/{ex}/')]
            res = evaluate_completions(ts, cs, tmp / fw / ex / f'pool-{warm}' / 'results.jsonl', census, LocalExecutor(args.jobs),
                                       isolation=isolation, progress=False, warm=warm)
            got.update({(r.task_id, r.sample): r for r in res})
        secs = time.perf_counter() - t0
        runs = {r.key: r.duration for r in got.values() if r.duration > 0}
        rows.append((f"pool x{args.jobs}, dedup" + (', warm workers' if warm else ''), secs,
                     {k: r.verdict for k, r in got.items()}, list(runs.values())))

    bare = bare_gold(tasks)
    print(f"bare pytest run of the gold (median): {bare * 1000:.0f} ms\n")
    print(f"{'evaluator':44s} {'seconds':>8s} {'compl/s':>8s} {'runs':>5s} {'median run':>11s} {'overhead':>9s} {'speedup':>8s}  verdicts")
    for name, secs, verdicts, durs in rows:
        med = statistics.median(durs) if durs else float('nan')
        same = 'identical' if verdicts == rows[0][2] else 'DIFFERENT'
        print(f"{name:44s} {secs:8.1f} {len(comps) / secs:8.1f} {len(durs):5d} {med * 1000:9.0f}ms {(med - bare) * 1000:7.0f}ms "
              f"{rows[0][1] / secs:7.1f}x  {same}")
    verd = {}
    for v in rows[-1][2].values(): verd[v] = verd.get(v, 0) + 1
    print(f"\nverdicts: {verd}")
    return 0 if all(r[2] == rows[0][2] for r in rows) else 1


if __name__ == '__main__':
    sys.exit(main())
