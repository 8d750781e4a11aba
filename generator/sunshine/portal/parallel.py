"""Make and render record pages in forked worker processes, on every core.

:func:`render_pages` forks ``workers - 1`` children *after* the data, the site-wide pages and the
Jinja2 environment are in memory, so the children share all of it copy-on-write (``gc.freeze()``
first: a child's garbage collections then never touch, and so never copy, the parent's objects).
The work is a list of *units*: a unit is a :class:`~.views.Page` or anything *expand* turns into
pages (a record-page family: its contexts are computed by the process that renders it, so the
views run on every core too and no process holds every page's context at once).
Work is handed out in chunks of consecutive pages through a pipe holding the chunk numbers
(4-byte reads are atomic), so a process that gets cheap pages simply takes more chunks; the
calling process takes chunks too once it has done its own work (*between*, e.g. the downloads
and feeds). Each process renders and writes its pages with its own :class:`.render.Renderer`
and a child sends back only its manifest rows and counts (a pickle in a temporary file).

Failure: a child that raises reports its error (message and hint) and exits 1; a child that dies
(killed, out of memory) is reported by its signal. Either way the parent kills the other
children, reaps them all and raises :class:`~sunshine.errors.BuildError`; the build then deletes
the unfinished output tree as for any other failure. Children leave through ``os._exit``: they
never run the parent's cleanup code or ``atexit`` handlers.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..errors import BuildError, DataError, SunshineError
from .render import Renderer
from .views import Page

MIN_PAGES = 2000  # fewer pages: one process (forking costs more than it saves)
MIN_CHUNK = 64  # pages per chunk of work, at least
PIPE_CHUNKS = 8000  # at most this many chunk numbers in the work pipe (4 bytes each < 64 KiB)


def default_workers() -> int:
    """The processes to render with: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _private_kib() -> int:
    """This process's own (not shared copy-on-write) memory, KiB: Private_Clean + Private_Dirty."""
    total = 0
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/smaps_rollup", encoding="ascii") as f:
            for line in f:
                if line.startswith(("Private_Clean:", "Private_Dirty:")):
                    total += int(line.split()[1])
    return total


