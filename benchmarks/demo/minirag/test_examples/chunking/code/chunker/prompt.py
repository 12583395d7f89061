"""Prompt rendering for a reader model."""


def render_context(question, chunks, max_chunks=3):
    """Markdown prompt that quotes the first `max_chunks` chunks as fenced sources."""
    parts = []
    for i, chunk in enumerate(chunks[:max_chunks], start=1):
        parts.append(f"""### Source {i}
```text
{chunk}
```""")
    body = "\n\n".join(parts) if parts else "_no sources_"
    return f"""Answer the question using only the sources below.

{body}

Question: {question}
Answer:"""
