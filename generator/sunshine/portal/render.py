"""Render record pages with plain Jinja2, once per page, skipping pages whose inputs did not change.

Each template is compiled once (one :class:`jinja2.Environment`, autoescape on, strict
undefined). A page's *input hash* is SHA-256 over the template set, the site-wide context, the
page's path and the ``repr`` of its context (plain data only: dicts, lists, strings, numbers).
The manifest of the previous build maps each path to ``[input hash, size, mtime_ns]``; when the
hash is unchanged and the previous file is still the one the manifest describes, the file is
hard-linked from the previous output into the new one instead of being rendered again.
The new output directory is always a fresh tree: nothing in the previous output is ever
written to, so a failed build cannot damage it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import jinja2

from ..errors import BuildError
from .views import Page, root_of

MANIFEST_VERSION = 1


def make_environment(templates: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,
        cache_size=-1,
    )
    return env


def templates_digest(templates: Path) -> bytes:
    h = hashlib.sha256()
    for p in sorted(templates.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(templates)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.digest()


def load_manifest(path: Path | None) -> dict[str, list]:
    if path is None or not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # a damaged cache only costs a full render
    if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
        return {}
    files = data.get("files")
    return files if isinstance(files, dict) else {}


def save_manifest(path: Path, files: dict[str, list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"version": MANIFEST_VERSION, "files": files}, separators=(",", ":")),
                   encoding="utf-8")
    os.replace(tmp, path)


class Renderer:
    """Writes pages and files into *out*, reusing unchanged files of *previous* (hard links)."""

    def __init__(
        self,
        env: jinja2.Environment,
        digest: bytes,
        out: Path,
        previous: Path | None = None,
        manifest: dict[str, list] | None = None,
    ) -> None:
        self.env = env
        self.digest = digest
        self.out = out
        self.previous = previous
        self.old = manifest or {}
        self.files: dict[str, list] = {}  # the new manifest
        self.rendered = 0
        self.reused = 0
        self._dirs: set[str] = set()
        self._templates: dict[str, jinja2.Template] = {}

    def _template(self, name: str) -> jinja2.Template:
        t = self._templates.get(name)
        if t is None:
            try:
                t = self._templates[name] = self.env.get_template(name)
            except jinja2.TemplateError as exc:
                raise BuildError(f"theme template {name}: {exc}") from exc
        return t

    def _dst(self, rel: str) -> Path:
        d = rel.rpartition("/")[0]
        if d not in self._dirs:
            (self.out / d).mkdir(parents=True, exist_ok=True)
            self._dirs.add(d)
        return self.out / rel

    def _try_reuse(self, rel: str, key: str) -> bool:
        old = self.old.get(rel)
        if self.previous is None or not old or old[0] != key:
            return False
        src = self.previous / rel
        try:
            st = src.stat()
        except OSError:
            return False
        if st.st_size != old[1] or st.st_mtime_ns != old[2]:
            return False
        dst = self._dst(rel)
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
        self.files[rel] = old
        self.reused += 1
        return True

    def _record(self, rel: str, key: str, dst: Path) -> None:
        st = dst.stat()
        self.files[rel] = [key, st.st_size, st.st_mtime_ns]

    def page(self, page: Page, site_digest: bytes) -> None:
        if page.path in self.files:
            raise BuildError(f"two pages want the same path {page.path!r}")
        h = hashlib.sha256(self.digest + site_digest)
        h.update(page.path.encode())
        h.update(repr((page.template, page.title, page.section, page.search, page.filters, page.ctx)).encode())
        key = h.hexdigest()[:40]
        if self._try_reuse(page.path, key):
            return
        root = root_of(page.path)
        try:
            html = self._template(page.template).render(
                page.ctx, root=root, home=root or "./", page_title=page.title, section=page.section,
                search_body=page.search, filters=page.filters, path=page.path,
            )
        except jinja2.TemplateError as exc:
            raise BuildError(f"rendering {page.path} with {page.template}: {exc}") from exc
        dst = self._dst(page.path)
        with open(dst, "wb") as f:
            f.write(html.encode("utf-8"))
        self._record(page.path, key, dst)
        self.rendered += 1

    def file(self, rel: str, data: bytes) -> None:
        """A non-page file (CSV, JSON, feed, sitemap): reused when its bytes are unchanged."""
        if rel in self.files:
            raise BuildError(f"two outputs want the same path {rel!r}")
        key = "sha256:" + hashlib.sha256(data).hexdigest()[:40]
        if self._try_reuse(rel, key):
            return
        dst = self._dst(rel)
        with open(dst, "wb") as f:
            f.write(data)
        self._record(rel, key, dst)
        self.rendered += 1