def _chunk_size(n: int) -> int:
    return max(MIN_CHUNK, -(-n // PIPE_CHUNKS))


class _Made:
    """What a process rendered: each page's path → lastmod (for the sitemap), and how many are searchable."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.search = 0

    def render(self, renderer: Renderer, page: Page, site_digest: bytes) -> None:
        renderer.page(page, site_digest)
        self.pages[page.path] = page.lastmod
        self.search += page.search


@contextlib.contextmanager
def young_collections_only():
    """The cyclic garbage collector paused; the caller runs :func:`gc.collect(1) <gc.collect>` at
    points of its choosing (after each chunk of pages).

    Rendering allocates millions of short-lived objects, so the collector would run its young
    passes constantly, and every few of them a full pass over every object that has survived so far:
    the manifest rows, the sitemap rows, the look-up and download rows. Those passes took about a
    tenth of all the build's CPU time at a million targets (``perf``: ``gc_collect_main``). Page
    contexts and Jinja2 renders make (next to) no reference cycles; whatever they make is caught by
    the young pass after its chunk, before it could reach the oldest generation."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _render_chunks(renderer: Renderer, units: Sequence, expand: Callable[[Any], Iterable[Page]] | None,
                   site_digest: bytes, fd: int, size: int, made: _Made) -> None:
    forget = getattr(expand, "forget", None)
    with young_collections_only():
        while True:
            b = os.read(fd, 4)
            if not b:
                return
            k = int.from_bytes(b, "little")
            for unit in units[k * size : (k + 1) * size]:
                if isinstance(unit, Page):
                    made.render(renderer, unit, site_digest)
                else:
                    for page in expand(unit):
                        made.render(renderer, page, site_digest)
            if forget is not None:
                forget()
            gc.collect(1)


def _child(make_renderer: Callable[[], Renderer] | None, work: Callable[[Renderer | None], dict], result: str) -> None:
    """The body of a worker process: ``work(renderer)`` with a renderer of its own (None without
    *make_renderer*); never returns."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # the parent handles ^C and stops its children
        gc.disable()  # a short-lived process: see young_collections_only (page chunks collect young objects)
        out: dict = {}
        renderer = None
        try:
            if make_renderer is None:
                out = work(None)
            else:
                renderer = make_renderer()
                extra = work(renderer)
                renderer.finish()
                out = {"files": renderer.files, "rendered": renderer.rendered, "reused": renderer.reused,
                       "render_seconds": renderer.render_seconds, "private_kib": _private_kib(), **extra}
            code = 0
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
            if renderer is not None:
                with contextlib.suppress(BaseException):
                    renderer.abort()
            if isinstance(exc, DataError):
                out = {"error": exc.message, "hint": exc.hint, "problems": exc.problems}
            elif isinstance(exc, SunshineError):
                out = {"error": exc.message, "hint": exc.hint}
            else:  # a bug: its traceback goes to stderr, as it would without workers
                traceback.print_exc()
                out = {"error": f"{type(exc).__name__}: {exc} (in a page-rendering worker; traceback above)",
                       "hint": None}
        with open(result, "wb") as f:
            pickle.dump(out, f, protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:  # noqa: BLE001 - nothing may escape a forked child
        code = 2
    finally:
        os._exit(code)


def _page_work(units: Sequence, expand, site_digest: bytes, fd: int, size: int) -> Callable[[Renderer], dict]:
    def work(renderer: Renderer) -> dict:
        made = _Made()
        _render_chunks(renderer, units, expand, site_digest, fd, size, made)
        return {"pages": made.pages, "search": made.search}

    return work


def _merge(renderer: Renderer, rep: dict) -> None:
    """A child's manifest rows and counts into *renderer*."""
    for rel, row in rep["files"].items():
        if rel in renderer.files:
            raise BuildError(f"two outputs want the same path {rel!r}")
        renderer.files[rel] = row
    renderer.rendered += rep["rendered"]
    renderer.reused += rep["reused"]
    renderer.render_seconds += rep["render_seconds"]


@contextlib.contextmanager
def _frozen():
    """``gc.freeze()`` around forks: a child's collections then never walk (and so never copy) the
    parent's objects. When the caller has frozen already (``sunshine build`` freezes the loaded data),
    the objects made since are simply added, without a full collection first (a second or more over a
    province's data)."""
    outer = gc.get_freeze_count() > 0
    if not outer:
        gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        if not outer:
            gc.unfreeze()


def _fork(make_renderer: Callable[[], Renderer] | None, work: Callable[[Renderer | None], dict], result: str) -> int:
    """Fork a child running *work* (see :func:`_child`); returns its pid. Call with gc frozen."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, which leaves through os._exit
        _child(make_renderer, work, result)
    return pid


class SideJob:
    """``fn(renderer)`` in a forked child process with a renderer of its own, while this process goes
    on; :meth:`join` waits, merges the child's outputs (manifest rows, counts) into a renderer and
    returns ``fn``'s value (picklable). Start it before anything in this process writes through a
    renderer (no threads may run across a fork). Failure is reported as for page workers."""

    def __init__(self, make_renderer: Callable[[], Renderer], fn: Callable[[Renderer], Any], what: str) -> None:
        self._tmp = tempfile.mkdtemp(prefix="sunshine-side-")
        self._children: dict[int, tuple[str, str]] = {}
        result = os.path.join(self._tmp, "side.pickle")
        with _frozen():
            pid = _fork(make_renderer, lambda r: {"value": fn(r)}, result)
        self._children[pid] = (f"the worker process writing {what}", result)

    def join(self, renderer: Renderer) -> Any:
        try:
            (rep,) = _reap(self._children)
        finally:
            self._cleanup()
        _merge(renderer, rep)
        return rep["value"]

    def stop(self) -> None:
        """Stop the child (after a failure elsewhere) and clean up; nothing is merged."""
        _stop(self._children)
        self._cleanup()

    def _cleanup(self) -> None:
        _cleanup(self._tmp)


class Forked:
    """``fn()`` in a forked child process while this process goes on (``sunshine build`` checks the
    §2 rules so, while the pages are made); :meth:`join` waits and returns ``fn``'s value (picklable)
    or raises its error: a :class:`~sunshine.errors.DataError` with its problems, any other
    :class:`~sunshine.errors.SunshineError` as a BuildError with its message and hint, a death as
    for page workers. Fork it when no thread runs; :meth:`stop` after a failure elsewhere."""

    def __init__(self, fn: Callable[[], Any], what: str) -> None:
        self._tmp = tempfile.mkdtemp(prefix="sunshine-forked-")
        result = os.path.join(self._tmp, "result.pickle")
        with _frozen():
            pid = _fork(None, lambda _renderer: {"value": fn()}, result)
        self._children: dict[int, tuple[str, str]] = {pid: (f"the worker process {what}", result)}

    def join(self) -> Any:
        try:
            (rep,) = _reap(self._children)
        finally:
            _cleanup(self._tmp)
        return rep["value"]

    def stop(self) -> None:
        _stop(self._children)
        _cleanup(self._tmp)


def _cleanup(tmp: str) -> None:
    with contextlib.suppress(OSError):
        for name in os.listdir(tmp):
            os.unlink(os.path.join(tmp, name))
        os.rmdir(tmp)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        return f"was killed by signal {name}" + (" (out of memory?)" if sig == signal.SIGKILL else "")
    return f"exited with status {os.waitstatus_to_exitcode(status)} without a report"


def render_pages(
    renderer: Renderer,
    make_renderer: Callable[[], Renderer],
    units: Sequence,
    site_digest: bytes,
    workers: int,
    between: Callable[[], None] | None = None,
    expand: Callable[[Any], Iterable[Page]] | None = None,
    chunk: int | None = None,
) -> dict:
    """Make, render and write the pages of *units* (each a Page, or a unit that *expand* turns into
    pages; *expand* may have a ``forget()`` method, called after each chunk of units; *chunk* units
    at a time, by default at least :data:`MIN_CHUNK`) with *workers*
    processes (this one included); merge everything into *renderer* (its manifest, counts and render
    time). *renderer* must not have started writing yet (no threads may run across a fork).
    *between* runs in this process while the children render (other outputs, through *renderer*).
    Returns figures: ``{"workers": n, "worker_private_kib": [...], "pages": {path: lastmod},
    "search": n}`` (every page rendered, and how many are searchable).
    """
    seen: set[str] = set()
    for unit in units:
        if isinstance(unit, Page):
            if unit.path in seen:
                raise BuildError(f"two pages want the same path {unit.path!r}")
            seen.add(unit.path)
    made = _Made()
    if workers <= 1 or not hasattr(os, "fork") or len(units) < 2:
        with young_collections_only():
            if between is not None:
                between()
            for n, unit in enumerate(units, 1):
                for page in ([unit] if isinstance(unit, Page) else expand(unit)):
                    made.render(renderer, page, site_digest)
                if n % MIN_CHUNK == 0:
                    gc.collect(1)
        return {"workers": 1, "worker_private_kib": [], "pages": made.pages, "search": made.search}

    size = chunk or _chunk_size(len(units))
    nchunks = -(-len(units) // size)
    rfd, wfd = os.pipe()
    tmp = tempfile.mkdtemp(prefix="sunshine-render-")
    children: dict[int, tuple[str, str]] = {}  # pid → (which worker, result file)
    try:
        os.write(wfd, b"".join(k.to_bytes(4, "little") for k in range(nchunks)))  # < 64 KiB: never blocks
        os.close(wfd)
        wfd = -1
        with _frozen():
            work = _page_work(units, expand, site_digest, rfd, size)
            for n in range(1, workers):
                result = os.path.join(tmp, f"worker-{n}.pickle")
                children[_fork(make_renderer, work, result)] = (f"page-rendering worker {n}", result)
            if between is not None:
                with young_collections_only():
                    between()
                gc.collect(1)
            _render_chunks(renderer, units, expand, site_digest, rfd, size, made)
        reports = _reap(children)
    except BaseException:
        _stop(children)
        raise
    finally:
        os.close(rfd)
        if wfd >= 0:
            os.close(wfd)
        _cleanup(tmp)
    private = []
    pages = made.pages
    search = made.search
    for rep in reports:
        for path, lastmod in rep["pages"].items():
            if path in pages:
                raise BuildError(f"two pages want the same path {path!r}")
            pages[path] = lastmod
        search += rep["search"]
        _merge(renderer, rep)
        private.append(rep["private_kib"])
    return {"workers": workers, "worker_private_kib": private, "pages": pages, "search": search}


def _reap(children: dict[int, tuple[str, str]]) -> list[dict]:
    """Wait for every child; raise BuildError for the first that failed (after stopping the rest)."""
    reports: list[dict] = []
    while children:
        pid = next(iter(children))
        _, status = os.waitpid(pid, 0)
        label, result = children.pop(pid)
        rep = None
        with contextlib.suppress(OSError, pickle.UnpicklingError, EOFError):
            with open(result, "rb") as f:
                rep = pickle.load(f)
        if status == 0 and rep is not None and "error" not in rep:
            reports.append(rep)
            continue
        _stop(children)
        if rep is not None and "problems" in rep:
            raise DataError(rep["problems"], hint=rep.get("hint"))
        if rep is not None and "error" in rep:
            raise BuildError(rep["error"], hint=rep.get("hint"))
        raise BuildError(f"{label} {_describe(status)}",
                         hint="check free memory, or build with fewer workers")
    return reports


def _stop(children: dict[int, tuple[str, str]]) -> None:
    for pid in list(children):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    for pid in list(children):
        with contextlib.suppress(OSError):
            os.waitpid(pid, 0)
        children.pop(pid, None)
