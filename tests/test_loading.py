"""Strict loading of a data directory (sunshine.loading) and `sunshine validate`.

The broken-input table mutates one thing in the hand-made fixture tests/fixtures/mini and asserts the
exact message: file, line or entry path (with the YAML line), field, what was expected and what was found.
The messages are the project's own wording (docs/data-format.md), checked by hand when written.
"""

from __future__ import annotations

import json
import shutil
from fractions import Fraction
from pathlib import Path

import pytest

from sunshine import cli, loading, model
from sunshine.errors import DataError, SunshineError
from sunshine.vocabulary import RegistrationStatus, ResultCode, TargetKind

MINI = Path(__file__).parent / "fixtures" / "mini"


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    shutil.copytree(MINI, d)
    return d


def mutate(d: Path, file: str, old: str, new: str) -> None:
    p = d / file
    text = p.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {file}"
    if new == "GBK":  # the same text, saved as GBK (a common Excel export mistake)
        p.write_bytes(text.encode("utf-8").replace(old.encode("utf-8"), old.encode("gbk")))
    else:
        p.write_text(text.replace(old, new), encoding="utf-8")


def messages(v: loading.Validation) -> list[tuple[str, str]]:
    return [(p.severity, str(p)) for p in v.problems]


def test_mini_fixture_is_valid():
    v = loading.validate_directory(MINI)
    assert v.problems == ()
    ds = v.dataset
    assert ds is not None
    assert [d.id for d in ds.jurisdiction.departments] == ["amr", "health"]
    assert ds.jurisdiction.settings.credit_use_target == Fraction(3, 5)  # a YAML float, read exactly
    assert ds.jurisdiction.settings.entry_within_workdays == 3
    assert len(ds.items.versions) == 2 and ds.items.current.item("HEALTH-02").ratio_cap == Fraction(1, 10)
    assert ds.items.versions[0].item("AMR-03").ratio_cap is None
    assert len(ds.targets) == 9
    t = ds.target_index()["91379902MA3K00149U"]
    assert t.name == "示例市辛商贸有限公司（含\"引号\"）"  # a quoted CSV cell with doubled quotes
    assert ds.target_index()["92379903MA3H00135L"].status is RegistrationStatus.DEREGISTERED
    assert ds.target_index()["P-2025-0001"].kind is TargetKind.PRODUCT
    assert len(ds.inspectors) == 7 and ds.inspectors[1].conflicts == frozenset({"91379902MA3F00121N"})
    [plan] = ds.plans
    assert [v.version for v in plan.versions] == [1, 2]
    assert plan.versions[1].tasks[0] == plan.versions[0].tasks[0]  # the YAML alias *t1
    t2 = ds.task("2025-02")
    assert t2.participants == ("health",) and t2.joint
    assert [s.ratio for s in t2.strata] == [Fraction(1, 10), Fraction(1, 20)]
    assert t2.strata[1].remainder and t2.strata[0].sealed
    assert len(ds.results) == 5
    r = [x for x in ds.results if x.target == "91379902MA3J00142K" and x.department == "health"][0]
    assert [ir.item for ir in r.items] == ["HEALTH-02", "AMR-03"]
    assert r.items[1].codes == (ResultCode.CLOSED, ResultCode.OTHER)
    corr = [x for x in ds.results if x.version == 2][0]
    assert corr.correction_reason == "原录入结果有误，经复核更正"


