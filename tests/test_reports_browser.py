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
    "The demo's report set, as `make demo` writes it: reports/demo, listed in reports/index.html."
    tmp = tmp_path_factory.mktemp('chain')
    r = run_cli('run', '-m', 'reference', '-m', 'stub', '-m', 'mutants:0', '--n', '3', '--runs', tmp / 'runs', '--reports', tmp / 'reports',
                '--name', 'demo')
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip().endswith('demo/index.html')
    return tmp / 'reports' / 'demo'


def page_links(html: str) -> list:
    "Every href and src of a page that points to another file (not a data: URL, an anchor or the web)."
    refs = re.findall(r'(?:href|src)="([^"]+)"', html)
    return [r.split('#')[0] for r in refs if r.split('#')[0] and not r.startswith(('data:', 'http:', 'https:', '#', 'mailto:'))]


@pytest.mark.skipif(not CHROMIUM, reason='needs Debian chromium (CI installs it)')
def test_every_report_renders_in_a_browser(reports, tmp_path):
    index = reports / 'index.html'
    shot = tmp_path / 'index.png'
    r = chromium('--window-size=1100,700', f'--screenshot={shot}', index.as_uri())
    assert shot.exists() and shot.stat().st_size > 10_000, r.stderr[-2000:]
    dom = chromium('--dump-dom', index.as_uri())
    assert dom.returncode == 0 and '<table' in dom.stdout
    parser = Links(); parser.feed(dom.stdout)
    pages = sorted(set(parser.hrefs) - {'../index.html'})  # and the index of every report set
    assert len(pages) == 2 + 1 + 2 * 2 + 2 * 3 * 2, pages  # comparison; task list; parse+prompts per framework; generate+evaluate per model
    for href in pages:
        page = (index.parent / href).resolve()
        assert page.exists(), href
        r = chromium('--dump-dom', page.as_uri())
        html = r.stdout
        assert r.returncode == 0 and '<table' in html, href
        assert 'Traceback (most recent call last)' not in html, href
        assert not re.search(r'Uncaught \w*Error', r.stderr), (href, r.stderr[-2000:])
        assert 'task pages' in html or href.startswith('tasks/'), href  # every report links the task pages
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
    sets = chromium('--dump-dom', (reports.parent / 'index.html').as_uri()).stdout
    assert 'href="demo/index.html"' in sets


@pytest.mark.skipif(not CHROMIUM, reason='needs Debian chromium (CI installs it)')
def test_published_report_moved_elsewhere(reports, tmp_path):
    "The reports folder copied elsewhere, as a user publishes it: every link resolves there, no stderr block, no absolute path."
    site = tmp_path / 'published' / 'site'
    shutil.copytree(reports.parent, site)  # what a user uploads: the reports folder alone
    old, moved = str(reports.parent.parent), site / 'demo'
    pages = sorted(moved.rglob('*.html'))
    assert len(pages) >= 1 + 2 + 4 + 12 + 1 + 15
    for page in pages:
        html = page.read_text(encoding='utf-8')
        for ref in page_links(html):
            assert not ref.startswith(('/', 'file:')), (page, ref)
            assert (page.parent / ref).resolve().exists(), (page.relative_to(site), ref)
        assert old not in html and str(site) not in html and 'file://' not in html, page  # no absolute path
        assert 'data-mime-type="application/vnd.jupyter.stderr"' not in html, page  # no stderr block
        assert 'parse_benchmark(' not in html, page  # published pages hide the code
    logs = [ref for page in moved.rglob('04_evaluate.html') for ref in page_links(page.read_text()) if ref.endswith('.log')]
    assert logs  # the failures' logs came along (and resolve: checked above)
    for page in ('index.html', 'minirl/mutants_0/04_evaluate.html', 'comparison/06_report.html', 'tasks/minirl/ppo_step/compute_gae.html'):
        shot = tmp_path / (page.replace('/', '_') + '.png')
        r = chromium('--window-size=1200,2000', f'--screenshot={shot}', (moved / page).as_uri())
        assert shot.exists() and shot.stat().st_size > 20_000, (page, r.stderr[-2000:])
        dom = chromium('--dump-dom', (moved / page).as_uri()).stdout
        assert 'data-mime-type="application/vnd.jupyter.stderr"' not in dom and 'Traceback' not in dom, page


def test_show_code_keeps_the_code_and_publication_hides_it(reports, tmp_path):
    "Published HTML shows outputs only; `show_code` keeps the code cells."
    from codebench.chain import to_html
    nb = tmp_path / '06_report.ipynb'
    shutil.copy(reports / 'comparison/06_report.ipynb', nb)
    full = to_html(nb, show_code=True).read_text()
    assert 'passk_table' in full and 'load_results' in full  # identifiers of the code cells (highlighted)
    bare = to_html(nb).read_text()
    assert 'passk_table' not in bare and 'load_results' not in bare
    assert bare.count('data:image/png;base64') == full.count('data:image/png;base64') >= 6
    assert 'pass@k (bootstrap 95% interval over tasks)' in bare
    assert bare.count('<h1') == 1  # one title per page


@pytest.mark.skipif(not CHROMIUM, reason='needs Debian chromium (CI installs it)')
def test_report_at_the_size_of_koco_bench(tmp_path):
    "131 tasks, 10 models (synthetic results): the per-task view stays readable, one row per task, and every task is linked."
    import base64
    import struct
    from codebench.chain import execute_stage, to_html
    from codebench.pages import write_task_pages
    from synthetic_runs import MODELS, synthetic_runs
    runs = synthetic_runs(tmp_path / 'koco', models=10, n=4, unsandboxed=0.02)  # a few results whose tests ran without bubblewrap
    out = tmp_path / 'site' / 'comparison' / '06_report.ipynb'
    err = execute_stage('06_report.ipynb', out, dict(runs='../../koco/runs', models=MODELS, report_root='..', title='KOCO-sized'))
    assert err == '', err
    write_task_pages(runs, tmp_path / 'site', MODELS)
    html = to_html(out).read_text()
    assert 'Unsandboxed:' in html and 'without the bubblewrap sandbox (rlimits' in html  # the banner
    assert 'Unsandboxed:' in (tmp_path / 'site/tasks/index.html').read_text()
    pngs = [base64.b64decode(b) for b in re.findall(r'src="data:image/png;base64,([^"]+)"', html)]
    heights = [struct.unpack('>II', p[16:24])[1] for p in pngs]  # PNG header: width, height
    assert max(heights) >= 131 * 15, heights  # the per-task panels give every task a row of its own
    links = set(re.findall(r'href="(\.\./tasks/[^"]+\.html)"', html)) - {'../tasks/index.html'}
    assert len(links) == 131 and all((out.parent / l).resolve().exists() for l in links)
    shot = tmp_path / 'koco_report.png'
    r = chromium('--window-size=1300,9000', f'--screenshot={shot}', out.with_suffix('.html').as_uri(), timeout=120)
    assert shot.exists() and shot.stat().st_size > 100_000, r.stderr[-2000:]
    print(f"screenshot: {shot}")
