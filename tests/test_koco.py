"""The real KOCO-bench, opt-in: `KOCO_ROOT=<folder holding KOCO-bench-en/ and KOCO-bench-ch/> make koco`.

Parsing needs only the benchmark. The census test needs the tests' environments (`codebench env build <framework>`
for each framework; `make koco-envs` builds them all) and takes about half an hour on two cores: it runs the gold and a
stub of every task warm and cold, and checks that both agree, that the gold passes every scoreable task, and that a
stub fails every task that is not flagged weak.
"""
import json
import os
import shutil
from pathlib import Path

import pytest

from codebench.core import read_jsonl
from codebench.parse import parse_benchmark
from codebench.splice import splice

from conftest import run_cli, tree_hash

KOCO = os.environ.get('KOCO_ROOT')
pytestmark = pytest.mark.skipif(not KOCO, reason='KOCO_ROOT is not set: the real-benchmark suite is opt-in (see README, `make koco`)')
SETS = {'en': ('KOCO-bench-en/domain_code_generation', 131), 'ch': ('KOCO-bench-ch/domain_code_generation', 133)}
FRAMEWORKS = {'verl', 'open-r1', 'smolagents', 'raganything', 'tensorrt_model_optimizer'}
MIN_SCOREABLE = 100  # of the 131 English tasks, on a CPU machine with the environments `codebench env build` makes


@pytest.mark.parametrize('lang', ['en', 'ch'])
def test_parse_every_documented_function(lang):
    rel, expected = SETS[lang]
    report = parse_benchmark(Path(KOCO) / rel)
    assert not report.errors, [str(e) for e in report.errors]
    assert len(report.tasks) == expected
    assert {t.framework for t in report.tasks} == FRAMEWORKS and {t.language for t in report.tasks} == {lang.replace('ch', 'zh')}
    for t in report.tasks:
        src = Path(t.example_dir, t.source_path).read_text(encoding='utf-8')
        assert t.gold.strip() and t.gold == ''.join(src.splitlines(keepends=True)[t.span[0] - 1:t.span[1]]), t.task_id
        for answer in (t.gold, f"```python\n{t.gold.rstrip()}\n```\n"):
            s = splice(t, answer, src)
            assert s.ok and s.source == src, (t.task_id, s.verdict, s.detail)
    byname = {t.task_id: t for t in report.tasks}
    assert byname['smolagents/ToolBrain/prompt.tools_to_card'].qualname == 'tools_to_card'
    assert byname['smolagents/examples/async_agent_execution'].qualname == 'run_agent_in_thread'
    assert byname['smolagents/smolcc/ToolOutput.display'].qualname == 'ToolCallOutput.display'


def _verdicts(runs, model):
    return {r['task_id']: r['verdict'] for p in Path(runs).glob(f'*/*/{model}/results.jsonl') for r in read_jsonl(p)}


