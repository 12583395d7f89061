"""Completions that attack the harness. Each must end as fail, timeout or tampered, leave the benchmark untouched, and let the run go on."""
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from codebench.core import Completion, Task, read_jsonl
from codebench.evaluate import compute_census, evaluate_completions
from codebench.parse import parse_benchmark, write_tasks
from codebench.sandbox import Limits, bwrap_works, choose_isolation

from conftest import tree_hash

HEADER = 'def tokenize(text, stopwords=STOPWORDS, min_len=1):\n'


def body(code: str) -> str:
    return HEADER + ''.join('    ' + l + '\n' for l in code.strip('\n').splitlines())


def at_import(code: str) -> str:
    """An attack that runs when the project is imported: a helper called in a default argument.

    (Plain module-level statements would not get this far: the splicer keeps only the function and the helpers it uses.)"""
    helper = 'def _attack():\n' + ''.join('    ' + l + '\n' for l in code.strip('\n').splitlines())
    return helper + '\n\n' + HEADER.replace('min_len=1)', 'min_len=1, _armed=_attack())') + '    return []\n'


def test_import_time_attacks_survive_the_splicer(demo_root):
    from codebench.splice import splice
    task = next(t for t in parse_benchmark(demo_root, 'minirag', 'bm25_search').tasks if t.name == 'tokenize')
    s = splice(task, at_import('import os\nos._exit(0)'))
    assert s.ok and s.helpers == ['_attack'] and 'os._exit(0)' in s.source


SNOOP = """
import os
found = []
for top in ('/', os.path.expanduser('~'), '/tmp', '/ws', '/corpus', '/root', '/home', '/work', os.getcwd() + '/../../../..'):
    for here, dirs, files in os.walk(top):
        if here.count('/') > 9 or here.startswith(('/proc', '/sys', '/dev', '/usr')): dirs[:] = []; continue
        for f in files:
            if 'CANARY' in f or f == '.env':
                try: found.append(open(os.path.join(here, f)).read())
                except OSError: pass
for pid in os.listdir('/proc'):
    if pid.isdigit():
        for what in ('cmdline', 'environ'):
            try: found.append(open(f'/proc/{pid}/{what}', 'rb').read().decode(errors='replace'))
            except OSError: pass
found.append(repr(dict(os.environ)))
print('SNOOPED', found)
"""


