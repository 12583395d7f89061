"""The evaluation stages through the CLI, on the demo benchmark and on broken copies of it."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from codebench.core import Result, read_jsonl

from conftest import BIN, run_cli, tree_hash


@pytest.fixture(scope='module')
def chain(tmp_path_factory, demo_root=None):
    "parse -> prompts -> generate (three offline models) -> evaluate -> aggregate, once for the module."
    from codebench.core import demo_root as dr
    root = dr()
    before = tree_hash(root)
    runs = tmp_path_factory.mktemp('chain') / 'runs'
    assert run_cli('parse', '--out', runs).returncode == 0
    assert run_cli('prompts', runs).returncode == 0
    models = ['reference', 'stub', 'mutants:3']
    r = run_cli('generate', runs, *sum([['-m', m] for m in models], []), '--n', '4')
    assert r.returncode == 0, r.stderr
    r = run_cli('evaluate', runs, *sum([['-m', m] for m in models], []), '--koco')
    assert r.returncode == 0, r.stderr
    a = run_cli('aggregate', runs, '--out', runs / 'agg')
    assert a.returncode == 0, a.stderr
    return dict(root=root, before=before, runs=runs, out=r.stdout)


def test_reference_passes_stub_fails_mutants_in_between(chain):
    fw = pd.read_csv(chain['runs'] / 'agg/frameworks.csv').set_index(['model', 'framework'])
    assert fw.loc[('reference', 'ALL'), 'pass@1'] == 1.0
    assert fw.loc[('stub', 'ALL'), 'pass@1'] == 0.0
    assert 0.1 < fw.loc[('mutants_3', 'ALL'), 'pass@1'] < 0.9
    assert fw.loc[('mutants_3', 'ALL'), 'pass@1'] <= fw.loc[('mutants_3', 'ALL'), 'pass@4']
    assert fw.loc[('reference', 'ALL'), 'total_functions'] == 15 and fw.loc[('reference', 'ALL'), 'total_tests'] == 60
    assert tree_hash(chain['root']) == chain['before']


def test_metrics_json_has_the_reference_fields(chain):
    m = json.loads((chain['runs'] / 'minirl/ppo_step/mutants_3/metrics.json').read_text())
    for key in ('total_functions', 'total_tests', 'total_passed', 'overall_success_rate', 'pass_at_k', 'avg_pass_ratio'):
        assert key in m
    assert set(m['pass_at_k']) == {'pass@1', 'pass@2', 'pass@3', 'pass@4'}
    assert m['broken_tasks'] == {}
    assert (chain['runs'] / 'minirl/ppo_step/reference/algorithm_methods_data_ppo_step_result.jsonl').exists()
    res = read_jsonl(chain['runs'] / 'minirl/ppo_step/stub/results.jsonl', Result)
    assert {r.verdict for r in res} == {'fail'} and all(Path(r.log_path).exists() for r in res)
    assert all(r.isolation for r in res)


def test_answers_with_the_golds_results_reuse_its_replay(chain):
    "A passing answer whose function returned the gold's results, call for call, is not replayed again: the census's replay judged them."
    from codebench.evaluate import Census
    census = [c for p in chain['runs'].glob('*/*/census.jsonl') for c in read_jsonl(p, Census)]
    assert all(c.replay_digest for c in census if c.replayable) and sum(bool(c.replayable) for c in census) >= 12
    ran = [r for p in chain['runs'].glob('*/*/mutants_3/results.jsonl') for r in read_jsonl(p, Result) if r.verdict == 'pass' and r.duration > 0]
    reused = [r for r in ran if "its results are the gold's, call for call" in Path(r.log_path).read_text()]
    replayed = [r for r in ran if Path(r.log_path).with_suffix('.replay.log').exists()]
    assert reused and len(reused) + len(replayed) == len(ran) and not set(map(id, reused)) & set(map(id, replayed))


def test_rerun_does_nothing_new(chain):
    res = chain['runs'] / 'minirag/chunking/mutants_3/results.jsonl'
    logs = lambda: sorted(p.name for p in chain['runs'].glob('*/*/*/logs/*.log')) + sorted(p.name for p in chain['runs'].glob('*/*/census/*.log'))
    before, logs_before = res.read_bytes(), logs()
    r = run_cli('evaluate', chain['runs'], '-m', 'mutants:3')
    assert r.returncode == 0 and res.read_bytes() == before
    assert logs() == logs_before  # nothing was run again: no census run, no test run


def test_kill_minus_9_loses_nothing(tmp_path):
    runs = tmp_path / 'runs'
    for args in (['parse', '--out', runs, '-f', 'minirl'], ['prompts', runs], ['generate', runs, '-m', 'mutants:5', '--n', '6']):
        assert run_cli(*args).returncode == 0
    env = {k: v for k, v in os.environ.items() if k not in ('OUTPUT_DIR', 'DATA_DIR')}
    proc = subprocess.Popen([str(BIN / 'codebench'), 'evaluate', str(runs), '-m', 'mutants:5', '-j', '2'],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    res = runs / 'minirl/ppo_step/mutants_5/results.jsonl'
    deadline = time.time() + 60
    while time.time() < deadline and (not res.exists() or len(res.read_text().splitlines()) < 6): time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = len(read_jsonl(res))
    assert 6 <= partial < 48
    r = run_cli('evaluate', runs, '-m', 'mutants:5')
    assert r.returncode == 0, r.stderr
    for ex in ('ppo_step', 'reward_shaping'):
        rs = read_jsonl(runs / f'minirl/{ex}/mutants_5/results.jsonl')
        assert sorted((x['task_id'], x['sample']) for x in rs) == sorted({(x['task_id'], x['sample']) for x in rs})  # no duplicates
        assert len(rs) == 24


def test_broken_tasks_and_failing_gold_tests_are_reported_by_name(tmp_path, demo_root):
    root = tmp_path / 'bench'
    shutil.copytree(demo_root / 'minirag', root / 'minirag')
    ex = root / 'minirag/test_examples/bm25_search'
    doc = ex / 'requirements/03_algorithm_and_core_methods.md'
    doc.write_text(doc.read_text().replace('code/tests/test_fusion.py', 'code/tests/test_fusoin.py', 1))  # typo: reciprocal_rank_fusion
    src = ex / 'code/minirag/text.py'
    src.write_text(src.read_text().replace('t not in stopwords', 't in stopwords'))  # gold of tokenize now fails 4 of its tests
    runs = tmp_path / 'runs'
    run_cli('parse', root, '--out', runs)
    for args in (['prompts', runs], ['generate', runs, '-m', 'reference', '--n', '2']):
        assert run_cli(*args).returncode == 0
    r = run_cli('evaluate', runs, '-m', 'reference', '-e', 'bm25_search')
    assert r.returncode == 0, r.stderr
    assert ('broken task minirag/bm25_search/reciprocal_rank_fusion [test-file-missing]: test file code/tests/test_fusoin.py '
            'does not exist (did you mean code/tests/test_fusion.py?)') in r.stderr
    assert 'task minirag/bm25_search/tokenize: 4 test(s) do not pass with the gold and are left out: ' in r.stderr
    assert 'test_tokenize_lowercases_and_drops_stopwords' in r.stderr and 'census/test_bm25.log' in r.stderr
    assert 'test-file-missing' in r.stdout and 'scoreable' in r.stdout  # the census table
    m = json.loads((runs / 'minirag/bm25_search/reference/metrics.json').read_text())
    assert set(m['broken_tasks']) == {'minirag/bm25_search/reciprocal_rank_fusion'}
    assert m['broken_causes'] == {'minirag/bm25_search/reciprocal_rank_fusion': 'test-file-missing'}
    assert len(m['excluded_tests']['minirag/bm25_search/tokenize']) == 4
    assert m['total_functions'] == 3 and m['pass_at_k'] == {'pass@1': 1.0, 'pass@2': 1.0}


def test_summary_table_keeps_its_columns_when_an_example_is_all_broken(tmp_path, demo_root):
    root = tmp_path / 'bench'
    shutil.copytree(demo_root / 'minirl', root / 'minirl')
    doc = root / 'minirl/test_examples/ppo_step/requirements/03_algorithm_and_core_methods.md'
    doc.write_text(doc.read_text().replace('code/tests/', 'code/missing/'))
    runs = tmp_path / 'runs'
    run_cli('parse', root, '--out', runs)
    for args in (['prompts', runs], ['generate', runs, '-m', 'reference', '--n', '1']):
        assert run_cli(*args).returncode == 0
    r = run_cli('evaluate', runs, '-m', 'reference')
    assert r.returncode == 0, r.stderr
    header, *rows = r.stdout.split('\n\n')[0].strip().splitlines()[1:]
    assert header.split() == ['example', 'functions', 'broken', 'weak', 'completions', 'passed', 'pass@1', 'avg_pass_ratio', 'errors']
    ppo = next(l for l in rows if 'ppo_step' in l).split()
    assert ppo[1:4] == ['0', '4', '0'] and ppo[6] == '-'


def test_validate_cli(tmp_path):
    r = run_cli('validate', '-f', 'minirl', '-e', 'ppo_step', '--out', tmp_path / 'v', '--mutants', '4')
    assert r.returncode == 0, r.stderr
    df = pd.read_csv(tmp_path / 'v/validate.csv')
    assert len(df) == 4 and (df.stub == 'fail').all() and (df.gold == 'pass').all()
    assert '4 tasks' in r.stdout


def _reachable_venv() -> Path | None:
    "A venv of the system's Python with numpy and pytest, where an unprivileged uid can reach it (None if it cannot be made here)."
    base = Path(tempfile.mkdtemp(prefix='codebench-sysvenv-', dir='/tmp')); os.chmod(base, 0o755)
    ok = subprocess.run(['/usr/bin/python3', '-m', 'venv', base / 'v'], capture_output=True).returncode == 0 and \
         subprocess.run([base / 'v/bin/python', '-m', 'pip', 'install', '-q', 'numpy', 'pytest'], capture_output=True, timeout=900).returncode == 0
    return base / 'v' if ok else None


def test_no_sandbox_refuses_unless_asked_by_name(tmp_path):
    runs = tmp_path / 'runs'
    for args in (['parse', '--out', runs, '-e', 'ppo_step', '-f', 'minirl'], ['prompts', runs], ['generate', runs, '-m', 'stub', '--n', '1']):
        assert run_cli(*args).returncode == 0
    nobwrap = {'PATH': '/usr/local/sbin:/nonexistent'}
    r = run_cli('evaluate', runs, '-m', 'stub', env=nobwrap)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr  # one line, no traceback
    assert 'apt-get install bubblewrap' in r.stderr and '--unsafe-no-sandbox' in r.stderr
    assert not (runs / 'minirl/ppo_step/stub/results.jsonl').exists()
    r = run_cli('run', '-f', 'minirl', '-e', 'ppo_step', '-m', 'stub', '--n', '1', '--runs', tmp_path / 'r2', '--reports', tmp_path / 'rep', env=nobwrap)
    assert r.returncode == 2 and 'apt-get install bubblewrap' in r.stderr and not (tmp_path / 'rep/index.html').exists(), r.stderr
    if os.geteuid() != 0: return
    venv = _reachable_venv()
    if venv is None: pytest.skip('no venv of /usr/bin/python3 with numpy and pytest could be made here')
    try:
        r = run_cli('evaluate', runs, '-m', 'stub', '--unsafe-no-sandbox', '--env', f'minirl={venv}/bin/python', env=nobwrap)
        assert r.returncode == 0, r.stderr
        assert 'WITHOUT a sandbox' in r.stderr
        results = [json.loads(l) for l in (runs / 'minirl/ppo_step/stub/results.jsonl').read_text().splitlines()]
        assert results and all(x['isolation'].startswith('UNSANDBOXED') and 'own unprivileged uid' in x['isolation'] for x in results), results
    finally: shutil.rmtree(venv.parent, ignore_errors=True)


def test_koco_import_cli(tmp_path):
    runs = tmp_path / 'runs'
    assert run_cli('parse', '--out', runs, '-f', 'minirl', '-e', 'ppo_step', '--koco').returncode == 0
    recs = read_jsonl(runs / 'minirl/ppo_step/algorithm_methods_data_ppo_step.jsonl')
    out = tmp_path / 'ref_output.jsonl'
    out.write_text(''.join(json.dumps({**r, 'completions': [r['func_implementation']]}) + '\n' for r in recs))
    r = run_cli('koco', 'import', runs, '-f', 'minirl', '-e', 'ppo_step', '-m', 'seed-model', '--file', out)
    assert r.returncode == 0 and '4 completions imported' in r.stdout
    assert run_cli('prompts', runs).returncode == 0
    assert run_cli('evaluate', runs, '-m', 'seed-model').returncode == 0
    r = run_cli('koco', 'export', runs, '-f', 'minirl', '-e', 'ppo_step', '-m', 'seed-model', '--out', tmp_path)
    assert r.returncode == 0
    metrics = json.loads((tmp_path / 'algorithm_methods_data_ppo_step_result.metrics.json').read_text())
    assert metrics['pass_at_k'] == {'pass@1': 1.0} and metrics['total_passed'] == 4


def test_evaluate_leaves_no_unclosed_files(tmp_path):
    runs = tmp_path / 'runs'
    for args in (['parse', '--out', runs, '-f', 'minirl', '-e', 'ppo_step'], ['prompts', runs], ['generate', runs, '-m', 'stub', '--n', '1']):
        assert run_cli(*args).returncode == 0
    for warm in ([], ['--no-warm']):
        r = subprocess.run([sys.executable, '-X', 'dev', '-W', 'always::ResourceWarning', '-m', 'codebench.cli', 'evaluate', str(runs),
                            '-m', 'stub', '--rerun', 'all', *warm], capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        assert 'ResourceWarning' not in r.stderr, r.stderr
