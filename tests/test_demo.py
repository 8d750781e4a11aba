"""``sunshine demo-data`` and :mod:`sunshine.demo`: the deterministic fictional jurisdiction 示例市."""

from __future__ import annotations

import filecmp
import os
import shutil
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from sunshine import cli, demo, loading, uscc, writing
from sunshine.vocabulary import (
    ApproverRole,
    CreditClass,
    InspectorStatus,
    ItemClass,
    NoticeMode,
    PendingSubCode,
    PersonType,
    RegistrationStatus,
    ResultCode,
    TargetFlag,
    TargetKind,
)
from sunshine.workdays import workdays_between

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
# ledger/, demo-keys/ and results/ come from the draw ceremony run after demo.write (sunshine.demo_ledger):
# tests/test_demo_ledger.py compares the committed ledger and results with a rebuild.
NOT_GENERATED = set(writing.PRESERVED_ENTRIES) | {"results"}


@pytest.fixture(scope="module")
def sample() -> demo.model.Dataset:
    return demo.generate(demo.Options())


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "data"
    demo.write(str(out), demo.Options())
    return out


def _files(root: Path) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel == ".":
            dirnames[:] = [d for d in dirnames if d not in NOT_GENERATED]
        out += [os.path.normpath(os.path.join(rel, f)) for f in filenames]
    return sorted(out)


# --------------------------------------------------------------------------- determinism


def test_committed_data_is_exactly_what_demo_data_writes(sample_dir):
    """data/ == `sunshine demo-data --scale 3000 --out data` (ledger/, demo-keys/, results/: test_demo_ledger)."""
    assert _files(DATA) == _files(sample_dir)
    for rel in _files(sample_dir):
        assert (DATA / rel).read_bytes() == (sample_dir / rel).read_bytes(), (
            f"data/{rel} differs from the generator's output: run "
            "`.venv/bin/sunshine demo-data --scale 3000 --out data --force`"
        )


