"""Real model answers, labelled by hand, read by `codebench.splice` as a careful human reads them.

The fixtures (tests/fixtures/real_outputs/*.jsonl, format in its README) hold each raw answer with what extraction
needs of its task, so the extraction tests run everywhere; the full splice into the source file runs for the demo
always and for KOCO-bench answers when KOCO_ROOT is set. The named tests below tie each reading rule to real answers.
"""
from functools import lru_cache
from pathlib import Path

import pytest

from codebench.parse import parse_benchmark
from codebench.splice import extract, source_context, splice

from real_outputs import benchmark_root, context_of, fixture_files, load, mismatches, read_record, task_of

RECORDS = [(f.name, i, r) for f in fixture_files() for i, r in enumerate(load(f))]
LABELLED = [x for x in RECORDS if x[2]['expect'] is not None]
ids = lambda xs: [f"{f.split('.')[-2]}:{i}:{r['task_id'].split('/', 1)[1]}#{r['sample']}" for f, i, r in xs]


def test_the_fixture_set_is_large_and_labelled():
    assert len(LABELLED) >= 150, f"{len(LABELLED)} labelled real answers"
    unlabelled = [f"{f}:{i}" for f, i, r in RECORDS if r['expect'] is None]
    if unlabelled: print(f"{len(unlabelled)} answers are not labelled yet: {', '.join(unlabelled[:20])}")
    assert {r['expect']['verdict'] for _, _, r in LABELLED} == {'spliced', 'syntax-error', 'wrong-name', 'no-code'}


@pytest.mark.parametrize('name,i,rec', LABELLED, ids=ids(LABELLED))
def test_extraction_matches_the_label(name, i, rec):
    s = read_record(rec)
    assert not mismatches(rec['expect'], s), (rec['why'], mismatches(rec['expect'], s), s.detail)


@lru_cache(maxsize=None)
def _tasks(benchmark: str, framework: str, example: str) -> dict:
    return {t.task_id: t for t in parse_benchmark(benchmark_root(benchmark), framework, example).tasks}


@pytest.mark.parametrize('name,i,rec', LABELLED, ids=ids(LABELLED))
def test_full_splice_agrees(name, i, rec):
    if benchmark_root(rec['benchmark']) is None: pytest.skip(f"{rec['benchmark']} answers splice into KOCO-bench's sources: set KOCO_ROOT")
    task = _tasks(rec['benchmark'], *rec['task_id'].split('/')[:2])[rec['task_id']]
    source = Path(task.example_dir, task.source_path).read_text(encoding='utf-8')
    ctx = source_context(task, source)
    assert (sorted(ctx.names), sorted(ctx.methods)) == (rec['context']['names'], rec['context']['methods']), 'the stored context is stale'
    s = splice(task, rec['text'], source, rec['finish_reason'])
    exp = rec['expect']
    assert (s.verdict or 'spliced') == exp['verdict'], (s.verdict, s.detail)
    if s.ok:
        compile(s.source, task.source_path, 'exec')
        assert rec['text'].splitlines()[s.line - 1].strip() in s.source  # the chosen def line, re-indented into the file
        for sub in exp.get('spliced_contains', []): assert sub in s.source, sub


# --- one rule, the real answers that show it -------------------------------------------------------------------------

def _rec(task_name: str, sample: int, fixture: str = 'demo') -> dict:
    return next(r for f, _, r in RECORDS if fixture in f and r['task']['name'] == task_name and r['sample'] == sample)


def _extract(rec, text=None, finish=None):
    return extract(task_of(rec), rec['text'] if text is None else text, rec['finish_reason'] if finish is None else finish, context_of(rec))


def test_code_that_does_not_parse_is_a_syntax_error_never_cut_to_fit():
    s = _extract(_rec('tokenize', 1))  # the old splicer cut the function back to line 10 and ran it
    assert (s.verdict, s.detail) == ('syntax-error', 'line 11: invalid syntax')
    s = _extract(_rec('top_k_cosine', 1))  # `from mina_bo` is broken code, not prose: the old one called it wrong-name
    assert (s.verdict, s.detail) == ('syntax-error', 'line 3: invalid syntax')
    s = _extract(_rec('prompt._extract_tool_meta', 0, 'koco'))  # the function is fine, a later def in its block is not
    assert s.verdict == 'syntax-error' and s.detail.startswith('line 30:')


def test_prose_is_cut_and_only_prose():
    rec = _rec('compute_gae', 2)  # no opening fence; "Example usage:" and "Output:" between blocks
    s = _extract(rec)
    assert s.ok and s.line == 1 and 'Example usage' not in s.code
    s = _extract(rec, rec['text'].replace('Example usage:', 'Example usage: x = = 1', 1))
    assert s.ok  # still prose: a sentence at column 0 outside the code
    s = _extract(_rec('prompt.build_prompt_to_generate_training_examples', 1, 'koco'))
    assert s.ok and s.line == 1


