"""Combining rankings and dense similarity search."""
import numpy as np


def reciprocal_rank_fusion(rankings, k=60, top_n=None):
    """Fuse several ranked lists of ids into one list of (id, score), best first."""
    scores = {}
    for ranking in rankings:
        for rank, doc_id in enumerate(ranking, start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + 1.0 / (k + rank)
    fused = sorted(scores.items(), key=lambda kv: (-kv[1], str(kv[0])))
    return fused[:top_n] if top_n is not None else fused


def top_k_cosine(query_vec, matrix, k=5):
    """Rows of `matrix` most cosine-similar to `query_vec`: (indices, similarities)."""
    q = np.asarray(query_vec, dtype=np.float64)
    m = np.asarray(matrix, dtype=np.float64)
    norms = np.linalg.norm(m, axis=1) * np.linalg.norm(q)
    sims = np.divide(m @ q, norms, out=np.zeros(len(m)), where=norms > 0)
    k = min(k, len(m))
    idx = np.argsort(-sims, kind="stable")[:k]
    return idx.tolist(), sims[idx].tolist()
