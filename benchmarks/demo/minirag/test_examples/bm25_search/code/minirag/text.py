"""Text normalisation."""
import re

TOKEN_RE = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset({"a", "an", "and", "in", "is", "of", "on", "the", "to"})


def tokenize(text, stopwords=STOPWORDS, min_len=1):
    """Lower-case word tokens of `text`, without stopwords and tokens shorter than `min_len`."""
    tokens = TOKEN_RE.findall(text.lower())
    return [t for t in tokens if len(t) >= min_len and t not in stopwords]
