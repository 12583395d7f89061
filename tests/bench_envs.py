"""Time `codebench env build` for the five KOCO-bench frameworks and measure their size on disk.

    python tests/bench_envs.py [--home DIR] [--cold] [--installer uv|pip] [--benchmark ROOT]

--home defaults to a fresh temporary folder (the shared `~/.cache/codebench/envs` is not touched unless named);
--cold gives uv an empty cache of its own beside the environments, as on a new machine. Prints the wall time per
framework (and per environment, build and import check apart), the total, the machine's load before and after, and
`du` of the environments, of uv's cache, and of both together (hard links are counted once there: the real disk use).
Needs the network or the machine's package sources; takes tens of minutes.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FRAMEWORKS = ('verl', 'smolagents', 'raganything', 'open-r1', 'tensorrt_model_optimizer')
BIN = Path(sys.executable).parent


def du(*paths) -> str:
    r = subprocess.run(['du', '-sch', *map(str, paths)], capture_output=True, text=True)
    return r.stdout.strip().splitlines()[-1].split()[0] if r.returncode == 0 else '?'


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--home', help='where to build (default: a new temporary folder)')
    ap.add_argument('--cold', action='store_true', help="an empty uv cache of its own (default: uv's own cache)")
    ap.add_argument('--installer', default='auto', choices=['auto', 'uv', 'pip'])
    ap.add_argument('--benchmark', default=None, help='benchmark root for the import check (default: $KOCO_ROOT/KOCO-bench-en/...)')
    a = ap.parse_args()
    home = Path(a.home or tempfile.mkdtemp(prefix='codebench-envs-'))
    env = {**os.environ, 'CODEBENCH_ENVS': str(home)}
    if a.cold: env['UV_CACHE_DIR'] = str(home / '.uv-cache')
    bench = a.benchmark or (os.environ.get('KOCO_ROOT') and f"{os.environ['KOCO_ROOT']}/KOCO-bench-en/domain_code_generation")
    print(f"building into {home}; load before: {os.getloadavg()}", flush=True)
    t0 = time.perf_counter()
    for fw in FRAMEWORKS:
        t = time.perf_counter()
        r = subprocess.run([str(BIN / 'codebench'), 'env', 'build', fw, '--installer', a.installer, *(['--benchmark', bench] if bench else [])],
                           env=env, capture_output=True, text=True)
        print(f"{fw}: {time.perf_counter() - t:.0f} s (exit {r.returncode})\n{r.stdout.strip()}", flush=True)
        if r.returncode: print(r.stderr[-3000:], file=sys.stderr); sys.exit(1)
    total = time.perf_counter() - t0
    from codebench.envs import built_envs
    for b in built_envs(home):
        print(f"  {b.name}: build {b.seconds:.0f} s with {b.installer}, import check {b.imports.get('seconds', 0):.0f} s")
    cache = env.get('UV_CACHE_DIR') or subprocess.run([str(BIN / 'uv'), 'cache', 'dir'], capture_output=True, text=True).stdout.strip()
    print(f"TOTAL {total:.0f} s ({total / 60:.1f} min); load after: {os.getloadavg()}")
    print(f"du environments {du(home)}, uv cache {du(cache)}, both {du(home, cache)}")


if __name__ == '__main__':
    main()