def test_an_answer_cut_at_the_token_limit():
    rec = _rec('reciprocal_rank_fusion', 0)  # no fence: only finish_reason says it was cut
    assert _extract(rec).detail == 'the answer was cut at the token limit inside `reciprocal_rank_fusion` (line 1)'
    assert _extract(rec, finish='stop').ok  # had it stopped there, the function would be complete
    s = _extract(_rec('BM25Index.score', 3))  # cut in a later, unused def: the method stands
    assert s.ok and s.truncated and 'after it: that part is left out' in s.detail
    rec = _rec('BaseAgent.run', 1, 'koco')  # cut inside the task's class before the method
    assert _extract(rec).detail.endswith('before it defines `run`')


def test_the_definition_python_binds_or_the_one_with_a_body():
    s = _extract(_rec('tokenize', 0))
    assert (s.line, s.defs) == (8, 2) and 'the one Python binds' in s.detail
    s = _extract(_rec('StreamAggregator.aggregate_stream', 0, 'koco'))  # a docstring-only stub first, then three bodies
    assert (s.line, s.defs) == (23, 4)
    s = _extract(_rec('compute_gae', 2))  # across blocks: the answer, not the copy in "Example usage"
    assert s.line == 1 and 'the first run of code that defines it with a body' in s.detail


def test_helpers_by_scope_never_the_function_a_parameter_or_example_code():
    s = _extract(_rec('sliding_window_chunks', 3))  # example usage assigns `tokens`, `size`, `overlap` at module level
    assert s.helpers == ['minirag'] and "tokens = ['123'" not in s.code and 'print(' not in s.code
    s = _extract(_rec('clipped_policy_loss', 1))  # recursive: never a second copy of itself
    assert s.helpers == [] and s.code.count('def clipped_policy_loss(') == 1
    s = _extract(_rec('Brain._get_adapter_for_agent', 1, 'koco'))  # a def, a constant built from an import, the import
    assert s.helpers == ['c2s2', 'new_limb_class', '_get_adapter_for_agent_nil']
    s = _extract(_rec('multi_tool_integration', 0, 'koco'))  # it imports its own name: not a helper
    assert s.helpers == [] and 'import' not in s.code


def test_self_helpers_go_into_the_class():
    rec = _rec('BM25Index.score', 3)  # a real answer with `def score_multi(self, query)` at top level, made to call it
    text = rec['text'].replace('    return mina.get_score(self) *', '    return self.score_multi(query)[0] + mina.get_score(self) *')
    s = _extract(rec, text)
    assert s.ok and s.methods == ['score_multi'] and s.helpers == ['mina'] and 'moved `score_multi` into the class' in s.detail
    task = _tasks('demo', 'minirag', 'bm25_search')[rec['task_id']]
    out = splice(task, text, finish_reason='length')
    assert '\n    def score_multi(self, query):\n' in out.source and '\ndef score_multi' not in out.source


def test_a_method_in_a_misnamed_class_brings_only_what_it_uses():
    rec = _rec('ModelStreamWrapper.generate_stream', 0, 'koco')  # a real answer, its __init__ made to use the unused import
    text = rec['text'].replace('        self.stream.append(stream)\n\n    def generate_stream',
                               '        self.stream.append(smolabs.stream.wrap(stream))\n\n    def generate_stream', 1)
    assert text != rec['text']
    for t in (rec['text'], text):
        s = _extract(rec, t)
        assert s.ok and s.line == 9 and s.helpers == [] and 'smolabs' not in s.code and '__init__' not in s.code


def test_compiled_not_only_parsed():
    s = _extract(_rec('gather_episode_returns', 2))
    assert s.detail == "line 7: 'await' outside async function (it does not compile)"
    s = _extract(_rec('CodeOutput.display', 1, 'koco'))
    assert s.detail == "line 8: can't use starred expression here (it does not compile)"
    s = _extract(_rec('factory.create_agent', 0, 'koco'))  # a helper it calls repeats a parameter
    assert s.verdict == 'syntax-error' and "duplicate argument 'tools'" in s.detail and '`create_model_instance`, which it uses,' in s.detail


def test_original_decorators_stay():
    rec = _rec('compute_gae', 3)
    task = _tasks('demo', 'minirl', 'ppo_step')[rec['task_id']]
    s = splice(task, rec['text'], finish_reason=rec['finish_reason'])
    assert s.ok and 'kept the original decorators' in s.detail
    assert '@register_estimator("gae")\ndef compute_gae(rewards, values, last_value=0.0, gamma=0.99, lamb=None, dones=None):' in s.source


def test_no_code_and_wrong_name():
    assert _extract(_rec('AgentRuntime._create_llm_model', 0, 'koco')).verdict == 'no-code'  # prose only
    assert _extract(_rec('CodeActAgent._create_prompt_templates', 0, 'koco')).detail.startswith('only comments')
    s = _extract(_rec('BaseAgent.run', 0, 'koco'))
    assert (s.verdict, s.detail) == ('wrong-name', 'no function `run` in the completion; it defines run_server')
