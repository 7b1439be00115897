"""`web2dataset download --dask` and `create --dask` against a real Dask cluster: a `dask scheduler` and a `dask worker`
(two worker processes) started here as subprocesses on 127.0.0.1 and stopped at the end, the folder given as a
`file://` URL (any fsspec URL works the same way)."""
import contextlib, io, json, os, socket, subprocess, sys
from pathlib import Path
import pytest
distributed = pytest.importorskip('distributed')
import web2dataset
from web2dataset.cli import main, demo_web
from web2dataset.core import Dataset

def _free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _dask(*args, env):
    exe = Path(sys.executable).parent/'dask'
    cmd = [str(exe), *args] if exe.exists() else [sys.executable, '-m', 'distributed.cli.dask_' + args[0], *args[1:]]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

@pytest.fixture(scope='module')
def cluster():
    "The address of a scheduler with two worker processes, all on 127.0.0.1"
    port, env = _free_port(), {**os.environ, 'PYTHONPATH': str(Path(web2dataset.__file__).parent.parent)}
    env.pop('WEB2DATASET_ALLOW_PRIVATE', None)                  # the workers get it from the command, not from here
    addr = f'tcp://127.0.0.1:{port}'
    procs = [_dask('scheduler', '--host', '127.0.0.1', '--port', str(port), '--no-dashboard', env=env)]
    try:
        procs.append(_dask('worker', addr, '--nworkers', '2', '--nthreads', '1', '--host', '127.0.0.1',
                           '--no-dashboard', '--death-timeout', '60', env=env))
        with distributed.Client(addr, timeout=60) as c: c.wait_for_workers(2, timeout=120)
        yield addr
    finally:
        for p in reversed(procs): p.terminate()
        for p in reversed(procs):
            try: p.wait(20)
            except subprocess.TimeoutExpired: p.kill(); p.wait()

@pytest.fixture(scope='module')
def web():
    w = demo_web(12)
    yield w
    w.stop()

def run(*args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()

def _shards_run(addr)->dict:
    "How many downloads each worker process of the cluster took part in (its per-download states)"
    with distributed.Client(addr, timeout=30) as c:
        return c.run(lambda: len(__import__('web2dataset.downloader', fromlist=['x'])._PROCESS_STATES))

def test_download_urls_on_cluster(cluster, web, tmp_path):
    urls = web.image_urls(30)
    (tmp_path/'list.txt').write_text('\n'.join(urls + ['javascript:x']) + '\n')
    out = f'file://{tmp_path}/from-list'
    code, o, e = run('download', out, '--urls', tmp_path/'list.txt', '--dask', cluster, '--allow-private', '--json',
                     '--quiet')
    assert code == 0, e
    res = json.loads(o)
    assert res['download']['new'] == {'downloaded': 30} and res['skipped']['lines'] == 1
    ds = Dataset(tmp_path/'from-list')
    assert sorted(d.image_url for d in ds.docs(status='downloaded')) == sorted(urls)
    for d in ds.docs(): assert ds.read_image(d) == web.content(d.image_url)
    assert sum(v > 0 for v in _shards_run(cluster).values()) >= 1            # the workers did the downloads
    code, o, e = run('download', out, '--dask', cluster, '--allow-private', '--json', '--quiet')
    assert code == 0 and json.loads(o)['download']['new'] == {}               # resumed: nothing left to do

def test_create_on_cluster(cluster, web, tmp_path):
    code, o, e = run('create', tmp_path/'shapes', '-c', 'circle=circle', '-c', 'square=square', '-n', 4,
                     '--base-url', web.url, '--dask', cluster, '--allow-private', '--clean', '', '--export', '',
                     '--json', '--quiet')
    assert code == 0, e
    assert json.loads(o)['summary']['labels'] == {'circle': 4, 'square': 4}

def test_bad_scheduler(tmp_path):
    code, o, e = run('download', tmp_path/'x', '--dask', f'tcp://127.0.0.1:{_free_port()}')
    assert code == 2 and 'cannot reach the scheduler' in e, e
    code, o, e = run('download', tmp_path/'x', '--dask', 'tcp://127.0.0.1:1', '--processes', 2)
    assert code == 2 and '--dask and --processes' in e, e
