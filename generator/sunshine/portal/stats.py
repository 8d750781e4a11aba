"""The 统计 page: the rules of design-notes §2 that are *checked* (not enforced), per year.

* coverage: inspected targets / targets of the directory (market entities), and items of the
  current list used by the year's tasks (淄博 第七条: plans cover the whole list);
* joint share: joint tasks / all tasks (忻州 二(六): ≥ 10%), and credit classes used in joint
  tasks (忻州 二(七): ≥ 60%);
* on-time publication: a result's first version published no later than the N-th working day
  after the end of the inspection (淄博 第十七条(四), N = ``publish_within_workdays``, 调休-aware
  through :mod:`sunshine.workdays`; a year the calendar does not know is reported as such);
* results by code and by department (current versions; corrections count once).
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from fractions import Fraction
from functools import partial
from itertools import compress
from operator import attrgetter, itemgetter

from .. import model
from ..errors import CalendarError
from ..vocabulary import ResultCode, TargetKind
from ..workdays import Calendar
from .charts import hbar
from .privacy import dept_label, iso, percent
from .views import Index

MARKET_ENTITIES = (TargetKind.ENTERPRISE, TargetKind.INDIVIDUAL, TargetKind.COOPERATIVE)


def _share(n: int, d: int) -> str:
    return percent(Fraction(n, d)) if d else "—"


class _Memo(dict):
    """key → make(key), memoised."""

    def __init__(self, make) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, key):
        v = self[key] = self.make(key)
        return v


UNKNOWN, ON_TIME, LATE = 0, 1, 2
_versions, _items, _codes = attrgetter("versions"), attrgetter("items"), attrgetter("codes")
_target, _department, _kind = attrgetter("target"), attrgetter("department"), attrgetter("kind")
_inspection_end, _published = attrgetter("inspection_end"), attrgetter("published")
_first, _last = itemgetter(0), itemgetter(-1)


def context(ds: model.Dataset, ix: Index, calendar: Calendar | None = None) -> dict:
    """The page's figures per plan year, latest first.

    A province has ~200,000 results and 1,000,000 targets and this runs on every build, so the
    per-result work is done by C-level passes (``map``, ``Counter``) over memoised answers: the
    deadline of an inspection end date, the status of an (inspection end, publication) pair, the
    codes of a result's items. ``tests/test_portal_stats.py`` compares with the straightforward loop."""
    calendar = calendar or Calendar()
    within = ds.jurisdiction.settings.publish_within_workdays

    def deadline(d: date) -> date | None:
        try:
            return calendar.add_workdays(d, within)
        except CalendarError:
            return None

    deadlines = _Memo(deadline)

    def status(key: tuple[date, date]) -> int:
        dl = deadlines[key[0]]
        return UNKNOWN if dl is None else ON_TIME if key[1] <= dl else LATE

    statuses = _Memo(status)  # (first version's inspection end, its publication) → status

    def code_set(key: tuple) -> frozenset:
        return frozenset(c for codes in key for c in codes)

    code_sets = _Memo(code_set)  # the items' codes of a result → the result's codes

    entities = sum(map(MARKET_ENTITIES.__contains__, map(_kind, ds.targets)))
    items_total = len(ds.items.current.items) if ds.items.versions else 0
    years = []
    for plan in sorted(ds.plans, key=lambda p: p.year, reverse=True):
        tasks = plan.current.tasks
        groups = [g for t in tasks for g in ix.by_task.get(t.id, [])]  # plan order: same pages in every process
        joint = [t for t in tasks if t.joint]
        credit = [t for t in joint if t.uses_credit_classes]
        used_items = {i for t in tasks for i in t.items}
        known = filter(None, map(ix.targets.get, set(map(_target, groups))))
        inspected = sum(map(MARKET_ENTITIES.__contains__, map(_kind, known)))
        versions = list(map(_versions, groups))
        firsts = list(map(_first, versions))
        status_of = list(map(statuses.__getitem__, zip(map(_inspection_end, firsts), map(_published, firsts))))
        totals = Counter(status_of)
        on_time, late, unknown = totals[ON_TIME], totals[LATE], totals[UNKNOWN]
        departments = list(map(_department, groups))
        by_department = Counter(zip(departments, status_of))
        dept_rows = {}  # results, on time, late, unknown; in order of first appearance
        for d in dict.fromkeys(departments):
            row = [by_department[(d, ON_TIME)], by_department[(d, LATE)], by_department[(d, UNKNOWN)]]
            dept_rows[d] = [sum(row), *row]
        late_rows = []
        for g in compress(groups, map(LATE.__eq__, status_of)):
            if len(late_rows) == 200:  # the page lists the first 200 (and counts them all)
                break
            first = g.versions[0]
            late_rows.append({"task": g.task, "target": ix.target_pub(g.target),
                              "department": dept_label(ds, g.department),
                              "inspection_end": iso(first.inspection_end),
                              "deadline": iso(deadlines[first.inspection_end]), "published": iso(first.published)})
        codes: Counter = Counter()  # current versions: a result counts once per code
        item_codes = map(tuple, map(partial(map, _codes), map(_items, map(_last, versions))))
        for key, n in Counter(item_codes).items():
            for c in code_sets[key]:
                codes[c] += n
        corrected = len(versions) - list(map(len, versions)).count(1)
        settings = ds.jurisdiction.settings
        code_rows = [(c.label, codes.get(c, 0), str(codes.get(c, 0))) for c in ResultCode if codes.get(c)]
        depts = [
            {"department": dept_label(ds, d), "results": r[0], "on_time": r[1], "late": r[2], "unknown": r[3],
             "share": _share(r[1], r[1] + r[2])}
            for d, r in sorted(dept_rows.items(), key=lambda kv: -kv[1][0])
        ]
        joint_ratio = Fraction(len(joint), len(tasks)) if tasks else Fraction(0)
        credit_ratio = Fraction(len(credit), len(joint)) if joint else Fraction(0)
        on_time_ratio = Fraction(on_time, on_time + late) if on_time + late else Fraction(0)
        years.append(
            {
                "year": plan.year,
                "tasks": len(tasks),
                "joint": len(joint),
                "joint_share": _share(len(joint), len(tasks)),
                "joint_target": percent(settings.joint_share_target),
                "joint_ok": bool(tasks) and joint_ratio >= settings.joint_share_target,
                "credit": len(credit),
                "credit_share": _share(len(credit), len(joint)),
                "credit_target": percent(settings.credit_use_target),
                "credit_ok": bool(joint) and credit_ratio >= settings.credit_use_target,
                "items_used": len(used_items),
                "items_total": items_total,
                "items_share": _share(len(used_items & {i.id for i in ds.items.current.items}), items_total)
                if items_total else "—",
                "inspected": inspected,
                "entities": entities,
                "coverage": _share(inspected, entities),
                "results": len(groups),
                "on_time": on_time,
                "late": late,
                "unknown": unknown,
                "on_time_share": _share(on_time, on_time + late),
                "corrected": corrected,
                "codes": [{"label": label, "count": n} for label, n, _ in code_rows],
                "departments": depts,
                "late_rows": late_rows,
                "late_total": late,
                "charts": {
                    "shares": hbar(
                        f"{plan.year}年度 主要指标",
                        [
                            ("部门联合抽查占比", float(joint_ratio * 100), _share(len(joint), len(tasks))),
                            ("联合抽查运用信用分类", float(credit_ratio * 100), _share(len(credit), len(joint))),
                            ("按时公示率", float(on_time_ratio * 100), _share(on_time, on_time + late)),
                        ],
                        max_value=100,
                    ),
                    "codes": hbar(f"{plan.year}年度 检查结果分布", code_rows),
                    "departments": hbar(
                        f"{plan.year}年度 各部门公示结果数",
                        [(d["department"], d["results"], str(d["results"])) for d in depts],
                    ),
                },
            }
        )
    return {"years": years, "within": within}
