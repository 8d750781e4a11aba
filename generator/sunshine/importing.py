"""``sunshine import``: spreadsheets with Chinese headers → the files of a data directory.

Reads an ``.xlsx`` export (openpyxl, read-only, first sheet or ``sheet``) or a ``.csv`` export
(UTF-8 with or without the BOM Excel writes; other encodings only when named explicitly, e.g.
``gb18030``), maps the Chinese column headers and enumeration labels of the national platforms to the
data format (``docs/data-format.md``; the tables are in ``docs/import.md``), and merges the rows into
``targets.csv``, ``inspectors.csv`` or ``results/<year>.csv``.

:func:`plan_import` computes what would change (added, updated with the changed fields, unchanged,
not present in the export) and never writes; :func:`apply_import` writes the planned files
atomically. Nothing is planned — hence nothing written — when any row is invalid: every invalid row
is reported with the file, the row number as Excel shows it, the column header and "expected X, got Y".
The merged directory is validated with :mod:`sunshine.loading` before anything is written.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from . import loading, model, uscc, writing
from .errors import DataError, Problem, SunshineError
from .vocabulary import (
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

KINDS = ("targets", "inspectors", "results")

# --------------------------------------------------------------------------- header tables

# field → accepted headers (after normalisation: NFKC, no spaces, ASCII lower case). The ASCII
# field names of the data format are always accepted too.
TARGET_HEADERS: dict[str, tuple[str, ...]] = {
    "code": ("统一社会信用代码/注册号", "统一社会信用代码", "社会信用代码", "信用代码", "注册号", "统一代码"),
    "name": ("企业名称", "市场主体名称", "名称", "主体名称", "单位名称"),
    "kind": ("主体类型", "市场主体类型", "企业类型", "类型"),
    "division": ("行政区划", "行政区划代码", "所属区划", "区划代码"),
    "industries": ("行业代码", "国民经济行业代码", "国民经济行业", "行业"),
    "status": ("登记状态", "经营状态", "企业状态"),
    "abnormal": ("经营异常", "是否经营异常", "列入经营异常名录", "经营异常名录"),
    "serious_illegal": ("严重违法失信", "列入严重违法失信名单", "严重违法失信名单"),
    "flags": ("标记", "标签"),
    "credit_class": ("信用风险分类", "信用风险类别", "信用风险等级", "信用分类"),
    "established": ("成立日期", "登记日期", "注册日期"),
}
TARGET_REQUIRED = ("code", "name", "kind", "division", "status")

INSPECTOR_HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("人员编号", "执法人员编号", "编号"),
    "certificate_no": ("执法证号", "执法证件号", "执法证编号", "执法证件编号"),
    "name": ("姓名",),
    "department": ("所属部门", "部门", "所属单位", "单位"),
    "person_type": ("人员类型", "人员类别", "类别"),
    "certificate_valid_until": ("证件有效期", "执法证有效期", "有效期至", "有效期"),
    "qualifications": ("执法资格", "资格", "执法领域"),
    "expertise": ("专业领域", "专业特长", "专长"),
    "status": ("状态", "人员状态", "在岗状态"),
    "conflicts": ("回避对象", "回避", "回避企业"),
    "capacity": ("可参加组数", "每次任务最多参加组数"),
}
INSPECTOR_REQUIRED = ("name", "department", "person_type", "status")

RESULT_HEADERS: dict[str, tuple[str, ...]] = {
    "task": ("任务编号", "抽查任务编号"),
    "target": ("统一社会信用代码/注册号", "统一社会信用代码", "检查对象代码", "检查对象统一社会信用代码", "注册号"),
    "department": ("检查部门", "录入部门", "实施部门", "部门"),
    "item": ("检查事项", "抽查事项", "检查事项编号"),
    "codes": ("检查结果",),
    "sub_codes": ("问题类型", "结果细类"),
    "note": ("备注", "结果说明", "说明"),
    "inspection_end": ("检查完成日期", "检查结束日期", "完成日期"),
    "entered": ("录入日期",),
    "published": ("公示日期",),
    "approver_role": ("审批人", "审批人职务", "审核人"),
    "version": ("版本", "版本号"),
    "correction_reason": ("更正原因", "更正理由"),
}
RESULT_REQUIRED = ("task", "target", "department", "item", "codes", "inspection_end", "entered", "published")

# Columns of real exports that hold personal data the portal must not keep (淄博 第二十一条).
PERSONAL_HEADERS = ("法定代表人", "负责人", "经营者", "联系电话", "电话", "手机", "身份证号", "身份证号码", "住所", "经营场所")

_HEADERS = {"targets": TARGET_HEADERS, "inspectors": INSPECTOR_HEADERS, "results": RESULT_HEADERS}
_REQUIRED = {"targets": TARGET_REQUIRED, "inspectors": INSPECTOR_REQUIRED, "results": RESULT_REQUIRED}


def normalise(text: str) -> str:
    """NFKC (full-width → ASCII), whitespace removed, ASCII lower-cased: how headers are compared."""
    s = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in s if not ch.isspace()).lower()


def _header_index(headers: dict[str, tuple[str, ...]]) -> dict[str, str]:
    index = {}
    for fld, names in headers.items():
        index[normalise(fld)] = fld
        for n in names:
            index[normalise(n)] = fld
    return index


# --------------------------------------------------------------------------- value tables

KIND_LABELS = {m.label: m for m in TargetKind} | {m.value: m for m in TargetKind}
STATUS_LABELS: dict[str, RegistrationStatus] = {m.value: m for m in RegistrationStatus} | {
    "存续": RegistrationStatus.ACTIVE,
    "在营": RegistrationStatus.ACTIVE,
    "开业": RegistrationStatus.ACTIVE,
    "在册": RegistrationStatus.ACTIVE,
    "正常": RegistrationStatus.ACTIVE,
    "存续(在营、开业、在册)": RegistrationStatus.ACTIVE,
    "注销": RegistrationStatus.DEREGISTERED,
    "已注销": RegistrationStatus.DEREGISTERED,
    "吊销": RegistrationStatus.REVOKED,
    "已吊销": RegistrationStatus.REVOKED,
    "吊销未注销": RegistrationStatus.REVOKED,
    "吊销,未注销": RegistrationStatus.REVOKED,
    "撤销": RegistrationStatus.CANCELLED,
    "已撤销": RegistrationStatus.CANCELLED,
    "迁出": RegistrationStatus.MOVED_OUT,
    "已迁出": RegistrationStatus.MOVED_OUT,
}
CREDIT_LABELS: dict[str, CreditClass] = {m.value.lower(): m for m in CreditClass} | {
    normalise(m.label): m for m in CreditClass
} | {
    "a类": CreditClass.A, "b类": CreditClass.B, "c类": CreditClass.C, "d类": CreditClass.D,
    "低": CreditClass.A, "低风险": CreditClass.A, "信用风险低": CreditClass.A,
    "一般": CreditClass.B, "一般风险": CreditClass.B, "信用风险一般": CreditClass.B,
    "较高": CreditClass.C, "较高风险": CreditClass.C, "信用风险较高": CreditClass.C,
    "高": CreditClass.D, "高风险": CreditClass.D, "信用风险高": CreditClass.D,
}
YES = {"是", "y", "yes", "true", "1", "列入", "已列入", "√"}
NO = {"", "否", "n", "no", "false", "0", "未列入", "-", "无"}
FLAG_LABELS = {m.value: m for m in TargetFlag} | {normalise(m.label): m for m in TargetFlag} | {
    "经营异常": TargetFlag.ABNORMAL,
    "严重违法失信": TargetFlag.SERIOUS_ILLEGAL,
    "投诉举报多": TargetFlag.COMPLAINTS,
    "重点行业": TargetFlag.KEY_INDUSTRY,
    "新设立": TargetFlag.NEW,
}
PERSON_LABELS: dict[str, PersonType] = {m.value: m for m in PersonType} | {m.label: m for m in PersonType} | {
    "执法人员": PersonType.OFFICER,
    "行政执法人员": PersonType.OFFICER,
    "执法检查人员": PersonType.OFFICER,
    "检查人员": PersonType.OFFICER,
    "专家": PersonType.EXPERT,
    "第三方": PersonType.THIRD_PARTY,
    "第三方人员": PersonType.THIRD_PARTY,
    "第三方机构人员": PersonType.THIRD_PARTY,
}
INSPECTOR_STATUS_LABELS: dict[str, InspectorStatus] = {m.value: m for m in InspectorStatus} | {
    m.label: m for m in InspectorStatus
} | {
    "正常": InspectorStatus.ACTIVE,
    "在职": InspectorStatus.ACTIVE,
    "有效": InspectorStatus.ACTIVE,
    "暂停": InspectorStatus.SUSPENDED,
    "停职": InspectorStatus.SUSPENDED,
    "离职": InspectorStatus.LEFT,
    "退休": InspectorStatus.LEFT,
}
RESULT_LABELS: dict[str, ResultCode] = {m.value: m for m in ResultCode} | {normalise(m.label): m for m in ResultCode} | {
    "已注销": ResultCode.DEREGISTERED,
    "吊销": ResultCode.REVOKED,
    "已吊销": ResultCode.REVOKED,
    "撤销": ResultCode.CANCELLED,
    "已撤销": ResultCode.CANCELLED,
    "已迁出": ResultCode.MOVED_OUT,
}
SUB_LABELS: dict[str, PendingSubCode] = {m.value: m for m in PendingSubCode} | {
    normalise(m.label): m for m in PendingSubCode if m is not PendingSubCode.DEPT_VIOLATION
}
_DEPT_VIOLATION = re.compile(r"违反.*相关规定")
APPROVER_LABELS: dict[str, ApproverRole] = {m.value: m for m in ApproverRole} | {m.label: m for m in ApproverRole} | {
    "分管领导": ApproverRole.DEPUTY_HEAD,
    "分管负责人": ApproverRole.DEPUTY_HEAD,
    "主要领导": ApproverRole.HEAD,
    "主要负责人": ApproverRole.HEAD,
}
_LIST_SEP = re.compile(r"[;；,，、/\n]+")
_RESULT_SEP = re.compile(r"[;；,，\n]+")  # not "、": it occurs inside labels
_INDUSTRY = re.compile(r"[A-T][0-9]{2,4}")
_DATE_FORMS = (
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"),
    re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"),
    re.compile(r"(\d{4})\.(\d{1,2})\.(\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)


# --------------------------------------------------------------------------- reading exports


@dataclass(frozen=True, slots=True)
class Table:
    """The rows of an export: ``rows`` are (Excel row number, {field: cell text})."""

    file: str
    header_row: int
    columns: dict[str, str]  # field → header as written in the file
    ignored: tuple[str, ...]  # headers that map to no field
    personal: tuple[str, ...]  # headers holding personal data, never imported
    rows: tuple[tuple[int, dict[str, str]], ...]


def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.date().isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _read_xlsx(path: str, sheet: str | None) -> Iterator[tuple[int, list[str]]]:
    import zipfile

    import openpyxl  # the data side only
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise SunshineError(
            f"{path}: expected an Excel .xlsx workbook, got a file openpyxl cannot read ({exc})",
            hint="save the export as .xlsx (Excel 2007+) or as CSV UTF-8",
        ) from None
    try:
        if sheet is not None:
            if sheet not in wb.sheetnames:
                raise SunshineError(
                    f"{path}: expected a sheet named {sheet!r}, got sheets {', '.join(map(repr, wb.sheetnames))}"
                )
            ws = wb[sheet]
        else:
            ws = wb.worksheets[0]
        for n, row in enumerate(ws.iter_rows(values_only=True), start=1):
            yield n, [_cell_text(v) for v in row]
    finally:
        wb.close()


def _read_csv(path: str, encoding: str | None) -> Iterator[tuple[int, list[str]]]:
    with open(path, "rb") as fh:
        raw = fh.read()
    if encoding is None:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            looks_gbk = _decodes(raw, "gb18030")
            raise SunshineError(
                f"{path}, line {line}: expected UTF-8 text, got bytes that are not UTF-8"
                + (" (it looks like GBK/GB18030, the default of Chinese Excel)" if looks_gbk else ""),
                hint="in Excel choose 另存为 → “CSV UTF-8（逗号分隔）”, or pass --encoding gb18030 to decode it",
            ) from None
    else:
        try:
            text = raw.decode(encoding)
        except LookupError:
            raise SunshineError(f"--encoding: expected a known text encoding such as gb18030, got {encoding!r}") from None
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise SunshineError(f"{path}, line {line}: expected {encoding} text, got undecodable bytes") from None
        text = text.lstrip("\ufeff")
    for n, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
        yield n, [c.strip() for c in row]


def _decodes(raw: bytes, enc: str) -> bool:
    try:
        raw.decode(enc)
        return True
    except UnicodeDecodeError:
        return False


def read_table(path: str, kind: str, *, sheet: str | None = None, encoding: str | None = None) -> Table:
    """Read an export and locate its header row (the first row, within the first 10, holding at
    least two known headers: real exports often start with a title row)."""
    name = os.path.basename(path)
    lower = path.lower()
    if not os.path.isfile(path):
        raise SunshineError(f"{path}: expected an export file (.xlsx or .csv), got nothing at that path")
    if lower.endswith(".xlsx") or lower.endswith(".xlsm"):
        if encoding is not None:
            raise SunshineError("--encoding: only for .csv files, got it with an .xlsx workbook")
        source = _read_xlsx(path, sheet)
    elif lower.endswith(".csv"):
        if sheet is not None:
            raise SunshineError("--sheet: only for .xlsx workbooks, got it with a .csv file")
        source = _read_csv(path, encoding)
    elif lower.endswith(".xls"):
        raise SunshineError(
            f"{path}: expected .xlsx or .csv, got an old Excel 97–2003 .xls workbook",
            hint="open it in Excel or WPS and save it as .xlsx (or CSV UTF-8)",
        )
    else:
        raise SunshineError(f"{path}: expected a file ending in .xlsx or .csv, got {name!r}")

    index = _header_index(_HEADERS[kind])
    personal = {normalise(h) for h in PERSONAL_HEADERS}
    header_row = 0
    columns: dict[str, int] = {}
    written: dict[str, str] = {}
    ignored: list[str] = []
    private: list[str] = []
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[Problem] = []
    for n, cells in source:
        if not header_row:
            found = {}
            for i, c in enumerate(cells):
                fld = _match_header(c, index)
                if fld is not None and fld not in found:
                    found[fld] = i
            if len(found) >= 2:
                header_row = n
                for i, c in enumerate(cells):
                    if not c:
                        continue
                    fld = _match_header(c, index)
                    if fld is None:
                        (private if normalise(c) in personal else ignored).append(c)
                    elif fld in columns:
                        problems.append(
                            Problem(name, f"row {n}", c, f"expected one column for {fld!r}, got a second one "
                                    f"(first: {written[fld]!r})")
                        )
                    else:
                        columns[fld] = i
                        written[fld] = c
                missing = [f for f in _REQUIRED[kind] if f not in columns]
                for f in missing:
                    problems.append(
                        Problem(name, f"row {n}", f, "expected a column " + " / ".join(
                            repr(h) for h in _HEADERS[kind][f][:3]) + f" (or {f!r}), got none")
                    )
                if problems:
                    raise DataError(problems, hint="see docs/import.md for the accepted column headers")
            elif n >= 10:
                break
            continue
        if not any(cells):
            continue
        rows.append((n, {f: (cells[i] if i < len(cells) else "") for f, i in columns.items()}))
    if not header_row:
        raise DataError(
            [Problem(name, "rows 1–10", "", f"expected a header row with the {kind} columns "
                     f"(e.g. {', '.join(repr(h[0]) for h in list(_HEADERS[kind].values())[:3])}), got none")],
            hint="see docs/import.md for the accepted column headers",
        )
    return Table(name, header_row, written, tuple(ignored), tuple(private), tuple(rows))


def _match_header(cell: str, index: dict[str, str]) -> str | None:
    if not cell:
        return None
    key = normalise(cell)
    fld = index.get(key)
    if fld is None:  # "统一社会信用代码（注册号）" → try without the parenthesised part
        stripped = re.sub(r"\(.*?\)", "", key)
        fld = index.get(stripped) if stripped != key else None
    return fld


# --------------------------------------------------------------------------- cell conversion


class _Rows:
    """Collects problems for one export (file, row as Excel shows it, header as written)."""

    def __init__(self, table: Table):
        self.table = table
        self.problems: list[Problem] = []

    def error(self, row: int, fld: str, message: str, severity: str = "error") -> None:
        self.problems.append(Problem(self.table.file, f"row {row}", self.table.columns.get(fld, fld), message, severity))

    def convert(self, row: int, fld: str, cells: dict[str, str], conv, default: Any = None) -> Any:
        if fld not in cells:
            return default
        try:
            return conv(cells[fld])
        except ValueError as exc:
            self.error(row, fld, str(exc))
            return _BAD


_BAD = object()


def _show(s: str) -> str:
    return repr(s) if s else "an empty cell"


def _nfkc(s: str) -> str:
    """Full-width digits, letters and punctuation → ASCII (for codes, dates, numbers; never for names)."""
    return unicodedata.normalize("NFKC", s).strip()


def parse_date(s: str) -> date:
    s = _nfkc(s)
    for rx in _DATE_FORMS:
        m = rx.fullmatch(s)
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                raise ValueError(f"expected a valid date, got {s!r} (no such day)") from None
    raise ValueError(f"expected a date such as 2025-03-31, 2025/3/31 or 2025年3月31日, got {_show(s)}")


def _opt_date(s: str) -> date | None:
    return None if _nfkc(s) in ("", "长期", "-") else parse_date(s)


def parse_kind(s: str) -> TargetKind:
    k = KIND_LABELS.get(s) or KIND_LABELS.get(normalise(s))
    if k is not None:
        return k
    if "个体" in s:
        return TargetKind.INDIVIDUAL
    if "合作社" in s:
        return TargetKind.COOPERATIVE
    if any(w in s for w in ("公司", "企业", "厂", "合伙", "分支机构", "独资", "营业单位")):
        return TargetKind.ENTERPRISE
    raise ValueError(
        "expected a 主体类型 such as 有限责任公司, 个体工商户, 农民专业合作社 (or "
        f"{', '.join(TargetKind.keys())}), got {_show(s)}"
    )


def parse_status(s: str) -> RegistrationStatus:
    key = normalise(s)
    st = STATUS_LABELS.get(key) or STATUS_LABELS.get(s)
    if st is None:
        for prefix, value in (("注销", RegistrationStatus.DEREGISTERED), ("吊销", RegistrationStatus.REVOKED),
                              ("撤销", RegistrationStatus.CANCELLED), ("迁出", RegistrationStatus.MOVED_OUT),
                              ("存续", RegistrationStatus.ACTIVE), ("在营", RegistrationStatus.ACTIVE)):
            if key.startswith(prefix):
                return value
        raise ValueError(f"expected a 登记状态 such as 存续, 在营, 注销, 吊销, 撤销, 迁出, got {_show(s)}")
    return st


def parse_yes_no(s: str) -> bool:
    key = normalise(s)
    if key in YES:
        return True
    if key in NO:
        return False
    raise ValueError(f"expected 是 or 否 (or empty), got {_show(s)}")


def parse_credit(s: str) -> CreditClass | None:
    key = normalise(s)
    if key in ("", "-", "未分类", "无"):
        return None
    c = CREDIT_LABELS.get(key)
    if c is None:
        raise ValueError(f"expected a 信用风险分类 A, B, C, D (or 低, 一般, 较高, 高), or empty, got {_show(s)}")
    return c


def parse_division(s: str) -> str:
    s = _nfkc(s)
    m = re.match(r"(\d{6})(?!\d)", s)
    if not m:
        raise ValueError(f"expected a 6-digit 行政区划代码 such as 379902, got {_show(s)}")
    return m[1]


def parse_industries(s: str) -> tuple[str, ...]:
    if not s:
        return ()
    codes = _INDUSTRY.findall(_nfkc(s).upper())
    if not codes:
        raise ValueError(f"expected GB/T 4754 行业代码 such as F5212 (several separated by ;), got {_show(s)}")
    return tuple(dict.fromkeys(codes))


def parse_flags(s: str) -> frozenset[TargetFlag]:
    out = set()
    for part in _LIST_SEP.split(s):
        if not part:
            continue
        f = FLAG_LABELS.get(normalise(part))
        if f is None:
            raise ValueError(
                f"expected flags among {', '.join(m.label for m in TargetFlag)} (or their keys), got {part!r}"
            )
        out.add(f)
    return frozenset(out)


def parse_code(s: str) -> str:
    code = _nfkc(s).upper().replace(" ", "")
    found = uscc.describe_problem(code)
    if found is not None and found[0] == "error":
        raise ValueError(found[1])
    return code


def parse_tags(s: str) -> frozenset[str]:
    return frozenset(p.strip() for p in _LIST_SEP.split(s) if p.strip())


def parse_codes_list(s: str) -> frozenset[str]:
    return frozenset(parse_code(p) for p in re.split(r"[;；,，、\s]+", s) if p)


def _enum_of(table: dict[str, Any], what: str, examples: str):
    def conv(s: str) -> Any:
        v = table.get(s) or table.get(normalise(s))
        if v is None:
            raise ValueError(f"expected {what} such as {examples}, got {_show(s)}")
        return v

    return conv


def _int_at_least(minimum: int, default: int):
    def conv(s: str) -> int:
        s = _nfkc(s)
        if s == "":
            return default
        if not s.isdigit() or int(s) < minimum:
            raise ValueError(f"expected an integer >= {minimum}, got {_show(s)}")
        return int(s)

    return conv


# --------------------------------------------------------------------------- the plan of an import


@dataclass(frozen=True, slots=True)
class Change:
    key: str  # target code, inspector id, or "task/target/department/vN"
    fields: tuple[tuple[str, str, str], ...] = ()  # (field, old, new) for updates


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What an import would do. ``files`` maps data-relative paths to their new full text."""

    kind: str
    table: Table
    added: tuple[Change, ...]
    updated: tuple[Change, ...]
    unchanged: int
    absent: int  # records of the data directory not present in the export (kept as they are)
    files: dict[str, str] = field(default_factory=dict)
    warnings: tuple[Problem, ...] = ()

    @property
    def changes(self) -> bool:
        return bool(self.added or self.updated)

    def report(self, *, limit: int = 20) -> str:
        t = self.table
        lines = [
            f"{self.kind}: {len(t.rows)} rows read from {t.file} (header on row {t.header_row})",
            f"  added      {len(self.added)}",
        ]
        lines += [f"    + {c.key}" for c in self.added[:limit]]
        if len(self.added) > limit:
            lines.append(f"    … and {len(self.added) - limit} more")
        lines.append(f"  updated    {len(self.updated)}")
        for c in self.updated[:limit]:
            lines.append(f"    ~ {c.key}: " + "; ".join(f"{f} {o or '(empty)'} → {n or '(empty)'}" for f, o, n in c.fields))
        if len(self.updated) > limit:
            lines.append(f"    … and {len(self.updated) - limit} more")
        lines.append(f"  unchanged  {self.unchanged}")
        lines.append(f"  not in the export  {self.absent} (kept as they are)")
        if t.ignored:
            lines.append(f"  ignored columns: {', '.join(t.ignored)}")
        if t.personal:
            lines.append(f"  not imported (personal data, 淄博 第二十一条): {', '.join(t.personal)}")
        for w in self.warnings[:limit]:
            lines.append(f"  warning: {w}")
        if len(self.warnings) > limit:
            lines.append(f"  … and {len(self.warnings) - limit} more warnings")
        return "\n".join(lines)


