"""The §2 rules on a Dataset (sunshine.rules.check_dataset), called directly as the portal and verifier do.

Records are taken from the mini fixture and changed with dataclasses.replace; without a ``where`` map
the locations are derived from the records themselves.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest

from sunshine import loading, model, rules
from sunshine.vocabulary import ApproverRole, ItemClass, ResultCode, TargetKind
from sunshine.workdays import Calendar, Overrides

MINI = Path(__file__).parent / "fixtures" / "mini"
D = date.fromisoformat


@pytest.fixture(scope="module")
def ds() -> model.Dataset:
    return loading.load_dataset(MINI)


def found(problems):
    return [(p.severity, str(p)) for p in problems]


def with_task(ds: model.Dataset, task_id: str, **changes) -> model.Dataset:
    plan = ds.plans[0]
    versions = tuple(
        replace(pv, tasks=tuple(replace(t, **changes) if t.id == task_id else t for t in pv.tasks)) for pv in plan.versions
    )
    return replace(ds, plans=(replace(plan, versions=versions),))


def with_result(ds: model.Dataset, index: int, **changes) -> model.Dataset:
    results = list(ds.results)
    results[index] = replace(results[index], **changes)
    return replace(ds, results=tuple(results))


def test_clean_dataset_has_no_findings(ds):
    assert rules.check_dataset(ds) == []


def test_default_locations_without_a_where_map(ds):
    bad = with_task(ds, "2025-02", start=D("2025-08-01"))
    assert found(rules.check_dataset(bad)) == [
        ("error", "plans/2025.yaml, versions[1].tasks[1], field 'draw_date': expected a date on or before start (2025-08-01), got 2025-09-01"),
    ]


def test_ratio_must_not_exceed_the_lowest_general_cap(ds):
    t = ds.task("2025-02")
    strata = (replace(t.strata[0], ratio=Fraction(1, 9)), t.strata[1])
    p = rules.check_dataset(with_task(ds, "2025-02", strata=strata))
    assert [m for _, m in found(p)] == [
        "plans/2025.yaml, versions[1].tasks[1], field 'strata[0].ratio': expected at most 10% "
        "(ratio_cap of general item HEALTH-02, 玉林 三(二)), got 1/9"
    ]


def test_focus_items_put_no_cap(ds):
    # A task with only the focus item AMR-03 may use any ratio up to 100%.
    t = ds.task("2025-02")
    strata = (replace(t.strata[0], ratio=Fraction(1, 2)), replace(t.strata[1], ratio=Fraction(1)))
    bad = with_task(ds, "2025-02", items=("AMR-03",), strata=strata)
    p = rules.check_dataset(replace(bad, results=()))
    assert [x.message for x in p] == [  # no error; HEALTH-02 is now in no task (a check, not an error)
        "expected every item of health's list (version 2) in a task of the 2025 plan (淄博 第七条), got none for HEALTH-02"
    ]


def test_lead_among_participants_and_unknown_scope_kind(ds):
    scope = model.Scope(kinds=(TargetKind.ENTERPRISE, TargetKind.PRODUCT))
    bad = with_task(ds, "2025-02", participants=("health", "amr"), scope=scope)
    assert found(rules.check_dataset(bad)) == [
        ("error", "plans/2025.yaml, versions[1].tasks[1], field 'participants': expected departments other than the lead, got the lead 'amr' again"),
        ("warning", "plans/2025.yaml, versions[1].tasks[1], field 'scope': expected target kinds of the task's items (enterprise, individual), got 'product'"),
    ]


def test_item_nobody_in_the_task_may_check(ds):
    bad = with_task(ds, "2025-01", items=("AMR-01", "HEALTH-02"))
    assert ("error", "plans/2025.yaml, versions[0].tasks[0], field 'items': expected an item one of the task's departments "
            "may check, got 'HEALTH-02' (subjects health; task departments amr)") in found(rules.check_dataset(bad))


def test_no_item_list_in_force_yet(ds):
    bad = with_task(ds, "2025-01", draw_date=D("2025-01-10"))
    assert found(rules.check_dataset(bad))[0] == (
        "error",
        "plans/2025.yaml, versions[0].tasks[0], field 'items': expected an item list in force on the draw date 2025-01-10, "
        "got none (the first version is published 2025-01-15)",
    )


def test_min_officers_setting(ds):
    j = replace(ds.jurisdiction, settings=replace(ds.jurisdiction.settings, min_officers_per_group=3))
    p = rules.check_dataset(replace(ds, jurisdiction=j))
    assert [m for _, m in found(p)] == [
        "plans/2025.yaml, versions[0].tasks[0], field 'team.min_officers': expected at least 3 (min_officers_per_group), got 2",
        "plans/2025.yaml, versions[1].tasks[1], field 'team.min_officers': expected at least 3 (min_officers_per_group), got 2",
    ]


def test_plan_deadline_is_a_check(ds):
    j = replace(ds.jurisdiction, settings=replace(ds.jurisdiction.settings, plan_deadline="02-15"))
    assert found(rules.check_dataset(replace(ds, jurisdiction=j))) == [
        ("warning", "plans/2025.yaml, versions[0], field 'published': plan published late: expected on or before 2025-02-15 "
         "(plan_deadline 02-15, 环翠 二(四)), got 2025-02-28"),
    ]


def test_result_versions_and_dates(ds):
    # index 2 is the correction (version 2) of index 1
    bad = with_result(ds, 2, published=D("2025-06-01"))
    assert found(rules.check_dataset(bad)) == [
        ("error", "results, task 2025-01, target 92379902MA3D00107Y, department amr, version 2, field 'published': "
         "expected a date on or after the previous version's (2025-06-05), got 2025-06-01"),
    ]
    dup = replace(ds, results=ds.results + (ds.results[2],))
    assert any("duplicate result version 2" in p.message for p in rules.check_dataset(dup))


def test_codes_rules(ds):
    ir = model.ItemResult("AMR-01", (ResultCode.ISSUE_PENDING, ResultCode.NO_ISSUE))
    bad = with_result(ds, 0, items=(ir,))
    assert [p.message for p in rules.check_dataset(bad)] == [
        "expected no_issue alone, got it with issue_pending",
        "expected at least one sub-code with issue_pending, got nothing",
    ]
    empty = with_result(ds, 0, items=(model.ItemResult("AMR-01", ()),))
    assert [p.message for p in rules.check_dataset(empty)] == ["expected at least one result code, got nothing"]


def test_annual_cap_per_target_is_a_check(ds):
    extra_tasks = []
    for n in (3, 4):
        t = replace(ds.task("2025-01"), id=f"2025-0{n}")
        extra_tasks.append(t)
    plan = ds.plans[0]
    last = replace(plan.current, tasks=plan.current.tasks + tuple(extra_tasks))
    ds2 = replace(ds, plans=(replace(plan, versions=(*plan.versions[:-1], last)),))
    r0 = ds.results[0]
    more = tuple(replace(r0, task=t.id) for t in extra_tasks)
    p = rules.check_dataset(replace(ds2, results=ds2.results + more))
    assert found(p) == [
        ("warning", "results, target 91379902MA3C00100R, field 'task': expected at most 2 checks of a target in 2025 "
         "(淄博 第八条), got 3 (2025-01, 2025-03, 2025-04)"),
    ]


def test_task_dropped_from_the_current_plan_version(ds):
    plan = ds.plans[0]
    last = replace(plan.current, tasks=plan.current.tasks[1:])  # 2025-01 dropped in version 2
    bad = replace(ds, plans=(replace(plan, versions=(plan.versions[0], last)),))
    p = found(rules.check_dataset(bad))
    assert ("warning", "results, task 2025-01, target 91379902MA3C00100R, department amr, version 1, field 'task': "
                    "task '2025-01' is not in the current plan version (last in version 1)") in p


def test_late_publication_needs_a_known_calendar(ds):
    # A 2027 result: chinese-calendar 1.11 does not know 2027, so the deadline cannot be computed (fail closed).
    t = ds.task("2025-01")
    late = with_task(ds, "2025-01", end=D("2027-12-31"))
    r = replace(ds.results[0], inspection_end=D("2027-03-01"), entered=D("2027-03-02"), published=D("2027-03-03"))
    bad = replace(late, results=(r,))
    p = rules.check_dataset(bad)
    assert [x.severity for x in p] == ["error"]
    assert p[0].message.startswith("no working-day calendar for the year 2027")
    assert "calendar-overrides.yaml" in p[0].message
    # With the override year, the same result is checked normally (2027-03-03 is on time).
    cal = Calendar(Overrides(years=frozenset({2027})))
    assert rules.check_dataset(bad, calendar=cal) == []
    assert t.end == D("2025-05-30")


def test_correction_rules(ds):
    bad = with_result(ds, 2, approver_role=ApproverRole.DEPUTY_HEAD, correction_reason=" ")
    assert [p.field for p in rules.check_dataset(bad)] == ["approver_role", "correction_reason"]


def test_item_list_rules(ds):
    items = ds.items
    v2 = items.versions[1]
    it = replace(v2.item("HEALTH-02"), item_class=ItemClass.GENERAL, department="police")
    v2b = replace(v2, items=(v2.items[0], v2.items[1], it), published=D("2025-01-01"))
    bad = replace(ds, items=replace(items, versions=(items.versions[0], v2b)))
    msgs = [str(p) for p in rules.check_dataset(bad) if p.file == "items.yaml"]
    assert msgs == [
        "items.yaml, versions[1], field 'published': expected a date on or after 2025-01-15 (version 1 was published then), got 2025-01-01",
        "items.yaml, versions[1].items[2], field 'department': expected a department of jurisdiction.yaml (amr, health), got 'police'",
    ]


def test_plan_coverage_and_joint_metrics_are_checks(ds):
    plan = ds.plans[0]
    t1, t2 = plan.current.tasks
    # Only the single-department task left: HEALTH-02 uncovered, no joint task at all.
    only_single = replace(ds, plans=(replace(plan, versions=(plan.versions[0], replace(plan.current, tasks=(t1,)))),), results=())
    assert found(rules.check_dataset(only_single)) == [
        ("warning", "plans/2025.yaml, versions[1], field 'tasks': expected every item of amr's list (version 2) in a task "
         "of the 2025 plan (淄博 第七条), got none for AMR-03"),
        ("warning", "plans/2025.yaml, versions[1], field 'tasks': expected every item of health's list (version 2) in a "
         "task of the 2025 plan (淄博 第七条), got none for HEALTH-02"),
        ("warning", "plans/2025.yaml, versions[1], field 'tasks': expected each department in at least one joint task of "
         "the 2025 plan (淄博 第七条), got none for amr, health"),
        ("warning", "plans/2025.yaml, versions[1], field 'tasks': expected joint tasks to be at least 10% of the 2025 plan "
         "(忻州 二(六)), got 0 of 1"),
    ]
    # The joint task without credit-class strata: 0 of 1 joint tasks use credit classes (< 60%).
    no_credit = with_task(ds, "2025-02", strata=(t2.strata[1],))
    assert found(rules.check_dataset(no_credit)) == [
        ("warning", "plans/2025.yaml, versions[1], field 'tasks': expected credit classes used in at least 60% of the "
         "joint tasks of the 2025 plan (忻州 二(七)), got 0 of 1"),
    ]


def test_lateness_that_needs_an_unknown_year_is_a_calendar_error(ds):
    # Deadline 2026-12-29 is computable, but counting how late 2027-03-01 is needs 2027 (unknown to
    # chinese-calendar 1.11): an error once per year (fail closed), no traceback.
    t = with_task(ds, "2025-01", end=D("2027-12-31"))
    r = replace(ds.results[0], inspection_end=D("2026-12-01"), entered=D("2026-12-02"), published=D("2027-03-01"))
    r2 = replace(r, target="92379902MA3D00107Y")
    p = rules.check_dataset(replace(t, results=(r, r2)))
    assert [(x.severity, x.field, x.location) for x in p] == [
        ("error", "published", "task 2025-01, target 91379902MA3C00100R, department amr, version 1")
    ]
    assert p[0].message.startswith("no working-day calendar for the year 2027")
    # With 2027 described by the overrides (weekends only), both are late publications.
    cal = Calendar(Overrides(years=frozenset({2027})))
    assert [x.message for x in rules.check_dataset(replace(t, results=(r,)), calendar=cal)] == [
        "published late: expected on or before 2026-12-29 (20 working days after inspection_end 2026-12-01, "
        "淄博 第十七条(四)), got 2027-03-01 (44 working days late)"
    ]
