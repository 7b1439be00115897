#!/usr/bin/env python
"""Download benchmark: web2dataset's BasicDownloader against img2dataset, on the same local web, in one run.

    python bench/download.py                      # 2000 images of ~40 KB, 50 ms latency, 3 runs each;
                                                  # then 100 000 URLs for peak RSS
    python bench/download.py --n 500 --big 0 --repeat 1             # quick
    python bench/download.py --client curl,threads --dir /dev/shm   # both HTTP clients, outputs in memory
    python bench/download.py --img2dataset /path/to/venv/bin/img2dataset
    python bench/download.py --hosts 50 --big 0    # many hosts, every web2dataset default: Quick start and CLI paths
    python bench/download.py --faults 15           # one host serving every fault kind x 15, every default
    python bench/download.py --flaky 90            # one host: a third of 90 images answer 429 or 503 once

The local web (`web2dataset.testing.LocalWeb(process=True)`) serves from its own process, so that it does not share
the GIL with the clients. Each tool runs as its own process, timed from start to exit (imports, reading the URL
list and writing every file included), one after the other on the same URL list. web2dataset starts from the URL
list too: `download(docs=UrlListSearcher(list).iter_docs())` adds each URL and downloads, validates and records it
in one pass (`--records-first`: a `found` record per URL first, then the download, as after a search), per-host
limits lifted (`max_per_host=None, rate_per_host=None`, one local host as img2dataset sees it without limits).
img2dataset runs as the issue asks: `--output_format files --resize_mode no
--disable_all_reencoding True --processes_count 2 --thread_count 64`; web2dataset with as many processes
(`download(processes=2)`). The runs are interleaved; before each, `os.sync()` flushes the files of the last one so
that its disk writes do not land on the next tool. Prints images/s for each (best and median) and the ratios.

The disk matters. The 2-CPU development VM's root file system is ext4 *without a journal*, and there ext4 avoids
reusing an inode deleted in the last 60 s (300 s if its block is dirty): every file creation scans past them
(`perf` puts 70% of the kernel time in `recently_deleted`). After a test run or a benchmark deleted thousands of files,
creating a file costs 0.3-0.6 ms of kernel time instead of 0.02 ms, and a run spends 1.5-2 ms per image in the
kernel, whichever tool it is. So the outputs are kept until the end of the benchmark (each run writes a new folder),
the kernel part of each run's CPU time is printed, `--settle 300` waits out earlier deletions, and `--dir /dev/shm`
measures the tools without any disk.

The 100 000-URL run reports the peak resident memory of the web2dataset process (`ru_maxrss`).

`--hosts N` looks more like the web: N local webs on 127.0.0.2, 127.0.0.3, ... (all in one server process), the
URLs spread over them in turn, and web2dataset with every default left on (per-host limits, robots.txt, processes and
transfers chosen by the library) along the two paths a user takes: the Quick start's Python path
(`UrlListSearcher(list).search()`, `.save(folder)`, then `BasicDownloader(folder).download()`) and the command line
(`web2dataset download FOLDER --urls LIST`). img2dataset runs as above.

`--faults K` is a server that stumbles: one local web, K URLs of every fault kind `LocalWeb` serves (hangs, drips,
resets, 429/503 with and without `Retry-After`, bombs, opt-outs...), shuffled, downloaded with every default left on
(`BasicDownloader(folder).download()` in a process of its own, per client). It prints the wall time and checks every
document's end state against `web2dataset.testing.FAULT_ENDS`.

`--flaky N` is a server with sporadic errors: N good images on one local web, every third of which answers once
with 429 (`Retry-After: 1`) or 503 before it serves the image; every default left on. It prints the wall time and how
many images arrived (all of them should)."""
import argparse, os, resource, shutil, subprocess, sys, tempfile, time
from pathlib import Path