def plan_import(
    kind: str, path: str, data_dir: str, *, sheet: str | None = None, encoding: str | None = None
) -> ImportPlan:
    """Read *path*, check every row, merge with *data_dir*; raise :class:`DataError` listing every
    invalid row. Nothing is written."""
    if kind not in KINDS:
        raise SunshineError(f"expected one of {', '.join(KINDS)}, got {kind!r}")
    v = loading.validate_directory(data_dir)
    if v.errors or v.dataset is None:
        raise SunshineError(
            f"{data_dir}: expected a valid data directory to import into, got {len(v.errors)} error(s)",
            hint=f"run `sunshine validate {data_dir}` and fix the data first",
        )
    table = read_table(path, kind, sheet=sheet, encoding=encoding)
    ds = v.dataset
    if kind == "targets":
        plan = _plan_targets(table, ds)
    elif kind == "inspectors":
        plan = _plan_inspectors(table, ds)
    else:
        plan = _plan_results(table, ds, data_dir)
    if plan.changes:
        problems = _validate_merged(data_dir, plan.files)
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            raise DataError(errors, hint="the merged data would not validate; nothing was written")
        before = {str(p) for p in v.warnings}
        seen = {p.message for p in plan.warnings}  # row warnings already reported against the export
        new = tuple(p for p in problems if str(p) not in before and not (p.file in plan.files and p.message in seen))
        plan = replace(plan, warnings=plan.warnings + new)
    return plan


