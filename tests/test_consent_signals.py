"""Every per-site and embedded opt-out signal end to end on `LocalWeb`: `/.well-known/tdmrep.json` with path
patterns, `ai.txt`, IPTC/PLUS `DataMining` in the XMP of a JPEG and a PNG, and a C2PA manifest signed here with a key
made here. Each image a signal covers ends `rejected` with that signal's reason (and, for the per-site files, is never
requested); the others download; search time refuses what the per-site files refuse; the card counts each signal."""
import datetime as dt, io, json, logging
import pytest

from web2dataset.core import Dataset, Document, make_session
from web2dataset.cleaner import ConsentCleaner
from web2dataset.consent import c2pa_training_mining, embedded_optout
from web2dataset.downloader import BasicDownloader, _has_pycurl
from web2dataset.export import card_text
from web2dataset.testing import LocalWeb, make_image

CLIENTS = ['threads', pytest.param('curl', marks=pytest.mark.skipif(not _has_pycurl(), reason='pycurl not installed'))]

def _cert(subject_key, issuer_key, cn, issuer_cn, ca):
    "An X.509 certificate for `subject_key` signed by `issuer_key`: a CA, or a signer C2PA accepts"
    from cryptography import x509
    from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID
    from cryptography.hazmat.primitives import hashes
    name = lambda n: x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, n),
                                x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'web2dataset tests')])
    now = dt.datetime.now(dt.timezone.utc)
    b = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(name(issuer_cn))
         .public_key(subject_key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()), critical=False))
    if ca:   # key_cert_sign, crl_sign
        b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
    else:
        b = (b.add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
             .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False))
    return b.sign(issuer_key, hashes.SHA256())

