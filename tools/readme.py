#!/usr/bin/env python
"""Write README.md from nbs/index.ipynb (Quarto, which `nbdev-readme` needs, is not available everywhere).

    python tools/readme.py          # write README.md
    python tools/readme.py --check  # exit 1 when README.md is out of date (CI runs this)

Markdown cells are copied, code cells become fenced Python blocks (with their text outputs, if any);
cells marked `#| hide` are left out and nbdev directives are dropped."""
import json, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent

def _directives(src): return [l for l in src if l.startswith('#|')]

def _code(src, outputs):
    body = ''.join(l for l in src if not l.startswith('#|')).strip('\n')
    md = f'```python\n{body}\n```'
    txt = ''.join(''.join(o.get('text', '') or o.get('data', {}).get('text/plain', '')) for o in outputs).strip('\n')
    return md + (f'\n\n```\n{txt}\n```' if txt else '')

def render(nb_path=root/'nbs'/'index.ipynb'):
    "README text for the notebook at `nb_path`"
    nb = json.loads(Path(nb_path).read_text())
    parts = ['<!-- Written by tools/readme.py from nbs/index.ipynb: edit the notebook, not this file. -->']
    for c in nb['cells']:
        src = c['source'] if isinstance(c['source'], list) else c['source'].splitlines(True)
        src = [l if l.endswith('\n') else l + '\n' for l in src]
        if any('hide' in d or 'exporti' in d or 'export' in d for d in _directives(src)): continue
        if c['cell_type'] == 'markdown': parts.append(''.join(src).strip('\n'))
        elif c['cell_type'] == 'code' and ''.join(src).strip(): parts.append(_code(src, c.get('outputs', [])))
    return '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    new, readme = render(), root/'README.md'
    if '--check' in sys.argv:
        if not readme.exists() or readme.read_text() != new:
            sys.exit('README.md is out of date with nbs/index.ipynb: run `python tools/readme.py` and commit it.')
        print('README.md is in sync with nbs/index.ipynb')
    else: readme.write_text(new)