# Each case: file, text to replace (must occur once), replacement, severity, the exact message.
BROKEN = [
    pytest.param('jurisdiction.yaml', 'office: amr\n', 'office: [amr\n', 'error', "jurisdiction.yaml, line 6, column 7: YAML syntax error: while parsing a flow sequence: expected ',' or ']', but got ':'", id='yaml-syntax'),
    pytest.param('jurisdiction.yaml', 'sample: true', 'smaple: true', 'error', "jurisdiction.yaml, line 6, field 'smaple': unknown field 'smaple' (expected one of id, name, division_code, origin, office, departments, sample, settings, site); did you mean 'sample'?", id='yaml-unknown-key'),
    pytest.param('jurisdiction.yaml', 'origin: sunshine.example/shiyi\n', '', 'error', "jurisdiction.yaml, line 1, field 'origin': required field is missing", id='yaml-missing-key'),
    pytest.param('jurisdiction.yaml', 'division_code: "379900"', 'division_code: 379900', 'error', 'jurisdiction.yaml, line 3, field \'division_code\': expected a string (quote it: "379900"), got the number 379900', id='yaml-unquoted-code'),
    pytest.param('jurisdiction.yaml', 'plan_deadline: "03-31"', 'plan_deadline: "02-30"', 'error', "jurisdiction.yaml, settings (line 11), field 'plan_deadline': expected a day of the year MM-DD such as '03-31', got '02-30'", id='settings-mmdd'),
    pytest.param('jurisdiction.yaml', 'min_officers_per_group: 2', 'min_officers_per_group: 1', 'error', "jurisdiction.yaml, settings (line 14), field 'min_officers_per_group': expected an integer >= 2, got 1", id='settings-min-officers'),
    pytest.param('jurisdiction.yaml', '{id: health,', '{id: amr,', 'error', "jurisdiction.yaml, departments[1] (line 18), field 'id': duplicate department id 'amr' (first at departments[0] (line 17))", id='dept-duplicate'),
    pytest.param('jurisdiction.yaml', 'office: amr', 'office: police', 'error', "jurisdiction.yaml, line 5, field 'office': expected one of the departments (amr, health), got 'police'", id='office-unknown'),
    pytest.param('items.yaml', '    note: 增加卫生健康委事项\n', '    note: 增加卫生健康委事项\n    published: 2025-03-02\n', 'error', "items.yaml, line 29, field 'published': duplicate key 'published' (first on line 27)", id='yaml-duplicate-key'),
    pytest.param('items.yaml', '        class: focus\n        subjects: [amr, health]', '        class: important\n        subjects: [amr, health]', 'error', "items.yaml, versions[1].items[1] (line 45), field 'class': expected one of focus, general, got 'important'", id='item-class'),
    pytest.param('items.yaml', '        class: focus\n        subjects: [amr, health]', '        class: focus\n        ratio_cap: 10%\n        subjects: [amr, health]', 'error', "items.yaml, versions[1].items[1] (line 46), field 'ratio_cap': expected no ratio_cap for a focus (重点) item (玉林 三(二)), got '10%'", id='item-focus-cap'),
    pytest.param('items.yaml', '        ratio_cap: 1/10\n', '', 'error', "items.yaml, versions[1].items[2] (line 51), field 'ratio_cap': expected a ratio_cap for a general (一般) item (玉林 三(二)), got none", id='item-general-no-cap'),
    pytest.param('items.yaml', '        ratio_cap: 1/10\n', '        ratio_cap: 10 percent\n', 'error', "items.yaml, versions[1].items[2] (line 60), field 'ratio_cap': expected a ratio such as '5%', '1/20' or '0.05', got '10 percent'", id='item-bad-ratio'),
    pytest.param('items.yaml', '        ratio_cap: 1/10\n', '        ratio_cap: 3/2\n', 'error', "items.yaml, versions[1].items[2] (line 60), field 'ratio_cap': expected a ratio in (0, 1], got '3/2'", id='item-ratio-over-one'),
    pytest.param('items.yaml', '      - id: HEALTH-02', '      - id: AMR-03', 'error', "items.yaml, versions[1].items[2] (line 51), field 'id': duplicate item id 'AMR-03' in this version (first at versions[1].items[1] (line 42))", id='item-duplicate'),
    pytest.param('items.yaml', '  - version: 2', '  - version: 3', 'error', "items.yaml, versions[1] (line 26), field 'version': expected 2 (versions are numbered 1, 2, … in file order), got 3", id='item-version-gap'),
    pytest.param('items.yaml', 'published: 2025-03-01', 'published: 2025-02-30', 'error', "items.yaml, line 27, column 16: invalid value: expected a valid date YYYY-MM-DD, got '2025-02-30' (no such day)", id='item-bad-date'),
    pytest.param('items.yaml', 'subjects: [amr, health]', 'subjects: [amr, police]', 'error', "items.yaml, versions[1].items[1] (line 42), field 'subjects': expected a department of jurisdiction.yaml (amr, health), got 'police'", id='item-unknown-subject'),
    pytest.param('items.yaml', '        department: health\n        name: 公共场所卫生许可及卫生状况的检查\n        class: general\n        subjects: [health]', '        department: health\n        name: 公共场所卫生许可及卫生状况的检查\n        class: general\n        subjects: [amr]', 'error', "items.yaml, versions[1].items[2] (line 51), field 'subjects': expected the holding department 'health' among the subjects, got amr", id='item-holder-not-subject'),
    pytest.param('targets.csv', '乙副食店,individual,', '乙副食店,company,', 'error', "targets.csv, line 3, field 'kind': expected one of enterprise, individual, cooperative, product, project, activity, got 'company'", id='target-kind'),
    pytest.param('targets.csv', '91379903MA3G00128D', '91379903MA3G00128E', 'warning', "targets.csv, line 6, field 'code': USCC check character: expected 'D', got 'E' (GB 32100)", id='target-bad-check'),
    pytest.param('targets.csv', '91379903MA3G00128D', '9137990-MA3G00128D', 'error', "targets.csv, line 6, field 'code': expected an 18-character USCC (GB 32100), a 15-digit registration number or an opaque id 'P-…', got '9137990-MA3G00128D'", id='target-garbage-code'),
    pytest.param('targets.csv', '91379902MA3K00149U', '91379902MA3C00100R', 'error', "targets.csv, line 9, field 'code': duplicate code '91379902MA3C00100R' (first on line 2)", id='target-duplicate'),
    pytest.param('targets.csv', '2020-01-08', '2020-13-08', 'error', "targets.csv, line 8, field 'established': expected a valid date YYYY-MM-DD, got '2020-13-08' (no such day)", id='target-bad-date'),
    pytest.param('targets.csv', 'credit_class,established', 'credit,established', 'error', "targets.csv, line 1, field 'credit': unknown column 'credit' (expected one of code, name, kind, division, status, industries, flags, credit_class, established); did you mean 'credit_class'?", id='target-unknown-column'),
    pytest.param('targets.csv', ',status,', ',state,', 'error', "targets.csv, line 1, field 'state': unknown column 'state' (expected one of code, name, kind, division, status, industries, flags, credit_class, established); did you mean 'status'?", id='target-missing-column'),
    pytest.param('targets.csv', 'A0141,active,new,,2024-12-01', 'A0141,active,new,2024-12-01', 'error', 'targets.csv, line 4: expected 9 fields as in the header, got 8', id='target-field-count'),
    pytest.param('targets.csv', '示例市戊超市有限公司', 'GBK', 'error', "targets.csv, line 6: expected UTF-8 text, got byte 0xC0 at byte offset 520 (save the file as UTF-8, e.g. Excel 'CSV UTF-8'; GBK is not accepted)", id='target-gbk'),
    pytest.param('targets.csv', 'complaints;key_industry', 'complaints;vip', 'error', "targets.csv, line 5, field 'flags': expected one of abnormal, serious_illegal, complaints, key_industry, new, got 'vip'", id='target-flag'),
    pytest.param('targets.csv', '379903,F5211', '37993,F5211', 'error', "targets.csv, line 6, field 'division': expected a 6-digit 行政区划代码, got '37993'", id='target-division'),
    pytest.param('targets.csv', 'H6110', '6110', 'error', "targets.csv, line 5, field 'industries': expected GB/T 4754 codes such as 'F5211', got '6110'", id='target-industry'),
    pytest.param('inspectors.csv', 'officer,37990200003,', 'officer,,', 'error', "inspectors.csv, line 4, field 'certificate_no': expected a 执法证号 for an officer (person_type officer), got nothing", id='inspector-no-cert'),
    pytest.param('inspectors.csv', 'licence,,active,,5', 'licence,,active,,five', 'error', "inspectors.csv, line 4, field 'capacity': expected an integer >= 1, got 'five'", id='inspector-capacity'),
    pytest.param('inspectors.csv', '91379902MA3F00121N', '91379902MA3F00121X', 'warning', "inspectors.csv, line 3, field 'conflicts': expected a target code of targets.csv, got '91379902MA3F00121X' (unknown target)", id='inspector-conflict-unknown'),
    pytest.param('inspectors.csv', 'HEALTH-002,health,', 'HEALTH-002,police,', 'error', "inspectors.csv, line 7, field 'department': expected a department of jurisdiction.yaml (amr, health), got 'police'", id='inspector-dept'),
    pytest.param('inspectors.csv', '示例庚,expert,', '示例庚,specialist,', 'error', "inspectors.csv, line 8, field 'person_type': expected one of officer, expert, third_party, got 'specialist'", id='inspector-type'),
    pytest.param('plans/2025.yaml', 'ratio: "5%"}', 'ratio: "8%"}', 'error', "plans/2025.yaml, versions[0].tasks[0] (line 9), field 'strata[0].ratio': expected at most 5% (ratio_cap of general item AMR-01, 玉林 三(二)), got 8%", id='plan-ratio-cap'),
    pytest.param('plans/2025.yaml', '{id: high, label: 高风险, credit_classes: [C, D], ratio: 0.1}', '{id: high, label: 高风险, ratio: 0.1}', 'error', "plans/2025.yaml, versions[1].tasks[1] (line 31), field 'strata[1]': expected at most one remainder stratum (without credit_classes or flags), got a second one (strata[0] is the first)", id='plan-two-remainders'),
    pytest.param('plans/2025.yaml', 'items: [AMR-01]', 'items: [AMR-01, AMR-99]', 'error', "plans/2025.yaml, versions[0].tasks[0] (line 9), field 'items': expected an item of the item list in force on 2025-04-10 (version 2), got 'AMR-99'", id='plan-item-not-in-list'),
    pytest.param('plans/2025.yaml', 'draw_date: 2025-09-01', 'draw_date: 2025-02-20', 'error', "plans/2025.yaml, versions[1].tasks[1] (line 31), field 'items': expected an item of the item list in force on 2025-02-20 (version 1), got 'HEALTH-02'", id='plan-item-before-list'),
    pytest.param('plans/2025.yaml', 'draw_date: 2025-04-10', 'draw_date: 2025-04-20', 'error', "plans/2025.yaml, versions[0].tasks[0] (line 9), field 'draw_date': expected a date on or before start (2025-04-15), got 2025-04-20", id='plan-draw-after-start'),
    pytest.param('plans/2025.yaml', 'participants: []', 'participants: [health]', 'error', "plans/2025.yaml, versions[0].tasks[0] (line 9), field 'participants': expected a department that is a subject (抽查主体) of one of the task's items (amr), got 'health'", id='plan-participant-not-subject'),
    pytest.param('plans/2025.yaml', 'lead: amr\n        participants: [health]', 'lead: police\n        participants: [health]', 'error', "plans/2025.yaml, versions[1].tasks[1] (line 31), field 'lead': expected a department of jurisdiction.yaml (amr, health), got 'police'", id='plan-lead-unknown'),
    pytest.param('plans/2025.yaml', 'team: {min_officers: 2, per_department: 2', 'team: {min_officers: 1, per_department: 2', 'error', "plans/2025.yaml, versions[0].tasks[0].team (line 20), field 'min_officers': expected an integer >= 2, got 1", id='plan-team-min'),
    pytest.param('plans/2025.yaml', 'year: 2025', 'year: 2024', 'error', "plans/2025.yaml, line 1, field 'year': expected 2025 (the file name), got 2024", id='plan-year-mismatch'),
    pytest.param('plans/2025.yaml', 'filed: 2025-03-20', 'filed: 2025-03-26', 'error', "plans/2025.yaml, versions[1] (line 25), field 'published': expected a date on or after filed (2025-03-26), got 2025-03-25", id='plan-filed-after-published'),
    pytest.param('plans/2025.yaml', 'published: 2025-02-28', 'published: 2025-04-02', 'warning', "plans/2025.yaml, versions[0] (line 4), field 'published': plan published late: expected on or before 2025-03-31 (plan_deadline 03-31, 环翠 二(四)), got 2025-04-02", id='plan-late'),
    pytest.param('plans/2025.yaml', 'ratio: 1/20, minimum: 1}', 'ration: 1/20, minimum: 1}', 'error', "plans/2025.yaml, versions[1].tasks[1].strata[1] (line 39), field 'ration': unknown field 'ration' (expected one of id, label, ratio, credit_classes, flags, minimum); did you mean 'ratio'?", id='plan-strata-typo'),
    pytest.param('plans/2025.yaml', 'notice: no_notice', 'notice: secret', 'error', "plans/2025.yaml, versions[1].tasks[1] (line 40), field 'notice': expected one of notified, no_notice, got 'secret'", id='plan-notice'),
    pytest.param('plans/2025.yaml', '          - {id: abnormal, label: 经营异常, flags: [abnormal], ratio: "5%"}\n          - {id: rest, label: 其他, ratio: "3%", minimum: 1}', '          - {id: rest, label: 其他, ratio: "3%", minimum: 1}\n          - {id: abnormal, label: 经营异常, flags: [abnormal], ratio: "5%"}', 'error', "plans/2025.yaml, versions[0].tasks[0] (line 9), field 'strata[0]': expected the remainder stratum (without credit_classes or flags) last, since the first match wins", id='plan-remainder-not-last'),
    pytest.param('results/2025.csv', 'AMR-01,no_issue,', 'AMR-01,no_issue;other,', 'error', "results/2025.csv, line 2, field 'codes': expected no_issue alone, got it with other", id='result-no-issue-not-alone'),
    pytest.param('results/2025.csv', 'issue_pending,not_publicised;unreachable,', 'issue_pending,,', 'error', "results/2025.csv, line 3, field 'sub_codes': expected at least one sub-code with issue_pending, got nothing", id='result-pending-no-sub'),
    pytest.param('results/2025.csv', 'HEALTH-02,no_issue,,', 'HEALTH-02,no_issue,unreachable,', 'error', "results/2025.csv, line 6, field 'sub_codes': expected no sub-codes without issue_pending, got unreachable", id='result-sub-without-pending'),
    pytest.param('results/2025.csv', '2025-01,91379902MA3C00100R,amr,', '2025-01,91379902MA3C00100R,health,', 'error', "results/2025.csv, line 2, field 'department': expected one of the task's departments (amr), got 'health'", id='result-dept-not-task'),
    pytest.param('results/2025.csv', '91379902MA3C00100R,amr,AMR-01', '91379902MA3C00100R,amr,AMR-03', 'error', "results/2025.csv, line 2, field 'item': expected one of the task's items (AMR-01), got 'AMR-03'", id='result-item-not-task'),
    pytest.param('results/2025.csv', 'amr,AMR-03,issue_corrected', 'amr,HEALTH-02,issue_corrected', 'error', "results/2025.csv, line 5, field 'department': expected a subject (抽查主体) of item HEALTH-02 (health), got 'amr'", id='result-dept-not-subject'),
    pytest.param('results/2025.csv', '2025-07-01,head,2', '2025-07-01,deputy_head,2', 'error', "results/2025.csv, line 4, field 'approver_role': expected head (主要负责人) for a correction (version 2, 淄博 第十九条), got deputy_head", id='result-correction-role'),
    pytest.param('results/2025.csv', ',原录入结果有误，经复核更正', ',', 'error', "results/2025.csv, line 4, field 'correction_reason': expected a reason for the correction (version 2), got nothing", id='result-correction-reason'),
    pytest.param('results/2025.csv', '2025-05-28,deputy_head,1,', '2025-05-28,deputy_head,1,补录', 'error', "results/2025.csv, line 2, field 'correction_reason': expected no correction_reason on version 1, got '补录'", id='result-reason-on-v1'),
    pytest.param('results/2025.csv', '2025-07-01,head,2,', '2025-07-01,head,3,', 'error', "results/2025.csv, line 4, field 'version': expected version 2 (versions of a result are 1, 2, … without gaps; found 1, 3), got 3", id='result-version-gap'),
    pytest.param('results/2025.csv', '2025-05-20,2025-05-21', '2025-05-20,2025-05-19', 'error', "results/2025.csv, line 2, field 'entered': expected a date on or after inspection_end (2025-05-20), got 2025-05-19", id='result-entered-before-end'),
    pytest.param('results/2025.csv', '2025-09-26,2025-09-29,2025-10-30', '2025-09-26,2025-09-29,2025-10-31', 'warning', "results/2025.csv, line 5, field 'published': published late: expected on or before 2025-10-30 (20 working days after inspection_end 2025-09-26, 淄博 第十七条(四)), got 2025-10-31 (1 working day late)", id='result-late'),
    pytest.param('results/2025.csv', '2025-09-26,2025-09-29,2025-10-30', '2025-09-26,2025-10-09,2025-10-30', 'warning', "results/2025.csv, line 5, field 'entered': entered late: expected on or before 2025-09-30 (3 working days after inspection_end 2025-09-26, 淄川 附件2), got 2025-10-09 (1 working day late)", id='result-entry-late'),
    pytest.param('results/2025.csv', 'issue_corrected,,已改正', 'passed,,已改正', 'error', "results/2025.csv, line 4, field 'codes': expected one of no_issue, issue_pending, issue_corrected, no_activity, closed, uncooperative, deregistered, revoked, cancelled, moved_out, other, got 'passed'", id='result-code'),
    pytest.param('results/2025.csv', 'closed;other,,,2025-09-26,2025-09-28', 'closed;other,,,2025-09-26,2025-09-27', 'error', "results/2025.csv, line 7, field 'entered': expected '2025-09-28' as on line 6 (same task, target, department and version), got '2025-09-27'", id='result-group-mismatch'),
    pytest.param('results/2025.csv', '2025-01,91379902MA3C00100R', '2025-09,91379902MA3C00100R', 'error', "results/2025.csv, line 2, field 'task': expected a task of plans/<year>.yaml, got '2025-09' (unknown task)", id='result-unknown-task'),
    pytest.param('results/2025.csv', '2025-01,91379902MA3C00100R', '2025-01,91379902MA3C00101P', 'error', "results/2025.csv, line 2, field 'target': expected a target code of targets.csv, got '91379902MA3C00101P' (unknown target)", id='result-unknown-target'),
    pytest.param('results/2025.csv', '2025-07-01,head,2,', '2025-07-01,head,0,', 'error', "results/2025.csv, line 4, field 'version': expected an integer >= 1, got 0", id='result-bad-version'),
    pytest.param('results/2025.csv', '2025-02,91379902MA3J00142K,health,AMR-03', '2025-02,91379902MA3J00142K,health,HEALTH-02', 'error', "results/2025.csv, line 7, field 'item': duplicate item 'HEALTH-02' in the same result (first on line 6)", id='result-duplicate-item'),
]


