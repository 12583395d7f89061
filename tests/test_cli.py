"""The `codebench` console script, end to end on the demo benchmark."""
import json
import os

import pytest

from codebench.core import Prompt, Task, read_jsonl

from conftest import run_cli, tree_hash


def test_parse_then_prompts(tmp_path, demo_root):
    before = tree_hash(demo_root)
    runs = tmp_path / 'runs'
    r = run_cli('parse', '--out', runs, '--koco')
    assert r.returncode == 0, r.stderr
    assert '15 tasks from 4 examples, 1 warnings, 0 errors' in r.stdout
    assert 'reward_shaping' in r.stdout and 'span 24-32 of `whiten`' in r.stderr
    tasks = read_jsonl(runs / 'minirl/ppo_step/tasks.jsonl', Task)
    assert [t.name for t in tasks] == ['discounted_returns', 'compute_gae', 'clipped_policy_loss', 'AdaptiveKLController.update']
    koco = read_jsonl(runs / 'minirl/ppo_step/algorithm_methods_data_ppo_step.jsonl')
    assert set(koco[0]) == {'function_name', 'overview', 'function_signature', 'input_parameters', 'detailed_description',
                            'output', 'func_implementation', 'implementation_location', 'test_code_path'}
    r = run_cli('prompts', runs, '--context')
    assert r.returncode == 0, r.stderr
    assert '15 prompts for 4 examples' in r.stdout
    p = read_jsonl(runs / 'minirag/chunking/prompts.jsonl', Prompt)[0]
    assert '# chunker：项目概述' in p.messages[1]['content']
    assert tree_hash(demo_root) == before


def test_generate_says_when_prompts_changed_since_its_completions(tmp_path):
    runs = tmp_path / 'runs'
    for args in (('parse', '--out', runs, '--framework', 'minirl'), ('prompts', runs), ('generate', runs, '-m', 'mutants:0', '--n', '2')):
        r = run_cli(*args)
        assert r.returncode == 0, r.stderr
    path = runs / 'minirl/ppo_step/mutants_0/completions.jsonl'
    before = path.read_text()
    (tmp_path / 'user.j2').write_text('Write `{{ name }}`.')
    r = run_cli('prompts', runs, '--template', tmp_path / 'user.j2')  # another template: every prompt changed
    assert r.returncode == 0, r.stderr
    r = run_cli('generate', runs, '-m', 'mutants:0', '--n', '2')
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stderr.splitlines() if 'answer an older prompt' in l]
    assert len(lines) == 2 and any('ppo_step/mutants_0/completions.jsonl: 8 completions of 4 tasks' in l for l in lines), r.stderr
    assert 'UserWarning' not in r.stderr and path.read_text() == before  # a plain line; nothing made again, nothing lost
    r = run_cli('generate', runs, '-m', 'mutants:1', '--n', '2')  # another model's completions answer the current prompts
    assert r.returncode == 0 and 'older prompt' not in r.stderr, r.stderr


def test_environment_variables_are_defaults(tmp_path, demo_root):
    out = tmp_path / 'from_env'
    r = run_cli('parse', '--framework', 'minirag', env={'DATA_DIR': str(demo_root), 'OUTPUT_DIR': str(out)})
    assert r.returncode == 0, r.stderr
    assert sorted(p.parent.name for p in out.glob('*/*/tasks.jsonl')) == ['bm25_search', 'chunking']
    r = run_cli('prompts', env={'OUTPUT_DIR': str(out)})
    assert r.returncode == 0 and len(list(out.glob('*/*/prompts.jsonl'))) == 2


def test_custom_templates(tmp_path):
    runs = tmp_path / 'runs'
    assert run_cli('parse', '--out', runs, '-f', 'minirl', '-e', 'ppo_step').returncode == 0
    (tmp_path / 'u.j2').write_text('Write `{{ function_name }}` ({{ kind }}) for {{ framework_name }}.')
    (tmp_path / 's.j2').write_text('You write {{ framework }} code.')
    r = run_cli('prompts', runs, '--template', tmp_path / 'u.j2', '--system-template', tmp_path / 's.j2')
    assert r.returncode == 0, r.stderr
    msgs = read_jsonl(runs / 'minirl/ppo_step/prompts.jsonl', Prompt)[3].messages
    assert msgs == [{'role': 'system', 'content': 'You write minirl code.'},
                    {'role': 'user', 'content': 'Write `update` (method) for minirl.'}]
    (tmp_path / 'bad.j2').write_text('{{ no_such_field }}')
    r = run_cli('prompts', runs, '--template', tmp_path / 'bad.j2')
    assert r.returncode == 2 and "bad.j2: 'no_such_field' is undefined" in r.stderr


