"""Defaults that use the machine: `BasicDownloader(path).download()` picks its worker processes and transfers in flight
from the cores and the amount of work (`auto_workers`); an explicit `processes=`/`threads=` wins. No timing asserted."""
import pytest
import web2dataset.downloader as dlmod
from web2dataset.core import Dataset, Document
from web2dataset.downloader import BasicDownloader, auto_workers, _cores
from web2dataset.testing import LocalWeb

@pytest.fixture(scope='module')
def web():
    with LocalWeb(n_images=8, keep_requests=False) as w: yield w

def _folder(path, urls):
    ds = Dataset(path)
    ds.add([Document(u, engine='urls') for u in urls])
    return ds

def test_small_job_one_process(tmp_path, web):
    ds = _folder(tmp_path/'ds', web.image_urls(30))
    dl = BasicDownloader(ds.path, allow_private={'127.0.0.1'}, quiet=True)
    st = dl.download()
    assert st['counts'] == {'downloaded': 30}
    assert (st['processes'], st['inflight']) == auto_workers(30, dl.client_name) == (1, st['inflight'])

def test_big_job_every_core(tmp_path, web, monkeypatch):
    "A big job (made big here by lowering the thresholds) gets a process per core, each with its share of the host"
    monkeypatch.setattr(dlmod, 'SMALL_JOB', 40); monkeypatch.setattr(dlmod, 'PER_PROCESS', 20)
    urls = web.image_urls(120)
    ds = _folder(tmp_path/'ds', urls)
    dl = BasicDownloader(ds.path, client='threads', allow_private={'127.0.0.1'}, quiet=True)
    st = dl.download()
    assert st['counts'] == {'downloaded': 120}
    assert st['processes'] == min(_cores(), 120 // 20) and st['inflight'] == 64
    # an explicit choice wins
    ds2 = _folder(tmp_path/'ds2', urls)
    dl2 = BasicDownloader(ds2.path, client='threads', threads=5, allow_private={'127.0.0.1'}, quiet=True)
    st2 = dl2.download(processes=1)
    assert (st2['processes'], st2['inflight'], st2['counts']) == (1, 5, {'downloaded': 120})

def test_stream(tmp_path, web, monkeypatch):
    "New documents from a stream (a URL list read as it goes) are read ahead to tell a small job from a big one"
    ds = Dataset(tmp_path/'ds')
    docs = (Document(u, engine='urls') for u in web.image_urls(40))
    st = BasicDownloader(ds.path, client='threads', allow_private={'127.0.0.1'}, quiet=True).download(docs=docs)
    assert st['counts'] == {'downloaded': 40} and st['processes'] == 1
    monkeypatch.setattr(dlmod, 'SMALL_JOB', 20); monkeypatch.setattr(dlmod, 'PER_PROCESS', 10)
    ds2 = Dataset(tmp_path/'ds2')
    docs = (Document(u, engine='urls') for u in web.image_urls(40))
    st = BasicDownloader(ds2.path, client='threads', allow_private={'127.0.0.1'}, quiet=True).download(docs=docs)
    assert st['counts'] == {'downloaded': 40} and st['processes'] == _cores()   # longer than SMALL_JOB: every core
