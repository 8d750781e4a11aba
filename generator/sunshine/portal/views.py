"""From a loaded :class:`~sunshine.model.Dataset` (and the ledger, when there is one) to pages.

:func:`plan_pages` returns every record page of the portal as a :class:`Page`: its output path,
its template and a context made only of plain, allow-listed data (:mod:`.privacy`). Nothing is
rendered or written here; :mod:`.render` does that, and skips pages whose context did not change.

URLs are ASCII and derived from stable ids (``tasks/2025-01/``, ``enterprises/<USCC>/``,
``items/<dept>/``, ``plans/<year>/``); every link in a page is relative to the page
(``root`` is ``"../../"`` for ``tasks/2025-01/index.html``) so the site works from any sub-path.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter
from urllib.parse import unquote

from .. import model
from . import privacy
from .privacy import dept_label, iso

RESULTS_PER_PAGE = 500
LATEST_ON_HOME = 10


@dataclass(slots=True)
class Page:
    """One HTML page to render: ``path`` (relative, ends in ``index.html`` or ``.html``)."""

    path: str
    template: str
    ctx: dict
    title: str
    section: str = ""
    search: bool = False  # indexed by Pagefind
    lastmod: str = ""  # ISO date for the sitemap
    filters: dict = field(default_factory=dict)  # Pagefind filters (shown as data attributes)


def month_of(d: date) -> str:
    """``"YYYY-MM"`` of a date (the month listings' key)."""
    return d.isoformat()[:7]


def root_of(path: str) -> str:
    """The relative prefix from *path* back to the site root: ``"a/b/index.html"`` → ``"../../"``."""
    return "../" * path.count("/")


_MONTH_LEN = len("2026-01")
_FAMILY_HEADS = ("enterprises/", "tasks/", "results/")


def family_of(path: str) -> tuple[str, str] | None:
    """The record-page family a page path belongs to, or None for a site-wide page.

    ``enterprises/<slug>/index.html`` → ``("target", slug)``; ``tasks/<id>/index.html`` → ``("task", id)``;
    ``results/tasks/<id>/[<n>/]index.html`` → ``("rtask", id)``; ``results/<YYYY-MM>/[<n>/]index.html`` →
    ``("month", "YYYY-MM")``. A family's pages depend only on the result groups of that target, task or
    month (and on files a :class:`Delta` build requires unchanged); everything else is site-wide."""
    if not path.endswith("/index.html") or not path.startswith(_FAMILY_HEADS):
        return None
    parts = path.split("/")
    if len(parts) < 3:
        return None
    head = parts[0]
    if head == "enterprises" and len(parts) == 3:
        return ("target", parts[1])
    if head == "tasks" and len(parts) == 3:
        return ("task", parts[1])
    if head == "results":
        if parts[1] == "tasks" and len(parts) in (4, 5):
            return ("rtask", parts[2])
        if len(parts) in (3, 4) and len(parts[1]) == _MONTH_LEN and parts[1][4] == "-" \
                and parts[1][:4].isdigit() and parts[1][5:].isdigit():
            return ("month", parts[1])
    return None


# an enterprises/ path that is not enterprises/<slug>/index.html (carries() refuses it)
_NOT_A_TARGET_PAGE = re.compile(r"enterprises/(?![^/]*/index\.html\Z)")


@dataclass(frozen=True, slots=True)
class Delta:
    """The record-page families that a change of result rows (and nothing else) touches.

    Built by :meth:`from_keys` from the (task, target, department) keys of the changed rows: the
    enterprise page of each target, the task page and task listing of each task, and the month listings
    of every month in which any version of an affected result group was published (the old current
    version's month and the new one's). Every other family's pages are unchanged and are carried over
    from the previous build; site-wide pages are always rebuilt (:func:`family_of`)."""

    targets: frozenset[str]  # target slugs
    tasks: frozenset[str]
    months: frozenset[str]

    @classmethod
    def from_keys(cls, ix: "Index", keys: set[tuple[str, str, str]]) -> "Delta":
        months: set[str] = set()
        for target in {k[1] for k in keys}:
            for g in ix.by_target.get(target, ()):
                if (g.task, g.target, g.department) in keys:
                    months.update(month_of(r.published) for r in g.versions)
        return cls(targets=frozenset(privacy.target_slug(k[1]) for k in keys),
                   tasks=frozenset(k[0] for k in keys), months=frozenset(months))

    def rebuilds(self, family: tuple[str, str]) -> bool:
        kind, key = family
        if kind == "target":
            return key in self.targets
        if kind in ("task", "rtask"):
            return key in self.tasks
        return key in self.months

    def carried(self, rows: dict[str, object]) -> dict[str, object]:
        """``{path: row for path, row in rows.items() if self.carries(path)}`` (same order), without a
        Python call per enterprise page: a copy, less the other paths that :meth:`carries` refuses
        (a few thousand listings and site files) and the pages of :attr:`targets`."""
        out = dict(rows)
        for path in [p for p in rows if not p.startswith("enterprises/")]:
            if not self.carries(path):
                del out[path]
        for path in filter(_NOT_A_TARGET_PAGE.match, rows):  # enterprises/index.html and the like
            del out[path]
        for slug in self.targets:
            out.pop(f"enterprises/{slug}/index.html", None)
        return out

    def carries(self, path: str) -> bool:
        """Whether the previous build's page (or file) at *path* is kept as it is."""
        if path.startswith("enterprises/"):  # most paths (the same answer as family_of, sooner)
            end = len(path) - 11
            if path.endswith("/index.html") and path.find("/", 12) == end:
                return path[12:end] not in self.targets
            return False
        fam = family_of(path)
        return fam is not None and not self.rebuilds(fam)


@dataclass(slots=True)
class ResultGroup:
    """All versions of one result (same task, target, department), oldest first."""

    task: str
    target: str
    department: str
    versions: list[model.Result]

    @property
    def current(self) -> model.Result:
        return self.versions[-1]

    @property
    def corrected(self) -> bool:
        return len(self.versions) > 1


class TargetsByCode:
    """The directory's targets by code (a read-only mapping, as ``ds.target_index()``), made in two
    steps: at first only the targets of *codes* (those with results: a filtered pass over the million
    targets costs about half of indexing them all, and most look-ups of a build are of these); the
    first look-up of any other code indexes the whole directory once."""

    __slots__ = ("_ds", "_some", "_all")

    def __init__(self, ds: model.Dataset, codes: set[str]) -> None:
        self._ds = ds
        self._some = {t.code: t for t in ds.targets if t.code in codes}
        self._all: dict[str, model.Target] | None = None

    def get(self, code: str, default: model.Target | None = None) -> model.Target | None:
        t = self._some.get(code)
        if t is not None:
            return t
        if self._all is None:
            self._all = self._ds.target_index()
        return self._all.get(code, default)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self.get(code) is not None

    def __getitem__(self, code: str) -> model.Target:
        t = self.get(code)
        if t is None:
            raise KeyError(code)
        return t


class Index:
    """Look-ups over a dataset, computed once per build."""

    def __init__(self, ds: model.Dataset) -> None:
        self.ds = ds
        self.targets = TargetsByCode(ds, {r.target for r in ds.results})
        self.item_names: dict[str, str] = {}
        for v in ds.items.versions:
            for it in v.items:
                self.item_names[it.id] = it.name  # the latest version's name wins
        self.tasks: dict[str, model.Task] = {t.id: t for t in ds.tasks()}
        self.task_plan: dict[str, model.Plan] = {}
        for p in ds.plans:
            for v in p.versions:
                for t in v.tasks:
                    self.task_plan.setdefault(t.id, p)
        groups: dict[tuple[str, str, str], list[model.Result]] = defaultdict(list)
        for r in ds.results:
            groups[(r.task, r.target, r.department)].append(r)
        # newest current version first, then by (task, target, department) descending; each group's
        # versions oldest first (a stable sort; most groups have one version)
        by_version = attrgetter("version")
        order = []
        for k, v in groups.items():
            if len(v) > 1:
                v.sort(key=by_version)
            order.append((v[-1].published, k, v))
        order.sort(reverse=True)  # the keys k are unique: the lists are never compared
        self.groups: list[ResultGroup] = [ResultGroup(k[0], k[1], k[2], v) for _, k, v in order]
        self.by_task: dict[str, list[ResultGroup]] = defaultdict(list)
        self.by_target: dict[str, list[ResultGroup]] = defaultdict(list)
        # by the month of the current version's publication date, in ix.groups' order
        self.by_month: dict[str, list[ResultGroup]] = defaultdict(list)
        months: dict[date, str] = {}
        for (published, _, _), g in zip(order, self.groups):
            self.by_task[g.task].append(g)
            self.by_target[g.target].append(g)
            m = months.get(published)
            if m is None:
                m = months[published] = month_of(published)
            self.by_month[m].append(g)
        self._pub_cache: dict[tuple[int, bool, bool], dict] = {}
        self._target_cache: dict[str, dict] = {}
        self._core_cache: dict[int, tuple[dict, list[dict], str]] = {}

    def forget(self) -> None:
        """Empty the memo of whole result views (each appears on one record page only), keeping the
        results' own views and the targets' (shared by a result's enterprise page, task listing and
        month listing)."""
        self._pub_cache.clear()

    def target_pub(self, code: str) -> dict:
        d = self._target_cache.get(code)
        if d is None:
            t = self.targets.get(code)
            d = self._target_cache[code] = privacy.public_target(t) if t else privacy.unknown_target(code)
        return d

    def task_pub(self, task_id: str) -> dict:
        t = self.tasks.get(task_id)
        if t is None:
            return {"id": task_id, "name": "（计划中无此任务）", "url": "", "year": 0}
        return privacy.public_task(self.ds, t, self.item_names)

    def group_pub(self, g: ResultGroup, with_target: bool = True, with_task: bool = True) -> dict:
        """The public view of a result and its history (memoised: many pages show the same result)."""
        key = (id(g), with_target, with_task)
        d = self._pub_cache.get(key)
        if d is None:
            d = self._pub_cache[key] = self._group_pub(g, with_target, with_task)
        return d

    def _group_pub(self, g: ResultGroup, with_target: bool, with_task: bool) -> dict:
        core = self._core_cache.get(id(g))
        if core is None:  # the result's own views, shared by the three variants of a group
            core = self._core_cache[id(g)] = (
                privacy.public_result(self.ds, g.current, self.item_names),
                [privacy.public_result(self.ds, r, self.item_names) for r in g.versions[:-1]][::-1],
                iso(g.versions[0].published),
            )
        d = {
            "current": core[0],
            "history": core[1],
            "corrected": g.corrected,
            "first_published": core[2],
        }
        if with_target:
            d["target"] = self.target_pub(g.target)
        if with_task:
            t = self.tasks.get(g.task)
            d["task"] = {"id": g.task, "name": t.name if t else g.task, "url": f"tasks/{g.task}/" if t else ""}
        return d


def _paginate(rows: list, per_page: int) -> list[list]:
    if not rows:
        return [[]]
    return [rows[i : i + per_page] for i in range(0, len(rows), per_page)]


def _page_path(base: str, n: int) -> str:
    return f"{base}index.html" if n == 1 else f"{base}{n}/index.html"


def _pager(base: str, n: int, total: int) -> dict:
    """Links of a paginated listing, relative to the site root."""
    def url(k: int) -> str:
        return base if k == 1 else f"{base}{k}/"

    return {
        "number": n,
        "total": total,
        "prev": url(n - 1) if n > 1 else "",
        "next": url(n + 1) if n < total else "",
        "pages": [{"number": k, "url": url(k)} for k in range(1, total + 1)] if total <= 30 else [],
    }


# --------------------------------------------------------------------------- item list


def item_pages(ix: Index) -> list[Page]:
    ds = ix.ds
    versions = ds.items.versions
    pages: list[Page] = []
    dept_rows = []
    for dept in ds.jurisdiction.departments:
        history = []
        prev: dict[str, model.Item] = {}
        for v in versions:
            cur = {it.id: it for it in v.items if it.department == dept.id}
            added = sorted(set(cur) - set(prev))
            removed = sorted(set(prev) - set(cur))
            changed = sorted(i for i in set(cur) & set(prev) if cur[i] != prev[i])
            history.append(
                {
                    "version": v.version,
                    "published": iso(v.published),
                    "note": v.note,
                    "items": [privacy.public_item(ds, it) for it in cur.values()],
                    "added": added,
                    "removed": removed,
                    "changed": changed,
                }
            )
            prev = cur
        current = history[-1]["items"] if history else []
        if not current and not any(h["items"] for h in history):
            continue
        dept_rows.append(
            {
                "id": dept.id,
                "name": dept.name,
                "short_name": dept.short_name,
                "url": f"items/{dept.id}/",
                "count": len(current),
                "focus": sum(1 for i in current if i["focus"]),
            }
        )
        path = f"items/{dept.id}/index.html"
        pages.append(
            Page(
                path=path,
                template="items_department.html",
                ctx={"department": {"id": dept.id, "name": dept.name, "short_name": dept.short_name},
                     "items": current, "history": history[::-1]},
                title=f"{dept.short_name}随机抽查事项清单",
                section="items",
                search=True,
                lastmod=history[-1]["published"] if history else "",
                filters={"类别": "抽查事项清单", "部门": dept.short_name},
            )
        )
    cur = ds.items.current if versions else None
    pages.append(
        Page(
            path="items/index.html",
            template="items.html",
            ctx={
                "departments": dept_rows,
                "versions": [{"version": v.version, "published": iso(v.published), "note": v.note,
                              "count": len(v.items)} for v in versions][::-1],
                "current": {"version": cur.version, "published": iso(cur.published), "count": len(cur.items)}
                if cur else None,
            },
            title="随机抽查事项清单",
            section="items",
            lastmod=iso(cur.published) if cur else "",
        )
    )
    return pages


# --------------------------------------------------------------------------- plans


def plan_pages(ix: Index) -> list[Page]:
    ds = ix.ds
    pages: list[Page] = []
    rows = []
    for plan in ds.plans:
        history = []
        prev: dict[str, model.Task] = {}
        for v in plan.versions:
            cur = {t.id: t for t in v.tasks}
            history.append(
                {
                    "version": v.version,
                    "filed": iso(v.filed),
                    "published": iso(v.published),
                    "note": v.note,
                    "tasks": [privacy.public_task(ds, t, ix.item_names) for t in v.tasks],
                    "added": sorted(set(cur) - set(prev)),
                    "removed": sorted(set(prev) - set(cur)),
                    "changed": sorted(i for i in set(cur) & set(prev) if cur[i] != prev[i]),
                }
            )
            prev = cur
        current = history[-1]
        tasks = current["tasks"]
        joint = sum(1 for t in tasks if t["joint"])
        deadline = _plan_deadline(ds, plan.year)
        first_published = plan.versions[0].published
        row = {
            "year": plan.year,
            "title": plan.title,
            "url": f"plans/{plan.year}/",
            "version": current["version"],
            "published": current["published"],
            "tasks": len(tasks),
            "joint": joint,
            "deadline": iso(deadline) if deadline else "",
            "on_time": (first_published <= deadline) if deadline else None,
        }
        rows.append(row)
        pages.append(
            Page(
                path=f"plans/{plan.year}/index.html",
                template="plan.html",
                ctx={"plan": row, "tasks": tasks, "history": history[::-1]},
                title=plan.title,
                section="plans",
                search=True,
                lastmod=current["published"],
                filters={"类别": "年度抽查计划", "年度": str(plan.year)},
            )
        )
    pages.append(Page(path="plans/index.html", template="plans.html", ctx={"plans": rows[::-1]},
                      title="年度抽查计划", section="plans"))
    return pages


def _plan_deadline(ds: model.Dataset, year: int) -> date | None:
    try:
        month, day = (int(x) for x in ds.jurisdiction.settings.plan_deadline.split("-"))
        return date(year, month, day)
    except ValueError:
        return None


# --------------------------------------------------------------------------- tasks and results


def task_page(ix: Index, draws: dict[str, dict], task: model.Task) -> Page:
    """``tasks/<id>/``: the task, its draw (from the ledger view *draws*, if any) and its results' summary."""
    pub = privacy.public_task(ix.ds, task, ix.item_names)
    groups = ix.by_task.get(task.id, [])
    draw = draws.get(task.id)
    codes = Counter(c for g in groups for c in g.current.codes)
    summary = {
        "results": len(groups),
        "targets": len({g.target for g in groups}),
        "corrected": sum(1 for g in groups if g.corrected),
        "codes": [{"label": c.label, "count": n} for c, n in codes.most_common()],
        "last_published": iso(max((g.current.published for g in groups), default=None)),
    }
    return Page(
        path=f"tasks/{task.id}/index.html",
        template="task.html",
        ctx={"task": pub, "summary": summary, "status": _task_status(task, draw, groups), "draw": draw,
             "plan_url": f"plans/{task.year}/",
             "results_url": f"results/tasks/{task.id}/"},
        title=task.name,
        section="tasks",
        search=True,
        lastmod=summary["last_published"] or pub["draw_date"],
        filters={"类别": "抽查任务", "年度": str(task.year), "部门": pub["departments"]},
    )


def task_index_page(ix: Index, draws: dict[str, dict]) -> Page:
    """``tasks/``: every task by year, newest draw first, with its status."""
    rows = []
    for task in ix.ds.tasks():
        pub = privacy.public_task(ix.ds, task, ix.item_names)
        groups = ix.by_task.get(task.id, [])
        rows.append({**pub, "status": _task_status(task, draws.get(task.id), groups), "results": len(groups)})
    rows.sort(key=lambda r: (r["draw_date"], r["id"]), reverse=True)
    by_year: dict[int, list] = defaultdict(list)
    for r in rows:
        by_year[r["year"]].append(r)
    return Page(path="tasks/index.html", template="tasks.html",
                ctx={"years": [{"year": y, "tasks": ts} for y, ts in sorted(by_year.items(), reverse=True)]},
                title="抽查任务", section="tasks")


def task_pages(ix: Index, draws: dict[str, dict], only: Delta | None = None) -> list[Page]:
    """Task pages and their listing; *draws* maps task id → the public draw view from the ledger (may be
    empty). With *only*, the page of each task it does not name is left out (the listing is always made)."""
    pages = [task_page(ix, draws, t) for t in ix.ds.tasks() if only is None or t.id in only.tasks]
    pages.append(task_index_page(ix, draws))
    return pages


def _task_status(task: model.Task, draw: dict | None, groups: list[ResultGroup]) -> str:
    if groups:
        return "结果已公示"
    if draw and draw.get("locked"):
        return "已抽取，检查中"
    return "计划中"


def result_task_pages(ix: Index, task_id: str) -> list[Page]:
    """``results/tasks/<id>/[<n>/]``: a task's results by target, 500 a page."""
    if not ix.by_task.get(task_id):
        return []
    pages: list[Page] = []
    task = ix.task_pub(task_id)
    rows = sorted(ix.by_task[task_id], key=lambda g: (g.target, g.department))
    chunks = _paginate(rows, RESULTS_PER_PAGE)
    base = f"results/tasks/{task_id}/"
    year = str(task.get("year") or "")
    for n, chunk in enumerate(chunks, 1):
        pages.append(
            Page(
                path=_page_path(base, n),
                template="results_task.html",
                ctx={"task": task, "rows": [ix.group_pub(g, with_task=False) for g in chunk],
                     "pager": _pager(base, n, len(chunks)), "count": len(rows)},
                title=f"{task['name']} 检查结果" + (f"（第{n}页）" if n > 1 else ""),
                section="results",
                lastmod=iso(max(g.current.published for g in chunk)) if chunk else "",
                filters={"类别": "检查结果", "年度": year},
            )
        )
    return pages


def result_month_pages(ix: Index, month: str) -> list[Page]:
    """``results/<YYYY-MM>/[<n>/]``: the results whose current version was published that month."""
    groups = ix.by_month.get(month)
    if not groups:
        return []
    pages: list[Page] = []
    chunks = _paginate(groups, RESULTS_PER_PAGE)
    base = f"results/{month}/"
    for n, chunk in enumerate(chunks, 1):
        pages.append(
            Page(
                path=_page_path(base, n),
                template="results_month.html",
                ctx={"month": month, "rows": [ix.group_pub(g) for g in chunk],
                     "pager": _pager(base, n, len(chunks)), "count": len(groups)},
                title=f"{month} 检查结果公示" + (f"（第{n}页）" if n > 1 else ""),
                section="results",
                lastmod=iso(max(g.current.published for g in chunk)),
            )
        )
    return pages


def result_index_page(ix: Index) -> Page:
    """``results/``: the months and tasks with results, the latest results and the latest corrections."""
    months = [{"month": month, "url": f"results/{month}/", "count": len(groups),
               "corrections": sum(1 for g in groups if g.corrected)}
              for month, groups in sorted(ix.by_month.items(), reverse=True)]
    # newest first (a stable sort of ix.groups' order); only the first 100 are shown
    corrected = sorted((g for g in ix.groups if g.corrected), key=lambda g: g.current.published, reverse=True)
    return Page(
        path="results/index.html",
        template="results.html",
        ctx={"months": months,
             "tasks": [ix.task_pub(t) | {"count": len(gs)} for t, gs in sorted(ix.by_task.items(), reverse=True)],
             "latest": [ix.group_pub(g) for g in ix.groups[:50]],
             "corrections": [ix.group_pub(g) for g in corrected[:100]], "corrections_total": len(corrected)},
        title="检查结果公示",
        section="results",
    )


def result_pages(ix: Index, only: Delta | None = None) -> list[Page]:
    """The result listings per task and per month, and their index. With *only*, the listings of
    the tasks and months it does not name are left out (the index is always made)."""
    pages: list[Page] = []
    for task_id in sorted(ix.by_task):
        if only is None or task_id in only.tasks:
            pages += result_task_pages(ix, task_id)
    for month in sorted(ix.by_month, reverse=True):
        if only is None or month in only.months:
            pages += result_month_pages(ix, month)
    pages.append(result_index_page(ix))
    return pages


def enterprise_codes(ix: Index, draws_by_target: dict[str, list[dict]], only: Delta | None = None) -> list[str]:
    """The targets with a page (inspected or selected), in code order; with *only*: those it names."""
    if only is not None:  # a slug is its code, or the code percent-quoted: unquote gives the code back
        return sorted(c for c in {unquote(s) for s in only.targets}
                      if (c in ix.by_target or c in draws_by_target) and privacy.target_slug(c) in only.targets)
    return sorted(set(ix.by_target) | set(draws_by_target))


def enterprise_page(ix: Index, draws_by_target: dict[str, list[dict]], code: str) -> Page:
    """``enterprises/<code>/``: one inspected or selected target with its whole history."""
    target = ix.target_pub(code)
    groups = sorted(ix.by_target.get(code, []), key=lambda g: (g.current.inspection_end, g.task), reverse=True)
    rows = [ix.group_pub(g, with_target=False) for g in groups]
    years = sorted({str(ix.tasks[g.task].year) for g in groups if g.task in ix.tasks}, reverse=True)
    return Page(
        path=f"enterprises/{privacy.target_slug(code)}/index.html",
        template="enterprise.html",
        ctx={"target": target, "results": rows, "draws": draws_by_target.get(code, [])},
        title=target["name"],
        section="enterprises",
        search=True,
        lastmod=iso(max((g.current.published for g in groups), default=None)),
        filters={"类别": "检查对象", "年度": years,
                 "检查结果": sorted({c for r in rows for c in r["current"]["codes"]})},
    )


def enterprise_pages(ix: Index, draws_by_target: dict[str, list[dict]], only: Delta | None = None) -> list[Page]:
    """One page per inspected or selected target (with *only*: of the targets it names)."""
    return [enterprise_page(ix, draws_by_target, c) for c in enterprise_codes(ix, draws_by_target, only)]


def record_families(ix: Index, draws_by_target: dict[str, list[dict]], only: Delta | None = None) -> list[tuple[str, str]]:
    """The record-page families of the site (with *only*: those it names), as ``(kind, key)``:
    ``("task", id)``, ``("rtask", id)``, ``("month", "YYYY-MM")``, ``("target", code)``. Their pages are
    made by :class:`FamilyPages`, family by family, in whichever process renders them."""
    fams = [("task", t.id) for t in ix.ds.tasks() if only is None or t.id in only.tasks]
    fams += [("rtask", t) for t in sorted(ix.by_task) if only is None or t in only.tasks]
    fams += [("month", m) for m in sorted(ix.by_month, reverse=True) if only is None or m in only.months]
    fams += [("target", c) for c in enterprise_codes(ix, draws_by_target, only)]
    return fams


class FamilyPages:
    """``pages(family)``: the pages of one record-page family (see :func:`record_families`)."""

    def __init__(self, ix: Index, draws: dict[str, dict], draws_by_target: dict[str, list[dict]]) -> None:
        self.ix, self.draws, self.draws_by_target = ix, draws, draws_by_target

    def __call__(self, family: tuple[str, str]) -> list[Page]:
        kind, key = family
        ix = self.ix
        if kind == "target":
            return [enterprise_page(ix, self.draws_by_target, key)]
        if kind == "rtask":
            return result_task_pages(ix, key)
        if kind == "month":
            return result_month_pages(ix, key)
        if kind == "task":
            return [task_page(ix, self.draws, ix.tasks[key])]
        raise ValueError(f"expected a record-page family kind, got {kind!r}")

    def forget(self) -> None:
        """Drop the memoised whole result views (a worker renders each family once: they would only pile up)."""
        self.ix.forget()


def enterprise_lookup_rows(ix: Index, draws_by_target: dict[str, list[dict]],
                           only: set[str] | None = None) -> list[tuple[str, str, str]]:
    """(code, name, url) for the exact-lookup index (:mod:`.lookup`): one row per target with a page
    (inspected or selected), in code order; with *only*: those of the target codes it names."""
    if only is None:
        codes = set(ix.by_target) | set(draws_by_target)
    else:
        codes = {c for c in only if c in ix.by_target or c in draws_by_target}
    out = []
    for code in sorted(codes):
        t = ix.target_pub(code)
        out.append((t["code"], t["name"], t["url"]))
    return out


def home_context(ix: Index, ledger: dict | None) -> dict:
    ds = ix.ds
    tasks = sorted(ds.tasks(), key=lambda t: (t.draw_date, t.id), reverse=True)
    return {
        "counts": {
            "items": len(ds.items.current.items) if ds.items.versions else 0,
            "departments": len(ds.jurisdiction.departments),
            "plans": len(ds.plans),
            "tasks": len(tasks),
            "joint": sum(1 for t in tasks if t.joint),
            "results": len(ix.groups),
            "enterprises": len(ix.by_target),
            "corrections": sum(1 for g in ix.groups if g.corrected),
        },
        "latest_tasks": [privacy.public_task(ds, t, ix.item_names) for t in tasks[:LATEST_ON_HOME]],
        "latest_results": [ix.group_pub(g) for g in ix.groups[:LATEST_ON_HOME]],
        "ledger": ledger,
    }


def department_names(ds: model.Dataset) -> dict[str, str]:
    return {d.id: dept_label(ds, d.id) for d in ds.jurisdiction.departments}
