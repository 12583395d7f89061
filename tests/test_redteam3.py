"""Red team, round three (an attacker's review of the warm server's prepared session, which issue 18 added): hostile answers to demo
tasks, evaluated warm and cold beside another model's correct answers. Two attacks got through, warm and cold, until results withheld
from the clean-room replay stopped counting (see CLOSED)."""
import os, sys
sys.path.insert(0, os.path.dirname(__file__))
import pytest

from codebench.sandbox import bwrap_works
from attacks import MODES, SIG, WRONG, block, body, evaluate, example, ppo  # noqa: F401 (ppo: a fixture)

pytestmark = pytest.mark.skipif(not bwrap_works(), reason='needs bubblewrap')

ONCE = """
    import sys
    g = globals()
    if g.get('_rt_done'): return np.asarray(rewards, dtype=np.float64)
    g['_rt_done'] = True
"""
CONFIG = """
    cfg = next(h.config for h in sys.meta_path if getattr(h, 'config', None) is not None)
    rec = cfg.pluginmanager.get_plugin('codebench-recorder')
    P = sys.modules['codebench_plugin']
"""
# outputs: every call of every test 'not replayable' (data None): the clean-room replay raises ReplayMissing, which judges nothing
NO_REPLAY = """
    for t in cfg.stash[P._STATE][3].all:
        ctx0 = t.context
        for it, *_ in rec.items:
            for ph in ('setup', 'call', 'teardown'):
                t.context = f'{it.nodeid}|{ph}'
                for i in range(8): t._send(i, None)
        t.context = ctx0
"""
REPORTS = """
    import os, types, weakref, itertools, functools
    import stat
    def _fifo(fd):
        try: return stat.S_ISFIFO(os.fstat(fd).st_mode)
        except OSError: return False
    fd = int(cfg.option.codebench_channel) if cfg.option.codebench_channel else next(f for f in range(3, 256) if _fifo(f))
    reports = [types.SimpleNamespace(nodeid=it.nodeid, when='call', outcome='passed', skipped=False)
               for it, *_ in rec.items if rec.canaries.get(it.nodeid) != 'b']
    session = rec.items[0][0].session
"""

ATTACKS = {
    # old path (not new code): pytest's own `_main` calls a fake config's hook, a chain of C callables: the Recorder's caller is _main
    'pytest_main_forge': body(ONCE, CONFIG, NO_REPLAY, REPORTS, """
        import _pytest.main
        forge = itertools.chain(map(rec.pytest_runtest_logreport, reports), map(rec.pytest_sessionfinish, [session], [0]), map(os.close, [fd]))
        hook = types.SimpleNamespace(pytest_collection=dict, pytest_runtestloop=functools.partial(dict, zip(forge, itertools.repeat(0))))
        trigger = set()
        weakref.finalize(trigger, _pytest.main._main, types.SimpleNamespace(hook=hook), types.SimpleNamespace(testsfailed=0, testscollected=1))
    """),
    # new: the harness's session_main (a trusted caller) calls the fake config's pytest_sessionfinish itself, then _ensure_unconfigure
    'session_main_forge': body(ONCE, CONFIG, NO_REPLAY, REPORTS, """
        main = sys.modules['__main__']
        forge = itertools.chain(map(rec.pytest_runtest_logreport, reports), map(rec.pytest_sessionfinish, [session], [0]))
        hook = types.SimpleNamespace(pytest_collection=dict, pytest_runtestloop=dict,
                                     pytest_sessionfinish=functools.partial(dict, zip(forge, itertools.repeat(0))))
        fake_cfg = types.SimpleNamespace(hook=hook, _ensure_unconfigure=functools.partial(os.close, fd))
        fake_sess = types.SimpleNamespace(testsfailed=0, testscollected=1, startpath=os.getcwd(), exitstatus=0)
        trigger = set()
        weakref.finalize(trigger, main.session_main, sys.modules['pytest'], fake_cfg, fake_sess)
    """),
}


@pytest.fixture(scope='module')
def verdicts(ppo):
    texts = {'honest_wrong': SIG + WRONG, **ATTACKS}
    return {warm: evaluate(ppo, 'discounted_returns', texts, 'rt', warm) for warm in (True, False)}


CLOSED = {  # what got through, and what stops it now
    'pytest_main_forge': "the audit hook trusts any record whose caller below the plugin and pluggy is pytest's code; from a finalizer (no "
                         "frame of the answer) pytest's `_main` calls a fake config's hook, a chain of C calls to the recorder. The forged "
                         "outcomes still reach the harness; what stops it is the replay: results sent by the answer itself are not the "
                         "plugin's (the audit hook checks that a result comes from the function's own call), and a replay test without "
                         "recorded results cannot pass",
    'noreplay': "results sent without data (Target.spent set to its budget through the config's stash) raised ReplayMissing in the "
                "clean-room replay, which then judged nothing; now a replay test whose results were not recorded as data cannot pass",
}


