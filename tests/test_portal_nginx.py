"""The built portal served by a real nginx from a sub-path (/sub/portal/), as docs/deploy.md says.

nginx runs as an unprivileged single process (``master_process off``, ``daemon off``) on a loopback
port with a temporary configuration; skipped with a reason when nginx is not installed.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from portal_site import HOSTILE_CODE, Doc, resolve, sample_site

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx)")
PREFIX = "/sub/portal/"
PAGE_TYPES = [
    "", "items/", "items/amr/", "plans/", "plans/2025/", "tasks/", "tasks/2025-01/", "results/",
    "results/tasks/2025-01/", "results/2025-04/", f"enterprises/{HOSTILE_CODE}/", "enterprises/", "stats/",
    "ledger/", "verify/", "data/", "search/", "about/", "policy/", "how-to-verify/", "privacy/",
]

CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 64; }}
http {{
    {mime}
    default_type application/octet-stream;
    types {{ application/atom+xml xml; application/json json; text/csv csv; }}
    charset utf-8;
    charset_types text/css application/javascript application/json text/csv application/atom+xml;
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        location {prefix} {{
            alias {site}/;
            index index.html;
            error_page 404 {prefix}404.html;
        }}
    }}
}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def nginx(tmp_path_factory):
    _, site = sample_site(tmp_path_factory)
    tmp = tmp_path_factory.mktemp("nginx")
    port = _free_port()
    mime = "include /etc/nginx/mime.types;" if Path("/etc/nginx/mime.types").is_file() else \
        "types { text/html html; text/css css; application/javascript js; }"
    conf = tmp / "nginx.conf"
    conf.write_text(CONF.format(tmp=tmp, port=port, prefix=PREFIX, site=site, mime=mime))
    proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        if proc.poll() is not None:
            pytest.fail("nginx exited: " + proc.stderr.read().decode(errors="replace"))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.05)
    yield base, site
    proc.terminate()
    proc.wait(timeout=10)


def _get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_every_page_type_is_served_from_the_sub_path(nginx):
    base, site = nginx
    for rel in PAGE_TYPES:
        status, headers, body = _get(base + PREFIX + rel)
        assert status == 200, rel
        assert headers["Content-Type"].startswith("text/html"), rel
        assert body == (site / rel / "index.html").read_bytes()


def test_links_of_each_page_type_resolve_over_http(nginx):
    base, site = nginx
    seen: set[str] = set()
    for rel in PAGE_TYPES:
        page = site / rel / "index.html"
        doc = Doc(page.read_text(encoding="utf-8"))
        for _, url in doc.links:
            target = resolve(site, page, url)
            if target is None:
                continue
            path = str(target.relative_to(site.resolve()))
            if path in seen:
                continue
            seen.add(path)
            status, _, _ = _get(base + PREFIX + path)
            assert status == 200, (rel, url)
    assert "theme/css/site.css" in seen and "feeds/results.xml" in seen


def test_missing_page_gives_404_page(nginx):
    base, site = nginx
    status, headers, body = _get(base + PREFIX + "tasks/no-such-task/")
    assert status == 404
    assert body == (site / "404.html").read_bytes()


def test_downloads_and_search_assets(nginx):
    base, _ = nginx
    for rel, ctype in [("data/results.csv", "text/csv"), ("data/datapackage.json", "application/json"),
                       ("feeds/results.xml", "application/atom+xml"), ("pagefind/pagefind.js", "javascript"),
                       ("search/lookup/meta.json", "application/json"), ("sitemap.xml", "xml"),
                       ("robots.txt", "text/plain")]:
        status, headers, body = _get(base + PREFIX + rel)
        assert status == 200 and ctype in headers["Content-Type"], (rel, headers.get("Content-Type"))
        assert body


def test_directory_without_slash_redirects(nginx):
    base, _ = nginx
    req = urllib.request.Request(base + PREFIX + "tasks/2025-01")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **kw):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as exc:
        opener.open(req, timeout=10)
    assert exc.value.code == 301
    assert exc.value.headers["Location"].endswith(PREFIX + "tasks/2025-01/")
