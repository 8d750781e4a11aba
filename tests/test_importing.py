"""``sunshine import``: .xlsx/.csv exports with Chinese headers merged into a data directory."""

from __future__ import annotations

import csv
import shutil
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from sunshine import cli, demo, importing, loading, model
from sunshine.errors import DataError, SunshineError
from sunshine.vocabulary import (
    ApproverRole,
    CreditClass,
    InspectorStatus,
    PendingSubCode,
    PersonType,
    RegistrationStatus,
    ResultCode,
    TargetFlag,
    TargetKind,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "import"
TARGET_HEADER = ["统一社会信用代码", "企业名称", "主体类型", "行政区划", "行业代码", "登记状态", "经营异常", "信用风险分类", "成立日期"]
KIND_LABEL = {"enterprise": "有限责任公司（自然人投资或控股）", "individual": "个体工商户", "cooperative": "农民专业合作社"}


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("import") / "data"
    demo.write(str(out), demo.Options(scale=200))
    return out


@pytest.fixture
def data(base, tmp_path) -> Path:
    d = tmp_path / "data"
    shutil.copytree(base, d)
    return d


def _targets(d: Path) -> list[dict[str, str]]:
    with open(d / "targets.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _xlsx(path: Path, header: list[str], rows: list[list], *, title: str | None = None) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def _export_row(r: dict[str, str]) -> list:
    return [
        r["code"],
        r["name"],
        KIND_LABEL[r["kind"]],
        r["division"],
        r["industries"],
        {"active": "存续", "deregistered": "注销", "revoked": "吊销", "cancelled": "撤销", "moved_out": "迁出"}[r["status"]],
        "是" if "abnormal" in r["flags"] else "否",
        r["credit_class"],
        datetime.fromisoformat(r["established"]) if r["established"] else None,
    ]


def _existing_rows(d: Path, n: int) -> list[dict[str, str]]:
    return [r for r in _targets(d) if r["kind"] in KIND_LABEL][:n]


# --------------------------------------------------------------------------- targets from .xlsx


def test_targets_dry_run_reports_changes_and_writes_nothing(data, tmp_path, capsys):
    rows = _existing_rows(data, 6)
    export = [_export_row(r) for r in rows]
    export[0][5] = "注销"  # status changes
    export[1][1] = export[1][1] + "（更名）"  # a renamed enterprise keeps full-width brackets
    export.append(["91379902MA7XK3LQ0U", "示例市光华超市有限公司", "有限责任公司", "379902", "F5212", "在营", "否", "A类", "2025/3/8"])
    f = _xlsx(tmp_path / "名录.xlsx", [*TARGET_HEADER, "法定代表人", "联系电话", "备注"],
              [[*r, "张三", "13800000000", ""] for r in export], title="示例市检查对象名录（导出）")
    before = (data / "targets.csv").read_bytes()

    assert cli.main(["import", "targets", str(f), "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert "7 rows read from 名录.xlsx (header on row 2)" in out
    assert "added      1" in out and "+ 91379902MA7XK3LQ0U" in out
    assert "updated    2" in out and f"~ {rows[0]['code']}: status active → deregistered" in out
    assert "（更名）" in out
    assert "unchanged  4" in out and "not in the export  194" in out
    assert "ignored columns: 备注" in out and "not imported (personal data" in out and "法定代表人, 联系电话" in out
    assert "dry run: nothing written" in out
    assert (data / "targets.csv").read_bytes() == before
    assert "张三" not in out and "13800000000" not in out


def test_targets_apply_writes_a_valid_directory_and_is_idempotent(data, tmp_path, capsys):
    rows = _existing_rows(data, 3)
    export = [_export_row(r) for r in rows]
    export[2][6] = "是"  # put on the abnormal list
    export.append(["92379903MA8PQ2RT1Y", "青山区光华小吃店", "个体工商户", "379903 青山区", "H6220", "开业", "否", "", "2023年11月2日"])
    f = _xlsx(tmp_path / "t.xlsx", TARGET_HEADER, export)
    assert cli.main(["import", "targets", str(f), "--data", str(data), "--apply"]) == 0
    assert "wrote " in capsys.readouterr().out
    ds = loading.load_dataset(data)
    index = ds.target_index()
    new = index["92379903MA8PQ2RT1Y"]
    assert (new.kind, new.division, new.industries, new.status, new.credit_class, new.established) == (
        TargetKind.INDIVIDUAL, "379903", ("H6220",), RegistrationStatus.ACTIVE, None, date(2023, 11, 2))
    assert TargetFlag.ABNORMAL in index[rows[2]["code"]].flags
    assert len(ds.targets) == 201
    assert [r["code"] for r in _targets(data)][:200] == [t.code for t in demo.generate(demo.Options(scale=200)).targets]

    assert cli.main(["import", "targets", str(f), "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert "unchanged  4" in out and "nothing to change" in out


def test_columns_missing_from_the_export_keep_their_values(data, tmp_path):
    r = _existing_rows(data, 1)[0]
    assert r["industries"] and r["established"]
    header = ["统一社会信用代码（注册号）", "市场主体名称", "主体类型", "行政区划", "登记状态"]
    f = _xlsx(tmp_path / "t.xlsx", header, [[r["code"], r["name"], KIND_LABEL[r["kind"]], r["division"], "吊销，未注销"]])
    plan = importing.plan_import("targets", str(f), str(data))
    assert [c.fields for c in plan.updated] == [(("status", r["status"], "revoked"),)]
    importing.apply_import(plan, str(data))
    after = {x["code"]: x for x in _targets(data)}[r["code"]]
    assert after == {**r, "status": "revoked"}


def test_every_invalid_row_is_reported_and_nothing_is_written(data, tmp_path, capsys):
    good = _export_row(_existing_rows(data, 1)[0])
    bad_rows = [
        good,
        ["91379902MA7XK3LQ0", "示例市甲公司", "有限责任公司", "379902", "F5212", "存续", "否", "A", "2024-01-01"],
        ["91379902MA7XK3LQ0U", "", "外星机构", "37990", "F5212", "休眠", "也许", "E", "2024-02-30"],
        [good[0], good[1], good[2], good[3], "第五十二类", "存续", "否", "B", "昨天"],
    ]
    f = _xlsx(tmp_path / "bad.xlsx", TARGET_HEADER, bad_rows, title="导出")
    before = (data / "targets.csv").read_bytes()
    assert cli.main(["import", "targets", str(f), "--data", str(data), "--apply"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    expected = [
        "bad.xlsx, row 4, field '统一社会信用代码': expected an 18-character USCC",
        "bad.xlsx, row 5, field '企业名称': expected a 名称, got an empty cell",
        "bad.xlsx, row 5, field '主体类型': expected a 主体类型 such as 有限责任公司",
        "bad.xlsx, row 5, field '行政区划': expected a 6-digit 行政区划代码 such as 379902, got '37990'",
        "bad.xlsx, row 5, field '登记状态': expected a 登记状态 such as 存续",
        "bad.xlsx, row 5, field '经营异常': expected 是 or 否 (or empty), got '也许'",
        "bad.xlsx, row 5, field '信用风险分类': expected a 信用风险分类 A, B, C, D",
        "bad.xlsx, row 5, field '成立日期': expected a valid date, got '2024-02-30' (no such day)",
        "bad.xlsx, row 6, field '统一社会信用代码': expected each code once",
        "bad.xlsx, row 6, field '行业代码': expected GB/T 4754 行业代码",
        "bad.xlsx, row 6, field '成立日期': expected a date such as 2025-03-31",
    ]
    for e in expected:
        assert e in err, e
    assert "hint: fix these rows in the export" in err
    assert (data / "targets.csv").read_bytes() == before


def test_a_missing_required_column_names_the_expected_headers(data, tmp_path):
    f = _xlsx(tmp_path / "t.xlsx", ["统一社会信用代码", "企业名称", "主体类型", "行政区划"], [["x", "y", "z", "w"]])
    with pytest.raises(DataError) as e:
        importing.plan_import("targets", str(f), str(data))
    [p] = e.value.problems
    assert (p.file, p.location, p.field) == ("t.xlsx", "row 1", "status")
    assert "expected a column '登记状态' / '经营状态' / '企业状态' (or 'status'), got none" in p.message


def test_no_header_row_and_wrong_file_types(data, tmp_path):
    f = _xlsx(tmp_path / "t.xlsx", ["甲", "乙"], [["1", "2"]])
    with pytest.raises(DataError, match="expected a header row with the targets columns"):
        importing.plan_import("targets", str(f), str(data))
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(SunshineError, match="Excel 97–2003 .xls") as e:
        importing.plan_import("targets", str(old), str(data))
    assert "save it as .xlsx" in e.value.hint
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(SunshineError, match="expected an Excel .xlsx workbook"):
        importing.plan_import("targets", str(broken), str(data))
    with pytest.raises(SunshineError, match="got nothing at that path"):
        importing.plan_import("targets", str(tmp_path / "missing.csv"), str(data))


def test_sheet_option(data, tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    wb.active.append(["本表为导出说明"])
    ws = wb.create_sheet("名录")
    ws.append(TARGET_HEADER)
    ws.append(_export_row(_existing_rows(data, 1)[0]))
    f = tmp_path / "two.xlsx"
    wb.save(f)
    assert importing.plan_import("targets", str(f), str(data), sheet="名录").unchanged == 1
    with pytest.raises(SunshineError, match="expected a sheet named '无'"):
        importing.plan_import("targets", str(f), str(data), sheet="无")


# --------------------------------------------------------------------------- CSV encodings


def test_csv_utf8_with_bom_and_crlf(data):
    plan = importing.plan_import("targets", str(FIXTURES / "targets-utf8-bom.csv"), str(data))
    assert [c.key for c in plan.added] == ["91379902MA7XK3LQ0U", "92379903MA8PQ2RT1Y"]
    importing.apply_import(plan, str(data))
    t = loading.load_dataset(data).target_index()["92379903MA8PQ2RT1Y"]
    assert t.flags == frozenset({TargetFlag.ABNORMAL}) and t.established == date(2023, 11, 2)
    assert loading.load_dataset(data).target_index()["91379902MA7XK3LQ0U"].credit_class is CreditClass.B


def test_csv_gbk_is_refused_with_a_hint_unless_the_encoding_is_named(data, capsys):
    gbk = str(FIXTURES / "targets-gbk.csv")
    assert cli.main(["import", "targets", gbk, "--data", str(data)]) == 1
    err = capsys.readouterr().err
    assert "line 1: expected UTF-8 text, got bytes that are not UTF-8 (it looks like GBK/GB18030" in err
    assert "hint: " in err and "CSV UTF-8" in err and "--encoding gb18030" in err
    plan = importing.plan_import("targets", gbk, str(data), encoding="gb18030")
    assert len(plan.added) == 2
    with pytest.raises(SunshineError, match="expected a known text encoding"):
        importing.plan_import("targets", gbk, str(data), encoding="klingon")


# --------------------------------------------------------------------------- label tables


@pytest.mark.parametrize("label, key", [
    ("存续", "active"), ("在营", "active"), ("开业", "active"), ("在册", "active"),
    ("存续（在营、开业、在册）", "active"), ("注销", "deregistered"), ("已注销", "deregistered"),
    ("吊销，未注销", "revoked"), ("吊销", "revoked"), ("撤销", "cancelled"), ("迁出", "moved_out"),
    ("active", "active"),
])
def test_registration_status_labels(label, key):
    assert importing.parse_status(label).value == key


@pytest.mark.parametrize("label, kind", [
    ("个体工商户", TargetKind.INDIVIDUAL), ("有限责任公司(自然人投资或控股)", TargetKind.ENTERPRISE),
    ("股份有限公司（非上市、自然人投资或控股）", TargetKind.ENTERPRISE), ("个人独资企业", TargetKind.ENTERPRISE),
    ("农民专业合作社", TargetKind.COOPERATIVE), ("工程项目", TargetKind.PROJECT), ("enterprise", TargetKind.ENTERPRISE),
])
def test_kind_labels(label, kind):
    assert importing.parse_kind(label) is kind


def test_credit_dates_industries():
    assert importing.parse_credit("C类") is CreditClass.C
    assert importing.parse_credit("信用风险低（A类）") is CreditClass.A
    assert importing.parse_credit("较高") is CreditClass.C
    assert importing.parse_credit("") is None
    for s in ("2025-03-31", "2025/3/31", "2025年3月31日", "20250331", "２０２５－０３－３１", "2025.3.31"):
        assert importing.parse_date(s) == date(2025, 3, 31), s
    assert importing.parse_industries("F5212 超级市场零售；H6220") == ("F5212", "H6220")
    assert importing.parse_division("３７９９０２") == "379902"


@pytest.mark.parametrize("cell, codes, subs", [
    ("未发现问题", ["no_issue"], []),
    ("发现问题待后续处理：公示信息隐瞒真实情况、弄虚作假", ["issue_pending"], ["false_publicity"]),
    ("发现问题待后续处理:通过登记的住所（经营场所）无法联系", ["issue_pending"], ["unreachable"]),
    ("发现问题已责令改正；发现问题待后续处理：违反示例市消防救援支队相关规定", ["issue_corrected", "issue_pending"], ["dept_violation"]),
    ("未发现开展本次抽查涉及的经营活动", ["no_activity"], []),
    ("已注销", ["deregistered"], []),
    ("未按规定公示应当公示的信息", ["issue_pending"], ["not_publicised"]),
])
def test_result_labels(cell, codes, subs):
    c, s = importing.parse_result_codes(cell)
    assert [x.value for x in c] == codes and [x.value for x in s] == subs


def test_result_label_errors():
    with pytest.raises(ValueError, match="expected 检查结果 such as"):
        importing.parse_result_codes("合格")
    with pytest.raises(ValueError, match="expected 问题类型 such as"):
        importing.parse_result_codes("发现问题待后续处理：态度不好")


# --------------------------------------------------------------------------- inspectors


INSPECTOR_HEADER = ["执法证号", "姓名", "所属部门", "人员类型", "证件有效期", "执法资格", "专业领域", "状态", "回避对象"]


def test_inspectors_match_by_certificate_new_ids_and_private_names(data, tmp_path, capsys):
    ds = loading.load_dataset(data)
    officer = next(i for i in ds.inspectors if i.department == "amr" and i.certified_officer)
    code = ds.targets[0].code
    rows = [
        [officer.certificate_no, officer.name, "市场监管局", "执法人员", "2030-12-31", "食品、特种设备", "", "暂停执法", ""],
        ["37990100999", "林测试", "示例市市场监督管理局", "执法检查人员", "2029年12月31日", "food;metrology", "elevators", "在岗", code],
        ["", "周专家", "amr", "专家", "", "", "锅炉", "在岗", ""],
    ]
    f = _xlsx(tmp_path / "人员.xlsx", INSPECTOR_HEADER, rows)
    assert cli.main(["import", "inspectors", str(f), "--data", str(data), "--apply"]) == 0
    out = capsys.readouterr().out
    n_amr = sum(1 for i in ds.inspectors if i.department == "amr")
    assert f"~ {officer.id}: " in out and "status active → suspended" in out
    assert officer.name not in out and "林测试" not in out  # names are internal, never printed
    assert f"+ AMR-{n_amr + 1:03d}" in out and f"+ AMR-{n_amr + 2:03d}" in out
    after = {i.id: i for i in loading.load_dataset(data).inspectors}
    assert after[officer.id].status is InspectorStatus.SUSPENDED
    assert after[officer.id].qualifications == frozenset({"食品", "特种设备"})
    new = after[f"AMR-{n_amr + 1:03d}"]
    assert new.certificate_valid_until == date(2029, 12, 31) and new.conflicts == frozenset({code})
    expert = after[f"AMR-{n_amr + 2:03d}"]
    assert expert.person_type is PersonType.EXPERT and not expert.certified_officer


def test_inspector_row_errors(data, tmp_path):
    rows = [
        ["", "王某", "市场监管局", "执法人员", "", "", "", "在岗", ""],
        ["37990100998", "李某", "宇宙管理局", "执法人员", "", "", "", "在岗", ""],
        ["37990100997", "赵某", "税务局", "执法人员", "", "", "", "请假", "91379902MA7XK3LQ0U"],
    ]
    f = _xlsx(tmp_path / "i.xlsx", INSPECTOR_HEADER, rows)
    with pytest.raises(DataError) as e:
        importing.plan_import("inspectors", str(f), str(data))
    msgs = [str(p) for p in e.value.problems]
    assert any("row 2, field '执法证号': expected a 执法证号 for an officer" in m for m in msgs)
    assert any("row 3, field '所属部门': expected a department of jurisdiction.yaml" in m for m in msgs)
    assert any("row 4, field '状态': expected a 状态 such as 在岗, 暂停执法, 调离, got '请假'" in m for m in msgs)


# --------------------------------------------------------------------------- results


RESULT_HEADER = ["任务编号", "统一社会信用代码", "检查部门", "检查事项", "检查结果", "备注", "检查完成日期", "录入日期",
                 "公示日期", "审批人", "版本", "更正原因"]


def _pick(ds: model.Dataset, task_id: str) -> tuple[model.Task, model.Target]:
    task = ds.task(task_id)
    target = next(t for t in ds.targets if task.scope.matches(t) and t.kind is TargetKind.ENTERPRISE)
    return task, target


def test_results_import_appends_and_published_results_never_change(data, tmp_path, capsys):
    ds = loading.load_dataset(data)
    task, target = _pick(ds, "2025-07")  # hrss (lead) + tax
    rows = [
        ["2025-07", target.code, "人社局", "HRSS-01", "未发现问题", "", "2025-07-10", "2025-07-11", "2025-07-18", "分管负责人", 1, ""],
        ["2025-07", target.code, "税务局", "发票使用情况的检查", "发现问题待后续处理：违反示例市税务局相关规定", "已移交稽查",
         datetime(2025, 7, 10), datetime(2025, 7, 14), datetime(2025, 7, 21), "主要负责人", 1, ""],
        ["2025-07", target.code, "税务局", "TAX-02", "发现问题已责令改正", "", "2025-07-10", "2025-07-14", "2025-07-21",
         "主要负责人", 1, ""],
    ]
    f = _xlsx(tmp_path / "结果.xlsx", RESULT_HEADER, rows)
    assert cli.main(["import", "results", str(f), "--data", str(data), "--apply"]) == 0
    out = capsys.readouterr().out
    assert "added      2" in out and f"+ 2025-07/{target.code}/tax/v1" in out
    loaded = loading.load_dataset(data).results
    tax = next(r for r in loaded if r.department == "tax")
    assert [i.item for i in tax.items] == ["TAX-01", "TAX-02"]
    assert tax.items[0].sub_codes == (PendingSubCode.DEPT_VIOLATION,) and tax.items[0].note == "已移交稽查"
    assert tax.approver_role is ApproverRole.HEAD
    first = (data / "results" / "2025.csv").read_bytes()

    # the same export again: nothing to change
    assert importing.plan_import("results", str(f), str(data)).changes is False

    # a changed published result is refused: corrections are new versions
    rows[0][4] = "发现问题已责令改正"
    f2 = _xlsx(tmp_path / "改.xlsx", RESULT_HEADER, rows)
    with pytest.raises(DataError, match="a published result never changes, import a correction as version 2"):
        importing.plan_import("results", str(f2), str(data))

    # a correction without the head's approval is refused; with it, it is appended
    corr = ["2025-07", target.code, "人社局", "HRSS-01", "发现问题已责令改正", "", "2025-07-10", "2025-08-01",
            "2025-08-04", "分管负责人", 2, "录入错误"]
    f3 = _xlsx(tmp_path / "更正.xlsx", RESULT_HEADER, [corr])
    with pytest.raises(DataError, match="approved by the 主要负责人 with a 更正原因"):
        importing.plan_import("results", str(f3), str(data))
    corr[9] = "主要负责人"
    f4 = _xlsx(tmp_path / "更正2.xlsx", RESULT_HEADER, [corr])
    plan = importing.plan_import("results", str(f4), str(data))
    assert [c.key for c in plan.added] == [f"2025-07/{target.code}/hrss/v2"]
    importing.apply_import(plan, str(data))
    after = (data / "results" / "2025.csv").read_bytes()
    assert after.startswith(first)  # append-only: published rows keep their bytes
    v2 = [r for r in loading.load_dataset(data).results if r.version == 2]
    assert len(v2) == 1 and v2[0].items[0].codes == (ResultCode.ISSUE_CORRECTED,)


def test_result_row_errors(data, tmp_path):
    ds = loading.load_dataset(data)
    _, target = _pick(ds, "2025-07")
    rows = [
        ["2099-01", target.code, "人社局", "HRSS-01", "未发现问题", "", "2025-07-10", "2025-07-11", "2025-07-18", "", 1, ""],
        ["2025-07", target.code, "文旅局", "HRSS-01", "未发现问题", "", "2025-07-10", "2025-07-11", "2025-07-18", "", 1, ""],
        ["2025-07", target.code, "人社局", "AMR-01", "未发现问题", "", "2025-07-10", "2025-07-11", "2025-07-18", "", 1, ""],
        ["2025-07", target.code, "人社局", "HRSS-01", "未发现问题；发现问题已责令改正", "", "2025-07-10", "2025-07-11",
         "2025-07-18", "", 1, ""],
        ["2025-07", target.code, "人社局", "HRSS-02", "未发现问题", "", "2025-07-10", "2025-07-11", "2025-07-01", "", 1, ""],
    ]
    f = _xlsx(tmp_path / "r.xlsx", RESULT_HEADER, rows)
    with pytest.raises(DataError) as e:
        importing.plan_import("results", str(f), str(data))
    msgs = "\n".join(str(p) for p in e.value.problems)
    assert "row 2, field '任务编号': expected a task of the plans" in msgs
    assert "row 3, field '检查部门': expected a department" in msgs
    assert "row 4, field '检查事项': expected an item of task 2025-07 (HRSS-01, HRSS-02, TAX-01, TAX-02" in msgs
    assert "row 5, field '检查结果': expected 未发现问题 alone" in msgs
    assert "row 6, field '公示日期': expected 录入日期 and 公示日期 on or after the 检查完成日期" in msgs


def test_import_into_an_invalid_data_directory_is_refused(data, tmp_path):
    (data / "items.yaml").write_text("versions: nope\n", encoding="utf-8")
    f = _xlsx(tmp_path / "t.xlsx", TARGET_HEADER, [])
    with pytest.raises(SunshineError, match="expected a valid data directory") as e:
        importing.plan_import("targets", str(f), str(data))
    assert "sunshine validate" in e.value.hint


def test_the_guide_lists_every_accepted_header():
    guide = (Path(__file__).resolve().parent.parent / "docs" / "import.md").read_text(encoding="utf-8")
    for table in (importing.TARGET_HEADERS, importing.INSPECTOR_HEADERS, importing.RESULT_HEADERS):
        for fld, headers in table.items():
            assert f"`{fld}`" in guide, fld
            for h in headers:
                assert h in guide, h
    for h in importing.PERSONAL_HEADERS:
        assert h in guide, h


def test_a_crash_while_writing_leaves_the_data_directory_untouched(data, monkeypatch):
    """Results for two years: the second file fails to write, so neither file changes."""
    ds = loading.load_dataset(data)
    rows = []
    for task_id in ("2025-07", "2026-09"):
        task, target = _pick(ds, task_id)
        y = task.year
        rows.append([task_id, target.code, "人社局", "HRSS-01", "未发现问题", "", f"{y}-09-01", f"{y}-09-02", f"{y}-09-03", "", 1, ""])
    import tempfile
    f = _xlsx(Path(tempfile.mkdtemp()) / "r.xlsx", RESULT_HEADER, rows)
    plan = importing.plan_import("results", str(f), str(data))
    assert sorted(plan.files) == ["results/2025.csv", "results/2026.csv"]
    from sunshine import writing

    real = writing.write_text
    calls = []

    def crash_second(path, text):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(path, text)

    monkeypatch.setattr(writing, "write_text", crash_second)
    with pytest.raises(OSError):
        importing.apply_import(plan, str(data))
    assert not (data / "results").exists() or sorted(p.name for p in (data / "results").iterdir()) == []
    monkeypatch.setattr(writing, "write_text", real)
    assert importing.apply_import(plan, str(data)) == ["results/2025.csv", "results/2026.csv"]
    assert len(loading.load_dataset(data).results) == 2


def test_unreadable_export_and_unwritable_data_give_errors_not_tracebacks(data, tmp_path, capsys, monkeypatch):
    import os

    f = FIXTURES / "targets-utf8-bom.csv"
    locked = tmp_path / "locked.csv"
    shutil.copy(f, locked)
    real_open = open

    def deny(path, *a, **kw):
        if str(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *a, **kw)

    monkeypatch.setattr("builtins.open", deny)
    assert cli.main(["import", "targets", str(locked), "--data", str(data)]) == 1
    assert f"error: {locked}: cannot read it: Permission denied" in capsys.readouterr().err
    monkeypatch.undo()

    real_replace = os.replace

    def full(src, dst):
        raise OSError(28, "No space left on device", str(dst))

    monkeypatch.setattr(os, "replace", full)
    before = (data / "targets.csv").read_bytes()
    assert cli.main(["import", "targets", str(f), "--data", str(data), "--apply"]) == 1
    err = capsys.readouterr().err
    assert "cannot write: No space left on device" in err and "Traceback" not in err
    monkeypatch.setattr(os, "replace", real_replace)
    assert (data / "targets.csv").read_bytes() == before
    assert not (data / "targets.csv.tmp").exists()
