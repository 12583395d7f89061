"""How fast the CLI answers: `codebench --help` and every `codebench CMD --help`, median of a few runs (prints, asserts nothing)."""
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def seconds(args, repeat=5):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([str(BIN / 'codebench'), *args], capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


if __name__ == '__main__':
    from codebench.cli import COMMANDS
    base = statistics.median([(lambda t0: (subprocess.run([sys.executable, '-c', 'pass']), time.perf_counter() - t0)[1])(time.perf_counter())
                              for _ in range(5)])
    print(f"python -c pass: {base:.2f} s (the interpreter's own start)")
    rows = [('--help', seconds(['--help']))] + [(f'{c} --help', seconds([c, '--help'], 3)) for c in COMMANDS]
    for name, s in rows: print(f"codebench {name:<18} {s:.2f} s")
    print(f"slowest: {max(s for _, s in rows):.2f} s")
