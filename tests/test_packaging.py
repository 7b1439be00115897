"Packaging: extras give ranges, the machine's exact builds live in constraints.txt, which CI and the docs use"
import re, tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def _reqs():
    p = tomllib.loads((ROOT/'pyproject.toml').read_text())['project']
    return p['dependencies'] + [r for rs in p['optional-dependencies'].values() for r in rs]

def test_no_exact_pin():
    pinned = [r for r in _reqs() if re.search(r'===?', r.split(';')[0])]
    assert not pinned, f"pyproject.toml pins exact versions (use ranges, and constraints.txt for the machine): {pinned}"

def test_torch_and_fastai_extras():
    extras = tomllib.loads((ROOT/'pyproject.toml').read_text())['project']['optional-dependencies']
    assert any(r.startswith('torch>=') for r in extras['torch']), extras['torch']
    assert any(r.startswith('fastai>=') for r in extras['fastai']), extras['fastai']

def test_constraints_used():
    cons = [l.strip() for l in (ROOT/'constraints.txt').read_text().splitlines() if l.strip() and not l.startswith('#')]
    assert 'torch==2.13.0' in cons
    cmd = 'pip install -e ".[dev]" -c constraints.txt'
    assert cmd in (ROOT/'.ci/run').read_text().replace('-q ', '')
    assert cmd in (ROOT/'README.md').read_text().splitlines()
    assert cmd in (ROOT/'CONTRIBUTING.md').read_text()
