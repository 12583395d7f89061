"""The `codebench` console script, end to end on the demo benchmark."""
import json

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
