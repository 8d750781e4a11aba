"""sunshine.rules (a screen in front of the per-result rules) against the straightforward transcription
(tests/rules_reference.py): on generated data with every kind of finding injected, both must report
exactly the same problems — messages, severities, files, locations, fields — in the same order.

The data is the demo generator's (sunshine.demo: targets, inspectors, plans, results with late
publications and corrections), changed with a seeded random number generator; each seed injects a
different mix. Locations come from a ``where`` map like the one loading fills (some entries naming the
wrong results file, some missing) or from no map at all; one test goes through real CSV files and
:func:`sunshine.loading.validate_directory`.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta

import pytest

import rules_reference
from sunshine import demo, loading, model, rules
from sunshine.vocabulary import ApproverRole, PendingSubCode, ResultCode
from sunshine.workdays import Calendar, Overrides

RC = ResultCode

# Codes and sub-codes an item result may carry: valid ones and each way _check_codes can fail.
_CODE_CASES = (
    ((RC.NO_ISSUE,), ()),
    ((RC.ISSUE_CORRECTED,), ()),
    ((RC.ISSUE_PENDING,), (PendingSubCode.DEPT_VIOLATION,)),
    ((RC.ISSUE_PENDING, RC.OTHER), (PendingSubCode.NOT_PUBLICISED, PendingSubCode.FALSE_PUBLICITY)),
    ((), ()),  # no code
    ((RC.NO_ISSUE, RC.ISSUE_CORRECTED), ()),  # no_issue with others
    ((RC.OTHER, RC.NO_ISSUE), ()),
    ((RC.ISSUE_PENDING,), ()),  # issue_pending without a sub-code
    ((RC.ISSUE_CORRECTED,), (PendingSubCode.UNREACHABLE,)),  # a sub-code without issue_pending
    ((RC.NO_ISSUE, RC.ISSUE_PENDING), ()),  # two findings at once
    ((RC.NO_ISSUE,), (PendingSubCode.DEPT_VIOLATION,)),
)


@pytest.fixture(scope="module")
def base() -> tuple[model.Dataset, list[model.Result]]:
    ds = demo.generate(demo.Options(scale=1500, tasks=40))
    rng = random.Random("rules-equivalence/selections")
    codes = [t.code for t in ds.targets]
    selections = {t.id: rng.sample(codes, 12) for t in ds.tasks()}
    # A few targets drawn by several tasks of a year: the yearly cap (淄博 第八条) comes into play.
    for t in ds.tasks()[::3]:
        selections[t.id][:3] = codes[:3]
    results = demo.make_results(ds, selections, seed=7)
    assert len(results) > 400 and any(r.version == 2 for r in results)
    return ds, results


def both(ds: model.Dataset, **kw) -> tuple[list, list]:
    return rules.check_dataset(ds, **kw), rules_reference.check_dataset(ds, **kw)


def assert_same(ds: model.Dataset, **kw) -> list:
    fast, ref = both(ds, **kw)
    assert len(fast) == len(ref)
    for i, (a, b) in enumerate(zip(fast, ref)):
        assert a == b, f"problem {i}: {a} != {b}"
    return ref


def _other(rng: random.Random, values, not_this):
    choices = [v for v in values if v != not_this]
    return rng.choice(choices) if choices else not_this


def mutate(ds: model.Dataset, results: list[model.Result], seed: int) -> tuple[model.Dataset, list[model.Result]]:
    """Inject every kind of per-result finding (and a few dataset-wide ones) at random places."""
    rng = random.Random(f"rules-equivalence/{seed}")
    tasks = {t.id: t for t in ds.tasks()}
    all_items = sorted({it.id for v in ds.items.versions for it in v.items})
    dept_ids = [d.id for d in ds.jurisdiction.departments]
    codes = [t.code for t in ds.targets]
    out = list(results)
    rate = rng.choice((0.01, 0.05, 0.2))

    def hit() -> bool:
        return rng.random() < rate

    for i, res in enumerate(out):
        task = tasks[res.task]
        ch: dict = {}
        if hit():
            ch["task"] = rng.choice(("2025-999", "1999-01", res.task + "x"))  # unknown task
        if hit():
            ch["target"] = rng.choice(("P-unknown", codes[0] + "0", "91379902MA3C00100X"))
        if hit():
            ch["department"] = _other(rng, dept_ids + ["nobody"], res.department)
        elif hit() and task.participants:
            ch["department"] = rng.choice(task.departments)  # a task department, maybe no subject of the items
        if hit():
            items = list(res.items)
            k = rng.randrange(len(items))
            if rng.random() < 0.5:
                items[k] = replace(items[k], item=rng.choice(all_items))  # maybe not the task's
            else:
                c, sub = rng.choice(_CODE_CASES)
                items[k] = replace(items[k], codes=c, sub_codes=sub)
            if rng.random() < 0.2:
                items.append(model.ItemResult(rng.choice(all_items), (RC.NO_ISSUE,)))
            ch["items"] = tuple(items)
        if hit():
            ch["correction_reason"] = rng.choice(("复核更正", " ", ""))
        if hit():
            ch["approver_role"] = rng.choice(tuple(ApproverRole))
        if hit():
            ch["version"] = rng.choice((1, 2, 3, 5))
        if hit():
            ch["entered"] = res.inspection_end - timedelta(days=rng.randrange(1, 5))  # before inspection_end
        if hit():
            ch["published"] = res.entered - timedelta(days=rng.randrange(1, 5))  # before entered
        if hit():
            ch["inspection_end"] = task.start - timedelta(days=rng.randrange(1, 30))  # before the task start
        if hit():
            ch["published"] = res.inspection_end + timedelta(days=rng.randrange(20, 90))  # late
        if hit():
            ch["entered"] = res.inspection_end + timedelta(days=rng.randrange(3, 20))  # late entry (maybe)
        if rng.random() < rate / 4:
            end = date(rng.choice((2035, 2036)), 3, rng.randrange(1, 28))  # no working-day calendar
            ch.update(inspection_end=end, entered=end + timedelta(days=1), published=end + timedelta(days=2))
        if ch:
            out[i] = replace(res, **ch)
    # duplicates, extra versions and corrections published too early, the same record twice
    for _ in range(int(len(out) * rate) + 1):
        res = rng.choice(out)
        kind = rng.randrange(4)
        if kind == 0:
            out.insert(rng.randrange(len(out) + 1), res)  # the very same object again
        elif kind == 1:
            out.append(replace(res, version=res.version))  # a duplicate version
        elif kind == 2:
            out.append(replace(res, version=res.version + rng.choice((1, 2)), approver_role=ApproverRole.HEAD,
                               correction_reason="更正", published=res.published - timedelta(days=rng.randrange(0, 3))))
        else:
            # a check of the same target by another task of the same year (yearly cap)
            same_year = [t for t in tasks.values() if t.year == tasks.get(res.task, t).year and t.id != res.task]
            if same_year:
                t = rng.choice(same_year)
                out.append(replace(res, task=t.id, department=t.lead, version=1, correction_reason=""))
    if rng.random() < 0.5:  # interleave the results of different files and tasks
        k = len(out) // 3
        out = out[k:] + out[:k]
    # the settings: rules switched off, a stricter yearly cap
    s = ds.jurisdiction.settings
    settings = replace(
        s,
        publish_within_workdays=rng.choice((s.publish_within_workdays, None, 5)),
        entry_within_workdays=rng.choice((s.entry_within_workdays, None, 1)),
        max_checks_per_target_per_year=rng.choice((s.max_checks_per_target_per_year, 1, 0, 3)),
    )
    # a task dropped from the current plan version: its results name a task of an older version
    plans = list(ds.plans)
    if rng.random() < 0.7:
        p = rng.randrange(len(plans))
        cur = plans[p].current
        gone = rng.randrange(len(cur.tasks))
        kept = [replace(t) if rng.random() < 0.5 else t for t in cur.tasks[:gone] + cur.tasks[gone + 1:]]  # equal copies
        for k in rng.sample(range(len(kept)), 2):  # changed tasks: checked again in the new version
            t = kept[k]
            kept[k] = replace(t, team=replace(t.team, min_officers=1)) if k % 2 else replace(t, end=t.start - timedelta(days=1))
        if rng.random() < 0.5:  # a task with bad dates in the old version, carried unchanged (or an equal copy)
            old_v = plans[p].versions[0]
            bad = replace(old_v.tasks[0], draw_date=old_v.tasks[0].start + timedelta(days=3))
            plans[p] = replace(plans[p], versions=(replace(old_v, tasks=(bad, *old_v.tasks[1:])), *plans[p].versions[1:]))
            kept = [(bad if rng.random() < 0.5 else replace(bad)) if t.id == bad.id else t for t in kept]
        shorter = replace(cur, version=cur.version + 1, tasks=tuple(kept))
        plans[p] = replace(plans[p], versions=plans[p].versions + (shorter,))
    # inspectors with conflicts naming unknown targets
    inspectors = list(ds.inspectors)
    for k in rng.sample(range(len(inspectors)), 3):
        inspectors[k] = replace(inspectors[k], conflicts=inspectors[k].conflicts | {"P-nobody", codes[k]})
    ds = replace(ds, jurisdiction=replace(ds.jurisdiction, settings=settings), plans=tuple(plans),
                 inspectors=tuple(inspectors), results=tuple(out))
    return ds, out


def where_map(ds: model.Dataset, seed: int) -> dict[int, tuple[str, str]]:
    """Locations as loading records them, some naming a wrong or a non-results file, some missing."""
    rng = random.Random(f"rules-equivalence/where/{seed}")
    tasks = {t.id: t for p in ds.plans for v in p.versions for t in v.tasks}
    where: dict[int, tuple[str, str]] = {}
    for line, res in enumerate(ds.results, start=2):
        t = tasks.get(res.task)
        file = f"results/{t.year if t else 2025}.csv"
        x = rng.random()
        if x < 0.02:
            file = rng.choice(("results/2024.csv", "results/2026.csv", "results/2025.csv"))
        elif x < 0.03:
            file = "results.csv"
        elif x < 0.04:
            continue  # not located: the rules derive a location
        where[id(res)] = (file, f"line {line}")
        for ir in res.items:
            if rng.random() < 0.9:
                where[id(ir)] = (file, f"line {line}")
    return where


@pytest.mark.parametrize("seed", range(12))
def test_same_findings_as_the_reference(base, seed):
    ds0, results = base
    ds, _ = mutate(ds0, results, seed)
    found = assert_same(ds, where=where_map(ds, seed))
    kinds = Counter((p.field, p.severity) for p in found)
    assert len(kinds) >= 8, kinds  # findings of many kinds were injected
    assert_same(ds)  # without a where map: locations derived from the records


def test_every_kind_of_finding_is_covered(base):
    """Across the seeds, every message the results rules can produce appears at least once."""
    ds0, results = base
    seen: Counter = Counter()
    cal = Calendar(Overrides(years=frozenset({2035})))  # 2035 known, 2036 not
    for seed in range(12):
        ds, _ = mutate(ds0, results, seed)
        for kw in ({"where": where_map(ds, seed)}, {"where": where_map(ds, seed), "calendar": cal}):
            for p in assert_same(ds, **kw):
                m = p.message
                seen[(p.field, p.severity, m.split(" ")[0] if "(" not in m[:12] else m[:12])] += 1
    messages = {k[2] for k in seen}
    fields = {(k[0], k[1]) for k in seen}
    for field in (("task", "error"), ("task", "warning"), ("target", "error"), ("department", "error"),
                  ("item", "error"), ("codes", "error"), ("sub_codes", "error"), ("correction_reason", "error"),
                  ("approver_role", "error"), ("entered", "error"), ("published", "error"),
                  ("inspection_end", "warning"), ("published", "warning"), ("entered", "warning"),
                  ("version", "error"), ("conflicts", "warning")):
        assert field in fields, field
    for start in ("duplicate", "expected", "task", "no", "published", "entered"):
        assert start in messages, start


def test_calendar_errors_reported_once_per_year(base):
    ds0, results = base
    t = ds0.tasks()[0]
    r0 = next(r for r in results if r.task == t.id and r.version == 1)
    ends = (date(2035, 3, 1), date(2035, 4, 1), date(2036, 3, 1))
    extra = tuple(replace(r0, target=f"P-cal-{k}", inspection_end=e, entered=e, published=e) for k, e in enumerate(ends))
    ds = replace(ds0, results=tuple(results) + extra)
    found = assert_same(ds)
    cal_errors = [p for p in found if p.message.startswith(("no working-day calendar for the year 2035",
                                                            "no working-day calendar for the year 2036"))]
    assert [p.location for p in cal_errors] == [f"task {t.id}, target P-cal-0, department {r0.department}, version 1",
                                                f"task {t.id}, target P-cal-2, department {r0.department}, version 1"]


def test_unchanged_demo_results(base):
    """The generator's results: only its late publications (and deadlines in a year no calendar knows),
    and the targets the fixture has several tasks draw (yearly cap)."""
    ds0, results = base
    ds = replace(ds0, results=tuple(results))
    fast, ref = both(ds)
    assert fast == ref
    on_results = [p for p in fast if p.file.startswith("results")]
    assert on_results
    for p in on_results:
        assert (p.severity == "warning" and p.message.startswith((p.field + " late:", "expected at most 2 checks"))) or (
            p.severity == "error" and p.message.startswith("no working-day calendar")
        ), p


def test_through_loading(tmp_path, monkeypatch):
    """Real CSV files and loading's where map: the fast rules report what the reference reports."""
    out = str(tmp_path / "data")
    demo.write(out, demo.Options(scale=1500, tasks=40))
    loaded = loading.validate_directory(out).dataset
    assert loaded is not None
    rng = random.Random("rules-equivalence/loading")
    res = demo.make_results(loaded, {t.id: [c.code for c in rng.sample(loaded.targets, 10)] for t in loaded.tasks()}, seed=3)
    bad = list(res)
    for i in rng.sample(range(len(bad)), 40):
        r = bad[i]
        bad[i] = rng.choice((
            replace(r, target="P-unknown"),
            replace(r, published=r.inspection_end + timedelta(days=60)),
            replace(r, entered=r.inspection_end - timedelta(days=1)),
            replace(r, items=(replace(r.items[0], codes=(RC.NO_ISSUE, RC.OTHER)),) + r.items[1:]),
            replace(r, version=3, approver_role=ApproverRole.HEAD, correction_reason="更正"),
        ))
    demo.write_results(out, loaded, bad)
    captured = {}
    check = rules.check_dataset

    def spy(ds, **kw):
        captured.update(ds=ds, kw=kw, fast=check(ds, **kw))
        return captured["fast"]

    monkeypatch.setattr(rules, "check_dataset", spy)
    v = loading.validate_directory(out)
    ref = rules_reference.check_dataset(captured["ds"], **captured["kw"])
    assert ref and captured["fast"] == ref and list(v.problems)[-len(ref):] == ref
    assert any(p.file.startswith("results/") and p.location.startswith("line ") for p in ref)
