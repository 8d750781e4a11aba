"""``sunshine build``: load and check the data, run Pelican with the portal plugin into a fresh
sibling directory, index it with Pagefind, then swap it into place atomically.

Two ways to publish, both from the same pages (byte-identical trees):

**Full build** (the first build, ``--full``, or when code, theme, editorial content or settings
changed): a fresh tree ``output.new-XXXX``, then the swap ``output`` → ``output.old-XXXX`` (one
``rename``), ``output.new-XXXX`` → ``output`` (one ``rename``), then the old tree is deleted. Any
failure before the swap deletes the new tree and leaves ``output`` exactly as it was. Unchanged
pages are hard-linked from the previous output (see :mod:`.render`).

**Incremental build** (the default when only data changed since the last build): every page's
input hash is computed as in a full build, but only the pages and files whose hash changed are
rendered, into a staging directory ``<output>.cache/stage-XXXX``; nothing else is written. Then,
crash-safely: the new manifest and state are written as ``*.bin.next``, a journal naming every file to
move and to delete is written (``fsync``, rename), each staged file is ``rename``d into ``output``,
removed pages are deleted, the ``*.next`` files replace the old ones and the journal is removed. A
build that stops before the journal exists leaves ``output`` untouched; one that stops after is
completed by the next build (any mode) before it does anything else (roll forward: every staged
file is complete before the journal is written). The Pagefind index is not rebuilt by an
incremental build (it covers the whole site: minutes at province scale); the exact USCC/name
lookup (``lookup/``) is regenerated like any other file, so it is always current. ``--full``
re-indexes.

**Delta** (an incremental build after rows were only appended to ``results/<year>.csv``): only the
record pages of the enterprises, tasks and months those rows touch are made, with every site-wide page
and file; the previous build's other pages keep their manifest and sitemap rows (:class:`.views.Delta`,
:func:`scan_data`, :func:`changed_results`). **Unchanged** (nothing changed since the last build, and its
files are all in place): nothing is done.

Beside the output, never inside the published tree: ``<output>.cache/manifest.bin`` (output path →
``[input hash, size, mtime_ns]``), ``state.bin`` (what the last build was made from: the source of
every module it ran, theme, content, settings, search, library versions, each data file's size and
SHA-256; its record pages, path → lastmod; derived state), ``data/`` (parsed data files,
:mod:`sunshine.data_cache`) and, only while publishing, ``journal.json`` and ``stage-XXXX/``.

The two records (``manifest.bin``, ``state.bin``; :func:`.render.save_cache_file`) are one format::

    sunshine-build-cache/1 <kind>/<version> <Python cache tag> marshal/<marshal version>\n
    <SHA-256 of the payload, hex>\n
    <payload: marshal.dumps(value)>

e.g. ``sunshine-build-cache/1 manifest/2 cpython-311 marshal/4``. The payload is plain data (dicts, lists,
strings, numbers; a value round-trips exactly: tuples stay tuples, integer keys stay integers), decoded
with the cyclic GC paused. At 1M targets the files are 17 and 8 MB, read in ~0.15 and ~0.1 s CPU (their
JSON: ~0.38 and ~0.16 s) and written in ~0.13 and ~0.07 s (JSON: ~0.57 and ~0.14 s). A file of another
format, kind, Python or ``marshal`` version, or whose payload does not have the recorded SHA-256
(truncated, damaged, half-written by a crash) is no record at all: the build is a full one (a missing
manifest only costs re-rendering what could have been linked).
Version 1's ``manifest.json`` and ``state.json`` are removed by the first full build that writes these.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BuildError
from ..writing import fsync_dir
from . import ledger_view, parallel, render

REPO_ROOT = Path(__file__).resolve().parents[3]

# Settings the plugin relies on, applied over any settings file (Pelican's own article machinery
# is switched off: records are rendered by the plugin, editorial pages are Pelican "pages").
REQUIRED_SETTINGS = {
    "RELATIVE_URLS": True,
    "DELETE_OUTPUT_DIRECTORY": False,
    "DIRECT_TEMPLATES": [],
    "ARTICLE_PATHS": ["articles"],
    "ARTICLE_SAVE_AS": "",
    "TAG_SAVE_AS": "",
    "CATEGORY_SAVE_AS": "",
    "AUTHOR_SAVE_AS": "",
    "ARCHIVES_SAVE_AS": "",
    "YEAR_ARCHIVE_SAVE_AS": "",
    "MONTH_ARCHIVE_SAVE_AS": "",
    "DAY_ARCHIVE_SAVE_AS": "",
    "DRAFT_SAVE_AS": "",
    "DRAFT_PAGE_SAVE_AS": "",
    "FEED_ALL_ATOM": None,
    "FEED_ALL_RSS": None,
    "CATEGORY_FEED_ATOM": None,
    "TRANSLATION_FEED_ATOM": None,
    "AUTHOR_FEED_ATOM": None,
    "AUTHOR_FEED_RSS": None,
    "LOAD_CONTENT_CACHE": False,
    "CACHE_CONTENT": False,
}


@dataclass
class BuildStats:
    output: Path
    pages: int = 0
    rendered: int = 0
    reused: int = 0
    search_pages: int = 0
    search: str = "skipped"
    seconds: float = 0.0
    timings: dict = field(default_factory=dict)
    mode: str = "full"  # "full", "incremental", or "unchanged" (nothing to do)
    published: int = 0  # incremental: files moved into the output
    deleted: int = 0  # incremental: files removed from the output
    why_full: str = ""  # why an incremental build was not possible
    scope: str = ""  # incremental: what the data change touched, or why every record page was made again

    def summary(self) -> str:
        if self.mode == "unchanged":
            return (f"{self.output} is up to date: data, code, theme, content and settings are as the last "
                    f"build left them ({self.pages} record pages; nothing written), in {self.seconds:.1f} s")
        if self.mode == "incremental":
            scope = f"; {self.scope}" if self.scope else ""
            return (
                f"updated {self.output} incrementally: {self.pages} record pages ({self.rendered} files "
                f"rendered, {self.published} published, {self.deleted} removed, {self.reused} unchanged{scope}), "
                f"search {self.search}, in {self.seconds:.1f} s"
            )
        return (
            f"built {self.output}: {self.pages} record pages ({self.rendered} files written, "
            f"{self.reused} unchanged), search {self.search}, in {self.seconds:.1f} s"
        )


def _default_settings_file() -> Path | None:
    """``pelicanconf.py`` in the current directory (as Pelican users expect), else the repository's."""
    for p in (Path.cwd() / "pelicanconf.py", REPO_ROOT / "pelicanconf.py"):
        if p.is_file():
            return p
    return None


