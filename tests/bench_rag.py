"""Retrieval speed on the real knowledge corpora: index build time and query latency per framework, bm25s against rank_bm25.

    KOCO_ROOT=/path/to/KOCO-bench python tests/bench_rag.py
"""
import os
import statistics
import sys
import time
from pathlib import Path

from codebench.parse import parse_benchmark
from codebench.rag import CorpusIndex, task_query, tokens


def main():
    root = Path(os.environ.get('KOCO_ROOT') or sys.exit('set KOCO_ROOT')) / 'KOCO-bench-en/domain_code_generation'
    tasks = parse_benchmark(root).tasks
    print(f"{'framework':26} {'chunks':>7} {'kept out':>8} {'build s':>8} {'bm25s ms/query':>15} {'rank_bm25 ms/query':>19}")
    for fw in sorted({t.framework for t in tasks}):
        t0 = time.perf_counter(); idx = CorpusIndex.build(root / fw); build = time.perf_counter() - t0
        queries = [task_query(t) for t in tasks if t.framework == fw]
        lat = []
        for q in queries * 5:
            t0 = time.perf_counter(); idx.search(q, 5); lat.append(time.perf_counter() - t0)
        try:
            from rank_bm25 import BM25Okapi
            rb = BM25Okapi([tokens(f"{c.path} {c.name} {c.text}") for c in idx.chunks])
            rl = []
            for q in queries:
                t0 = time.perf_counter(); rb.get_top_n(tokens(q), idx.chunks, n=5); rl.append(time.perf_counter() - t0)
            rank = f"{1000 * statistics.median(rl):19.2f}"
        except ImportError: rank = f"{'(not installed)':>19}"
        print(f"{fw:26} {len(idx.chunks):7d} {len(idx.excluded):8d} {build:8.2f} {1000 * statistics.median(lat):15.2f} {rank}")


if __name__ == '__main__':
    main()
