"""The notebooks' shape, as STYLE.md measures it: median exported cell length, cells over 60 lines, example cells per exported cell.

Usage: python tests/bench_cells.py [NB_DIR] [--long] [--json]   (prints numbers, asserts nothing)

Definitions (over the library notebooks `nbs/*.ipynb`, not `nbs/stages/`):
- an *exported cell* is a code cell with an `#| export` (or `exports`/`exporti`) directive;
- its *length* is its count of non-blank lines, directive lines left out;
- an *example cell* is any other code cell that runs (not `#| default_exp`, not `#| hide` set-up,
  not `#| eval: false`), that is, a cell `nbdev_test` executes to use what the chapter exported.
"""
import json
import re
import statistics
import sys
from pathlib import Path

DIRECTIVE = re.compile(r'^\s*#\s*\|\s*([\w-]+)(.*)$')
EXPORTS = {'export', 'exports', 'exporti'}


def directives(src):
    "The cell's `#| name args` directives as a dict."
    out = {}
    for line in src.splitlines():
        m = DIRECTIVE.match(line)
        if m: out[m.group(1)] = m.group(2).strip()
    return out


def cell_length(src):
    "Non-blank lines that are not directives."
    return sum(1 for l in src.splitlines() if l.strip() and not DIRECTIVE.match(l))


def cells(nb_path):
    "(kind, length, first line) per code cell of a notebook; kind is 'export', 'example' or 'other'."
    nb = json.loads(Path(nb_path).read_text())
    for i, c in enumerate(nb['cells']):
        if c['cell_type'] != 'code': continue
        src = ''.join(c['source'])
        if not src.strip(): continue
        d = directives(src)
        if EXPORTS & d.keys(): kind = 'export'
        elif 'default_exp' in d or 'hide' in d or d.get('eval') == 'false': kind = 'other'
        else: kind = 'example'
        first = next((l for l in src.splitlines() if l.strip() and not DIRECTIVE.match(l)), '')
        yield i, kind, cell_length(src), first.strip()[:70]


def measure(nb_dir='nbs', limit=60):
    "The numbers STYLE.md compares, over every `nb_dir/*.ipynb`."
    exported, examples, long_cells = [], 0, []
    for nb in sorted(Path(nb_dir).glob('*.ipynb')):
        for i, kind, n, first in cells(nb):
            if kind == 'export':
                exported.append(n)
                if n > limit: long_cells.append((nb.name, i, n, first))
            elif kind == 'example': examples += 1
    return dict(exported_cells=len(exported), median_exported_lines=statistics.median(exported) if exported else 0,
                max_exported_lines=max(exported, default=0), cells_over_60=len(long_cells),
                example_cells=examples, examples_per_exported=round(examples / max(len(exported), 1), 2),
                long_cells=sorted(long_cells, key=lambda r: -r[2]))


if __name__ == '__main__':
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    r = measure(args[0] if args else 'nbs')
    if '--json' in sys.argv: print(json.dumps(r, indent=1)); sys.exit()
    print(f"exported cells:                   {r['exported_cells']}")
    print(f"median exported cell (lines):     {r['median_exported_lines']}")
    print(f"largest exported cell (lines):    {r['max_exported_lines']}")
    print(f"exported cells over 60 lines:     {r['cells_over_60']}")
    print(f"example cells per exported cell:  {r['examples_per_exported']} ({r['example_cells']} examples)")
    if '--long' in sys.argv:
        for nb, i, n, first in r['long_cells']: print(f"  {nb}:{i}  {n} lines  {first}")
