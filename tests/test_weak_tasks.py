"""Weak tasks (a NotImplementedError stub passes every census test) never inflate a headline score; --include-weak counts them."""
import json

from codebench.core import Result, Task, write_jsonl
from codebench.metrics import rewrite_metrics

from conftest import run_cli


def _runs(tmp_path):
    "One example, two tasks: `real` (the model fails it) and `weak` (anything passes it), with census and results on disk."
    d = tmp_path / 'runs' / 'fw' / 'ex'
    tasks = [Task(f'fw/ex/{n}', 'fw', 'ex', n, 'function', 'code/m.py', [1, 2], [1, 2], '', ['t.py']) for n in ('real', 'weak')]
    write_jsonl(d / 'tasks.jsonl', tasks)
    write_jsonl(d / 'census.jsonl', [dict(task_id='fw/ex/real', ok=True, tests=['t::a']),
                                     dict(task_id='fw/ex/weak', ok=True, tests=['t::b'], weak='a stub passes all 1 census tests')])
    write_jsonl(d / 'm' / 'results.jsonl', [Result(task_id='fw/ex/real', model='m', sample=s, verdict='fail') for s in range(2)] +
                [Result(task_id='fw/ex/weak', model='m', sample=s, verdict='pass', pass_ratio=1.0) for s in range(2)])
    return tmp_path / 'runs', d / 'm'


def test_aggregate_leaves_weak_tasks_out_unless_asked(tmp_path):
    runs, _ = _runs(tmp_path)
    r = run_cli('aggregate', runs, '--out', tmp_path / 'agg')
    assert r.returncode == 0, r.stderr
    agg = json.loads((tmp_path / 'agg' / 'aggregate.json').read_text())
    assert agg['covers']['frameworks'] == 'scoreable tasks that are not weak'
    assert [(x['total_functions'], x['pass@1']) for x in agg['frameworks'] if x['framework'] == 'ALL'] == [(1, 0.0)]
    assert [(x['total_functions'], x['pass@1']) for x in agg['weak']] == [(1, 1.0)]
    r = run_cli('aggregate', runs, '--out', tmp_path / 'agg2', '--include-weak')
    assert r.returncode == 0 and 'weak tasks included' in r.stdout
    agg = json.loads((tmp_path / 'agg2' / 'aggregate.json').read_text())
    assert [(x['total_functions'], x['pass@1']) for x in agg['frameworks'] if x['framework'] == 'ALL'] == [(2, 0.5)]


def test_metrics_json_says_which_set_each_number_covers(tmp_path):
    _, model_dir = _runs(tmp_path)
    m = rewrite_metrics(model_dir)
    assert (m['covers'], m['total_functions'], m['pass_at_k']['pass@1']) == ('scoreable tasks that are not weak', 1, 0.0)
    assert (m['weak']['covers'], m['weak']['total_functions'], m['weak']['pass_at_k']['pass@1']) == ('weak tasks only', 1, 1.0)
    assert m['weak_tasks'] == {'fw/ex/weak': 'a stub passes all 1 census tests'}
    m = rewrite_metrics(model_dir, include_weak=True)
    assert (m['covers'], m['total_functions'], m['pass_at_k']['pass@1']) == ('scoreable tasks, weak ones included', 2, 0.5)
    assert json.loads((model_dir / 'metrics.json').read_text())['covers'] == 'scoreable tasks, weak ones included'
