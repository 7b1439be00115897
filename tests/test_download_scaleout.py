"""Scale-out of `BasicDownloader.download(executor=...)`: shards on a process pool and on a Dask `LocalCluster` of two
worker processes, and a folder on S3 (moto's standalone server on 127.0.0.1, started and stopped here)."""
import concurrent.futures as cf, hashlib, multiprocessing as mp, os, socket
import pytest
from web2dataset.core import Dataset, Document
from web2dataset.consent import CONSENT_PATHS
from web2dataset.downloader import BasicDownloader, _has_pycurl
from web2dataset.testing import LocalWeb

@pytest.fixture(scope='module')
def web():
    with LocalWeb(latency=0.005, n_images=40, keep_requests=False) as w: yield w

def _folder(path, urls, **so):
    ds = Dataset(path, **so)
    ds.add([Document(u, engine='urls') for u in urls])
    return ds

def _check(ds, web, urls, stats):
    docs = list(ds.docs())
    assert stats['counts'] == {'downloaded': len(urls)} and len(docs) == len(urls)
    for d in docs:
        assert d.status == 'downloaded'
        assert (hashlib.sha256(ds.read_image(d)).hexdigest() == d.sha256
                == hashlib.sha256(web.content(d.image_url)).hexdigest())

def test_process_pool(tmp_path, web):
    urls = web.image_urls(60)
    ds = _folder(tmp_path/'ds', urls)
    dl = BasicDownloader(ds.path, threads=4, allow_private={'127.0.0.1'}, quiet=True)
    web.reset_counts()
    with cf.ProcessPoolExecutor(2, mp_context=mp.get_context('spawn')) as ex:
        st = dl.download(executor=ex, shard_size=9)
    _check(ds, web, urls, st)
    assert st['new'] == {'downloaded': 60}
    assert web.hits('/robots.txt') <= 2, "the shards a worker runs share its robots cache"
    assert dl.download(executor=cf.ThreadPoolExecutor(2))['new'] == {}     # resumed: nothing left to do

@pytest.mark.parametrize('client', ['threads', pytest.param('curl', marks=pytest.mark.skipif(not _has_pycurl(),
                                                                                              reason='no pycurl'))])
def test_processes(tmp_path, web, client):
    "`download(processes=2)`: local worker processes, the same result"
    urls = web.image_urls(120)
    ds = _folder(tmp_path/'ds', urls)
    web.reset_counts()
    st = BasicDownloader(ds.path, client=client, threads=8, allow_private={'127.0.0.1'}, quiet=True).download(
        processes=2)
    _check(ds, web, urls, st)
    assert st['new'] == {'downloaded': 120} and ds.stats['download']['new'] == {'downloaded': 120}
    # robots.txt, and tdmrep.json, ai.txt
    assert web.hits('/robots.txt') <= 2 and web.hits() == 120 + sum(map(web.hits, CONSENT_PATHS))
    with pytest.raises(ValueError, match='processes'): BasicDownloader(ds.path, quiet=True).download(processes=0)

def test_dask_local_cluster(tmp_path, web):
    distributed = pytest.importorskip('distributed')
    urls = web.image_urls(50)
    ds = _folder(tmp_path/'ds', urls)
    with (distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host='127.0.0.1',
                                   dashboard_address=None, silence_logs=40) as cluster,
          distributed.Client(cluster) as client):
        st = BasicDownloader(ds.path, threads=4, allow_private={'127.0.0.1'}, quiet=True).download(
            executor=client.get_executor(), shard_size=10)
        pids = set(client.run(os.getpid).values())
    _check(ds, web, urls, st)
    assert len(pids) == 2 and os.getpid() not in pids

def _free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@pytest.fixture
def s3(monkeypatch):
    pytest.importorskip('s3fs'); moto_server = pytest.importorskip('moto.server')
    for k, v in dict(AWS_ACCESS_KEY_ID='testing', AWS_SECRET_ACCESS_KEY='testing', AWS_DEFAULT_REGION='us-east-1',
                     AWS_EC2_METADATA_DISABLED='true').items(): monkeypatch.setenv(k, v)
    for k in ('AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_CA_BUNDLE'): monkeypatch.delenv(k, raising=False)
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address='127.0.0.1', port=port)
    server.start()
    so = dict(key='testing', secret='testing', endpoint_url=f'http://127.0.0.1:{port}',
              client_kwargs=dict(region_name='us-east-1'))
    import boto3, s3fs
    boto3.client('s3', endpoint_url=so['endpoint_url'], region_name='us-east-1', aws_access_key_id='testing',
                 aws_secret_access_key='testing').create_bucket(Bucket='bucket')
    s3fs.S3FileSystem.clear_instance_cache()
    yield so
    server.stop()

def test_s3_folder(s3, web):
    urls = web.image_urls(30) + [web.fault('404', token='s3'), web.fault('html', token='s3')]
    ds = _folder('s3://bucket/ds', urls, **s3)
    st = BasicDownloader('s3://bucket/ds', threads=8, allow_private={'127.0.0.1'}, quiet=True,
                         storage_options=s3).download()
    assert st['counts'] == {'downloaded': 30, 'failed': 1, 'rejected': 1}
    ds = Dataset('s3://bucket/ds', create=False, **s3)
    for d in ds.docs(status='downloaded'): assert hashlib.sha256(ds.read_image(d)).hexdigest() == d.sha256
    assert sorted(ds.fs.listdir('images')) == sorted(d.file.split('/')[1] for d in ds.docs(status='downloaded'))
    assert [l['reason'] for l in ds.log()] == ['not-an-image']
    assert ds.stats['download']['counts'] == st['counts']
    # and from Dask-like workers: shards on a process pool writing to the same bucket
    _ds2 = _folder('s3://bucket/ds2', urls[:20], **s3)
    with cf.ProcessPoolExecutor(2, mp_context=mp.get_context('spawn')) as ex:
        st2 = BasicDownloader('s3://bucket/ds2', threads=4, allow_private={'127.0.0.1'}, quiet=True,
                              storage_options=s3).download(executor=ex, shard_size=5)
    assert st2['counts'] == {'downloaded': 20}