@pytest.mark.parametrize('args,status,message', [
    (['parse', '/no/such/root'], 2, 'benchmark root /no/such/root is not a directory'),
    (['parse', '--framework', 'nope'], 2, "no framework 'nope' in"),
    (['prompts', '/no/such/runs'], 2, 'run `codebench parse` first'),
    (['frobnicate'], 2, 'invalid choice'),
])
def test_usage_errors(tmp_path, args, status, message):
    r = run_cli(*args, cwd=tmp_path)
    assert r.returncode == status and message in r.stderr, r.stderr


def test_malformed_environment_variable_is_named(tmp_path):
    r = run_cli('parse', '--out', tmp_path, env={'NUM_COMPLETIONS': 'four'})
    assert r.returncode == 2 and "NUM_COMPLETIONS='four' is not a valid int" in r.stderr


def test_documents_with_errors_exit_1_and_keep_valid_tasks(tmp_path, demo_root):
    import shutil
    root = tmp_path / 'bench'
    shutil.copytree(demo_root / 'minirag', root / 'minirag')
    doc = root / 'minirag/test_examples/bm25_search/requirements/03_algorithm_and_core_methods.md'
    doc.write_text(doc.read_text().replace('code/minirag/text.py:line 8-11', 'code/minirag/txet.py:line 8-11'))
    r = run_cli('parse', root, '--out', tmp_path / 'runs')
    assert r.returncode == 1
    line = doc.read_text().splitlines().index('code/minirag/txet.py:line 8-11') + 1
    assert f'03_algorithm_and_core_methods.md:{line}: error: `tokenize`: source file code/minirag/txet.py does not exist' in r.stderr
    assert len(read_jsonl(tmp_path / 'runs/minirag/bm25_search/tasks.jsonl')) == 3
    issues = read_jsonl(tmp_path / 'runs/minirag/bm25_search/parse_issues.jsonl')
    assert [(i['level'], i['name']) for i in issues] == [('error', 'tokenize')]


@pytest.mark.parametrize('command', [[], ['parse'], ['prompts']])
def test_help_explains(command):
    r = run_cli(*command, '--help')
    assert r.returncode == 0 and 'usage: codebench' in r.stdout
    if command: assert 'default' in r.stdout


HEAVY = ('papermill', 'nbconvert', 'nbformat', 'pandas', 'numpy', 'matplotlib', 'seaborn', 'jinja2', 'torch', 'transformers', 'openai',
         'bm25s', 'tqdm', 'IPython', 'fastcore')


def test_help_imports_no_heavy_module():
    "`codebench --help` and every `codebench CMD --help` load none of the heavy libraries (counted, not timed: they answer at once)."
    import subprocess
    import sys
    code = f"""
import sys
from codebench.cli import COMMANDS, main
for argv in [[]] + [[c] for c in COMMANDS]:
    try: main(argv + ['--help'])
    except SystemExit: pass
print('LOADED', sorted(m for m in {HEAVY!r} if m in sys.modules), len(COMMANDS))
"""
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    loaded = r.stdout.strip().splitlines()[-1]
    assert loaded.startswith('LOADED [] ') and int(loaded.split()[-1]) >= 15, loaded


def test_help_shows_each_default_once_and_flags_the_right_way_round():
    text = ' '.join(run_cli('evaluate', '--help').stdout.split())
    assert text.count('(default: number of cores)') == 1 and '(default: None)' not in text
    assert '--no-warm start a fresh interpreter per test run (default: warm workers' in text and '(default: True)' not in text
    run = ' '.join(run_cli('run', '--help').stdout.split())
    assert '--show-code keep the code cells in the HTML (default: outputs only, for publication)' in run and '--no-input' not in run


@pytest.mark.parametrize('jobs', ['0', '-3', 'many'])
def test_jobs_must_be_a_positive_number(tmp_path, jobs):
    r = run_cli('evaluate', tmp_path, '-m', 'stub', '-j', jobs)
    assert r.returncode == 2 and 'argument --jobs/-j:' in r.stderr and 'Traceback' not in r.stderr, r.stderr
    assert ('must be at least 1' in r.stderr) if jobs != 'many' else ("expected a number of parallel test runs, got 'many'" in r.stderr)


