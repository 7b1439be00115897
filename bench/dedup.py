"""Near-duplicate benchmark: web2dataset's perceptual hashing and search against the tools users would pick instead.

    python bench/dedup.py                 # everything (about 10 minutes on 2 cores)
    python bench/dedup.py --quick         # smaller sizes

1. Hashing throughput: `web2dataset.cleaner.phash_files` against `imagehash.phash(Image.open(f))` (and imagededup's
   PHash.encode_images when installed) on the same JPEG and PNG files.
2. Quality on the evaluation set (`dedup_eval_set`): pair precision/recall/F1 of both at the same threshold.
3. Search: `near_pairs` against imagededup's `PHash.find_duplicates` on the same synthetic hashes (100 000),
   checking that both find the same pairs; then `near_pairs` alone on 1 000 000 hashes.
4. Low-content images (issue #16): hashing throughput of `phash_files` (hash only, as before) against
   `fingerprint_files` (hash + content print, what the cleaner computes now) on photos and on icons; pair and folder
   scores of the hash alone and of the hash verified by the prints, on the photos and on `low_content_eval_set`;
   `near_pairs` against `near_duplicates` (the search plus the verification) at 1 000 000 hashes.
5. Index: `near_pairs` against faiss's `IndexBinaryMultiHash` range search (`pip install faiss-cpu`) at 1 000 000 and
   10 000 000 hashes, each in a child process of its own (time, peak memory above the loaded hashes, same pairs),
   one after the other in one run:  `python bench/dedup.py --index [--sizes 1000000,10000000]`.

Figures of the last run (2 cores shared with five other sessions, load 10-16: absolute times are 5-12x those of a
quiet machine, ratios are side by side): faiss IndexBinaryMultiHash finds exactly our pairs but is x10.7 slower at
100 000 hashes (nhash=3, nflip=2; peak memory x1.17) and x18.8 (nhash=5, nflip=1; x0.76); at 1 000 000, ours 201-222 s
(peak 355 MB above the hashes) and faiss (nhash=3) not done after 1 200 s. Hence our index stays and faiss is not a
dependency. 10 000 000: ours did not finish within 900 s on that machine; not measured on a quiet one.

imagededup is not a dependency of web2dataset: install it in a separate environment to compare
(`pip install --no-deps imagededup` plus numpy, pillow, scipy, pywavelets, scikit-learn, matplotlib, tqdm). Its PHash
does not need torch, but the package imports torch when loaded; if torch is missing we register empty stand-ins for
its two torch modules (`imagededup.utils.models`, `imagededup.methods.cnn`), which PHash never calls.
"""
import argparse, io, os, sys, tempfile, time, types
from pathlib import Path

import numpy as np
from PIL import Image

from web2dataset.cleaner import (DEFAULT_THRESHOLD, dedup_eval_set, near_pairs, pair_scores, phash_files, _rgb,
                                 EVAL_PHOTOS, fingerprint_files, low_content_eval_set, near_duplicates)


def imagededup_phash():
    "imagededup's PHash class, or None when it is not installed"
    try:
        from imagededup.methods import PHash
        return PHash
    except ModuleNotFoundError as e:
        if e.name not in ('torch', 'torchvision'): return None
    for name, attrs in (('imagededup.utils.models', ('CustomModel', 'MobilenetV3', 'ViT', 'EfficientNet')),
                        ('imagededup.methods.cnn', ('CNN',))):
        m = types.ModuleType(name)
        for a in attrs: setattr(m, a, None)
        sys.modules[name] = m
    for k in [k for k in sys.modules
              if k.startswith('imagededup') and k not in ('imagededup.utils.models', 'imagededup.methods.cnn')]:
        del sys.modules[k]
    try:
        from imagededup.methods import PHash
        return PHash
    except ModuleNotFoundError: return None


def timed(f, *args, **kw):
    t = time.perf_counter(); r = f(*args, **kw); return r, time.perf_counter() - t


