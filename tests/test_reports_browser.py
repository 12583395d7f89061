"""A real browser opens reports/index.html, follows every link and checks that each report rendered."""
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import run_cli

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--hide-scrollbars', '--enable-logging=stderr', '--v=0']


def chromium(*args, timeout=60):
    profile = tempfile.mkdtemp(prefix='chromium-')
    try:
        return subprocess.run([CHROMIUM, *FLAGS, f'--user-data-dir={profile}', *map(str, args)], capture_output=True, text=True,
                              timeout=timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


class Links(HTMLParser):
    def __init__(self):
        super().__init__(); self.hrefs = []
    def handle_starttag(self, tag, attrs):
        if tag == 'a' and dict(attrs).get('href'): self.hrefs.append(dict(attrs)['href'])


@pytest.fixture(scope='module')
def reports(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('chain')
    r = run_cli('run', '-m', 'reference', '-m', 'stub', '-m', 'mutants:0', '--n', '3', '--runs', tmp / 'runs', '--reports', tmp / 'reports')
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip().endswith('index.html')
    return tmp / 'reports'


@pytest.mark.skipif(not CHROMIUM, reason='needs Debian chromium (CI installs it)')
def test_every_report_renders_in_a_browser(reports, tmp_path):
    index = reports / 'index.html'
    shot = tmp_path / 'index.png'
    r = chromium('--window-size=1100,700', f'--screenshot={shot}', index.as_uri())
    assert shot.exists() and shot.stat().st_size > 10_000, r.stderr[-2000:]
    dom = chromium('--dump-dom', index.as_uri())
    assert dom.returncode == 0 and '<table' in dom.stdout
    parser = Links(); parser.feed(dom.stdout)
    pages = sorted(set(parser.hrefs))
    assert len(pages) == 2 + 1 + 2 * 2 + 2 * 3 * 2, pages  # comparison; task list; parse+prompts per framework; generate+evaluate per model
    for href in pages:
        page = (index.parent / href).resolve()
        assert page.exists(), href
        r = chromium('--dump-dom', page.as_uri())
        html = r.stdout
        assert r.returncode == 0 and '<table' in html, href
        assert 'Traceback (most recent call last)' not in html, href
        assert not re.search(r'Uncaught \w*Error', r.stderr), (href, r.stderr[-2000:])
        images = re.findall(r'<img[^>]+src="data:image/png;base64,([^"]{2000,})"', html)
        if href.endswith('06_report.html'): assert len(images) >= 6, (href, len(images))
    tasks_dom = chromium('--dump-dom', (reports / 'tasks/index.html').as_uri()).stdout
    parser = Links(); parser.feed(tasks_dom)
    task_pages = sorted(h for h in set(parser.hrefs) if not h.startswith('..'))
    assert len(task_pages) == 15, task_pages  # one page per demo task
    for href in task_pages[::4]:
        r = chromium('--dump-dom', (reports / 'tasks' / href).resolve().as_uri())
        assert r.returncode == 0 and 'class="badge' in r.stdout and 'mutants_0' in r.stdout, href
    report = chromium('--dump-dom', (reports / 'comparison/06_report.html').as_uri()).stdout
    assert 'pass@k (bootstrap 95% interval over tasks)' in report and 'mutants_0' in report


def test_no_input_html_hides_the_code(reports, tmp_path):
    "--no-input renders outputs only: the published report shows tables and plots but no code cells."
    from codebench.chain import to_html
    nb = tmp_path / '06_report.ipynb'
    shutil.copy(reports / 'comparison/06_report.ipynb', nb)
    full = to_html(nb).read_text()
    assert 'passk_table' in full and 'load_results' in full  # identifiers of the code cells (highlighted)
    bare = to_html(nb, no_input=True).read_text()
    assert 'passk_table' not in bare and 'load_results' not in bare
    assert bare.count('data:image/png;base64') == full.count('data:image/png;base64') >= 6
    assert 'pass@k (bootstrap 95% interval over tasks)' in bare
