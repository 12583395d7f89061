"""Datasets, SFT, LoRA, merge and the knowledge-conflict experiment through the CLI, on a tiny local model (CPU)."""
import json
import time

import pytest

from codebench.core import Completion, read_jsonl

from conftest import run_cli

pytest.importorskip('trl')


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    from codebench.hf import make_tiny_model
    return make_tiny_model(tmp_path_factory.mktemp('models') / 'tiny')


def test_datasets_leave_the_answers_out(tmp_path, tiny):
    for mode in ('corpus', 'instruct'):
        r = run_cli('dataset', 'minirag', '--out', tmp_path / mode, '--mode', mode, '--tokenizer', tiny, '--max-length', '256')
        assert r.returncode == 0, r.stderr
        summary = json.loads((tmp_path / mode / 'summary.json').read_text())
        assert summary['removed_task_functions'] == 7 and summary['validation'] >= 1 and summary['train_tokens'] > 0
        rows = read_jsonl(tmp_path / mode / 'train.jsonl') + read_jsonl(tmp_path / mode / 'validation.jsonl')
        text = json.dumps(rows)
        assert 'def reciprocal_rank_fusion' not in text and 'def merge_small' not in text
        assert 'def idf' in text or 'def search' in text  # non-task functions stay
    corpus = read_jsonl(tmp_path / 'corpus/train.jsonl')
    assert all(r['tokens'] <= 256 and {'path', 'type', 'size', 'lines', 'hash'} <= set(r) for r in corpus)


def test_lora_and_full_sft_lower_the_loss_resume_and_merge(tmp_path, tiny):
    assert run_cli('dataset', 'minirl', '--out', tmp_path / 'data', '--mode', 'instruct').returncode == 0
    for action, lr in (('lora', '3e-3'), ('sft', '1e-3')):
        r = run_cli('train', action, '--model', tiny, '--data', tmp_path / 'data', '--out', tmp_path / action, '--lr', lr,
                    '--max-steps', '10', '--logging-steps', '2', '--save-steps', '5', '--max-length', '512')
        assert r.returncode == 0, r.stderr[-3000:]
        s = json.loads((tmp_path / action / 'train_summary.json').read_text())
        assert s['steps'] == 10 and s['last_loss'] < s['first_loss'], s
    r = run_cli('train', 'lora', '--model', tiny, '--data', tmp_path / 'data', '--out', tmp_path / 'lora', '--lr', '3e-3',
                '--max-steps', '12', '--logging-steps', '2', '--save-steps', '5', '--max-length', '512')
    assert r.returncode == 0 and '(resumed)' in r.stdout
    assert json.loads((tmp_path / 'lora/train_summary.json').read_text())['steps'] == 12
    r = run_cli('train', 'merge', '--model', tiny, '--adapter', tmp_path / 'lora/adapter', '--out', tmp_path / 'merged')
    assert r.returncode == 0, r.stderr[-2000:]
    runs = tmp_path / 'runs'
    for args in (['parse', '--out', runs, '-f', 'minirl', '-e', 'ppo_step'], ['prompts', runs]):
        assert run_cli(*args).returncode == 0
    for spec in (f"hf:{tmp_path / 'merged'}", f"hf:{tmp_path / 'sft/model'}"):
        r = run_cli('generate', runs, '-m', spec, '--n', '1', '--max-tokens', '16')
        assert r.returncode == 0, r.stderr[-2000:]
    assert len([c for p in runs.glob('minirl/ppo_step/hf_*/completions.jsonl') for c in read_jsonl(p, Completion)]) == 8


def test_conflict_experiment_end_to_end_and_resumed(tmp_path, tiny):
    args = ['conflict', '--base', tiny, '--first', 'minirl', '--second', 'minirag', '--work', tmp_path / 'work', '--reports', tmp_path / 'reports', '--n', '2',
            '--max-steps', '3', '--lr', '3e-3', '--max-length', '512', '--max-tokens', '24', '--logging-steps', '1']
    r = run_cli(*args)
    assert r.returncode == 0, r.stderr[-3000:]
    report = tmp_path / 'reports/conflict-minirl-minirag/07_conflict.html'
    assert report.exists() and 'Forgotten functions' in report.read_text()
    assert 'conflict-minirl-minirag/index.html' in (tmp_path / 'reports/index.html').read_text()  # beside every other report set
    train_html = (tmp_path / 'reports/conflict-minirl-minirag/09_train_after_minirl_minirag.html').read_text()
    assert 'data:image/png;base64' in train_html and '<h2 id="Loss"' in train_html  # the loss curve (published pages show outputs, not code)
    assert 'task functions removed' in (tmp_path / 'reports/conflict-minirl-minirag/08_dataset_minirl.html').read_text().lower()
    html = (tmp_path / 'reports/conflict-minirl-minirag/comparison/06_report.html').read_text()
    assert html.count('data:image/png;base64') >= 6
    t0 = time.perf_counter()
    r = run_cli(*args)
    assert r.returncode == 0 and r.stdout.count('skip:') == 4  # two datasets, two trainings
    assert time.perf_counter() - t0 < 120
