"""`BasicDownloader.download()` killed with SIGKILL at three random moments, then run again to the end, leaves the
folder an uninterrupted run leaves: the same documents in the same states with the same files, no partial file, no
orphan image, every rejection logged (and no document that is not rejected)."""
import hashlib, os, random, signal, subprocess, sys, time
from pathlib import Path
import pytest
from web2dataset.core import Dataset, Document
from web2dataset.testing import LocalWeb

SCRIPT = ("import sys; from web2dataset.downloader import BasicDownloader; "
          "BasicDownloader(sys.argv[1], client=sys.argv[2], threads=8, max_per_host=8, allow_private={'127.0.0.1'}, "
          "quiet=True).download()")
from web2dataset.downloader import _has_pycurl
CURL = pytest.mark.skipif(not _has_pycurl(), reason='pycurl (the fast extra) is not installed')

def _folder(path, web):
    urls = (web.image_urls(240)
            + [web.fault(f, token=f'{f}-{i}') for i in range(4)
               for f in ('404', 'html', 'noai', 'corrupt', 'wrong-type', 'redirect-chain')]
            + web.image_urls(4, private=True))
    ds = Dataset(path)
    ds.add([Document(u, engine='urls') for u in urls])
    return ds

def _downloaded(path): return sum(1 for n in os.listdir(path/'images') if not n.startswith('.'))

def _state(path):
    "Everything a finished folder says, checked to be whole"
    ds = Dataset(path, create=False)
    docs = {d.uuid: d for d in ds.docs()}
    assert not [p for p in Path(path).rglob('*') if p.name.endswith('.tmp')], "a temporary file was left"
    files = {n: hashlib.sha256((path/'images'/n).read_bytes()).hexdigest() for n in os.listdir(path/'images')}
    assert set(files) == {Path(d.file).name for d in docs.values() if d.status == 'downloaded'}, (
        "orphan or missing image")
    for d in docs.values():
        assert d.status in ('downloaded', 'failed', 'rejected'), d
        if d.status == 'downloaded': assert files[Path(d.file).name] == d.sha256
    logged = {l['uuid'] for l in ds.log()}
    assert logged == {u for u, d in docs.items() if d.status == 'rejected'}
    return {u: (d.status, d.reason, d.file, d.sha256, d.width, d.height, d.format, d.bytes) for u, d in docs.items()}

def _run(path, client):
    return subprocess.Popen([sys.executable, '-c', SCRIPT, str(path), client], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)

@pytest.mark.parametrize('client', ['threads', pytest.param('curl', marks=CURL)])
@pytest.mark.parametrize('seed', [0, 1, 2])
def test_kill_and_resume(tmp_path, seed, client):
    rng = random.Random(seed)
    with LocalWeb(latency=('uniform', 0.01, 0.06), n_images=60, keep_requests=False) as web:
        ref, cut = _folder(tmp_path/'ref', web), _folder(tmp_path/'cut', web)
        p = _run(ref.path, client); out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()[-3000:]
        total = _downloaded(Path(ref.path))
        kills = sorted(rng.sample(range(int(total * 0.1), int(total * 0.85)), 3))
        for at in kills:
            p = _run(cut.path, client)
            while _downloaded(Path(cut.path)) < at and p.poll() is None: time.sleep(0.005)
            time.sleep(rng.uniform(0, 0.05))
            assert p.poll() is None, f"the run ended before the kill at {at} images"
            os.kill(p.pid, signal.SIGKILL); p.wait()
            assert _downloaded(Path(cut.path)) < total, "killed too late to test anything"
        p = _run(cut.path, client); out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()[-3000:]
    assert _state(Path(cut.path)) == _state(Path(ref.path))

LIST_SCRIPT = ("import sys; from web2dataset.core import Dataset; from web2dataset.downloader import BasicDownloader; "
               "from web2dataset.searcher import UrlListSearcher; Dataset(sys.argv[1]); "
               "BasicDownloader(sys.argv[1], client=sys.argv[2], threads=8, max_per_host=8, "
               "allow_private={'127.0.0.1'}, quiet=True)"
               ".download(docs=UrlListSearcher(sys.argv[3]).iter_docs())")

@pytest.mark.parametrize('client', ['threads', pytest.param('curl', marks=CURL)])
def test_kill_and_resume_from_a_list(tmp_path, client):
    "`download(docs=...)` records each document once, in its final state: killed, the same call again finishes the job"
    rng = random.Random(7)
    with LocalWeb(latency=('uniform', 0.01, 0.06), n_images=60, keep_requests=False) as web:
        urls = web.image_urls(240) + [web.fault(f, token=f'{f}-{i}') for i in range(4)
                                      for f in ('404', 'html', 'corrupt')]
        urls += web.image_urls(4, private=True) + web.image_urls(5)        # private ones, and 5 URLs listed twice
        (tmp_path/'urls.txt').write_text('\n'.join(urls) + '\n')
        run = lambda path: subprocess.Popen([sys.executable, '-c', LIST_SCRIPT, str(path), client,
                                             str(tmp_path/'urls.txt')], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        ref, cut = tmp_path/'ref', tmp_path/'cut'
        p = run(ref); out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()[-3000:]
        total = _downloaded(ref)
        for at in sorted(rng.sample(range(int(total * 0.1), int(total * 0.85)), 3)):
            p = run(cut)
            while (not (cut/'images').exists() or _downloaded(cut) < at) and p.poll() is None: time.sleep(0.005)
            time.sleep(rng.uniform(0, 0.05))
            assert p.poll() is None, f"the run ended before the kill at {at} images"
            os.kill(p.pid, signal.SIGKILL); p.wait()
        p = run(cut); out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()[-3000:]
    state = _state(cut)
    assert state == _state(ref) and len(state) == len(set(urls))
