"""``sunshine build``: load and check the data, run Pelican with the portal plugin into a fresh
sibling directory, index it with Pagefind, then swap it into place atomically.

Swap: ``output`` → ``output.old-XXXX`` (one ``rename``), ``output.new-XXXX`` → ``output`` (one
``rename``), then the old tree is deleted. Any failure before the swap deletes the new tree and
leaves ``output`` exactly as it was. Unchanged pages are hard-linked from the previous output
(see :mod:`.render`); the manifest that makes this possible lives beside the output, in
``<output>.cache/manifest.json``, never inside the published tree.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BuildError
from . import ledger_view, render

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

    def summary(self) -> str:
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
    from pelican import Pelican
    from pelican.settings import read_settings

    from ..loading import load_dataset
    from ..workdays import Calendar

    t0 = time.perf_counter()
    data = Path(data)
    output = Path(output).absolute()
    if not data.is_dir():
        raise BuildError(f"{data}: expected a data directory, got " + ("a file" if data.exists() else "nothing"),
                         hint="create one with `sunshine demo-data --out data` (format: docs/data-format.md)")
    ds = load_dataset(data)
    calendar = Calendar.from_dir(data)
    ledger = ledger_view.load(data / "ledger", ds)
    stats = BuildStats(output=output)
    stats.timings["load"] = time.perf_counter() - t0

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

    cache = output.with_name(output.name + ".cache") / "manifest.json"
    previous = output if incremental and output.is_dir() else None
    manifest = render.load_manifest(cache) if previous else {}
    report: dict = {}
    new = Path(tempfile.mkdtemp(prefix=output.name + ".new-", dir=output.parent))
    try:
        settings.update(REQUIRED_SETTINGS)
        plugins = list(settings.get("PLUGINS") or [])
        if "sunshine.portal" not in plugins:
            plugins.append("sunshine.portal")
        settings["PLUGINS"] = plugins
        # Pelican's own pages render data too (the footer): autoescape whatever the settings file says.
        settings["JINJA_ENVIRONMENT"] = {**(settings.get("JINJA_ENVIRONMENT") or {}), "autoescape": True}
        settings.update(
            OUTPUT_PATH=str(new),
            SUNSHINE_DATA=str(data),
            SUNSHINE_DATASET=ds,
            SUNSHINE_LEDGER=ledger,
            SUNSHINE_CALENDAR=calendar,
            SUNSHINE_SEARCH=search,
            SUNSHINE_PREVIOUS_OUTPUT=previous,
            SUNSHINE_MANIFEST=manifest,
            SUNSHINE_REPORT=report,
        )
        t1 = time.perf_counter()
        with _pelican_logging(quiet) as log:
            Pelican(settings).run()
        if log.errors:
            raise BuildError("Pelican reported errors: " + "; ".join(log.errors[:5]),
                             hint="fix the pages named above (content/ or theme/)")
        stats.timings["render"] = time.perf_counter() - t1
        if not (new / "index.html").is_file():
            raise BuildError("the build wrote no index.html", hint="is sunshine.portal in PLUGINS?")
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
        if new.exists():
            remove_tree(new)
        raise
    with contextlib.suppress(OSError):
        render.save_manifest(cache, report.get("manifest", {}))
    stats.pages = report.get("pages", 0)
    stats.rendered = report.get("rendered", 0)
    stats.reused = report.get("reused", 0)
    stats.search_pages = report.get("search_pages", 0)
    stats.timings["views"] = report.get("context_seconds", 0.0)
    stats.timings["render_cpu"] = report.get("render_seconds", 0.0)
    stats.seconds = time.perf_counter() - t0
    return stats
