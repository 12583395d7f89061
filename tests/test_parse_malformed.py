"""Real requirement documents drift and break; the parser must say where and keep the sound sections."""
import json
import textwrap
from pathlib import Path

import pytest

from codebench.parse import parse_benchmark

MOD = '''\
import math


class Box:
    """A box."""

    def area(self):
        """Area."""
        return self.w * self.h

    @property
    def volume(self):
        return self.area() * self.d


def helper(x):
    total = 0
    for i in range(x):
        total += i
    return total


def outer(values):
    out = []
    for v in values:
        out.append(v * 2)
    return out
'''


def section(name, impl='', tests='code/tests/test_mod.py', overview='Does it.', extra=''):
    parts = [f'# FUNCTION: {name}']
    if overview is not None: parts.append(f'## Function Overview\n{overview}')
    parts += ['## Function Signature\ndef f():', '## Input Parameters\n- none', '## Detailed Description\nText.',
              '## Output\nNothing.']
    if impl is not None: parts.append(f'## Function Implementation\n{impl}')
    if tests is not None: parts.append(f'## Test Code\n{tests}')
    return '\n\n'.join(parts) + extra


DOC_A = '# Algorithms\n\n' + '\n\n---\n\n'.join([
    section('Box.area', 'code/pkg/mod.py:line 4-9'),  # starts at the class line
    section('helper', 'code/pkg/mod.py:line 13-17'),  # shifted by -3
    section('double_all', 'code\\pkg\\mod.py:line 25-26'),  # block inside `outer`, Windows path
    section('missing_impl', None),
    section('bad_loc', 'see the source'),
    section('no_file', 'code/pkg/nope.py:line 1-2'),
    section('ghost', '`code/pkg/mod.py:line 1-1`'),
    section('broken_src', 'code/pkg/broken.py:line 1-2'),
    section('outer', 'code/pkg/mod.py:line 23-27', tests='code/tests/test_mdo.py', overview=None),
])
DOC_C = section('Box.volume', 'code/pkg/mod.py:line 12-13', overview='Fl\xe4che mal H\xf6he.')


def line_of(text, needle):
    return text[:text.index(needle)].count('\n') + 1


@pytest.fixture
def bench(tmp_path):
    ex = tmp_path / 'fw' / 'test_examples' / 'ex'
    (ex / 'code' / 'pkg').mkdir(parents=True)
    (ex / 'code' / 'tests').mkdir()
    (ex / 'requirements').mkdir()
    (tmp_path / 'fw' / 'knowledge_corpus').mkdir()
    (tmp_path / 'fw' / 'knowledge_corpus' / 'metadata.json').write_text(json.dumps({'framework_name': 'FW'}))
    (ex / 'code' / 'pkg' / 'mod.py').write_text(MOD)
    (ex / 'code' / 'pkg' / 'broken.py').write_text('def broken(:\n    pass\n')
    (ex / 'code' / 'tests' / 'test_mod.py').write_text('def test_nothing():\n    assert True\n')
    (ex / 'requirements' / '03_algorithm_and_core_methods.md').write_text(DOC_A)
    (ex / 'requirements' / '04_more_algorithms.md').write_text('')
    (ex / 'requirements' / '05_latin1_functions.md').write_bytes(DOC_C.encode('latin-1'))
    return tmp_path


def issues_by(report):
    return {(i.path.rsplit('/', 1)[-1], i.line, i.level): i.message for i in report.issues}


def test_valid_sections_survive(bench):
    report = parse_benchmark(bench)
    assert [t.name for t in report.tasks] == ['Box.area', 'helper', 'double_all', 'outer', 'Box.volume']
    assert report.tasks[0].framework_name == 'FW'


def test_drifted_spans_are_corrected_and_reported(bench):
    report = parse_benchmark(bench)
    t = {t.name: t for t in report.tasks}
    assert (t['Box.area'].kind, t['Box.area'].span, t['Box.area'].doc_span) == ('method', [7, 9], [4, 9])
    assert t['Box.area'].gold == '    def area(self):\n        """Area."""\n        return self.w * self.h\n'
    assert (t['helper'].span, t['helper'].gold.splitlines()[0]) == ([16, 20], 'def helper(x):')
    assert t['Box.volume'].span == [12, 13] and t['Box.volume'].warnings == []  # def line, decorator above: valid
    doc = '03_algorithm_and_core_methods.md'
    got = issues_by(report)
    assert got[doc, line_of(DOC_A, 'code/pkg/mod.py:line 4-9'), 'warning'] == (
        'span 4-9 of `Box.area` does not match code/pkg/mod.py: it starts at `class Box`; the function is at 7-9, using 7-9')
    assert got[doc, line_of(DOC_A, 'code/pkg/mod.py:line 13-17'), 'warning'] == (
        'span 13-17 of `helper` does not match code/pkg/mod.py: it is shifted by -3 lines; the function is at 16-20, using 16-20')


