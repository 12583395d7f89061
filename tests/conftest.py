import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def tree_hash(path: Path) -> str:
    "Content hash of a directory tree: paths and bytes of every file."
    h = hashlib.sha256()
    for p in sorted(Path(path).rglob('*')):
        if p.is_file() and '__pycache__' not in p.parts:
            h.update(str(p.relative_to(path)).encode() + b'\0' + p.read_bytes() + b'\0')
    return h.hexdigest()


def run_cli(*args, env=None, cwd=None, timeout=600):
    "Run the installed `codebench` console script; return the CompletedProcess (`timeout` is a hang guard, not a target)."
    full_env = {k: v for k, v in os.environ.items() if k not in
                ('DATA_DIR', 'OUTPUT_DIR', 'NUM_COMPLETIONS', 'DEBUG')}
    full_env.update(env or {})
    return subprocess.run([str(BIN / 'codebench'), *map(str, args)], capture_output=True, text=True,
                          env=full_env, cwd=cwd, timeout=timeout)


@pytest.fixture
def demo_root():
    from codebench.core import demo_root
    return demo_root()


@pytest.fixture
def ppo_runs(tmp_path):
    "A run directory with tasks and prompts of the demo's minirl/ppo_step."
    runs = tmp_path / 'runs'
    assert run_cli('parse', '--out', runs, '-f', 'minirl', '-e', 'ppo_step').returncode == 0
    assert run_cli('prompts', runs).returncode == 0
    return runs