def write_files(folder:Path, n:int):
    "n photos as files: 3/4 JPEG at 1024x768 (typical web photos), 1/4 PNG at 640x480"
    import skimage.data as skd
    srcs = [_rgb(getattr(skd, p)()) for p in EVAL_PHOTOS]
    files = []
    for i in range(n):
        im = srcs[i % len(srcs)].rotate(i * 7 % 360)
        if i % 4 == 3: f = folder/f'{i}.png'; im.resize((640, 480)).save(f)
        else: f = folder/f'{i}.jpg'; im.resize((1024, 768)).save(f, quality=90)
        files.append(f)
    return files


def bench_hashing(n, PHash):
    import imagehash
    print(f"\n## Hashing {n} files (3/4 JPEG 1024x768, 1/4 PNG 640x480)")
    with tempfile.TemporaryDirectory() as d:
        files = write_files(Path(d), n)
        ref, t_ref = timed(lambda: [str(imagehash.phash(Image.open(f))) for f in files])
        for ext in ('jpg', 'png'):
            fs = [f for f in files if f.suffix == '.' + ext]
            _, a = timed(lambda: [imagehash.phash(Image.open(f)) for f in fs])
            _, b = timed(phash_files, fs, workers=1)
            print(f"{ext}: imagehash {len(fs) / a:5.0f}/s, phash_files 1 thread {len(fs) / b:5.0f}/s   x{a / b:.1f}")
        ours1, t1 = timed(phash_files, files, workers=1)
        ours, t2 = timed(phash_files, files, workers=os.cpu_count())
        print(f"imagehash.phash(Image.open(f)):  {n / t_ref:7.0f} images/s")
        print(f"phash_files, 1 thread:           {n / t1:7.0f} images/s   x{t_ref / t1:.1f}")
        print(f"phash_files, {os.cpu_count()} threads:          {n / t2:7.0f} images/s   x{t_ref / t2:.1f}")
        same = sum(a == b for a, b in zip(ref, ours))
        close = np.mean([bin(int(a, 16) ^ int(b, 16)).count('1') for a, b in zip(ref, ours)])
        print(f"identical to imagehash: {same}/{n}, mean distance {close:.2f} bits")
        if PHash:
            _, t3 = timed(PHash(verbose=False).encode_images, image_dir=d, num_enc_workers=os.cpu_count())
            print(f"imagededup PHash.encode_images ({os.cpu_count()} workers): {n / t3:7.0f} images/s   "
                  f"-> ours x{t3 / t2:.1f}")