W2D = r'''
import sys, time, json
from web2dataset.core import Dataset
from web2dataset.downloader import BasicDownloader
from web2dataset.searcher import UrlListSearcher
urls, out, client, mode = sys.argv[1], sys.argv[2], sys.argv[5], sys.argv[6]
threads, processes = int(sys.argv[3]), int(sys.argv[4])
def main():
    ds = Dataset(out)
    docs = UrlListSearcher(urls).iter_docs()
    if mode == 'records': ds.add(docs); docs = None          # search step first: a `found` record per URL
    dl = BasicDownloader(out, client=client, threads=threads, max_per_host=None, rate_per_host=None, allow_private=True,
                         quiet=True)
    print(json.dumps(dl.download(processes=processes, docs=docs)))
if __name__ == '__main__': main()
'''

QUICKSTART = r'''
import sys
from web2dataset.downloader import BasicDownloader
from web2dataset.searcher import UrlListSearcher
s = UrlListSearcher(sys.argv[1], quiet=True)
s.search()
s.save(sys.argv[2])
print(BasicDownloader(sys.argv[2], quiet=True).download())
'''

def quickstart_cmd(urls, out): return [sys.executable, '-c', QUICKSTART, str(urls), str(out)]
def cli_cmd(urls, out): return [sys.executable, '-c', 'import sys; from web2dataset.cli import main; sys.exit(main())',
                                'download', str(out), '--urls', str(urls), '--quiet']

def _serve_hosts(n, kw, conn):
    "The server process of `--hosts`: `n` local webs on 127.0.0.2... sharing one picture pool, until told to stop"
    from web2dataset.testing import LocalWeb
    webs = [LocalWeb(host=f'127.0.0.{2 + i}', **kw) for i in range(n)]
    webs[0].warm()
    for w in webs: w._pool = webs[0]._pool; w.start()
    conn.send([w.url for w in webs])
    try: conn.recv()
    except EOFError: pass
    for w in webs: w.stop()

class Hosts:
    "`n` local webs on their own loopback addresses, served from one child process"
    def __init__(self, n, **kw): self.n, self.kw = n, kw
    def __enter__(self):
        import multiprocessing as mp
        ctx = mp.get_context('spawn')
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve_hosts, args=(self.n, self.kw, child), daemon=True)
        self.proc.start(); child.close()
        if not self.conn.poll(300): raise RuntimeError('the local webs did not start')
        self.urls = self.conn.recv()
        return self
    def image_urls(self, k): return [f'{self.urls[i % self.n]}/img/gen/{i}.jpg' for i in range(k)]
    def __exit__(self, *exc):
        try: self.conn.send('stop')
        except OSError: pass
        self.proc.join(20)
        if self.proc.is_alive(): self.proc.terminate()

def many_hosts(a, i2d, tmp):
    "The `--hosts` run: Quick start path, CLI path and img2dataset, interleaved; images/s and ratios"
    env = user_env(WEB2DATASET_ALLOW_PRIVATE='1')
    tools = ['w2d-quickstart', 'w2d-cli'] + (['img2dataset'] if i2d else [])
    print(f"{os.cpu_count()} CPUs; {a.n} images of ~{a.image_bytes // 1000} KB over {a.hosts} hosts, "
          f"{a.latency * 1000:.0f} ms latency; web2dataset with its defaults; img2dataset: {i2d or 'not installed'}")
    kw = dict(latency=a.latency, image_bytes=a.image_bytes, n_images=8, with_skimage=False, keep_requests=False)
    with Hosts(a.hosts, **kw) as web:
        urls = tmp/'urls.txt'
        urls.write_text('\n'.join(web.image_urls(a.n)) + '\n')
        if a.settle: print(f"waiting {a.settle:.0f} s for the file system to settle"); time.sleep(a.settle)
        cmd_for = lambda tool, out: (i2d_cmd(i2d, urls, out) if tool == 'img2dataset' else
                                     quickstart_cmd(urls, out) if tool == 'w2d-quickstart' else cli_cmd(urls, out))
        res = interleaved(tools, cmd_for, tmp, a.repeat, env=env, server=web.proc.pid)
        report(res)

