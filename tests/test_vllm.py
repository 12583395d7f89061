"""vLLM for real: the OpenAI-compatible server (with a LoRA module) started and stopped by the test, and vLLM in-process.

vLLM lives in its own environment (`make vllm-env` builds .venv-vllm with the CPU build); these tests
skip when it is absent. On a GPU machine, point CODEBENCH_VLLM_PYTHON at an interpreter with vLLM.
"""
import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from codebench.core import Completion, Result, read_jsonl

from conftest import ROOT, run_cli

VPY = Path(os.environ.get('CODEBENCH_VLLM_PYTHON', ROOT / '.venv-vllm/bin/python'))
pytestmark = pytest.mark.skipif(not VPY.exists(), reason=f'no vLLM environment at {VPY} (make vllm-env)')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    "A tiny local model and a LoRA adapter with random (non-zero) weights for it."
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM
    from codebench.hf import make_tiny_model
    d = tmp_path_factory.mktemp('models')
    model_dir = make_tiny_model(d / 'tiny')
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    peft = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=['q_proj', 'k_proj', 'v_proj', 'o_proj'],
                                            init_lora_weights=False))
    peft.save_pretrained(d / 'adapter')
    return model_dir, d / 'adapter'


@pytest.fixture
def runs(ppo_runs):
    return ppo_runs


def test_serve_generate_evaluate_stop(tiny, runs, tmp_path):
    model, adapter = tiny
    port = free_port()
    url = f'http://127.0.0.1:{port}/v1'
    state, where = {'XDG_STATE_HOME': str(tmp_path / 'state')}, tmp_path / 'state/codebench/serve'  # one state folder per user
    start = run_cli('serve', 'start', '--model', model, '--port', port, '--python', VPY, '--max-model-len', '4096',
                    '--dtype', 'float32', '--lora', f'ad={adapter}', '--timeout', '400', cwd=tmp_path, env=state)
    try:
        assert start.returncode == 0, start.stderr[-3000:]
        assert f'model spec: openai:tiny@{url}' in start.stdout and f'model spec: openai:ad@{url}' in start.stdout
        server = json.loads((where / f'server-{port}.json').read_text())
        assert (where / f'server-{port}.pid').read_text().strip() == str(server['pid'])
        status = run_cli('serve', 'status', cwd=runs, env=state)  # found from another directory
        assert status.returncode == 0 and str(port) in status.stdout and 'True' in status.stdout
        for spec, n in ((f'openai:tiny@{url}', 4), (f'openai:ad@{url}', 2)):
            r = run_cli('generate', runs, '-m', spec, '--n', n, '--max-tokens', '48')
            assert r.returncode == 0, r.stderr[-3000:]
            r = run_cli('evaluate', runs, '-m', spec)
            assert r.returncode == 0, r.stderr[-3000:]
        base = read_jsonl(next(runs.glob('minirl/ppo_step/openai_tiny_*/completions.jsonl')), Completion)
        lora = read_jsonl(next(runs.glob('minirl/ppo_step/openai_ad_*/completions.jsonl')), Completion)
        assert len(base) == 16 and len(lora) == 8
        assert all(c.usage['completion_tokens'] and c.usage['prompt_tokens'] > 100 for c in base)
        res = read_jsonl(next(runs.glob('minirl/ppo_step/openai_tiny_*/results.jsonl')), Result)
        assert len(res) == 16  # a random model writes no valid code: every completion gets a verdict, none passes
        assert {r.verdict for r in res} <= {'no-code', 'syntax-error', 'wrong-name', 'fail'}
    finally:
        stop = run_cli('serve', 'stop', '--port', port, cwd=runs, env=state)
    assert stop.returncode == 0
    assert 'pid' not in run_cli('serve', 'status', cwd=tmp_path, env=state).stdout
    assert not (where / f'server-{port}.pid').exists()
    with pytest.raises(OSError):
        socket.create_connection(('127.0.0.1', port), timeout=2)


def test_vllm_in_process_with_and_without_lora(tiny, runs):
    model, adapter = tiny
    env = {**os.environ, 'VLLM_CPU_KVCACHE_SPACE': '1'}
    env.pop('OUTPUT_DIR', None)
    for spec in (f'vllm:{model}', f'vllm:{model}+lora={adapter}'):
        r = subprocess.run([str(VPY.parent / 'codebench'), 'generate', str(runs), '-m', spec, '--n', '3', '--max-tokens', '32'],
                           capture_output=True, text=True, env=env, timeout=600)
        assert r.returncode == 0, r.stderr[-3000:]
    dirs = sorted(p.parent.name for p in runs.glob('minirl/ppo_step/vllm_*/completions.jsonl'))
    assert len(dirs) == 2 and any('lora' in d for d in dirs)
    for d in dirs:
        comps = read_jsonl(runs / 'minirl/ppo_step' / d / 'completions.jsonl', Completion)
        assert sorted((c.task_id, c.sample) for c in comps) == sorted({(c.task_id, c.sample) for c in comps}) and len(comps) == 12
        assert all(0 < c.usage['completion_tokens'] <= 32 for c in comps)


def _cuda_in_vllm_env() -> bool:
    if not VPY.exists(): return False
    r = subprocess.run([str(VPY), '-c', 'import torch; print(torch.cuda.is_available())'], capture_output=True, text=True)
    return r.stdout.strip() == 'True'


@pytest.mark.skipif(not _cuda_in_vllm_env(), reason='needs CUDA in the vLLM environment (run on a GPU machine)')
def test_gpu_server_on_gpu_0(tiny, runs, tmp_path):
    "On a GPU machine: the server pinned to GPU 0 with --gpu-id, bf16, a LoRA module, and tensor parallel size 1."
    model, adapter = tiny
    port = free_port()
    state = {'XDG_STATE_HOME': str(tmp_path / 'state')}
    start = run_cli('serve', 'start', '--model', model, '--port', port, '--python', VPY, '--gpu-id', '0', '--dtype', 'bfloat16',
                    '--max-model-len', '4096', '--lora', f'ad={adapter}', '--timeout', '600', cwd=tmp_path, env=state)
    try:
        assert start.returncode == 0, start.stderr[-3000:]
        r = run_cli('generate', runs, '-m', f'openai:ad@http://127.0.0.1:{port}/v1', '--n', '4', '--max-tokens', '64')
        assert r.returncode == 0, r.stderr[-3000:]
    finally:
        run_cli('serve', 'stop', '--port', port, cwd=tmp_path, env=state)
