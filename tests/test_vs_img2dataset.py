"""One local URL list through img2dataset and through web2dataset, compared: what each kept, and the bytes.

Runs where img2dataset is installed: `IMG2DATASET=/path/to/bin/img2dataset`, else `img2dataset` on the PATH (it is not a
dependency of web2dataset; the benchmark installs it in an environment of its own). Skipped otherwise."""
import hashlib, json, os, shutil, subprocess
from pathlib import Path
import pytest
from web2dataset.core import Dataset
from web2dataset.downloader import BasicDownloader
from web2dataset.searcher import UrlListSearcher
from web2dataset.testing import LocalWeb

I2D = os.environ.get('IMG2DATASET') or shutil.which('img2dataset')
pytestmark = pytest.mark.skipif(not I2D, reason='img2dataset is not installed (set IMG2DATASET to its executable)')

FAULTS = ('404', 'html', 'truncated', 'corrupt', 'svg', 'noai', 'empty')

@pytest.fixture(scope='module')
def web():
    with LocalWeb(n_images=20, keep_requests=False) as w: yield w

def img2dataset_kept(urls_file:Path, out:Path, *flags)->dict:
    "url -> sha256 of the file img2dataset kept for it (its per-sample .json says which URL a file is)"
    subprocess.run([I2D, '--url_list', str(urls_file), '--output_folder', str(out), '--input_format', 'txt',
                    '--output_format', 'files', '--processes_count', '1', '--thread_count', '8', '--timeout', '10',
                    '--retries', '0', '--enable_wandb', 'False', *flags], check=True, capture_output=True, timeout=600)
    kept = {}
    for meta in out.rglob('*.json'):
        if not meta.stem.isdigit(): continue                       # a shard's stats
        m = json.loads(meta.read_text())
        if m.get('status') != 'success': continue
        img = next(p for p in meta.parent.glob(meta.stem + '.*') if p.suffix not in ('.json', '.txt'))
        kept[m['url']] = hashlib.sha256(img.read_bytes()).hexdigest()
    return kept

def web2dataset_kept(urls_file:Path, out:Path, **kw)->dict:
    "url -> sha256 of the file web2dataset kept for it"
    ds = Dataset(out)
    BasicDownloader(out, allow_private={'127.0.0.1'}, quiet=True, **kw).download(
        docs=UrlListSearcher(urls_file).iter_docs())
    return {d.image_url: hashlib.sha256(ds.read_image(d)).hexdigest() for d in ds.docs(status='downloaded')}

def test_same_list_both_tools(web, tmp_path):
    good = web.image_urls(20)
    bad = {f: web.fault(f, token='i2d') for f in FAULTS}
    (tmp_path/'list.txt').write_text('\n'.join(good + list(bad.values())) + '\n')
    theirs = img2dataset_kept(tmp_path/'list.txt', tmp_path/'i2d', '--resize_mode', 'no',
                              '--disable_all_reencoding', 'True')
    ours = web2dataset_kept(tmp_path/'list.txt', tmp_path/'w2d')
    assert set(ours) == set(good)                                   # every good image, none of the faults
    for u in good: assert ours[u] == hashlib.sha256(web.content(u)).hexdigest()
    both = set(ours) & set(theirs)
    assert both == set(good), sorted(set(good) - set(theirs))       # img2dataset keeps the good ones too...
    assert all(ours[u] == theirs[u] for u in both)                  # ...with the same bytes
    # what only img2dataset kept (without re-encoding it does not decode; noai: it reads the header)
    extra = {f for f, u in bad.items() if u in theirs}
    assert extra <= {'html', 'truncated', 'corrupt', 'svg', 'empty'}, extra
    print(f"img2dataset also kept: {sorted(extra)}; web2dataset rejected them")

def test_resize_mode_both_tools(web, tmp_path):
    "With a resize mode, both give images of the same size"
    good = web.image_urls(8)
    (tmp_path/'list.txt').write_text('\n'.join(good) + '\n')
    for mode in ('border', 'center_crop', 'keep_ratio'):
        img2dataset_kept(tmp_path/'list.txt', tmp_path/f'i2d-{mode}', '--resize_mode', mode, '--image_size', '64')
        web2dataset_kept(tmp_path/'list.txt', tmp_path/f'w2d-{mode}', resize_mode=mode, image_size=64)
        metas = [json.loads(p.read_text()) for p in (tmp_path/f'i2d-{mode}').rglob('*.json') if p.stem.isdigit()]
        theirs = {m['url']: (m['width'], m['height']) for m in metas if m['status'] == 'success'}
        ours = {d.image_url: (d.width, d.height) for d in Dataset(tmp_path/f'w2d-{mode}').docs(status='downloaded')}
        assert len(ours) == 8 and ours == theirs, (mode, ours, theirs)