def restate(gold:str) -> str|None:
    "The gold with a comment line inside its function: the gold in substance, not byte for byte, so that it really runs."
    import ast, textwrap
    try: tree = ast.parse(textwrap.dedent(gold))
    except SyntaxError: return None
    fn = next((n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
    if fn is None: return None
    lines = gold.splitlines(keepends=True)
    at = fn.body[0].lineno - 1 - (len(fn.body[0].decorator_list) if hasattr(fn.body[0], 'decorator_list') else 0)
    indent = lines[at][:len(lines[at]) - len(lines[at].lstrip())]
    return ''.join(lines[:at]) + indent + '# the gold, restated\n' + ''.join(lines[at:])


def _write_restated(runs):
    "A model `restated` whose every completion is its task's gold with a comment inside: judged by really running, canaries and all."
    from codebench.core import Completion, Task, write_jsonl
    for tp in Path(runs).glob('*/*/tasks.jsonl'):
        comps = [Completion(t.task_id, 'restated', 0, x) for t in read_jsonl(tp, Task) if (x := restate(t.gold))]
        write_jsonl(tp.parent / 'restated' / 'completions.jsonl', comps)


@pytest.fixture(scope='module')
def census_runs(tmp_path_factory):
    "The English set, gold and stub, evaluated warm and cold in two run directories with the built environments."
    listing = run_cli('env', 'list').stdout
    if ' yes ' not in listing: pytest.skip('no test environment is built: run `codebench env build <framework>` (or `make koco-envs`)')
    root = Path(KOCO) / SETS['en'][0]
    before = tree_hash(root / 'verl/test_examples/PACS')
    out = {}
    for mode in ('warm', 'cold'):
        runs = tmp_path_factory.mktemp(mode)
        assert run_cli('parse', root, '--out', runs, timeout=600).returncode == 0
        assert run_cli('prompts', runs).returncode == 0
        assert run_cli('generate', runs, '-m', 'reference', '-m', 'stub', '--n', '1', timeout=600).returncode == 0
        _write_restated(runs)
        r = run_cli('evaluate', runs, '-m', 'reference', '-m', 'stub', '-m', 'restated', '--env', 'auto', *(['--no-warm'] if mode == 'cold' else []),
                    timeout=4 * 3600)
        assert r.returncode == 0, r.stderr[-3000:]
        print(r.stdout)
        out[mode] = runs
    assert tree_hash(root / 'verl/test_examples/PACS') == before  # the benchmark is never written to
    return out


def test_census_scores_most_tasks_and_explains_the_rest(census_runs):
    rows = [c for p in Path(census_runs['warm']).glob('*/*/census.jsonl') for c in read_jsonl(p)]
    assert len(rows) == 131
    scoreable = [c for c in rows if c['ok']]
    assert len(scoreable) >= MIN_SCOREABLE, f"{len(scoreable)} scoreable tasks"
    assert all(c['cause'] and c['reason'] for c in rows if not c['ok'])  # every task that cannot be scored says why
    assert not any(c['cause'] == 'harness-error' for c in rows)


def test_gold_passes_and_stub_fails(census_runs):
    census = {c['task_id']: c for p in Path(census_runs['warm']).glob('*/*/census.jsonl') for c in read_jsonl(p)}
    gold, stub = _verdicts(census_runs['warm'], 'reference'), _verdicts(census_runs['warm'], 'stub')
    ok = {t for t, c in census.items() if c['ok']}
    assert {t: v for t, v in gold.items() if v != 'pass'} == {}
    assert set(gold) == set(stub) == ok
    assert {t for t, v in stub.items() if v == 'pass'} == {t for t in ok if census[t]['weak']}  # only weak tasks let a stub pass
    assert 'error' not in set(gold.values()) | set(stub.values())


def test_gold_restated_is_never_tampered(census_runs):
    """The gold, not byte for byte, really run with canaries, audit hooks, the guard and return-type checks: it passes every scoreable
    task, warm and cold, and is never `tampered`; most tasks get canaries that replay the tests' calls of the function."""
    census = {c['task_id']: c for p in Path(census_runs['warm']).glob('*/*/census.jsonl') for c in read_jsonl(p)}
    for mode, runs in census_runs.items():
        res = {r['task_id']: r for p in Path(runs).glob('*/*/restated/results.jsonl') for r in read_jsonl(p)}
        bad = {t: (r['verdict'], r['detail'][:300]) for t, r in res.items() if r['verdict'] != 'pass'}
        assert bad == {}, (mode, bad)
        assert len(res) >= MIN_SCOREABLE - 5 and all(r['isolation'] != 'census' for r in res.values())  # they really ran
    replays = sorted(t for t, c in census.items() if c.get('replays'))
    print(f"{len(replays)} of {sum(c['ok'] for c in census.values())} scoreable tasks get canaries that replay the tests' calls of their function")
    events = {}
    for c in census.values():
        for k in c.get('baseline', {}).get('allowed', []):
            if k.startswith('audit:'): events[k] = events.get(k, 0) + 1
    print('audit events of the gold itself (allowed to its answers):', events)
    assert len(replays) >= 50


def test_evaluation_corpus_reaches_no_task_function():
    "The corpus a run sees, for every framework of both sets: no task's own function is there with its body, by name at its file or by code."
    import ast
    from codebench.dataset import Exclusions, normalized_hash
    from codebench.evaluate import decontaminated_corpus
    for lang in ('en', 'ch'):
        root = Path(KOCO) / SETS[lang][0]
        for fw in sorted(p for p in root.iterdir() if (p / 'knowledge_corpus').is_dir()):
            ex, kc = Exclusions.for_framework(fw), decontaminated_corpus(fw)
            found = []
            for p in kc.rglob('*.py'):
                rel = str(p.relative_to(kc).relative_to(p.relative_to(kc).parts[0])) if len(p.relative_to(kc).parts) > 1 else p.name
                text = p.read_text(encoding='utf-8', errors='replace')
                try: tree = ast.parse(text)
                except SyntaxError: continue
                lines = text.splitlines(keepends=True)
                for node in ast.walk(tree):
                    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)): continue
                    body = node.body[-1]
                    if isinstance(body, ast.Raise) and 'NotImplementedError' in ast.unparse(body): continue  # stubbed
                    code = ''.join(lines[min([d.lineno for d in node.decorator_list] + [node.lineno]) - 1:node.end_lineno])
                    try: h = normalized_hash(code)
                    except SyntaxError: continue
                    if h in ex.hashes: found.append((str(p.relative_to(kc)), node.name, ex.hashes[h]))
            assert found == [], (lang, fw.name, found[:5])