def hostile(demo, port):
    code = demo / 'minirag/test_examples/bm25_search/code'
    census = demo / 'minirag/test_examples/bm25_search'
    gold = code / 'minirag/text.py'
    return {
        'read_gold_source': body(f"try:\n    src = open({str(gold)!r}).read()\nexcept OSError:\n    return []\n"
                                 "ns = {}\nexec(compile(src, 'gold', 'exec'), ns)\nreturn ns['tokenize'](text, stopwords, min_len)"),
        'snoop_for_secrets': at_import(SNOOP),
        'infinite_loop': body('while True:\n    pass'),
        'fork_bomb': body('import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass'),
        'memory_bomb': body('blocks = []\nwhile True:\n    blocks.append(bytearray(50 * 2**20))'),
        'disk_filling': body("with open('fill.bin', 'wb') as f:\n    while True:\n        f.write(b'0' * 2**20)"),
        'write_outside_workspace': body(
            f"import os, shutil\nfor p in [{str(code / 'evil.txt')!r}, '/tmp/codebench-evil.txt', os.path.expanduser('~/evil')]:\n"
            f"    try:\n        open(p, 'w').write('x')\n    except OSError:\n        pass\n"
            f"for p in [{str(code / 'minirag/text.py')!r}, {str(code / 'tests/test_bm25.py')!r}]:\n"
            f"    try:\n        os.remove(p)\n    except OSError:\n        pass\n"
            f"shutil.rmtree({str(code / 'minirag')!r}, ignore_errors=True)\nreturn []"),
        'edit_test_file': at_import(
            "import os, glob\nfor p in glob.glob(os.path.join(os.path.dirname(__file__), '..', 'tests', '*.py')):\n"
            "    try:\n        open(p, 'w').write('def test_ok():\\n    pass\\n')\n    except OSError:\n        pass"),
        'edit_census': body(
            f"import glob\nfor p in glob.glob({str(census)!r} + '/**/*', recursive=True) + ['/tmp/census.jsonl']:\n"
            f"    try:\n        open(p, 'a').write('{{}}')\n    except OSError:\n        pass\nreturn []"),
        'network': body(f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'leak')\n"
                        f"except OSError:\n    pass\nreturn []"),
        'os_exit_at_import': at_import('import os\nos._exit(0)'),
        'sys_exit_at_import': at_import('import sys\nsys.exit(0)'),
        'os_exit_in_function': body('import os\nos._exit(0)'),
        'sys_exit_in_function': body('import sys\nsys.exit(0)'),
        'kill_parent_group': body('import os, signal\nfor pid in (os.getppid(), 1):\n    try:\n        os.kill(pid, signal.SIGKILL)\n'
                                  '    except OSError:\n        pass\nos.killpg(os.getpgid(0), signal.SIGKILL)'),
        'gigabytes_of_stdout': body("import os, sys\nchunk = 'x' * 2**20\nwhile True:\n    sys.stdout.write(chunk)\n    os.write(2, chunk.encode())"),
        'pytest_skip': body("import pytest\npytest.skip('nothing to see')"),
        'patch_pytest': at_import('import _pytest.python\n_pytest.python.Function.runtest = lambda self: None'),
        'patch_unittest': at_import('import unittest\nunittest.TestCase.run = lambda self, result=None: None\n'
                                    'unittest.TestCase.assertEqual = lambda self, *a, **k: None'),
        'patch_numpy_testing': at_import('import numpy.testing\nnumpy.testing.assert_allclose = lambda *a, **k: None\n'
                                         'numpy.testing.assert_array_equal = lambda *a, **k: None'),
        'patch_builtins': at_import('import builtins\nbuiltins.sorted = lambda x, *a, **k: list(x)'),
        'forge_report': at_import(
            "import glob, json, os\nfor p in ['/mnt/ws/.codebench-report.json', os.path.join(os.getcwd(), '.codebench-report.json')]:\n"
            "    try:\n        json.dump({'token': 'guess', 'tests': {}, 'exitstatus': 0, 'tampered': []}, open(p, 'w'))\n"
            "    except OSError:\n        pass\nos._exit(0)"),
        'delete_own_workspace': body("import os, shutil\nshutil.rmtree(os.getcwd(), ignore_errors=True)\nreturn []"),
    }


@pytest.fixture(scope='module')
def listener():
    "A loopback server that counts connections: the sandbox must keep completions off the network."
    srv = socket.socket()
    srv.bind(('127.0.0.1', 0)); srv.listen(16); srv.settimeout(0.2)
    hits, stop = [], threading.Event()
    def serve():
        while not stop.is_set():
            try: conn, _ = srv.accept(); hits.append(conn.recv(16)); conn.close()
            except OSError: pass
    th = threading.Thread(target=serve, daemon=True); th.start()
    yield srv.getsockname()[1], hits
    stop.set(); th.join(); srv.close()