def _check_output(output: Path, protected: list[Path]) -> None:
    out = output.resolve()
    for p in protected:
        rp = p.resolve()
        if out == rp or out in rp.parents:
            raise BuildError(f"refusing to build into {output}: it would replace {p}",
                             hint="choose an output directory of its own, e.g. --output output")
    if out.exists():
        if not out.is_dir():
            raise BuildError(f"{output}: expected a directory (or nothing), got a file")
        if any(out.iterdir()) and not (out / "index.html").exists():
            raise BuildError(
                f"refusing to replace {output}: it is not empty and does not look like a built site "
                "(no index.html)",
                hint="remove it yourself or choose another --output",
            )


class _Collector(logging.Handler):
    """Collects Pelican's errors (it logs some failures, e.g. an unreadable page, and goes on)."""

    def __init__(self, quiet: bool) -> None:
        super().__init__(logging.WARNING)
        self.quiet = quiet
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if record.levelno >= logging.ERROR:
            self.errors.append(msg)
        elif not self.quiet:
            print(f"warning: {msg}", file=sys.stderr)


@contextlib.contextmanager
def _pelican_logging(quiet: bool):
    from pelican.log import console

    logger = logging.getLogger("pelican")
    handler = _Collector(quiet)
    old = (logger.handlers[:], logger.propagate, logger.level, console.quiet)
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.WARNING)
    console.quiet = True
    try:
        yield handler
    finally:
        logger.handlers, logger.propagate, level, console.quiet = old
        logger.setLevel(level)


def run_pagefind(site: Path) -> str:
    """Index *site* with Pagefind (offline, ``python -m pagefind``); raise BuildError on failure."""
    try:
        import pagefind  # noqa: F401
    except ImportError:
        raise BuildError(
            "the search index cannot be built: the Python package 'pagefind' is not installed",
            hint="pip install 'pagefind[extended]' (offline binary, CJK segmentation), "
            "or build with --no-search to skip search",
        ) from None
    proc = subprocess.run(
        [sys.executable, "-m", "pagefind", "--site", str(site), "--output-subdir", "pagefind", "--silent"],
        capture_output=True,
        text=True,
        env={**os.environ, "PAGEFIND_SITE": str(site)},
    )
    if proc.returncode != 0 or not (site / "pagefind" / "pagefind.js").is_file():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise BuildError(
            "Pagefind could not index the site (exit code "
            f"{proc.returncode}): " + (" / ".join(tail) or "no output"),
            hint="check that 'pagefind[extended]' is installed for this Python, or build with --no-search",
        )
    return "indexed"


