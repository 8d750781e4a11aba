"""The rules of design-notes §2 that can be checked on the data alone.

``check_dataset(ds, *, calendar=None, where=None) -> list[Problem]`` returns errors (the data breaks
a rule the software enforces) and warnings ("check" rules: late publication, a plan published after
the deadline, a conflict naming an unknown target, …). It never raises for bad data.

``where`` maps ``id(record)`` to ``(file, location)`` for messages; :mod:`sunshine.loading` fills it
while parsing. Without it, locations are derived from the records (``plans/2025.yaml``,
``versions[0].tasks[2]``; results are named by task, target, department and version). Plan versions
and tasks (a few thousand) are looked up (``get``) as they are checked; results, their items and
inspectors only when a finding is reported on them, plus each result's file for the results-file
rule (``where[id(result)]``, KeyError when not located), so a lazily filled mapping costs little.

Each rule cites its source; ``docs/data-format.md`` ("Rules checked by `sunshine validate`") lists
them all with their severity.
"""

from __future__ import annotations

import gc
from datetime import date, timedelta
from fractions import Fraction
from operator import attrgetter
from typing import Any, Mapping

from . import model
from .errors import CalendarError, Problem
from .vocabulary import ApproverRole, ItemClass, ResultCode
from .workdays import Calendar

_RESULTS_HINT = "add the year to calendar-overrides.yaml (docs/data-format.md)"


class _LazyCodes:
    """Membership in the set of target codes, for the codes the rules ask about.

    A million targets: instead of a set of every code, one pass over the targets keeps those that a
    result or an inspector's conflict names (the codes the rules ask about), built on first use. A
    code outside those (no rule asks one today) falls back to the full set.
    """

    def __init__(self, ds: model.Dataset):
        self.ds = ds
        self._asked: set[str] | None = None
        self._known: set[str] = set()
        self._unknown: set[str] = set()
        self._codes: set[str] | None = None

    def known(self) -> set[str]:
        """The target codes among those named by results and conflicts."""
        if self._asked is None:
            asked = set(map(attrgetter("target"), self.ds.results))
            for ins in self.ds.inspectors:
                if ins.conflicts:
                    asked.update(ins.conflicts)
            self._known = asked.intersection(map(attrgetter("code"), self.ds.targets))
            # known is a subset of asked: the same size means every asked code is known
            self._unknown = asked - self._known if len(self._known) != len(asked) else set()
            self._asked = asked
        return self._known

    def unknown(self) -> set[str]:
        """The codes named by results and conflicts that are no target code (usually none)."""
        self.known()
        return self._unknown

    def __contains__(self, code: str) -> bool:
        known = self.known()
        if code in known:
            return True
        if code in self._asked:  # type: ignore[operator]
            return False
        if self._codes is None:
            self._codes = {t.code for t in self.ds.targets}
        return code in self._codes


class _Report:
    def __init__(self, where: Mapping[int, tuple[str, str]] | None):
        self.where = where or {}
        self.problems: list[Problem] = []
        self.target_codes: Any = frozenset()

    def at(self, obj: Any, file: str, location: str) -> tuple[str, str]:
        return self.where.get(id(obj), (file, location))

    def error(self, place: tuple[str, str], field: str, message: str) -> None:
        self.problems.append(Problem(place[0], place[1], field, message, "error"))

    def warning(self, place: tuple[str, str], field: str, message: str) -> None:
        self.problems.append(Problem(place[0], place[1], field, message, "warning"))


