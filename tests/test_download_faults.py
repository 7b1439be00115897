"""1 000 URLs against the local web, about a third of them faulty with every kind of fault `LocalWeb` serves:
every document ends in exactly one recorded state with the expected reason, every transient fault that recovers is
downloaded, nothing invalid lands in `images/`, and the run finishes without hanging."""
import hashlib, os, random, threading
from collections import Counter
from pathlib import Path
import pytest

pytestmark = pytest.mark.xdist_group('faults')   # one worker runs the module: each client's fixture is built once
from web2dataset.core import Dataset, Document, url_uuid
from web2dataset.downloader import BasicDownloader, check_image, _has_pycurl
from web2dataset.testing import LocalWeb, FAULTS, FAULT_ENDS, FAULT_TRANSIENT

EXPECTED, TRANSIENT = FAULT_ENDS, FAULT_TRANSIENT   # fault -> (status, acceptable reasons); transient kinds

def test_every_fault_kind_is_known():
    "A fault added to LocalWeb must get an expectation here"
    assert set(FAULTS) == set(EXPECTED), set(FAULTS) ^ set(EXPECTED)

CLIENTS = ['threads', pytest.param('curl', marks=pytest.mark.skipif(not _has_pycurl(),
                                                                   reason='pycurl (the fast extra) is not installed'))]

@pytest.fixture(scope='module', params=CLIENTS)
def run(tmp_path_factory, request):
    client = request.param
    rng = random.Random(4)
    with LocalWeb(latency=('uniform', 0.0, 0.01), n_images=60, hang_max=15, keep_requests=False) as web:
        faults = [(f, f'{f}-{i}') for i in range(11) for f in EXPECTED]          # 308 faulty URLs, every kind
        private = web.image_urls(14, private=True)                                  # robots.txt forbids these
        good = web.image_urls(678)
        urls = {web.fault(f, token=t): f for f, t in faults}
        docs = [Document(u, engine='urls') for u in list(urls) + private + good]
        rng.shuffle(docs)
        ds = Dataset(tmp_path_factory.mktemp('faults')/'ds')
        ds.add(docs)
        dl = BasicDownloader(ds.path, client=client, threads=64, max_per_host=48, rate_per_host=10_000, timeout=(5, 5),
                             deadline=6, retries=3, max_bytes=2_000_000, allow_private={'127.0.0.1'}, quiet=True)
        assert dl.client_name == client
        out = {}
        t = threading.Thread(target=lambda: out.update(stats=dl.download()), daemon=True)
        t.start(); t.join(170)
        assert not t.is_alive(), "the download hung"
        hits = {u: web.hits(u) for u in private}
        yield ds, urls, private, good, out['stats'], hits, web, client

def test_one_state_each(run):
    ds, urls, private, good, stats, hits, web, client = run
    docs = list(ds.docs())
    assert len(docs) == 1000 and len({d.uuid for d in docs}) == 1000
    assert Counter(d.status for d in docs) == Counter(stats['counts'])
    for d in docs:
        assert d.status in ('downloaded', 'failed', 'rejected'), (d.image_url, d.status)
        if d.status == 'downloaded': assert d.reason is None and d.file and d.sha256 and d.width and d.height
        else: assert d.reason and d.file is None
        if d.status == 'failed': assert isinstance(d.extra.get('transient'), bool)

def test_reasons(run):
    ds, urls, private, good, stats, hits, web, client = run
    by_url = {d.image_url: d for d in ds.docs()}
    wrong = [(f, by_url[u].status, by_url[u].reason) for u, f in urls.items()
             if (by_url[u].status, by_url[u].reason) not in {(EXPECTED[f][0], r) for r in EXPECTED[f][1]}]
    assert not wrong, wrong[:10]
    for u, f in urls.items():
        if by_url[u].status == 'failed': assert by_url[u].extra['transient'] == (f in TRANSIENT), (f, by_url[u].extra)
    assert all(by_url[u].status == 'downloaded' for u in good)
    assert all(by_url[u].reason == 'robots-disallowed' for u in private)
    assert set(hits.values()) == {0}, "robots.txt forbade them: they must never be requested"

def test_no_invalid_file(run):
    ds, *_ = run
    root = ds.local_path()
    files = sorted(os.listdir(root/'images'))
    assert files == sorted(Path(d.file).name for d in ds.docs(status='downloaded'))
    for d in ds.docs(status='downloaded'):
        data = ds.read_image(d)
        assert hashlib.sha256(data).hexdigest() == d.sha256 and len(data) == d.bytes
        assert check_image(data) == (d.format, d.width, d.height)
    assert not [p for p in root.rglob('*') if p.name.endswith('.tmp')]

def test_rejections_logged(run):
    ds, *_ = run
    logged = Counter(l['uuid'] for l in ds.log())
    assert set(logged) == {d.uuid for d in ds.docs(status='rejected')} and set(logged.values()) == {1}

def test_retry_failed_only_transient(run):
    "A second run with retry_failed retries the transient failures only, and changes nothing that was done"
    ds, urls, private, good, stats, hits, web, client = run
    before = {d.uuid: (d.status, d.reason, d.sha256) for d in ds.docs()}
    web.reset_counts()
    dl = BasicDownloader(ds.path, client=client, threads=64, max_per_host=48, rate_per_host=10_000, timeout=(5, 5),
                         deadline=6, retries=0, max_bytes=2_000_000, allow_private={'127.0.0.1'}, quiet=True)
    again = dl.download(retry_failed=True)
    after = {d.uuid: (d.status, d.reason, d.sha256) for d in ds.docs()}
    for u, f in urls.items():
        if before[url_uuid(u)][0] == 'failed' and f in TRANSIENT: assert web.hits(u) >= 1, f
        else: assert web.hits(u) == 0, f
    assert {u: s for u, s in after.items() if s[0] != 'failed'} == {u: s for u, s in before.items() if s[0] != 'failed'}
    assert again['new'].get('failed') == sum(1 for u, f in urls.items() if f in TRANSIENT)