def remove_tree(path: Path, threads: int = 8) -> None:
    """``rm -rf`` with parallel workers: the record directories (``enterprises/<code>/`` …) are many
    and small, and on virtualised disks each ``unlink``/``rmdir`` is a slow system call."""
    from concurrent.futures import ThreadPoolExecutor

    jobs: list[Path] = []
    for top in os.scandir(path):
        if top.is_dir(follow_symlinks=False):
            subs = list(os.scandir(top.path))
            jobs += [Path(e.path) for e in subs if e.is_dir(follow_symlinks=False)]
            for e in subs:
                if not e.is_dir(follow_symlinks=False):
                    with contextlib.suppress(OSError):
                        os.unlink(e.path)
        else:
            with contextlib.suppress(OSError):
                os.unlink(top.path)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(lambda p: shutil.rmtree(p, ignore_errors=True), jobs))
    shutil.rmtree(path, ignore_errors=True)


def swap_into_place(new: Path, output: Path) -> None:
    """Replace *output* by *new* with two renames; the old tree is deleted afterwards."""
    if output.exists():
        old = Path(tempfile.mkdtemp(prefix=output.name + ".old-", dir=output.parent))
        os.rename(output, old)  # onto an empty directory: allowed by POSIX rename(2)
        try:
            os.rename(new, output)
        except OSError:
            os.rename(old, output)
            raise
        remove_tree(old)
    else:
        os.rename(new, output)


# --------------------------------------------------------------------------- incremental state

STATE_VERSION = 2  # 1: JSON (state.json)
# The build's records beside the output (see the module docstring); *.next while being published.
MANIFEST_FILE = "manifest.bin"
STATE_FILE = "state.bin"
JOURNAL_VERSION = 1
# Settings that carry this build's data, not its configuration (left out of the fingerprint).
_RUN_SETTINGS = {"OUTPUT_PATH", "SUNSHINE_DATA", "SUNSHINE_DATASET", "SUNSHINE_LEDGER", "SUNSHINE_CALENDAR",
                 "SUNSHINE_CACHE_DIR", "SUNSHINE_DELTA", "SUNSHINE_PREVIOUS_PAGES", "SUNSHINE_PREVIOUS_DERIVED",
                 "SUNSHINE_WORKERS",
                 "SUNSHINE_PREVIOUS_OUTPUT", "SUNSHINE_MANIFEST", "SUNSHINE_REPORT", "SUNSHINE_IN_PLACE"}


def _tree_digest(root: Path) -> str:
    """SHA-256 over every file under *root* (relative path and bytes), in sorted order."""
    h = hashlib.sha256()
    if root.is_dir():
        for p in sorted(root.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def _settings_digest(settings: dict) -> str:
    plain = {k: v for k, v in settings.items() if k not in _RUN_SETTINGS}
    return hashlib.sha256(json.dumps(plain, sort_keys=True, default=lambda o: f"<{type(o).__name__}>",
                                     ensure_ascii=False).encode()).hexdigest()


PACKAGE_DIR = Path(__file__).resolve().parents[1]


def code_files() -> list[str]:
    """The source files (relative to the package) of every ``sunshine`` module this process has
    imported: after a build, everything the build ran."""
    out = set()
    for name, mod in list(sys.modules.items()):
        f = getattr(mod, "__file__", None)
        if (name == "sunshine" or name.startswith("sunshine.")) and f:
            with contextlib.suppress(ValueError):
                out.add(Path(f).resolve().relative_to(PACKAGE_DIR).as_posix())
    return sorted(out)


def code_digest(files: list[str]) -> str:
    """SHA-256 over the package version and the current bytes of *files* (a missing file counts)."""
    from .. import __version__

    h = hashlib.sha256(__version__.encode() + b"\0")
    for rel in files:
        try:
            data = (PACKAGE_DIR / rel).read_bytes()
        except OSError:
            data = b"\0missing\0"
        h.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()


# Libraries whose version can change a page's bytes (templating, Markdown, the working-day calendar).
_LIBRARIES = ("pelican", "jinja2", "markupsafe", "markdown", "chinesecalendar", "pyyaml")


def _library_versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for name in _LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = ""
    return out


def fingerprint(settings: dict) -> dict:
    """What a build's pages depend on apart from the data: when any of it changed, build in full.

    The code is the set of modules the previous build imported (``code_files``, stored with the
    state): a change in any of them, or in the theme, the editorial content or the settings, means
    a full build. Modules a build never ran (the draw ceremony, key management …) do not count.
    """
    return {
        "version": STATE_VERSION,
        "theme": _tree_digest(Path(settings["THEME"])),
        "content": _tree_digest(Path(settings["PATH"])),
        "settings": _settings_digest(settings),
        "search": bool(settings.get("SUNSHINE_SEARCH")),
        "libraries": _library_versions(),
    }


def _with_code(state: dict) -> dict:
    files = code_files()
    return {**state, "code_files": files, "code": code_digest(files)}


# --------------------------------------------------------------------------- what changed in the data

def scan_data(data: Path, previous: dict | None = None) -> dict[str, list]:
    """Every file under *data*: relative path → ``[size, sha256, mtime_ns, prefix]``, where *prefix* is
    the SHA-256 of the file's first ``previous[rel][0]`` bytes when the file grew since *previous*
    (another scan), else ``""``: an appended file is one whose prefix equals its previous digest."""
    from ..data_cache import file_digests

    previous = previous or {}
    out: dict[str, list] = {}
    for dirpath, dirs, files in os.walk(data):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, data).replace(os.sep, "/")
            mtime = os.stat(path).st_mtime_ns
            old = previous.get(rel)
            cut = old[0] if isinstance(old, list) and old and isinstance(old[0], int) and old[0] > 0 else None
            digest, size, prefix, _ = file_digests(path, cut)
            out[rel] = [size, digest, mtime, prefix or ""]
    return out


