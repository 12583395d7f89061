"""Labelled real model answers: the fixture format, its check, and a small tool to add and label answers.

    python tests/real_outputs.py import COMPLETIONS.jsonl --benchmark demo|koco-en|koco-ch --out tests/fixtures/real_outputs/NAME.jsonl
    python tests/real_outputs.py show tests/fixtures/real_outputs/NAME.jsonl [--only unlabelled|mismatch|all] [--at N ...]
    python tests/real_outputs.py accept tests/fixtures/real_outputs/NAME.jsonl N [N ...] --why "what a careful reader sees"

`import` copies raw answers (codebench's completions.jsonl, or any JSONL with task_id, sample, text, finish_reason,
model) with what extraction needs of their task (name, kind, span, the names its source file defines), so the
extraction test runs without the benchmark. `show` prints each answer with line numbers beside the current
extraction and its label. `accept` writes the current extraction as the label of the answers you have read and
agree with; edit `expect` by hand where you do not. The format is in tests/fixtures/real_outputs/README.md.
"""
import argparse
import json
import os
import sys
from pathlib import Path

FIXTURES = Path(__file__).parent / 'fixtures' / 'real_outputs'
BENCHMARKS = {'koco-en': 'KOCO-bench-en/domain_code_generation', 'koco-ch': 'KOCO-bench-ch/domain_code_generation'}


def benchmark_root(name: str):
    "The benchmark folder of a fixture's `benchmark`, or None when it is not here (KOCO without KOCO_ROOT)."
    if name == 'demo':
        from codebench.core import demo_root
        return demo_root()
    if name in BENCHMARKS:
        return Path(os.environ['KOCO_ROOT']) / BENCHMARKS[name] if os.environ.get('KOCO_ROOT') else None
    return Path(name)


def load(path) -> list:
    return [json.loads(l) for l in Path(path).read_text(encoding='utf-8').splitlines() if l.strip()]


def save(path, records: list):
    Path(path).write_text(''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in records), encoding='utf-8')


def fixture_files() -> list:
    return sorted(FIXTURES.glob('*.jsonl'))


def task_of(record: dict):
    "A `Task` with what extraction needs (no source file: pair it with `context_of`)."
    from codebench.core import Task
    t = record['task']
    return Task(record['task_id'], *record['task_id'].split('/')[:2], t['name'], t['kind'], t['source_path'], t['span'], t['span'],
                '', [], qualname=t['qualname'])


def context_of(record: dict):
    from codebench.splice import Context
    return Context(set(record['context']['names']), set(record['context']['methods']))


def read_record(record: dict):
    "The current extraction of a record's answer, from the stored context."
    from codebench.splice import extract
    return extract(task_of(record), record['text'], record['finish_reason'], context_of(record))


def outcome(s) -> dict:
    "What a label compares: verdict, chosen definition's line, helpers, methods."
    out = {'verdict': s.verdict or 'spliced'}
    if s.ok: out.update(line=s.line, helpers=s.helpers, methods=s.methods)
    return out


def mismatches(expect: dict, s) -> list:
    "What in the extraction `s` differs from the label `expect` (empty: it matches)."
    got, bad = outcome(s), []
    for k in ('verdict', 'line', 'helpers', 'methods'):
        if k in expect and expect[k] != got.get(k):
            bad.append(f"{k}: expected {expect[k]!r}, got {got.get(k)!r}")
    for sub in expect.get('contains', []):
        if sub not in s.code: bad.append(f"code lacks {sub!r}")
    for sub in expect.get('absent', []):
        if sub in s.code: bad.append(f"code has {sub!r}")
    if 'detail' in expect and expect['detail'] not in s.detail: bad.append(f"detail lacks {expect['detail']!r}: {s.detail!r}")
    return bad


