"""The transformers backend through the CLI, on a tiny model built locally (and a peft adapter for it)."""
import pytest

from codebench.core import Completion, Result, read_jsonl

from conftest import run_cli

pytest.importorskip('transformers')


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM
    from codebench.hf import make_tiny_model
    d = tmp_path_factory.mktemp('models')
    model_dir = make_tiny_model(d / 'tiny')
    peft = get_peft_model(AutoModelForCausalLM.from_pretrained(model_dir),
                          LoraConfig(r=4, target_modules=['q_proj', 'v_proj'], init_lora_weights=False))
    peft.save_pretrained(d / 'adapter')
    return model_dir, d / 'adapter'


def test_hf_generate_with_and_without_adapter(tiny, tmp_path):
    model, adapter = tiny
    runs = tmp_path / 'runs'
    for args in (['parse', '--out', runs, '-f', 'minirag', '-e', 'chunking'], ['prompts', runs]):
        assert run_cli(*args).returncode == 0
    texts = {}
    for spec in (f'hf:{model}', f'hf:{model}+lora={adapter}'):
        r = run_cli('generate', runs, '-m', spec, '--n', '2', '--max-tokens', '24', '--temperature', '0')
        assert r.returncode == 0, r.stderr[-3000:]
        r = run_cli('evaluate', runs, '-m', spec)
        assert r.returncode == 0, r.stderr[-3000:]
        (path,) = [p for p in runs.glob('minirag/chunking/hf_*/completions.jsonl') if ('lora' in p.parent.name) == ('lora' in spec)]
        comps = read_jsonl(path, Completion)
        assert len(comps) == 6 and all(0 < c.usage['completion_tokens'] <= 24 for c in comps)
        assert len(read_jsonl(path.parent / 'results.jsonl', Result)) == 6
        texts[spec] = [c.text for c in sorted(comps, key=lambda c: (c.task_id, c.sample))]
    assert texts[f'hf:{model}'] != texts[f'hf:{model}+lora={adapter}']  # greedy decoding: only the adapter can change the answers


def test_missing_model_and_adapter_are_clear(tmp_path, tiny):
    model, _ = tiny
    runs = tmp_path / 'runs'
    for args in (['parse', '--out', runs, '-f', 'minirag', '-e', 'chunking'], ['prompts', runs]):
        assert run_cli(*args).returncode == 0
    r = run_cli('generate', runs, '-m', 'hf:/no/such/model')
    assert r.returncode == 2 and 'model directory /no/such/model does not exist' in r.stderr
    r = run_cli('generate', runs, '-m', f'hf:{model}+lora=/no/adapter')
    assert r.returncode == 2 and 'adapter directory /no/adapter does not exist' in r.stderr


def test_download_fails_clearly_offline(tmp_path):
    r = run_cli('download', 'Qwen/Qwen2.5-Coder-0.5B-Instruct', tmp_path / 'm', env={'HF_HUB_OFFLINE': '1'})
    assert r.returncode == 2 and 'could not download Qwen/Qwen2.5-Coder-0.5B-Instruct' in r.stderr


def test_sampling_reproduces_across_processes(tiny, tmp_path):
    "Sampled (temperature 0.7) answers are seeded from the task ids, so two separate runs agree."
    model, _ = tiny
    texts = []
    for name in ('a', 'b'):
        runs = tmp_path / name
        for args in (['parse', '--out', runs, '-f', 'minirag', '-e', 'chunking'], ['prompts', runs],
                     ['generate', runs, '-m', f'hf:{model}', '--n', '2', '--max-tokens', '16', '--temperature', '0.7']):
            r = run_cli(*args)
            assert r.returncode == 0, r.stderr[-2000:]
        (path,) = runs.glob('minirag/chunking/hf_*/completions.jsonl')
        texts.append(sorted((c.task_id, c.sample, c.text) for c in read_jsonl(path, Completion)))
    assert texts[0] == texts[1]
    assert len({t for _, _, t in texts[0]}) > 1  # and they are samples, not one greedy answer
