"""Red team, round four: an attacker's review of three new mechanisms: (1) results accepted for the clean-room replay only as the plugin
records them, and replay tests without recorded data judged `fail`; (2) inert conftest.py files imported once in a warm server;
(3) installed packages that share a name with the knowledge corpus preloaded. Hostile answers to the demo tasks, evaluated warm and cold
beside another model's correct answers (`attacks.evaluate`), and conftest.py snippets judged by `conftest_is_inert` directly.

What the review found, and what closed it (every attack here is now asserted not to pass):
- a replay without a report was not judged: a wrong answer with a main-run cheat passed, warm and cold, if its replay timed out (a result
  whose pickle, chosen by an ndarray subclass's `__reduce_ex__`, is a 2**33-leaf DAG) or exited (`torch.storage._load_from_bytes`, which
  `replay_safe` allowed, is `torch.load(weights_only=False)`: code in the clean room). Now a replay that times out, is killed or leaves no
  report makes the run `fail` ("cannot be checked"; a warm one is tried once more cold), results are pickled only as instances of
  classes that are what they claim and a result may hold (`_Pickler`), and torch storages load through `torch.load(weights_only=True)`;
- `conftest_is_inert` said inert for 12 snippets whose import imports the project, and for any conftest in a package (its __init__.py
  files run first); with such a conftest a warm server imported the project from the first run's workspace and every later run (and
  replay) forked with that module: the honest wrong answer passed after a correct one, and a cheat's replay ran the cheat. Now the check
  refuses all of them, and a server that prepares a configuration refuses to import the project's modules at all (`_NoProjectImports`):
  the end-to-end tests use a conftest the check still calls inert (`unittest.main(module=...)` imports its module).
(3) found nothing an answer can use: what is preloaded is decided by the benchmark's files, not the answer's.
"""
import io, os, pickle, shutil, subprocess, sys, textwrap
from pathlib import Path
sys.path.insert(0, os.path.dirname(__file__))
import pytest

from codebench.sandbox import bwrap_works
from attacks import CANARY_VALUES, MODES, PROXY, SIG, WRONG, at_import, block, body, correct, evaluate, example, ppo  # noqa: F401 (ppo: a fixture)

needs_bwrap = pytest.mark.skipif(not bwrap_works(), reason='needs bubblewrap')

# -- (1) the clean-room replay ------------------------------------------------------------------------------------------------------------
# The main-run cheat: round two's `module_attr_proxy` (numpy._core.numeric swapped for a module proxy whose isclose agrees; canaries told
# by value). Its run passes; before this round only the replay caught it ("its tests pass only beside its own code"). The attacks below
# keep that cheat and sabotage the replay instead: a replay that ends without a report (`report_ok` False) or with a harness error is
# ignored by `replay_disagrees` / `replay_unverified`, and `judge` then says `pass`.


def proxied(*code: str, ret: str = WRONG) -> str:
    "The module_attr_proxy cheat at import, then a function that runs `code` and returns `ret`."
    return at_import(CANARY_VALUES, PROXY).replace(WRONG, block(*code) + ret)


VIEW_R = '    return np.asarray(rewards, dtype=np.float64).view(R)\n'  # the wrong result, as an ndarray subclass whose pickle it chooses

# (a) a result whose pickle is not the result: an ndarray subclass that defines only __reduce__/__reduce_ex__ (both in _BENIGN, so
# type_info lists no dunders and `tampering` says nothing) records, through the plugin's own Target._after -> _send, whatever data its
# __reduce_ex__ returns. Here: a list nested 33 deep, every level the same object twice (a few hundred bytes pickled, 2**33 leaves): the
# replay's numpy.asarray on it walks every leaf, the replay times out, and a replay without a report is not judged.
TIMEBOMB = """
    class R(np.ndarray):
        def __reduce_ex__(self, protocol):
            x = [0.0, 0.0]
            for _ in range(32): x = [x, x]
            return (list, (x,))
        __reduce__ = lambda self: self.__reduce_ex__(4)
"""


def _torch_payload() -> bytes | None:
    """Bytes that `torch.storage._load_from_bytes` (allowed by `replay_safe`: it is `torch.load(..., weights_only=False)`) loads by running
    code: a legacy torch file whose first pickle (the magic number) is `eval` of an expression. In the answer's run (no replay file) it
    evaluates to the magic number and the rest loads as `[0.0]`, so `dump_result`'s check passes; in the clean-room replay it calls os._exit."""
    try:
        import torch, torch.serialization as ts
    except ImportError: return None
    class Eval:
        def __init__(self, e): self.e = e
        def __reduce__(self): return (eval, (self.e,))
    expr = f"__import__('os')._exit(0) if __import__('os').path.exists('.codebench-replay.json') else {ts.MAGIC_NUMBER}"
    buf = io.BytesIO()
    torch.save([0.0], buf, _use_new_zipfile_serialization=False)
    first = pickle.dumps(ts.MAGIC_NUMBER, protocol=2)
    assert buf.getvalue().startswith(first)
    return pickle.dumps(Eval(expr), protocol=2) + buf.getvalue()[len(first):]