def test_same_options_give_identical_bytes_other_seed_differs(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    opts = demo.Options(scale=500)
    demo.write(str(a), opts)
    demo.write(str(b), opts)
    demo.write(str(c), demo.Options(scale=500, seed=7))
    cmp = filecmp.dircmp(a, b)
    assert _files(a) == _files(b)
    assert all(filecmp.cmp(a / f, b / f, shallow=False) for f in _files(a)), cmp.diff_files
    assert (a / "targets.csv").read_bytes() != (c / "targets.csv").read_bytes()
    assert (a / "items.yaml").read_bytes() == (c / "items.yaml").read_bytes()  # the catalogue is fixed


def test_streamed_files_load_back_to_the_generated_dataset(sample, sample_dir):
    """writing (demo.write) and loading are inverse: the loaded dataset equals the in-memory one."""
    loaded = loading.load_dataset(sample_dir)
    assert loaded.jurisdiction == sample.jurisdiction
    assert loaded.items == sample.items
    assert loaded.targets == sample.targets
    assert loaded.inspectors == sample.inspectors
    assert loaded.plans == sample.plans
    assert loaded.results == ()


def test_sample_validates_with_only_the_intended_warnings(sample_dir):
    v = loading.validate_directory(sample_dir)
    assert v.errors == []
    assert len(v.warnings) == 2, [str(p) for p in v.warnings]
    for p in v.warnings:  # the two deliberately wrong GB 32100 check characters
        assert p.file == "targets.csv" and p.field == "code" and "USCC check character" in p.message


# --------------------------------------------------------------------------- content of the sample


def test_jurisdiction_is_fictional_and_marked_as_sample(sample, sample_dir):
    j = sample.jurisdiction
    assert j.sample is True
    assert j.name == "示例市" and j.division_code == "379900"
    assert len(j.departments) == 12 and j.office == "amr"
    assert {t.division for t in sample.targets} <= {d for d, _, _ in demo.DIVISIONS}
    readme = (sample_dir / "README.md").read_text(encoding="utf-8")
    assert "虚构" in readme and "fictional" in readme and "sunshine demo-data --scale 3000 --out data" in readme
    assert "results/" in readme  # says why there are no results yet


def test_item_list_has_two_versions_with_both_classes(sample):
    v1, v2 = sample.items.versions
    assert (v1.version, v2.version) == (1, 2) and v1.published < v2.published
    assert len(v1.items) == 40 and len(v2.items) == 42
    assert {i.id for i in v1.items} < {i.id for i in v2.items}
    assert v1.item("AMR-02").legal_basis != v2.item("AMR-02").legal_basis
    classes = Counter(i.item_class for i in v2.items)
    assert classes[ItemClass.FOCUS] >= 10 and classes[ItemClass.GENERAL] >= 10
    for it in v2.items:
        assert (it.ratio_cap is None) == (it.item_class is ItemClass.FOCUS), it.id
        assert it.content and it.legal_basis.startswith("《") and it.subjects == (it.department,)
    assert {i.department for i in v2.items} == {d.id for d in sample.jurisdiction.departments}


def test_targets_codes_kinds_and_attributes(sample):
    targets = sample.targets
    assert len(targets) == 3000
    codes = [t.code for t in targets]
    assert len(set(codes)) == len(codes)
    problems = {c: uscc.describe_problem(c) for c in codes}
    wrong = [c for c, p in problems.items() if p is not None]
    assert len(wrong) == 2 and all(p[0] == "warning" for p in (problems[c] for c in wrong))
    usccs = [c for c in codes if uscc.is_uscc_shape(c)]
    assert len(usccs) > 2800
    for c in usccs:
        if c not in wrong:
            assert uscc.check_character(c[:17]) == c[17]
            assert c[0] == "9" and c[2:8] in demo.DIVISION_NAMES
    legacy = [c for c in codes if uscc.is_legacy_registration_number(c)]
    assert 3 <= len(legacy) <= 40 and all(uscc.legacy_check_ok(c) for c in legacy)
    assert any(c.startswith("P-") for c in codes)

    kinds = Counter(t.kind for t in targets)
    assert {TargetKind.ENTERPRISE, TargetKind.INDIVIDUAL, TargetKind.COOPERATIVE, TargetKind.PROJECT} <= set(kinds)
    assert {t.credit_class for t in targets} == {*CreditClass, None}
    statuses = Counter(t.status for t in targets)
    assert statuses[RegistrationStatus.ACTIVE] > 2500 and statuses[RegistrationStatus.DEREGISTERED] > 50
    flags = Counter(f for t in targets for f in t.flags)
    assert flags[TargetFlag.ABNORMAL] > 100 and set(flags) == set(TargetFlag)
    for t in targets:
        assert t.name and "示例" in t.name or t.name[:3] in {n for _, n, _ in demo.DIVISIONS}


def test_inspectors(sample):
    insp = sample.inspectors
    assert len(insp) == 120
    assert len({i.id for i in insp}) == 120
    types = Counter(i.person_type for i in insp)
    assert types[PersonType.EXPERT] >= 5 and types[PersonType.THIRD_PARTY] >= 1
    assert {i.status for i in insp} == set(InspectorStatus)
    for i in insp:
        assert i.certified_officer == (i.person_type is PersonType.OFFICER)
        assert i.id.startswith(i.department.upper() + "-")
    codes = sample.target_index()
    conflicted = [i for i in insp if i.conflicts]
    assert len(conflicted) >= 3 and all(c in codes for i in conflicted for c in i.conflicts)
    assert any(i.certificate_valid_until and i.certificate_valid_until < date(2026, 1, 1) for i in insp)
    per_dept = Counter(i.department for i in insp)
    assert set(per_dept) == {d.id for d in sample.jurisdiction.departments}


def test_plans_tasks_and_the_rules_they_must_satisfy(sample):
    p25, p26 = sample.plans
    assert (p25.year, p26.year) == (2025, 2026)
    assert [v.version for v in p25.versions] == [1, 2] and len(p26.versions) == 1
    assert len(p25.versions[1].tasks) == len(p25.versions[0].tasks) + 1
    changed = [
        (a.id, a.draw_date, b.draw_date)
        for a, b in zip(p25.versions[0].tasks, p25.versions[1].tasks)
        if a.id == b.id and a != b
    ]
    assert changed == [("2025-05", date(2025, 6, 24), date(2025, 7, 8))]
    tasks = sample.tasks()
    assert len(tasks) == demo.CATALOGUE_TASKS == 23
    assert sum(t.joint for t in tasks) * 3 >= len(tasks)
    assert {t.notice for t in tasks} == set(NoticeMode)
    assert any(s.sealed for t in tasks for s in t.strata)
    assert any(TargetFlag.ABNORMAL in s.flags for t in tasks for s in t.strata)
    joint = [t for t in tasks if t.joint]
    assert sum(t.uses_credit_classes for t in joint) * 10 >= 6 * len(joint)  # 忻州 二(七): ≥ 60 %

    depts = {d.id for d in sample.jurisdiction.departments}
    for plan in sample.plans:
        for pv in plan.versions:
            items = sample.items.in_force(pv.published)
            assert items is not None and pv.filed <= pv.published <= date(plan.year, 3, 31) or pv.version > 1
            covered: set[str] = set()
            in_joint: set[str] = set()
            for t in pv.tasks:
                assert t.lead in depts and set(t.participants) <= depts and t.lead not in t.participants
                first = next(v for v in plan.versions if any(x.id == t.id for x in v.tasks))
                assert first.published < t.draw_date < t.start <= t.end and t.start.year == plan.year
                caps = [items.item(i).ratio_cap for i in t.items if items.item(i).ratio_cap is not None]
                for s in t.strata:  # 玉林 三(二): never above the cap of a 一般 item
                    assert not caps or s.ratio <= min(caps), (t.id, s.id)
                assert t.strata[-1].remainder
                for dept in t.departments:  # every department has an item of the task to check
                    assert any(dept in items.item(i).subjects for i in t.items), (t.id, dept)
                covered |= set(t.items)
                if t.joint:
                    in_joint |= set(t.departments)
            if pv is plan.current:
                assert covered == {i.id for i in items.items}, plan.year  # 淄博 第七条
                assert in_joint == depts, plan.year


def test_large_scale_adds_narrowed_tasks_and_scales_inspectors():
    opts = demo.Options(scale=200_000)
    assert opts.task_count() == 400 and opts.inspector_count() == 800
    items = demo.item_list()
    plans = demo.plans(items, 400)
    tasks = [t for p in plans for t in p.current.tasks]
    assert len(tasks) == 400 and len({t.id for t in tasks}) == 400
    extra = [t for t in tasks if t.scope.divisions and len(t.scope.divisions) == 1]
    assert len(extra) >= 400 - demo.CATALOGUE_TASKS
    assert all(t.id.startswith(f"{t.year}-") and len(t.id) == 8 for t in tasks)  # "2025-001"
    with pytest.raises(ValueError, match="expected at least 23"):
        demo.plans(items, 5)


# --------------------------------------------------------------------------- the command


def test_cli_writes_refuses_non_empty_and_force_keeps_the_ledger(tmp_path, capsys):
    out = tmp_path / "d"
    assert cli.main(["demo-data", "--scale", "100", "--out", str(out), "--no-ledger"]) == 0
    assert "100 targets" in capsys.readouterr().out
    before = (out / "targets.csv").read_bytes()

    assert cli.main(["demo-data", "--scale", "150", "--out", str(out), "--no-ledger"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "non-empty" in err and "hint: pass --force" in err
    assert (out / "targets.csv").read_bytes() == before

    (out / "ledger").mkdir()
    (out / "ledger" / "checkpoint").write_text("keep me\n")
    (out / "demo-keys").mkdir()
    (out / "stray.txt").write_text("replaced\n")
    assert cli.main(["demo-data", "--scale", "150", "--out", str(out), "--force", "--no-ledger"]) == 0
    captured = capsys.readouterr()
    assert "kept ledger/, demo-keys/" in captured.err
    assert (out / "ledger" / "checkpoint").read_text() == "keep me\n"
    assert (out / "demo-keys").is_dir() and not (out / "stray.txt").exists()
    assert sum(1 for _ in open(out / "targets.csv", encoding="utf-8")) == 151
    assert not (tmp_path / "d.tmp").exists() and not (tmp_path / "d.old").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--scale", "10"], "--scale: expected at least 100 targets, got 10"),
        (["--tasks", "3"], "--tasks: expected at least 23"),
        (["--inspectors", "5"], "--inspectors: expected at least 60, got 5"),
    ],
)
def test_cli_rejects_bad_options_with_a_clear_error(tmp_path, capsys, args, message):
    assert cli.main(["demo-data", "--out", str(tmp_path / "x"), *args]) == 1
    assert f"error: {message}" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_cli_out_is_a_file(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert cli.main(["demo-data", "--scale", "100", "--out", str(f)]) == 1
    assert "expected a directory, got a file" in capsys.readouterr().err


def test_a_failure_while_writing_leaves_the_previous_directory_untouched(tmp_path, monkeypatch):
    out = tmp_path / "d"
    demo.write(str(out), demo.Options(scale=100))
    snapshot = {f: (out / f).read_bytes() for f in _files(out)}

    calls = {"n": 0}
    real = writing.write_csv

    def crash_on_second(*a, **kw):  # targets.csv succeeds, inspectors.csv crashes
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        return real(*a, **kw)

    monkeypatch.setattr(writing, "write_csv", crash_on_second)
    with pytest.raises(OSError):
        demo.write(str(out), demo.Options(scale=200), force=True)
    assert {f: (out / f).read_bytes() for f in _files(out)} == snapshot
    assert not (tmp_path / "d.tmp").exists()

    monkeypatch.setattr(writing, "write_csv", crash_on_second)
    calls["n"] = 0
    assert cli.main(["demo-data", "--scale", "200", "--out", str(tmp_path / "new"), "--no-ledger"]) == 1
    assert not (tmp_path / "new").exists() and not (tmp_path / "new.tmp").exists()


# --------------------------------------------------------------------------- results


def _selections(ds: demo.model.Dataset) -> dict[str, list[str]]:
    """A stand-in for the draw engine: each task's first sample-size targets (by code) of each stratum."""
    out = {}
    for t in ds.tasks():
        pool = sorted((x for x in ds.targets if t.scope.matches(x)), key=lambda x: x.code)
        chosen = []
        rest = pool
        for s in t.strata:
            if s.remainder:
                members, rest = rest, []
            else:
                member = [x.credit_class in s.credit_classes or bool(x.flags & set(s.flags)) for x in rest]
                members = [x for x, m in zip(rest, member) if m]
                rest = [x for x, m in zip(rest, member) if not m]
            chosen += [x.code for x in members[: s.sample_size(len(members))]]
        out[t.id] = chosen
    return out


@pytest.fixture(scope="module")
def results(sample):
    sel = _selections(sample)
    # a drawn target may since have been deregistered: the result then says so (淄博 第十八条)
    dereg = next(x.code for x in sample.targets if x.status is RegistrationStatus.DEREGISTERED and x.kind is TargetKind.ENTERPRISE)
    sel["2025-10"] = [*sel["2025-10"], dereg]
    return sel, demo.make_results(sample, sel, seed=1), dereg


def test_results_belong_to_drawn_targets_and_follow_the_vocabulary(sample, results):
    sel, res, dereg = results
    assert len(res) > 500
    index = sample.target_index()
    items = {i.id: i for i in sample.items.current.items}
    for r in res:
        task = sample.task(r.task)
        assert r.target in sel[r.task] and r.department in task.departments
        for ir in r.items:
            it = items[ir.item]
            assert ir.item in task.items and r.department in it.subjects and index[r.target].kind in it.target_kinds
            if ResultCode.NO_ISSUE in ir.codes:
                assert ir.codes == (ResultCode.NO_ISSUE,)
            assert bool(ir.sub_codes) == (ResultCode.ISSUE_PENDING in ir.codes)
        assert task.start <= r.inspection_end <= task.end
        assert r.inspection_end <= r.entered <= r.published
    codes = Counter(c for r in res if r.version == 1 for c in r.codes)
    assert codes[ResultCode.NO_ISSUE] > 0.6 * sum(codes.values())
    assert {ResultCode.ISSUE_CORRECTED, ResultCode.ISSUE_PENDING, ResultCode.NO_ACTIVITY, ResultCode.CLOSED} <= set(codes)
    assert any(PendingSubCode.UNREACHABLE in ir.sub_codes for r in res for ir in r.items)
    assert all(r.codes == (ResultCode.DEREGISTERED,) for r in res if r.target == dereg)


def test_results_have_late_publications_and_corrections(sample, results):
    _, res, _ = results
    late = [r for r in res if r.version == 1 and workdays_between(r.inspection_end, r.published) > 20]
    assert 1 <= len(late) <= 0.05 * len(res)
    v2 = [r for r in res if r.version == 2]
    assert len(v2) >= 2
    originals = {(r.task, r.target, r.department): r for r in res if r.version == 1}
    for c in v2:
        o = originals[(c.task, c.target, c.department)]
        assert c.approver_role is ApproverRole.HEAD and c.correction_reason
        assert c.published > o.published and c.items != o.items
    assert any(r.approver_role is ApproverRole.DEPUTY_HEAD for r in res)


def test_results_are_deterministic_and_until_leaves_out_later_publications(sample, results):
    sel, res, _ = results
    assert demo.make_results(sample, sel, seed=1) == res
    assert demo.make_results(sample, sel, seed=2) != res
    cut = date(2026, 9, 30)
    early = demo.make_results(sample, sel, seed=1, until=cut)
    assert early == [r for r in res if r.published <= cut] and len(early) < len(res)
    assert demo.make_results(sample, {}, seed=1) == []


def test_results_csv_round_trips_through_the_loader(sample, sample_dir, results, tmp_path):
    _, res, _ = results
    d = tmp_path / "data"
    shutil.copytree(sample_dir, d)
    written = demo.write_results(str(d), sample, res)
    assert written == ["results/2025.csv", "results/2026.csv"]
    header = (d / "results" / "2025.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(writing.RESULT_COLUMNS)
    v = loading.validate_directory(d)
    assert v.errors == [], [str(p) for p in v.errors[:5]]
    assert set(v.dataset.results) == set(res)
    late_warnings = [p for p in v.warnings if p.file.startswith("results/")]
    assert late_warnings, "the deliberately late publications are flagged"


# --------------------------------------------------------------------------- benchmark (slow)


@pytest.mark.slow
def test_foundation_benchmark_runs_at_a_small_scale():
    """bench/bench_foundation.py end to end at 20,000 targets: generates, validates, prints the figures."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_foundation.py"), "--scale", "20000"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "20,000 targets" in out and "40 tasks" in out
    for line in ("generate (sunshine demo-data)", "validate (sunshine validate)", "validate peak RSS"):
        assert line in out and "MISSED" not in out


def test_every_task_of_the_sample_can_form_its_inspection_groups(sample):
    """With the stand-in selection, the matching engine finds a full team for every drawn target:
    leaders with the task's qualifications, officers from every department, experts where asked."""
    from sunshine import draw_inputs, matching

    sel = _selections(sample)
    for t in sample.tasks():
        pool = set(sel[t.id])
        records = [
            r
            for i in sorted(sample.inspectors, key=lambda i: i.id)
            if i.department in t.departments and (r := draw_inputs._inspector_record(i, t.draw_date, pool))
        ]
        team = {
            "min_officers": t.team.min_officers,
            "per_department": t.team.per_department,
            "experts": t.team.experts,
            "qualifications": sorted(t.team.qualifications),
        }
        state = matching.MatchState.create(b"\x07" * 32, records, t.lead, t.participants, team)
        teams = [state.assign(code) for code in sel[t.id]]
        assert len(teams) == len(sel[t.id]) > 0, t.id


def test_make_results_rejects_unknown_tasks_and_targets(sample):
    with pytest.raises(ValueError, match="expected task ids of the plans, got '1999-01'"):
        demo.make_results(sample, {"1999-01": []}, seed=1)
    with pytest.raises(ValueError, match="expected codes of the target directory"):
        demo.make_results(sample, {"2025-01": ["91379902NOPE00000X"]}, seed=1)


# --------------------------------------------------------------------------- writing (model → files)


def test_ratio_formatting_round_trips_through_the_loader():
    from fractions import Fraction

    for r, text in [(Fraction(1, 20), "5%"), (Fraction(1, 5), "20%"), (Fraction(1, 200), "1/200"), (Fraction(1, 3), "1/3")]:
        assert writing.format_ratio(r) == text
        assert loading.parse_ratio(text) == r


def test_tricky_names_survive_the_csv_writer_and_the_loader(sample_dir, tmp_path):
    d = tmp_path / "data"
    shutil.copytree(sample_dir, d)
    base = loading.load_dataset(d)
    names = ['示例市"金盾"安防有限公司', "示例市甲,乙商贸有限公司", "示例市（北区）丙店", "=1+1示例店", " 示例市空格店"]
    extra = []
    for n, name in enumerate(names):
        first17 = f"9137990250{n:07d}"
        extra.append(base.targets[0].__class__(
            first17 + uscc.check_character(first17), name, TargetKind.ENTERPRISE, "379902", ("F5212", "H6210"),
            RegistrationStatus.ACTIVE, frozenset({TargetFlag.ABNORMAL, TargetFlag.COMPLAINTS}), CreditClass.C,
            date(2020, 2, 29)))
    writing.write_csv(str(d / "targets.csv"), writing.TARGET_COLUMNS, (writing.target_row(t) for t in (*base.targets, *extra)))
    v = loading.validate_directory(d)
    assert v.errors == []
    loaded = {t.code: t for t in v.dataset.targets}
    for t in extra:  # quotes, commas, brackets, a leading "=" and a leading space: all kept exactly
        assert loaded[t.code] == t
