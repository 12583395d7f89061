"""The OpenAI-compatible backend through the CLI, against a real HTTP server on loopback that injects faults."""
import os
import signal
import subprocess
import time

import pytest

from codebench.core import Completion, Result, Task, read_jsonl
from codebench.testing import FakeOpenAI

from conftest import BIN, run_cli


@pytest.fixture
def runs(ppo_runs):
    return ppo_runs


def gold_answer(runs):
    "Answer each prompt with its task's gold code (looked up by the documented name in the prompt)."
    tasks = read_jsonl(runs / 'minirl/ppo_step/tasks.jsonl', Task)
    def answer(req, i):
        text = req['messages'][-1]['content']
        t = next(t for t in tasks if f'`{t.function_name}`' in text.split('\n')[0])
        return f'Sure.\n\n```python\n{t.gold}```\n'
    return answer


def test_generate_and_evaluate_through_a_server(runs):
    server = FakeOpenAI(answer=gold_answer(runs), fail=[429, 500, 503])
    try:
        spec = f'openai:tiny@{server.url}'
        r = run_cli('generate', runs, '-m', spec, '--n', '3', '--temperature', '0.2', '--max-tokens', '512')
        assert r.returncode == 0, r.stderr
        assert len(server.requests) == 4 + 3  # one request per task with n=3, plus three injected failures retried
        req = server.requests[-1]
        assert (req['n'], req['temperature'], req['max_tokens'], req['top_p']) == (3, 0.2, 512, 0.9)
        (path,) = runs.glob('minirl/ppo_step/openai_tiny_*/completions.jsonl')
        comps = read_jsonl(path, Completion)
        assert len(comps) == 12 and all(c.usage['cost'] == pytest.approx(0.001) and c.usage['prompt_tokens'] == 20 for c in comps)
        r = run_cli('evaluate', runs, '-m', spec)
        assert r.returncode == 0, r.stderr
        res = read_jsonl(next(runs.glob('minirl/ppo_step/openai_*/results.jsonl')), Result)
        assert {x.verdict for x in res} == {'pass'}
    finally:
        server.close()
    r = run_cli('generate', runs, '-m', spec, '--n', '3')  # the server is gone, and nothing is missing: nothing to ask it
    assert r.returncode == 0 and 'cannot reach' not in r.stderr, r.stderr
    r = run_cli('generate', runs, '-m', spec, '--n', '4')  # one sample missing per task: now it must say so
    assert r.returncode != 0 and 'cannot reach' in r.stderr, r.stderr


def test_server_that_ignores_n(runs):
    server = FakeOpenAI(ignore_n=True)
    try:
        r = run_cli('generate', runs, '-m', f'openai:tiny@{server.url}', '--n', '2')
        assert r.returncode == 0, r.stderr
        assert sum(len(read_jsonl(p)) for p in runs.glob('minirl/ppo_step/openai_*/completions.jsonl')) == 8
    finally:
        server.close()


@pytest.mark.parametrize('spec,env,message', [
    ('openrouter:qwen/qwen2.5-coder-32b-instruct', {'OPENROUTER_API_KEY': ''}, 'set OPENROUTER_API_KEY in the environment or in a .env file'),
    ('openai:gpt-4o-mini', {'OPENAI_API_KEY': ''}, 'set OPENAI_API_KEY'),
    ('openai:tiny@http://127.0.0.1:9/v1', {}, 'cannot reach http://127.0.0.1:9/v1'),
])
def test_clear_immediate_errors(runs, spec, env, message):
    r = run_cli('generate', runs, '-m', spec, env=env, cwd=runs, timeout=120)  # fails at once, without retrying
    assert r.returncode == 2 and message in r.stderr, r.stderr


def test_wrong_model_name(runs):
    server = FakeOpenAI(models=['tiny', 'tiny-coder'])
    try:
        r = run_cli('generate', runs, '-m', f'openai:tiyn@{server.url}')
        assert r.returncode == 2 and "model 'tiyn' is not served by" in r.stderr and 'tiny' in r.stderr
        assert server.requests == []  # nothing was spent
    finally:
        server.close()


def test_key_from_dotenv(runs, tmp_path):
    server = FakeOpenAI()
    try:
        (tmp_path / '.env').write_text('OPENROUTER_API_KEY=sk-from-dotenv\n')
        from codebench.api import api_key
        from codebench.backend import parse_spec
        cwd = os.getcwd(); os.chdir(tmp_path)
        try: assert api_key(parse_spec('openrouter:x/y'), env={}) == 'sk-from-dotenv'
        finally: os.chdir(cwd)
    finally:
        server.close()


def test_interrupted_generation_resumes_without_asking_twice(runs):
    server = FakeOpenAI(delay=0.4)
    try:
        spec = f'openai:tiny@{server.url}'
        env = {k: v for k, v in os.environ.items() if k not in ('OUTPUT_DIR', 'DATA_DIR')}
        proc = subprocess.Popen([str(BIN / 'codebench'), 'generate', str(runs), '-m', spec, '--n', '1', '--concurrency', '1'],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            files = list(runs.glob('minirl/ppo_step/openai_*/completions.jsonl'))
            if files and len(read_jsonl(files[0])) >= 2: break
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL); proc.wait()
        got = read_jsonl(files[0], Completion)
        assert 2 <= len(got) < 4
        asked_before = len(server.requests)
        r = run_cli('generate', runs, '-m', spec, '--n', '1')
        assert r.returncode == 0, r.stderr
        final = read_jsonl(files[0], Completion)
        assert sorted(c.task_id for c in final) == sorted({c.task_id for c in final}) and len(final) == 4
        assert len(server.requests) - asked_before == 4 - len(got)  # only the missing ones were requested
    finally:
        server.close()