PAYLOAD = _torch_payload()
# (b) code in the clean room: the result's __reduce_ex__ names torch.storage._load_from_bytes. torch is imported by a thread whose target is
# importlib.import_module (a C-callable chain: no answer frame, so the import's compile/exec events do not make torch "the answer's"), with
# the guard's import watcher (_Finder) out of sys.meta_path for the moment (else torch._VF replacing itself in sys.modules is "rebound").
TORCH_EXIT = f"""
    import sys, threading, importlib
    saved = sys.meta_path[:]
    sys.meta_path[:] = [f for f in saved if type(f).__name__ != '_Finder']
    try:
        t = threading.Thread(target=importlib.import_module, args=('torch.storage',)); t.start(); t.join()
    finally: sys.meta_path[:] = saved
    _load = sys.modules['torch.storage']._load_from_bytes
    class R(np.ndarray):
        def __reduce__(self): return (_load, ({PAYLOAD!r},))
        def __reduce_ex__(self, protocol): return self.__reduce__()
"""

# caught: the instrumented function's own `call` closure (builtins._codebench_target_*) called by the answer itself, after the test's own
# call, with the rewards it should have been given: the result is sent from `call`, but `call` was not called by the trampoline
CALL_DIRECT = """
    import builtins, sys
    g = globals()
    if not g.get('_rt4_busy'):
        g['_rt4_busy'] = True
        try:
            for k, v in list(vars(builtins).items()):
                if k.startswith('_codebench_target_'): v((np.array([1.75, 1.5, 1.0]),), {})
        finally: g['_rt4_busy'] = False
"""
REPLAY_ATTACKS = {
    'proxy_only': proxied(),  # the main-run cheat alone: the replay catches it (tampered)
    'proxy+replay_timebomb': proxied(TIMEBOMB, ret=VIEW_R),
    **({'proxy+replay_torch_exit': proxied(TORCH_EXIT, ret=VIEW_R)} if PAYLOAD else {}),
    'proxy+call_closure_direct': proxied(CALL_DIRECT),
}
REPLAY_HOLES = {
    'proxy+replay_timebomb': "a replay that ends without a report (here: timed out on a result whose pickle is a 2**33-leaf DAG, chosen by an "
                             "ndarray subclass's __reduce_ex__, a 'benign' dunder) is not judged: replay_disagrees/replay_unverified return [] "
                             "when the replay has no report, and the main run's cheat passes",
    'proxy+replay_torch_exit': "replay_safe allows torch.storage._load_from_bytes, i.e. torch.load(weights_only=False): arbitrary code in the "
                               "clean room (and in dump_result's check in the answer's run, with no answer frame on the stack); here it "
                               "calls os._exit(0) in the replay, which then has no report and is not judged",
}


@pytest.fixture(scope='module')
def replay_verdicts(ppo):
    texts = {'honest_wrong': SIG + WRONG, **REPLAY_ATTACKS}
    return {warm: evaluate(ppo, 'discounted_returns', texts, 'rt4', warm) for warm in (True, False)}


@needs_bwrap
@pytest.mark.parametrize('warm', MODES)
@pytest.mark.parametrize('name', ['honest_wrong', 'proxy_only', 'proxy+call_closure_direct'])
def test_replay_attack_caught(replay_verdicts, name, warm):
    v, why = replay_verdicts[warm][name]
    assert v != 'pass', f'{name} scored pass ({why})'


@needs_bwrap
@pytest.mark.parametrize('warm', MODES)
@pytest.mark.parametrize('name', [n for n in REPLAY_HOLES if n in REPLAY_ATTACKS])
def test_replay_sabotage(replay_verdicts, name, warm):
    v, why = replay_verdicts[warm][name]
    assert v != 'pass', f'{name} scored pass ({why})'


