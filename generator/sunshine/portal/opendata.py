"""Open-data downloads: CSV (UTF-8 with BOM, for Excel) and JSON of the published records, and a
Frictionless Data Package descriptor (``data/datapackage.json``, https://specs.frictionlessdata.io/).

Only allow-listed fields (:mod:`.privacy`) are written. Lists inside a CSV cell are ``;``-separated,
as in the input format. Files are byte-deterministic for the same data (sorted rows, fixed key order).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json

from .. import model
from . import privacy
from .privacy import dept_label, iso, percent
from .views import Index

LICENSE = {"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/", "title": "署名 4.0 国际"}


def _csv(fields: list[str], rows: list[dict]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(fields)
    for r in rows:
        w.writerow([";".join(v) if isinstance(v, list) else v for v in (r[f] for f in fields)])
    return buf.getvalue().encode("utf-8-sig")


def _json(rows: list[dict]) -> bytes:
    """A JSON array, one record per line (readable, and each record goes through the C encoder)."""
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
    return ("[\n" + ",\n".join(dumps(r) for r in rows) + "\n]\n").encode("utf-8")


def item_rows(ds: model.Dataset) -> list[dict]:
    rows = []
    for v in ds.items.versions:
        for it in v.items:
            rows.append({
                "list_version": v.version, "published": iso(v.published), "id": it.id,
                "department": dept_label(ds, it.department), "name": it.name, "item_class": it.item_class.label,
                "subjects": [dept_label(ds, s) for s in it.subjects],
                "target_kinds": [k.label for k in it.target_kinds], "content": it.content,
                "legal_basis": it.legal_basis, "methods": [m.label for m in it.methods],
                "ratio_cap": percent(it.ratio_cap), "frequency": it.frequency,
            })
    return rows


def task_rows(ds: model.Dataset) -> list[dict]:
    rows = []
    for p in ds.plans:
        v = p.current
        for t in v.tasks:
            rows.append({
                "id": t.id, "year": t.year, "plan_version": v.version, "name": t.name, "items": list(t.items),
                "lead": dept_label(ds, t.lead), "participants": [dept_label(ds, d) for d in t.participants],
                "joint": "是" if t.joint else "否", "notice": t.notice.label, "draw_date": iso(t.draw_date),
                "start": iso(t.start), "end": iso(t.end),
                "strata": [f"{s.label} {percent(s.ratio)}" for s in t.strata], "description": t.description,
            })
    return rows


def result_rows(ds: model.Dataset, ix: Index) -> list[dict]:
    rows = []
    for g in sorted(ix.groups, key=lambda g: (g.task, g.target, g.department)):
        name = ix.target_pub(g.target)["name"]
        for r in g.versions:
            for ir in r.items:
                rows.append({
                    "task": r.task, "target": r.target, "target_name": name,
                    "department": dept_label(ds, r.department), "version": r.version, "item": ir.item,
                    "item_name": ix.item_names.get(ir.item, ""), "codes": [c.label for c in ir.codes],
                    "sub_codes": [privacy.sub_code_label(ds, s, r.department) for s in ir.sub_codes],
                    "note": ir.note, "inspection_end": iso(r.inspection_end), "entered": iso(r.entered),
                    "published": iso(r.published), "approver_role": r.approver_role.label,
                    "correction_reason": r.correction_reason,
                })
    return rows


def enterprise_rows(ix: Index) -> list[dict]:
    return [{k: t[k] for k in privacy.PUBLIC_TARGET_FIELDS} for t in
            (ix.target_pub(code) for code in sorted(ix.by_target))]


ITEM_FIELDS = {"list_version": ("清单版本", "integer"), "published": ("公布日期", "date"),
               **{k: (v, "string") for k, v in privacy.PUBLIC_ITEM_FIELDS.items()}}
TASK_FIELDS = {"id": ("任务编号", "string"), "year": ("年度", "integer"), "plan_version": ("计划版本", "integer"),
               **{k: (v, "string") for k, v in privacy.PUBLIC_TASK_FIELDS.items() if k not in ("id", "year")}}
RESULT_FIELDS = {k: (v, "string") for k, v in privacy.PUBLIC_RESULT_FIELDS.items()}
ENTERPRISE_FIELDS = {k: (v, "string") for k, v in privacy.PUBLIC_TARGET_FIELDS.items()}
for _fields in (TASK_FIELDS,):
    for _k in ("draw_date", "start", "end"):
        _fields[_k] = (_fields[_k][0], "date")
for _k in ("inspection_end", "entered", "published"):
    RESULT_FIELDS[_k] = (RESULT_FIELDS[_k][0], "date")
RESULT_FIELDS["version"] = (RESULT_FIELDS["version"][0], "integer")

RESOURCES = (
    ("items", "随机抽查事项清单（全部版本）", ITEM_FIELDS),
    ("tasks", "年度抽查计划中的抽查任务（现行版本）", TASK_FIELDS),
    ("results", "检查结果（含更正，全部版本）", RESULT_FIELDS),
    ("enterprises", "被检查对象（仅公开字段）", ENTERPRISE_FIELDS),
)


def files(ds: model.Dataset, ix: Index) -> dict[str, bytes]:
    """``{relative path: bytes}`` of every download, the descriptor last."""
    rows = {"items": item_rows(ds), "tasks": task_rows(ds), "results": result_rows(ds, ix),
            "enterprises": enterprise_rows(ix)}
    out: dict[str, bytes] = {}
    resources = []
    for name, title, fields in RESOURCES:
        data = _csv(list(fields), rows[name])
        out[f"data/{name}.csv"] = data
        out[f"data/{name}.json"] = _json(rows[name])
        resources.append({
            "name": name,
            "title": title,
            "path": f"{name}.csv",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8-sig",
            "bytes": len(data),
            "hash": "sha256:" + hashlib.sha256(data).hexdigest(),
            "dialect": {"delimiter": ",", "lineTerminator": "\r\n", "header": True},
            "schema": {"fields": [{"name": k, "title": t, "type": ty} for k, (t, ty) in fields.items()]},
        })
    j = ds.jurisdiction
    package = {
        "profile": "tabular-data-package",
        "name": f"sunshine-{j.id}",
        "title": f"{j.name}“双随机、一公开”抽查公示数据" + ("（示例数据，虚构）" if j.sample else ""),
        "licenses": [LICENSE],
        "sources": [{"title": f"{j.name}“双随机、一公开”监管信息公示"}],
        "resources": resources,
    }
    out["data/datapackage.json"] = (json.dumps(package, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    return out


def listing(out: dict[str, bytes]) -> list[dict]:
    titles = {name: title for name, title, _ in RESOURCES}
    rows = []
    for name, title in titles.items():
        rows.append({"title": title, "csv": f"data/{name}.csv", "json": f"data/{name}.json",
                     "csv_size": _size(len(out[f"data/{name}.csv"])),
                     "json_size": _size(len(out[f"data/{name}.json"])),
                     "sha256": hashlib.sha256(out[f"data/{name}.csv"]).hexdigest()})
    return rows


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n / 1024 / 1024:.1f} MiB"
