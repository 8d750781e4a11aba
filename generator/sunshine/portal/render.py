"""Render record pages with plain Jinja2, once per page, skipping pages whose inputs did not change.

Each template is compiled once (one :class:`jinja2.Environment`, autoescape on, strict
undefined). A page's *input hash* is SHA-256 over the template set, the site-wide context, the
page's path and a serialisation of its context (plain data only: dicts, lists, strings, numbers;
:func:`page_inputs`).
The manifest of the previous build maps each path to ``[input hash, size, mtime_ns]``; when the
hash is unchanged and the previous file is still the one the manifest describes, the file is
hard-linked from the previous output into the new one instead of being rendered again.
The new output directory is always a fresh tree: nothing in the previous output is ever
written to, so a failed build cannot damage it.

Rendering is CPU work and stays in the calling thread; the file-system work (``mkdir``, ``open``,
``write``, ``fstat``, ``link``) goes to a writer thread, which releases the GIL in system calls
(on virtualised disks a page costs about as much in system calls as in rendering), in batches of
:data:`BATCH` writes. One writer thread per process: each more thread costs CPU in GIL hand-overs
and in the kernel (threads making directories in one parent directory contend for its lock)
without writing faster, since the system calls are CPU work too (measured with
``bench/bench_page_render.py --writers``). Directories are made once per Renderer. To use every
core, :mod:`.parallel` runs one Renderer per forked worker process over its share of the pages.

Per page, the work is kept small: :class:`PortalEnvironment` resolves ``x.y`` on plain dicts
without a failed attribute lookup first, and the shared chrome (``_head.html``, ``_header.html``,
``_footer.html``: everything around a page's own content) is rendered once per (root, section) by
:meth:`Renderer.chrome` and spliced in by ``base.html`` instead of being rendered for every page.
"""

from __future__ import annotations

import errno
import gc
import hashlib
import marshal
import os
import shutil
import sys
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import jinja2
import markupsafe

from ..errors import BuildError
from ..writing import fsync_dir
from .views import Page, root_of

MANIFEST_VERSION = 2  # 1: JSON (manifest.json)
WRITERS = 1  # writer threads (see the module docstring)
MAX_PENDING = 4096  # queued writes before the renderer waits (bounds memory)
BATCH = 16  # writes per writer-thread task
CHROME_PARTS = ("head", "header", "footer")  # theme/templates/_<part>.html, see Renderer.chrome


_DICT_ATTRIBUTES = frozenset(dir(dict))

_escape_inner = getattr(markupsafe, "_escape_inner", None)  # MarkupSafe's C escaping of a str


def _escape_output(value) -> str:
    """What ``{{ value }}`` writes under autoescape: MarkupSafe's ``escape(value)``, except that a
    plain ``str`` is escaped straight to a ``str`` (the same characters) without building a
    ``Markup`` object first (two Python calls per value fewer), and an exact ``Markup`` (the shared
    chrome of every page) is returned as it is instead of being copied."""
    t = type(value)
    if t is str:
        return _escape_inner(value)
    if t is markupsafe.Markup:
        return value
    return markupsafe.escape(value)


class PortalTemplate(jinja2.Template):
    """A Jinja2 template whose compiled code escapes its output with :func:`_escape_output`.

    Jinja2's generated module imports ``escape`` (MarkupSafe's) and calls it only around each
    expression it writes to the output (``{{ x }}``); what it writes is only ever joined into the
    page's text, where a ``str`` and a ``Markup`` with the same characters are the same. Other
    uses of escaping (the ``e`` filter, ``join``, ``Markup`` operations) are untouched.
    """

    @classmethod
    def from_code(cls, environment, code, globals, uptodate=None):  # noqa: A002 - Jinja2's signature
        t = super().from_code(environment, code, globals, uptodate)
        namespace = t.root_render_func.__globals__
        if _escape_inner is not None and namespace.get("escape") is markupsafe.escape:
            namespace["escape"] = _escape_output
        return t