@pytest.mark.parametrize('warm', MODES)
@pytest.mark.parametrize('name', ['honest_wrong', 'session_main_forge', 'pytest_main_forge'])
def test_not_pass(verdicts, name, warm):
    v, why = verdicts[warm][name]
    assert v != 'pass', f'{name} scored pass ({why})'


# -- a forged rewritten pyc: pytest's assertion rewriter reads tests/__pycache__/<name>.cpython-311-pytest-<v>.pyc even with bytecode
# writing off. clipped_policy_loss's module is imported (ppo_step/__init__) while test_advantages.py is collected, before test_losses.py
LOSS_SIG = 'def clipped_policy_loss(logp_new, logp_old, advantages, clip_eps=0.2, _x=None):\n'
LOSS_WRONG = '    return 0.0, 0.0\n'
FORGE_PYC = '''
def _armed():
    import ast, importlib.util, marshal, os, sys
    here = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tests')
    dfd = os.open(here, os.O_RDONLY)
    fd = os.open('test_losses.py', os.O_RDONLY, dir_fd=dfd)  # the audit hook resolves 'test_losses.py' against the cwd: no peek
    src = b''
    while chunk := os.read(fd, 65536): src += chunk
    os.close(fd); os.close(dfd)
    tree, ids = ast.parse(src), []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            for f in node.body:
                if isinstance(f, ast.FunctionDef) and f.name.startswith('test'):
                    f.body = [ast.Pass()]; ids.append(f'tests/test_losses.py::{node.name}::{f.name}')
        elif isinstance(node, ast.FunctionDef) and node.name.startswith('test'):
            node.body = [ast.Pass()]; ids.append(f'tests/test_losses.py::{node.name}')
    co = compile(ast.fix_missing_locations(tree), '<forged>', 'exec')
    os.makedirs(os.path.join(here, '__pycache__'), exist_ok=True)
    name = f"test_losses.{sys.implementation.cache_tag}-pytest-{sys.modules['pytest'].__version__}.pyc"
    with open(os.path.join(here, '__pycache__', name), 'wb') as f:
        f.write(importlib.util.MAGIC_NUMBER + b'\\x03\\x00\\x00\\x00' + importlib.util.source_hash(src)[:8] + marshal.dumps(co))
    if REPLAY_OFF:
        cfg = next(h.config for h in sys.meta_path if getattr(h, 'config', None) is not None)
        P = sys.modules['codebench_plugin']
        for t in cfg.stash[P._STATE][3].all:
            ctx0 = t.context
            for i_d in ids:
                t.context = i_d + '|call'
                for i in range(8): t._send(i, None)
            t.context = ctx0


'''


def pyc_answer(replay_off=True):
    return FORGE_PYC.replace('REPLAY_OFF', str(replay_off)) + LOSS_SIG.replace('_x=None', '_x=_armed()') + LOSS_WRONG


@pytest.fixture(scope='module')
def pyc_verdicts(ppo):
    texts = {'honest_wrong_loss': LOSS_SIG + LOSS_WRONG, 'forged_pyc': pyc_answer(True), 'forged_pyc_replay_on': pyc_answer(False)}
    return {warm: evaluate(ppo, 'clipped_policy_loss', texts, 'pyc', warm) for warm in (True, False)}


@pytest.mark.parametrize('warm', MODES)
@pytest.mark.parametrize('name', ['honest_wrong_loss', 'forged_pyc', 'forged_pyc_replay_on'])
def test_pyc_not_pass(pyc_verdicts, name, warm):
    v, why = pyc_verdicts[warm][name]
    assert v != 'pass', f'{name} scored pass ({why})'


