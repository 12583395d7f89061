"""The stage notebooks run under papermill, as users and the chain run them."""
from pathlib import Path

import nbformat
import papermill as pm

from codebench.core import read_jsonl

from conftest import ROOT

STAGES = ROOT / 'nbs' / 'stages'


def outputs_text(nb_path):
    nb = nbformat.read(nb_path, as_version=4)
    parts = []
    for cell in nb.cells:
        for o in cell.get('outputs', []):
            parts.append(o.get('text', '') + ''.join(str(v) for v in o.get('data', {}).values()))
    return '\n'.join(parts)


def test_parse_and_prompts_stage_notebooks(tmp_path):
    runs = tmp_path / 'runs'
    pm.execute_notebook(STAGES / '01_parse.ipynb', tmp_path / '01_parse.ipynb', parameters={'out': str(runs)},
                        cwd=str(tmp_path), progress_bar=False, kernel_name='python3')
    text = outputs_text(tmp_path / '01_parse.ipynb')
    assert '15 tasks, 1 warnings, 0 errors' in text
    assert 'minirl/reward_shaping/whiten' in text and 'span 24-32 of `whiten`' in text  # task table, issue table
    assert len(read_jsonl(runs / 'minirl/ppo_step/tasks.jsonl')) == 4

    pm.execute_notebook(STAGES / '02_prompts.ipynb', tmp_path / '02_prompts.ipynb',
                        parameters={'runs': str(runs), 'framework': 'minirag'}, cwd=str(tmp_path), progress_bar=False,
                        kernel_name='python3')
    text = outputs_text(tmp_path / '02_prompts.ipynb')
    assert 'minirag/bm25_search/tokenize' in text and 'Implement the function `tokenize`' in text  # sample prompt
    assert not (runs / 'minirl/ppo_step/prompts.jsonl').exists()
    assert len(read_jsonl(runs / 'minirag/chunking/prompts.jsonl')) == 3


def test_parse_stage_can_fail_the_run(tmp_path):
    import pytest
    bench = tmp_path / 'bench/fw/test_examples/ex/requirements'
    bench.mkdir(parents=True)
    (bench / '03_algorithm_and_core_methods.md').write_text('# FUNCTION: f\n## Function Implementation\nnowhere\n')
    with pytest.raises(pm.PapermillExecutionError, match='no location|expected a location'):
        pm.execute_notebook(STAGES / '01_parse.ipynb', tmp_path / 'o.ipynb', progress_bar=False, kernel_name='python3',
                            parameters={'root': str(tmp_path / 'bench'), 'out': str(tmp_path / 'runs'), 'fail_on_errors': True})


def test_generate_evaluate_aggregate_stage_notebooks(tmp_path):
    runs = tmp_path / 'runs'
    run = lambda nb, **params: pm.execute_notebook(STAGES / nb, tmp_path / nb, parameters=params, cwd=str(tmp_path),
                                                   progress_bar=False, kernel_name='python3')
    run('01_parse.ipynb', out=str(runs), framework='minirag')
    run('02_prompts.ipynb', runs=str(runs))
    run('03_generate.ipynb', runs=str(runs), model='mutants:2', n=3)
    text = outputs_text(tmp_path / '03_generate.ipynb')
    assert 'completion_tokens' in text and 'Here is the implementation of' in text
    run('04_evaluate.ipynb', runs=str(runs), model='mutants:2', report_root='rep')
    text = outputs_text(tmp_path / '04_evaluate.ipynb')
    assert 'minirag/chunking/render_context' in text and 'pass@3' in text  # per-function table, summary
    assert 'verdict' in text and '.log</a>' in text  # verdict counts, links to logs
    logs = list((tmp_path / 'rep' / 'logs').rglob('*.log'))  # copied into the report's folder, linked relatively
    assert logs and f'href="rep/{logs[0].relative_to(tmp_path / "rep")}"' in text and str(tmp_path) not in text
    assert 'href="rep/tasks/minirag/' in text  # each task links to its page
    assert 'bwrap' in text and 'sandboxed' in text  # the isolation the runs ran under
    run('05_aggregate.ipynb', runs=str(runs))
    assert (runs / 'aggregate' / 'frameworks.csv').exists()
    assert 'mutants_2' in outputs_text(tmp_path / '05_aggregate.ipynb')


def test_stage_parameters_all_parse():
    "papermill reads every line of each parameters cell (a line it cannot parse is silently not a parameter)."
    import ast
    for nb_path in sorted(STAGES.glob('*.ipynb')):
        nb = nbformat.read(nb_path, as_version=4)
        cell = next(c for c in nb.cells if 'parameters' in c.metadata.get('tags', []))
        names = [t.id for n in ast.parse(cell.source).body if isinstance(n, ast.Assign) for t in n.targets]
        assert sorted(pm.inspect_notebook(nb_path)) == sorted(names), nb_path.name
