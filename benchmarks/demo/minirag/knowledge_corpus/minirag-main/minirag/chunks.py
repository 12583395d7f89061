"""Chunking of token sequences and text pieces."""


def sliding_window_chunks(tokens, size=128, overlap=32):
    """Overlapping windows of `size` tokens; consecutive windows share `overlap` tokens."""
    if size <= 0:
        raise ValueError("size must be positive")
    if not 0 <= overlap < size:
        raise ValueError("overlap must be in [0, size)")
    if not tokens:
        return []
    stride = size - overlap
    return [list(tokens[start:start + size]) for start in range(0, max(len(tokens) - overlap, 1), stride)]


class Chunker:
    """Cleans up text pieces before they are indexed."""

    def __init__(self, min_chars=20, max_chars=200):
        self.min_chars = min_chars
        self.max_chars = max_chars

    def merge_small(self, pieces):
        """Strip pieces, drop empty ones, and glue short pieces to their predecessor."""
        merged = []
        for piece in pieces:
            piece = piece.strip()
            if not piece:
                continue
            short = merged and (len(merged[-1]) < self.min_chars or len(piece) < self.min_chars)
            if short and len(merged[-1]) + 1 + len(piece) <= self.max_chars:
                merged[-1] = merged[-1] + " " + piece
            else:
                merged.append(piece)
        return merged
