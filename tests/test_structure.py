"""The package's shape: methods are indexed where nbdev's docs look for them, and modules import one way only."""
import ast, importlib, inspect
from pathlib import Path

import pytest
from web2dataset._modidx import d as MODIDX

PKG = Path(__file__).parent.parent/'web2dataset'
MODULES = sorted(p.stem for p in PKG.glob('*.py') if not p.stem.startswith('_'))

def _public_methods(cls):
    "Public methods and properties defined on `cls` itself by this package (not inherited from elsewhere)"
    for name, v in vars(cls).items():
        f = v.fget if isinstance(v, property) else getattr(v, '__func__', v)
        if name.startswith('_') or not callable(f) or not getattr(f, '__module__', '').startswith('web2dataset'):
            continue
        yield name

def _classes():
    from web2dataset.core import Dataset, Document
    from web2dataset.searcher import Searcher
    from web2dataset.downloader import BasicDownloader
    from web2dataset.cleaner import cleaners
    return [Document, Dataset, Searcher, BasicDownloader, *(cleaners[n] for n in cleaners.names())]

def test_public_methods_are_indexed():
    "Every public method of the central classes is in `_modidx` as `Class.method` (so the docs index has it)"
    syms = {k.split('.', 2)[2] for m in MODIDX['syms'].values() for k in m}   # `Class.method`, in whichever module
    missing = [f'{c.__module__}.{c.__name__}.{n}' for c in _classes() for n in _public_methods(c)
               if f'{c.__name__}.{n}' not in syms]
    assert not missing, f"methods missing from _modidx (attach them with @patch): {missing}"

@pytest.mark.parametrize('mod', MODULES)
def test_no_free_function_takes_self(mod):
    "A function in `__all__` whose first parameter is `self` is a method attached by hand: use `@patch`"
    m = importlib.import_module(f'web2dataset.{mod}')
    bad = [n for n in getattr(m, '__all__', []) if inspect.isfunction(getattr(m, n, None))
           and list(inspect.signature(getattr(m, n)).parameters)[:1] == ['self']]
    assert not bad, f"web2dataset.{mod} exports functions that take self: {bad}"

_LAZY = ('import_module', 'register_lazy', '__import__')   # calls that import a module named by a string

def _imports(path:Path)->set:
    "The package's modules that `path` imports, at the top or inside a function"
    out = set()
    for n in ast.walk(ast.parse(path.read_text())):
        if isinstance(n, ast.ImportFrom):
            if n.level == 1 and n.module: out.add(n.module.split('.')[0])
            elif n.level == 1 or n.module == 'web2dataset': out |= {a.name for a in n.names}
            elif n.module and n.module.startswith('web2dataset.'): out.add(n.module.split('.')[1])
        elif isinstance(n, ast.Import):
            out |= {a.name.split('.')[1] for a in n.names if a.name.startswith('web2dataset.')}
        elif isinstance(n, ast.Call) and getattr(n.func, 'attr', getattr(n.func, 'id', None)) in _LAZY:
            out |= {a.value.split('.')[1] for a in n.args
                    if isinstance(a, ast.Constant) and str(a.value).startswith('web2dataset.')}
    return out & set(MODULES)

def test_import_graph_has_no_circle():
    "Modules import one way only (entry points stand in for the engines and cleaners that live above their registry)"
    graph = {m: _imports(PKG/f'{m}.py') - {m} for m in MODULES}
    def visit(m, path):
        if m in path: raise AssertionError(f"import circle: {' -> '.join(path[path.index(m):] + [m])}")
        for d in sorted(graph[m]): visit(d, path + [m])
    for m in MODULES: visit(m, [])

def test_the_helper_finds_a_circle():
    "The check above is not vacuous: it sees both kinds of import"
    src = ("import os\nfrom .core import x\ndef f():\n    from web2dataset.cleaner import y\n"
           "    importlib.import_module('web2dataset.safety')\n")
    p = Path(__file__).parent/'_structure_probe.py'
    try:
        p.write_text(src)
        assert _imports(p) == {'core', 'cleaner', 'safety'} & set(MODULES)
    finally: p.unlink()

def test_dataset_clean_with_core_only(tmp_path):
    "`Dataset.clean` lives next to `Dataset`: cleaners are found by name with nothing but core imported"
    import subprocess, sys
    code = ("import sys; from web2dataset.core import Dataset, Document\n"
            "assert 'web2dataset.cleaner' not in sys.modules\n"
            f"ds = Dataset({str(tmp_path)!r}); ds.add([Document('https://a.example/1.jpg'), Document('https://a.example/1.jpg?utm_source=x')])\n"
            "print(ds.clean(['dedup', 'license'], quiet=True))")
    p = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "'checked': 1" in p.stdout, p.stdout

# The floors of CONTRIBUTING's map: a module imports only from floors below its own (google, safety and curl also
# from the module they plug into, on their own floor, which finds them through an entry point)
FLOORS = dict(core=0, testing=0, consent=1, searcher=2, google=2, cleaner=2, safety=2, downloader=3, curl=3,
              pipeline=4, export=5, doctor=6, review=6, cli=7)
SAME_FLOOR = {('google', 'searcher'), ('safety', 'cleaner'), ('curl', 'downloader')}

def test_imports_flow_down_the_floors():
    "Every module of the package has a floor, and imports only from below it"
    assert set(FLOORS) == set(MODULES), ("give each module a floor in tests/test_structure.py and CONTRIBUTING.md: "
                                         f"{set(MODULES) ^ set(FLOORS)}")
    up = [(m, d) for m in MODULES for d in _imports(PKG/f'{m}.py') - {m}
          if FLOORS[d] >= FLOORS[m] and (m, d) not in SAME_FLOOR]
    assert not up, f"imports up or across a floor: {up}"

def test_entry_points_load():
    "Every entry point pyproject.toml declares loads, and its registry finds the same class by that name"
    import tomllib, importlib.metadata as md
    from web2dataset.core import cleaners
    from web2dataset.searcher import searchers
    from web2dataset.downloader import http_clients
    regs = {'web2dataset.cleaners': cleaners, 'web2dataset.searchers': searchers, 'web2dataset.clients': http_clients}
    eps = tomllib.loads((PKG.parent/'pyproject.toml').read_text())['project']['entry-points']
    assert eps['web2dataset.clients'] == {'curl': 'web2dataset.curl:_CurlClient'}
    for group, reg in regs.items():
        for name, value in eps[group].items():
            assert reg[name] is md.EntryPoint(name, value, group).load(), (group, name, value)
