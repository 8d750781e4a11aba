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

from collections import Counter, defaultdict
from datetime import date
from fractions import Fraction

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


def context(ds: model.Dataset, ix: Index, calendar: Calendar | None = None) -> dict:
    calendar = calendar or Calendar()
    within = ds.jurisdiction.settings.publish_within_workdays
    deadlines: dict[date, date | None] = {}

    def deadline(d: date) -> date | None:
        if d not in deadlines:
            try:
                deadlines[d] = calendar.add_workdays(d, within)
            except CalendarError:
                deadlines[d] = None
        return deadlines[d]

    entities = sum(1 for t in ds.targets if t.kind in MARKET_ENTITIES)
    target = ix.targets.get
    items_total = len(ds.items.current.items) if ds.items.versions else 0
    years = []
    for plan in sorted(ds.plans, key=lambda p: p.year, reverse=True):
        tasks = plan.current.tasks
        groups = [g for t in tasks for g in ix.by_task.get(t.id, [])]  # plan order: same pages in every process
        joint = [t for t in tasks if t.joint]
        credit = [t for t in joint if t.uses_credit_classes]
        used_items = {i for t in tasks for i in t.items}
        inspected = {g.target for g in groups
                     if (t := target(g.target)) is not None and t.kind in MARKET_ENTITIES}
        on_time = late = unknown = 0
        dept_rows: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # results, on time, late, unknown
        late_rows = []
        for g in groups:
            first = g.versions[0]
            dl = deadline(first.inspection_end)
            row = dept_rows[g.department]
            row[0] += 1
            if dl is None:
                unknown += 1
                row[3] += 1
            elif first.published <= dl:
                on_time += 1
                row[1] += 1
            else:
                late += 1
                row[2] += 1
                late_rows.append({"task": g.task, "target": ix.target_pub(g.target),
                                  "department": dept_label(ds, g.department),
                                  "inspection_end": iso(first.inspection_end), "deadline": iso(dl),
                                  "published": iso(first.published)})
        codes = Counter(c for g in groups for c in g.current.codes)
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
                "inspected": len(inspected),
                "entities": entities,
                "coverage": _share(len(inspected), entities),
                "results": len(groups),
                "on_time": on_time,
                "late": late,
                "unknown": unknown,
                "on_time_share": _share(on_time, on_time + late),
                "corrected": sum(1 for g in groups if g.corrected),
                "codes": [{"label": label, "count": n} for label, n, _ in code_rows],
                "departments": depts,
                "late_rows": late_rows[:200],
                "late_total": len(late_rows),
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
