"""Evaluation speed, side by side on identical completions (a benchmark script, not a test): `make bench`.

For each workload, the same completions are judged by
  1. KOCO-bench's own evaluator (`scripts/execution_evaluation_pure.py`; needs KOCO_ROOT): one fresh
     `python -m pytest` per completion, one after the other, on a private copy of the example;
  2. codebench with a fresh interpreter per run (`--no-warm`);
  3. codebench with warm workers (the default),
alternating, `--reps` times each; every repetition of 2 and 3 starts from nothing (no stored results, no warm
server), with the census computed beforehand (in the same mode: a census is only reused by runs of its mode). Workloads: the embedded demo (15 tasks x 4 samples of `mutants:0` =
60 completions) and, with KOCO_ROOT and built environments (`codebench env build`), one example per runnable
framework. It prints wall times, speedups, whether the verdicts agree, and where the time of one warm run goes
(workspace, the request to the worker, pytest in the child, reading the results, cleanup), against a bare pytest of
the same test files in a process that has already imported what they import.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from codebench.core import Result, model_slug, read_jsonl, write_jsonl
from codebench.envs import env_map
from codebench.core import code_rel
from codebench.evaluate import close_warm_pools, compute_census, evaluate, preload_modules
from codebench.backend import Request, Sampling, parse_spec
from codebench.offline import OfflineBackend
from codebench.parse import parse_benchmark, to_koco
from codebench.prompts import build_prompt
from codebench.sandbox import choose_isolation

import codebench.evaluate as ev
import codebench.sandbox as sb

REAL = [('verl', 'PACS'), ('smolagents', 'smolcc'), ('raganything', 'rag4chat')]


def completions(tasks, n, seed=0):
    backend = OfflineBackend(parse_spec(f'mutants:{seed}'))
    return list(backend.generate([Request(build_prompt(t), t, list(range(n))) for t in tasks], Sampling(n=n)))


def reference_run(script, python, tasks, comps, work):
    "KOCO-bench's evaluator on a private copy of each example; `({(task_id, sample): passed}, seconds)`."
    got, t0 = {}, time.perf_counter()
    by_ex = {}
    for t in tasks: by_ex.setdefault(t.example_dir, []).append(t)
    for exdir, ts in by_ex.items():
        ex = Path(exdir)
        d = Path(tempfile.mkdtemp(dir=work))
        code = d / ex.parent.parent.name / 'test_examples' / ex.name / 'code'
        shutil.copytree(ex / 'code', code, symlinks=True)
        if (ex.parent.parent / 'knowledge_corpus').is_dir(): (code.parent.parent.parent / 'knowledge_corpus').symlink_to(ex.parent.parent / 'knowledge_corpus')
        recs = [{**to_koco(t), 'completions': [c.text for c in sorted((c for c in comps if c.task_id == t.task_id), key=lambda c: c.sample)]}
                for t in ts]
        write_jsonl(d / 'bench_output.jsonl', recs)  # the reference writes its metrics to <name minus _result.jsonl>_result.metrics.json
        env = {k: os.environ[k] for k in ('PATH', 'LANG', 'HOME') if k in os.environ}
        env.update(HF_HUB_OFFLINE='1', PYTHONDONTWRITEBYTECODE='1', OMP_NUM_THREADS='1')
        with open(d / 'reference.log', 'w') as log:  # what it says of each completion (kept with bench_koco --keep)
            subprocess.run([python, str(script), '--source_dir', str(code), '--input_file', str(d / 'bench_output.jsonl'), '--output_file',
                            str(d / 'bench_result.jsonl')], cwd=script.parent, env=env, stdout=log, stderr=subprocess.STDOUT, check=True)
        names = {t.name: t.task_id for t in ts}
        for r in read_jsonl(d / 'bench_result.jsonl'):
            got.update({(names[r['function_name']], i): bool(v) for i, v in enumerate(r['results'])})
    return got, time.perf_counter() - t0


def codebench_run(runs0, model, envs, warm, jobs, work):
    "`codebench evaluate` (the library call) on a copy of `runs0` with nothing stored but the census; `({(task_id, sample): Result}, seconds)`."
    runs = Path(tempfile.mkdtemp(dir=work)) / 'runs'
    shutil.copytree(runs0, runs)
    close_warm_pools()
    t0 = time.perf_counter()
    evaluate(runs, model, jobs=jobs, warm=warm, envs=envs, progress=False)
    secs = time.perf_counter() - t0
    close_warm_pools()
    got = {(r.task_id, r.sample): r for p in runs.glob(f'*/*/{model_slug(model)}/results.jsonl') for r in read_jsonl(p, Result)}
    return got, secs


@contextmanager
def phase_timer():
    "Wrap the pieces of a run with timers; yields {phase: [seconds]}."
    phases, saved = {}, []
    def wrap(mod, name, label):
        orig = getattr(mod, name)
        def timed(*a, **k):
            t0 = time.perf_counter()
            try: return orig(*a, **k)
            finally: phases.setdefault(label, []).append(time.perf_counter() - t0)
        saved.append((mod, name, orig)); setattr(mod, name, timed)
    wrap(ev, 'splice', 'splice'); wrap(ev, 'make_workspace', 'workspace'); wrap(sb, '_collect', 'collect')
    wrap(sb.WarmServer, 'run', 'worker round trip'); wrap(ev, '_run_once', 'whole run (in a pool thread)')
    try: yield phases
    finally:
        for mod, name, orig in saved: setattr(mod, name, orig)


def bare_pytest(task, env, preload, reps=5):
    "Median seconds of pytest on the task's test files with the gold, forked from a process that has imported `preload`."
    code = f'''
import os, sys, time, statistics
for m in {list(preload)!r}:
    try: __import__(m)
    except BaseException: pass
import pytest, tempfile
fd = os.open(os.devnull, os.O_WRONLY); saved = os.dup(1), os.dup(2); os.dup2(fd, 1); os.dup2(fd, 2)
pytest.main(['-q', '-p', 'no:cacheprovider', tempfile.mkdtemp()])  # pytest's plugins imported, as a warm worker has them
os.dup2(saved[0], 1); os.dup2(saved[1], 2)
times = []
for _ in range({reps}):
    t0 = time.perf_counter(); pid = os.fork()
    if pid == 0:
        fd = os.open(os.devnull, os.O_WRONLY); os.dup2(fd, 1); os.dup2(fd, 2)
        os._exit(int(pytest.main(['-q', '-p', 'no:cacheprovider', *{[code_rel(p) for p in task.test_paths]!r}])))
    os.waitpid(pid, 0); times.append(time.perf_counter() - t0)
print(statistics.median(times))
'''
    r = subprocess.run([env.python, '-c', code], cwd=task.code_dir, capture_output=True, text=True,
                       env={**os.environ, 'HF_HUB_OFFLINE': '1', 'PYTHONDONTWRITEBYTECODE': '1', 'OMP_NUM_THREADS': '1'})
    return float(r.stdout.strip().splitlines()[-1])


def workload(name, tasks, n, args, envs, script, isolation):
    work = Path(tempfile.mkdtemp(prefix='bench-'))
    model, runs0 = 'mutants:0', work / 'runs0'
    comps = completions(tasks, n)
    by_ex = {}
    for t in tasks: by_ex.setdefault((t.framework, t.example), []).append(t)
    census = {}
    for (fw, ex), ts in by_ex.items():
        d = runs0 / fw / ex
        write_jsonl(d / 'tasks.jsonl', ts)
        write_jsonl(d / model_slug(model) / 'completions.jsonl', [c for c in comps if c.task_id in {t.task_id for t in ts}])
    shutil.copytree(runs0, work / 'runs0-cold')
    for (fw, ex), ts in by_ex.items():  # a census per mode (its digest says how its runs ran), computed beforehand
        census.update(compute_census(ts, runs0 / fw / ex, isolation=isolation, env=envs.env_for(fw, ex), progress=False, warm=True))
        compute_census(ts, work / 'runs0-cold' / fw / ex, isolation=isolation, env=envs.env_for(fw, ex), progress=False, warm=False)
    close_warm_pools()
    ok = [t for t in tasks if census[t.task_id].ok]
    comps = [c for c in comps if census[c.task_id].ok]
    print(f"\n== {name}: {len(ok)} scoreable tasks x {n} samples = {len(comps)} completions "
          f"({len({c.text for c in comps})} distinct), {args.jobs} jobs, {isolation}", flush=True)
    times = {'reference': [], 'cold': [], 'warm': []}
    verdicts = {}
    for rep in range(args.reps):
        if script:
            v, s = reference_run(script, envs.env_for(ok[0].framework, ok[0].example).python, ok, comps, work)
            times['reference'].append(s); verdicts['reference'] = v
        for mode in ('cold', 'warm'):
            v, s = codebench_run(runs0 if mode == 'warm' else work / 'runs0-cold', model, envs, mode == 'warm', args.jobs, work)
            times[mode].append(s); verdicts[mode] = v
        print(f"  rep {rep + 1}: " + ', '.join(f"{k} {t[-1]:.1f} s" for k, t in times.items() if t), flush=True)
    med = {k: statistics.median(t) for k, t in times.items() if t}
    passed = lambda v: {k: (x.verdict == 'pass' if isinstance(x, Result) else x) for k, x in v.items()}
    same_cw = passed(verdicts['cold']) == passed(verdicts['warm'])
    print(f"  median: " + ', '.join(f"{k} {s:.1f} s" for k, s in med.items()))
    if 'reference' in med:
        diff = {k: (v, passed(verdicts['warm']).get(k)) for k, v in verdicts['reference'].items() if v != passed(verdicts['warm']).get(k)}
        print(f"  speedup over the reference: cold {med['reference'] / med['cold']:.1f}x, warm {med['reference'] / med['warm']:.1f}x; "
              f"verdicts same as the reference: {len(verdicts['reference']) - len(diff)}/{len(verdicts['reference'])}"
              + (f" (different, reference vs codebench: {sorted(diff.items())})" if diff else ''))
    differ = sorted(k for k in verdicts['cold'] if verdicts['cold'][k].verdict != (verdicts['warm'][k].verdict if k in verdicts['warm'] else None))
    print(f"  warm/cold: {med['cold'] / med['warm']:.2f}x; identical verdicts: {same_cw}"
          + ''.join(f"\n    {k}: cold {verdicts['cold'][k].verdict} ({verdicts['cold'][k].detail[:120]}), warm {verdicts['warm'][k].verdict} "
                    f"({verdicts['warm'][k].detail[:120]})" for k in differ if k in verdicts['warm']))
    with phase_timer() as ph:
        codebench_run(runs0, model, envs, True, 1, work)
    print(f"  one warm run, median (1 job): " + ', '.join(f"{k} {statistics.median(t) * 1000:.0f} ms" for k, t in ph.items()))
    t = ok[0]
    bare = bare_pytest(t, envs.env_for(t.framework, t.example), preload_modules([x for x in ok if x.example_dir == t.example_dir]))
    whole = statistics.median(ph['whole run (in a pool thread)'])
    print(f"  bare pytest of {t.task_id}'s tests, forked from a process with its imports and pytest's plugins loaded: "
          f"{bare * 1000:.0f} ms; a warm codebench run: {whole * 1000:.0f} ms (overhead {100 * (whole / bare - 1):.0f}%)")
    shutil.rmtree(work, ignore_errors=True)
    return med


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--n', type=int, default=4, help='samples per task')
    ap.add_argument('--jobs', type=int, default=2, help='concurrent runs')
    ap.add_argument('--reps', type=int, default=3, help='repetitions of each evaluator, alternating')
    ap.add_argument('--real', action='append', help='FRAMEWORK/EXAMPLE of the real benchmark (default: one per runnable framework)')
    ap.add_argument('--no-real', action='store_true', help='only the demo')
    args = ap.parse_args()
    isolation, koco = choose_isolation(), os.environ.get('KOCO_ROOT')
    script = Path(koco) / 'KOCO-bench-en/domain_code_generation/scripts/execution_evaluation_pure.py' if koco else None
    if not script: print('KOCO_ROOT is not set: no reference evaluator, no real examples; codebench cold and warm only')
    print(f"{os.cpu_count()} cores, isolation {isolation}")
    workload('demo', parse_benchmark().tasks, args.n, args, env_map(environ={}), script, isolation)
    if koco and not args.no_real:
        envs = env_map(["auto"])
        for fw, ex in [tuple(x.split('/')) for x in args.real] if args.real else REAL:
            try: tasks = parse_benchmark(Path(koco) / 'KOCO-bench-en/domain_code_generation', fw, ex).tasks
            except ValueError as e: print(f"\n== {fw}/{ex}: skipped ({e})"); continue
            workload(f"{fw}/{ex}", tasks, args.n, args, envs, script, isolation)


if __name__ == '__main__':
    sys.exit(main())
