"""`codebench study` end to end: base, +RAG, agent and a stand-in fine-tuned model, from a scripted server on loopback and an
offline model, to the study report and the drill-down pages, opened in a real browser."""
import re

import pytest

from codebench.core import Task, read_jsonl
from codebench.mutate import stub_code
from codebench.testing import FakeOpenAI

from conftest import run_cli
from test_agent import scripted_agent
from test_reports_browser import CHROMIUM, chromium


def scripted_model(tasks):
    "Plain prompts: the gold for half of the tasks, a NotImplementedError stub for the rest. Retrieval prompts: the gold. Tool calls: the agent."
    agent = scripted_agent(tasks)
    def answer(req, i):
        if req.get('tools'): return agent(req, i)
        text = req['messages'][-1]['content']
        t = next(t for t in tasks if f'`{t.function_name}`' in text.split('\n')[0])
        good = 'Code from the' in text or tasks.index(t) % 2 == 0
        code = t.gold if good else stub_code(t.gold)
        return f'```python\n{code}```\n'
    return answer


@pytest.fixture(scope='module')
def study(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('study')
    runs, reports = tmp / 'runs', tmp / 'reports'
    assert run_cli('parse', '--out', runs, '-f', 'minirl').returncode == 0
    tasks = [t for p in sorted(runs.rglob('tasks.jsonl')) for t in read_jsonl(p, Task)]
    server = FakeOpenAI(answer=scripted_model(tasks))
    try:
        r = run_cli('study', '--base', f'openai:tiny@{server.url}', '--agent', 'max_turns=12', '--lora', 'mutants:1', '-f', 'minirl',
                    '--n', '2', '--runs', runs, '--reports', reports, '--top-k', '3')
    finally:
        server.close()
    assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-3000:])
    return tmp, tasks


def test_study_report_has_the_paired_comparisons(study):
    tmp, tasks = study
    page = (tmp / 'reports/study/10_study.html').read_text()
    assert 'Traceback (most recent call last)' not in page
    assert 'paired differences against base (pass@1)' in page and 'p_sign_flip_holm' in page and 'tasks_won' in page
    assert 'Holm-adjusted' in page  # the correction, said in a sentence
    for label in ('+RAG', 'agent', '+LoRA'): assert f'>{label}<' in page, label
    # base passes half the tasks, +RAG and the agent all of them: +RAG wins the 4 odd tasks of the 8
    rows = re.findall(r'<td[^>]*>all</td>\s*<td[^>]*>(\+RAG|agent|\+LoRA)</td>\s*<td[^>]*>(\d+)</td>(?:\s*<td[^>]*>[^<]*</td>){5}'
                      r'\s*<td[^>]*>(\d+)</td>\s*<td[^>]*>(\d+)</td>', page)  # condition, tasks, ..., tasks won, tasks lost
    assert ('+RAG', '8', '4', '0') in rows and ('agent', '8', '4', '0') in rows, rows
    assert 'agent_turns' in page and 'retrieval quality' in page.lower()
    assert page.index('>base<') < page.index('>+RAG<') < page.index('>agent<')  # base first
    index = (tmp / 'reports/study/index.html').read_text()
    assert '10_study.html' in index and 'tasks/index.html' in index
    assert 'href="study/index.html"' in (tmp / 'reports/index.html').read_text()  # the index of every report set lists it


def test_drill_down_pages_show_prompt_chunks_diff_failures_and_transcript(study):
    tmp, tasks = study
    pages = sorted((tmp / 'reports/study/tasks').rglob('*.html'))
    assert len(pages) == 1 + len(tasks)
    odd = tasks[1]
    page = (tmp / 'reports/study/tasks' / odd.framework / odd.example / f'{odd.name}.html').read_text()
    assert 'rag-bm25-k3 — 3 retrieved chunks' in page and 'BM25 score' in page
    assert 'class="badge fail"' in page and re.search(r'<span class="add">\+\s*raise NotImplementedError', page)  # the plain answer, as a diff
    assert 'failed: <code>' in page
    assert 'agent transcript: 8 turns, 9 tool calls (3 errors), stop: finish' in page and 'edit_file → ok' in page


@pytest.mark.skipif(not CHROMIUM, reason='needs Debian chromium (CI installs it)')
def test_study_and_task_pages_render_in_a_browser(study):
    tmp, tasks = study
    for page in [tmp / 'reports/study/10_study.html', tmp / 'reports/study/tasks/index.html',
                 tmp / 'reports/study/tasks' / tasks[0].framework / tasks[0].example / f'{tasks[0].name}.html']:
        r = chromium('--dump-dom', page.as_uri())
        assert r.returncode == 0 and '<table' in r.stdout, page
        assert not re.search(r'Uncaught \w*Error', r.stderr), (page, r.stderr[-2000:])
    study_dom = chromium('--dump-dom', (tmp / 'reports/study/10_study.html').as_uri()).stdout
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', study_dom)) >= 4
