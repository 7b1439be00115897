"""Kill a process that writes a Dataset at random moments: no partial file is ever left in place.

A child process adds records, rewrites them, writes images and appends to the cleaning log in a loop; the parent
kills it with SIGKILL after a random delay, then checks every file in the folder: each record parses, each image is
complete, each log line but possibly the last is valid JSON, and a resumed `Dataset` cleans the temporary files."""
import json, os, random, signal, subprocess, sys, textwrap, time
from pathlib import Path
import pytest
from web2dataset.core import Dataset

WRITER = textwrap.dedent('''
    import sys, hashlib
    from web2dataset.core import Dataset, Document
    ds = Dataset(sys.argv[1])
    blob = bytes(range(256)) * 4096          # 1 MiB: large enough that a write takes time
    i = 0
    while True:
        d = Document(f'https://example.org/{i}.jpg', query='kill', rank=i, title='x' * (i % 5000))
        ds.add(d, overwrite=True)
        data = blob[: 1000 + (i * 7919) % len(blob)]
        rel = ds.write_image(d.uuid, 'PNG', data)
        ds.set_status(d, 'downloaded', file=rel, bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
        ds.log_rejection(d, 'KillTest', 'reason ' * (i % 300))
        i += 1
''')

def _check(path: Path):
    "Every file in place is whole"
    import hashlib
    ds = Dataset(path)
    docs = list(ds.docs())                    # every record parses
    for d in docs:                            # a record that says downloaded points at its whole image
        if d.status == 'downloaded':
            data = ds.read_image(d)
            assert (len(data), hashlib.sha256(data).hexdigest()) == (d.bytes, d.sha256), (
                f'{d.file} does not match its record')
    for p in (path/'images').iterdir():
        if p.name.startswith('.'): continue
        data = p.read_bytes()
        assert data == (bytes(range(256)) * 4096)[: len(data)], f'{p.name} is damaged'
    lines = (path/'cleaning_log.jsonl').read_text().splitlines() if (path/'cleaning_log.jsonl').exists() else []
    for l in lines[:-1]: json.loads(l)
    return len(docs)

@pytest.mark.parametrize('seed', [1, 2, 3, 4, 5])
def test_kill_during_writes_leaves_no_partial_file(tmp_path, seed):
    rnd = random.Random(seed)
    p = subprocess.Popen([sys.executable, '-c', WRITER, str(tmp_path)])
    try:
        # wait for the first record however slow the start is, then a random moment
        t0 = time.monotonic()
        while not any((tmp_path/'metadata').glob('*.json')) if (tmp_path/'metadata').exists() else True:
            assert p.poll() is None, 'the writer stopped by itself'
            assert time.monotonic() - t0 < 60, 'the writer wrote nothing in a minute'
            time.sleep(0.02)
        time.sleep(rnd.random() * 1.5)
        assert p.poll() is None, 'the writer stopped by itself'
    finally:
        p.send_signal(signal.SIGKILL); p.wait()
    n = _check(tmp_path)
    assert n > 0
    leftovers = [f for sub in ('', 'images', 'metadata') for f in os.listdir(tmp_path/sub) if f.endswith('.tmp')]
    removed = Dataset(tmp_path).clean_temp()
    assert removed == len(leftovers)
    assert not [f for sub in ('', 'images', 'metadata') for f in os.listdir(tmp_path/sub) if f.endswith('.tmp')]