def test_missing_benchmark_root_is_one_clear_line(tmp_path):
    for args in (['run', '/nonexistent', '-m', 'stub'], ['study', '/nonexistent', '--base', 'stub'], ['validate', '/nonexistent']):
        r = run_cli(*args, cwd=tmp_path)
        assert r.returncode == 2 and r.stderr.strip() == f'codebench {args[0]}: error: benchmark root /nonexistent is not a directory', r.stderr


def test_env_entries_that_match_no_framework_are_named(ppo_runs):
    r = run_cli('evaluate', ppo_runs, '-m', 'stub', '--env', 'verl=/opt/verl/bin/python')
    assert 'codebench: warning: --env verl=... matches no framework in this run (minirl); it is ignored' in r.stderr
    assert 'UserWarning' not in r.stderr  # warnings are plain lines


def test_old_no_input_flag_still_works_and_says_what_changed(tmp_path):
    r = run_cli('run', '/nonexistent', '-m', 'stub', '--no-input', cwd=tmp_path)
    assert r.returncode == 2 and 'benchmark root /nonexistent is not a directory' in r.stderr


def test_ctrl_c_prints_one_line_and_exits_130(tmp_path):
    "SIGINT to the whole process group, as a terminal's Ctrl-C: one line, exit status 130, no traceback from codebench or its workers."
    import signal
    import subprocess
    import time
    from conftest import BIN
    runs = tmp_path / 'runs'
    assert run_cli('parse', '--out', runs).returncode == 0 and run_cli('prompts', runs).returncode == 0
    assert run_cli('generate', runs, '-m', 'mutants:0', '--n', '4').returncode == 0
    p = subprocess.Popen([str(BIN / 'codebench'), 'evaluate', str(runs), '-m', 'mutants:0', '--fresh-census'], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    time.sleep(6)  # inside the census or the test runs
    os.killpg(p.pid, signal.SIGINT)
    out, err = p.communicate(timeout=120)
    lines = [l for l in err.replace('\r', '\n').splitlines() if l.strip() and '%|' not in l]  # progress bars aside
    assert p.returncode == 130, (p.returncode, err[-3000:])
    assert lines == ['codebench evaluate: interrupted; rerun to resume'], lines


def test_env_build_from_requirements_for_a_framework_without_recipe(tmp_path):
    "`env build FRAMEWORK --requirements FILE` builds any framework: the list is the recipe (here one already satisfied: no network)."
    (tmp_path / 'req.txt').write_text('# my stack\npip\n')
    r = run_cli('env', 'build', 'myframework', '--requirements', tmp_path / 'req.txt', '--home', tmp_path / 'envs')
    assert r.returncode == 0, r.stderr[-2000:]
    python = tmp_path / 'envs/myframework/bin/python'
    assert python.exists() and f'use it with --env myframework={python}' in r.stdout
    r = run_cli('env', 'build', 'myframework', '--home', tmp_path / 'envs')
    assert r.returncode == 2 and 'build from your own list with --requirements FILE' in r.stderr


def test_serve_status_finds_servers_from_any_directory(tmp_path):
    "One state folder per user ($XDG_STATE_HOME/codebench/serve): `serve status` run elsewhere lists the same servers."
    state = tmp_path / 'state'
    (state / 'codebench/serve').mkdir(parents=True)
    (state / 'codebench/serve/server-8123.json').write_text(json.dumps(dict(port=8123, pid=os.getpid(), model='/models/m', served_name='m')))
    for cwd in (tmp_path, tmp_path / 'state'):
        r = run_cli('serve', 'status', env={'XDG_STATE_HOME': str(state)}, cwd=cwd)
        assert r.returncode == 0 and '8123' in r.stdout and 'openai:m@http://127.0.0.1:8123/v1' in r.stdout, r.stdout + r.stderr


def test_ctrl_c_during_run_prints_one_line(tmp_path):
    "Ctrl-C while `run` executes a stage notebook (its kernel gets the signal too): one line, exit status 130."
    import signal
    import subprocess
    import time
    from conftest import BIN
    p = subprocess.Popen([str(BIN / 'codebench'), 'run', '-m', 'mutants:0', '-f', 'minirl', '--runs', str(tmp_path / 'runs'), '--reports',
                          str(tmp_path / 'reports')], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    time.sleep(15)
    os.killpg(p.pid, signal.SIGINT)
    out, err = p.communicate(timeout=180)
    lines = [l for l in err.replace('\r', '\n').splitlines() if l.strip() and '%|' not in l]
    assert p.returncode == 130 and lines == ['codebench run: interrupted; rerun to resume'], (p.returncode, lines, out[-1000:])
