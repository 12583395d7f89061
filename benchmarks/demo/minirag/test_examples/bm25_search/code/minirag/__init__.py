"""minirag: sparse and dense retrieval with numpy only."""
from .bm25 import BM25Index
from .fusion import reciprocal_rank_fusion, top_k_cosine
from .text import tokenize