@pytest.mark.parametrize("file, old, new, severity, message", BROKEN)
def test_broken_input_table(mini, file, old, new, severity, message):
    mutate(mini, file, old, new)
    v = loading.validate_directory(mini)
    assert (severity, message) in messages(v), "\n".join(m for _, m in messages(v))
    if severity == "error":
        assert not v.ok
        with pytest.raises(DataError) as exc:
            loading.load_dataset(mini)
        assert message in str(exc.value) or exc.value.problems  # all problems travel with the error


def test_the_table_is_large_and_distinct():
    assert len(BROKEN) >= 30
    assert len({p.values[4] for p in BROKEN}) == len(BROKEN)  # every case has its own message


# --------------------------------------------------------------------------- CSV details


def test_bom_and_crlf_are_tolerated(mini):
    plain = loading.validate_directory(mini).dataset
    for name in ("targets.csv", "inspectors.csv", "results/2025.csv"):
        p = mini / name
        text = p.read_text(encoding="utf-8")
        p.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    v = loading.validate_directory(mini)
    assert v.problems == ()
    assert v.dataset.targets == plain.targets
    assert v.dataset.inspectors == plain.inspectors
    assert v.dataset.results == plain.results


def test_line_numbers_are_physical_lines_across_quoted_newlines(mini):
    # A note spanning two physical lines: the next row's problem is reported on its own physical line.
    mutate(mini, "results/2025.csv", ",责令限期改正,", ',"责令限期改正\n（第二行）",')
    mutate(mini, "results/2025.csv", "closed;other", "closed;gone")
    v = loading.validate_directory(mini)
    assert ("error", "results/2025.csv, line 8, field 'codes': expected one of no_issue, issue_pending, "
            "issue_corrected, no_activity, closed, uncooperative, deregistered, revoked, cancelled, moved_out, "
            "other, got 'gone'") in messages(v)