FAULTS_RUN = r'''
import sys
from web2dataset.downloader import BasicDownloader
print(BasicDownloader(sys.argv[1], client=sys.argv[2], allow_private={'127.0.0.1'}, quiet=True).download())
'''

def fault_corpus(a, clients, tmp):
    "The `--faults` run: every fault kind x `a.faults` on one host, all defaults; wall time and wrong end states"
    import random
    from collections import Counter
    from web2dataset.core import Dataset, Document
    from web2dataset.testing import LocalWeb, FAULTS, FAULT_ENDS
    with LocalWeb(process=True, n_images=8, keep_requests=False) as web:
        kinds = {web.fault(f, token=f'{f}-{i}'): f for f in FAULTS for i in range(a.faults)}
        urls = list(kinds); random.Random(0).shuffle(urls)
        print(f"{len(urls)} URLs on one host: {len(FAULTS)} fault kinds x {a.faults}, shuffled; every default")
        for c in clients:
            out = tmp/f'faults-{c}'
            Dataset(out).add(Document(u, engine='urls', query='faults') for u in urls)
            wall, cpu, _, rc, log = run([sys.executable, '-c', FAULTS_RUN, str(out), c])   # loopback: 127.0.0.1 only
            if rc: print(f"{c} exited {rc}:\n{log[-2000:]}")
            ends = {d.image_url: (d.status, d.reason) for d in Dataset(out).docs()}
            wrong = Counter((kinds[u], *ends.get(u, ('missing', None))) for u in urls
                            if ends.get(u, (None, None))[0] != FAULT_ENDS[kinds[u]][0]
                            or ends[u][1] not in FAULT_ENDS[kinds[u]][1])
            statuses = Counter(s for s, _ in ends.values())
            print(f"  {c:8s} {wall:6.1f} s; {dict(statuses)}; wrong end states: {dict(wrong) or 'none'}")

def proc_cpu(pid):
    "CPU seconds process `pid` has used so far (Linux `/proc`; None elsewhere)"
    try: f = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()
    except OSError: return None
    return (int(f[11]) + int(f[12])) / os.sysconf('SC_CLK_TCK')

def interleaved(tools, cmd_for, tmp, repeat, env=None, server=None):
    """Run each tool `repeat` times, interleaved, each into a new folder; images/s of every run, by tool. `server`: the
    pid of the local web's process, whose CPU time per run is printed too (it shares the machine's cores)"""
    res = {}
    for i in range(repeat):
        for tool in tools:
            out = tmp/f'{tool}-{i}'
            os.sync()   # the last run's files reach the disk now, not during this run
            s0 = server and proc_cpu(server)
            wall, cpu, sys_cpu, rc, log = run(cmd_for(tool, out), env=env)
            s1 = server and proc_cpu(server)
            n = count_images(out if tool == 'img2dataset' else out/'images')
            if rc: print(f"{tool} exited {rc}:\n{log[-2000:]}")
            res.setdefault(tool, []).append(n / wall)
            print(f"  {tool:17s} run {i + 1}: {n} images in {wall:.2f} s = {n / wall:.0f} images/s; "
                  f"client CPU {cpu:.2f} s = {1000 * cpu / max(n, 1):.2f} ms/image "
                  f"({1000 * sys_cpu / max(n, 1):.2f} in the kernel)"
                  + (f"; server CPU {s1 - s0:.2f} s" if s0 is not None and s1 is not None else ""))
            # outputs are kept until the end: deleting 4000 files slows the next run's file creations (see above)
    return res

