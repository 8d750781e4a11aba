"""The 统计 page's figures (``sunshine.portal.stats.context``): the C-level passes give exactly
what the straightforward loop gives — kept below as the reference (it is the code the module had
before it was made fast) — on the sample data, on demo results, with late publications beyond
the 200 the page lists, with inspection ends in a year the calendar does not know (unknown
deadline), with targets missing from the directory, and on generated variations of those."""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sunshine import cli, loading, model
from sunshine.errors import CalendarError
from sunshine.portal import stats, views
from sunshine.portal.charts import hbar
from sunshine.portal.privacy import dept_label, iso, percent
from sunshine.portal.stats import MARKET_ENTITIES, _share
from sunshine.vocabulary import ResultCode, TargetKind
from sunshine.workdays import Calendar

REPO = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- the reference


def ref_context(ds: model.Dataset, ix: views.Index, calendar: Calendar | None = None) -> dict:
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
    items_total = len(ds.items.current.items) if ds.items.versions else 0
    years = []
    for plan in sorted(ds.plans, key=lambda p: p.year, reverse=True):
        tasks = plan.current.tasks
        groups = [g for t in tasks for g in ix.by_task.get(t.id, [])]  # plan order: same pages in every process
        joint = [t for t in tasks if t.joint]
        credit = [t for t in joint if t.uses_credit_classes]
        used_items = {i for t in tasks for i in t.items}
        inspected = {g.target for g in groups if g.target in ix.targets
                     and ix.targets[g.target].kind in MARKET_ENTITIES}
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


# --------------------------------------------------------------------------- comparisons


def assert_same(ds: model.Dataset, calendar: Calendar | None = None) -> dict:
    ix = views.Index(ds)
    fast = stats.context(ds, ix, calendar)
    ref = ref_context(ds, views.Index(ds), calendar)
    assert repr(fast) == repr(ref)
    return fast


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> model.Dataset:
    out = tmp_path_factory.mktemp("stats") / "data"
    assert cli.main(["demo-data", "--scale", "2000", "--tasks", "30", "--no-ledger", "--results", "600",
                     "--out", str(out)]) == 0
    return loading.load_dataset(out)


def test_same_as_the_reference_on_the_committed_sample_data():
    data = REPO / "data"
    assert_same(loading.load_dataset(data), Calendar.from_dir(data))


def test_same_as_the_reference_on_demo_results(demo):
    ctx = assert_same(demo)
    assert sum(y["results"] for y in ctx["years"]) == len({(r.task, r.target, r.department) for r in demo.results})


def test_more_late_results_than_the_page_lists(demo):
    """Every result published 60 days after its inspection: all late, the page lists 200 of them."""
    late = tuple(dataclasses.replace(r, published=r.inspection_end + timedelta(days=60)) for r in demo.results)
    ctx = assert_same(dataclasses.replace(demo, results=late))
    year = max(ctx["years"], key=lambda y: y["late_total"])
    assert year["late_total"] > 200 and len(year["late_rows"]) == 200 and year["on_time"] == 0


def test_unknown_calendar_years_and_targets_missing_from_the_directory(demo):
    results = list(demo.results)
    for i in range(0, len(results), 3):
        results[i] = dataclasses.replace(results[i], inspection_end=date(2099, 6, 1), published=date(2099, 7, 1))
    for i in range(1, len(results), 7):
        results[i] = dataclasses.replace(results[i], target="P-NOT-IN-DIRECTORY-" + str(i % 5))
    ctx = assert_same(dataclasses.replace(demo, results=tuple(results)))
    assert any(y["unknown"] for y in ctx["years"])


def test_no_results(demo):
    assert_same(dataclasses.replace(demo, results=()))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_same_as_the_reference_on_generated_variations(demo, data):
    """Random publication delays, kinds, departments and codes on a random subset of the results."""
    draw = data.draw
    results = list(demo.results)
    picks = draw(st.lists(st.integers(0, len(results) - 1), max_size=80))
    departments = [d.id for d in demo.jurisdiction.departments] + ["no-such-department"]
    for i in picks:
        r = results[i]
        items = tuple(dataclasses.replace(ir, codes=tuple(draw(st.lists(st.sampled_from(list(ResultCode)),
                                                                              min_size=0, max_size=3))))
                      for ir in r.items)
        results[i] = dataclasses.replace(r, items=items, department=draw(st.sampled_from(departments)),
                                         published=r.inspection_end + timedelta(days=draw(st.integers(-5, 90))))
    targets = list(demo.targets)
    for i in draw(st.lists(st.integers(0, len(targets) - 1), max_size=50)):
        targets[i] = dataclasses.replace(targets[i], kind=draw(st.sampled_from(list(TargetKind))))
    assert_same(dataclasses.replace(demo, results=tuple(results), targets=tuple(targets)))
