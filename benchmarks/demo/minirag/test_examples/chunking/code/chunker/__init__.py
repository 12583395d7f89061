"""chunker: split documents for retrieval and render retrieved context."""
from .chunks import Chunker, sliding_window_chunks
from .prompt import render_context
