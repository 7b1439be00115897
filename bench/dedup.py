"""Near-duplicate benchmark: web2dataset's perceptual hashing and search against the tools users would pick instead.

    python bench/dedup.py                 # everything (about 10 minutes on 2 cores)
    python bench/dedup.py --quick         # smaller sizes

1. Hashing throughput: `web2dataset.cleaner.phash_files` against `imagehash.phash(Image.open(f))` (and imagededup's
   PHash.encode_images when installed) on the same JPEG and PNG files.
2. Quality on the evaluation set (`dedup_eval_set`): pair precision/recall/F1 of both at the same threshold.
3. Search: `near_pairs` against imagededup's `PHash.find_duplicates` on the same synthetic hashes (100 000), checking that
   both find the same pairs; then `near_pairs` alone on 1 000 000 hashes.

imagededup is not a dependency of web2dataset: install it in a separate environment to compare
(`pip install --no-deps imagededup` plus numpy, pillow, scipy, pywavelets, scikit-learn, matplotlib, tqdm). Its PHash does not
need torch, but the package imports torch when loaded; if torch is missing we register empty stand-ins for its two
torch modules (`imagededup.utils.models`, `imagededup.methods.cnn`), which PHash never calls.
"""
import argparse, io, os, sys, tempfile, time, types
from pathlib import Path

import numpy as np
from PIL import Image

from web2dataset.cleaner import (DEFAULT_THRESHOLD, dedup_eval_set, near_pairs, pair_scores, phash_files, _rgb, EVAL_PHOTOS)


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
    for k in [k for k in sys.modules if k.startswith('imagededup') and k not in ('imagededup.utils.models', 'imagededup.methods.cnn')]:
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
        same = sum(a == b for a, b in zip(ref, ours)); close = np.mean([bin(int(a, 16) ^ int(b, 16)).count('1') for a, b in zip(ref, ours)])
        print(f"identical to imagehash: {same}/{n}, mean distance {close:.2f} bits")
        if PHash:
            _, t3 = timed(PHash(verbose=False).encode_images, image_dir=d, num_enc_workers=os.cpu_count())
            print(f"imagededup PHash.encode_images ({os.cpu_count()} workers): {n / t3:7.0f} images/s   -> ours x{t3 / t2:.1f}")


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
        print(f"web2dataset:  precision {s['precision']:.3f} recall {s['recall']:.3f} F1 {s['f1']:.3f} ({s['found']} pairs)")
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
        print(f"imagededup find_duplicates (brute_force_cython, {os.cpu_count()} workers): {t2:8.1f} s  {len(theirs):,} pairs")
        print(f"same pairs: {ours == theirs}; near_pairs is x{t2 / took:.1f} faster")


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true', help='smaller sizes')
    ap.add_argument('--n-compare', type=int, default=None,
                    help='hashes for the side-by-side search (default 20 000; imagededup needs ~1-2 min there and ~16 min at 100 000 on 2 quiet cores)')
    a = ap.parse_args()
    PHash = imagededup_phash()
    print(f"imagededup: {'installed' if PHash else 'not installed (comparisons skipped)'}; {os.cpu_count()} cores")
    bench_hashing(100 if a.quick else 400, PHash)
    bench_quality(PHash)
    bench_search(a.n_compare or (5_000 if a.quick else 20_000), PHash)
    bench_search(100_000 if a.quick else 1_000_000, PHash, compare=False)
    if not a.quick: bench_search(1_000_000, PHash, t=10, compare=False)
