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
