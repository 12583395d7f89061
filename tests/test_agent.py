"""Agent mode end to end: the CLI drives the tool loop against a scripted OpenAI-compatible server (real HTTP on loopback)."""
import json
import re

import pytest

from codebench.core import Completion, Result, Task, read_jsonl
from codebench.mutate import stub_code
from codebench.splice import reindent
from codebench.testing import FakeOpenAI

from conftest import run_cli


def _call(i, name, args):
    return {'id': f'call_{i}', 'type': 'function',
            'function': {'name': name, 'arguments': args if isinstance(args, str) else json.dumps(args)}}


def _task_of(req, tasks):
    target = re.match(r'Implement `([^`]+)` in `([^`]+)`', next(m['content'] for m in req['messages'] if m['role'] == 'user'))
    return next(t for t in tasks if t.target == target[1]), target[2]


def scripted_agent(tasks):
    "An agent that explores, makes mistakes (malformed arguments, an unknown tool, a refused write), implements the gold and finishes."
    def answer(req, i):
        t, path = _task_of(req, tasks)
        turn = sum(m['role'] == 'assistant' for m in req['messages'])
        indent = t.gold[:len(t.gold) - len(t.gold.lstrip())]
        steps = [
            [_call(0, 'list_files', {'path': 'repo', 'pattern': '*.py'}), _call(1, 'grep', {'pattern': f'def {t.function_name}\\b', 'path': 'repo'})],
            [_call(2, 'read_file', {'path': path, 'start': 1, 'end': 60})],
            [_call(3, 'read_file', '{"path": ')],  # malformed JSON
            [_call(4, 'delete_file', {'path': path})],  # no such tool
            [_call(5, 'write_file', {'path': 'knowledge_corpus/x.py', 'content': ''})],  # refused: outside repo/
            [_call(6, 'edit_file', {'path': path, 'old': reindent(stub_code(t.gold), indent).rstrip('\n'), 'new': t.gold.rstrip('\n')})],
            [_call(7, 'run_shell', {'command': 'python -c "print(6 * 7)"', 'timeout': 60})],
            [_call(8, 'finish', {'summary': 'implemented'})],
        ]
        return {'content': f'step {turn}', 'tool_calls': steps[turn]}
    return answer


def generate_against(runs, answer, spec_tail, *args):
    "Run `codebench generate` for `agent:<server>,<spec_tail>` against a scripted server; return (spec, the run's directory, the server)."
    server = FakeOpenAI(answer=answer)
    spec = f'agent:openai:tiny@{server.url},{spec_tail}'
    try:
        r = run_cli('generate', runs, '-m', spec, *args)
        assert r.returncode == 0, r.stderr
    finally:
        server.close()
    (run,) = runs.glob('minirl/ppo_step/agent_*')
    return spec, run, server


def test_agent_reads_greps_edits_finishes_and_is_evaluated(ppo_runs):
    tasks = read_jsonl(ppo_runs / 'minirl/ppo_step/tasks.jsonl', Task)
    spec, run, server = generate_against(ppo_runs, scripted_agent(tasks), 'max_turns=12', '--n', '2', '--concurrency', '3')
    assert len(server.requests) == len(tasks) * 2 * 8  # 8 turns per conversation
    assert all(q['tools'] and q['model'] == 'tiny' for q in server.requests)
    comps = read_jsonl(run / 'completions.jsonl', Completion)
    assert len(comps) == len(tasks) * 2
    for c in comps:
        t = next(t for t in tasks if t.task_id == c.task_id)
        assert c.finish_reason == 'finish' and reindent(t.gold, '').strip() in c.text
        assert (c.usage['turns'], c.usage['tool_calls'], c.usage['tool_errors']) == (8, 9, 3)
        assert (c.usage['prompt_tokens'], c.usage['completion_tokens']) == (8 * 20, 8 * 10)
        tr = json.loads((run / c.usage['transcript']).read_text())
        answers = {e['name']: e['content'] for e in tr['events'] if e['role'] == 'tool'}
        assert answers['read_file'].startswith('error: the arguments of read_file are not a JSON object') or 'lines 1-' in answers['read_file']
        assert any(e['role'] == 'tool' and e['content'].startswith("error: no tool 'delete_file'") for e in tr['events'])
        assert answers['write_file'] == 'error: knowledge_corpus/x.py: only files under repo/ can be changed'
        assert answers['edit_file'].startswith(f'edited {t.source_path.replace("code/", "repo/", 1)}')
        assert '42' in answers['run_shell'] or 'bubblewrap' in answers['run_shell']
        assert f'def {t.function_name}' in answers['grep'] and 'NotImplementedError' not in c.text
    r = run_cli('evaluate', ppo_runs, '-m', spec)
    assert r.returncode == 0, r.stderr
    res = read_jsonl(run / 'results.jsonl', Result)
    assert len(res) == len(comps) and {x.verdict for x in res} == {'pass'}


@pytest.mark.parametrize('option,stop,turns', [('max_turns=3', 'max_turns', 3), ('token_budget=50', 'token_budget', 2)])
def test_runaway_agent_stops_at_its_budget(ppo_runs, option, stop, turns):
    spec, run, _ = generate_against(ppo_runs, lambda req, i: {'content': '', 'tool_calls': [_call(0, 'list_files', {})]}, option,
                                    '--n', '1', '-e', 'ppo_step')
    comps = read_jsonl(run / 'completions.jsonl', Completion)
    assert comps and all(c.finish_reason == f'{stop}: the agent left the stub unchanged' and c.text == '' for c in comps)
    assert all(c.usage['turns'] == turns and c.usage['stop'] == stop for c in comps)
    assert run_cli('evaluate', ppo_runs, '-m', spec).returncode == 0
    assert {x.verdict for x in read_jsonl(run / 'results.jsonl', Result)} == {'no-code'}


def test_agent_that_answers_in_prose_and_external_agents(ppo_runs, tmp_path):
    server = FakeOpenAI(answer=lambda req, i: 'I would implement it like this: ...')
    try:
        assert run_cli('generate', ppo_runs, '-m', f'agent:openai:tiny@{server.url}', '--n', '1').returncode == 0
    finally:
        server.close()
    comps = read_jsonl(next(ppo_runs.glob('minirl/ppo_step/agent_openai*/completions.jsonl')), Completion)
    assert {c.finish_reason for c in comps} == {'no-tool-call: the agent left the stub unchanged'}
    # an external CLI agent that breaks the file
    r = run_cli('generate', ppo_runs, '-m', 'agent:external', '--n', '1', '--agent-command', 'echo "def (" > {file}; echo broke it')
    assert r.returncode == 0, r.stderr
    comps = read_jsonl(next(ppo_runs.glob('minirl/ppo_step/agent_external*/completions.jsonl')), Completion)
    assert comps and all(c.finish_reason.startswith('exit 0: the file does not parse at the end') for c in comps)
    r = run_cli('generate', ppo_runs, '-m', 'agent:external', '--n', '1')
    assert r.returncode != 0 and 'agent:external needs --agent-command' in r.stderr and 'Traceback' not in r.stderr
    r = run_cli('generate', ppo_runs, '-m', 'agent:hf:/models/x', '--n', '1')
    assert r.returncode != 0 and 'the agent talks to an OpenAI-compatible API' in r.stderr
