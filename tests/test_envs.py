"""`codebench env build` with uv and with pip, and the import check, on a tiny recipe: the verl recipe's name with its packages
replaced by pytest and a local wheel, and no torch step (`--requirements`, `--torch ''`), checked against a copy of the demo's
minirl laid out as a framework called verl. The real recipes are built by `make koco-envs` and checked by `make koco`."""
import base64
import hashlib
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

import codebench.envs as envs
from codebench.core import demo_root
from codebench.sandbox import EnvError

from conftest import run_cli


def _wheel(where: Path) -> Path:
    "A wheel whose module imports a package it does not declare (as qwen-vl-utils does torchvision): pip check is clean, the import fails."
    files = {'undeclared/__init__.py': b'import not_declared_anywhere\n',
             'undeclared-0.1.dist-info/METADATA': b'Metadata-Version: 2.1\nName: undeclared\nVersion: 0.1\n',
             'undeclared-0.1.dist-info/WHEEL': b'Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n'}
    digest = lambda b: 'sha256=' + base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b'=').decode()
    record = ''.join(f"{n},{digest(b)},{len(b)}\n" for n, b in files.items()) + 'undeclared-0.1.dist-info/RECORD,,\n'
    path = where / 'undeclared-0.1-py3-none-any.whl'
    with zipfile.ZipFile(path, 'w') as z:
        for n, b in {**files, 'undeclared-0.1.dist-info/RECORD': record.encode()}.items(): z.writestr(n, b)
    return path


@pytest.fixture
def tiny(tmp_path):
    "Requirements (pytest and the wheel) and a benchmark whose verl/ppo_step tests import the wheel's module and numpy."
    req = tmp_path / 'requirements.txt'
    req.write_text(f"pytest\n{_wheel(tmp_path)}\n")
    bench = tmp_path / 'bench'
    shutil.copytree(demo_root() / 'minirl', bench / 'verl')
    test = bench / 'verl/test_examples/ppo_step/code/tests/test_losses.py'
    test.write_text('import undeclared\n' + test.read_text())
    return dict(req=req, bench=bench, home=tmp_path / 'envs')


def _uv_cache_dir() -> str:
    return subprocess.run([envs.find_uv(), 'cache', 'dir'], capture_output=True, text=True).stdout.strip()


def _build(tiny, *extra):
    return run_cli('env', 'build', 'verl', '--requirements', tiny['req'], '--torch', '', '--home', tiny['home'],
                   '--benchmark', tiny['bench'], *extra, timeout=1800)


def test_uv_build_links_into_the_cache_and_the_import_check_finds_the_undeclared_dependency(tiny):
    r = _build(tiny, '--installer', 'uv')
    assert r.returncode == 0, r.stderr[-3000:]
    b = envs.load_built(tiny['home'] / 'verl')
    assert b.installer.startswith('uv ') and b.pip_check == 'ok' and b.recipe['torch'] == ''
    assert b.imports['broken'] == {'undeclared': "ModuleNotFoundError: No module named 'not_declared_anywhere'"}
    assert 'numpy' in b.imports['absent'] and 'pytest' in b.imports['ok'] and set(b.imports['examples']) == {'ppo_step', 'reward_shaping'}
    assert "FAILS undeclared: ModuleNotFoundError: No module named 'not_declared_anywhere'" in r.stdout
    assert 'installed but failing to import: undeclared' in r.stderr
    assert '1 FAIL' in r.stdout
    init = next((tiny['home'] / 'verl/lib').glob('python3*/site-packages/_pytest/__init__.py'))
    cache = Path(os.environ.get('UV_CACHE_DIR') or _uv_cache_dir())
    if cache.exists() and cache.stat().st_dev == init.stat().st_dev:
        assert init.stat().st_nlink > 1, 'pytest was copied into the venv, not hard-linked from the cache'
    assert list((tiny['home'] / 'verl/lib').glob('python3*/site-packages/_pytest/__pycache__/*.pyc'))  # compiled, as pip does
    again = _build(tiny, '--installer', 'uv')  # the same recipe: reused, and checked again
    assert again.returncode == 0 and 'building verl' not in again.stdout and 'FAILS undeclared' in again.stdout


def test_pip_build_gives_the_same_environment(tiny):
    r = _build(tiny, '--installer', 'pip')
    assert r.returncode == 0, r.stderr[-3000:]
    b = envs.load_built(tiny['home'] / 'verl')
    assert (b.installer, b.pip_check) == ('pip', 'ok')
    assert b.imports['broken'] == {'undeclared': "ModuleNotFoundError: No module named 'not_declared_anywhere'"}
    assert 'pytest' in b.imports['ok']
    listing = run_cli('env', 'list', '--home', tiny['home']).stdout
    assert 'pip' in listing and '1 FAIL' in listing


def test_without_uv_auto_falls_back_to_pip(tmp_path, monkeypatch):
    monkeypatch.setattr(envs, 'find_uv', lambda path=None: None)  # as if uv were not installed
    recipe = envs.Recipe('tiny', 'minirl', torch='', packages=('pytest',))
    with pytest.raises(EnvError, match='uv is not installed'):
        envs.build_env(recipe, tmp_path, progress=False, installer='uv')
    b = envs.build_env(recipe, tmp_path, progress=False, installer='auto')
    assert (b.installer, b.pip_check) == ('pip', 'ok') and Path(b.python).exists()
    assert '-m venv' in Path(b.log).read_text()


def test_the_torch_step_is_pinned_for_later_steps(tmp_path):
    "What the first step installed stays: a later step asking for another version fails instead of swapping it (uv)."
    recipe = envs.Recipe('pinned', 'minirl', torch='iniconfig==2.0.0', packages=('iniconfig==2.1.0',))
    with pytest.raises(EnvError, match='failed'):
        envs.build_env(recipe, tmp_path, progress=False, installer='uv')
    assert (tmp_path / 'pinned/codebench-constraints.txt').read_text() == 'iniconfig==2.0.0\n'