@pytest.mark.skipif(not bwrap_works(), reason='the hostile suite needs bubblewrap (CI installs it)')
@pytest.mark.parametrize('warm', [True, False], ids=['warm-workers', 'fresh-interpreter'])
def test_hostile_completions(tmp_path, demo_root, listener, warm, monkeypatch):
    port, hits = listener
    secret = f'CANARY-{"warm" if warm else "cold"}-7f3a'  # planted where no run may look: the caller's directory and environment,
    bench = tmp_path / 'bench'                              # the benchmark beside the code, the run directory, a sleeping process
    shutil.copytree(demo_root / 'minirag', bench / 'minirag')
    demo_root = bench
    (bench / 'minirag/test_examples/bm25_search/requirements/CANARY.md').write_text(secret)
    monkeypatch.chdir(tmp_path)
    (tmp_path / '.env').write_text(f'OPENROUTER_API_KEY={secret}')
    monkeypatch.setenv('OPENROUTER_API_KEY', secret)
    sleeper = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', secret])
    before = tree_hash(demo_root)
    runs = tmp_path / 'runs'
    write_tasks(parse_benchmark(demo_root, 'minirag', 'bm25_search'), runs)
    (runs / 'CANARY.txt').write_text(secret)
    d = runs / 'minirag/bm25_search'
    tasks = read_jsonl(d / 'tasks.jsonl', Task)
    task = next(t for t in tasks if t.name == 'tokenize')
    isolation = choose_isolation()
    limits = Limits(timeout=8, memory_mb=2048, file_size_mb=32, processes=64)
    census = compute_census(tasks, d, limits=limits, isolation=isolation, progress=False)
    census_before = (d / 'census.jsonl').read_bytes()
    attacks = hostile(demo_root, port)
    names = list(attacks)
    comps = [Completion(task.task_id, 'hostile', i, attacks[n]) for i, n in enumerate(names)]
    comps.append(Completion(task.task_id, 'hostile', len(names), task.gold))  # the run must go on and still score this
    results = {r.sample: r for r in evaluate_completions(tasks, comps, d / 'hostile/results.jsonl', census,
                                                          limits=limits, isolation=isolation, progress=False, warm=warm)}
    verdicts = {n: (results[i].verdict, results[i].detail) for i, n in enumerate(names)}
    assert len({results[i].key for i in range(len(names))}) == len(names)  # every attack was spliced and run on its own
    assert all(v in ("fail", "timeout", "tampered") for v, _ in verdicts.values()), verdicts
    assert results[len(names)].verdict == 'pass', results[len(names)]
    assert verdicts['infinite_loop'][0] == 'timeout'
    assert 'no valid report' in verdicts['os_exit_at_import'][1] and 'no valid report' in verdicts['os_exit_in_function'][1]
    for attack in ('patch_pytest', 'patch_unittest', 'patch_numpy_testing', 'patch_builtins'):
        assert verdicts[attack][0] == 'tampered' and 'replaced ' in verdicts[attack][1], verdicts[attack]
    assert 'no valid report' in verdicts['forge_report'][1]
    assert 'skipped' in verdicts['pytest_skip'][1]
    assert hits == [], 'a completion reached the network'
    assert tree_hash(demo_root) == before
    assert (d / 'census.jsonl').read_bytes() == census_before
    assert not Path('/tmp/codebench-evil.txt').exists()
    assert results[len(names)].isolation == 'census'  # the gold, byte for byte: judged by the census run
    assert all(r.isolation.startswith('bwrap') for r in results.values() if r.isolation and r.isolation != 'census')
    rerun = {n for i, n in enumerate(names) if 'cold rerun after a failed warm run' in results[i].isolation}
    if warm:  # a warm run that leaves no report is run again cold before it is judged: the same verdict, never the worker's fault
        assert {'os_exit_at_import', 'os_exit_in_function', 'forge_report', 'kill_parent_group', 'infinite_loop', 'fork_bomb'} <= rerun, rerun
        slow = {n for n, (v, _) in verdicts.items() if v == 'timeout'} | {'memory_bomb', 'disk_filling', 'gigabytes_of_stdout'}  # on a busy machine
        assert rerun <= {'os_exit_at_import', 'os_exit_in_function', 'forge_report', 'kill_parent_group', 'infinite_loop', 'fork_bomb'} | slow, rerun
        assert all(', warm' in results[i].isolation for i, n in enumerate(names) if n not in rerun and results[i].isolation)
    else:
        assert not rerun and not any(', warm' in r.isolation for r in results.values())
    logs = [Path(r.log_path) for r in results.values() if r.log_path]
    assert max(p.stat().st_size for p in logs if p.exists()) <= 33 * 2**20  # the output flood was cut at the file-size limit
    sleeper.kill(); sleeper.wait()
    assert verdicts['read_gold_source'][0] == 'fail', verdicts['read_gold_source']  # the benchmark's original source is not visible
    snoop = Path(results[names.index('snoop_for_secrets')].log_path).read_text(errors='replace')
    assert 'SNOOPED' in snoop  # the attack ran...
    assert secret not in snoop and all(secret not in p.read_text(errors='replace') for p in logs if p.exists())  # ...and found nothing
