import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from chunker.chunks import Chunker, sliding_window_chunks
from chunker.prompt import render_context


def test_windows_overlap_and_cover_everything():
    chunks = sliding_window_chunks(list(range(10)), size=4, overlap=2)
    assert chunks == [[0, 1, 2, 3], [2, 3, 4, 5], [4, 5, 6, 7], [6, 7, 8, 9]]


def test_short_input_is_one_window_and_empty_is_none():
    assert sliding_window_chunks("abc", size=8, overlap=2) == [["a", "b", "c"]]
    assert sliding_window_chunks([], size=8, overlap=2) == []


@pytest.mark.parametrize("size,overlap", [(0, 0), (4, 4), (4, -1)])
def test_bad_window_arguments(size, overlap):
    with pytest.raises(ValueError):
        sliding_window_chunks([1, 2, 3], size=size, overlap=overlap)


def test_merge_small_glues_short_pieces():
    chunker = Chunker(min_chars=5, max_chars=20)
    assert chunker.merge_small(["  hello world ", "ok", "", "another piece", "x"]) == [
        "hello world ok", "another piece x"]


def test_merge_small_respects_max_chars():
    chunker = Chunker(min_chars=50, max_chars=9)
    assert chunker.merge_small(["abcd", "efgh", "ij"]) == ["abcd efgh", "ij"]


def test_render_context_quotes_sources_in_fences():
    text = render_context("Why?", ["alpha", "beta", "gamma", "delta"], max_chunks=2)
    assert text.startswith("Answer the question using only the sources below.\n\n### Source 1\n```text\nalpha\n```")
    assert "### Source 2\n```text\nbeta\n```" in text
    assert "gamma" not in text
    assert text.endswith("\n\nQuestion: Why?\nAnswer:")


def test_render_context_without_chunks():
    assert "_no sources_" in render_context("q", [])