def flaky_host(a, clients, tmp):
    "The `--flaky` run: `a.flaky` images on one host, a third answering 429 or 503 once; wall time per client"
    import threading
    from collections import Counter
    from web2dataset.core import Dataset, Document
    from web2dataset.testing import LocalWeb
    with LocalWeb(n_images=8, keep_requests=False) as web:   # in this process: the custom route needs it
        jpeg, seen, lock = web.content(web.image_urls(1)[0]), Counter(), threading.Lock()
        def flaky(req):
            with lock: seen[req.path] += 1; first = seen[req.path] == 1
            k = int(req.path.rsplit('/', 1)[-1].split('.')[0])
            if first and k % 3 == 0: return (429, {'Retry-After': '1'}, 'slow down') if k % 2 else (503, {}, 'busy')
            return 200, {'Content-Type': 'image/jpeg'}, jpeg
        web.route('/flaky/*', flaky)
        print(f"{a.flaky} images on one host, a third answering 429 (Retry-After: 1) or 503 once; every default")
        for c in clients:
            seen.clear()
            out = tmp/f'flaky-{c}'
            Dataset(out).add(Document(web.url_for(f'/flaky/{i}.jpg'), engine='urls', query='flaky')
                             for i in range(a.flaky))
            wall, cpu, _, rc, log = run([sys.executable, '-c', FAULTS_RUN, str(out), c])
            if rc: print(f"{c} exited {rc}:\n{log[-2000:]}")
            print(f"  {c:8s} {wall:6.1f} s; {dict(Counter(d.status for d in Dataset(out).docs()))}")

def report(res):
    "Best and median images/s of each tool, and each web2dataset path's ratio to img2dataset"
    med = lambda r: sorted(r)[len(r) // 2]
    for t, r in res.items():
        print(f"{t:17s} best {max(r):.0f}, median {med(r):.0f} images/s ({', '.join(f'{x:.0f}' for x in r)})")
    for t in res:
        if t != 'img2dataset' and 'img2dataset' in res:
            best, mid = max(res[t]) / max(res['img2dataset']), med(res[t]) / med(res['img2dataset'])
            print(f"ratio {t} / img2dataset: best {best:.2f}x, median {mid:.2f}x")

def _cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime, r.ru_stime

def user_env(**more):
    """This environment as a user's would be, plus `more`: without `PYTHONDONTWRITEBYTECODE` (set on the development
    machine), which would make every web2dataset run compile its modules again (about 0.15 s) while img2dataset,
    installed by pip, starts from its compiled bytecode, as a user's web2dataset install does"""
    return {k: v for k, v in {**os.environ, **more}.items() if k != 'PYTHONDONTWRITEBYTECODE'}

def run(cmd, env=None):
    "Wall time, CPU time and its system part (its processes, waited for), exit code and output of `cmd`"
    t, (c, k) = time.perf_counter(), _cpu()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env or user_env())
    c2, k2 = _cpu()
    return time.perf_counter() - t, c2 - c, k2 - k, p.returncode, p.stdout + p.stderr

def peak_rss_mb(cmd):
    "Run `cmd` in a child that reports its own peak RSS (so that earlier runs do not count)"
    probe = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:]); "
             "print('PEAK', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024); sys.exit(p.returncode)")
    t = time.perf_counter()
    p = subprocess.run([sys.executable, '-c', probe, *cmd], capture_output=True, text=True, env=user_env())
    wall = time.perf_counter() - t
    peak = next((float(l.split()[1]) for l in p.stdout.splitlines() if l.startswith('PEAK')), None)
    return wall, p.returncode, peak, p.stdout + p.stderr

def count_images(folder):
    return sum(1 for p in Path(folder).rglob('*') if p.suffix.lower() in ('.jpg', '.jpeg', '.png', '.webp', '.gif'))

def w2d_cmd(urls, out, threads, processes, client, mode='list'):
    return [sys.executable, '-c', W2D, str(urls), str(out), str(threads), str(processes), client, mode]