def check_dataset(
    ds: model.Dataset,
    *,
    calendar: Calendar | None = None,
    where: Mapping[int, tuple[str, str]] | None = None,
) -> list[Problem]:
    """Every §2 finding about *ds* (errors and warnings), in file order.

    The cyclic GC is paused meanwhile: the rules build columns of a few hundred thousand tuples that
    hold no cycles and are freed by reference counting when they return, but whose allocation would
    otherwise start full collections over the million records just loaded.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        r = _Report(where)
        cal = calendar if calendar is not None else Calendar()
        departments = {d.id for d in ds.jurisdiction.departments}
        r.target_codes = _LazyCodes(ds)
        _check_jurisdiction(ds, r, departments)
        _check_items(ds, r, departments)
        _check_inspectors(ds, r, departments)
        _check_plans(ds, r, departments)
        _check_results(ds, r, cal)
        return r.problems
    finally:
        if paused:
            gc.enable()


# --------------------------------------------------------------------------- jurisdiction


def _check_jurisdiction(ds: model.Dataset, r: _Report, departments: set[str]) -> None:
    j = ds.jurisdiction
    if j.office not in departments:
        r.error(
            r.at(j, "jurisdiction.yaml", "office"),
            "office",
            f"expected one of the departments ({', '.join(sorted(departments)) or 'none listed'}), got {j.office!r}",
        )
    if not j.departments:
        r.error(("jurisdiction.yaml", ""), "departments", "expected at least one department, got none")


def _dept_msg(departments: set[str], got: str) -> str:
    return f"expected a department of jurisdiction.yaml ({', '.join(sorted(departments))}), got {got!r}"


# --------------------------------------------------------------------------- items


def _check_items(ds: model.Dataset, r: _Report, departments: set[str]) -> None:
    prev: model.ItemListVersion | None = None
    for i, v in enumerate(ds.items.versions):
        vplace = r.at(v, "items.yaml", f"versions[{i}]")
        if v.version != i + 1:
            r.error(vplace, "version", f"expected {i + 1} (versions are numbered 1, 2, … in file order), got {v.version}")
        if prev is not None and v.published < prev.published:
            r.error(
                vplace,
                "published",
                f"expected a date on or after {prev.published} (version {prev.version} was published then), got {v.published}",
            )
        for k, it in enumerate(v.items):
            place = r.at(it, "items.yaml", f"versions[{i}].items[{k}]")
            if it.department not in departments:
                r.error(place, "department", _dept_msg(departments, it.department))
            for s in it.subjects:
                if s not in departments:
                    r.error(place, "subjects", _dept_msg(departments, s))
            if it.department in departments and it.department not in it.subjects:
                r.error(
                    place,
                    "subjects",
                    f"expected the holding department {it.department!r} among the subjects, got {', '.join(it.subjects)}",
                )
        prev = v


# --------------------------------------------------------------------------- inspectors


def _check_inspectors(ds: model.Dataset, r: _Report, departments: set[str]) -> None:
    unknown = r.target_codes.unknown() if any(ins.conflicts for ins in ds.inspectors) else set()
    for ins in ds.inspectors:
        if ins.department in departments and not (ins.conflicts and not unknown.isdisjoint(ins.conflicts)):
            continue  # nothing to report: the location is not looked up
        place = r.at(ins, "inspectors.csv", f"inspector {ins.id}")
        if ins.department not in departments:
            r.error(place, "department", _dept_msg(departments, ins.department))
        if ins.conflicts:
            for c in sorted(ins.conflicts):
                if c not in r.target_codes:
                    r.warning(place, "conflicts", f"expected a target code of targets.csv, got {c!r} (unknown target)")


# --------------------------------------------------------------------------- plans and tasks


def _check_plans(ds: model.Dataset, r: _Report, departments: set[str]) -> None:
    s = ds.jurisdiction.settings
    task_home: dict[str, tuple[int, tuple[str, str]]] = {}
    # A task carried unchanged into a later version is checked once. Kept by id: comparing the few
    # tasks of one id is cheaper than hashing every task (all fields, Fractions in the strata).
    checked: dict[str, list[model.Task]] = {}
    for plan in ds.plans:
        file = f"plans/{plan.year}.yaml"
        prev: model.PlanVersion | None = None
        for i, pv in enumerate(plan.versions):
            vplace = r.at(pv, file, f"versions[{i}]")
            if pv.version != i + 1:
                r.error(vplace, "version", f"expected {i + 1} (versions are numbered 1, 2, … in file order), got {pv.version}")
            if pv.filed > pv.published:
                r.error(vplace, "published", f"expected a date on or after filed ({pv.filed}), got {pv.published}")
            if prev is not None and pv.published < prev.published:
                r.error(
                    vplace,
                    "published",
                    f"expected a date on or after {prev.published} (version {prev.version} was published then), got {pv.published}",
                )
            if i == 0:
                deadline = _plan_deadline(plan.year, s.plan_deadline)
                if deadline is not None and pv.published > deadline:
                    r.warning(
                        vplace,
                        "published",
                        f"plan published late: expected on or before {deadline} (plan_deadline {s.plan_deadline}, "
                        f"环翠 二(四)), got {pv.published}",
                    )
            for k, t in enumerate(pv.tasks):
                place = r.at(t, file, f"versions[{i}].tasks[{k}]")
                home = task_home.get(t.id)
                if home is None:
                    task_home[t.id] = (plan.year, place)
                elif home[0] != plan.year:
                    r.error(
                        place,
                        "id",
                        f"expected a task id unique across all years, got {t.id!r} again "
                        f"(already in plans/{home[0]}.yaml)",
                    )
                same_id = checked.setdefault(t.id, [])
                if t not in same_id:
                    same_id.append(t)
                    _check_task(ds, t, place, r, departments)
            prev = pv
        if plan.versions:
            _check_plan_coverage(ds, plan, r.at(plan.current, file, f"versions[{len(plan.versions) - 1}]"), r)


def _check_plan_coverage(ds: model.Dataset, plan: model.Plan, place: tuple[str, str], r: _Report) -> None:
    """The "check" rules over a whole plan (its current version): coverage and joint-check metrics."""
    s = ds.jurisdiction.settings
    tasks = plan.current.tasks
    if not tasks:
        return
    # 淄博 第七条: the plan covers every item of each department's list (the list in force when the
    # current plan version was published) ...
    version = ds.items.in_force(plan.current.published)
    if version is not None:
        used = {i for t in tasks for i in t.items}
        missing: dict[str, list[str]] = {}
        for it in version.items:
            if it.id not in used:
                missing.setdefault(it.department, []).append(it.id)
        for dep, ids in missing.items():
            r.warning(
                place,
                "tasks",
                f"expected every item of {dep}'s list (version {version.version}) in a task of the {plan.year} plan "
                f"(淄博 第七条), got none for {', '.join(ids)}",
            )
    # ... and every department joins at least one joint check a year.
    joint = [t for t in tasks if t.joint]
    in_joint = {d for t in joint for d in t.departments}
    absent = [d.id for d in ds.jurisdiction.departments if d.id not in in_joint]
    if absent:
        r.warning(
            place,
            "tasks",
            f"expected each department in at least one joint task of the {plan.year} plan (淄博 第七条), "
            f"got none for {', '.join(absent)}",
        )
    # 忻州 二(六)(七): joint checks >= joint_share_target of all; credit classes used in
    # >= credit_use_target of the joint checks.
    share = _fraction(len(joint), len(tasks))
    if share < s.joint_share_target:
        r.warning(
            place,
            "tasks",
            f"expected joint tasks to be at least {_pct(s.joint_share_target)} of the {plan.year} plan "
            f"(忻州 二(六)), got {len(joint)} of {len(tasks)}",
        )
    if joint:
        credit = sum(1 for t in joint if t.uses_credit_classes)
        if _fraction(credit, len(joint)) < s.credit_use_target:
            r.warning(
                place,
                "tasks",
                f"expected credit classes used in at least {_pct(s.credit_use_target)} of the joint tasks of the "
                f"{plan.year} plan (忻州 二(七)), got {credit} of {len(joint)}",
            )


def _fraction(a: int, b: int) -> Fraction:
    return Fraction(a, b)


def _plan_deadline(year: int, mmdd: str) -> date | None:
    try:
        return date(year, int(mmdd[:2]), int(mmdd[3:]))
    except ValueError:  # 02-29 in a common year: the last day of February
        return date(year, 2, 28) if mmdd == "02-29" else None


def _check_task(ds: model.Dataset, t: model.Task, place: tuple[str, str], r: _Report, departments: set[str]) -> None:
    s = ds.jurisdiction.settings
    # dates (淄博 第十一条: task, then draw, then inspection)
    if t.draw_date > t.start:
        r.error(place, "draw_date", f"expected a date on or before start ({t.start}), got {t.draw_date}")
    if t.start > t.end:
        r.error(place, "end", f"expected a date on or after start ({t.start}), got {t.end}")
    # departments
    for field, dep in (("lead", t.lead), *(("participants", p) for p in t.participants)):
        if dep not in departments:
            r.error(place, field, _dept_msg(departments, dep))
    if t.lead in t.participants:
        r.error(place, "participants", f"expected departments other than the lead, got the lead {t.lead!r} again")
    # items: from the list in force at the draw date (淄博 第四条; 环翠 二(二))
    version = ds.items.in_force(t.draw_date)
    items: list[model.Item] = []
    if version is None:
        first = ds.items.versions[0].published if ds.items.versions else None
        r.error(
            place,
            "items",
            f"expected an item list in force on the draw date {t.draw_date}, got none "
            f"(the first version is published {first or 'never'})",
        )
    else:
        for iid in t.items:
            try:
                items.append(version.item(iid))
            except KeyError:
                r.error(
                    place,
                    "items",
                    f"expected an item of the item list in force on {t.draw_date} (version {version.version}), got {iid!r}",
                )
    # departments vs. item subjects (谁的事项谁检查)
    if items:
        subjects = {d for it in items for d in it.subjects}
        for dep in t.departments:
            if dep in departments and dep not in subjects:
                r.error(
                    place,
                    "lead" if dep == t.lead else "participants",
                    f"expected a department that is a subject (抽查主体) of one of the task's items "
                    f"({', '.join(sorted(subjects))}), got {dep!r}",
                )
        for it in items:
            if not set(it.subjects) & set(t.departments):
                r.error(
                    place,
                    "items",
                    f"expected an item one of the task's departments may check, got {it.id!r} "
                    f"(subjects {', '.join(it.subjects)}; task departments {', '.join(t.departments)})",
                )
        kinds = {k for it in items for k in it.target_kinds}
        for k in t.scope.kinds:
            if k not in kinds:
                r.warning(
                    place,
                    "scope",
                    f"expected target kinds of the task's items ({', '.join(sorted(kinds))}), got {str(k)!r}",
                )
    # strata (淄博 第八条; 玉林 三(二))
    caps = [(it.ratio_cap, it.id) for it in items if it.item_class is ItemClass.GENERAL and it.ratio_cap is not None]
    lowest = min(caps) if caps else None
    remainders = [i for i, st in enumerate(t.strata) if st.remainder]
    if len(remainders) > 1:
        r.error(
            place,
            f"strata[{remainders[1]}]",
            f"expected at most one remainder stratum (without credit_classes or flags), got a second one "
            f"(strata[{remainders[0]}] is the first)",
        )
    elif remainders and remainders[0] != len(t.strata) - 1:
        r.error(
            place,
            f"strata[{remainders[0]}]",
            "expected the remainder stratum (without credit_classes or flags) last, since the first match wins",
        )
    for i, st in enumerate(t.strata):
        if lowest is not None and st.ratio > lowest[0]:
            r.error(
                place,
                f"strata[{i}].ratio",
                f"expected at most {_pct(lowest[0])} (ratio_cap of general item {lowest[1]}, 玉林 三(二)), got {_pct(st.ratio)}",
            )
    # team (行政处罚法 第四十二条; 淄博 第十三条)
    if t.team.min_officers < s.min_officers_per_group:
        r.error(
            place,
            "team.min_officers",
            f"expected at least {s.min_officers_per_group} (min_officers_per_group), got {t.team.min_officers}",
        )


def _pct(f) -> str:
    """A ratio as a short exact text: 5%, 1/30."""
    p = f * 100
    if p.denominator == 1:
        return f"{p.numerator}%"
    if (p * 100).denominator == 1:
        return f"{float(p):g}%"
    return f"{f.numerator}/{f.denominator}"


# --------------------------------------------------------------------------- results
#
# A province has ~200,000 results (~400,000 item rows) and the rules run on every build, including
# the incremental rebuild after one new result. So the per-result rules are split in two:
#
# * a screen (``_check_results``) that decides, with precomputed per-task lookups and memoised
#   working-day deadlines, whether a result could produce any finding at all. A result that passes
#   produces none: no message is formatted for it and only its file is looked up in ``where``;
# * the rules themselves (``_result_findings``), applied, in file order, to every result the screen
#   did not pass. The screen is conservative (anything it cannot vouch for goes to the rules), so the
#   findings, their order and their locations are exactly those of applying the rules to every result.
#
# tests/test_rules_equivalence.py compares this with a straightforward transcription of the rules on
# generated data with every kind of finding injected.


class _ResultsContext:
    """What the per-result rules need: task lookups, the working-day deadline memo, reported years."""

    def __init__(self, ds: model.Dataset, r: _Report, cal: Calendar):
        self.ds = ds
        self.r = r
        self.cal = cal
        self.settings = ds.jurisdiction.settings
        self.current: dict[str, model.Task] = {t.id: t for t in ds.tasks()}
        self.any_version: dict[str, tuple[model.Task, int]] = {}
        for plan in ds.plans:
            for pv in plan.versions:
                for t in pv.tasks:
                    if t.id not in self.current:
                        self.any_version[t.id] = (t, pv.version)  # the last version that still had it
        self.deadlines: dict[tuple[date, int], date | CalendarError] = {}
        self.calendar_reported: set[int] = set()
        self._item_maps: dict[int, tuple[model.ItemListVersion, dict[str, model.Item]]] = {}
        self._counts: dict[date, list[int]] = {}  # start day -> working days in (start, start + k]

    def deadline(self, day: date, n: int) -> date | CalendarError:
        """``n`` working days after ``day`` (memoised), or the CalendarError computing it raised."""
        key = (day, n)
        d = self.deadlines.get(key)
        if d is None:
            try:
                d = self.cal.add_workdays(day, n)
            except CalendarError as exc:
                d = exc
            self.deadlines[key] = d
        return d

    def workdays_between(self, start: date, end: date) -> int:
        """``cal.workdays_between(start, end)`` for ``start < end``, from running counts kept per
        start day (late results share a few hundred deadlines); raises the same CalendarError."""
        counts = self._counts.get(start)
        if counts is None:
            counts = self._counts[start] = [0]
        k = (end - start).days
        if k >= len(counts):
            day = start + timedelta(days=len(counts) - 1)
            n = counts[-1]
            while len(counts) <= k:
                day += timedelta(days=1)
                if self.cal.is_workday(day):
                    n += 1
                counts.append(n)
        return counts[k]

    def task_of(self, task_id: str) -> model.Task | None:
        """The task a result refers to: the current one, else the last version that had it."""
        task = self.current.get(task_id)
        if task is None:
            old = self.any_version.get(task_id)
            task = None if old is None else old[0]
        return task

    def item_map(self, version: model.ItemListVersion) -> dict[str, model.Item]:
        """``version.item`` as a dict (the first item with an id wins, as ``item`` does)."""
        hit = self._item_maps.get(id(version))
        if hit is None:
            m: dict[str, model.Item] = {}
            for it in version.items:
                m.setdefault(it.id, it)
            hit = self._item_maps[id(version)] = (version, m)
        return hit[1]


def _check_results(ds: model.Dataset, r: _Report, cal: Calendar) -> None:
    results = ds.results
    if not results:
        return
    c = _ResultsContext(ds, r, cal)
    s = c.settings

    # Per task id: (task or None when unknown, ok items by department or None when every result of
    # the task goes to the rules (a task no longer in the current plan version), the expected
    # results file, start, plan year). The "ok items" of one of the task's departments: the task's
    # items whose item and subject rules pass for a result entered by that department.
    task_info: dict[str, tuple[Any, ...]] = {}

    def info(task_id: str) -> tuple[Any, ...]:
        task = c.task_of(task_id)
        if task is None:
            return (None, None, None, None, None)
        ok_by_dept: dict[str, frozenset[str]] | None = None
        if task_id in c.current:
            version = ds.items.in_force(task.draw_date)
            by_id = c.item_map(version) if version is not None else {}
            ok_by_dept = {
                dep: frozenset(i for i in task.items if (it := by_id.get(i)) is None or dep in it.subjects)
                for dep in task.departments
            }
        return (task, ok_by_dept, f"results/{task.year}.csv", task.start, task.year)

    # (publication, entry) deadlines by inspection_end. A CalendarError becomes date.min (every
    # result fails it and goes to the rules, which report or skip it), an unset rule date.max.
    due: dict[date, tuple[date, date]] = {}

    def deadlines(day: date) -> tuple[date, date]:
        out = []
        for n in (s.publish_within_workdays, s.entry_within_workdays):
            d = c.deadline(day, n) if n is not None else date.max
            out.append(date.min if isinstance(d, CalendarError) else d)
        return (out[0], out[1])

    codes_pass_plain: set[tuple[ResultCode, ...]] = set()  # codes that pass _check_codes without sub-codes
    codes_pass_sub: set[tuple[ResultCode, ...]] = set()  # ... and with sub-codes
    head = ApproverRole.HEAD
    # Each result's file, looked up by subscript: a dict's (or a lazily filled dict subclass's) C
    # lookup, not a Python-level ``get`` call per result.
    where = r.where if r.where else None
    unknown_targets = r.target_codes.unknown()

    first_group: dict[tuple[str, str, str], int] = {}  # (task, target, department) -> first index
    more_group: dict[tuple[str, str, str], list[int]] = {}  # the indices, when a key has several results
    odd_first: list[tuple[str, str, str]] = []  # keys whose first result is not version 1
    first_check: dict[tuple[str, int], str] = {}  # (target, year) -> first task id (version 1 only)
    more_check: dict[tuple[str, int], set[str]] = {}  # the task ids, when several
    flagged: list[int] = []  # results that go to the rules
    last_task: str | None = None

    for i, res in enumerate(results):
        task_id = res.task
        target = res.target
        dept = res.department
        version = res.version
        key = (task_id, target, dept)
        j = first_group.setdefault(key, i)
        if j != i:
            more = more_group.get(key)
            if more is None:
                more_group[key] = [j, i]
            else:
                more.append(i)
        elif version != 1:
            odd_first.append(key)
        if task_id != last_task:  # results come grouped by task: look the task up when it changes
            ti = task_info.get(task_id)
            if ti is None:
                ti = task_info[task_id] = info(task_id)
            task, ok_by_dept, expected_file, start, year = ti
            last_task = task_id
        if task is None:
            flagged.append(i)
            continue
        end = res.inspection_end
        entered = res.entered
        published = res.published
        if version == 1:
            ck = (target, year)
            first = first_check.setdefault(ck, task_id)
            if first != task_id:
                tids = more_check.get(ck)
                if tids is None:
                    more_check[ck] = {first, task_id}
                else:
                    tids.add(task_id)
            dl = due.get(end)
            if dl is None:
                dl = due[end] = deadlines(end)
            if res.correction_reason or published > dl[0] or entered > dl[1]:
                flagged.append(i)
                continue
        elif res.approver_role is not head or not res.correction_reason.strip():
            flagged.append(i)
            continue
        if ok_by_dept is None or end > entered or entered > published or end < start or (
            unknown_targets and target in unknown_targets
        ):
            flagged.append(i)
            continue
        ok_items = ok_by_dept.get(dept)
        if ok_items is None:
            flagged.append(i)
            continue
        for ir in res.items:
            if ir.item not in ok_items:
                break
            passing = codes_pass_sub if ir.sub_codes else codes_pass_plain
            if ir.codes not in passing:
                if not _codes_pass(ir.codes, not ir.sub_codes):
                    break
                passing.add(ir.codes)
        else:
            if where is not None:
                try:
                    file = where[id(res)][0]
                except KeyError:
                    continue  # not located: named by task, target, department and version
                if file != expected_file and file.startswith("results/"):
                    flagged.append(i)
            continue
        flagged.append(i)

    for i in flagged:
        _result_findings(c, results[i])
    # consecutive versions per result: only a result with several versions, or a single one that is
    # not version 1, can break this rule; in the order the results first appear
    for key in sorted(set(odd_first).union(more_group), key=first_group.__getitem__):
        _check_versions(key, [results[k] for k in more_group.get(key, (first_group[key],))], r)
    # checks of a target per year (淄博 第八条), counted on first versions of results of known tasks
    cap = s.max_checks_per_target_per_year
    if more_check or cap < 1:
        for (target, year), first in first_check.items():
            tasks = more_check.get((target, year)) or {first}
            if len(tasks) > cap:
                r.warning(
                    ("results", f"target {target}"),
                    "task",
                    f"expected at most {cap} checks of a target in {year} (淄博 第八条), got {len(tasks)} "
                    f"({', '.join(sorted(tasks))})",
                )


def _result_findings(c: _ResultsContext, res: model.Result) -> None:
    """The per-result rules (everything but the version sequence and the yearly cap) for one result."""
    r, ds, s, cal = c.r, c.ds, c.settings, c.cal
    place = r.at(res, "results", f"task {res.task}, target {res.target}, department {res.department}, version {res.version}")
    task = c.current.get(res.task)
    if task is None:
        old = c.any_version.get(res.task)
        if old is None:
            r.error(place, "task", f"expected a task of plans/<year>.yaml, got {res.task!r} (unknown task)")
            return
        task = old[0]
        r.warning(place, "task", f"task {res.task!r} is not in the current plan version (last in version {old[1]})")
    if place[0].startswith("results/") and place[0] != f"results/{task.year}.csv":
        r.error(place, "task", f"expected the results of task {task.id!r} in results/{task.year}.csv (its plan year), got them in {place[0]}")
    if res.target not in r.target_codes:
        r.error(place, "target", f"expected a target code of targets.csv, got {res.target!r} (unknown target)")
    if res.department not in task.departments:
        r.error(
            place,
            "department",
            f"expected one of the task's departments ({', '.join(task.departments)}), got {res.department!r}",
        )
    version = ds.items.in_force(task.draw_date)
    for ir in res.items:
        it = None
        if ir.item in task.items and version is not None:
            it = c.item_map(version).get(ir.item)
        if (
            ir.item in task.items
            and (it is None or res.department not in task.departments or res.department in it.subjects)
            and _codes_pass(ir.codes, not ir.sub_codes)
        ):
            continue  # nothing to report on this item: its location is not looked up
        iplace = r.at(ir, place[0], place[1])
        if ir.item not in task.items:
            r.error(iplace, "item", f"expected one of the task's items ({', '.join(task.items)}), got {ir.item!r}")
        elif it is not None and res.department in task.departments and res.department not in it.subjects:
            r.error(
                iplace,
                "department",
                f"expected a subject (抽查主体) of item {ir.item} ({', '.join(it.subjects)}), got {res.department!r}",
            )
        _check_codes(ir, iplace, r)
    # versions and corrections (淄博 第十九条)
    if res.version == 1:
        if res.correction_reason:
            r.error(place, "correction_reason", f"expected no correction_reason on version 1, got {res.correction_reason!r}")
    else:
        if res.approver_role is not ApproverRole.HEAD:
            r.error(
                place,
                "approver_role",
                f"expected head (主要负责人) for a correction (version {res.version}, 淄博 第十九条), got {res.approver_role}",
            )
        if not res.correction_reason.strip():
            r.error(place, "correction_reason", f"expected a reason for the correction (version {res.version}), got nothing")
    # dates
    if res.inspection_end > res.entered:
        r.error(place, "entered", f"expected a date on or after inspection_end ({res.inspection_end}), got {res.entered}")
    if res.entered > res.published:
        r.error(place, "published", f"expected a date on or after entered ({res.entered}), got {res.published}")
    if res.inspection_end < task.start:
        r.warning(place, "inspection_end", f"expected a date on or after the task start ({task.start}), got {res.inspection_end}")
    if res.version == 1:
        for field, n, got, rule in (
            ("published", s.publish_within_workdays, res.published, "淄博 第十七条(四)"),
            ("entered", s.entry_within_workdays, res.entered, "淄川 附件2"),
        ):
            if n is None:
                continue
            d = c.deadline(res.inspection_end, n)
            if isinstance(d, CalendarError):
                if res.inspection_end.year not in c.calendar_reported:
                    c.calendar_reported.add(res.inspection_end.year)
                    r.error(place, field, f"{d.message}; hint: {d.hint}")
                continue
            if got > d:
                try:
                    late = c.workdays_between(d, got)
                except CalendarError as exc:  # how late needs a year no calendar knows: fail closed
                    year = next((y for y in range(d.year, got.year + 1) if not cal.knows(y)), got.year)
                    if year not in c.calendar_reported:
                        c.calendar_reported.add(year)
                        r.error(place, field, f"{exc.message}; hint: {exc.hint}")
                    continue
                r.warning(
                    place,
                    field,
                    f"{field} late: expected on or before {d} ({n} working days after inspection_end "
                    f"{res.inspection_end}, {rule}), got {got} ({late} working day{'s' if late != 1 else ''} late)",
                )


def _check_versions(key: tuple[str, str, str], rs: list[model.Result], r: _Report) -> None:
    """Versions of one result (task, target, department) are 1, 2, … with non-decreasing publication."""
    task_id, target, dept = key
    rs.sort(key=lambda x: x.version)
    seen_versions = [x.version for x in rs]
    for i, res in enumerate(rs):
        duplicate = bool(i) and res.version == rs[i - 1].version
        earlier = bool(i) and res.published < rs[i - 1].published
        if not (duplicate or res.version != i + 1 or earlier):
            continue  # nothing to report: the location is not looked up
        place = r.at(res, "results", f"task {task_id}, target {target}, department {dept}, version {res.version}")
        if duplicate:
            other = r.at(rs[i - 1], "results", "")
            r.error(place, "version", f"duplicate result version {res.version} (also at {other[0]}, {other[1]})")
        elif res.version != i + 1:
            r.error(
                place,
                "version",
                f"expected version {i + 1} (versions of a result are 1, 2, … without gaps; found "
                f"{', '.join(map(str, seen_versions))}), got {res.version}",
            )
        if earlier:
            r.error(
                place,
                "published",
                f"expected a date on or after the previous version's ({rs[i - 1].published}), got {res.published}",
            )


def _codes_pass(codes: tuple[ResultCode, ...], no_sub_codes: bool) -> bool:
    """True when :func:`_check_codes` finds nothing in an item result with these codes and (or
    without) sub-codes: it depends on nothing else."""
    found = set(codes)
    if not codes:
        return False
    if ResultCode.NO_ISSUE in found and len(found) > 1:
        return False
    return (ResultCode.ISSUE_PENDING in found) != no_sub_codes


def _check_codes(ir: model.ItemResult, place: tuple[str, str], r: _Report) -> None:
    codes = set(ir.codes)
    if not ir.codes:
        r.error(place, "codes", "expected at least one result code, got nothing")
    if ResultCode.NO_ISSUE in codes and len(codes) > 1:
        others = ", ".join(str(c) for c in ir.codes if c is not ResultCode.NO_ISSUE)
        r.error(place, "codes", f"expected no_issue alone, got it with {others}")
    if ResultCode.ISSUE_PENDING in codes:
        if not ir.sub_codes:
            r.error(place, "sub_codes", "expected at least one sub-code with issue_pending, got nothing")
    elif ir.sub_codes:
        r.error(
            place,
            "sub_codes",
            f"expected no sub-codes without issue_pending, got {';'.join(str(c) for c in ir.sub_codes)}",
        )
