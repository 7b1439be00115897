#!/usr/bin/env python
"""How well do the `outliers` scores find wrong labels and off-topic images? And what does an embedding cost?

Builds, offline, a labelled set of real images of several kinds:
  - scikit-learn's bundled handwritten digits (8x8, scaled up to 128 px): classes `digit-0`..`digit-3`;
  - scikit-image's sample photos (cat, coffee, astronaut, rocket, camera man, coins), each class made of views of one
    photo: crops of 35-85% of each side, turned up to 30 degrees, mirrored, recoloured, a fifth in grey;
  - glyphs rendered with the fonts installed on the machine (`glyph-A`, `glyph-R`, `glyph-S`).
then plants problems: ~10% of the labels flipped to another class, and a few off-topic intruders per class (digits
5-9, other sample photos, random textures). Every image is scored by `label_noise` twice: on EfficientNet-Lite0
embeddings (ours) and, as the baseline, on raw pixels (32x32 RGB, centred, unit length). Reported: precision of the k
most suspicious (k = number of planted problems) and recall at 2k, averaged over seeds; then the embedding cost per
image on one thread for onnxruntime and PyTorch side by side, and the time `label_noise` takes on 10 000 vectors.

    python bench/labelnoise.py [--per-class 40] [--seeds 3] [--size 160]
"""
import argparse, glob, io, os, sys, time
import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from web2dataset.review import EMBED_SIZE, Embedder, label_noise, model_input, _variants

def digit_images(d:int, n:int, rng, exclude=()):
    "Handwritten examples of digit `d` from scikit-learn's bundled set, scaled to 128 px"
    from sklearn.datasets import load_digits
    x, y = load_digits(return_X_y=True)
    pick = rng.permutation(np.flatnonzero(y == d))[:n]
    grey = lambda i: Image.fromarray((255 - x[i].reshape(8, 8) * 16).clip(0, 255).astype(np.uint8))
    return [grey(i).resize((128, 128), Image.BICUBIC).convert('RGB') for i in pick]

def photo_images(name:str, n:int, seed:int):
    "Views of one of scikit-image's sample photos: crops of 35-85% of each side, turned, mirrored, recoloured"
    from skimage import data as sk
    a = getattr(sk, name)()
    if a.ndim == 2: a = np.stack([a] * 3, -1)
    img, rng, out = Image.fromarray(a[..., :3]), np.random.default_rng(seed), []
    for v in _variants(img, n, seed):   # the library's mild changes, then a harder crop and colour
        w, h = v.size; f = rng.uniform(0.35, 0.85)
        x, y = rng.integers(0, int(w * (1 - f)) + 1), rng.integers(0, int(h * (1 - f)) + 1)
        v = v.crop((x, y, x + int(w * f), y + int(h * f))).rotate(rng.uniform(-30, 30))
        out.append(ImageOps.grayscale(v).convert('RGB') if rng.random() < 0.2 else v)
    return out

def fonts():
    return sorted(glob.glob('/usr/share/fonts/**/*.ttf', recursive=True))[:40]

def glyph_images(ch:str, n:int, rng):
    "The letter `ch` in the installed fonts, at random sizes, places and angles"
    fs, out = fonts(), []
    for i in range(n):
        im = Image.new('RGB', (128, 128), tuple(int(v) for v in rng.integers(200, 256, 3)))
        f = ImageFont.truetype(fs[rng.integers(len(fs))], int(rng.integers(60, 100)))
        ink = tuple(int(v) for v in rng.integers(0, 90, 3))
        ImageDraw.Draw(im).text((int(rng.integers(5, 40)), int(rng.integers(0, 25))), ch, fill=ink, font=f)
        out.append(im.rotate(float(rng.uniform(-20, 20)), fillcolor='white'))
    return out

def texture(rng):
    a = rng.normal(128, 60, (16, 16, 3)).clip(0, 255).astype(np.uint8)
    return Image.fromarray(a).resize((128, 128), Image.BICUBIC)