def test_warm_and_cold_agree(census_runs):
    warm, cold = census_runs['warm'], census_runs['cold']
    for model in ('reference', 'stub', 'restated'):
        assert _verdicts(warm, model) == _verdicts(cold, model)
    census = lambda runs: {c['task_id']: (c['ok'], c['cause'], sorted(c['tests'])) for p in Path(runs).glob('*/*/census.jsonl')
                           for c in read_jsonl(p)}
    assert census(warm) == census(cold)


@pytest.mark.parametrize('lang', ['en', 'ch'])
def test_retrieval_never_returns_a_tasks_own_function(lang, tmp_path):
    "BM25 prompts over the real knowledge corpora: no retrieved chunk is a task's function, by name at its file or by normalized code."
    from codebench.core import Prompt, Task
    from codebench.dataset import normalized_hash
    root = Path(KOCO) / SETS[lang][0]
    runs = tmp_path / 'runs'
    assert run_cli('parse', root, '--out', runs, timeout=600).returncode == 0
    r = run_cli('prompts', runs, '--rag', 'bm25', '--top-k', '5', timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]
    print(r.stdout)
    excluded = {p.parent.name: len(json.loads(p.read_text())['excluded']) for p in runs.glob('*/rag-bm25.json')}
    print('task functions kept out of the index, per framework:', excluded)
    assert set(excluded) == FRAMEWORKS and sum(excluded.values()) >= 5  # open-r1 2, verl 3 in the snapshot
    tasks = [t for p in runs.rglob('tasks.jsonl') for t in read_jsonl(p, Task)]
    gold = {}
    for t in tasks:
        try: gold.setdefault(t.framework, {})[normalized_hash(t.gold)] = t.task_id
        except SyntaxError: pass
    checked = 0
    for p in runs.rglob('prompts.rag-bm25-k5.jsonl'):
        for pr in read_jsonl(p, Prompt):
            t = next(t for t in tasks if t.task_id == pr.task_id)
            assert pr.retrieved and len(pr.retrieved) <= 5
            for c in pr.retrieved:
                assert not (c['name'] == t.target and Path(c['path']).name == Path(t.source_path).name), (t.task_id, c)
                if c['kind'] in ('function', 'method'):
                    lines = (Path(t.example_dir).parent.parent / 'knowledge_corpus' / c['path']).read_text(encoding='utf-8').splitlines(keepends=True)
                    try: h = normalized_hash(''.join(lines[c['start'] - 1:c['end']]))
                    except SyntaxError: continue
                    assert h not in gold[t.framework], (t.task_id, c, gold[t.framework].get(h))
                checked += 1
    assert checked >= 5 * len(tasks) * 0.9


def test_agent_copies_of_every_example(tmp_path):
    """The agent's stripped copy of every English example: every task stubbed, the stubbed files parse, no test file left, and
    the gold written back over a stub reads back as the gold."""
    import ast
    from codebench.agent import extract_answer, strip_example
    from codebench.splice import reindent
    tasks = parse_benchmark(Path(KOCO) / SETS['en'][0]).tasks
    by_example = {}
    for t in tasks: by_example.setdefault(t.example_dir, []).append(t)
    for i, (ex, ts) in enumerate(by_example.items()):
        stubbed = strip_example(ts, tmp_path / str(i) / 'repo')
        assert not list((tmp_path / str(i) / 'repo').rglob('test_*.py')), ex
        for rel, text in stubbed.items(): ast.parse(text)
        for t in ts:
            assert t.gold not in stubbed[t.source_path] or t.kind == 'block', t.task_id
            if t.kind == 'block': continue
            code, why = extract_answer(t, Path(t.example_dir, t.source_path).read_text(encoding='utf-8'), stubbed[t.source_path])
            assert reindent(t.gold, '').strip() in code, (t.task_id, why)