@pytest.fixture(scope='module')
def signed():
    "sign(jpeg, uses) -> the JPEG with a C2PA manifest whose training-mining entries are `uses`, signed by a new key"
    c2pa = pytest.importorskip('c2pa')
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca, leaf = _cert(ca_key, ca_key, 'test CA', 'test CA', True), _cert(key, ca_key, 'test signer', 'test CA', False)
    chain = leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(b'es256', chain, pem, None))
    def sign(data, uses, label='cawg.training-mining'):
        ns = label.split('.')[0]
        created = {'action': 'c2pa.created',
                   'digitalSourceType': 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture'}
        entries = {f'{ns}.{k}': {'use': v} for k, v in uses.items()}
        manifest = {'claim_generator_info': [{'name': 'web2dataset tests', 'version': '0'}], 'format': 'image/jpeg',
                    'assertions': [{'label': 'c2pa.actions', 'data': {'actions': [created]}},
                                   {'label': label, 'data': {'entries': entries}}]}
        out = io.BytesIO()
        with c2pa.Builder(json.dumps(manifest)) as b: b.sign(signer, 'image/jpeg', io.BytesIO(data), out)
        return out.getvalue()
    yield sign
    signer.close()

def test_c2pa_read(signed):
    jpg = make_image(5, size=(64, 48))
    no = signed(jpg, dict(ai_training='notAllowed', ai_generative_training='allowed', data_mining='allowed'))
    assert c2pa_training_mining(no) == 'cawg.ai_training: notAllowed'
    assert str(embedded_optout(no)) == 'c2pa-training-mining: cawg.ai_training: notAllowed'
    assert embedded_optout(no, c2pa=False) is None
    old = signed(jpg, dict(data_mining='constrained'), 'c2pa.training-mining')    # C2PA 1.x's label
    assert c2pa_training_mining(old) == 'c2pa.data_mining: constrained'
    ok = signed(jpg, dict(ai_training='allowed', ai_inference='notAllowed'))   # inference is not what a dataset is for
    assert c2pa_training_mining(ok) is None and embedded_optout(ok) is None

@pytest.fixture(scope='module')
def web(signed):
    img = make_image(1, size=(48, 32))
    files = {'no-c2pa.jpg': signed(make_image(2, size=(48, 32)), dict(ai_training='notAllowed')),
             'ok-c2pa.jpg': signed(make_image(3, size=(48, 32)), dict(ai_training='allowed'))}
    with LocalWeb(n_images=1) as web:
        web.tdmrep = [{'location': '/s/tdm/*', 'tdm-reservation': 1, 'tdm-policy': 'https://example.org/policy'},
                      {'location': '/s/', 'tdm-reservation': 0}]
        web.ai_txt = 'User-agent: *\nDisallow: *.gif\n'
        web.route('/s/*', lambda req: (200, {'Content-Type': 'image/jpeg'}, files.get(req.path.split('/')[-1], img)))
        yield web

EXPECT = {  # url (path, or fault) -> (status, reason)
    '/s/tdm/a.jpg': ('rejected', 'tdmrep-reserved'), '/s/free/b.jpg': ('downloaded', None),
    '/s/c.gif': ('rejected', 'ai-txt-disallowed'), '/s/no-c2pa.jpg': ('rejected', 'c2pa-training-mining'),
    '/s/ok-c2pa.jpg': ('downloaded', None), ('xmp', 'DMI-PROHIBITED-AIMLTRAINING'): ('rejected', 'xmp-data-mining'),
    ('xmp-png', 'DMI-PROHIBITED-GENAIMLTRAINING'): ('rejected', 'xmp-data-mining'),
    ('xmp', 'DMI-ALLOWED'): ('downloaded', None), ('xmp-png', 'DMI-UNSPECIFIED'): ('downloaded', None),
}

def _urls(web):
    return {(web.url + k if isinstance(k, str) else web.fault(k[0], dmi=k[1])): v for k, v in EXPECT.items()}

def test_search_time(web):
    cc = ConsentCleaner(session=make_session(allow_private=True))
    kept, rejected = cc.clean_docs([Document(u) for u in _urls(web)])
    got = {d.image_url.replace(web.url, ''): v.reason.split(':')[0] for d, v in rejected}
    assert got == {'/s/tdm/a.jpg': 'tdmrep-reserved', '/s/c.gif': 'ai-txt-disallowed'}, got   # embedded: at download
    assert len(kept) == len(EXPECT) - 2

@pytest.mark.parametrize('client', CLIENTS)
def test_download_time(web, tmp_path, client):
    urls = _urls(web)
    web.reset_counts()
    ds = Dataset(tmp_path/'ds'); ds.add([Document(u) for u in urls])
    _stats = BasicDownloader(ds.path, client=client, allow_private={'127.0.0.1'}, quiet=True).download()
    got = {d.image_url: (d.status, d.reason) for d in ds.docs()}
    assert got == urls, {k.replace(web.url, ''): (v, urls[k]) for k, v in got.items() if v != urls[k]}
    for u in ('/s/tdm/a.jpg', '/s/c.gif'): assert web.hits(u) == 0, u                  # refused before any request
    for p in ('/robots.txt', '/.well-known/tdmrep.json', '/ai.txt'): assert web.hits(p) == 1, p   # once per host
    assert sorted(p.name.split('.')[0] for p in (tmp_path/'ds'/'images').iterdir()) == sorted(
        d.uuid for d in ds.docs(status='downloaded'))                            # nothing refused was written
    card = card_text(ds)
    for row in ('| `/.well-known/tdmrep.json` (W3C TDM Reservation Protocol) | yes | 1 |',
                '| `ai.txt` (Spawning) | yes | 1 |', "| IPTC/PLUS `DataMining` in the image's XMP | yes | 2 |",
                '| C2PA training-and-data-mining assertions | yes | 1 |'):
        assert row in card, (row, card[card.index('## Consent'):])

@pytest.mark.parametrize('client', CLIENTS)
def test_turned_off_loudly(web, tmp_path, client, caplog):
    urls = _urls(web)
    ds = Dataset(tmp_path/'ds'); ds.add([Document(u) for u in urls])
    with caplog.at_level(logging.WARNING, logger='web2dataset'):
        dl = BasicDownloader(ds.path, client=client, tdmrep=False, ai_txt=False, xmp=False, c2pa=False,
                             allow_private={'127.0.0.1'}, quiet=True)
    assert sum('consent check turned off' in r.getMessage() for r in caplog.records) == 4
    dl.download()
    assert {d.status for d in ds.docs()} == {'downloaded'}
