#!/usr/bin/env python
"""List every cell that nbdev's documentation processing (`nbdev-proc-nbs`, `nbdev-docs`) would fail on.

When it renders docs, nbdev runs only some cells of each notebook: exported cells and *any* cell that contains an
import statement (even inside a `try` or a function). Such a cell then runs without the test cells before it, so
it must not use names they define. `nbdev-proc-nbs` stops at the first failure; this script runs the same
selection of cells and reports every failure, notebook by notebook.

    python tools/check_docs.py [nbs/01_searcher.ipynb ...]   # default: every notebook in nbs/"""
import os, sys, warnings
from pathlib import Path
from execnb.shell import CaptureShell
from nbdev.process import NBProcessor
from nbdev.processors import _do_eval

def failures(nb_path):
    "(cell index, first source line, error) for each cell the docs run that fails"
    nb = NBProcessor(nb_path, rm_directives=False, process=True).nb
    sh, out = CaptureShell(), []
    sh.run_cell('from nbdev.showdoc import show_doc')
    cwd = os.getcwd(); os.chdir(Path(nb_path).parent)
    try:
        for i, c in enumerate(nb.cells):
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                if not _do_eval(c): continue
            sh.exc = None
            sh.cell(c)
            if sh.exc:
                out.append((i, c.source.strip().splitlines()[-1][:100], f'{type(sh.exc).__name__}: {sh.exc}'[:300]))
    finally: os.chdir(cwd)
    return out

if __name__ == '__main__':
    root = Path(__file__).resolve().parent.parent
    nbs = [Path(p) for p in sys.argv[1:]] or sorted(p for p in (root/'nbs').glob('*.ipynb')
                                                    if not p.name.startswith(('_', '.')))
    bad = 0
    for p in nbs:
        fs = failures(p.resolve())
        bad += len(fs)
        for i, line, err in fs: print(f'{p.name} cell {i}: {err}\n    ... {line}')
    print(f'{bad} cell(s) would fail in the docs' if bad else 'every cell the docs run passes')
    sys.exit(1 if bad else 0)
