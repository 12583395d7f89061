"""codebench against KOCO-bench's own evaluator on identical completions (a measurement script, not a test).

    KOCO_ROOT=<dir> python tests/koco_reference.py RUNS [-m reference -m stub] [-f FRAMEWORK] [-e EXAMPLE] [--out DIR]

RUNS must have been evaluated by codebench (`codebench evaluate RUNS -m reference -m stub --env auto`). For each example,
the models' completions are written in the reference tool's input format (one record per function, the completions of
all models in order), its evaluator (`scripts/execution_evaluation_pure.py`) runs on a private copy of the example laid
out as in the benchmark (it edits source files in place), with the example's environment interpreter, and its
per-completion booleans are set beside codebench's verdicts. Prints every disagreement and a summary; writes
comparison.csv to --out.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from codebench.core import Completion, Prompt, Result, Task, example_run_dir, model_run_dir, read_jsonl, run_examples, write_jsonl
from codebench.envs import EnvMap, env_map
from codebench.parse import to_koco


def private_copy(task: Task, dest: Path) -> Path:
    "The example's code/ under dest at its benchmark-relative place, with the framework's knowledge corpus beside it; the code dir."
    ex = Path(task.example_dir)
    fw = ex.parent.parent
    code = dest / fw.name / 'test_examples' / ex.name / 'code'
    shutil.copytree(ex / 'code', code, symlinks=True)
    if (fw / 'knowledge_corpus').is_dir(): (dest / fw.name / 'knowledge_corpus').symlink_to(fw / 'knowledge_corpus')
    return code


def reference_verdicts(runs, fw, ex, models, script: Path, envs: EnvMap, work: Path, timeout: float) -> tuple:
    "`({(task_id, model): bool}, seconds)` from the reference evaluator on the models' completions of one example."
    d = example_run_dir(runs, fw, ex)
    tasks = read_jsonl(d / 'tasks.jsonl', Task)
    prompts = {p.task_id: p.messages for p in read_jsonl(d / 'prompts.jsonl', Prompt)}
    comps = {m: {c.task_id: c.text for c in read_jsonl(model_run_dir(runs, fw, ex, m) / 'completions.jsonl', Completion)
                 if c.sample == 0} for m in models}
    records = [{**to_koco(t), 'prompt': prompts.get(t.task_id, []), 'completions': [comps[m].get(t.task_id, '') for m in models]}
               for t in tasks]
    inp, out = work / f'algorithm_methods_data_{ex}_output.jsonl', work / f'algorithm_methods_data_{ex}_result.jsonl'
    write_jsonl(inp, records)
    code = private_copy(tasks[0], work / 'bench')
    env = {k: os.environ[k] for k in ('PATH', 'LANG', 'HOME') if k in os.environ}
    env.update(HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1', HF_DATASETS_OFFLINE='1', PYTHONDONTWRITEBYTECODE='1', WANDB_MODE='disabled')
    t0 = time.perf_counter()
    with open(work / 'reference.log', 'w') as log:
        subprocess.run([envs.python_for(fw, ex), str(script), '--source_dir', str(code), '--input_file', str(inp),
                        '--output_file', str(out)], cwd=script.parent, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=timeout)
    got = {r['function_name']: r.get('results', []) for r in read_jsonl(out)} if out.exists() else {}
    by_name = {t.name: t.task_id for t in tasks}
    return {(by_name[n], m): bool(rs[i]) for n, rs in got.items() for i, m in enumerate(models) if i < len(rs)}, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('runs')
    ap.add_argument('-m', '--model', action='append', help='models to compare (default: reference, stub)')
    ap.add_argument('-f', '--framework')
    ap.add_argument('-e', '--example')
    ap.add_argument('--env', action='append', default=None, help="the tests' interpreters, as for `codebench evaluate` (default: auto)")
    ap.add_argument('--out', default='koco-reference', help='where comparison.csv and the reference logs go')
    ap.add_argument('--timeout', type=float, default=3600, help='seconds per example (a hang guard)')
    args = ap.parse_args()
    koco = os.environ.get('KOCO_ROOT') or sys.exit('set KOCO_ROOT to the folder holding KOCO-bench-en/')
    script = Path(koco) / 'KOCO-bench-en/domain_code_generation/scripts/execution_evaluation_pure.py'
    if not script.is_file(): sys.exit(f'no reference evaluator at {script}')
    models, envs, out = args.model or ['reference', 'stub'], env_map(args.env or ["auto"], runs=args.runs), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for fw, ex, d in run_examples(args.runs):
        if args.framework not in (None, fw) or args.example not in (None, ex): continue
        census = {c['task_id']: c for c in read_jsonl(d / 'census.jsonl')}
        ours = {(r.task_id, m): r.verdict for m in models for r in read_jsonl(model_run_dir(args.runs, fw, ex, m) / 'results.jsonl', Result)
                if r.sample == 0}
        work = Path(tempfile.mkdtemp(prefix=f'ref-{ex}-'))
        ref, secs = reference_verdicts(args.runs, fw, ex, models, script, envs, work, args.timeout)
        shutil.copy(work / 'reference.log', out / f'{fw}__{ex}.log')
        shutil.rmtree(work, ignore_errors=True)
        print(f'{fw}/{ex}: reference evaluator {secs:.0f} s', flush=True)
        for tid, c in census.items():
            for m in models:
                mine = ours.get((tid, m), f"broken ({c['cause']})" if not c['ok'] else 'not evaluated')
                theirs = ref.get((tid, m))
                rows.append(dict(framework=fw, example=ex, task_id=tid, model=m, scoreable=c['ok'], codebench=mine,
                                 reference={True: 'pass', False: 'fail', None: 'no result'}[theirs],
                                 agree=c['ok'] and (mine == 'pass') == bool(theirs), seconds=round(secs, 1)))
    df = pd.DataFrame(rows)
    df.to_csv(out / 'comparison.csv', index=False)
    sc = df[df.scoreable]
    print(f"\n{len(sc)} completions of scoreable tasks: {int(sc.agree.sum())} same verdict, {int((~sc.agree).sum())} different")
    pd.set_option('display.width', 250); pd.set_option('display.max_colwidth', 70)
    if (~sc.agree).any(): print(sc[~sc.agree][['task_id', 'model', 'codebench', 'reference']].to_string(index=False))
    nb = df[~df.scoreable]
    if len(nb): print(f"\nnot scoreable by codebench (the reference tool's verdicts):\n"
                      f"{nb[['task_id', 'model', 'codebench', 'reference']].to_string(index=False)}")


if __name__ == '__main__':
    main()
