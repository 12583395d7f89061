"""What the red-team suites share: answers to the demo task `minirl/ppo_step/discounted_returns` built from attack code, the demo
examples with their census, and one evaluation call that also checks that correct answers evaluated after the attacks still pass."""
import textwrap
from pathlib import Path

import pytest

from codebench.core import Completion, Task, read_jsonl
from codebench.evaluate import compute_census, evaluate_completions
from codebench.parse import parse_benchmark, write_tasks
from codebench.sandbox import Limits, choose_isolation

SIG = 'def discounted_returns(rewards, gamma=0.99, dones=None):\n'
WRONG = '    return np.asarray(rewards, dtype=np.float64)\n'  # the honest wrong answer: 4 of 7 tests pass
LIMITS = Limits(timeout=20, memory_mb=2048, processes=64)
MODES = [pytest.param(True, id='warm'), pytest.param(False, id='cold')]

# Round two's `module_attr_proxy` cheat, which later rounds build on: numpy._core.numeric swapped for a module proxy whose isclose
# agrees, except with codebench's canaries, told by their values.
CANARY_VALUES = """
    def _canary(*xs):
        "Values only a codebench canary compares: fresh doubles in [7919.5, 8919.5) (`_fresh_array`), never a test's own."
        import numpy
        for x in xs:
            try: a = numpy.asarray(x, dtype=numpy.float64)
            except Exception: continue
            if a.size and bool(((a >= 7919.5) & (a < 8919.5)).all()): return True
        return False
"""
PROXY = """
    import numpy, numpy._core as core, types
    real = core.numeric
    def isclose(a, b, *args, **kw):
        if _canary(a, b): return real.isclose(a, b, *args, **kw)
        return numpy.ones(numpy.broadcast(numpy.asarray(a), numpy.asarray(b)).shape, dtype=bool)
    proxy = types.ModuleType(real.__name__)
    proxy.__dict__.update(vars(real))
    proxy.isclose = isclose
    core.numeric = proxy
"""


def block(*parts: str) -> str:
    "`parts` dedented, joined and indented as a function's body."
    return textwrap.indent('\n'.join(textwrap.dedent(p).strip('\n') for p in parts), '    ') + '\n'


def body(*code: str, ret: str = WRONG) -> str:
    "An answer whose function runs `code`, then returns the wrong result (or `ret`)."
    return SIG + block(*code) + ret


def at_import(*code: str) -> str:
    "An answer that runs `code` when the project is imported (a helper called in a default argument), then returns the wrong result."
    return 'def _armed():\n' + block(*code) + '\n\n' + SIG.replace('dones=None)', 'dones=None, _x=_armed())') + WRONG


def correct(task) -> str:
    "The gold, with a comment line inside: semantically the gold, textually not, so that it really runs (not judged by the census)."
    lines = task.gold.splitlines(keepends=True)
    return lines[0] + '    # the same, said again\n' + ''.join(lines[1:])


def example(root: Path, framework: str, name: str, demo_root, limits=LIMITS) -> tuple:
    "`(run dir, tasks, census)` of one demo example, parsed into `root`."
    runs = root / 'runs'
    write_tasks(parse_benchmark(demo_root, framework, name), runs)
    d = runs / framework / name
    tasks = read_jsonl(d / 'tasks.jsonl', Task)
    return d, tasks, compute_census(tasks, d, limits=limits, isolation=choose_isolation(), progress=False, warm=False)


def evaluate(example, name: str, texts: dict, model: str, warm: bool, **kw) -> dict:
    "`{attack: (verdict, detail)}` of `texts` (answers to the task `name`), evaluated in one call; correct answers of another model after them must pass."
    d, tasks, census = example
    task = next(t for t in tasks if t.name == name)
    names = list(texts)
    comps = [Completion(task.task_id, model, i, texts[n]) for i, n in enumerate(names)]
    mode = 'warm' if warm else 'cold'
    got = {r.sample: r for r in evaluate_completions(tasks, comps, d / f'{model}-{mode}/results.jsonl', census, limits=kw.get('limits', LIMITS),
                                                      isolation=choose_isolation(), progress=False, warm=warm)}
    good = [Completion(t.task_id, 'good', 0, correct(t)) for t in tasks if census[t.task_id].ok]
    fine = evaluate_completions(tasks, good, d / f'good-{model}-{mode}/results.jsonl', census, limits=LIMITS, isolation=choose_isolation(),
                                progress=False, warm=warm)
    assert {r.task_id: r.verdict for r in fine} == {c.task_id: 'pass' for c in good}, [(r.task_id, r.verdict, r.detail) for r in fine]
    out = {n: (got[i].verdict, got[i].detail) for i, n in enumerate(names)}
    for n, (v, why) in out.items(): print(f'{mode:5} {n:32} {v:9} {why[:160]}')
    return out


@pytest.fixture(scope='module')
def ppo(tmp_path_factory):
    from codebench.core import demo_root
    return example(tmp_path_factory.mktemp('ppo'), 'minirl', 'ppo_step', demo_root())