class PortalEnvironment(jinja2.Environment):
    """A Jinja2 environment whose ``x.y`` looks into plain dicts first.

    Page contexts are plain dicts, and Jinja2's default ``getattr`` first tries the Python
    attribute, which for ``row.name`` on a dict raises (and catches) an ``AttributeError`` before
    it falls back to ``row["name"]``: a quarter of a record page's rendering time went there. For
    an exact ``dict`` a name that is not one of dict's own attributes can only ever resolve to the
    item, so looking the item up first gives the same result in every case (``d.items`` still
    means the method, as before; ``d["items"]`` the key).

    Templates are :class:`PortalTemplate` (cheaper output escaping), and the ``join`` filter is
    Jinja2's own synchronous implementation without the wrapper that looks, on every call,
    whether the template runs asynchronously (this environment never does).
    """

    template_class = PortalTemplate

    def getattr(self, obj, attribute):  # noqa: A003 - Jinja2's hook name
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return jinja2.Environment.getattr(self, obj, attribute)


def make_environment(templates: Path) -> jinja2.Environment:
    env = PortalEnvironment(
        loader=jinja2.FileSystemLoader(str(templates)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,
        cache_size=-1,
    )
    env.filters["join"] = jinja2.filters.sync_do_join
    return env


def templates_digest(templates: Path) -> bytes:
    h = hashlib.sha256()
    for p in sorted(templates.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(templates)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.digest()


def page_inputs(page: Page) -> bytes:
    """The bytes a page's input hash covers: its template, title, section, search flag, filters
    and context, serialised by ``marshal`` format 2 (plain data only; unlike ``pickle`` and later
    ``marshal`` formats it has no back-references, so equal data gives equal bytes whatever objects
    happen to be shared; 2.5 times faster than ``repr``), or by ``repr`` when the context holds
    anything else. The first byte says which."""
    inputs = (page.template, page.title, page.section, page.search, page.filters, page.ctx)
    try:
        return b"m" + marshal.dumps(inputs, 2)
    except ValueError:
        return b"r" + repr(inputs).encode()


CACHE_FORMAT = "sunshine-build-cache/1"


def _cache_header(kind: str) -> bytes:
    """The first line of a build cache file of *kind* written by this Python (see :func:`save_cache_file`)."""
    return f"{CACHE_FORMAT} {kind} {sys.implementation.cache_tag} marshal/{marshal.version}\n".encode()


def save_cache_file(path: Path, kind: str, value: object, *, sync: bool = False) -> None:
    """Write *value* (plain data: dicts, lists, tuples, strings, numbers, booleans, None) to *path*
    as a build cache file of *kind*: a header line (format, kind, Python, ``marshal`` version), the
    SHA-256 of the payload in hex and a line feed, then the payload, ``marshal.dumps(value)``.
    Written to ``<path>.tmp`` and renamed; with *sync*, ``fsync``'d (file and directory) first."""
    payload = marshal.dumps(value, marshal.version)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(_cache_header(kind) + hashlib.sha256(payload).hexdigest().encode() + b"\n")
        f.write(payload)
        if sync:
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)
    if sync:
        fsync_dir(str(path.parent))


def load_cache_file(path: Path, kind: str) -> object | None:
    """The value :func:`save_cache_file` wrote to *path* as *kind*, or None when there is no such
    file or it is not one: another format, kind, Python or ``marshal`` version, a payload whose
    SHA-256 is not the recorded one (truncated, damaged, half-written) or that does not decode.
    Decoded with the cyclic garbage collector paused (a manifest is ~150,000 new lists at
    province scale; the collector's passes over them would cost more than decoding them)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    header = _cache_header(kind)
    start = len(header) + 65
    if not data.startswith(header) or data[start - 1 : start] != b"\n":
        return None
    payload = memoryview(data)[start:]
    if hashlib.sha256(payload).hexdigest().encode() != data[len(header) : start - 1]:
        return None
    enabled = gc.isenabled()
    gc.disable()
    try:
        return marshal.loads(payload)
    except (ValueError, EOFError, TypeError):
        return None
    finally:
        if enabled:
            gc.enable()


def load_manifest(path: Path | None) -> dict[str, list]:
    """The manifest :func:`save_manifest` wrote to *path*: output path → ``[input hash, size,
    mtime_ns]``; ``{}`` when there is none or it cannot be trusted (a damaged cache only costs a
    full render)."""
    files = load_cache_file(path, f"manifest/{MANIFEST_VERSION}") if path is not None else None
    return files if isinstance(files, dict) else {}


def save_manifest(path: Path, files: dict[str, list], *, sync: bool = False) -> None:
    save_cache_file(path, f"manifest/{MANIFEST_VERSION}", files, sync=sync)


def _ensure_dir(d: str, made: set[str]) -> None:
    """Make directory *d* (and its parents) unless *made* says it exists. A directory goes into
    *made* only once it exists, so another writer thread never skips one that is still being made
    (two threads may both call ``mkdir``: the second finds it there)."""
    if d in made:
        return
    try:
        os.mkdir(d)
    except FileExistsError:
        pass
    except FileNotFoundError:
        os.makedirs(d, exist_ok=True)
    made.add(d)


def _write(dst: str, data: bytes, made: set[str]) -> tuple[int, int]:
    """Create *dst* (which must not exist) with *data*; its size and mtime as written (``fstat``
    before ``close``: closing a file does not change them)."""
    return _write_pieces(dst, (data,), made)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _copy_range(src: int, dst: int, offset: int, length: int) -> None:
    """*length* bytes of *src* from *offset* appended to *dst* (at its file position): by the kernel
    (``os.copy_file_range``: no copy through this process), or read and written where it cannot."""
    try:
        while length:
            n = os.copy_file_range(src, dst, length, offset)
            if n <= 0:
                raise OSError(f"expected {length} more bytes at offset {offset}, got the end of the file")
            offset, length = offset + n, length - n
        return
    except (AttributeError, OSError) as exc:  # no copy_file_range here, or not between these files
        if isinstance(exc, OSError) and exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
            raise
    while length:
        data = os.pread(src, min(length, 1 << 20), offset)
        if not data:
            raise OSError(f"expected {length} more bytes at offset {offset}, got the end of the file")
        _write_all(dst, data)
        offset, length = offset + len(data), length - len(data)


def _write_pieces(dst: str, pieces: list | tuple, made: set[str]) -> tuple[int, int]:
    """Create *dst* (which must not exist) from *pieces* (see :meth:`Renderer.spliced`)."""
    _ensure_dir(dst.rpartition("/")[0], made)
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        for piece in pieces:
            if type(piece) is tuple:
                path, offset, length = piece
                src = os.open(path, os.O_RDONLY)
                try:
                    _copy_range(src, fd, offset, length)
                finally:
                    os.close(src)
            else:
                _write_all(fd, piece)
        st = os.fstat(fd)
    finally:
        os.close(fd)
    return st.st_size, st.st_mtime_ns


def _link(src: str, dst: str, old: list, made: set[str]) -> tuple[int, int]:
    _ensure_dir(dst.rpartition("/")[0], made)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return old[1], old[2]


def _run_batch(jobs: list[tuple]) -> list[tuple[int, int]]:
    """A writer thread's task: several writes or links, in order (the first error stops it)."""
    return [fn(*args) for fn, *args in jobs]


class Renderer:
    """Writes pages and files into *out*, reusing unchanged files of *previous* (hard links).

    Call :meth:`finish` at the end: it waits for the writer threads and raises their first error.
    """

    def __init__(
        self,
        env: jinja2.Environment,
        digest: bytes,
        out: Path,
        previous: Path | None = None,
        manifest: dict[str, list] | None = None,
        writers: int = WRITERS,
        link_unchanged: bool = True,
    ) -> None:
        self.env = env
        self.digest = digest
        self.out = out
        self.previous = previous
        self.old = manifest or {}
        # False (``sunshine build``'s in-place incremental mode): an unchanged file stays where it is in
        # *previous* (the live output) and is only recorded; only changed files are written into *out*.
        self.link_unchanged = link_unchanged
        self.files: dict[str, list] = {}  # the new manifest
        self.rendered = 0
        self.reused = 0
        self.render_seconds = 0.0
        self._templates: dict[str, jinja2.Template] = {}
        self._chrome: dict[tuple[str, str], dict | None] = {}
        self._pool = ThreadPoolExecutor(max_workers=max(1, writers), thread_name_prefix="sunshine-write")
        self._out = os.fspath(out)
        self._previous = os.fspath(previous) if previous is not None else None
        self._made: set[str] = set()  # directories known to exist in *out* (see _ensure_dir)
        self._batch: list[tuple] = []  # writes not yet handed to the writer threads
        self._batch_rels: list[tuple[str, str]] = []  # their (path, key)
        self._pending: deque[tuple[list[tuple[str, str]], Future]] = deque()  # handed over, not collected
        self._queued = 0  # writes in _pending

    def _template(self, name: str) -> jinja2.Template:
        t = self._templates.get(name)
        if t is None:
            try:
                t = self._templates[name] = self.env.get_template(name)
            except jinja2.TemplateError as exc:
                raise BuildError(f"theme template {name}: {exc}") from exc
        return t

    def chrome(self, root: str, section: str) -> dict | None:
        """The shared chrome of a page at *root* in *section* (``head``, ``header``, ``footer``:
        the theme's ``_head.html``, ``_header.html``, ``_footer.html``), rendered once per
        (root, section) and spliced into every page by ``base.html``. They see only ``site``,
        ``root``, ``home`` and ``section`` (anything else is an undefined-variable error).
        None when the theme has no such partials (``base.html`` then has nothing to splice)."""
        key = (root, section)
        if key in self._chrome:
            return self._chrome[key]
        parts: dict | None = {}
        for part in CHROME_PARTS:
            name = f"_{part}.html"
            try:
                t = self.env.get_template(name)
            except jinja2.TemplateNotFound:
                parts = None
                break
            except jinja2.TemplateError as exc:
                raise BuildError(f"theme template {name}: {exc}") from exc
            try:
                parts[part] = markupsafe.Markup(t.render(root=root, home=root or "./", section=section))
            except jinja2.TemplateError as exc:
                raise BuildError(f"rendering the shared {name} for pages under {root or './'}: {exc}",
                                 hint="the chrome partials may use only site, root, home and section") from exc
        self._chrome[key] = parts
        return parts

    def _submit(self, rel: str, key: str, fn, *args) -> None:
        """Queue ``fn(*args, made)`` for the writer threads, :data:`BATCH` at a time (one task
        per write cost more CPU in the hand-over than the system calls of a small page)."""
        self.files[rel] = [key, 0, 0]
        self._batch.append((fn, *args, self._made))
        self._batch_rels.append((rel, key))
        if len(self._batch) >= BATCH:
            self._hand_over()

    def _hand_over(self) -> None:
        if not self._batch:
            return
        jobs, rels = self._batch, self._batch_rels
        self._batch, self._batch_rels = [], []
        self._pending.append((rels, self._pool.submit(_run_batch, jobs)))
        self._queued += len(jobs)
        if self._queued > MAX_PENDING:
            self._collect(MAX_PENDING // 2)

    def _collect(self, keep: int = 0) -> None:
        """Wait for handed-over writes until at most *keep* are outstanding; record their sizes
        and mtimes. Raises the first error of a writer thread (in the order of the writes)."""
        try:
            while self._queued > keep and self._pending:
                rels, fut = self._pending.popleft()
                self._queued -= len(rels)
                for (rel, key), (size, mtime) in zip(rels, fut.result(), strict=True):
                    self.files[rel] = [key, size, mtime]
        except BaseException:
            self.abort()
            raise

    def finish(self) -> None:
        self._hand_over()
        self._collect()
        self._pool.shutdown(wait=True)

    def abort(self) -> None:
        self._batch, self._batch_rels = [], []
        for _, fut in self._pending:
            fut.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def keep(self, rel: str) -> bool:
        """Keep the previous build's file at *rel* as it is, without its bytes (a delta build's
        whole-site file that the change does not touch, e.g. one look-up shard): its manifest row is
        carried over. False when there is no previous copy as recorded: the caller makes the file."""
        if rel in self.files:
            raise BuildError(f"two outputs want the same path {rel!r}")
        old = self.old.get(rel)
        return bool(old) and self._try_reuse(rel, old[0])

    def _try_reuse(self, rel: str, key: str) -> bool:
        old = self.old.get(rel)
        if self.previous is None or not old or old[0] != key:
            return False
        src = f"{self._previous}/{rel}"
        try:
            st = os.stat(src)
        except OSError:
            return False
        if st.st_size != old[1] or st.st_mtime_ns != old[2]:
            return False
        if not self.link_unchanged:
            self.files[rel] = [key, old[1], old[2]]
            self.reused += 1
            return True
        self._submit(rel, key, _link, src, f"{self._out}/{rel}", old)
        self.reused += 1
        return True

    def page(self, page: Page, site_digest: bytes) -> None:
        if page.path in self.files:
            raise BuildError(f"two pages want the same path {page.path!r}")
        h = hashlib.sha256(self.digest + site_digest)
        h.update(page.path.encode() + b"\0")
        h.update(page_inputs(page))
        key = h.hexdigest()[:40]
        if self._try_reuse(page.path, key):
            return
        root = root_of(page.path)
        t0 = time.perf_counter()
        chrome = self.chrome(root, page.section)
        extra = {"chrome": chrome} if chrome is not None else {}
        try:
            html = self._template(page.template).render(
                page.ctx, root=root, home=root or "./", page_title=page.title, section=page.section,
                search_body=page.search, filters=page.filters, path=page.path, **extra,
            )
        except jinja2.TemplateError as exc:
            raise BuildError(f"rendering {page.path} with {page.template}: {exc}") from exc
        data = html.encode("utf-8")
        self.render_seconds += time.perf_counter() - t0
        self._submit(page.path, key, _write, f"{self._out}/{page.path}", data)
        self.rendered += 1

    def file(self, rel: str, data: bytes) -> None:
        """A non-page file (CSV, JSON, feed, sitemap): reused when its bytes are unchanged."""
        if rel in self.files:
            raise BuildError(f"two outputs want the same path {rel!r}")
        key = "sha256:" + hashlib.sha256(data).hexdigest()[:40]
        if self._try_reuse(rel, key):
            return
        self._submit(rel, key, _write, f"{self._out}/{rel}", data)
        self.rendered += 1

    def spliced(self, rel: str, pieces: list, sha256: str) -> None:
        """A non-page file made of *pieces*, in order: bytes, or ``(path, offset, length)``: that many
        bytes of the file at *path* from *offset*, copied by the kernel (``os.copy_file_range``), not
        through this process (a delta build's download: mostly the previous file's bytes). *sha256* is
        the whole file's digest (hex), which the caller has computed (:meth:`file` hashes its bytes).
        Reused when unchanged, as :meth:`file`. The files named must not change before :meth:`finish`."""
        if rel in self.files:
            raise BuildError(f"two outputs want the same path {rel!r}")
        key = "sha256:" + sha256[:40]
        if self._try_reuse(rel, key):
            return
        self._submit(rel, key, _write_pieces, f"{self._out}/{rel}", pieces)
        self.rendered += 1