def _unchanged_since(data: Path, scan: dict[str, list]) -> bool:
    """Whether every scanned file still has the size and mtime it had when scanned (and no file came)."""
    try:
        for rel, (size, _digest, mtime, _prefix) in scan.items():
            st = os.stat(data / rel)
            if (st.st_size, st.st_mtime_ns) != (size, mtime):
                return False
    except OSError:
        return False
    return scan_names(data) == set(scan)


def scan_names(data: Path) -> set[str]:
    out = set()
    for dirpath, _dirs, files in os.walk(data):
        for name in files:
            out.add(os.path.relpath(os.path.join(dirpath, name), data).replace(os.sep, "/"))
    return out


def changed_results(data: Path, old: dict[str, list], new: dict[str, list]) -> tuple[set[tuple[str, str, str]] | None, str]:
    """The (task, target, department) keys of the result rows appended since *old* (a scan of the
    previous build's data), or ``(None, why)`` when the change is anything else: a file other than
    ``results/<year>.csv`` changed, came or went, or a results file was edited rather than appended to
    (its old bytes are not a prefix of the new ones ending at a line break). Rows that do not parse
    give None too (the loader reports them; the build then stops)."""
    changed = sorted(rel for rel in set(old) | set(new) if (old.get(rel) or [None, None])[1] != (new.get(rel) or [None, None])[1])
    keys: set[tuple[str, str, str]] = set()
    for rel in changed:
        head, _, name = rel.partition("/")
        if head != "results" or "/" in name or not name.endswith(".csv"):
            return None, f"{rel} changed"
        if rel not in new:
            return None, f"{rel} was removed"
        start = 0
        if rel in old:
            if new[rel][3] != old[rel][1]:
                return None, f"{rel} was edited (not only appended to)"
            start = old[rel][0]
        rows = _appended_rows(data / rel, start)
        if rows is None:
            return None, f"{rel}: the appended rows could not be read"
        keys.update(rows)
    return keys, ""


def _appended_rows(path: Path, start: int) -> list[tuple[str, str, str]] | None:
    """(task, target, department) of each CSV row from byte *start* on (0: every row after the header)."""
    import csv
    import io

    try:
        with open(path, "rb") as f:
            raw = f.read()
        if start and raw[start - 1 : start] != b"\n":
            return None
        header, nl, body = raw.partition(b"\n")
        header_text = header.decode("utf-8").removeprefix("\ufeff")
        tail = (raw[start:] if start else body).decode("utf-8")
        cols_row = next(csv.reader(io.StringIO(header_text + "\n", newline=""), strict=True))
        cols = [cols_row.index(c) for c in ("task", "target", "department")]
        out = []
        for row in csv.reader(io.StringIO(tail, newline=""), strict=True):
            if not row:
                continue
            if len(row) != len(cols_row):
                return None
            out.append(tuple(row[i] for i in cols))
    except (OSError, UnicodeDecodeError, csv.Error, ValueError, StopIteration):
        return None
    return out


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _read_state(path: Path) -> dict | None:
    """The state :func:`_write_state` wrote to *path*, or None (none there, or not to be trusted)."""
    state = render.load_cache_file(path, f"state/{STATE_VERSION}")
    return state if isinstance(state, dict) else None


def _write_state(path: Path, state: dict) -> None:
    render.save_cache_file(path, f"state/{STATE_VERSION}", state)


def _write_json(path: Path, data: dict, *, sync: bool = False) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, separators=(",", ":"), ensure_ascii=False)
        if sync:
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)
    if sync:
        fsync_dir(str(path.parent))


def _safe_rel(rel: object) -> bool:
    return (isinstance(rel, str) and rel != "" and not rel.startswith("/") and "\\" not in rel
            and all(part not in ("", ".", "..") for part in rel.split("/")))