def _import(args):
    from codebench.parse import parse_benchmark
    from codebench.splice import source_context
    root = benchmark_root(args.benchmark)
    if root is None: sys.exit(f"{args.benchmark} needs KOCO_ROOT")
    tasks = {t.task_id: t for t in parse_benchmark(root).tasks}
    out = Path(args.out)
    have = load(out) if out.exists() else []
    seen = {(r['task_id'], r['sample'], r['model']) for r in have}
    added = 0
    for r in load(args.completions):
        key = (r['task_id'], r['sample'], r.get('model', ''))
        if key in seen: continue
        t = tasks.get(r['task_id'])
        if t is None: sys.exit(f"{args.completions}: task {r['task_id']} is not in {root}")
        ctx = source_context(t, Path(t.example_dir, t.source_path).read_text(encoding='utf-8'))
        have.append(dict(task_id=r['task_id'], sample=r['sample'], model=r.get('model', ''), finish_reason=r.get('finish_reason', ''),
                         text=r['text'], benchmark=args.benchmark,
                         task=dict(name=t.name, qualname=t.qualname, kind=t.kind, source_path=t.source_path, span=t.span),
                         context=dict(names=sorted(ctx.names), methods=sorted(ctx.methods)), expect=None, why=''))
        seen.add(key); added += 1
    save(out, have)
    print(f"{out}: {added} answers added, {len(have)} in all, {sum(r['expect'] is None for r in have)} unlabelled")


def _show(args):
    recs = load(args.fixture)
    for i, r in enumerate(recs):
        if args.at and i not in args.at: continue
        s = read_record(r)
        bad = mismatches(r['expect'], s) if r['expect'] else None
        if args.only == 'unlabelled' and r['expect'] is not None: continue
        if args.only == 'mismatch' and not bad: continue
        print('=' * 100)
        print(f"[{i}] {r['task_id']} #{r['sample']} ({r['task']['kind']} {r['task']['qualname']}) finish={r['finish_reason']}")
        lines = r['text'].split('\n')
        for n, l in enumerate(lines, 1):
            if len(lines) > args.max_lines and args.max_lines // 2 < n <= len(lines) - args.max_lines // 2:
                if n == args.max_lines // 2 + 1: print(f"     ... {len(lines) - args.max_lines} lines ...")
                continue
            print(f"{n:4}| {l[:160]}")
        print(f"-- now: {json.dumps(outcome(s))} {s.detail}")
        if r['expect'] is not None: print(f"-- label: {json.dumps(r['expect'])} ({r['why']}) {'MISMATCH: ' + '; '.join(bad) if bad else 'ok'}")


def _accept(args):
    recs = load(args.fixture)
    for i in args.at:
        s = read_record(recs[i])
        recs[i]['expect'] = outcome(s) | ({'detail': args.detail} if args.detail else {})
        recs[i]['why'] = args.why
    save(args.fixture, recs)
    print(f"labelled {len(args.at)}; {sum(r['expect'] is None for r in recs)} unlabelled left")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='cmd', required=True)
    a = sub.add_parser('import', help='copy raw answers in, with what extraction needs of their tasks')
    a.add_argument('completions'); a.add_argument('--benchmark', required=True, help='demo, koco-en, koco-ch or a folder')
    a.add_argument('--out', required=True)
    s = sub.add_parser('show', help='answers with line numbers, the current extraction and the label')
    s.add_argument('fixture'); s.add_argument('--only', choices=['unlabelled', 'mismatch', 'all'], default='all')
    s.add_argument('--at', type=int, nargs='*', default=[]); s.add_argument('--max-lines', type=int, default=80)
    c = sub.add_parser('accept', help='label answers with their current extraction (after reading them)')
    c.add_argument('fixture'); c.add_argument('at', type=int, nargs='+'); c.add_argument('--why', required=True)
    c.add_argument('--detail', default='', help='a part of the detail the label requires, e.g. "cut at the token limit"')
    args = p.parse_args()
    {'import': _import, 'show': _show, 'accept': _accept}[args.cmd](args)


if __name__ == '__main__':
    main()