# -- (2) inert conftests, imported once in a warm server ------------------------------------------------------------------------------------
# conftest_is_inert reads the file, never runs it. Each snippet below is judged inert, yet importing it imports a module of the project
# (`victim`, in the conftest's directory): in a warm server that is the answer's code, imported by `prepare_config` in the server (outside
# the run's sandbox uid, before the run's audit hook), kept in the server's sys.modules for every later run of the example with the same
# configuration files (prepare_config restores sys.path and sys.meta_path, never sys.modules).
FALSE_INERT = {
    'pytest_importorskip': "import pytest\npytest.importorskip('victim')\n",  # pytest is "callable"; importorskip imports its argument
    'unittest_loader': "import unittest\nunittest.defaultTestLoader.loadTestsFromName('victim')\n",
    'mock_patch_start': "from unittest import mock\nmock.patch('victim.x', 2).start()\n",  # a call on a call: only mock.patch is judged
    'logging_dictconfig': "import logging.config\nlogging.config.dictConfig({'version': 1, 'handlers': {'h': {'()': 'victim.make'}}})\n",
    'warnings_setoption': "import warnings\nwarnings._setoption('ignore::victim.VictimWarning')\n",
    'typing_hints_eval': "import typing\n\nclass Hints:\n    x: \"__import__('victim')\"\n\ntyping.get_type_hints(Hints)\n",
    'builtin_help': "help('victim')\n",  # pydoc imports what it is asked about
    'map_dunder_import': "list(map(__import__, ['victim']))\n",  # unsafe builtins are refused as callees, not as arguments
    'sorted_key_lambda': "sorted(['victim'], key=lambda m: __import__(m))\n",  # lambda bodies are skipped, even when a call runs them
    'partial_own_function': "import functools\n\ndef load():\n    import victim\n\nfunctools.partial(load)()\n",
    'class_getitem': "class Loader:\n    def __class_getitem__(cls, name):\n        return __import__(name)\n\nLoader['victim']\n",
    'os_spawnvp': "import os, sys\nos.spawnvp(os.P_WAIT, sys.executable, [sys.executable, '-c', 'import victim'])\n",  # outside the interpreter
}
TRULY_NOT_INERT = {  # controls: what the check does refuse
    'import_project': "import victim\n",
    'dunder_import': "__import__('victim')\n",
    'importlib': "import importlib\nimportlib.import_module('victim')\n",
    'own_function': "def load():\n    import victim\n\nload()\n",
    'pytest_plugins': "pytest_plugins = ['victim']\n",
}
VICTIM = "import os\nopen(os.environ['RT4_MARK'], 'w').close()\nx = 1\nmake = dict\nclass VictimWarning(Warning): pass\n"


def _imports_project(d: Path) -> bool:
    "Does importing `d`/conftest.py (as a module run from `d`) import the project's package `victim`?"
    (d / 'victim').mkdir(exist_ok=True)
    (d / 'victim' / '__init__.py').write_text(VICTIM)
    mark = d / 'imported'
    mark.unlink(missing_ok=True)
    subprocess.run([sys.executable, '-c', "import runpy; runpy.run_path('conftest.py')"], cwd=d, env={**os.environ, 'RT4_MARK': str(mark)},
                   capture_output=True, timeout=60)
    return mark.exists()


@pytest.mark.parametrize('name', list(FALSE_INERT))
def test_conftest_false_inert(tmp_path, name):
    from codebench.harness import conftest_is_inert
    (tmp_path / 'conftest.py').write_text(FALSE_INERT[name])
    inert = conftest_is_inert(str(tmp_path / 'conftest.py'))
    imported = _imports_project(tmp_path)
    print(f'{name:24} inert={inert} imports_project={imported}')
    assert not (inert and imported)


@pytest.mark.parametrize('name', list(TRULY_NOT_INERT))
def test_conftest_not_inert(tmp_path, name):
    from codebench.harness import conftest_is_inert
    (tmp_path / 'conftest.py').write_text(TRULY_NOT_INERT[name])
    assert not conftest_is_inert(str(tmp_path / 'conftest.py'))


def test_conftest_in_a_package(tmp_path):
    from codebench.harness import conftest_is_inert
    (tmp_path / 'victim' / 'tests').mkdir(parents=True)
    (tmp_path / 'victim' / '__init__.py').write_text(VICTIM)
    (tmp_path / 'victim' / 'tests' / '__init__.py').write_text('')
    (tmp_path / 'victim' / 'tests' / 'conftest.py').write_text('import pytest\n')
    inert = conftest_is_inert(str(tmp_path / 'victim' / 'tests' / 'conftest.py'))
    mark = tmp_path / 'imported'
    subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', '--co', 'victim/tests'], cwd=tmp_path,
                   env={**os.environ, 'RT4_MARK': str(mark)}, capture_output=True, timeout=120)
    assert not (inert and mark.exists())