def i2d_cmd(exe, urls, out):
    return [exe, '--url_list', str(urls), '--output_folder', str(out), '--output_format', 'files',
            '--resize_mode', 'no', '--disable_all_reencoding', 'True', '--processes_count', '2', '--thread_count', '64',
            '--input_format', 'txt']

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
    ap.add_argument('--client', default='auto',
                    help="web2dataset's HTTP clients, comma-separated: auto (curl if pycurl is there), curl, threads")
    ap.add_argument('--records-first', action='store_true',
                    help="web2dataset writes a `found` record per URL, then downloads (the search-then-download path) "
                         "instead of download(docs=...)")
    ap.add_argument('--threads', type=int, default=128, help='web2dataset downloads in flight per process')
    ap.add_argument('--processes', type=int, default=2, help='web2dataset worker processes (img2dataset runs 2)')
    ap.add_argument('--dir', default=None,
                    help='where the outputs go (default: the temporary folder; /dev/shm keeps the disk out)')
    ap.add_argument('--settle', type=float, default=0,
                    help='seconds to wait before the first run (see the notes on ext4 above)')
    ap.add_argument('--repeat', type=int, default=3,
                    help='runs of each tool, interleaved (best, median and all reported)')
    ap.add_argument('--big', type=int, default=100_000, help='URLs of the peak-RSS run (0: skip)')
    ap.add_argument('--hosts', type=int, default=0, help='many hosts: this many local webs on 127.0.0.2... (0: one)')
    ap.add_argument('--faults', type=int, default=0,
                    help='URLs of each fault kind on one host, every default (0: skip)')
    ap.add_argument('--flaky', type=int, default=0,
                    help='images on one host, a third answering 429 or 503 once, every default (0: skip)')
    ap.add_argument('--img2dataset', default=None,
                    help="img2dataset executable (default: on PATH or /tmp/venv-i2d; 'none': skip)")
    a = ap.parse_args()
    os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')   # img2dataset's albumentations would look online

    from web2dataset.testing import LocalWeb
    from web2dataset.downloader import _has_pycurl
    tmp = Path(tempfile.mkdtemp(prefix='w2d-bench-', dir=a.dir))
    i2d = find_img2dataset(a.img2dataset)
    if a.hosts:
        try: return many_hosts(a, i2d, tmp)
        finally: shutil.rmtree(tmp, ignore_errors=True)
    clients = [c if c != 'auto' else ('curl' if _has_pycurl() else 'threads') for c in a.client.split(',')]
    if a.faults or a.flaky:
        try: return fault_corpus(a, clients, tmp) if a.faults else flaky_host(a, clients, tmp)
        finally: shutil.rmtree(tmp, ignore_errors=True)
    tools = [f'web2dataset-{c}' for c in clients] + (['img2dataset'] if i2d else [])
    print(f"{os.cpu_count()} CPUs; {a.n} images of ~{a.image_bytes // 1000} KB, {a.latency * 1000:.0f} ms latency; "
          f"outputs in {tmp}; "
          f"web2dataset: {a.threads} in flight x {a.processes} process(es); img2dataset: {i2d or 'not installed'}")
    try:
        with LocalWeb(process=True, latency=a.latency, image_bytes=a.image_bytes, n_images=8, with_skimage=False,
                      keep_requests=False) as web:
            urls = tmp/'urls.txt'
            urls.write_text('\n'.join(web.image_urls(a.n)) + '\n')
            if a.settle: print(f"waiting {a.settle:.0f} s for the file system to settle"); time.sleep(a.settle)
            mode = 'records' if a.records_first else 'list'
            cmd_for = lambda tool, out: (i2d_cmd(i2d, urls, out) if tool == 'img2dataset' else
                                         w2d_cmd(urls, out, a.threads, a.processes, tool.split('-')[1], mode))
            res = interleaved(tools, cmd_for, tmp, a.repeat if a.n else 0)
            report(res)

            if a.big:
                urls.write_text('\n'.join(web.image_urls(a.big)) + '\n')
                for c in clients:
                    out = tmp/'big'
                    wall, rc, peak, log = peak_rss_mb(w2d_cmd(urls, out, a.threads, 1, c))
                    if rc: print(f"web2dataset exited {rc}:\n{log[-2000:]}")
                    n = count_images(out/'images')
                    print(f"{a.big} URLs, {c} client, 1 process: {n} images in {wall:.0f} s = {n / wall:.0f} "
                          f"images/s, peak RSS {peak:.0f} MB")
                    shutil.rmtree(out, ignore_errors=True)
    finally: shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__': main()
