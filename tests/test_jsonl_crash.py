"""kill -9 in the middle of appending loses nothing and duplicates nothing."""
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

from codebench.core import append_jsonl, done_keys, read_jsonl

WRITER = textwrap.dedent('''
    import sys
    from codebench.core import append_jsonl, done_keys
    path, n = sys.argv[1], int(sys.argv[2])
    done = done_keys(path)
    for i in range(n):
        if ('t', i) in done: continue
        append_jsonl(path, [{'task_id': 't', 'sample': i, 'text': 'x' * 20000}])
        print(i, flush=True)
''')


def test_kill_and_resume(tmp_path):
    path, n = tmp_path / 'completions.jsonl', 300
    proc = subprocess.Popen([sys.executable, '-c', WRITER, str(path), str(n)], stdout=subprocess.PIPE, text=True)
    for _ in range(40): proc.stdout.readline()  # let it write a while
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # a torn line may or may not have happened
        first = len(read_jsonl(path))
        assert 40 <= first < n
        subprocess.run([sys.executable, '-c', WRITER, str(path), str(n)], check=True, capture_output=True)
        recs = read_jsonl(path)
    assert sorted(r['sample'] for r in recs) == list(range(n))  # every record once
    assert all(len(r['text']) == 20000 for r in recs)


def test_torn_tail_is_set_aside_not_lost(tmp_path):
    path = tmp_path / 'r.jsonl'
    append_jsonl(path, [{'task_id': 't', 'sample': 0}])
    with open(path, 'a') as f: f.write('{"task_id": "t", "sam')
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        assert done_keys(path) == {('t', 0)}
        append_jsonl(path, [{'task_id': 't', 'sample': 1}])
    assert any('r.jsonl:2: torn last line' in str(x.message) for x in w)
    assert [r['sample'] for r in read_jsonl(path)] == [0, 1]
    assert (tmp_path / 'r.jsonl.torn').read_text() == '{"task_id": "t", "sam\n'
