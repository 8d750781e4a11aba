"""What the portal may publish: the allow-list, and the projections that apply it.

The portal never hands a model record to a template. Every record goes through one of the
``public_*`` functions below, which copy *only* the allow-listed fields into a plain dict
(淄博 第二十一条: 市场主体和执法检查人员信息 used only for this purpose — publish the minimum).
``content/pages/privacy.md`` states the same list for readers; ``tests/test_portal_privacy.py``
checks that the two agree and scans the built site for what must never appear.

Never published:

* inspectors' names, 执法证号 (certificate numbers), certificate validity, qualifications,
  expertise, status, declared conflicts — an inspector appears only as its pseudonymous id and
  department;
* a target's 信用风险分类 (credit class) and internal flags (异常名录 etc. are used for strata;
  stratum membership built on credit classes is sealed), industries, status, founding date;
* anything about the operator of a 个体工商户 (name, ID-card number, phone): the directory holds
  none of it and the portal emits no free field that could carry it, except a result's public
  ``note`` (published by the department as a public remark).
"""

from __future__ import annotations

import re
from datetime import date
from fractions import Fraction
from urllib.parse import quote

from .. import model
from ..vocabulary import PendingSubCode

# field name → Chinese column label. The order is the order of the open-data files.
PUBLIC_TARGET_FIELDS: dict[str, str] = {
    "code": "统一社会信用代码（或注册号、对象编号）",
    "name": "名称",
    "kind": "对象类型",
    "division": "行政区划代码",
}
PUBLIC_INSPECTOR_FIELDS: dict[str, str] = {
    "id": "执法检查人员编号（化名）",
    "department": "所属部门",
}
PUBLIC_RESULT_FIELDS: dict[str, str] = {
    "task": "抽查任务编号",
    "target": "检查对象代码",
    "target_name": "检查对象名称",
    "department": "检查部门",
    "version": "版本（1为原始公示，2起为更正）",
    "item": "抽查事项编号",
    "item_name": "抽查事项",
    "codes": "检查结果",
    "sub_codes": "问题类型",
    "note": "备注",
    "inspection_end": "检查结束日期",
    "entered": "录入日期",
    "published": "公示日期",
    "approver_role": "审批人职务",
    "correction_reason": "更正原因",
}
PUBLIC_TASK_FIELDS: dict[str, str] = {
    "id": "任务编号",
    "year": "年度",
    "name": "任务名称",
    "items": "抽查事项",
    "lead": "发起（牵头）部门",
    "participants": "参与（配合）部门",
    "joint": "是否部门联合",
    "notice": "告知方式",
    "draw_date": "计划抽取日期",
    "start": "检查开始日期",
    "end": "检查结束日期",
    "strata": "抽查比例（分层）",
    "description": "说明",
}
PUBLIC_ITEM_FIELDS: dict[str, str] = {
    "id": "事项编号",
    "department": "所属部门",
    "name": "抽查事项",
    "item_class": "事项类别",
    "subjects": "抽查主体",
    "target_kinds": "抽查对象",
    "content": "抽查内容",
    "legal_basis": "抽查依据",
    "methods": "抽查方式",
    "ratio_cap": "抽查比例上限",
    "frequency": "抽查频次",
}

# What the model holds but the portal must never emit (the privacy test looks for these too).
NEVER_PUBLISHED: dict[str, tuple[str, ...]] = {
    "Target": ("credit_class", "flags", "industries", "status", "established"),
    "Inspector": (
        "name",
        "person_type",
        "certificate_no",
        "certificate_valid_until",
        "qualifications",
        "expertise",
        "status",
        "conflicts",
        "capacity",
    ),
}


def percent(r: Fraction | None) -> str:
    """``Fraction(1, 20)`` → ``"5%"``; exact, with up to two decimals (``"0.25%"``)."""
    if r is None:
        return ""
    hundredths = r * 10000
    if hundredths.denominator == 1:
        n = hundredths.numerator
        whole, frac = divmod(n, 100)
        return f"{whole}%" if frac == 0 else f"{whole}.{frac:02d}".rstrip("0") + "%"
    return f"{float(r * 100):.2f}%"


def iso(d: date | None) -> str:
    return d.isoformat() if d else ""


_URL_SAFE = re.compile(r"[A-Za-z0-9_.-]+")


def target_slug(code: str) -> str:
    """The URL path segment of a target page (codes are ASCII; anything else is percent-quoted)."""
    if _URL_SAFE.fullmatch(code) and code not in (".", ".."):
        return code
    return quote(code, safe="-_").replace(".", "%2E")


_dept_labels: tuple[object, dict[str, str]] = (None, {})


