"""Open-data downloads: CSV (UTF-8 with BOM, for Excel) and JSON of the published records, and a
Frictionless Data Package descriptor (``data/datapackage.json``, https://specs.frictionlessdata.io/).

Only allow-listed fields (:mod:`.privacy`) are written. Lists inside a CSV cell are ``;``-separated,
as in the input format. Files are byte-deterministic for the same data (sorted rows, fixed key order).

The bytes are those of :func:`csv.writer` (excel dialect, CRLF) and of ``json.JSONEncoder(
ensure_ascii=False, separators=(", ", ": "))`` with one record per line, but the files are written
line by line from memoised encoded pieces (a province has ~400,000 result rows and the downloads
are rebuilt on every build); ``tests/test_portal_opendata.py`` keeps the straightforward encoder
(a dict per row) and checks that both give the same bytes, on hostile strings too.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from operator import attrgetter, itemgetter

from .. import model
from . import privacy
from .privacy import dept_label, iso, percent
from .views import Index

LICENSE = {"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/", "title": "署名 4.0 国际"}


_jstr = json.encoder.encode_basestring  # the C function JSONEncoder(ensure_ascii=False) applies to a str

# The files are built as UTF-8 bytes, line by line from memoised pieces: joining str lines first
# and encoding once is slower, as one non-BMP character (a rare CJK ideograph in a name) makes
# the joined str four bytes per character.


def _cell(s: str) -> str:
    """*s* as :func:`csv.writer` (excel dialect, minimal quoting) writes it as one field of a row
    of several: a field holding none of ``,`` ``"`` CR LF as it is, any other through the csv module."""
    if "," in s or '"' in s or "\r" in s or "\n" in s:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerow((s, ""))
        return buf.getvalue()[:-3]  # without the empty second field and the line end: ',\r\n'
    return s


class _Encoded(dict):
    """value → (CSV field, JSON value) in UTF-8, memoised (labels, ids, names and dates recur).

    A value is a str, an int, or a tuple of str (``;``-joined in CSV, an array in JSON)."""

    def __missing__(self, value: str | int | tuple[str, ...]) -> tuple[bytes, bytes]:
        if isinstance(value, str):
            v = (_cell(value).encode("utf-8"), _jstr(value).encode("utf-8"))
        elif value.__class__ is int:  # not a bool (JSON true)
            v = (int.__repr__(value).encode(),) * 2
        elif isinstance(value, tuple):
            v = (_cell(";".join(value)).encode("utf-8"), b"[" + b", ".join([self[x][1] for x in value]) + b"]")
        else:
            raise TypeError(f"open data: expected a str, int or tuple of str, got {value!r}")
        self[value] = v
        return v


_first, _second = itemgetter(0), itemgetter(1)


def _lines(fields: list[str], rows, enc: _Encoded) -> tuple[list[bytes], list[bytes]]:
    """CSV lines (without their CRLF) and JSON records of *rows* (sequences of values in *fields* order).

    A JSON record is what JSONEncoder(separators=(", ", ": ")) writes for the dict of the row."""
    template = b"{" + b", ".join(_jstr(f).encode("utf-8").replace(b"%", b"%%") + b": %b" for f in fields) + b"}"
    csv_lines, json_lines = [], []
    get = enc.__getitem__
    for row in rows:
        pairs = list(map(get, row))
        csv_lines.append(b",".join(map(_first, pairs)))
        json_lines.append(template % tuple(map(_second, pairs)))
    return csv_lines, json_lines


def _csv(fields: list[str], lines: list[bytes]) -> bytes:
    """UTF-8 with a BOM (for Excel), a header row of the field names, CRLF after every row.

    *lines* are consumed (its first and last entries are extended, so the file is joined in one copy)."""
    lines.insert(0, b"\xef\xbb\xbf" + ",".join(_cell(f) for f in fields).encode("utf-8"))
    lines[-1] += b"\r\n"
    return b"\r\n".join(lines)


def _json(lines: list[bytes]) -> bytes:
    """A JSON array, one record per line (readable): ``[\n{…},\n{…}\n]\n``. *lines* are consumed."""
    if not lines:
        return b"[\n\n]\n"
    lines[0] = b"[\n" + lines[0]
    lines[-1] += b"\n]\n"
    return b",\n".join(lines)


def item_lines(ds: model.Dataset, enc: _Encoded) -> tuple[list[bytes], list[bytes]]:
    rows = []
    for v in ds.items.versions:
        for it in v.items:
            rows.append((
                v.version, iso(v.published), it.id, dept_label(ds, it.department), it.name, it.item_class.label,
                tuple(dept_label(ds, s) for s in it.subjects), tuple(k.label for k in it.target_kinds), it.content,
                it.legal_basis, tuple(m.label for m in it.methods), percent(it.ratio_cap), it.frequency,
            ))
    return _lines(list(ITEM_FIELDS), rows, enc)


