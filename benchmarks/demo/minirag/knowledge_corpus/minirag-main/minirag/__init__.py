"""minirag: retrieval-augmented generation building blocks in numpy."""
from .bm25 import BM25Index
from .chunks import Chunker, sliding_window_chunks
from .fusion import reciprocal_rank_fusion, top_k_cosine
from .prompt import render_context
from .text import STOPWORDS, tokenize

__version__ = "0.1.0"