def dept_label(ds: model.Dataset, dept_id: str) -> str:
    """A department's short name (its id when the jurisdiction has no such department).

    Called for every result shown: the id → name map is built once per (immutable) jurisdiction
    object instead of scanning the department list each time."""
    global _dept_labels
    j = ds.jurisdiction
    if _dept_labels[0] is not j:
        labels: dict[str, str] = {}
        for d in j.departments:
            labels.setdefault(d.id, d.short_name)  # the first one, as Jurisdiction.department()
        _dept_labels = (j, labels)
    return _dept_labels[1].get(dept_id, dept_id)


def public_target(t: model.Target) -> dict:
    return {
        "code": t.code,
        "name": t.name,
        "kind": t.kind.label,
        "division": t.division,
        "url": f"enterprises/{target_slug(t.code)}/",
    }


def unknown_target(code: str) -> dict:
    """A result names a target code that is not in the directory (shown, not invented)."""
    return {"code": code, "name": "（名录库中无此对象）", "kind": "", "division": "",
            "url": f"enterprises/{target_slug(code)}/"}


def public_inspector(inspector_id: str, department: str) -> dict:
    return {"id": inspector_id, "department": department}


def public_item(ds: model.Dataset, it: model.Item) -> dict:
    return {
        "id": it.id,
        "department": dept_label(ds, it.department),
        "department_id": it.department,
        "name": it.name,
        "item_class": it.item_class.label,
        "focus": it.item_class.value == "focus",
        "subjects": [dept_label(ds, s) for s in it.subjects],
        "target_kinds": [k.label for k in it.target_kinds],
        "content": it.content,
        "legal_basis": it.legal_basis,
        "methods": [m.label for m in it.methods],
        "ratio_cap": percent(it.ratio_cap),
        "frequency": it.frequency,
    }


def sub_code_label(ds: model.Dataset, code: PendingSubCode, department: str) -> str:
    if code is PendingSubCode.DEPT_VIOLATION:
        return code.label.format(department=dept_label(ds, department))
    return code.label


def public_stratum(s: model.Stratum) -> dict:
    if s.sealed:
        basis = "按信用风险分类（各对象所属分层不公开，仅公开分层人数与抽取数）"
    elif s.flags:
        basis = "、".join(f.label for f in s.flags)
    else:
        basis = "其余对象"
    return {"id": s.id, "label": s.label, "ratio": percent(s.ratio), "minimum": s.minimum,
            "basis": basis, "sealed": s.sealed}


def public_task(ds: model.Dataset, task: model.Task, item_names: dict[str, str]) -> dict:
    sc = task.scope
    return {
        "id": task.id,
        "year": task.year,
        "name": task.name,
        "url": f"tasks/{task.id}/",
        "items": [{"id": i, "name": item_names.get(i, "")} for i in task.items],
        "lead": dept_label(ds, task.lead),
        "lead_id": task.lead,
        "participants": [dept_label(ds, p) for p in task.participants],
        "departments": [dept_label(ds, d) for d in task.departments],
        "joint": task.joint,
        "notice": task.notice.label,
        "no_notice": task.notice.value == "no_notice",
        "draw_date": iso(task.draw_date),
        "start": iso(task.start),
        "end": iso(task.end),
        "scope": {
            "kinds": [k.label for k in sc.kinds],
            "divisions": list(sc.divisions),
            "industries": list(sc.industries),
            "statuses": [s.label for s in sc.statuses],
        },
        "strata": [public_stratum(s) for s in task.strata],
        "team": {
            "min_officers": task.team.min_officers,
            "per_department": task.team.per_department,
            "experts": task.team.experts,
            "qualifications": list(task.team.qualifications),
        },
        "description": task.description,
    }


def public_result(ds: model.Dataset, r: model.Result, item_names: dict[str, str]) -> dict:
    return {
        "task": r.task,
        "target": r.target,
        "department": dept_label(ds, r.department),
        "department_id": r.department,
        "version": r.version,
        "items": [
            {
                "id": ir.item,
                "name": item_names.get(ir.item, ""),
                "codes": [c.label for c in ir.codes],
                "code_keys": [c._value_ for c in ir.codes],  # .value, without Enum's descriptor
                "sub_codes": [sub_code_label(ds, s, r.department) for s in ir.sub_codes],
                "note": ir.note,
            }
            for ir in r.items
        ],
        "codes": [c.label for c in r.codes],
        "code_keys": [c._value_ for c in r.codes],
        "inspection_end": iso(r.inspection_end),
        "entered": iso(r.entered),
        "published": iso(r.published),
        "approver_role": r.approver_role.label,
        "correction_reason": r.correction_reason,
    }
