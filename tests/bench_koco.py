"""The whole real benchmark as one workload (a benchmark script, not a test): `KOCO_ROOT=... make bench`.

Every scoreable English task of KOCO-bench (census with the built environments, `codebench env build`), with six
completions each: the gold, the stub and `mutants:0` n = 4. The same completions are judged by KOCO-bench's own
evaluator (`scripts/execution_evaluation_pure.py`, one fresh `python -m pytest` per completion, example by example)
and by codebench (`evaluate`, warm workers, `--jobs` runs at once), alternating, `--reps` times. It prints the wall
times, the speedup, whether the two agree on pass/fail, and the share of codebench's wall time spent inside pytest
sessions (collection and the tests, as pytest's own `N passed in S s` line in each run's log says), out of the
`jobs x wall` time the runs had. It also times a second `evaluate` of the same run, with nothing new to judge. `--framework` and `--example` narrow the
workload (for a quick look).
"""
import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_evaluate import reference_run  # noqa: E402

from codebench.backend import Request, Sampling, parse_spec
from codebench.core import Result, model_slug, read_jsonl, write_jsonl
from codebench.envs import EnvMap
from codebench.evaluate import close_warm_pools, compute_census, evaluate
from codebench.offline import OfflineBackend
from codebench.parse import parse_benchmark
from codebench.prompts import build_prompt
from codebench.sandbox import choose_isolation

MODEL = 'mutants:0'  # the run the six completions of each task are stored under
_IN = re.compile(r' in (\d+(?:\.\d+)?)s')


def six(tasks: list) -> list:
    "Gold (sample 0), stub (1) and four mutants (2-5) of every task, as completions of `MODEL`."
    reqs = lambda n: [Request(build_prompt(t), t, list(range(n))) for t in tasks]
    out = []
    for spec, n, first in (('reference', 1, 0), ('stub', 1, 1), (MODEL, 4, 2)):
        for c in OfflineBackend(parse_spec(spec)).generate(reqs(n), Sampling(n=n)):
            out.append(replace(c, model=MODEL, sample=first + c.sample))
    return out


def codebench_twice(runs0: Path, envs, jobs: int, work: Path) -> tuple:
    "`({(task_id, sample): Result}, seconds, seconds of a second evaluate with nothing new)` on a fresh copy of `runs0`."
    runs = Path(tempfile.mkdtemp(dir=work)) / 'runs'
    shutil.copytree(runs0, runs)
    close_warm_pools()
    secs = []
    for _ in range(2):
        t0 = time.perf_counter()
        evaluate(runs, MODEL, jobs=jobs, envs=envs, progress=False)
        secs.append(time.perf_counter() - t0)
        close_warm_pools()
    got = {(r.task_id, r.sample): r for p in runs.glob(f'*/*/{model_slug(MODEL)}/results.jsonl') for r in read_jsonl(p, Result)}
    return got, *secs