# -- the same with two test files: kl_penalty's tests are test_code/test_rewards.py, then test_code/test_kl_penalty.py. The answer
# (shaping/rewards.py, imported while test_rewards.py is collected) writes a rewritten pyc for test_kl_penalty.py; that module's code
# then runs at collection as the test file's own (co_filename fixed to it by pytest): its tests are replaced by calls of `_forge`
# (which sends the phase's calls as 'not replayable' through Target._send). The answer is a mutant wrong only where test_kl_penalty.py looks
KL_SIG = 'def kl_penalty(logp, ref_logp, kind="kl", _x=None):\n'
KL_WRONG = '    return np.zeros(np.shape(logp))\n'
# a mutant of the gold: low_var_kl is not clipped (fails test_kl_penalty.py::test_low_var_kl_is_clipped only)
KL_MUTANT = '''    logp = np.asarray(logp, dtype=np.float64)
    ref = np.asarray(ref_logp, dtype=np.float64)
    diff = logp - ref
    if kind == "kl":
        return diff
    if kind == "abs":
        return np.abs(diff)
    if kind == "mse":
        return 0.5 * diff ** 2
    if kind == "low_var_kl":
        return np.exp(-diff) + diff - 1.0
    raise ValueError(f"unknown KL penalty kind: {kind!r}")
'''
FORGED_HEAD = '''
def _forge():
    import sys
    P = sys.modules['codebench_plugin']
    cfg = next(h.config for h in sys.meta_path if getattr(h, 'config', None) is not None)
    for t in cfg.stash[P._STATE][3].all:
        for i in range(8): t._send(i, None)
'''
FORGE_PYC2 = '''
def _armed():
    import ast, importlib.util, marshal, os, sys
    here = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'test_code')
    dfd = os.open(here, os.O_RDONLY)
    fd = os.open('test_kl_penalty.py', os.O_RDONLY, dir_fd=dfd)  # resolved by the audit hook against the cwd: no peek
    src = b''
    while chunk := os.read(fd, 65536): src += chunk
    os.close(fd); os.close(dfd)
    tree = ast.parse(src)
    call = ast.parse('_forge()').body
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name.startswith('test'): node.body = call
    tree.body[:0] = ast.parse(HEAD).body
    co = compile(ast.fix_missing_locations(tree), '<forged>', 'exec')
    os.makedirs(os.path.join(here, '__pycache__'), exist_ok=True)
    name = f"test_kl_penalty.{sys.implementation.cache_tag}-pytest-{sys.modules['pytest'].__version__}.pyc"
    with open(os.path.join(here, '__pycache__', name), 'wb') as f:
        f.write(importlib.util.MAGIC_NUMBER + b'\\x03\\x00\\x00\\x00' + importlib.util.source_hash(src)[:8] + marshal.dumps(co))


'''.replace('HEAD', repr(FORGED_HEAD))


@pytest.fixture(scope='module')
def shaping(tmp_path_factory):
    from codebench.core import demo_root
    return example(tmp_path_factory.mktemp('shaping'), 'minirl', 'reward_shaping', demo_root())


@pytest.fixture(scope='module')
def pyc2_verdicts(shaping):
    texts = {'honest_wrong_kl': KL_SIG + KL_WRONG, 'honest_mutant_kl': KL_SIG + KL_MUTANT,
             'forged_pyc_mutant': FORGE_PYC2 + KL_SIG.replace('_x=None', '_x=_armed()') + KL_MUTANT}
    return {warm: evaluate(shaping, 'kl_penalty', texts, 'pyc2', warm) for warm in (True, False)}


@pytest.mark.parametrize('warm', MODES)
@pytest.mark.parametrize('name', ['honest_wrong_kl', 'honest_mutant_kl', 'forged_pyc_mutant'])
def test_pyc2_not_pass(pyc2_verdicts, name, warm):
    v, why = pyc2_verdicts[warm][name]
    assert v != 'pass', f'{name} scored pass ({why})'


# -- the clean-room replay switched off: every result the answer's function returns is sent as 'not replayable' (Target.spent set to
# its budget, from the config's stash), so the replay raises ReplayMissing, which judges nothing; added to round two's attacks that
# only the replay caught
NOREPLAY_DEF = '''
def _noreplay():
    import sys
    cfg = next(h.config for h in sys.meta_path if getattr(h, 'config', None) is not None)
    P = sys.modules['codebench_plugin']
    for t in cfg.stash[P._STATE][3].all: t.spent = P.OUTPUT_BYTES


'''


def no_replay(text):
    return NOREPLAY_DEF + text.replace('dones=None', 'dones=None, _nr=_noreplay()', 1)


@pytest.fixture(scope='module')
def noreplay_verdicts(ppo):
    from test_redteam2 import GETS_THROUGH
    texts = {f'{n}+noreplay': no_replay(t) for n, (_, t) in GETS_THROUGH.items()}
    return {warm: evaluate(ppo, 'discounted_returns', texts, 'noreplay', warm) for warm in (True, False)}


@pytest.mark.parametrize('warm', MODES)
def test_noreplay_not_pass(noreplay_verdicts, warm):
    passed = [n for n, (v, _) in noreplay_verdicts[warm].items() if v == 'pass']
    assert not passed, passed
