"""Collect the notebooks in nbs/ as pytest tests, so that one `pytest` runs every test of the project.

Each notebook runs through nbdev's own `test_nb` in a child process of its own (the same thing `nbdev-test`
does), with cells flagged `notest` or `slow` skipped; a failing cell's traceback becomes the test's report."""
import os, subprocess, sys
from pathlib import Path
import pytest

_RUN = ("import sys; from nbdev.test import test_nb; "
        "ok, t = test_nb(sys.argv[1], skip_flags=sys.argv[2].split(), showerr=True); sys.exit(0 if ok else 1)")

def pytest_collect_file(parent, file_path):
    if file_path.suffix == '.ipynb' and file_path.parent.name == 'nbs' and not file_path.name.startswith(('_', '.')):
        return NotebookFile.from_parent(parent, path=file_path)

class NotebookFile(pytest.File):
    def collect(self): yield NotebookItem.from_parent(self, name=self.path.stem)

class NotebookItem(pytest.Item):
    def runtest(self):
        flags = os.environ.get('WEB2DATASET_SKIP_FLAGS', 'notest slow')
        p = subprocess.run([sys.executable, '-c', _RUN, str(self.path), flags], capture_output=True, text=True,
                           cwd=self.path.parent, timeout=1500)
        if p.returncode: raise NotebookFailed(p.stdout[-5000:] + p.stderr[-20000:])

    def repr_failure(self, excinfo):
        return str(excinfo.value) if isinstance(excinfo.value, NotebookFailed) else super().repr_failure(excinfo)

    def reportinfo(self): return self.path, 0, f'notebook {self.path.name}'

class NotebookFailed(Exception): pass
