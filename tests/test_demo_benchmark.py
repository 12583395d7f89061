"""The embedded demo benchmark keeps the promises the rest of codebench relies on."""
import ast
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codebench.core import Task
from codebench.parse import parse_benchmark

from conftest import tree_hash

REPORT = parse_benchmark()
TASKS = {t.task_id: t for t in REPORT.tasks}


def test_shape_of_the_demo():
    assert len(REPORT.tasks) >= 14 and not REPORT.errors
    assert {t.framework for t in REPORT.tasks} == {'minirl', 'minirag'}
    assert len(REPORT.examples) == 4
    assert sum(t.kind == 'method' for t in REPORT.tasks) >= 3
    assert any(t.is_async for t in REPORT.tasks)
    assert any(t.gold.lstrip().startswith('@') for t in REPORT.tasks)
    assert any('功能概述' in Path(t.example_dir, '..', '..', '..', t.doc_path).resolve().read_text() for t in REPORT.tasks)


def test_exactly_the_planted_drift_is_reported():
    (w,) = REPORT.warnings
    assert w.name == 'whiten' and w.line == 53
    t = TASKS['minirl/reward_shaping/whiten']
    assert (t.doc_span, t.span) == ([24, 32], [22, 30])
    assert all(t.doc_span == t.span for t in REPORT.tasks if t.name != 'whiten')


def test_both_test_styles_and_a_guarded_unittest():
    files = {Path(t.example_dir, p) for t in REPORT.tasks for p in t.test_paths}
    texts = [f.read_text() for f in files]
    assert any('import unittest' in s for s in texts) and any('import pytest' in s and 'unittest' not in s for s in texts)
    assert any('SkipTest' in s or 'skipIf' in s for s in texts)


def stub_body(task: Task) -> str:
    "The task's source file with the function body replaced by `raise NotImplementedError`."
    src = Path(task.example_dir, task.source_path).read_text()
    lines = src.splitlines(keepends=True)
    node = next(n for n in ast.walk(ast.parse(src)) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                and n.name == task.function_name and task.span[0] <= n.lineno <= task.span[1])
    first = node.body[0]
    indent = lines[first.lineno - 1][:first.col_offset]
    return ''.join(lines[:first.lineno - 1] + [f'{indent}raise NotImplementedError\n'] + lines[node.end_lineno:])


def run_tests(code_dir: Path, tests: list) -> tuple:
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', *tests], cwd=code_dir,
                       capture_output=True, text=True, timeout=120)
    return r.returncode, time.perf_counter() - t0, r.stdout + r.stderr


@pytest.mark.parametrize('task_id', sorted(TASKS))
def test_gold_passes_and_stub_fails(task_id, tmp_path):
    task = TASKS[task_id]
    before = tree_hash(Path(task.example_dir))
    work = tmp_path / 'code'
    shutil.copytree(task.code_dir, work)
    tests = [p.removeprefix('code/') for p in task.test_paths]
    rc, seconds, out = run_tests(work, tests)
    assert rc == 0, out
    assert 'skipped' not in out.splitlines()[-1], out
    (work / task.source_path.removeprefix('code/')).write_text(stub_body(task))
    for test in tests:  # every listed file must notice the stub
        rc, _, out = run_tests(work, [test])
        assert rc != 0, f"{test} passes with {task.name} stubbed:\n{out}"
    assert tree_hash(Path(task.example_dir)) == before


def test_no_stray_package_markers(demo_root):
    "Tools that add __init__.py everywhere (nbdev's add_init) must never reach the benchmark: `code/` is no package."
    for code in demo_root.glob('*/test_examples/*/code'):
        assert not (code / '__init__.py').exists()
        assert not list(code.glob('test*/__init__.py'))