def test_all_errors_of_all_files_at_once(mini):
    mutate(mini, "targets.csv", "乙副食店,individual,", "乙副食店,company,")
    mutate(mini, "targets.csv", "2020-01-08", "08/01/2020")
    mutate(mini, "inspectors.csv", "licence,,active,,5", "licence,,active,,-1")
    mutate(mini, "items.yaml", "        ratio_cap: 1/10\n", "        ratio_cap: 0\n")
    mutate(mini, "plans/2025.yaml", "notice: no_notice", "notice: secret")
    mutate(mini, "results/2025.csv", "2025-07-01,head,2", "2025-07-01,boss,2")
    v = loading.validate_directory(mini)
    files = [p.file for p in v.errors]
    assert files == ["items.yaml", "targets.csv", "targets.csv", "inspectors.csv", "plans/2025.yaml", "results/2025.csv"]
    assert v.dataset is None
    with pytest.raises(DataError) as exc:
        loading.load_dataset(mini)
    assert len([p for p in exc.value.problems if p.severity == "error"]) == 6
    assert "targets.csv, line 8, field 'established': expected a date YYYY-MM-DD, got '08/01/2020'" in str(exc.value)


def test_empty_lines_are_skipped_and_empty_file_is_reported(mini):
    p = mini / "inspectors.csv"
    p.write_text(p.read_text(encoding="utf-8") + "\n\n", encoding="utf-8")
    assert loading.validate_directory(mini).ok
    (mini / "targets.csv").write_bytes(b"")
    v = loading.validate_directory(mini)
    assert ("error", "targets.csv, line 1: expected a header line with the columns code, name, kind, division, "
            "status, got an empty file") in messages(v)