class _Crash(Exception):
    """Raised by the test hook that simulates a crash in the middle of publishing."""


# Test hook: called with the number of files moved so far while a journal is applied; tests make
# it raise to simulate a crash (a real crash is a killed process, which this stands in for).
_after_move = None


def _apply_journal(cache_dir: Path, output: Path, journal: dict) -> tuple[int, int]:
    """Carry out *journal* (idempotent: safe to repeat after a crash at any point)."""
    stage = cache_dir / journal["stage"]
    moved = deleted = 0
    for rel in journal["moves"]:
        src = stage / rel
        if src.exists():
            dst = output / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            _set_aside(dst, cache_dir / TRASH_DIR)
            os.replace(src, dst)
            moved += 1
            if _after_move is not None:
                _after_move(moved)
    for rel in journal["deletes"]:
        dst = output / rel
        try:
            os.unlink(dst)
            deleted += 1
        except FileNotFoundError:
            pass
        parent = dst.parent
        while parent != output:
            try:
                os.rmdir(parent)  # only when empty
            except OSError:
                break
            parent = parent.parent
    for name in (MANIFEST_FILE, STATE_FILE):
        nxt = cache_dir / (name + ".next")
        if nxt.exists():
            os.replace(nxt, cache_dir / name)
    os.unlink(cache_dir / "journal.json")
    if stage.exists():
        remove_tree(stage)
    return moved, deleted


def recover(output: Path, quiet: bool = False) -> str:
    """Finish what an interrupted build left beside *output*; returns what was done ("" if nothing).

    A journal is rolled forward; staging directories without a journal (a build that stopped before
    publishing) are removed. A journal that cannot be read cannot be trusted: the state is dropped so
    that the next build is a full one (a fresh tree swapped into place).
    """
    cache_dir = output.with_name(output.name + ".cache")
    if not cache_dir.is_dir():
        return ""
    done = ""
    jpath = cache_dir / "journal.json"
    if jpath.exists():
        journal = _read_json(jpath)
        ok = (journal is not None and journal.get("version") == JOURNAL_VERSION
              and isinstance(journal.get("stage"), str) and journal["stage"].startswith("stage-")
              and "/" not in journal["stage"]
              and all(_safe_rel(r) for r in journal.get("moves", [None]))
              and all(_safe_rel(r) for r in journal.get("deletes", [])))
        if ok and output.is_dir():
            moved, deleted = _apply_journal(cache_dir, output, journal)
            done = f"completed an interrupted incremental build ({moved} files moved, {deleted} removed)"
        else:
            for name in ("journal.json", STATE_FILE, STATE_FILE + ".next", MANIFEST_FILE + ".next"):
                with contextlib.suppress(OSError):
                    os.unlink(cache_dir / name)
            done = "found an unreadable publish journal: it was discarded and this build is a full one"
        if not quiet:
            print(f"warning: {output}: {done}", file=sys.stderr)
    for stale in cache_dir.glob("stage-*"):
        remove_tree(stale)
    for name in (STATE_FILE + ".next", MANIFEST_FILE + ".next"):
        with contextlib.suppress(OSError):
            os.unlink(cache_dir / name)
    return done


def _staged_files(stage: Path) -> list[str]:
    out = []
    for dirpath, _dirs, files in os.walk(stage):
        rel_dir = os.path.relpath(dirpath, stage)
        for f in files:
            out.append(f if rel_dir == "." else f"{rel_dir}/{f}".replace(os.sep, "/"))
    return sorted(out)


def _same_bytes(a: Path, b: Path) -> bool:
    try:
        if a.stat().st_size != b.stat().st_size:
            return False
        return a.read_bytes() == b.read_bytes()
    except OSError:
        return False


class _OutputCheck:
    """:func:`_output_matches` in a forked process while the build loads the data (a thread would
    fight the loading for the GIL at every one of its 154,000 stat calls); in this process where there
    is no fork. :meth:`matches` is False too if the check could not finish."""

    def __init__(self, output: Path, manifest: dict[str, list]) -> None:
        self._job = None
        self._result = None
        if hasattr(os, "fork"):
            self._job = parallel.Forked(lambda: _output_matches(output, manifest), "checking the output")
        else:
            self._result = _output_matches(output, manifest)

    def matches(self) -> bool:
        job, self._job = self._job, None
        if job is not None:
            try:
                self._result = bool(job.join())
            except BuildError:
                self._result = False
        return bool(self._result)

    def stop(self) -> None:
        job, self._job = self._job, None
        if job is not None:
            job.stop()


TRASH_DIR = "trash"  # under <output>.cache: big outputs replaced by an incremental build, deleted by the next
BIG_FILE = 1 << 20


