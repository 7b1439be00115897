"""`web2dataset create` killed with SIGKILL in the middle of a run, then run again, ends with the dataset an
uninterrupted run makes: nothing lost, nothing twice, no partial file.

A LocalWeb with latency serves an Openverse-shaped search and the images (one per host at a time, so a run takes a
few seconds). The reference folder is built by one uninterrupted run. Each test starts the same command in a child
process, kills it with SIGKILL once the folder has reached a given point (records saved, some images downloaded,
most images downloaded), checks the run really was cut short, runs the same command again and compares."""
import hashlib, json, signal, subprocess, sys, tarfile, time
from collections import Counter
from pathlib import Path
import pytest
from web2dataset.cli import demo_web
from web2dataset.core import Dataset
from web2dataset.export import rejection_counts

def _cmd(web, path):
    return [sys.executable, '-m', 'web2dataset.cli', 'create', str(path), '-c', 'circle=circle', '-c', 'square=square',
            '-n', '20', '--engine', 'openverse', '--base-url', web.url, '--clean', 'dedup,quality',
            '--export', 'hf,webdataset', '--max-per-host', '1', '--allow-private', '--quiet']

@pytest.fixture(scope='module')
def web():
    w = demo_web(50, latency=0.06)
    yield w
    w.stop()

@pytest.fixture(scope='module')
def reference(web, tmp_path_factory):
    path = tmp_path_factory.mktemp('ref')/'ds'
    r = subprocess.run(_cmd(web, path), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return path

def _n_files(p: Path): return sum(1 for f in p.iterdir() if not f.name.startswith('.')) if p.is_dir() else 0

def _state(path: Path):
    "What a finished folder holds, checked to be whole; comparable between two folders"
    ds = Dataset(path, create=False)
    docs = list(ds.docs())
    assert len({d.uuid for d in docs}) == len(docs) == len(list((path/'metadata').iterdir()))
    assert not [d.uuid for d in docs if d.status == 'found'], 'records left undownloaded'
    tmp = [str(p) for p in path.rglob('*') if p.name.endswith('.tmp')]
    assert not tmp, f'partial files left: {tmp}'
    kept = {d.uuid: d for d in docs if d.status == 'downloaded'}
    for d in kept.values():                                   # each kept record points at its whole image
        data = ds.read_image(d)
        assert (len(data), hashlib.sha256(data).hexdigest()) == (d.bytes, d.sha256), d.file
    assert (sorted(p.name for p in (path/'images').iterdir())
            == sorted(Path(d.file).name for d in kept.values())), 'stray or missing images'
    rej = {d.uuid for d in docs if d.status == 'rejected' and d.file}
    assert {p.name.split('.')[0] for p in (path/'rejected').iterdir()} == rej if (path/'rejected').exists() else not rej
    rows = [json.loads(l) for l in (path/'metadata.jsonl').read_text().splitlines()]
    assert sorted(r['uuid'] for r in rows) == sorted(kept), 'metadata.jsonl does not list the kept images once each'
    keys = Counter(n.split('.')[0] for t in sorted((path/'.exports'/'webdataset').glob('*.tar'))
                   for n in tarfile.open(t).getnames())
    assert set(keys) == set(kept) and set(keys.values()) == {4}, 'webdataset shards do not hold each kept image once'
    return ({(d.uuid, d.status, d.label, d.sha256, (d.reason or '').split(' of ')[0]) for d in docs},
            rejection_counts(ds))

def test_reference_is_complete(reference):
    docs, rejections = _state(reference)
    # per class: 20 found, one a copy
    assert len(docs) == 40 and Counter(s for _, s, *_ in docs) == Counter(downloaded=38, rejected=2)
    assert sorted(c for c, r in rejections.elements() if r.startswith('exact copy of')) == ['dedup', 'dedup']

def _kill_when(proc, ready, timeout=120):
    "SIGKILL `proc` as soon as `ready()` holds; fails when the run ends first"
    t0 = time.monotonic()
    while not ready():
        assert proc.poll() is None, 'the run finished before the kill point: raise the latency'
        assert time.monotonic() - t0 < timeout
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL); proc.wait()

@pytest.mark.parametrize('point', ['searched', 'some-images', 'most-images'])
def test_kill_then_rerun_finishes_with_nothing_lost(web, reference, tmp_path, point):
    path = tmp_path/'ds'
    ready = {'searched': lambda: _n_files(path/'metadata') >= 15,
             'some-images': lambda: _n_files(path/'images') >= 5,
             'most-images': lambda: _n_files(path/'images') >= 30}[point]
    p = subprocess.Popen(_cmd(web, path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try: _kill_when(p, ready)
    finally:
        if p.poll() is None: p.kill(); p.wait()
    assert p.returncode == -signal.SIGKILL
    assert not (path/'metadata.jsonl').exists(), 'the run was not cut short'
    r = subprocess.run(_cmd(web, path), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert _state(path) == _state(reference)