def test_malformed_quotes(mini):
    mutate(mini, "targets.csv", "示例市戊超市有限公司", '"示例市戊"超市')
    v = loading.validate_directory(mini)
    [err] = v.errors
    assert err.file == "targets.csv" and err.location == "line 6" and "malformed CSV" in err.message


def test_legacy_numbers_and_opaque_ids(mini):
    p = mini / "targets.csv"
    with p.open("a", encoding="utf-8") as f:
        f.write("110108000000016,示例旧注册号公司,enterprise,379902,F5211,active,,,\n")  # GB 12405 check digit ok
        f.write("110108000000017,示例旧注册号公司二,enterprise,379902,F5211,active,,,\n")
    v = loading.validate_directory(mini)
    assert messages(v) == [
        ("warning", "targets.csv, line 12, field 'code': legacy 15-digit registration number with a wrong check digit")
    ]


# --------------------------------------------------------------------------- YAML details


@pytest.mark.parametrize(
    "value, expected",
    [
        ("5%", Fraction(1, 20)),
        ("1/20", Fraction(1, 20)),
        ("0.05", Fraction(1, 20)),
        (0.05, Fraction(1, 20)),  # a YAML float, through repr: exactly 1/20, not 0.05000000000000000277
        (0.1, Fraction(1, 10)),
        (0.3, Fraction(3, 10)),
        ("12.5%", Fraction(1, 8)),
        (1, Fraction(1)),
        ("100%", Fraction(1)),
    ],
)
def test_ratios_are_exact(value, expected):
    assert loading.parse_ratio(value) == expected


