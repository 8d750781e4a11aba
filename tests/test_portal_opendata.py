"""The open-data downloads (``sunshine.portal.opendata``): the fast line-by-line encoder gives
exactly the bytes of the straightforward one — a dict per row, ``csv.writer`` and ``json`` — kept
below as the reference (it is the code the module had before it was made fast).

Compared on the committed sample data, on demo data with results (corrections, sub-codes, notes),
on the portal tests' hostile data, and on generated data whose strings carry quotes, commas,
CR/LF, ``<script>``, ``%`` and non-BMP characters, with empty lists and unknown targets.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sunshine import cli, loading, model
from sunshine.portal import opendata, privacy, views
from sunshine.portal.privacy import dept_label, iso, percent

REPO = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- the reference


def ref_csv(fields: list[str], rows: list[dict]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(fields)
    for r in rows:
        w.writerow([";".join(v) if isinstance(v, list) else v for v in (r[f] for f in fields)])
    return buf.getvalue().encode("utf-8-sig")


def ref_json(rows: list[dict]) -> bytes:
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
    return ("[\n" + ",\n".join(dumps(r) for r in rows) + "\n]\n").encode("utf-8")


def ref_item_rows(ds: model.Dataset) -> list[dict]:
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


def ref_task_rows(ds: model.Dataset) -> list[dict]:
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


def ref_result_rows(ds: model.Dataset, ix: views.Index) -> list[dict]:
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


def ref_enterprise_rows(ix: views.Index) -> list[dict]:
    return [{k: t[k] for k in privacy.PUBLIC_TARGET_FIELDS} for t in
            (ix.target_pub(code) for code in sorted(ix.by_target))]


def ref_files(ds: model.Dataset, ix: views.Index) -> dict[str, bytes]:
    rows = {"items": ref_item_rows(ds), "tasks": ref_task_rows(ds), "results": ref_result_rows(ds, ix),
            "enterprises": ref_enterprise_rows(ix)}
    out: dict[str, bytes] = {}
    resources = []
    for name, title, fields in opendata.RESOURCES:
        data = ref_csv(list(fields), rows[name])
        out[f"data/{name}.csv"] = data
        out[f"data/{name}.json"] = ref_json(rows[name])
        resources.append({
            "name": name, "title": title, "path": f"{name}.csv", "format": "csv", "mediatype": "text/csv",
            "encoding": "utf-8-sig", "bytes": len(data), "hash": "sha256:" + hashlib.sha256(data).hexdigest(),
            "dialect": {"delimiter": ",", "lineTerminator": "\r\n", "header": True},
            "schema": {"fields": [{"name": k, "title": t, "type": ty} for k, (t, ty) in fields.items()]},
        })
    j = ds.jurisdiction
    package = {
        "profile": "tabular-data-package",
        "name": f"sunshine-{j.id}",
        "title": f"{j.name}“双随机、一公开”抽查公示数据" + ("（示例数据，虚构）" if j.sample else ""),
        "licenses": [opendata.LICENSE],
        "sources": [{"title": f"{j.name}“双随机、一公开”监管信息公示"}],
        "resources": resources,
    }
    out["data/datapackage.json"] = (json.dumps(package, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    return out


def assert_same(ds: model.Dataset) -> dict[str, bytes]:
    ix = views.Index(ds)
    fast = opendata.files(ds, ix)
    ref = ref_files(ds, ix)
    assert list(fast) == list(ref)
    for path in ref:
        assert fast[path] == ref[path], f"{path} differs from the reference encoder"
    return fast


# --------------------------------------------------------------------------- data


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> model.Dataset:
    """Demo data with stand-in results: corrections, sub-codes and notes, several items per result."""
    out = tmp_path_factory.mktemp("opendata") / "data"
    assert cli.main(["demo-data", "--scale", "2000", "--tasks", "30", "--no-ledger", "--results", "600",
                     "--out", str(out)]) == 0
    return loading.load_dataset(out)


def test_same_bytes_as_the_reference_on_the_committed_sample_data():
    out = assert_same(loading.load_dataset(REPO / "data"))
    assert out["data/results.csv"].count(b"\r\n") > 1


def test_same_bytes_as_the_reference_on_demo_results(demo):
    assert sum(r.version > 1 for r in demo.results) and any(ir.sub_codes for r in demo.results for ir in r.items)
    assert any(ir.note for r in demo.results for ir in r.items)
    out = assert_same(demo)
    rows = json.loads(out["data/results.json"])
    assert len(rows) == sum(len(r.items) for r in demo.results)


def test_same_bytes_as_the_reference_on_the_portal_hostile_data(tmp_path):
    from portal_site import HOSTILE_NAME, HOSTILE_NOTE, make_data

    ds = loading.load_dataset(make_data(tmp_path))
    out = assert_same(ds)
    assert HOSTILE_NAME in out["data/enterprises.json"].decode() or json.dumps(HOSTILE_NAME, ensure_ascii=False)[1:-1] \
        in out["data/enterprises.json"].decode()
    assert any(r["note"] == HOSTILE_NOTE for r in json.loads(out["data/results.json"]))


def test_empty_dataset_parts(demo):
    """No results at all: header-only CSV files and empty JSON arrays, as the reference writes them."""
    out = assert_same(dataclasses.replace(demo, results=()))
    assert out["data/results.json"] == b"[\n\n]\n"
    assert out["data/enterprises.csv"].count(b"\r\n") == 1


# hostile strings: the characters CSV and JSON treat specially, markup, format directives,
# non-BMP characters, and everything else unicode has (except lone surrogates, which no loaded
# file can hold and UTF-8 cannot encode)
TOKENS = [",", '"', "\r", "\n", "\r\n", '""', "<script>alert(1)</script>", "%", "%s", "%b", "\\", "\t", " ",
          "\u2028", "\x00", "\x7f", "𠀀", "😀", "\ufeff", "名称", "a"]
hostile = st.lists(st.sampled_from(TOKENS) | st.characters(blacklist_categories=("Cs",)), max_size=8).map("".join)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_same_bytes_as_the_reference_on_hostile_strings(demo, data):
    draw = data.draw
    j = demo.jurisdiction
    departments = tuple(dataclasses.replace(d, short_name=draw(hostile)) for d in j.departments)
    jurisdiction = dataclasses.replace(j, departments=departments, name=draw(hostile))
    targets = list(demo.targets)
    inspected = sorted({r.target for r in demo.results})
    index = {t.code: i for i, t in enumerate(targets)}
    for code in draw(st.lists(st.sampled_from(inspected), max_size=20)):
        targets[index[code]] = dataclasses.replace(targets[index[code]], name=draw(hostile), division=draw(hostile))
    results = list(demo.results)
    for i in draw(st.lists(st.integers(0, len(results) - 1), max_size=30)):
        r = results[i]
        items = tuple(dataclasses.replace(ir, note=draw(hostile),
                                          sub_codes=ir.sub_codes if draw(st.booleans()) else ())
                      for ir in r.items)
        kw = {"items": items}
        if draw(st.booleans()):
            kw["correction_reason"] = draw(hostile)
        if draw(st.booleans()):
            kw["target"] = "X-" + draw(hostile)  # not in the directory: an unknown target
        results[i] = dataclasses.replace(r, **kw)
    versions = []
    for v in demo.items.versions:
        its = list(v.items)
        for k in draw(st.lists(st.integers(0, len(its) - 1), max_size=5)):
            its[k] = dataclasses.replace(its[k], name=draw(hostile), content=draw(hostile),
                                         legal_basis=draw(hostile), frequency=draw(hostile),
                                         subjects=() if draw(st.booleans()) else its[k].subjects)
        versions.append(dataclasses.replace(v, items=tuple(its)))
    plans = []
    for p in demo.plans:
        pv = []
        for v in p.versions:
            ts = list(v.tasks)
            for k in draw(st.lists(st.integers(0, len(ts) - 1), max_size=5)):
                ts[k] = dataclasses.replace(ts[k], name=draw(hostile), description=draw(hostile),
                                            participants=(), strata=() if draw(st.booleans()) else ts[k].strata)
            pv.append(dataclasses.replace(v, tasks=tuple(ts)))
        plans.append(dataclasses.replace(p, versions=tuple(pv)))
    ds = dataclasses.replace(demo, jurisdiction=jurisdiction, targets=tuple(targets), results=tuple(results),
                             items=dataclasses.replace(demo.items, versions=tuple(versions)), plans=tuple(plans))
    assert_same(ds)


@settings(max_examples=300, deadline=None)
@given(hostile)
def test_a_csv_field_is_what_csv_writer_writes(s):
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(["a", s, "b"])
    assert buf.getvalue() == f"a,{opendata._cell(s)},b\r\n"


def test_unexpected_value_types_are_refused():
    with pytest.raises(TypeError, match="expected a str, int or tuple of str, got 1.5"):
        opendata._Encoded()[1.5]
