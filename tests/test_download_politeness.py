"""Adaptive per-host politeness (AIMD in core's `HostLimiter`), seen from the server's side, for both HTTP clients:
a host with sporadic 429/503 gets its full speed back, a host that answers 503 to everything stays slow and its
documents end failed with a transient reason, and `Retry-After` holds back only the request that got it.
No timing is asserted beyond what the server must see (a wait it asked for, a low rate it is owed)."""
import math, threading
from collections import Counter
import pytest

from web2dataset.core import Dataset, Document
from web2dataset.downloader import BasicDownloader, _has_pycurl
from web2dataset.testing import LocalWeb

CLIENTS = ['threads', pytest.param('curl',
                                   marks=pytest.mark.skipif(not _has_pycurl(), reason='no pycurl'))]

def _folder(tmp_path, urls):
    ds = Dataset(tmp_path/'ds')
    ds.add([Document(u, engine='urls') for u in urls])
    return ds

def _starts(web, prefix):
    "Monotonic-free arrival times (seconds, from the first) of the requests to paths under `prefix`"
    ts = sorted(t for m, target, h, t in web.requests if target.startswith(prefix))
    return [t - ts[0] for t in ts]

def _busiest(ts, after=0.0, span=1.0):
    "The most requests in any `span`-second window starting at a request after `after`"
    return max((sum(1 for u in ts if t <= u < t + span) for t in ts if t >= after), default=0)

@pytest.mark.parametrize('client', CLIENTS)
def test_sporadic_errors_recover(tmp_path, client):
    "Every third of the first 90 requests answers 429 (Retry-After: 1) or 503: all 200 images arrive, at full speed"
    with LocalWeb(n_images=8) as web:
        n, lock, jpeg = [0], threading.Lock(), web.content(web.image_urls(1)[0])
        def flaky(req):
            with lock: n[0] += 1; k = n[0]
            if k <= 90 and k % 3 == 0: return (429, {'Retry-After': '1'}, 'slow down') if k % 2 else (503, {}, 'busy')
            return 200, {'Content-Type': 'image/jpeg'}, jpeg
        web.route('/flaky/*', flaky)
        ds = _folder(tmp_path, [web.url_for(f'/flaky/{i}.jpg') for i in range(200)])
        dl = BasicDownloader(ds.path, client=client, allow_private={'127.0.0.1'}, quiet=True)
        stats = dl.download()
        assert stats['counts'] == {'downloaded': 200}
        assert dl._state()['session'].limiter.allowed('127.0.0.1') == (math.inf, 4)   # the client: full speed again
        ts = _starts(web, '/flaky/')
        assert len(ts) == 230
        late = ts[-100:]                          # the server: the last 100 came fast, not at a failing host's pace
        assert 99 / max(late[-1] - late[0], 1e-9) > 5, (client, late[-1] - late[0])

@pytest.mark.parametrize('client', CLIENTS)
def test_persistent_503_stays_slow(tmp_path, client):
    "A host that answers 503 to everything: its rate drops to about one a second, every document fails transiently"
    with LocalWeb(n_images=8) as web:
        web.route('/down/*', lambda req: (503, {'Content-Type': 'text/plain'}, 'down for maintenance'))
        ds = _folder(tmp_path, [web.url_for(f'/down/{i}.jpg') for i in range(10)])
        stats = BasicDownloader(ds.path, client=client, deadline=4, allow_private={'127.0.0.1'}, quiet=True).download()
        assert stats['counts'] == {'failed': 10} and stats['reasons'] == {'http-503': 10}
        assert all(d.extra['transient'] for d in ds.docs())           # `retry_failed` takes them up later
        ts = _starts(web, '/down/')
        assert _busiest(ts, after=4) <= 3, (client, Counter(int(t) for t in ts))

@pytest.mark.parametrize('client', CLIENTS)
def test_retry_after_per_request(tmp_path, client):
    "A 429 with Retry-After: 3 holds back the request that got it, not the other images of the same host"
    with LocalWeb(n_images=8) as web:
        jpeg, seen = web.content(web.image_urls(1)[0]), Counter()
        def handler(req):
            seen[req.path] += 1
            if req.path == '/ra/0.jpg' and seen[req.path] == 1: return 429, {'Retry-After': '3'}, 'slow down'
            return 200, {'Content-Type': 'image/jpeg'}, jpeg
        web.route('/ra/*', handler)
        ds = _folder(tmp_path, [web.url_for(f'/ra/{i}.jpg') for i in range(12)])
        st = BasicDownloader(ds.path, client=client, allow_private={'127.0.0.1'}, quiet=True).download()
        assert st['counts'] == {'downloaded': 12}
        first, again = sorted(t for m, target, h, t in web.requests if target == '/ra/0.jpg')
        others = [t for m, target, h, t in web.requests if target.startswith('/ra/') and target != '/ra/0.jpg']
        assert again - first >= 2.9                                    # the wait the server asked for
        assert len(others) == 11 and max(others) < again               # meanwhile the host served the others

@pytest.mark.parametrize('client', CLIENTS)
def test_stalled_requests_leave_the_count(tmp_path, client):
    """Four requests that get no answer until the host's 30 other images have been asked for: with two slots per
    host, those 30 can only be asked for if the silent four stop counting against the host's concurrency (`stall`).
    Without that they wait behind them, the four time out and fail; with it, everything downloads."""
    with LocalWeb(n_images=8) as web:
        lock, asked, served = threading.Lock(), [0], threading.Event()
        jpeg = web.content(web.image_urls(1)[0])
        def ok(req):
            with lock:
                asked[0] += 1
                if asked[0] == 30: served.set()
            return 200, {'Content-Type': 'image/jpeg'}, jpeg
        def stuck(req):
            served.wait(20)
            return 200, {'Content-Type': 'image/jpeg'}, jpeg
        web.route('/ok/*', ok); web.route('/stuck/*', stuck)
        urls = [web.url_for(f'/stuck/{i}.jpg') for i in range(4)] + [web.url_for(f'/ok/{i}.jpg') for i in range(30)]
        ds = _folder(tmp_path, urls)
        dl = BasicDownloader(ds.path, client=client, max_per_host=2, timeout=(5, 8), deadline=20,
                             allow_private={'127.0.0.1'}, quiet=True)
        stats = dl.download()
        assert stats['counts'] == {'downloaded': 34}, (client, stats)
        assert served.is_set() and asked[0] == 30
        h = dl._state()['session'].limiter._hosts['127.0.0.1']
        assert (h.inflight, h.stalled, len(h.slots)) == (0, 0, 0)   # every slot given back
