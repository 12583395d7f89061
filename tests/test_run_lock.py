"""One writer per model run: two `generate`s or two `evaluate`s started at once on one run directory write each (task, sample) once,
both exit 0, and the metrics count every completion once; `--no-wait` refuses instead of waiting."""
import json
import subprocess
import time

import pytest

from conftest import BIN, run_cli
from codebench.testing import FakeOpenAI
from test_api_backend import gold_answer

N = 2


def lines(p) -> list: return [json.loads(l) for l in p.read_text().splitlines() if l.strip()]


def start(*args, env=None):
    import os
    full = {k: v for k, v in os.environ.items() if k not in ('DATA_DIR', 'OUTPUT_DIR', 'NUM_COMPLETIONS', 'DEBUG')}
    full.update(env or {})
    return subprocess.Popen([str(BIN / 'codebench'), *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full)


def test_two_generates_and_two_evaluates_at_once(tmp_path):
    runs = tmp_path / 'runs'
    for args in (['parse', '--out', runs, '-f', 'minirl', '-e', 'ppo_step'], ['prompts', runs]):
        assert run_cli(*args).returncode == 0
    server = FakeOpenAI(answer=gold_answer(runs), delay=0.3)  # slow enough that the two processes overlap
    try:
        spec = f'openai:tiny@{server.url}'
        env = {'OPENAI_API_KEY': 'x'}
        procs = [start('generate', runs, '-m', spec, '--n', N, '--concurrency', 1, env=env) for _ in range(2)]
        outs = [p.communicate(timeout=900) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outs
        assert any('is being written by' in err and 'waiting' in err for _, err in outs), outs  # one waited for the other
        md = next(runs.glob('minirl/ppo_step/openai_tiny*'))
        comps = lines(md / 'completions.jsonl')
        assert len(comps) == 4 * N and len({(c['task_id'], c['sample']) for c in comps}) == 4 * N
        assert len(server.requests) == 4  # one request per task (n samples each): paid once
        procs = [start('evaluate', runs, '-m', spec, '-j', 1) for _ in range(2)]
        outs = [p.communicate(timeout=1800) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outs
        results = lines(md / 'results.jsonl')
        assert len(results) == 4 * N and len({(r['task_id'], r['sample']) for r in results}) == 4 * N
        m = json.loads((md / 'metrics.json').read_text())
        assert m['total_tests'] == 4 * N and m['pass_at_k']['pass@1'] == 1.0, m
        assert set(m['pass_at_k']) == {f'pass@{k}' for k in range(1, N + 1)}, m['pass_at_k']
    finally: server.close()


def test_no_wait_refuses_while_another_writes(tmp_path):
    runs = tmp_path / 'runs'
    for args in (['parse', '--out', runs, '-f', 'minirl', '-e', 'ppo_step'], ['prompts', runs], ['generate', runs, '-m', 'stub', '--n', 1]):
        assert run_cli(*args).returncode == 0
    md = runs / 'minirl/ppo_step/stub'
    holder = subprocess.Popen([str(BIN.parent / 'bin/python'), '-c', f"from codebench.core import run_lock\nimport time\nwith run_lock({str(md)!r}):\n"
                               "    print('held', flush=True); time.sleep(120)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'held'
        r = run_cli('evaluate', runs, '-m', 'stub', '--no-wait')
        assert r.returncode != 0 and 'is being written by codebench (pid' in r.stderr and 'Traceback' not in r.stderr, r.stderr
        assert not (md / 'results.jsonl').exists()
    finally:
        holder.kill(); holder.wait(); holder.stdout.close()


def test_readers_count_a_sample_once(tmp_path):
    "A results file written twice before the lock (or by another tool): metrics and aggregate count each (task, sample) once."
    runs = tmp_path / 'runs'
    for args in (['parse', '--out', runs, '-f', 'minirl', '-e', 'ppo_step'], ['prompts', runs], ['generate', runs, '-m', 'reference', '--n', 2],
                 ['evaluate', runs, '-m', 'reference']):
        assert run_cli(*args).returncode == 0
    md = runs / 'minirl/ppo_step/reference'
    for f in ('completions.jsonl', 'results.jsonl'):
        (md / f).write_text((md / f).read_text() * 2)  # every record twice
    r = run_cli('evaluate', runs, '-m', 'reference')
    assert r.returncode == 0, r.stderr
    m = json.loads((md / 'metrics.json').read_text())
    assert m['total_tests'] == 8 and set(m['pass_at_k']) == {'pass@1', 'pass@2'}, m
    assert len(lines(md / 'results.jsonl')) == 8  # the file itself is mended
    r = run_cli('aggregate', runs, '--out', tmp_path / 'agg')
    assert r.returncode == 0, r.stderr
    per = (tmp_path / 'agg/per_example.csv').read_text()
    assert ',8,' in per or ',8\n' in per, per
