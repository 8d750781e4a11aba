"""The Pelican generator of the portal: computes everything in ``generate_context()``, writes in
``generate_output(writer)``, like Pelican's own generators.

Settings it reads (``pelicanconf.py``):

``SUNSHINE_DATA``          the data directory (loaded with :func:`sunshine.loading.load_dataset`)
``SUNSHINE_PUBLIC_URL``    absolute URL of the published site, for the sitemap and Atom feeds
                           (default ``https://<origin>/``); pages always link relatively
``SUNSHINE_SEARCH``        whether the pages carry the Pagefind search UI (``sunshine build`` sets it)
``SUNSHINE_CACHE_DIR``     a directory for compiled templates kept between builds (``sunshine build``
                           sets ``<output>.cache``)
``SUNSHINE_WORKERS``       processes rendering the record pages (default: one per core from 2,000
                           pages on, and in a delta build; 1 = no worker processes; see :mod:`.parallel`)

and, when run by ``sunshine build`` (:mod:`.build`): ``SUNSHINE_DATASET`` (the already loaded
dataset), ``SUNSHINE_LEDGER`` (the ledger view), ``SUNSHINE_PREVIOUS_OUTPUT`` and
``SUNSHINE_MANIFEST`` (incremental rendering), ``SUNSHINE_REPORT`` (a dict it fills with figures), and
for a build after a change of result rows only, ``SUNSHINE_DELTA`` (the (task, target, department) keys
of the changed rows) with ``SUNSHINE_PREVIOUS_PAGES`` (the previous build's record pages, path → lastmod):
then only the record pages of the families those keys touch are made (:class:`.views.Delta`), and the
other families' pages, manifest rows and sitemap rows are carried over from the previous build.

*Derived state*: a whole-site file may keep, between builds, what a delta build needs to update it
rather than make it again (e.g. where each task's rows start in a download). The code making it puts a
JSON-able value in ``self.derived[name]``; ``sunshine build`` stores the dict in ``state.bin`` (published
with the output, under the same journal) and gives a delta build the previous one as
``SUNSHINE_PREVIOUS_DERIVED`` (``{}`` in any other build). A value that is missing or does not fit the
previous output must make its file the whole way, never a wrong one.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import os
import time
from pathlib import Path

import jinja2
from pelican.generators import Generator

from .. import model
from ..errors import BuildError
from . import feeds, ledger_view, lookup, opendata, parallel, stats, views
from .render import Renderer, make_environment, templates_digest

NAV = (
    ("home", "首页", ""),
    ("items", "抽查事项清单", "items/"),
    ("plans", "年度抽查计划", "plans/"),
    ("tasks", "抽查任务", "tasks/"),
    ("results", "检查结果公示", "results/"),
    ("enterprises", "检查对象查询", "enterprises/"),
    ("stats", "统计", "stats/"),
    ("ledger", "抽查账本", "ledger/"),
    ("data", "开放数据", "data/"),
)


def site_globals(ds: model.Dataset, settings: dict, ledger: dict | None) -> dict:
    j = ds.jurisdiction
    public_url = settings.get("SUNSHINE_PUBLIC_URL") or f"https://{j.origin}/"
    if not public_url.endswith("/"):
        public_url += "/"
    s = j.site
    return {
        "name": j.name,
        "title": f"{j.name}“双随机、一公开”监管信息公示",
        "short_title": "阳光抽查",
        "sample": j.sample,
        "origin": j.origin,
        "public_url": public_url,
        "search": bool(settings.get("SUNSHINE_SEARCH", False)),
        "has_ledger": ledger is not None,
        "nav": [{"id": k, "label": label, "url": url} for k, label, url in NAV],
        "footer": {
            "host": s.host,
            "organiser": s.organiser,
            "address": s.address,
            "phone": s.phone,
            "icp": s.icp,
            "police_record": s.police_record,
            "website_code": s.website_code,
        },
        "departments": [{"id": d.id, "name": d.name, "short_name": d.short_name} for d in j.departments],
    }


def _gc_paused(method):
    """Run *method* with the cyclic garbage collector paused.

    The page contexts are hundreds of thousands of new dicts and lists (no reference cycles);
    each of the collector's full passes meanwhile walks every object of the loaded dataset again:
    about 40 % of the views' CPU time at 100,000 targets, more at a million."""

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return method(self, *args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()

    return run


# The site-wide pages, by kind (PortalGenerator.site_pages); the downloads page is made apart.
SITE_PAGES = ("home", "items", "plans", "tasks", "results", "enterprises", "stats", "ledger", "verify", "search",
              "404")


class _Expand:
    """A unit of work → its pages: ``("site", kind)`` or a record-page family (:mod:`.views`)."""

    def __init__(self, gen: "PortalGenerator", families: views.FamilyPages) -> None:
        self.gen, self.families = gen, families

    def __call__(self, unit: tuple[str, str]) -> list[views.Page]:
        if unit[0] == "site":
            return self.gen.site_pages(unit[1])
        return self.families(unit)

    def forget(self) -> None:
        self.families.forget()


def _previous_file(renderer: Renderer, rel: str) -> bytes | None:
    """The previous build's file at *rel* when its bytes are those its manifest row records
    (``sha256:`` key and size), else None."""
    row, previous = renderer.old.get(rel), renderer.previous
    if previous is None or not isinstance(row, list) or len(row) != 3:
        return None
    try:
        with open(os.path.join(previous, rel), "rb") as f:
            data = f.read()
    except OSError:
        return None
    if len(data) != row[1] or row[0] != "sha256:" + hashlib.sha256(data).hexdigest()[:40]:
        return None
    return data


class PortalGenerator(Generator):
    """Writes every record page of the portal (see :mod:`sunshine.portal.views`)."""

    @_gc_paused
    def generate_context(self) -> None:
        t0 = time.perf_counter()
        ds = self.settings.get("SUNSHINE_DATASET")
        if ds is None:
            data = self.settings.get("SUNSHINE_DATA")
            if not data:
                raise BuildError("the Pelican settings name no SUNSHINE_DATA directory",
                                 hint="set SUNSHINE_DATA = 'data' in pelicanconf.py, or run `sunshine build`")
            from ..loading import load_dataset

            ds = load_dataset(Path(data))
        if "SUNSHINE_LEDGER" in self.settings:
            ledger = self.settings["SUNSHINE_LEDGER"]
        else:
            data = self.settings.get("SUNSHINE_DATA")
            ledger = ledger_view.load(Path(data) / "ledger", ds) if data else None
        self.ds = ds
        self.ledger = ledger
        self.ix = ix = views.Index(ds)
        self.site = site_globals(ds, self.settings, ledger)
        self.context["site"] = self.site  # base.html of Pelican's own pages (content/) uses it too
        self.draws = ledger["draws"] if ledger else {}
        self.draws_by_target = ledger["by_target"] if ledger else {}
        keys = self.settings.get("SUNSHINE_DELTA")
        self.delta = None if keys is None else views.Delta.from_keys(ix, keys)
        # Every page is made where it is rendered (generate_output: on every core), family by family: the
        # site-wide pages, then the task, result-listing and enterprise pages (only those a delta build
        # touches). The downloads page is made last, by this process, once the downloads exist.
        self.families = [("site", name) for name in SITE_PAGES]
        self.families += views.record_families(ix, self.draws_by_target, self.delta)
        self.expand = _Expand(self, views.FamilyPages(ix, self.draws, self.draws_by_target))
        self.data_page = views.Page(path="data/index.html", template="data.html", ctx={}, title="开放数据",
                                    section="data")
        self.previous_derived = (self.settings.get("SUNSHINE_PREVIOUS_DERIVED") or {}) if self.delta else {}
        self.derived: dict = {}  # see the module docstring
        self.context_seconds = time.perf_counter() - t0

    def site_pages(self, name: str) -> list[views.Page]:
        """The site-wide pages of one kind (see :data:`SITE_PAGES`)."""
        ix, ds, ledger = self.ix, self.ds, self.ledger
        if name == "home":
            return [views.Page(path="index.html", template="index.html", ctx=views.home_context(ix, ledger),
                               title="首页", section="home")]
        if name == "items":
            return views.item_pages(ix)
        if name == "plans":
            return views.plan_pages(ix)
        if name == "tasks":
            return [views.task_index_page(ix, self.draws)]
        if name == "results":
            return [views.result_index_page(ix)]
        if name == "enterprises":
            return [views.Page(path="enterprises/index.html", template="enterprises.html",
                               ctx={"count": len(set(ix.by_target) | set(self.draws_by_target))},
                               title="检查对象查询", section="enterprises")]
        if name == "stats":
            return [views.Page(path="stats/index.html", template="stats.html",
                               ctx=stats.context(ds, ix, self._calendar()), title="统计", section="stats")]
        if name == "ledger":
            return ledger_view.pages(ledger, ds)
        if name == "verify":
            drawn = sorted(self.draws) if ledger else []
            return [views.Page(path="verify/index.html", template="verify.html",
                               ctx={"tasks": [{"id": t, "name": ix.tasks[t].name if t in ix.tasks else t}
                                              for t in drawn],
                                    "origin": ds.jurisdiction.origin},
                               title="在浏览器中验证", section="ledger")]
        if name == "search":
            return [views.Page(path="search/index.html", template="search.html", ctx={}, title="全文搜索",
                               section="search")]
        if name == "404":
            return [views.Page(path="404.html", template="404.html", ctx={}, title="页面不存在")]
        raise ValueError(f"expected one of {', '.join(SITE_PAGES)}, got {name!r}")

    def _calendar(self):
        cal = self.settings.get("SUNSHINE_CALENDAR")
        if cal is None and self.settings.get("SUNSHINE_DATA"):
            from ..workdays import Calendar

            cal = Calendar.from_dir(self.settings["SUNSHINE_DATA"])
        return cal

    def workers(self) -> int:
        """Processes that render the record pages: ``SUNSHINE_WORKERS`` (1 = this process only),
        or by default one per core once there are at least :data:`parallel.MIN_PAGES` pages, and in
        a delta build (its few units are its costliest work: the statistics, a month's listing, …;
        they are then handed out one at a time)."""
        n = self.settings.get("SUNSHINE_WORKERS")
        if n in (None, "", "auto"):
            if self.delta is not None or len(self.families) >= parallel.MIN_PAGES:
                return parallel.default_workers()
            return 1
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise BuildError(f"SUNSHINE_WORKERS: expected a whole number >= 1 or 'auto', got {n!r}")
        return n

    def _write_downloads(self, renderer: Renderer) -> dict:
        """The open-data downloads and the ledger's files; returns the downloads page's listing and
        the downloads' derived state: ``{"listing": [...], "derived": {...}}`` (in a delta build the
        downloads are spliced from the previous ones when the previous derived state fits them)."""
        listing, derived = opendata.write(renderer, self.ds, self.ix,
                                          self.settings.get("SUNSHINE_DELTA") if self.delta is not None else None,
                                          self.previous_derived.get("opendata"))
        for rel, data in (self.ledger or {}).get("files", {}).items():
            renderer.file(rel, data)  # the ledger as published: C2SP tlog-tiles layout and blobs
        return {"listing": listing, "derived": derived}

    def _write_lookup(self, renderer: Renderer) -> None:
        """The exact look-up's ``meta.json`` and shards. A delta build makes only those its targets'
        rows change and keeps the others (:func:`.lookup.delta_files`), unless that cannot be worked
        out or a previous shard is not as recorded: then it makes them all, as any other build does."""
        ix, draws = self.ix, self.draws_by_target
        kept: set[str] = set()
        if self.delta is not None:
            # a row per target with a page (set(by_target) | set(draws): 27 ms at 1M, this 0.1 ms)
            count = len(ix.by_target) + len(draws) - sum(map(ix.by_target.__contains__, draws))
            rows = views.enterprise_lookup_rows(ix, draws, {k[1] for k in self.settings["SUNSHINE_DELTA"]})
            made = lookup.delta_files(count, rows, functools.partial(_previous_file, renderer))
            if made is not None:
                for rel in map(lookup.shard_path, range(lookup.shard_count(count))):
                    if rel not in made:
                        if not renderer.keep(rel):
                            break
                        kept.add(rel)
                else:
                    for rel, data in made.items():
                        renderer.file(rel, data)
                    return
        for rel, data in lookup.files(views.enterprise_lookup_rows(ix, draws)).items():
            if rel not in kept:
                renderer.file(rel, data)

    def _write_other_files(self, renderer: Renderer) -> None:
        """The exact look-up's shards, the Atom feeds and robots.txt."""
        self._write_lookup(renderer)
        for rel, data in feeds.files(self.ds, self.ix, self.site).items():
            renderer.file(rel, data)
        renderer.file("robots.txt", feeds.robots(self.site))

    def _side_job(self) -> bool:
        """Whether the downloads (the biggest single piece of work) are written by a process of their
        own while the pages are made: when there is more than one core, ``SUNSHINE_WORKERS`` is not 1, and the site
        is big enough for page workers or this is a delta build (few pages, the downloads as big as ever)."""
        if not hasattr(os, "fork") or self.settings.get("SUNSHINE_WORKERS") == 1 or parallel.default_workers() < 2:
            return False
        return self.workers() > 1 or self.delta is not None

    def _write_sitemaps(self, renderer: Renderer, made: dict[str, str]) -> dict[str, str]:
        """The sitemaps of every record page: those this build *made* (path → lastmod) and, in a delta
        build, the previous build's pages of the families it did not make again. Returns them all."""
        pages: dict[str, str] = {}
        if self.delta is not None:
            pages = self.delta.carried(self.settings.get("SUNSHINE_PREVIOUS_PAGES") or {})
        pages.update(made)
        content_pages = [(p.save_as, p.title) for p in self.context.get("pages", [])]
        for rel, data in feeds.sitemaps(self.site, pages, content_pages).items():
            renderer.file(rel, data)
        return pages

    def generate_output(self, writer) -> None:  # noqa: ARG002 - Pelican's writer is not used for records
        templates = Path(self.theme) / "templates"
        env = make_environment(templates)
        env.globals["site"] = self.site
        cache = self.settings.get("SUNSHINE_CACHE_DIR")
        if cache:  # compiled templates kept between builds (keyed by each template's source)
            (Path(cache) / "templates").mkdir(parents=True, exist_ok=True)
            env.bytecode_cache = jinja2.FileSystemBytecodeCache(str(Path(cache) / "templates"))
        for name in env.list_templates(extensions=["html"]):
            try:  # compiled once here, before the workers fork, instead of once in each of them
                env.get_template(name)
            except jinja2.TemplateError as exc:
                raise BuildError(f"theme template {name}: {exc}") from exc
        digest = templates_digest(templates)

        def make_renderer() -> Renderer:
            return Renderer(
                env,
                digest,
                Path(self.output_path),
                previous=self.settings.get("SUNSHINE_PREVIOUS_OUTPUT"),
                manifest=self.settings.get("SUNSHINE_MANIFEST"),
                link_unchanged=not self.settings.get("SUNSHINE_IN_PLACE", False),
            )

        renderer = make_renderer()
        site_digest = hashlib.sha256(repr(sorted(self.site.items())).encode()).digest()
        side = None
        try:
            # the downloads (in a process of their own when it pays), the other files, and the pages on
            # every core; the downloads page comes last (it lists the downloads)
            downloads: dict = {}
            if self._side_job():
                side = parallel.SideJob(make_renderer, self._write_downloads, "the downloads")

                def between() -> None:
                    self._write_other_files(renderer)
            else:
                def between() -> None:
                    downloads.update(self._write_downloads(renderer))
                    self._write_other_files(renderer)
            figures = parallel.render_pages(renderer, make_renderer, self.families, site_digest, self.workers(),
                                            chunk=1 if self.delta is not None else None,
                                            between=between, expand=self.expand)
            if side is not None:
                downloads, side = side.join(renderer), None
            self.derived["opendata"] = downloads["derived"]
            self.data_page.ctx = {"downloads": downloads["listing"]}
            renderer.page(self.data_page, site_digest)
            figures["pages"][self.data_page.path] = self.data_page.lastmod
            all_pages = self._write_sitemaps(renderer, figures["pages"])
            renderer.finish()
        except BaseException:
            if side is not None:
                side.stop()
            renderer.abort()
            raise
        manifest = renderer.files
        if self.delta is not None:  # the families not made again keep their previous rows
            manifest = self.delta.carried(self.settings.get("SUNSHINE_MANIFEST") or {})
            manifest.update(renderer.files)
        report = self.settings.get("SUNSHINE_REPORT")
        if isinstance(report, dict):
            report.update(pages=len(all_pages), rendered=renderer.rendered, reused=renderer.reused,
                          render_seconds=renderer.render_seconds, context_seconds=self.context_seconds,
                          manifest=manifest, all_pages=all_pages, workers=figures["workers"],
                          worker_private_kib=figures["worker_private_kib"], derived=self.derived,
                          search_pages=figures["search"] + self.data_page.search)