def task_lines(ds: model.Dataset, enc: _Encoded) -> tuple[list[bytes], list[bytes]]:
    rows = []
    for p in ds.plans:
        v = p.current
        for t in v.tasks:
            rows.append((
                t.id, t.year, v.version, t.name, tuple(t.items), dept_label(ds, t.lead),
                tuple(dept_label(ds, d) for d in t.participants), "是" if t.joint else "否", t.notice.label,
                iso(t.draw_date), iso(t.start), iso(t.end),
                tuple(f"{s.label} {percent(s.ratio)}" for s in t.strata), t.description,
            ))
    return _lines(list(TASK_FIELDS), rows, enc)


class _Memo(dict):
    """key → make(key), memoised."""

    def __init__(self, make) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, key):
        v = self[key] = self.make(key)
        return v


def result_lines(ds: model.Dataset, ix: Index, enc: _Encoded) -> tuple[list[bytes], list[bytes]]:
    """One record per item of every version of every result, by (task, target, department, version),
    with the fields of :data:`RESULT_FIELDS` in their order (the tests compare with a dict per row).

    The bulk of the downloads (≈ 2 records per result): each result's leading and trailing fields
    are encoded once for all its items, and the middle ones (item, codes, sub-codes) once per build."""
    item_names = ix.item_names

    def middle(key: tuple) -> tuple[bytes, bytes]:  # the fields from "item" to "note"
        item, codes, sub_codes, dep = key
        i_c, i_j = enc[item]
        n_c, n_j = enc[item_names.get(item, "")]
        c_c, c_j = enc[tuple(c.label for c in codes)]
        s_c, s_j = enc[tuple(privacy.sub_code_label(ds, s, dep) for s in sub_codes)]
        return (b"%b,%b,%b,%b," % (i_c, n_c, c_c, s_c),
                b'%b, "item_name": %b, "codes": %b, "sub_codes": %b, "note": ' % (i_j, n_j, c_j, s_j))

    middles = _Memo(middle)
    depts = _Memo(lambda d: enc[dept_label(ds, d)])
    dates = _Memo(lambda d: enc[iso(d)])
    roles = _Memo(lambda r: enc[r.label])
    csv_lines: list[bytes] = []
    json_lines: list[bytes] = []
    csv_line, json_line = csv_lines.append, json_lines.append
    join = b"".join
    by_target_department = attrgetter("target", "department")
    for task in sorted(ix.by_task):
        task_c, task_j = enc[task]
        for g in sorted(ix.by_task[task], key=by_target_department):
            target_c, target_j = enc[g.target]
            name_c, name_j = enc[ix.target_pub(g.target)["name"]]
            for r in g.versions:
                dep = r.department
                d_c, d_j = depts[dep]
                v = enc[r.version][0]
                ie_c, ie_j = dates[r.inspection_end]
                en_c, en_j = dates[r.entered]
                pu_c, pu_j = dates[r.published]
                ro_c, ro_j = roles[r.approver_role]
                re_c, re_j = enc[r.correction_reason]
                head_c = b"%b,%b,%b,%b,%b," % (task_c, target_c, name_c, d_c, v)
                tail_c = b",%b,%b,%b,%b,%b" % (ie_c, en_c, pu_c, ro_c, re_c)
                head_j = (b'{"task": %b, "target": %b, "target_name": %b, "department": %b, "version": %b, "item": '
                          % (task_j, target_j, name_j, d_j, v))
                tail_j = (b', "inspection_end": %b, "entered": %b, "published": %b, "approver_role": %b, '
                          b'"correction_reason": %b}' % (ie_j, en_j, pu_j, ro_j, re_j))
                for ir in r.items:
                    m_c, m_j = middles[(ir.item, ir.codes, ir.sub_codes, dep)]
                    note = ir.note
                    if note:
                        n_c, n_j = _cell(note).encode("utf-8"), _jstr(note).encode("utf-8")
                        csv_line(join((head_c, m_c, n_c, tail_c)))
                        json_line(join((head_j, m_j, n_j, tail_j)))
                    else:
                        csv_line(join((head_c, m_c, tail_c)))
                        json_line(join((head_j, m_j, b'""', tail_j)))
    return csv_lines, json_lines


def enterprise_lines(ix: Index, enc: _Encoded) -> tuple[list[bytes], list[bytes]]:
    """The public fields of every inspected target, by code."""
    fields = list(ENTERPRISE_FIELDS)
    return _lines(fields, ([t[k] for k in fields] for t in map(ix.target_pub, sorted(ix.by_target))), enc)


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
    enc = _Encoded()
    lines = {"items": item_lines(ds, enc), "tasks": task_lines(ds, enc), "results": result_lines(ds, ix, enc),
             "enterprises": enterprise_lines(ix, enc)}
    out: dict[str, bytes] = {}
    resources = []
    for name, title, fields in RESOURCES:
        csv_lines, json_lines = lines.pop(name)
        data = _csv(list(fields), csv_lines)
        out[f"data/{name}.csv"] = data
        out[f"data/{name}.json"] = _json(json_lines)
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