def _set_aside(dst: Path, trash: Path) -> None:
    """Hard-link *dst*, a big file about to be replaced, into *trash*: the rename then frees no blocks
    (freeing a 272 MB download took about 0.3 s of the publish step), and the next build deletes it
    while it loads (:class:`_TrashEmptier`). Best effort: any error just leaves the rename to free it."""
    try:
        st = os.stat(dst)
        if st.st_size < BIG_FILE:
            return
        trash.mkdir(exist_ok=True)
        os.link(dst, trash / f"{st.st_ino}-{st.st_mtime_ns}")
    except OSError:
        pass


class _TrashEmptier:
    """Deletes the files in *trash* in a thread (unlink releases the GIL: the blocks are freed while
    the build loads its data); :meth:`join` before anything forks."""

    def __init__(self, trash: Path) -> None:
        self._thread = None
        if trash.is_dir():
            import threading

            self._thread = threading.Thread(target=self._empty, args=(trash,), name="sunshine-trash", daemon=True)
            self._thread.start()

    @staticmethod
    def _empty(trash: Path) -> None:
        with contextlib.suppress(OSError):
            for entry in os.scandir(trash):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None


def _output_matches(output: Path, manifest: dict[str, list]) -> bool:
    """Whether every file the manifest lists is still in *output* with its recorded size and mtime."""
    root = os.fspath(output) + os.sep
    stat = os.stat
    for rel, row in manifest.items():
        try:
            st = stat(root + rel)
        except OSError:
            return False
        if not isinstance(row, list) or len(row) != 3 or (st.st_size, st.st_mtime_ns) != (row[1], row[2]):
            return False
    return True


def _publish_incremental(stage: Path, output: Path, cache_dir: Path, old_manifest: dict, new_manifest: dict,
                         state: dict) -> tuple[int, int]:
    """Move the staged changes into *output* under a journal (see the module docstring)."""
    moves = []
    for rel in _staged_files(stage):
        if rel in new_manifest or not _same_bytes(stage / rel, output / rel):
            moves.append(rel)  # a changed page or file (Pelican's own output only when its bytes differ)
    deletes = sorted([rel for rel in old_manifest if rel not in new_manifest])
    render.save_manifest(cache_dir / (MANIFEST_FILE + ".next"), new_manifest)
    _write_state(cache_dir / (STATE_FILE + ".next"), state)
    _write_json(cache_dir / "journal.json", {"version": JOURNAL_VERSION, "stage": stage.name,
                                             "moves": moves, "deletes": deletes}, sync=True)
    return _apply_journal(cache_dir, output, {"stage": stage.name, "moves": moves, "deletes": deletes})


def build_site(
    data: Path,
    output: Path,
    *,
    settings_file: Path | None = None,
    content: Path | None = None,
    theme: Path | None = None,
    search: bool = True,
    incremental: bool = True,
    quiet: bool = False,
    extra_settings: dict | None = None,
) -> BuildStats:
    """Build the portal from *data* into *output* (see the module docstring); returns its figures.

    The loaded data is frozen for the garbage collector while the build runs (``gc.freeze()``: the
    collector's full passes would otherwise walk the million loaded records again and again, and
    forked workers would copy their pages); it is unfrozen before this returns."""
    outer = gc.get_freeze_count() > 0
    try:
        return _build_site(data, output, settings_file=settings_file, content=content, theme=theme,
                           search=search, incremental=incremental, quiet=quiet, extra_settings=extra_settings)
    finally:
        if not outer:
            gc.unfreeze()


class _RulesCheck:
    """The §2 rules of a loaded dataset (``check()`` raises DataError), checked in a forked process
    while the build goes on when the machine has more than one core (in this process otherwise, at
    once). :meth:`join` returns when they have passed and raises their DataError if not; call it
    before publishing anything, and :meth:`stop` on any failure."""

    def __init__(self, check: Callable[[], None]) -> None:
        self._job = None
        if hasattr(os, "fork") and parallel.default_workers() > 1:
            self._job = parallel.Forked(check, "checking the data's rules")
        else:
            check()

    def join(self) -> None:
        job, self._job = self._job, None
        if job is not None:
            job.join()

    def stop(self) -> None:
        job, self._job = self._job, None
        if job is not None:
            job.stop()


