"""The §2 rules as a straightforward transcription: the reference for tests/test_rules_equivalence.py.

This is ``generator/sunshine/rules.py`` as it was before the results rules got their screen
(commit 7a2072d): every result goes through every rule, row by row, with its location looked up
for each. :mod:`sunshine.rules` must report exactly what this reports (same problems, severities,
locations, order). A change to a rule is made in both. One change since that commit, made in both:
counting how late a result was published no longer raises CalendarError when the count needs a year
no calendar knows; that is reported like a deadline that needs such a year (once per year, fail closed).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from fractions import Fraction
from typing import Any, Mapping

from sunshine import model
from sunshine.errors import CalendarError, Problem
from sunshine.vocabulary import ApproverRole, ItemClass, ResultCode
from sunshine.workdays import Calendar

_RESULTS_HINT = "add the year to calendar-overrides.yaml (docs/data-format.md)"


class _LazyCodes:
    """The set of target codes, built once and only when a rule needs it (a million targets)."""

    def __init__(self, ds: model.Dataset):
        self.ds = ds
        self._codes: set[str] | None = None

    def __contains__(self, code: str) -> bool:
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
    """Every §2 finding about *ds* (errors and warnings), in file order."""
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
    for ins in ds.inspectors:
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
    checked: set[model.Task] = set()  # a task carried unchanged into a later version is checked once
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
                if t not in checked:
                    checked.add(t)
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


def _check_results(ds: model.Dataset, r: _Report, cal: Calendar) -> None:
    s = ds.jurisdiction.settings
    current: dict[str, model.Task] = {t.id: t for t in ds.tasks()}
    any_version: dict[str, tuple[model.Task, int]] = {}
    for plan in ds.plans:
        for pv in plan.versions:
            for t in pv.tasks:
                if t.id not in current:
                    any_version[t.id] = (t, pv.version)  # the last version that still had it
    deadlines: dict[tuple[date, int], date | CalendarError] = {}
    calendar_reported: set[int] = set()

    def deadline(day: date, n: int) -> date | CalendarError:
        key = (day, n)
        d = deadlines.get(key)
        if d is None:
            try:
                d = cal.add_workdays(day, n)
            except CalendarError as exc:
                d = exc
            deadlines[key] = d
        return d

    groups: dict[tuple[str, str, str], list[model.Result]] = defaultdict(list)
    checks: dict[tuple[str, int], set[str]] = defaultdict(set)
    for res in ds.results:
        place = r.at(res, "results", f"task {res.task}, target {res.target}, department {res.department}, version {res.version}")
        groups[(res.task, res.target, res.department)].append(res)
        task = current.get(res.task)
        if task is None:
            old = any_version.get(res.task)
            if old is None:
                r.error(place, "task", f"expected a task of plans/<year>.yaml, got {res.task!r} (unknown task)")
                continue
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
            iplace = r.at(ir, place[0], place[1])
            if ir.item not in task.items:
                r.error(iplace, "item", f"expected one of the task's items ({', '.join(task.items)}), got {ir.item!r}")
            elif version is not None:
                try:
                    it = version.item(ir.item)
                except KeyError:
                    it = None
                if it is not None and res.department in task.departments and res.department not in it.subjects:
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
            checks[(res.target, task.year)].add(task.id)
            for field, n, got, rule in (
                ("published", s.publish_within_workdays, res.published, "淄博 第十七条(四)"),
                ("entered", s.entry_within_workdays, res.entered, "淄川 附件2"),
            ):
                if n is None:
                    continue
                d = deadline(res.inspection_end, n)
                if isinstance(d, CalendarError):
                    if res.inspection_end.year not in calendar_reported:
                        calendar_reported.add(res.inspection_end.year)
                        r.error(place, field, f"{d.message}; hint: {d.hint}")
                    continue
                if got > d:
                    try:
                        late = cal.workdays_between(d, got)
                    except CalendarError as exc:  # how late needs a year no calendar knows: fail closed
                        year = next((y for y in range(d.year, got.year + 1) if not cal.knows(y)), got.year)
                        if year not in calendar_reported:
                            calendar_reported.add(year)
                            r.error(place, field, f"{exc.message}; hint: {exc.hint}")
                        continue
                    r.warning(
                        place,
                        field,
                        f"{field} late: expected on or before {d} ({n} working days after inspection_end "
                        f"{res.inspection_end}, {rule}), got {got} ({late} working day{'s' if late != 1 else ''} late)",
                    )
    # consecutive versions per result
    for (task_id, target, dept), rs in groups.items():
        rs.sort(key=lambda x: x.version)
        seen_versions = [x.version for x in rs]
        for i, res in enumerate(rs):
            place = r.at(res, "results", f"task {task_id}, target {target}, department {dept}, version {res.version}")
            if i and res.version == rs[i - 1].version:
                other = r.at(rs[i - 1], "results", "")
                r.error(place, "version", f"duplicate result version {res.version} (also at {other[0]}, {other[1]})")
            elif res.version != i + 1:
                r.error(
                    place,
                    "version",
                    f"expected version {i + 1} (versions of a result are 1, 2, … without gaps; found "
                    f"{', '.join(map(str, seen_versions))}), got {res.version}",
                )
            if i and res.published < rs[i - 1].published:
                r.error(
                    place,
                    "published",
                    f"expected a date on or after the previous version's ({rs[i - 1].published}), got {res.published}",
                )
    cap = s.max_checks_per_target_per_year
    for (target, year), tasks in checks.items():
        if len(tasks) > cap:
            r.warning(
                ("results", f"target {target}"),
                "task",
                f"expected at most {cap} checks of a target in {year} (淄博 第八条), got {len(tasks)} "
                f"({', '.join(sorted(tasks))})",
            )


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