def build(per_class:int, seed:int, flip:float=0.1, intruders:int=2):
    "Images, their given labels, and which are planted problems"
    rng = np.random.default_rng(seed)
    classes = {f'digit-{d}': digit_images(d, per_class, rng) for d in range(4)}
    for i, p in enumerate(('chelsea', 'coffee', 'astronaut', 'rocket', 'camera', 'coins')):
        classes[p] = photo_images(p, per_class, seed * 100 + i)
    if fonts(): classes.update({f'glyph-{c}': glyph_images(c, per_class, rng) for c in 'ARS'})
    names = list(classes)
    ims, labels, bad = [], [], []
    for c in names:
        for im in classes[c]:
            given = c
            if rng.random() < flip: given = names[(names.index(c) + 1 + rng.integers(len(names) - 1)) % len(names)]
            ims.append(im); labels.append(given); bad.append(given != c)
    off = ([lambda: digit_images(int(rng.integers(5, 10)), 1, rng)[0]] +
           [lambda p=p: photo_images(p, 1, int(rng.integers(1e6)))[0]
            for p in ('hubble_deep_field', 'immunohistochemistry', 'text', 'moon')] +
           [lambda: texture(rng)])
    for c in names:
        for _ in range(intruders):
            ims.append(off[rng.integers(len(off))]()); labels.append(c); bad.append(True)
    return ims, labels, np.array(bad)

def pixels(ims):
    "The baseline's vectors: 32x32 RGB pixels, centred, unit length"
    x = np.stack([np.asarray(ImageOps.fit(im.convert('RGB'), (32, 32)), dtype=np.float32).ravel() for im in ims])
    x -= x.mean(0)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)

def at_k(score, bad):
    k = int(bad.sum()); o = np.argsort(-score)
    return bad[o[:k]].mean(), bad[o[:2 * k]].sum() / k

def cost(size:int, n:int=48):
    "Seconds of wall time and of CPU per image, one thread, for each backend (images decoded from JPEG)"
    ims = photo_images('chelsea', n, 0)
    data = []
    for im in ims:
        b = io.BytesIO(); im.save(b, 'JPEG', quality=85); data.append(b.getvalue())
    out = {}
    for backend in ('onnx', 'torch'):
        e = Embedder(size, threads=1, backend=backend, batch=16)
        e(data[:4])
        t, c = time.perf_counter(), time.process_time()
        e(data)
        out[backend] = ((time.perf_counter() - t) / n, (time.process_time() - c) / n)
    t, c = time.perf_counter(), time.process_time()
    for d in data: model_input(d, size)
    out['decode'] = ((time.perf_counter() - t) / n, (time.process_time() - c) / n)
    return out

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--per-class', type=int, default=40)
    p.add_argument('--seeds', type=int, default=3)
    p.add_argument('--size', type=int, default=EMBED_SIZE)
    a = p.parse_args()
    emb = Embedder(a.size)
    rows = []
    for seed in range(a.seeds):
        ims, labels, bad = build(a.per_class, seed)
        ours = label_noise(emb(ims), labels)['suspicion']
        base = label_noise(pixels(ims), labels)['suspicion']
        rows.append((*at_k(ours, bad), *at_k(base, bad)))
        print(f"seed {seed}: {len(ims)} images in {len(set(labels))} classes, {int(bad.sum())} planted problems; "
              f"precision@k ours {rows[-1][0]:.2f} pixels {rows[-1][2]:.2f}; "
              f"recall@2k ours {rows[-1][1]:.2f} pixels {rows[-1][3]:.2f}")
    m = np.mean(rows, 0)
    print(f"mean over {a.seeds} seeds: precision@k ours {m[0]:.2f} vs pixels {m[2]:.2f} "
          f"({m[0] / max(m[2], 1e-9):.1f}x); "
          f"recall@2k ours {m[1]:.2f} vs pixels {m[3]:.2f}")
    c = cost(a.size)
    for k, (w, cpu) in c.items():
        print(f"{k} ({a.size}px, 1 thread): {w * 1000:.1f} ms/image wall, {cpu * 1000:.1f} ms CPU")
    print(f"onnxruntime vs PyTorch: {c['torch'][1] / c['onnx'][1]:.1f}x less CPU per image")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10_000, 1280)).astype(np.float32); x /= np.linalg.norm(x, axis=1, keepdims=True)
    t = time.perf_counter(); label_noise(x, rng.integers(0, 10, 10_000).astype(str)); ln = time.perf_counter() - t
    per = c['onnx'][1] + c['decode'][1]
    print(f"10 000 images: label_noise {ln:.1f}s; embedding at {per * 1000:.0f} ms CPU/image on 2 cores "
          f"~ {per * 10_000 / 2 + ln:.0f}s in all")

if __name__ == '__main__': main()