def bench_quality(PHash):
    print(f"\n## Evaluation set (threshold {DEFAULT_THRESHOLD})")
    ev = dedup_eval_set()
    groups = [g for g, _, _ in ev]
    with tempfile.TemporaryDirectory() as d:
        files = []
        for k, (g, v, b) in enumerate(ev):
            ext = 'png' if b.startswith(b'\x89PNG') else 'jpg'
            f = Path(d)/f'{k:04d}.{ext}'; f.write_bytes(b); files.append(f)
        ours = phash_files(files)
        s = pair_scores(groups, ours, DEFAULT_THRESHOLD)
        print(f"web2dataset:  precision {s['precision']:.3f} recall {s['recall']:.3f} F1 {s['f1']:.3f} "
              f"({s['found']} pairs)")
        if PHash:
            ph = PHash(verbose=False)
            enc = ph.encode_images(image_dir=d)
            dup = ph.find_duplicates(encoding_map=enc, max_distance_threshold=DEFAULT_THRESHOLD)
            idx = {f.name: k for k, f in enumerate(files)}
            pairs = {tuple(sorted((idx[a], idx[b]))) for a, bs in dup.items() for b in bs}
            g = np.array(groups)
            tp = sum(g[a] == g[b] for a, b in pairs)
            true = sum(c * (c - 1) // 2 for c in __import__('collections').Counter(groups).values())
            p, r = tp / max(len(pairs), 1), tp / true
            print(f"imagededup:   precision {p:.3f} recall {r:.3f} F1 {2 * p * r / (p + r):.3f} ({len(pairs)} pairs)")


def synthetic(n, t, frac=0.1, seed=0):
    "n random 64-bit hashes of which `frac` are copies of others with 0..t bits flipped"
    rng = np.random.default_rng(seed)
    h = rng.integers(0, 2**64, n, dtype=np.uint64, endpoint=False)
    k = int(n * frac); src = rng.integers(0, n - k, k)
    flips = rng.integers(0, t + 1, k)
    order = rng.random((k, 64)).argsort(axis=1)
    masks = np.zeros(k, np.uint64)
    for c in range(64):
        masks |= np.where(c < flips, np.uint64(1) << order[:, c].astype(np.uint64), np.uint64(0))
    h[n - k:] = h[src] ^ masks
    return h


def bench_search(n, PHash, t=DEFAULT_THRESHOLD, compare=True):
    print(f"\n## Search: {n:,} hashes, threshold {t}")
    h = synthetic(n, t)
    (i, j, d), took = timed(near_pairs, h, t)
    print(f"near_pairs:  {took:8.1f} s  {len(i):,} pairs")
    if PHash and compare:
        enc = {str(k): f'{int(x):016x}' for k, x in enumerate(h)}
        ph = PHash(verbose=False)
        dup, t2 = timed(ph.find_duplicates, encoding_map=enc, max_distance_threshold=t, num_dist_workers=os.cpu_count())
        theirs = {tuple(sorted((int(a), int(b)))) for a, bs in dup.items() for b in bs}
        ours = set(zip(i.tolist(), j.tolist()))
        print(f"imagededup find_duplicates (brute_force_cython, {os.cpu_count()} workers): {t2:8.1f} s  "
              f"{len(theirs):,} pairs")
        print(f"same pairs: {ours == theirs}; near_pairs is x{t2 / took:.1f} faster")


def bench_fingerprint(n, rounds=3):
    "Throughput of the hash alone (as before) and of the hash + content print, same files, alternated"
    print(f"\n## Hashing with content prints: {n} photos, then the {len(low_content_eval_set())} low-content images")
    with tempfile.TemporaryDirectory() as d:
        photos = write_files(Path(d), n)
        low = []
        for k, (_, _, b) in enumerate(low_content_eval_set()):
            ext = 'png' if b.startswith(b'\x89PNG') else 'jpg'
            f = Path(d)/f'low{k}.{ext}'; f.write_bytes(b); low.append(f)
        for name, files in (('photos', photos), ('low-content', low)):
            a = b = c = float('inf')
            for _ in range(rounds):
                a = min(a, timed(phash_files, files, workers=os.cpu_count())[1])
                b = min(b, timed(fingerprint_files, files, workers=os.cpu_count())[1])
                c = min(c, timed(fingerprint_files, files, workers=os.cpu_count(), print_now=True)[1])
            print(f"{name:12} phash_files {len(files) / a:6.0f}/s  "
                  f"fingerprint_files {len(files) / b:6.0f}/s (x{a / b:.3f})  "
                  f"with every print made now {len(files) / c:6.0f}/s (x{a / c:.3f})  (best of {rounds}, alternated)")


def _folder_scores(ev):
    "Clean a folder holding `ev` with DuplicateCleaner; precision/recall for photos and for low-content groups"
    from web2dataset.cleaner import DuplicateCleaner, folder_scores
    from web2dataset.core import Dataset, Document
    import dataclasses
    with tempfile.TemporaryDirectory() as d:
        ds, group_of, rng = Dataset(d), {}, np.random.default_rng(1)
        for k, (g, v, b) in enumerate(ev):
            im = Image.open(io.BytesIO(b))
            doc = Document(f'https://example.org/{g}/{v}/{k}', license=str(rng.choice(['cc0-1.0', 'unknown'])),
                           rank=int(rng.integers(0, 50)))
            rel = ds.write_image(doc.uuid, im.format, b)
            ds.update(dataclasses.replace(doc, status='downloaded', file=rel, format=im.format, width=im.width,
                                          height=im.height, bytes=len(b)))
            group_of[doc.uuid] = g
        _, took = timed(ds.clean, [DuplicateCleaner()], quiet=True)
        low = {u: g for u, g in group_of.items() if g.startswith('low-')}
        return folder_scores(ds, {u: g for u, g in group_of.items() if u not in low}), folder_scores(ds, low), took


def bench_low_quality():
    print(f"\n## Low-content images: pair scores (threshold {DEFAULT_THRESHOLD}) and the cleaner on a folder")
    from web2dataset.cleaner import fingerprint
    for name, ev in (('photos', dedup_eval_set()), ('low-content', low_content_eval_set())):
        g = [x[0] for x in ev]; fp = [fingerprint(b, print_now=True) for _, _, b in ev]
        h, p = [x[0] for x in fp], [x[1] for x in fp]
        for how, s in (('hash alone    ', pair_scores(g, h, DEFAULT_THRESHOLD)),
                       ('hash + print  ', pair_scores(g, h, DEFAULT_THRESHOLD, prints=p))):
            print(f"{name:12} {how} precision {s['precision']:.3f} recall {s['recall']:.3f} "
                  f"false pairs {s['false_pairs']:>5} of {s['found']}")
    photos, low, took = _folder_scores(dedup_eval_set() + low_content_eval_set())
    for name, s in (('photos', photos), ('low-content', low)):
        print(f"cleaner, one folder, {name:12} precision {s['precision']:.3f} recall {s['recall']:.3f} "
              f"({s['right']} of {s['redundant']} redundant copies, {s['rejected']} rejected)")
    print(f"cleaning the folder ({len(dedup_eval_set()) + len(low_content_eval_set())} images, hashing included): "
          f"{took:.1f} s")


def bench_verify_overhead(n, t=DEFAULT_THRESHOLD, rounds=2):
    "near_pairs against near_duplicates (no prints: photos; and 10% low-content prints) on the same hashes"
    from web2dataset.cleaner import fingerprint
    print(f"\n## Search + verification: {n:,} hashes, threshold {t}")
    h = synthetic(n, t)
    none = [''] * n
    lp = [fingerprint(b, print_now=True)[1] for _, _, b in low_content_eval_set()]
    some = [lp[k % len(lp)] if k % 10 == 0 else '' for k in range(n)]   # 10% low-content (their hashes stay random)
    a = b = c = float('inf')
    for _ in range(rounds):
        a = min(a, timed(near_pairs, h, t)[1]); b = min(b, timed(near_duplicates, h, none, t)[1])
        c = min(c, timed(near_duplicates, h, some, t)[1])
    print(f"near_pairs {a:6.1f} s   near_duplicates, no prints {b:6.1f} s (x{b / a:.3f})   "
          f"with 10% prints {c:6.1f} s (x{c / a:.3f})")


def _rss_mb():
    with open('/proc/self/statm') as f: return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20


def _child_search(method, path, t, out):
    "Run one index on the hashes saved at `path`; write seconds, peak MB above the loaded hashes, pair count and digest"
    import json, resource, hashlib
    h = np.load(path); n = len(h)
    base = _rss_mb()
    t0 = time.perf_counter()
    if method == 'ours':
        i, j, _ = near_pairs(h, t)
    else:
        import faiss
        faiss.omp_set_num_threads(os.cpu_count())
        nhash, nflip = {'faiss-multihash-5': (5, 1), 'faiss-multihash-3': (3, 2), 'faiss-multihash-9': (9, 0)}[method]
        idx = faiss.IndexBinaryMultiHash(64, nhash, 64 // nhash); idx.nflip = nflip   # nhash * (nflip + 1) > t: exact
        idx.add(np.ascontiguousarray(h.view(np.uint8).reshape(n, 8)))
        # the radius is exclusive
        lims, _, I = idx.range_search(np.ascontiguousarray(h.view(np.uint8).reshape(n, 8)), t + 1)
        q = np.repeat(np.arange(n), np.diff(lims.astype(np.int64))); keep = q < I
        i, j = q[keep], I[keep]
    took = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base
    key = np.sort(i.astype(np.int64) * n + j)
    json.dump(dict(seconds=took, peak_mb=peak, pairs=len(i), digest=hashlib.sha1(key.tobytes()).hexdigest()),
              open(out, 'w'))


def bench_index(sizes, methods=('ours', 'faiss-multihash-3', 'faiss-multihash-5'), t=DEFAULT_THRESHOLD, timeout=1800):
    "Each index in a child process, one after the other on the same saved hashes"
    import json, subprocess
    print(f"\n## Index: ours against faiss IndexBinaryMultiHash (range search, exact), threshold {t}, "
          f"{os.cpu_count()} cores")
    for n in sizes:
        with tempfile.TemporaryDirectory() as d:
            path = Path(d)/'h.npy'; np.save(path, synthetic(n, t)); res = {}
            for m in methods:
                out = Path(d)/f'{m}.json'
                try: r = subprocess.run([sys.executable, __file__, '--child', m, str(path), str(t), str(out)],
                                        capture_output=True, text=True, timeout=timeout)
                except subprocess.TimeoutExpired: print(f"{n:>11,} {m:18} stopped after {timeout} s"); continue
                if r.returncode:
                    print(f"{m}: failed ({r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode})")
                    continue
                res[m] = json.loads(out.read_text())
                print(f"{n:>11,} {m:18} {res[m]['seconds']:8.1f} s  peak {res[m]['peak_mb']:7.0f} MB  "
                      f"{res[m]['pairs']:,} pairs", flush=True)
            if 'ours' in res:
                for m in res:
                    if m == 'ours': continue
                    print(f"{'':11} {m} / ours: time x{res[m]['seconds'] / res['ours']['seconds']:.2f}, "
                          f"memory x{res[m]['peak_mb'] / max(res['ours']['peak_mb'], 1):.2f}, "
                          f"same pairs {res[m]['digest'] == res['ours']['digest']}")


if __name__ == '__main__':
    if len(sys.argv) > 1 and sys.argv[1] == '--child':
        _child_search(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]); sys.exit()
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true', help='smaller sizes')
    ap.add_argument('--n-compare', type=int, default=None,
                    help='hashes for the side-by-side search (default 20 000; imagededup needs ~1-2 min there '
                         'and ~16 min at 100 000 on 2 quiet cores)')
    ap.add_argument('--low', action='store_true', help='only the low-content part (4)')
    ap.add_argument('--index', action='store_true', help='only the index comparison with faiss (5)')
    ap.add_argument('--sizes', default='1000000,10000000', help='hash counts for --index, comma-separated')
    ap.add_argument('--methods', default='ours,faiss-multihash-3,faiss-multihash-5',
                    help='indexes for --index, comma-separated')
    ap.add_argument('--timeout', type=int, default=1800, help='seconds after which one index run is stopped (--index)')
    a = ap.parse_args()
    if a.index: bench_index([int(x) for x in a.sizes.split(',')], a.methods.split(','), timeout=a.timeout); sys.exit()
    if a.low:
        bench_fingerprint(100 if a.quick else 400); bench_low_quality()
        bench_verify_overhead(100_000 if a.quick else 1_000_000)
        sys.exit()
    PHash = imagededup_phash()
    print(f"imagededup: {'installed' if PHash else 'not installed (comparisons skipped)'}; {os.cpu_count()} cores")
    bench_hashing(100 if a.quick else 400, PHash)
    bench_quality(PHash)
    bench_search(a.n_compare or (5_000 if a.quick else 20_000), PHash)
    bench_search(100_000 if a.quick else 1_000_000, PHash, compare=False)
    if not a.quick: bench_search(1_000_000, PHash, t=10, compare=False)
    bench_fingerprint(100 if a.quick else 400); bench_low_quality()
    bench_verify_overhead(100_000 if a.quick else 1_000_000)