def pytest_seconds(results: dict) -> float:
    "The sum of pytest's own session times (its last `in S s`) over the logs of the runs this evaluation made, their replays included."
    total, ran = 0.0, {r.log_path for r in results.values() if r.log_path and r.duration > 0}  # not the census's runs, whose results are reused
    for log in ran | {str(Path(p).with_suffix('.replay.log')) for p in ran}:
        try: hits = _IN.findall(Path(log).read_text(errors='replace'))
        except OSError: continue
        if hits: total += float(hits[-1])
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--jobs', type=int, default=2, help='codebench: runs at once')
    ap.add_argument('--reps', type=int, default=1, help='repetitions of each evaluator, alternating')
    ap.add_argument('--framework', action='append', help='only these frameworks')
    ap.add_argument('--example', action='append', help='only these examples')
    ap.add_argument('--keep', action='store_true', help="keep the work folder (the reference's output and codebench's runs) and print where it is")
    ap.add_argument('--env', action='append', metavar='SPEC', help="the tests' interpreters, as `codebench evaluate --env` takes them (default: auto)")
    args = ap.parse_args()
    koco = os.environ.get('KOCO_ROOT')
    if not koco:
        print('bench_koco: KOCO_ROOT is not set; skipped')
        return 0
    root = Path(koco) / 'KOCO-bench-en/domain_code_generation'
    script, isolation, envs = root / 'scripts/execution_evaluation_pure.py', choose_isolation(), EnvMap(args.env or ['auto'])
    tasks = [t for t in parse_benchmark(root).tasks if (not args.framework or t.framework in args.framework)
             and (not args.example or t.example in args.example)]
    work = Path(tempfile.mkdtemp(prefix='bench-koco-'))
    try:
        runs0, by_ex, census = work / 'runs0', {}, {}
        for t in tasks: by_ex.setdefault((t.framework, t.example), []).append(t)
        t0 = time.perf_counter()
        for (fw, ex), ts in sorted(by_ex.items()):
            d = runs0 / fw / ex
            write_jsonl(d / 'tasks.jsonl', ts)
            census.update(compute_census(ts, d, isolation=isolation, env=envs.env_for(fw, ex), progress=False, warm=True))
        close_warm_pools()
        ok = [t for t in tasks if census[t.task_id].ok]
        comps = six(ok)
        for (fw, ex), ts in by_ex.items():
            ids = {t.task_id for t in ts}
            write_jsonl(runs0 / fw / ex / model_slug(MODEL) / 'completions.jsonl', [c for c in comps if c.task_id in ids])
        print(f"bench_koco: {len(ok)} scoreable English tasks of {len(tasks)} in {len(by_ex)} examples (census {time.perf_counter() - t0:.0f} s); "
              f"{len(comps)} completions (gold, stub, 4 mutants each), codebench with {args.jobs} jobs, {isolation}", flush=True)
        times, got = {'reference': [], 'codebench': []}, {}
        for rep in range(args.reps):
            secs, ref = 0.0, {}
            for (fw, ex), ts in sorted(by_ex.items()):
                mine = [t for t in ts if census[t.task_id].ok]
                if not mine: continue
                v, s = reference_run(script, envs.env_for(fw, ex).python, mine, [c for c in comps if c.task_id in {t.task_id for t in mine}], work)
                ref.update(v); secs += s
            times['reference'].append(secs); got['reference'] = ref
            res, s, again = codebench_twice(runs0, envs, args.jobs, work)
            times['codebench'].append(s); got['codebench'] = res
            in_pytest = pytest_seconds(res)
            print(f"  rep {rep + 1}: reference {times['reference'][-1]:.0f} s, codebench {s:.0f} s; "
                  f"codebench's runs spent {in_pytest:.0f} s in pytest sessions = {100 * in_pytest / (s * args.jobs):.0f}% of {args.jobs} x its wall time; "
                  f"evaluate again with nothing new: {again:.1f} s", flush=True)
        med = {k: statistics.median(v) for k, v in times.items()}
        mine = {k: r.verdict == 'pass' for k, r in got['codebench'].items()}
        diff = sorted(k for k, v in got['reference'].items() if mine.get(k) != v)
        print(f"  median: reference {med['reference']:.0f} s, codebench {med['codebench']:.0f} s: {med['reference'] / med['codebench']:.1f}x; "
              f"pass/fail the same for {len(got['reference']) - len(diff)}/{len(got['reference'])}", flush=True)
        kind = lambda s: 'gold' if s == 0 else 'stub' if s == 1 else f'mutant {s - 2}'
        for k in diff:  # every disagreement, with codebench's side of it (the reference says only pass or fail; its output is kept with --keep)
            r = got['codebench'].get(k)
            why = '' if r is None else '; '.join(f"{t.split('::')[-1]}: {o}" for t, o in sorted(r.tests.items()) if o != 'passed')[:160]
            print(f"    {k[0]} ({kind(k[1])}): reference {'pass' if got['reference'][k] else 'fail'}, "
                  f"codebench {r.verdict if r else 'no result'}{f' ({why})' if why else ''}")
    finally:
        close_warm_pools()
        if args.keep: print(f"bench_koco: kept {work}")
        else: shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
