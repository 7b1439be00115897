"""robots.txt semantics, one table, checked where consent is checked: at search time (`ConsentCleaner`) and at
download time (`BasicDownloader`, both HTTP clients), against `LocalWeb`, so that the two always agree. The cases are
RFC 9309's and Google's documented matching (longest match, Allow on a tie, `*`, `$`, percent-encoding, user-agent
groups, the status of robots.txt itself), with the example of issue #13."""
import itertools
import pytest

from web2dataset.core import Dataset, Document, make_session
from web2dataset.cleaner import ConsentCleaner
from web2dataset.consent import CONSENT_PATHS
from web2dataset.downloader import BasicDownloader, _has_pycurl
from web2dataset.testing import LocalWeb, FAULTS, make_image

A, R = True, False   # allowed, refused
ISSUE = "User-agent: *\nDisallow: /private/\nAllow: /private/shared/\nDisallow: /*.gif$\n"
TABLE = [  # (robots.txt: its text, or an HTTP status, or 'unreachable'), path, allowed?
    (ISSUE, '/private/shared/a.jpg', A), (ISSUE, '/private/a.jpg', R), (ISSUE, '/x/y.gif', R),
    (ISSUE, '/x/y.gif?s=1', A), (ISSUE, '/x/y.jpg', A),
    # the longest match wins, whatever the order of the rules
    ("User-agent: *\nAllow: /p\nDisallow: /\n", '/page.jpg', A),
    ("User-agent: *\nAllow: /p\nDisallow: /\n", '/q.jpg', R),
    ("User-agent: *\nDisallow: /a/\nAllow: /a/b/\n", '/a/b/c.jpg', A),
    ("User-agent: *\nAllow: /a/b/\nDisallow: /a/\n", '/a/c.jpg', R),
    ("User-agent: *\nAllow: /page\nDisallow: /*.htm\n", '/page.htm', R),
    # Allow wins a tie
    ("User-agent: *\nAllow: /folder\nDisallow: /folder\n", '/folder/page.jpg', A),
    # * and $
    ("User-agent: *\nDisallow: /fish*.php\n", '/fish.php', R),
    ("User-agent: *\nDisallow: /fish*.php\n", '/fishheads/catfish.php?p=1', R),
    ("User-agent: *\nDisallow: /fish*.php\n", '/Fish.PHP', A),                       # paths are case-sensitive
    ("User-agent: *\nDisallow: /*.php$\n", '/folder/filename.php', R),
    ("User-agent: *\nDisallow: /*.php$\n", '/filename.php?p=1', A),
    ("User-agent: *\nDisallow: /*.php$\n", '/filename.php/', A),
    ("User-agent: *\nAllow: /$\nDisallow: /\n", '/', A),
    ("User-agent: *\nAllow: /$\nDisallow: /\n", '/page.jpg', R),
    # percent-encoding: compared encoded, any case of the hex digits
    ("User-agent: *\nDisallow: /a%3cd.jpg\n", '/a%3Cd.jpg', R),
    ("User-agent: *\nDisallow: /foo/bar/ツ\n", '/foo/bar/%E3%83%84', R),
    ("User-agent: *\nDisallow: /a%2fb\n", '/a/b', A),                                # an encoded / is not a /
    # user-agent groups
    ("User-agent: otherbot\nDisallow: /\n", '/a.jpg', A),
    ("User-agent: *\nDisallow: /\n\nUser-agent: web2dataset\nAllow: /\n", '/a.jpg', A),   # our group beats *
    ("User-agent: *\nAllow: /\n\nUser-agent: web2dataset\nDisallow: /img/\n", '/img/a.jpg', R),
    ("User-agent: *\nAllow: /\n\nUser-agent: web2dataset\nDisallow: /img/\n", '/pic/a.jpg', A),
    ("User-agent: WEB2DATASET\nDisallow: /\n", '/a.jpg', R),                         # tokens match in any case
    ("User-agent: a\nUser-agent: web2dataset\nDisallow: /x/\n", '/x/a.jpg', R),       # a group of several agents
    ("User-agent: web2dataset\nDisallow: /a/\n\nUser-agent: web2dataset\nDisallow: /b/\n", '/b/a.jpg', R),  # merged
    ("User-agent: *\nDisallow:\n", '/a.jpg', A),                                     # an empty Disallow allows all
    ("User-agent: *\nDisallow: /a # comment\n", '/a.jpg', R),
    # the status of robots.txt itself: 4xx allows all, 5xx and unreachable refuse all
    (404, '/a.jpg', A), (403, '/a.jpg', A), (503, '/a.jpg', R), (500, '/a.jpg', R), ('unreachable', '/a.jpg', R),
    # RFC 9309 compares the whole product token: a group for `web2` is not ours (Protego alone would take it)
    ("User-agent: web2\nDisallow: /\n", '/a.jpg', A),
]
@pytest.fixture(scope='module')
def web():
    img = make_image(1, size=(48, 32))
    state = {}
    def serve(req):
        if req.path == '/robots.txt':
            r = state['robots']
            if r == 'unreachable': return FAULTS['reset'](web, req, '')
            return (r, {}, 'status') if isinstance(r, int) else (200, {'Content-Type': 'text/plain'}, r)
        if req.path in CONSENT_PATHS: return 404, {}, 'none'
        return 200, {'Content-Type': 'image/jpeg'}, img
    with LocalWeb(n_images=1) as web:
        web.route('/*', serve)
        web.state = state
        yield web

_runs = itertools.count()

def _case(web, robots, path):
    web.state['robots'] = robots
    web.reset_counts()
    return web.url + path

@pytest.mark.parametrize('robots,path,allowed', TABLE)
def test_search_time_and_download_time_agree(web, tmp_path, robots, path, allowed):
    url = _case(web, robots, path)
    verdict = ConsentCleaner(session=make_session(allow_private=True, retries=0)).check_doc(Document(url))
    assert verdict.keep == allowed, (robots, path, verdict.reason)
    for client in ('threads', 'curl') if _has_pycurl() else ('threads',):
        _case(web, robots, path)
        ds = Dataset(tmp_path/f'{client}-{next(_runs)}')
        ds.add([Document(url)])
        BasicDownloader(ds.path, client=client, retries=0, allow_private={'127.0.0.1'}, quiet=True).download()
        doc = next(ds.docs())
        got = (doc.status, doc.reason)
        if allowed: assert got == ('downloaded', None), (client, got)
        else:
            assert got in (('rejected', 'robots-disallowed'), ('failed', 'robots-unavailable')), (client, got)
            assert web.hits(path) == 0, (client, 'a refused image was requested')