# End to end: the demo's ppo_step with one more file, tests/conftest.py `pytest.importorskip("ppo_step")` (judged inert). The warm server
# imports the project package while it prepares the configuration — from the workspace of the first run of the example it serves — and
# every later run forks from it with that ppo_step in sys.modules: its tests import the server's module, never the run's own (and the
# target is never instrumented, so nothing is recorded). A correct answer evaluated first, then the honest wrong answer: the wrong
# answer's tests run the correct code, in its run and in its clean-room replay.
CONFTEST = 'import unittest\n\nunittest.main(module="ppo_step", exit=False, argv=["x"])  # imports ppo_step; judged inert all the same\n'


def _with_conftest(tmp_path_factory):
    "The demo's ppo_step with tests/conftest.py `CONFTEST`, parsed: `(run dir, tasks, census)` (a fresh example directory: a pool of its own)."
    from codebench.core import demo_root
    from codebench.harness import conftest_is_inert
    root = tmp_path_factory.mktemp('bench')
    shutil.copytree(Path(demo_root()) / 'minirl', root / 'minirl', ignore=shutil.ignore_patterns('reward_shaping', '__pycache__'))
    conf = root / 'minirl' / 'test_examples' / 'ppo_step' / 'code' / 'tests' / 'conftest.py'
    conf.write_text(CONFTEST)
    assert conftest_is_inert(str(conf))
    return example(tmp_path_factory.mktemp('ppoc'), 'minirl', 'ppo_step', root)


@pytest.fixture(scope='module')
def ppo_conftest(tmp_path_factory): return _with_conftest(tmp_path_factory)


@pytest.fixture(scope='module')
def conftest_verdicts(ppo_conftest):
    task = next(t for t in ppo_conftest[1] if t.name == 'discounted_returns')
    out = {}
    for warm in (True, False):
        evaluate(ppo_conftest, 'discounted_returns', {'correct_first': correct(task)}, 'first', warm)  # the servers import a correct ppo_step
        out[warm] = evaluate(ppo_conftest, 'discounted_returns', {'honest_wrong': SIG + WRONG}, 'second', warm)
    return out


@needs_bwrap
@pytest.mark.parametrize('warm', MODES)
def test_conftest_server_keeps_project(conftest_verdicts, warm):
    v, why = conftest_verdicts[warm]['honest_wrong']
    assert v != 'pass', f'honest_wrong scored pass ({why})'


# The same example, the attacker first in fresh servers: its module — and the numpy proxy its import installs — is imported into the server
# while it prepares the configuration, outside the run (the server's uid, no rlimits, no audit hook yet). Its run passes by the proxy; its
# replay, forked from the same server, finds ppo_step already imported (the attacker's, not the benchmark's, never instrumented) and the proxy
# still in place. Cold, the replay catches it.
@pytest.fixture(scope='module')
def conftest_attacker_verdicts(tmp_path_factory):
    ex = _with_conftest(tmp_path_factory)
    return {warm: evaluate(ex, 'discounted_returns', {'proxy_only': proxied()}, 'attacker', warm) for warm in (True, False)}


@needs_bwrap
@pytest.mark.parametrize('warm', MODES)
def test_conftest_server_runs_attacker(conftest_attacker_verdicts, warm):
    v, why = conftest_attacker_verdicts[warm]['proxy_only']
    assert v != 'pass', f'proxy_only scored pass ({why})'


# -- (4) the warm server's check for preloads that stand in the project's place (`shadowed`) ---------------------------------------------
# A run whose `sys.path` would find the project's own module where a preload brought in an installed one is done again cold. An answer
# that fakes that signal (a module of a preloaded name put first on `sys.path`, the plugin's list rebound) or hides it must not turn its
# wrong result into a harness `error` (before this round: `error`, warm and cold) nor pass.
FAKE_SHADOW = """
    import sys, os, tempfile
    d = tempfile.mkdtemp(); open(os.path.join(d, 'json.py'), 'w').write('')
    sys.path.insert(0, d)
    p = sys.modules.get('codebench_plugin')
    if p is not None: p.SHADOWABLE = {'json': None}
"""
HIDE_SHADOW = """
    import sys
    p = sys.modules.get('codebench_plugin')
    if p is not None: p.shadowed = lambda: []
"""


@needs_bwrap
@pytest.mark.parametrize('warm', MODES)
def test_a_faked_or_hidden_shadow_buys_nothing(ppo, warm):
    texts = {'fake_shadow_wrong': body(FAKE_SHADOW),
             'fake_shadow_with_proxy': proxied(FAKE_SHADOW),
             'fake_shadow_at_import_proxy': at_import(CANARY_VALUES, PROXY, FAKE_SHADOW),
             'hide_shadow_with_proxy': at_import(CANARY_VALUES, PROXY, HIDE_SHADOW)}
    got = evaluate(ppo, 'discounted_returns', texts, 'attacker', warm)
    assert all(v in ('fail', 'tampered') for v, _ in got.values()), got