def _build_site(
    data: Path,
    output: Path,
    *,
    settings_file: Path | None,
    content: Path | None,
    theme: Path | None,
    search: bool,
    incremental: bool,
    quiet: bool,
    extra_settings: dict | None,
) -> BuildStats:
    from pelican import Pelican
    from pelican.settings import read_settings

    from ..loading import load_dataset_deferring_rules
    from ..workdays import Calendar

    t0 = time.perf_counter()
    data = Path(data)
    output = Path(output).absolute()
    if not data.is_dir():
        raise BuildError(f"{data}: expected a data directory, got " + ("a file" if data.exists() else "nothing"),
                         hint="create one with `sunshine demo-data --out data` (format: docs/data-format.md)")
    cache_dir = output.with_name(output.name + ".cache")
    from ..data_cache import DataCache

    def warn(msg: str) -> None:
        if not quiet:
            print(f"warning: {msg}", file=sys.stderr)

    if settings_file is None:
        settings_file = _default_settings_file()
    elif not Path(settings_file).is_file():
        raise BuildError(f"{settings_file}: expected a Pelican settings file, got nothing there")
    overrides: dict = {}
    if content is not None:
        overrides["PATH"] = str(Path(content).absolute())
    if theme is not None:
        overrides["THEME"] = str(Path(theme).absolute())
    if settings_file is None:
        overrides.setdefault("PATH", str(REPO_ROOT / "content"))
        overrides.setdefault("THEME", str(REPO_ROOT / "theme"))
    overrides.update(extra_settings or {})
    settings = read_settings(str(settings_file) if settings_file else None, override=overrides)
    for key in ("PATH", "THEME"):
        if not Path(settings[key]).is_dir():
            raise BuildError(f"{key} {settings[key]}: expected a directory, got nothing there",
                             hint="run from the repository, or pass --content/--theme")
    if not (Path(settings["THEME"]) / "templates" / "base.html").is_file():
        raise BuildError(f"{settings['THEME']}: expected a theme with templates/base.html")
    _check_output(output, [data, Path(settings["PATH"]), Path(settings["THEME"]), REPO_ROOT])
    output.parent.mkdir(parents=True, exist_ok=True)
    recover(output, quiet)

    settings.update(REQUIRED_SETTINGS)
    plugins = list(settings.get("PLUGINS") or [])
    if "sunshine.portal" not in plugins:
        plugins.append("sunshine.portal")
    settings["PLUGINS"] = plugins
    # Pelican's own pages render data too (the footer): autoescape whatever the settings file says.
    settings["JINJA_ENVIRONMENT"] = {**(settings.get("JINJA_ENVIRONMENT") or {}), "autoescape": True}
    settings["SUNSHINE_SEARCH"] = search
    state = fingerprint(settings)
    stats = BuildStats(output=output)

    previous = output if incremental and output.is_dir() else None
    manifest = render.load_manifest(cache_dir / MANIFEST_FILE) if previous else {}
    in_place = False
    old_state: dict = {}
    if incremental and output.is_dir():
        old_state = _read_state(cache_dir / STATE_FILE) or {}
        if not old_state or not manifest:
            stats.why_full = "no record of the previous build"
        else:
            files = old_state.get("code_files")
            changed = [k for k in state if old_state.get(k) != state[k]]
            if not isinstance(files, list) or not all(isinstance(f, str) for f in files) \
                    or old_state.get("code") != code_digest(files):
                changed.insert(0, "code")
            stats.why_full = f"{', '.join(changed)} changed" if changed else ""
            in_place = not changed

    # What changed in the data since the previous build (only an in-place build can use it).
    old_data = old_state.get("data") if in_place and isinstance(old_state.get("data"), dict) else None
    old_pages = old_state.get("pages") if in_place and isinstance(old_state.get("pages"), dict) else None
    scan = scan_data(data, old_data)
    delta_keys = None
    output_check = None  # whether the output is as the manifest records it, checked while the data loads
    if old_data is not None and old_pages is not None:
        if {k: v[:2] for k, v in scan.items()} == {k: v[:2] for k, v in old_data.items() if isinstance(v, list)}:
            if _output_matches(output, manifest):
                stats.mode = "unchanged"
                stats.pages = len(old_pages)
                stats.reused = len(manifest)
                stats.search = "kept" if search else "skipped"
                _TrashEmptier(cache_dir / TRASH_DIR).join()
                stats.seconds = stats.timings["load"] = time.perf_counter() - t0
                return stats
            stats.scope = "files in the output are not as the previous build left them"
        else:
            delta_keys, stats.scope = changed_results(data, old_data, scan)
            if delta_keys is not None:
                stats.scope = f"{len(delta_keys)} result group(s) changed"
                # in a process of its own (154k stat calls at 1M) while this one loads the data
                output_check = _OutputCheck(output, manifest)

    trash = _TrashEmptier(cache_dir / TRASH_DIR)  # what the previous build set aside (see _apply_journal)
    try:
        ds, check_rules = load_dataset_deferring_rules(data, cache=DataCache(cache_dir / "data", warn=warn))
        calendar = Calendar.from_dir(data)
        ledger = ledger_view.load(data / "ledger", ds)
    except BaseException:
        if output_check is not None:
            output_check.stop()
        raise
    finally:
        trash.join()  # no thread may be left when the workers fork
    if output_check is not None and not output_check.matches():
        delta_keys, stats.scope = None, "files in the output are not as the previous build left them"
    gc.freeze()  # first: the fork below then needs no full collection over the loaded data (~0.5 s at 1M)
    # The §2 rules (about a second at a million targets) are checked in a process of their own while
    # this one makes the site; nothing is published before they have passed (rules.join() below).
    rules = _RulesCheck(check_rules)
    stats.timings["load"] = time.perf_counter() - t0

    report: dict = {}
    settings.update(
        SUNSHINE_DATA=str(data),
        SUNSHINE_DATASET=ds,
        SUNSHINE_LEDGER=ledger,
        SUNSHINE_CALENDAR=calendar,
        SUNSHINE_PREVIOUS_OUTPUT=previous,
        SUNSHINE_MANIFEST=manifest,
        SUNSHINE_REPORT=report,
        SUNSHINE_IN_PLACE=in_place,
        SUNSHINE_CACHE_DIR=str(cache_dir),
    )
    if delta_keys is not None:
        derived = old_state.get("derived")
        settings.update(SUNSHINE_DELTA=delta_keys, SUNSHINE_PREVIOUS_PAGES=old_pages,
                        SUNSHINE_PREVIOUS_DERIVED=derived if isinstance(derived, dict) else {})

    def new_state(report: dict) -> dict:
        """What this build was made from, with the data files as scanned (left out if any of them
        changed while it ran: the next build then makes every record page again) and its pages."""
        out = _with_code(state)
        out["data"] = scan if _unchanged_since(data, scan) else None
        out["pages"] = report.get("all_pages", {})
        out["derived"] = report.get("derived", {})
        return out

    if in_place:
        cache_dir.mkdir(parents=True, exist_ok=True)
        new = Path(tempfile.mkdtemp(prefix="stage-", dir=cache_dir))
    else:
        with contextlib.suppress(OSError):  # the state describes the output until this build replaces it
            os.unlink(cache_dir / STATE_FILE)
        new = Path(tempfile.mkdtemp(prefix=output.name + ".new-", dir=output.parent))
    settings["OUTPUT_PATH"] = str(new)
    try:
        t1 = time.perf_counter()
        try:
            with _pelican_logging(quiet) as log:
                Pelican(settings).run()
        finally:
            rules.join()  # the rules' errors come first, whatever else failed
        if log.errors:
            raise BuildError("Pelican reported errors: " + "; ".join(log.errors[:5]),
                             hint="fix the pages named above (content/ or theme/)")
        stats.timings["render"] = time.perf_counter() - t1
        if not in_place and not (new / "index.html").is_file():
            raise BuildError("the build wrote no index.html", hint="is sunshine.portal in PLUGINS?")
        if in_place:
            t3 = time.perf_counter()
            stats.mode = "incremental"
            stats.search = "kept (not re-indexed by an incremental build; --full re-indexes)" if search else "skipped"
            stats.published, stats.deleted = _publish_incremental(
                new, output, cache_dir, manifest, report.get("manifest", {}), new_state(report))
            stats.timings["publish"] = time.perf_counter() - t3
        else:
            if search:
                t2 = time.perf_counter()
                stats.search = run_pagefind(new)
                stats.timings["search"] = time.perf_counter() - t2
            else:
                print("warning: search index skipped (--no-search): the site's search page will say so",
                      file=sys.stderr)
            os.chmod(new, 0o755)  # mkdtemp makes it 0700; a web server must be able to read it
            t3 = time.perf_counter()
            swap_into_place(new, output)
            stats.timings["swap"] = time.perf_counter() - t3
    except BaseException:
        rules.stop()
        if new.exists() and not (cache_dir / "journal.json").exists():
            remove_tree(new)
        raise
    if not in_place:
        with contextlib.suppress(OSError):
            cache_dir.mkdir(parents=True, exist_ok=True)
            render.save_manifest(cache_dir / MANIFEST_FILE, report.get("manifest", {}))
            _write_state(cache_dir / STATE_FILE, new_state(report))
            for legacy in ("manifest.json", "state.json", "manifest.json.next", "state.json.next"):  # version 1's (JSON)
                with contextlib.suppress(OSError):
                    os.unlink(cache_dir / legacy)
    stats.pages = report.get("pages", 0)
    stats.rendered = report.get("rendered", 0)
    stats.reused = report.get("reused", 0)
    stats.search_pages = report.get("search_pages", 0)
    stats.timings["views"] = report.get("context_seconds", 0.0)
    stats.timings["render_cpu"] = report.get("render_seconds", 0.0)
    stats.seconds = time.perf_counter() - t0
    return stats
