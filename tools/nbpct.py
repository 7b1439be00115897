#!/usr/bin/env python
"""Convert notebooks to and from a plain 'percent' text form, for editing notebooks in a text editor.

    python tools/nbpct.py to-py nbs/00_core.ipynb  > /tmp/core.py   # notebook -> text
    python tools/nbpct.py to-nb /tmp/core.py nbs/00_core.ipynb       # text -> notebook (outputs dropped)

In the text form a line `# %%` starts a code cell and `# %% [markdown]` a markdown cell whose lines are
prefixed with `# `. The notebooks in nbs/ stay the source of truth; the text form is a scratch copy."""
import hashlib, json, os, re, sys, tempfile
from pathlib import Path

CODE, MD = '# %%', '# %% [markdown]'

def nb_to_py(nb_path):
    "Text form of the notebook at `nb_path`"
    nb = json.loads(Path(nb_path).read_text())
    out = []
    for c in nb['cells']:
        src = ''.join(c['source']).rstrip('\n')
        if c['cell_type'] == 'markdown':
            out.append(MD + '\n' + '\n'.join(('# ' + l) if l else '#' for l in src.split('\n')))
        else: out.append(CODE + '\n' + src)
    return '\n\n'.join(out) + '\n'

def _cell(kind, lines):
    while lines and not lines[-1].strip(): lines.pop()
    while lines and not lines[0].strip(): lines.pop(0)
    if kind == 'markdown': lines = [re.sub(r'^# ?', '', l) for l in lines]
    src = [l + '\n' for l in lines]
    if src: src[-1] = src[-1][:-1]
    cid = hashlib.sha1((kind + ''.join(src)).encode()).hexdigest()[:8]   # stable ids: no churn on re-conversion
    c = dict(cell_type=kind, id=cid, metadata={}, source=src)
    if kind == 'code': c.update(execution_count=None, outputs=[])
    return c

def py_to_nb(text):
    "Notebook dict from the text form"
    cells, kind, lines = [], None, []
    for l in text.split('\n'):
        if l.strip() in (CODE, MD):
            if kind: cells.append(_cell(kind, lines))
            kind, lines = ('markdown' if l.strip() == MD else 'code'), []
        else: lines.append(l)
    if kind: cells.append(_cell(kind, lines))
    seen = set()
    for c in cells:
        while c['id'] in seen: c['id'] = hashlib.sha1(c['id'].encode()).hexdigest()[:8]
        seen.add(c['id'])
    return dict(cells=cells, metadata=dict(kernelspec=dict(display_name='python3', language='python', name='python3')),
                nbformat=4, nbformat_minor=5)

def write_atomic(path, text):
    "Write `text` to `path` through a temporary file and `os.replace`"
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix='.' + path.name, suffix='.tmp')
    with os.fdopen(fd, 'w') as f: f.write(text)
    os.replace(tmp, path)

if __name__ == '__main__':
    cmd, *args = sys.argv[1:] or ['help']
    if cmd == 'to-py': sys.stdout.write(nb_to_py(args[0]))
    elif cmd == 'to-nb':
        write_atomic(args[1], json.dumps(py_to_nb(Path(args[0]).read_text()), indent=1, ensure_ascii=False,
                                         sort_keys=True) + '\n')
    else: sys.exit(__doc__)