@pytest.mark.parametrize("value", ["0%", "-5%", "5 %%", "1/0", "abc", "", True, None, [0.1], 1.5, float("nan"), "0x1", "1e-2", "５%"])
def test_bad_ratios(value):
    with pytest.raises(ValueError, match="expected a ratio"):
        loading.parse_ratio(value)


def test_yaml_line_numbers_follow_entry_paths(mini):
    mutate(mini, "plans/2025.yaml", "{id: rest, label: 其他, ratio: 1/20, minimum: 1}", "{id: rest, label: 其他, ratio: 1/20, minimum: -1}")
    v = loading.validate_directory(mini)
    assert messages(v) == [
        ("error", "plans/2025.yaml, versions[1].tasks[1].strata[1] (line 39), field 'minimum': expected an integer >= 0, got -1")
    ]


def test_merge_keys_may_override(mini):
    # A YAML merge (<<) followed by a local key of the same name is an override, not a duplicate.
    mutate(mini, "plans/2025.yaml", "      - id: \"2025-02\"\n", "      - <<: *t1\n        id: \"2025-02\"\n")
    v = loading.validate_directory(mini)
    assert v.ok, [str(p) for p in v.problems]
    assert v.dataset.task("2025-02").participants == ("health",)


def test_aliased_entry_is_reported_once(mini):
    mutate(mini, "plans/2025.yaml", "team: {min_officers: 2, per_department: 2", "team: {min_officrs: 2, per_department: 2")
    v = loading.validate_directory(mini)
    assert [p.location for p in v.errors] == ["versions[0].tasks[0].team (line 20)"]
    assert "did you mean 'min_officers'?" in v.errors[0].message