def apply_import(plan: ImportPlan, data_dir: str) -> list[str]:
    """Write the planned files atomically; return their data-relative paths.

    Two phases: every new file is first written and fsynced next to its destination (``*.tmp``); only
    when all are written are they renamed into place. A failure in the first phase removes the
    temporary files and leaves the data directory untouched.
    """
    staged: list[tuple[str, str]] = []
    try:
        for rel, text in sorted(plan.files.items()):
            path = os.path.join(data_dir, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.tmp"
            staged.append((tmp, path))
            writing.write_text(tmp, text)
    except BaseException:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)
        raise
    done: list[str] = []
    try:
        for tmp, path in staged:
            os.replace(tmp, path)
            done.append(path)
    except OSError as exc:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)
        if not done:
            raise
        raise SunshineError(
            f"{exc.filename or data_dir}: cannot write: {exc.strerror or exc}; already replaced: "
            f"{', '.join(os.path.relpath(p, data_dir) for p in done)}",
            hint="fix the cause and run the same import again: it adds only what is still missing",
        ) from None
    for d in sorted({os.path.dirname(os.path.abspath(p)) for _, p in staged}):
        writing.fsync_dir(d)
    return sorted(plan.files)


def _validate_merged(data_dir: str, files: dict[str, str]) -> list[Problem]:
    """Validate the directory as it would be after the import, in a staging directory of symlinks."""
    with tempfile.TemporaryDirectory(prefix="sunshine-import-") as stage:
        for name in os.listdir(data_dir):
            if name in writing.PRESERVED_ENTRIES:
                continue
            src = os.path.abspath(os.path.join(data_dir, name))
            if name == "results" and any(r.startswith("results/") for r in files):
                os.makedirs(os.path.join(stage, name))
                for f in os.listdir(src):
                    os.symlink(os.path.join(src, f), os.path.join(stage, name, f))
            else:
                os.symlink(src, os.path.join(stage, name))
        for rel, text in files.items():
            path = os.path.join(stage, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if os.path.islink(path):
                os.unlink(path)
            with open(path, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
        return list(loading.validate_directory(stage).problems)


# --------------------------------------------------------------------------- targets


def _target_fields(t: model.Target) -> dict[str, str]:
    return dict(zip(writing.TARGET_COLUMNS, writing.target_row(t)))


def _plan_targets(table: Table, ds: model.Dataset) -> ImportPlan:
    rows = _Rows(table)
    existing = {t.code: t for t in ds.targets}
    seen: dict[str, int] = {}
    imported: list[model.Target] = []
    for n, cells in table.rows:
        code = rows.convert(n, "code", cells, parse_code)
        if code is not _BAD:
            found = uscc.describe_problem(code)
            if found is not None:
                rows.error(n, "code", found[1], found[0])
            if code in seen:
                rows.error(n, "code", f"expected each code once, got {code!r} again (first on row {seen[code]})")
                code = _BAD
            else:
                seen[code] = n
        name = rows.convert(n, "name", cells, _nonempty("名称"))
        kind = rows.convert(n, "kind", cells, parse_kind)
        division = rows.convert(n, "division", cells, parse_division)
        status = rows.convert(n, "status", cells, parse_status)
        old = existing.get(code) if isinstance(code, str) else None
        industries = rows.convert(n, "industries", cells, parse_industries, old.industries if old else ())
        credit = rows.convert(n, "credit_class", cells, parse_credit, old.credit_class if old else None)
        established = rows.convert(n, "established", cells, _opt_date, old.established if old else None)
        flags = rows.convert(n, "flags", cells, parse_flags, old.flags if old else frozenset())
        abnormal = rows.convert(n, "abnormal", cells, parse_yes_no)
        serious = rows.convert(n, "serious_illegal", cells, parse_yes_no)
        values = (code, name, kind, division, status, industries, credit, established, flags, abnormal, serious)
        if any(x is _BAD for x in values):
            continue
        flags = set(flags)
        for fl, on in ((TargetFlag.ABNORMAL, abnormal), (TargetFlag.SERIOUS_ILLEGAL, serious)):
            if on is True:
                flags.add(fl)
            elif on is False:
                flags.discard(fl)
        imported.append(model.Target(code, name, kind, division, industries, status, frozenset(flags), credit, established))
    errors = [p for p in rows.problems if p.severity == "error"]
    if errors:
        raise DataError(errors, hint="fix these rows in the export and import again; nothing was written")

    added, updated, unchanged = [], [], 0
    merged = dict(existing)
    for t in imported:
        old = existing.get(t.code)
        if old is None:
            added.append(Change(t.code))
        elif old != t:
            a, b = _target_fields(old), _target_fields(t)
            updated.append(Change(t.code, tuple((f, a[f], b[f]) for f in writing.TARGET_COLUMNS if a[f] != b[f])))
        else:
            unchanged += 1
        merged[t.code] = t
    absent = len(set(existing) - set(seen))
    files = {}
    if added or updated:
        files["targets.csv"] = writing.csv_text(writing.TARGET_COLUMNS, (writing.target_row(t) for t in merged.values()))
    warnings = tuple(p for p in rows.problems if p.severity != "error")
    return ImportPlan("targets", table, tuple(added), tuple(updated), unchanged, absent, files, warnings)


def _nonempty(what: str):
    def conv(s: str) -> str:
        if not s:
            raise ValueError(f"expected a {what}, got an empty cell")
        return s

    return conv


# --------------------------------------------------------------------------- inspectors


def _department_parser(ds: model.Dataset):
    names: dict[str, str] = {}
    for d in ds.jurisdiction.departments:
        for label in (d.id, d.name, d.short_name):
            names[normalise(label)] = d.id

    def conv(s: str) -> str:
        dept = names.get(normalise(s))
        if dept is None:
            raise ValueError(
                "expected a department of jurisdiction.yaml (id, name or short name, e.g. "
                f"{ds.jurisdiction.departments[0].short_name if ds.jurisdiction.departments else 'amr'}), got {_show(s)}"
            )
        return dept

    return conv


def _plan_inspectors(table: Table, ds: model.Dataset) -> ImportPlan:
    rows = _Rows(table)
    dept_of = _department_parser(ds)
    existing = {i.id: i for i in ds.inspectors}
    by_cert = {i.certificate_no: i for i in ds.inspectors if i.certificate_no}
    by_name = {(i.department, i.name, i.person_type): i for i in ds.inspectors}
    person = _enum_of(PERSON_LABELS, "a 人员类型", "执法人员, 专家, 第三方机构人员")
    status_of = _enum_of(INSPECTOR_STATUS_LABELS, "a 状态", "在岗, 暂停执法, 调离")
    known_targets = ds.target_index()
    next_no: dict[str, int] = {}
    for i in ds.inspectors:
        prefix, _, num = i.id.rpartition("-")
        if num.isdigit():
            next_no[prefix] = max(next_no.get(prefix, 0), int(num))
    seen_ids: dict[str, int] = {}
    imported: list[model.Inspector] = []
    for n, cells in table.rows:
        name = rows.convert(n, "name", cells, _nonempty("姓名"))
        dept = rows.convert(n, "department", cells, dept_of)
        ptype = rows.convert(n, "person_type", cells, person)
        status = rows.convert(n, "status", cells, status_of)
        cert = rows.convert(n, "certificate_no", cells, _nfkc, "")
        valid = rows.convert(n, "certificate_valid_until", cells, _opt_date)
        quals = rows.convert(n, "qualifications", cells, parse_tags)
        expertise = rows.convert(n, "expertise", cells, parse_tags)
        conflicts = rows.convert(n, "conflicts", cells, parse_codes_list)
        capacity = rows.convert(n, "capacity", cells, _int_at_least(1, 10))
        given_id = rows.convert(n, "id", cells, _inspector_id)
        values = (name, dept, ptype, status, cert, valid, quals, expertise, conflicts, capacity, given_id)
        if any(x is _BAD for x in values):
            continue
        if ptype is PersonType.OFFICER and not cert:
            rows.error(n, "certificate_no", "expected a 执法证号 for an officer (执法人员), got an empty cell")
            continue
        if conflicts:
            unknown = sorted(c for c in conflicts if c not in known_targets)
            if unknown:
                rows.error(n, "conflicts", f"expected codes of targets.csv, got unknown {', '.join(unknown)}")
                continue
        old = None
        if given_id:
            old = existing.get(given_id)
        if old is None and cert:
            old = by_cert.get(cert)
        if old is None:
            old = by_name.get((dept, name, ptype)) if not cert else None
        if old is not None:
            iid = old.id
        elif given_id:
            iid = given_id
        else:
            prefix = dept.upper()
            next_no[prefix] = next_no.get(prefix, 0) + 1
            iid = f"{prefix}-{next_no[prefix]:03d}"
        if iid in seen_ids:
            rows.error(n, "id" if given_id else "name", f"expected each inspector once, got {iid} again "
                       f"(first on row {seen_ids[iid]})")
            continue
        seen_ids[iid] = n
        imported.append(
            model.Inspector(
                id=iid,
                department=dept,
                name=name,
                person_type=ptype,
                certificate_no=cert,
                certificate_valid_until=valid if "certificate_valid_until" in cells else (old.certificate_valid_until if old else None),
                qualifications=quals if quals is not None else (old.qualifications if old else frozenset()),
                expertise=expertise if expertise is not None else (old.expertise if old else frozenset()),
                status=status,
                conflicts=conflicts if conflicts is not None else (old.conflicts if old else frozenset()),
                capacity=capacity if capacity is not None else (old.capacity if old else 10),
            )
        )
    errors = [p for p in rows.problems if p.severity == "error"]
    if errors:
        raise DataError(errors, hint="fix these rows in the export and import again; nothing was written")
    added, updated, unchanged = [], [], 0
    merged = dict(existing)
    for i in imported:
        old = existing.get(i.id)
        if old is None:
            added.append(Change(i.id))
        elif old != i:
            a = dict(zip(writing.INSPECTOR_COLUMNS, writing.inspector_row(old)))
            b = dict(zip(writing.INSPECTOR_COLUMNS, writing.inspector_row(i)))
            # the name is internal: say that it changed, never print it
            updated.append(
                Change(i.id, tuple((f, "…" if f == "name" else a[f], "…" if f == "name" else b[f])
                                   for f in writing.INSPECTOR_COLUMNS if a[f] != b[f]))
            )
        else:
            unchanged += 1
        merged[i.id] = i
    absent = len(set(existing) - set(seen_ids))
    files = {}
    if added or updated:
        files["inspectors.csv"] = writing.csv_text(
            writing.INSPECTOR_COLUMNS, (writing.inspector_row(i) for i in merged.values())
        )
    return ImportPlan("inspectors", table, tuple(added), tuple(updated), unchanged, absent, files)


def _inspector_id(s: str) -> str:
    s = _nfkc(s)
    if s and not re.fullmatch(r"[A-Za-z0-9-]+", s):
        raise ValueError(f"expected an id of ASCII letters, digits and '-' (e.g. AMR-007), got {_show(s)}")
    return s


# --------------------------------------------------------------------------- results


def parse_result_codes(s: str) -> tuple[tuple[ResultCode, ...], tuple[PendingSubCode, ...]]:
    """"发现问题待后续处理：未按规定公示应当公示的信息；发现问题已责令改正" → codes and sub-codes."""
    codes: list[ResultCode] = []
    subs: list[PendingSubCode] = []
    for part in _RESULT_SEP.split(s):
        if not part:
            continue
        head, sep, tail = part.partition("：") if "：" in part else part.partition(":")
        code = RESULT_LABELS.get(normalise(head))
        if code is None:
            sub = _sub_code(head)
            if sub is not None and not sep:  # a sub-code on its own implies issue_pending
                if ResultCode.ISSUE_PENDING not in codes:
                    codes.append(ResultCode.ISSUE_PENDING)
                subs.append(sub)
                continue
            raise ValueError(
                "expected 检查结果 such as 未发现问题, 发现问题已责令改正, 发现问题待后续处理：<问题类型>, "
                f"未发现开展本次抽查涉及的经营活动, 注销 (or their keys), got {head!r}"
            )
        if code not in codes:
            codes.append(code)
        if sep:
            for piece in re.split(r"[;；/]+", tail):
                if not piece:
                    continue
                sub = _sub_code(piece)
                if sub is None:
                    raise ValueError(
                        "expected 问题类型 such as 未按规定公示应当公示的信息, 公示信息隐瞒真实情况、弄虚作假, "
                        f"通过登记的住所（经营场所）无法联系, 违反…相关规定, got {piece!r}"
                    )
                subs.append(sub)
    if not codes:
        raise ValueError("expected at least one 检查结果, got an empty cell")
    return tuple(codes), tuple(dict.fromkeys(subs))


def _sub_code(s: str) -> PendingSubCode | None:
    key = normalise(s)
    sub = SUB_LABELS.get(key)
    if sub is None and _DEPT_VIOLATION.fullmatch(s.strip()):
        sub = PendingSubCode.DEPT_VIOLATION
    return sub


def _plan_results(table: Table, ds: model.Dataset, data_dir: str) -> ImportPlan:
    rows = _Rows(table)
    tasks = {t.id: t for t in ds.tasks()}
    dept_of = _department_parser(ds)
    approver = _enum_of(APPROVER_LABELS, "an 审批人", "分管负责人, 主要负责人")
    known_targets = ds.target_index()
    groups: dict[tuple[str, str, str, int], dict[str, Any]] = {}
    for n, cells in table.rows:
        task_id = rows.convert(n, "task", cells, _nonempty("任务编号"))
        target = rows.convert(n, "target", cells, parse_code)
        dept = rows.convert(n, "department", cells, dept_of)
        codes = rows.convert(n, "codes", cells, parse_result_codes)
        subs = rows.convert(n, "sub_codes", cells, lambda s: parse_result_codes(s)[1] if s else (), ())
        note = cells.get("note", "")
        end = rows.convert(n, "inspection_end", cells, parse_date)
        entered = rows.convert(n, "entered", cells, parse_date)
        published = rows.convert(n, "published", cells, parse_date)
        role = rows.convert(n, "approver_role", cells, lambda s: approver(s) if s else ApproverRole.DEPUTY_HEAD,
                            ApproverRole.DEPUTY_HEAD)
        version = rows.convert(n, "version", cells, _int_at_least(1, 1), 1)
        reason = cells.get("correction_reason", "")
        task = tasks.get(task_id) if isinstance(task_id, str) else None
        if isinstance(task_id, str) and task is None:
            rows.error(n, "task", f"expected a task of the plans (e.g. {next(iter(tasks), '2025-01')}), got {task_id!r}")
        if isinstance(target, str) and target not in known_targets:
            rows.error(n, "target", f"expected a code of targets.csv, got {target!r}")
            target = _BAD
        item = _BAD
        if task is not None:
            version_items = ds.items.in_force(task.draw_date) or ds.items.current
            item = _find_item(rows, n, cells.get("item", ""), task, version_items)
            if item is not _BAD and dept is not _BAD and dept not in item.subjects:
                rows.error(n, "department", f"expected a department among the item's 抽查主体 "
                           f"({', '.join(item.subjects)}), got {dept!r}")
                item = _BAD
            if dept is not _BAD and dept not in task.departments:
                rows.error(n, "department", f"expected a department of task {task.id} "
                           f"({', '.join(task.departments)}), got {dept!r}")
                dept = _BAD
        values = (task, target, dept, codes, subs, end, entered, published, role, version, item)
        if task is None or any(x is _BAD for x in values):
            continue
        code_list, sub_list = codes
        sub_list = tuple(dict.fromkeys(sub_list + subs))
        if ResultCode.NO_ISSUE in code_list and len(code_list) > 1:
            rows.error(n, "codes", "expected 未发现问题 alone, got it with other results")
            continue
        if ResultCode.ISSUE_PENDING in code_list and not sub_list:
            rows.error(n, "codes", "expected a 问题类型 with 发现问题待后续处理 (e.g. 发现问题待后续处理：未按规定公示应当公示的信息), got none")
            continue
        if sub_list and ResultCode.ISSUE_PENDING not in code_list:
            rows.error(n, "codes", "expected 发现问题待后续处理 with a 问题类型, got a 问题类型 alone")
            continue
        if version > 1 and (role is not ApproverRole.HEAD or not reason):
            rows.error(n, "version", "expected a correction (版本 > 1) approved by the 主要负责人 with a 更正原因 "
                       "(淄博 第十九条), got " + ("no reason" if not reason else f"approver {role.label}"))
            continue
        if not (end <= entered and end <= published):
            rows.error(n, "published", f"expected 录入日期 and 公示日期 on or after the 检查完成日期 {end}, "
                       f"got {entered} and {published}")
            continue
        key = (task.id, target, dept, version)
        shared = (end, entered, published, role, reason)
        g = groups.get(key)
        if g is None:
            groups[key] = {"row": n, "shared": shared, "items": {}}
        elif g["shared"] != shared:
            rows.error(n, "published", f"expected the same dates, approver and reason as row {g['row']} "
                       f"(the same result), got different ones")
            continue
        g = groups[key]
        if item.id in g["items"]:
            rows.error(n, "item", f"expected each item once per result, got {item.id} again")
            continue
        g["items"][item.id] = model.ItemResult(item.id, code_list, sub_list, note)
    errors = [p for p in rows.problems if p.severity == "error"]
    if errors:
        raise DataError(errors, hint="fix these rows in the export and import again; nothing was written")

    existing = {(r.task, r.target, r.department, r.version): r for r in ds.results}
    added: list[Change] = []
    unchanged = 0
    new_results: list[model.Result] = []
    problems: list[Problem] = []
    for key, g in groups.items():
        end, entered, published, role, reason = g["shared"]
        r = model.Result(key[0], key[1], key[2], tuple(g["items"].values()), end, entered, published, role, key[3], reason)
        label = f"{key[0]}/{key[1]}/{key[2]}/v{key[3]}"
        old = existing.get(key)
        if old is None:
            added.append(Change(label))
            new_results.append(r)
        elif _same_result(old, r):
            unchanged += 1
        else:
            problems.append(
                Problem(table.file, f"row {g['row']}", table.columns.get("codes", "codes"),
                        f"expected the published result {label} unchanged, got different values: a published "
                        f"result never changes, import a correction as version {key[3] + 1} (淄博 第十九条)")
            )
    if problems:
        raise DataError(problems, hint="corrections are new versions; nothing was written")
    files = {}
    if new_results:  # append-only: the rows of published results keep their bytes
        years = {t.id: t.year for t in ds.tasks()}
        by_year: dict[int, list[model.Result]] = {}
        for r in new_results:
            by_year.setdefault(years[r.task], []).append(r)
        for year in sorted(by_year):
            rel = f"results/{year}.csv"
            path = os.path.join(data_dir, rel)
            rows_text = writing.csv_text(writing.RESULT_COLUMNS, (row for r in by_year[year] for row in writing.result_rows(r)))
            if os.path.exists(path):
                with open(path, encoding="utf-8", newline="") as fh:
                    old_text = fh.read()
                if old_text and not old_text.endswith("\n"):
                    old_text += "\n"
                files[rel] = old_text + rows_text.split("\n", 1)[1]
            else:
                files[rel] = rows_text
    absent = len(set(existing) - set(groups))
    return ImportPlan("results", table, tuple(added), (), unchanged, absent, files)


def _same_result(a: model.Result, b: model.Result) -> bool:
    return replace(a, items=tuple(sorted(a.items, key=lambda i: i.item))) == replace(
        b, items=tuple(sorted(b.items, key=lambda i: i.item))
    )


def _find_item(rows: _Rows, n: int, cell: str, task: model.Task, version: model.ItemListVersion) -> Any:
    mine = [version.item(i) for i in task.items if any(it.id == i for it in version.items)]
    for it in mine:
        if cell.upper() == it.id or normalise(cell) == normalise(it.name):
            return it
    rows.error(n, "item", f"expected an item of task {task.id} ({', '.join(it.id for it in mine)}, by id or name), "
               f"got {_show(cell)}")
    return _BAD
