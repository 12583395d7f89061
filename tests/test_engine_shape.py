"""The engine's shape, checked on the source (no run): what STYLE.md asks of code a newcomer changes.

- no module imports another module's private names (`from codebench.x import _y`, `x._y`): what is shared is public;
- `compute_census` is called with keywords beyond `(tasks, run_dir)` (`Result` refuses positional fields itself);
- the benchmark layout (`test_examples`, `code`, `requirements`, `knowledge_corpus`, `metadata.json`) is spelled only in
  `codebench.core`'s path functions;
- an `EnvMap` is built from `--env` values only by `codebench.envs.env_map`;
- what a verdict means is read from `codebench.core` (`SCORED_VERDICTS`, `HARNESS_FAULTS`, ...), not spelled as lists of verdicts.
"""
import ast
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIB = sorted(p for p in (ROOT / 'codebench').glob('*.py') if p.name != '_modidx.py')
# the lead is reworking these chapters (04_pytest_plugin, 04b_harness, 05_sandbox); their layout strings move to core afterwards
LAYOUT_PENDING = {'sandbox.py', 'pytest_plugin.py', 'harness.py'}
LAYOUT = {'test_examples', 'code', 'requirements', 'knowledge_corpus', 'metadata.json'}


def _cells(nb):
    for i, c in enumerate(json.loads(nb.read_text())['cells']):
        if c['cell_type'] == 'code':
            src = '\n'.join(l for l in ''.join(c['source']).splitlines() if not l.lstrip().startswith(('%', '!')))
            yield f"{nb.relative_to(ROOT)}[{i}]", src


def sources(lib=True, tests=True, notebooks=True):
    "`(where, source)` of the library modules, the tests and every notebook's code cells."
    out = [(str(p.relative_to(ROOT)), p.read_text()) for p in LIB] if lib else []
    if tests: out += [(str(p.relative_to(ROOT)), p.read_text()) for p in sorted((ROOT / 'tests').glob('*.py'))]
    if notebooks: out += [c for nb in sorted((ROOT / 'nbs').rglob('*.ipynb')) if '.ipynb_checkpoints' not in nb.parts for c in _cells(nb)]
    return out


def _tree(src):
    try: return ast.parse(src)
    except SyntaxError: return None


def private_imports(where, src):
    "Private names of codebench modules that `src` imports or reads: `from codebench.x import _y`, `x._y` on an imported module."
    tree, found, mods = _tree(src), [], {}
    if tree is None: return found
    this = where.removeprefix('codebench/').removesuffix('.py') if where.startswith('codebench/') else None
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom):
            mod = ('codebench.' + (n.module or '')) if n.level else (n.module or '')
            if not mod.startswith('codebench') or mod == f'codebench.{this}': continue
            for a in n.names:
                if a.name.startswith('_') and not a.name.startswith('__'): found.append(f"{where}:{n.lineno}: from {mod} import {a.name}")
                elif mod == 'codebench': mods[a.asname or a.name] = a.name
        elif isinstance(n, ast.Import):
            mods.update({a.asname: a.name for a in n.names if a.asname and a.name.startswith('codebench.')})
    for n in ast.walk(tree):
        if isinstance(n, ast.Attribute) and n.attr.startswith('_') and not n.attr.startswith('__') and isinstance(n.value, ast.Name) \
           and n.value.id in mods and mods[n.value.id].split('.')[-1] != this:
            found.append(f"{where}:{n.lineno}: {n.value.id}.{n.attr}")
    return found


def test_no_private_names_across_modules():
    found = [f for where, src in sources() for f in private_imports(where, src)]
    assert not found, 'make these public (and documented), or move them:\n' + '\n'.join(found)


def test_the_checks_find_what_they_look_for():
    "The checks below are not vacuous: each finds a planted case."
    assert private_imports('codebench/agent.py', 'from codebench.splice import _segment\nfrom .parse import did_you_mean')
    assert private_imports('tests/t.py', 'from codebench import evaluate as ev\nev._key("a", "b")')
    assert not private_imports('codebench/splice.py', 'from codebench.splice import _segment')
    assert positional_census('x', 'compute_census(tasks, d, executor, limits)')
    assert not positional_census('x', 'compute_census(tasks, d, executor=e, limits=l)')
    assert layout_joins('codebench/x.py', "p = root/fw/'test_examples'\nq = ex / 'code'")
    assert verdict_lists('codebench/x.py', "ok = r.verdict in ('pass', 'fail')\nbad = r.verdict == 'error'")
    assert not verdict_lists('codebench/x.py', "ok = r.verdict == 'pass' or r.verdict in HARNESS_FAULTS")


def positional_census(where, src):
    tree = _tree(src)
    return [f"{where}:{n.lineno}: compute_census with {len(n.args)} positional arguments" for n in ast.walk(tree or ast.Module([], []))
            if isinstance(n, ast.Call) and getattr(n.func, 'id', getattr(n.func, 'attr', None)) == 'compute_census' and len(n.args) > 2]


def test_compute_census_by_keyword():
    found = [f for where, src in sources() for f in positional_census(where, src)]
    assert not found, 'pass everything after (tasks, run_dir) by keyword:\n' + '\n'.join(found)


def test_result_refuses_positional_fields():
    from codebench.core import Result
    with pytest.raises(TypeError):
        Result('t', 'm', 0, 'pass')
    assert Result(task_id='t', model='m', sample=0, verdict='pass').verdict == 'pass'


def layout_joins(where, src):
    "`path / 'test_examples'` and the like: a benchmark layout name joined onto a path."
    tree = _tree(src)
    return [f"{where}:{n.lineno}: / {n.right.value!r}" for n in ast.walk(tree or ast.Module([], []))
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div) and isinstance(n.right, ast.Constant) and n.right.value in LAYOUT]


def test_benchmark_layout_lives_in_core():
    found = [f for p in LIB if p.name not in {'core.py', *LAYOUT_PENDING} for f in layout_joins(p.name, p.read_text())]
    assert not found, "use codebench.core's path functions (examples_dir, code_path, requirements_path, corpus_path, ...):\n" + '\n'.join(found)


def test_env_map_is_built_in_one_place():
    found = [f"{where}:{n.lineno}" for where, src in sources(tests=False) if where != 'codebench/envs.py' and 'EnvMap' in src
             for n in ast.walk(_tree(src) or ast.Module([], [])) if isinstance(n, ast.Call) and getattr(n.func, 'id', None) == 'EnvMap'
             and 'nbs/05a_envs' not in where]
    assert not found, 'build it with codebench.envs.env_map (it takes --env values or an EnvMap):\n' + '\n'.join(found)


def verdict_lists(where, src):
    "`x.verdict` compared with a verdict other than 'pass', or with a literal list of verdicts."
    tree, out = _tree(src), []
    for n in ast.walk(tree or ast.Module([], [])):
        if isinstance(n, ast.Compare) and isinstance(n.left, ast.Attribute) and n.left.attr == 'verdict':
            for c in n.comparators:
                if isinstance(c, (ast.Tuple, ast.List, ast.Set)) or (isinstance(c, ast.Constant) and c.value != 'pass'):
                    out.append(f"{where}:{n.lineno}: {ast.unparse(n)}")
    return out


def test_verdict_meanings_come_from_core():
    found = [f for where, src in sources(tests=False) if where != 'codebench/core.py' for f in verdict_lists(where, src)]
    assert not found, 'use VERDICT_MEANINGS / SCORED_VERDICTS / REUSABLE_VERDICTS / HARNESS_FAULTS / UNUSABLE_VERDICTS:\n' + '\n'.join(found)
