"""The README's commands work as written: its plain papermill chain runs verbatim (taken from README.md, so that a change there is tested)."""
import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def readme_block(heading: str) -> str:
    "The first ```sh block after `heading` in README.md."
    text = (ROOT / 'README.md').read_text(encoding='utf-8')
    section = text[text.index(heading):]
    return re.search(r'```sh\n(.*?)```', section, re.S).group(1)


def test_papermill_chain_runs_as_written(tmp_path):
    block = readme_block('## Stage notebooks with papermill')
    assert '.venv/bin/papermill nbs/stages/01_parse.ipynb' in block and 'mkdir -p out' in block
    (tmp_path / 'nbs').symlink_to(ROOT / 'nbs')  # a fresh folder laid out like the project: no runs/ or out/ yet
    (tmp_path / '.venv').symlink_to(Path(sys.executable).parent.parent)
    env = {k: v for k, v in os.environ.items() if k not in ('DATA_DIR', 'OUTPUT_DIR', 'NUM_COMPLETIONS', 'DEBUG', 'VIRTUAL_ENV')}
    env['PATH'] = '/usr/bin:/bin'  # papermill is not on PATH: the README must say where it is
    r = subprocess.run(['bash', '-euo', 'pipefail', '-c', block], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, (r.stdout[-2000:], r.stderr[-4000:])
    assert (tmp_path / 'runs/aggregate/frameworks.csv').exists()
    html = (tmp_path / 'out/06.html').read_text()
    assert html.count('data:image/png;base64') >= 6 and 'mutants_0' in html
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in html  # progress went to the console


def test_lab_kernels_write_to_the_projects_runs():
    "`make lab` gives its kernels the project's run directory: a notebook opened in nbs/stages/ does not write runs/ there."
    r = subprocess.run(['make', '-n', '--no-print-directory', 'lab'], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert f'OUTPUT_DIR=${{OUTPUT_DIR:-{ROOT}/runs}}' in r.stdout and 'jupyter lab nbs' in r.stdout, r.stdout
