"""Generation throughput of the real small model (a benchmark script, not a test): tokens/s of `hf:` (transformers),
in-process `vllm:` and the vLLM server (`codebench serve`) on the same model, the same prompts and the same sampling.

    python tests/bench_generate.py [--n 2] [--max-tokens 128] [--prompts 15] [--vllm-python .venv-vllm/bin/python]

The model is SmolLM2-135M-Instruct from `codebench models add smollm2` (added here if missing); the prompts are the
embedded demo's. The vLLM parts run in vLLM's own environment (`make vllm-env`) and are skipped, with a message, when it
is absent. Tokens/s counts completion tokens over the time the backend spent generating (loading is shown apart);
tokens per CPU-second divides them by the CPU time the generating processes used (vLLM's child processes
included), which moves less with the machine's load. On a shared machine wall-clock numbers move with the
load, which is printed beside them (the mean of the load average before and after).
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def requests_for(runs):
    "The Requests `generate` would make for every prompt of the run directory (all samples missing)."
    from codebench.backend import Request
    from codebench.core import Prompt, Task, read_jsonl, run_examples
    reqs = []
    for _, _, d in run_examples(runs):
        tasks = {t.task_id: t for t in read_jsonl(d / 'tasks.jsonl', Task)}
        reqs += [Request(p, tasks[p.task_id], []) for p in read_jsonl(d / 'prompts.jsonl', Prompt)]
    return reqs


def cpu_seconds(pid):
    "User + system CPU seconds of a process and its live descendants (vLLM generates in child processes)."
    import psutil
    root = psutil.Process(pid)
    total = 0.0
    for p in [root, *root.children(recursive=True)]:
        try: t = p.cpu_times(); total += t.user + t.system
        except psutil.Error: pass
    return total


def measure(spec, runs, n, max_tokens, limit, pid=None, **backend_args):
    "Load the backend, generate every sample once; return the figures as a dict."
    from codebench.backend import Sampling, make_backend
    reqs = requests_for(runs)[:limit]
    for r in reqs: r.samples = list(range(n))
    t0 = time.perf_counter()
    backend = make_backend(spec, **backend_args)
    load = time.perf_counter() - t0
    pid = pid or os.getpid()
    t0, c0, l0 = time.perf_counter(), cpu_seconds(pid), os.getloadavg()[0]
    comps = list(backend.generate(reqs, Sampling(n=n, temperature=0.7, top_p=0.9, max_tokens=max_tokens)))
    wall, cpu = time.perf_counter() - t0, cpu_seconds(pid) - c0
    tokens = sum(c.usage['completion_tokens'] for c in comps)
    return dict(spec=spec, completions=len(comps), tokens=tokens, load_s=round(load, 1), generate_s=round(wall, 1),
                tokens_per_s=round(tokens / wall, 1), cpu_s=round(cpu, 1), tokens_per_cpu_s=round(tokens / max(cpu, 1e-9), 1),
                threads=_threads(), load_avg=round((l0 + os.getloadavg()[0]) / 2, 1))


def _threads():
    try:
        import torch
        return torch.get_num_threads()
    except ImportError: return None


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--n', type=int, default=2, help='samples per prompt')
    ap.add_argument('--max-tokens', type=int, default=128)
    ap.add_argument('--prompts', type=int, default=15, help='how many demo prompts (15: all)')
    ap.add_argument('--vllm-python', default=os.environ.get('VLLM_PYTHON', str(ROOT / '.venv-vllm/bin/python')))
    ap.add_argument('--only', choices=['hf', 'vllm', 'server'], action='append', help='run only these parts')
    ap.add_argument('--inprocess', metavar='RUNS', help=argparse.SUPPRESS)  # internal: in-process vLLM, run under the vLLM interpreter
    args = ap.parse_args()
    if args.inprocess:
        row = measure('vllm:smollm2', args.inprocess, args.n, args.max_tokens, args.prompts, dtype='float32', max_model_len=4096)
        (Path(args.inprocess) / 'vllm-inprocess.json').write_text(json.dumps(row))  # vLLM writes its logs to stdout
        return
    from codebench.models import FetchError, add_model
    from codebench.parse import parse_benchmark, write_tasks
    from codebench.prompts import write_prompts
    try: info = add_model('smollm2')
    except FetchError as e:
        print(f"skipped: the real model is not available: {e}"); return
    runs = Path(tempfile.mkdtemp()) / 'runs'
    write_tasks(parse_benchmark(), runs); write_prompts(runs)
    parts, rows = args.only or ['hf', 'vllm', 'server'], []
    vpy = Path(args.vllm_python)
    print(f"SmolLM2-135M-Instruct ({info['path']}), {min(args.prompts, 15)} demo prompts x {args.n} samples, "
          f"max_tokens {args.max_tokens}, temperature 0.7, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}", flush=True)
    if 'hf' in parts:
        rows.append(measure('hf:smollm2', runs, args.n, args.max_tokens, args.prompts)); print(rows[-1], flush=True)
    if not vpy.exists():
        print(f"skipped vLLM (in-process and server): no vLLM environment at {vpy} (make vllm-env)")
    else:
        if 'vllm' in parts:
            r = subprocess.run([str(vpy), __file__, '--inprocess', str(runs), '--n', str(args.n), '--max-tokens', str(args.max_tokens),
                                '--prompts', str(args.prompts)], capture_output=True, text=True, timeout=3600)
            if r.returncode: print(f"in-process vLLM failed:\n{r.stderr[-3000:]}")
            else: rows.append(json.loads((runs / 'vllm-inprocess.json').read_text())); print(rows[-1], flush=True)
        if 'server' in parts:
            from codebench.serving import serve_start, serve_stop
            port, state = free_port(), Path(tempfile.mkdtemp())
            t0 = time.perf_counter()
            srv = serve_start('smollm2', port=port, python=str(vpy), dtype='float32', max_model_len=4096, state_dir=state, timeout=900)
            started = time.perf_counter() - t0
            try:
                row = measure(srv.spec(), runs, args.n, args.max_tokens, args.prompts, pid=srv.pid, concurrency=64)
                row.update(spec='codebench serve (vLLM server)', load_s=round(started, 1), threads=None); rows.append(row); print(row, flush=True)
            finally: serve_stop(port, state)
    if rows:
        import pandas as pd
        print('\n' + pd.DataFrame(rows).to_string(index=False))
        best = {r['spec']: r['tokens_per_s'] for r in rows}
        srv_tps, hf_tps = best.get('codebench serve (vLLM server)'), best.get('hf:smollm2')
        if srv_tps and hf_tps: print(f"\nhf: reaches {hf_tps / srv_tps:.2f}x the vLLM server's tokens/s (target: at least 0.5x)")
        cpu = {r['spec']: r['tokens_per_cpu_s'] for r in rows}
        if cpu.get('hf:smollm2') and cpu.get('codebench serve (vLLM server)'):
            print(f"per CPU-second: hf: {cpu['hf:smollm2'] / cpu['codebench serve (vLLM server)']:.2f}x the vLLM server")


if __name__ == '__main__':
    main()
