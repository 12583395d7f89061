"""Okapi BM25."""
import math
from collections import Counter

import numpy as np

from .text import tokenize


class BM25Index:
    """An in-memory BM25 index over a list of documents."""

    def __init__(self, docs, k1=1.5, b=0.75):
        self.k1 = k1
        self.b = b
        self.docs = [tokenize(d) for d in docs]
        self.n_docs = len(self.docs)
        self.doc_len = np.array([len(d) for d in self.docs], dtype=np.float64)
        self.avgdl = float(self.doc_len.mean()) if self.n_docs else 0.0
        self.tf = [Counter(d) for d in self.docs]
        self.df = Counter(t for d in self.docs for t in set(d))

    def idf(self, term):
        """Smoothed inverse document frequency (never negative)."""
        n = self.df.get(term, 0)
        return math.log(1.0 + (self.n_docs - n + 0.5) / (n + 0.5))

    def score(self, query):
        """BM25 score of every document for `query`, as an array in document order."""
        scores = np.zeros(self.n_docs)
        for term in tokenize(query):
            if term not in self.df:
                continue
            idf = self.idf(term)
            for i, tf in enumerate(self.tf):
                f = tf.get(term, 0)
                if f == 0:
                    continue
                norm = self.k1 * (1.0 - self.b + self.b * self.doc_len[i] / self.avgdl)
                scores[i] += idf * f * (self.k1 + 1.0) / (f + norm)
        return scores

    def search(self, query, k=3):
        """Indices of the `k` best documents for `query`."""
        return np.argsort(-self.score(query), kind="stable")[:k].tolist()