def test_block_task_is_kept_as_a_block(bench):
    t = next(t for t in parse_benchmark(bench).tasks if t.name == 'double_all')
    assert (t.kind, t.span, t.source_path) == ('block', [25, 26], 'code/pkg/mod.py')
    assert t.gold == '    for v in values:\n        out.append(v * 2)\n'


def test_errors_name_document_and_line(bench):
    report = parse_benchmark(bench)
    got = issues_by(report)
    doc = '03_algorithm_and_core_methods.md'
    expect = {
        (doc, line_of(DOC_A, '# FUNCTION: missing_impl'), 'error'):
            "`missing_impl`: no '## Function Implementation' section (expected 'code/<path>.py:line A-B')",
        (doc, line_of(DOC_A, 'see the source'), 'error'):
            "`bad_loc`: '## Function Implementation': expected a location like 'code/<path>.py:line A-B', found 'see the source'",
        (doc, line_of(DOC_A, 'code/pkg/nope.py'), 'error'): '`no_file`: source file code/pkg/nope.py does not exist in ex',
        (doc, line_of(DOC_A, '`code/pkg/mod.py:line 1-1`'), 'error'):
            '`ghost` is not defined in the file, and lines 1-1 are neither one whole function nor a run of whole statements inside one (code/pkg/mod.py)',
        (doc, line_of(DOC_A, 'code/pkg/broken.py'), 'error'): '`broken_src`: code/pkg/broken.py:1 does not parse: invalid syntax',
        ('04_more_algorithms.md', 0, 'error'): 'the document is empty',
    }
    for key, msg in expect.items():
        assert got.get(key) == msg, (key, got)
    assert len(report.errors) == len(expect) + 1  # + the latin-1 document


def test_warnings_for_unscorable_and_incomplete_sections(bench):
    got = issues_by(parse_benchmark(bench))
    doc = '03_algorithm_and_core_methods.md'
    assert got[doc, line_of(DOC_A, 'code/tests/test_mdo.py'), 'warning'] == (
        '`outer`: test file code/tests/test_mdo.py does not exist (did you mean code/tests/test_mod.py?); the task cannot be scored')
    assert got[doc, line_of(DOC_A, '# FUNCTION: outer'), 'warning'] == "`outer`: no '## Function Overview' section"


def test_non_utf8_document_is_reported_and_still_parsed(bench):
    report = parse_benchmark(bench)
    (err,) = [i for i in report.errors if i.path.endswith('05_latin1_functions.md')]
    assert err.line == line_of(DOC_C, 'Fl\xe4che') and 'not valid UTF-8 (byte 0xe4' in err.message
    vol = next(t for t in report.tasks if t.name == 'Box.volume')
    assert vol.overview.startswith('Fl\ufffdche')


def test_broken_metadata_is_an_error_with_line(bench):
    (bench / 'fw' / 'knowledge_corpus' / 'metadata.json').write_text('{\n  "framework_name": "FW",\n}\n')
    report = parse_benchmark(bench)
    (err,) = [i for i in report.errors if i.path.endswith('metadata.json')]
    assert err.line == 3 and 'not valid JSON' in err.message
    assert report.tasks[0].framework_name == 'fw'  # falls back to the directory name


def test_a_framework_dir_is_a_root_and_filters_are_checked(bench):
    assert len(parse_benchmark(bench / 'fw').tasks) == 5
    with pytest.raises(ValueError, match="no example 'nope' in fw; it has: ex"):
        parse_benchmark(bench, example='nope')
    with pytest.raises(FileNotFoundError, match='is not a directory'):
        parse_benchmark(bench / 'missing')


def test_example_without_function_documents(tmp_path):
    ex = tmp_path / 'fw' / 'test_examples' / 'ex'
    (ex / 'requirements').mkdir(parents=True)
    (ex / 'requirements' / '01_overview.md').write_text('# Overview\n\nJust prose.\n')
    report = parse_benchmark(tmp_path)
    assert [i.message for i in report.errors] == ["no '# FUNCTION:' section in any document"]
    assert [i.level for i in report.warnings] == ['warning']  # no metadata.json
