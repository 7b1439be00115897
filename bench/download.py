#!/usr/bin/env python
"""Download benchmark: web2dataset's BasicDownloader against img2dataset, on the same local web, in one run.

    python bench/download.py                      # 2000 images of ~40 KB, 50 ms latency, then 100 000 URLs for peak RSS
    python bench/download.py --n 500 --big 0      # quick
    python bench/download.py --img2dataset /path/to/venv/bin/img2dataset

The local web (`web2dataset.testing.LocalWeb(process=True)`) serves from its own process, so that it does not share
the GIL with the clients. Each tool runs as its own process, timed from start to exit (imports, reading the URL
list and writing every file included), one after the other on the same URL list. web2dataset starts from the URL
list too: its process writes the dataset folder (one record per URL) then downloads, validates and records every
image, per-host limits lifted (`max_per_host=None, rate_per_host=None`, one local host as img2dataset sees it
without limits). img2dataset runs as the issue asks: `--output_format files --resize_mode no
--disable_all_reencoding True --processes_count 2 --thread_count 64`. Prints images/s for each and the ratio.

The 100 000-URL run reports the peak resident memory of the web2dataset process (`ru_maxrss`)."""
import argparse, os, resource, shutil, subprocess, sys, tempfile, time
from pathlib import Path

W2D = r'''
import sys, time, json
from web2dataset.core import Dataset, Document
from web2dataset.downloader import BasicDownloader
urls, out, threads, processes = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def main():
    ds = Dataset(out)
    with open(urls) as f:
        for line in f:
            if line.strip(): ds.update(Document(line.strip(), engine="urls"))
    dl = BasicDownloader(out, threads=threads, max_per_host=None, rate_per_host=None, allow_private=True, quiet=True)
    if processes > 1:
        import concurrent.futures as cf, multiprocessing as mp
        with cf.ProcessPoolExecutor(processes, mp_context=mp.get_context('fork')) as ex:
            st = dl.download(executor=ex, shard_size=250, max_shards_in_flight=2 * processes)
    else: st = dl.download()
    print(json.dumps(st))
if __name__ == '__main__': main()
'''

def _cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime

def run(cmd, env=None):
    "Wall time, CPU time (its processes, waited for), exit code and output of `cmd`"
    t, c = time.perf_counter(), _cpu()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    return time.perf_counter() - t, _cpu() - c, p.returncode, p.stdout + p.stderr

def peak_rss_mb(cmd):
    "Run `cmd` in a child that reports its own peak RSS (so that earlier runs do not count)"
    probe = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:]); "
             "print('PEAK', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024); sys.exit(p.returncode)")
    t = time.perf_counter()
    p = subprocess.run([sys.executable, '-c', probe, *cmd], capture_output=True, text=True)
    wall = time.perf_counter() - t
    peak = next((float(l.split()[1]) for l in p.stdout.splitlines() if l.startswith('PEAK')), None)
    return wall, p.returncode, peak, p.stdout + p.stderr

def count_images(folder):
    return sum(1 for p in Path(folder).rglob('*') if p.suffix.lower() in ('.jpg', '.jpeg', '.png', '.webp', '.gif'))

def w2d_cmd(urls, out, threads, processes): return [sys.executable, '-c', W2D, str(urls), str(out), str(threads), str(processes)]

def i2d_cmd(exe, urls, out):
    return [exe, '--url_list', str(urls), '--output_folder', str(out), '--output_format', 'files', '--resize_mode', 'no',
            '--disable_all_reencoding', 'True', '--processes_count', '2', '--thread_count', '64', '--input_format', 'txt']

def find_img2dataset(given):
    if given == 'none': return None
    for c in [given, shutil.which('img2dataset'), '/tmp/venv-i2d/bin/img2dataset']:
        if c and Path(c).exists(): return c
    return None

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--n', type=int, default=2000, help='images in the side-by-side run')
    ap.add_argument('--latency', type=float, default=0.05, help='seconds per request at the local web')
    ap.add_argument('--image-bytes', type=int, default=40_000)
    ap.add_argument('--threads', type=int, default=64, help='web2dataset threads per process')
    ap.add_argument('--processes', type=int, default=1, help='web2dataset worker processes')
    ap.add_argument('--repeat', type=int, default=1, help='runs of each tool (best and all reported)')
    ap.add_argument('--big', type=int, default=100_000, help='URLs of the peak-RSS run (0: skip)')
    ap.add_argument('--img2dataset', default=None, help="img2dataset executable (default: on PATH or /tmp/venv-i2d; 'none': skip)")
    a = ap.parse_args()

    from web2dataset.testing import LocalWeb
    tmp = Path(tempfile.mkdtemp(prefix='w2d-bench-'))
    i2d = find_img2dataset(a.img2dataset)
    print(f"{os.cpu_count()} CPUs; {a.n} images of ~{a.image_bytes // 1000} KB, {a.latency * 1000:.0f} ms latency; "
          f"web2dataset {a.threads} threads x {a.processes} process(es); img2dataset: {i2d or 'not installed'}")
    try:
        with LocalWeb(process=True, latency=a.latency, image_bytes=a.image_bytes, n_images=8, with_skimage=False,
                      keep_requests=False) as web:
            urls = tmp/'urls.txt'
            urls.write_text('\n'.join(web.image_urls(a.n)) + '\n')
            res = {}
            for i in range(a.repeat if a.n else 0):
                for tool in (['web2dataset'] + (['img2dataset'] if i2d else [])):
                    out = tmp/f'{tool}-{i}'
                    cmd = w2d_cmd(urls, out, a.threads, a.processes) if tool == 'web2dataset' else i2d_cmd(i2d, urls, out)
                    wall, cpu, rc, log = run(cmd)
                    n = count_images(out/'images' if tool == 'web2dataset' else out)
                    if rc: print(f"{tool} exited {rc}:\n{log[-2000:]}")
                    res.setdefault(tool, []).append((n / wall, n, wall))
                    print(f"  {tool:12s} run {i + 1}: {n} images in {wall:.2f} s = {n / wall:.0f} images/s; "
                          f"client CPU {cpu:.2f} s = {1000 * cpu / max(n, 1):.2f} ms/image")
                    shutil.rmtree(out, ignore_errors=True)
            best = {t: max(r)[0] for t, r in res.items()}
            for t, r in res.items(): print(f"{t:12s} {best[t]:.0f} images/s (best of {len(r)}: {', '.join(f'{x[0]:.0f}' for x in r)})")
            if 'img2dataset' in best: print(f"ratio web2dataset / img2dataset: {best['web2dataset'] / best['img2dataset']:.2f}x")

            if a.big:
                urls.write_text('\n'.join(web.image_urls(a.big)) + '\n')
                out = tmp/'big'
                wall, rc, peak, log = peak_rss_mb(w2d_cmd(urls, out, a.threads, 1))
                if rc: print(f"web2dataset exited {rc}:\n{log[-2000:]}")
                n = count_images(out/'images')
                print(f"{a.big} URLs: {n} images in {wall:.0f} s = {n / wall:.0f} images/s, peak RSS {peak:.0f} MB")
    finally: shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__': main()