def test_task_ids_unique_across_years(mini):
    text = (mini / "plans" / "2025.yaml").read_text(encoding="utf-8").replace("year: 2025", "year: 2026")
    (mini / "plans" / "2026.yaml").write_text(text.replace("2025-02-", "2026-02-").replace("2025-03-", "2026-03-"), encoding="utf-8")
    v = loading.validate_directory(mini)
    assert ("error", "plans/2026.yaml, versions[0].tasks[0] (line 9), field 'id': expected a task id unique across "
            "all years, got '2025-01' again (already in plans/2025.yaml)") in messages(v)


def test_file_names_in_plans_and_results(mini):
    (mini / "plans" / "2025-draft.yaml").write_text("year: 2025\n", encoding="utf-8")
    (mini / "results" / "notes.txt").write_text("x", encoding="utf-8")
    v = loading.validate_directory(mini)
    assert messages(v) == [
        ("error", "plans/2025-draft.yaml: expected a file named plans/<year>.yaml (e.g. 2025.yaml), got '2025-draft.yaml'"),
        ("error", "results/notes.txt: expected a file named results/<year>.csv (e.g. 2025.csv), got 'notes.txt'"),
    ]


def test_results_belong_in_the_file_of_the_plan_year(mini):
    (mini / "results" / "2025.csv").rename(mini / "results" / "2026.csv")
    v = loading.validate_directory(mini)
    assert ("error", "results/2026.csv, line 2, field 'task': expected the results of task '2025-01' in "
            "results/2025.csv (its plan year), got them in results/2026.csv") in messages(v)


def test_missing_required_files(tmp_path):
    v = loading.validate_directory(tmp_path)
    assert messages(v) == [
        ("error", f"{name}: required file is missing")
        for name in ("jurisdiction.yaml", "items.yaml", "targets.csv", "inspectors.csv")
    ]


def test_not_a_directory(tmp_path):
    with pytest.raises(SunshineError, match="does not exist"):
        loading.validate_directory(tmp_path / "nope")


def test_yaml_bombs_and_tags_are_refused_quickly(mini):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdefgh", "bcdefghi")
    )
    (mini / "items.yaml").write_text(bomb + "versions: *i\n", encoding="utf-8")
    v = loading.validate_directory(mini)
    assert not v.ok and all(p.file == "items.yaml" for p in v.errors)
    (mini / "items.yaml").write_text("versions: !!python/object/apply:os.system [echo hi]\n", encoding="utf-8")
    v = loading.validate_directory(mini)
    assert [p.message.split(":")[0] for p in v.errors] == ["invalid value"]


