#!/usr/bin/env python
"""First paint of the review page on a folder of 10 000 images, in headless Chromium.

Builds (once, in --folder) a dataset of N small JPEG images in 10 labels with records as the downloader writes them,
then measures: reading the records when the server starts, the first paint of the page (Chromium's `first-paint`
entry) with its thumbnails made on demand, the same page again with the thumbnails cached, and the 10th page.
Timings are recorded, not asserted; the machine may be shared.

    python bench/review.py [--n 10000] [--folder /tmp/review-bench]
"""
import argparse, dataclasses, hashlib, io, os, shutil, sys, time
from pathlib import Path
import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from web2dataset.core import Dataset, Document, now_iso
from web2dataset.review import ReviewServer
from web2dataset.google import CHROMIUM_FLAGS, chromium_path

def build(folder:Path, n:int)->Dataset:
    "A folder of `n` 320x240 JPEG images in 10 labels (kept if it is already complete)"
    ds = Dataset(folder)
    have = len(ds)
    rng = np.random.default_rng(0)
    for k in range(have, n):
        a = (rng.random((12, 16, 3)) * 255).astype(np.uint8)
        buf = io.BytesIO(); Image.fromarray(a).resize((320, 240), Image.BICUBIC).save(buf, 'JPEG', quality=80)
        data = buf.getvalue()
        d = Document(f'https://example.org/{k}.jpg', query=f'class {k % 10}', engine='bench', label=f'class-{k % 10}',
                     license='cc0-1.0')
        ds.update(dataclasses.replace(d, status='downloaded', file=ds.write_image(d.uuid, 'JPEG', data), format='JPEG',
                                      bytes=len(data), sha256=hashlib.sha256(data).hexdigest(), downloaded_at=now_iso(),
                                      extra=dict(suspicion=round(float(rng.random()), 3))))
    return ds

def paint(url:str)->dict:
    "Seconds to first paint and to every image loaded, for `url` in a fresh headless Chromium page"
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        out = {}
        for name, u in (('first visit', url), ('again (thumbnails cached)', url), ('page 10', url + '&page=9')):
            pg = b.new_page()
            t = time.perf_counter(); pg.goto(u, wait_until='load'); loaded = time.perf_counter() - t
            pg.wait_for_function("performance.getEntriesByName('first-contentful-paint').length > 0", timeout=20_000)
            fp = pg.evaluate("(performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1000) / 1000")
            out[name] = (fp, loaded, pg.locator('figure.tile').count())
            pg.close()
        b.close()
    return out

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--n', type=int, default=10_000)
    ap.add_argument('--folder', default='/tmp/web2dataset-review-bench')
    a = ap.parse_args()
    t = time.perf_counter(); ds = build(Path(a.folder), a.n)
    print(f"folder of {len(ds)} images ready in {time.perf_counter() - t:.1f}s")
    shutil.rmtree(Path(a.folder)/'.cache', ignore_errors=True)   # thumbnails are made on demand on the first visit
    t = time.perf_counter(); srv = ReviewServer(ds).start()
    print(f"server ready (records read) in {time.perf_counter() - t:.1f}s")
    try:
        import requests
        t = time.perf_counter(); requests.get(srv.url).raise_for_status()
        print(f"the page HTML (60 of {len(ds)} records, counts over all) served in {time.perf_counter() - t:.2f}s")
        for k, (fp, loaded, tiles) in paint(srv.url).items():
            print(f"{k}: first contentful paint {fp:.2f}s, page and {tiles} thumbnails loaded {loaded:.2f}s")
    finally: srv.stop(refresh=False)

if __name__ == '__main__': main()