def test_timestamps_and_unquoted_numbers_are_refused(mini):
    mutate(mini, "plans/2025.yaml", "draw_date: 2025-09-01", "draw_date: 2025-09-01 10:00:00")
    mutate(mini, "plans/2025.yaml", 'id: "2025-02"', "id: 2025")
    v = loading.validate_directory(mini)
    assert messages(v) == [
        ("error", "plans/2025.yaml, versions[1].tasks[1] (line 31), field 'id': expected a string (quote it: \"2025\"), got the number 2025"),
        ("error", "plans/2025.yaml, versions[1].tasks[1] (line 42), field 'draw_date': expected a date YYYY-MM-DD, got the timestamp 2025-09-01T10:00:00"),
    ]


def test_load_dataset_with_warnings(mini):
    mutate(mini, "targets.csv", "91379903MA3G00128D", "91379903MA3G00128E")
    ds, warnings = loading.load_dataset_with_warnings(mini)
    assert isinstance(ds, model.Dataset)
    assert [str(w) for w in warnings] == ["targets.csv, line 6, field 'code': USCC check character: expected 'D', got 'E' (GB 32100)"]
    assert loading.load_dataset(mini) == ds


# --------------------------------------------------------------------------- the command


def test_cli_validate_ok(capsys):
    assert cli.main(["validate", str(MINI)]) == 0
    out = capsys.readouterr().out
    assert "检查对象 targets" in out and "9 (企业 enterprise 5" in out
    assert "错误 errors: 0, 警告 warnings: 0" in out


def test_cli_validate_errors_and_warnings(mini, capsys):
    mutate(mini, "targets.csv", "91379903MA3G00128D", "91379903MA3G00128E")
    assert cli.main(["validate", str(mini)]) == 0  # warnings alone do not fail
    out = capsys.readouterr().out
    assert "warning: targets.csv, line 6, field 'code': USCC check character" in out
    mutate(mini, "inspectors.csv", "licence,,active,,5", "licence,,active,,five")
    assert cli.main(["validate", str(mini)]) == 1
    out = capsys.readouterr().out
    assert "error: inspectors.csv, line 4, field 'capacity': expected an integer >= 1, got 'five'" in out
    assert cli.main(["validate", "--quiet", str(mini)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines() == ["error: inspectors.csv, line 4, field 'capacity': expected an integer >= 1, got 'five'"]


def test_cli_validate_json(mini, capsys):
    mutate(mini, "results/2025.csv", "2025-09-26,2025-09-29,2025-10-30", "2025-09-26,2025-09-29,2025-10-31")
    assert cli.main(["validate", "--json", str(mini)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and report["errors"] == 0 and report["warnings"] == 1
    assert report["counts"]["targets_by_kind"] == {"enterprise": 5, "individual": 2, "cooperative": 1, "product": 1}
    assert report["problems"][0] == {
        "severity": "warning",
        "file": "results/2025.csv",
        "location": "line 5",
        "field": "published",
        "message": "published late: expected on or before 2025-10-30 (20 working days after inspection_end 2025-09-26, "
        "淄博 第十七条(四)), got 2025-10-31 (1 working day late)",
    }


def test_cli_validate_missing_dir(tmp_path, capsys):
    assert cli.main(["validate", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: data directory") and "hint:" in err


# --------------------------------------------------------------------------- the fast path for targets.csv


def test_fast_target_constructor_equals_the_dataclass():
    make = loading._fast_constructor(model.Target)
    assert make is not model.Target
    args = ("91379902MA3C00100R", "名称", TargetKind.ENTERPRISE, "379902", ("F5221",), RegistrationStatus.ACTIVE,
            frozenset(), None, None)
    fast, slow = make(*args), model.Target(*args)
    assert fast == slow and hash(fast) == hash(slow) and repr(fast) == repr(slow)
    with pytest.raises(AttributeError):
        fast.name = "x"  # type: ignore[misc]


def test_fast_uscc_check_agrees_with_gb32100_module():
    from hypothesis import given, settings, strategies as st

    from sunshine import uscc

    alphabet = st.sampled_from(uscc.ALPHABET + "IOZSVa_+- é٣!")

    @settings(max_examples=200, deadline=None)
    @given(st.lists(alphabet, min_size=16, max_size=19), st.booleans())
    def check(chars, fix):
        code = "".join(chars)
        if fix and len(code) >= 17 and all(c in uscc.ALPHABET for c in code[:17]):
            code = code[:17] + uscc.check_character(code[:17])
        assert loading._uscc_fast_ok(code) == uscc.uscc_check_ok(code)

    check()
    assert loading._uscc_fast_ok("91379902MA3C00100R") and not loading._uscc_fast_ok("91379902MA3C00100Y")
