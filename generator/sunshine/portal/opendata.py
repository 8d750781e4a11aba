"""Open-data downloads: CSV (UTF-8 with BOM, for Excel) and JSON of the published records, and a
Frictionless Data Package descriptor (``data/datapackage.json``, https://specs.frictionlessdata.io/).

Only allow-listed fields (:mod:`.privacy`) are written. Lists inside a CSV cell are ``;``-separated,
as in the input format. Files are byte-deterministic for the same data (sorted rows, fixed key order).

The bytes are those of :func:`csv.writer` (excel dialect, CRLF) and of ``json.JSONEncoder(
ensure_ascii=False, separators=(", ", ": "))`` with one record per line, but the files are written
line by line from memoised encoded pieces (a province has ~400,000 result rows and the downloads
are rebuilt on every build); ``tests/test_portal_opendata.py`` keeps the straightforward encoder
(a dict per row) and checks that both give the same bytes, on hostile strings too.

*Delta builds* (only result rows appended, :class:`.views.Delta`) do not encode the downloads again:
:func:`write` splices them. ``results.*`` are ordered by task: each task's rows are one *block*;
``enterprises.*`` are ordered by code: every :data:`CHUNK` rows are one block (a new target goes into
the block whose range holds its code). A delta build makes again only the blocks of the changed rows'
tasks and targets (a task new to the files is inserted in order), and has the kernel copy the rest of
the previous file into the new one (``Renderer.spliced``: ``os.copy_file_range``); ``items.*`` and
``tasks.*`` are kept as they are (``Renderer.keep``); ``datapackage.json`` is made from the recorded
sizes and digests. What it needs is the derived state every build records (generator ``derived``,
kept in ``state.bin``), ``{"version": 1, "files": {path: [bytes, manifest key, sha256 (CSV only)]},
"results": layout, "enterprises": layout, "digest": sha256 of the rest}``, where a layout is
``{"keys": [each block's first key], "csv": [offsets], "json": [offsets]}``: each block's start in
the file and, last, where the last block ends (≈ 75 KiB of JSON at 2,000 tasks and 150,000 inspected
targets). It is used only when its digest holds, the manifest rows and the previous files (size, mtime)
are those it records, and every block of the previous files starts with a row of its key where the
layout says (the header and the end too); otherwise the files are made whole (:func:`files`), with the
same bytes. ``tests/test_portal_opendata_delta.py`` compares spliced and whole files.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import mmap
import os
from bisect import bisect_right
from itertools import accumulate
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
    lines.insert(0, _header(fields))
    lines[-1] += b"\r\n"
    return b"\r\n".join(lines)


def _header(fields: list[str]) -> bytes:
    """A CSV file's first line without its CRLF: the BOM and the field names."""
    return b"\xef\xbb\xbf" + ",".join(_cell(f) for f in fields).encode("utf-8")


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


def result_lines(ds: model.Dataset, ix: Index, enc: _Encoded,
                 tasks: list[str] | None = None) -> tuple[list[bytes], list[bytes], list[int]]:
    """One record per item of every version of every result of *tasks* (default: every task with
    results; sorted), by (task, target, department, version), with the fields of
    :data:`RESULT_FIELDS` in their order (the tests compare with a dict per row); and the index of
    each task's first record.

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
    starts: list[int] = []
    csv_line, json_line = csv_lines.append, json_lines.append
    join = b"".join
    by_target_department = attrgetter("target", "department")
    for task in sorted(ix.by_task) if tasks is None else tasks:
        starts.append(len(csv_lines))
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
    return csv_lines, json_lines, starts


def enterprise_lines(ix: Index, enc: _Encoded, codes: list[str]) -> tuple[list[bytes], list[bytes]]:
    """The public fields of the inspected targets *codes* (sorted: every one, by code, in the files)."""
    fields = list(ENTERPRISE_FIELDS)
    return _lines(fields, ([t[k] for k in fields] for t in map(ix.target_pub, codes)), enc)


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


def _package(ds: model.Dataset, csv_meta: dict[str, tuple[int, str]]) -> bytes:
    """``data/datapackage.json`` for CSV files of *csv_meta* (resource name → (bytes, sha256 hex))."""
    resources = []
    for name, title, fields in RESOURCES:
        size, sha256 = csv_meta[name]
        resources.append({
            "name": name,
            "title": title,
            "path": f"{name}.csv",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8-sig",
            "bytes": size,
            "hash": "sha256:" + sha256,
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
    return (json.dumps(package, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


class Downloads(dict):
    """``{relative path: bytes}`` of every download, the descriptor last; ``sha256``: each CSV file's
    digest (hex); ``layouts``: each spliceable resource's :func:`_layout` (None when it has no rows)."""

    sha256: dict[str, str]
    layouts: dict[str, dict | None]


def files(ds: model.Dataset, ix: Index) -> Downloads:
    """Every download, made the whole way (see :class:`Downloads`)."""
    enc = _Encoded()
    tasks, codes = sorted(ix.by_task), sorted(ix.by_target)
    res_csv, res_json, starts = result_lines(ds, ix, enc, tasks)
    ent_csv, ent_json = enterprise_lines(ix, enc, codes)
    layouts = {
        "results": _layout(tasks, starts, res_csv, res_json, list(RESULT_FIELDS)),
        "enterprises": _layout(codes[::CHUNK], range(0, len(codes), CHUNK), ent_csv, ent_json,
                               list(ENTERPRISE_FIELDS)),
    }
    lines = {"items": item_lines(ds, enc), "tasks": task_lines(ds, enc), "results": (res_csv, res_json),
             "enterprises": (ent_csv, ent_json)}
    del res_csv, res_json, ent_csv, ent_json
    out = Downloads()
    out.sha256, out.layouts = {}, layouts
    csv_meta = {}
    for name, _, fields in RESOURCES:
        csv_lines, json_lines = lines.pop(name)
        data = _csv(list(fields), csv_lines)
        out[f"data/{name}.csv"] = data
        out[f"data/{name}.json"] = _json(json_lines)
        out.sha256[f"data/{name}.csv"] = sha256 = hashlib.sha256(data).hexdigest()
        csv_meta[name] = len(data), sha256
    out["data/datapackage.json"] = _package(ds, csv_meta)
    return out


# --------------------------------------------------------------------------- delta builds

STATE_VERSION = 1
CHUNK = 1024  # enterprise rows per block of the enterprises' layout
SPLICED = ("results", "enterprises")  # the resources a delta build splices; items and tasks are kept
_SEP = {"csv": b"", "json": b",\n"}  # between two blocks (a CSV block ends with its rows' CRLF)


def _layout(keys: list[str], starts, csv_lines: list[bytes], json_lines: list[bytes],
            fields: list[str]) -> dict | None:
    """Where each non-empty block starts in the CSV and JSON files made of *csv_lines* and
    *json_lines* (block *i* = the lines from ``starts[i]``, keyed by ``keys[i]``; the first field of
    its first row), and where the last one ends: ``{"keys": [...], "csv": [...], "json": [...]}``
    (offsets one longer than keys). None for no rows."""
    n = len(csv_lines)
    bounds = list(starts) + [n]
    ks, ss = [], []
    for k, a, b in zip(keys, bounds, bounds[1:]):
        if b > a:
            ks.append(k)
            ss.append(a)
    if not ks:
        return None
    head = len(_header(fields)) + 2
    cum_c = list(accumulate(map(len, csv_lines), initial=0))
    cum_j = list(accumulate(map(len, json_lines), initial=0))
    return {"keys": ks,
            "csv": [head + cum_c[j] + 2 * j for j in ss] + [head + cum_c[n] + 2 * n],
            "json": [2 + cum_j[j] + 2 * j for j in ss] + [cum_j[n] + 2 * n]}


class _Stale(Exception):
    """The previous files (or the state) are not as a delta build needs them: make them whole."""


def _valid_layout(lay) -> bool:
    if not isinstance(lay, dict) or lay.keys() != {"keys", "csv", "json"}:
        return False
    keys, n = lay["keys"], len(lay["keys"]) if isinstance(lay["keys"], list) else -1
    if n < 1 or not all(isinstance(k, str) for k in keys) or any(a >= b for a, b in zip(keys, keys[1:])):
        return False
    for kind in ("csv", "json"):
        offs = lay[kind]
        if not isinstance(offs, list) or len(offs) != n + 1 or not all(type(o) is int for o in offs) \
                or offs[0] < 0 or any(a >= b for a, b in zip(offs, offs[1:])):
            return False
    return True


def _valid_state(state) -> bool:
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION or state.get("digest") != _digest(state):
        return False
    meta = state.get("files")
    if not isinstance(meta, dict) or set(meta) != {f"data/{n}.{k}" for n, _, _ in RESOURCES for k in ("csv", "json")}:
        return False
    for rel, m in meta.items():
        width = 3 if rel.endswith(".csv") else 2
        if not isinstance(m, list) or len(m) != width or type(m[0]) is not int or not all(
                isinstance(x, str) for x in m[1:]):
            return False
    return all(_valid_layout(state.get(name)) for name in SPLICED)


def _blocks(csv_lines: list[bytes], json_lines: list[bytes], starts: list[int],
            keys: list[str]) -> dict[str, tuple[bytes, bytes]]:
    """key → (CSV block, JSON block) of the lines from each start (empty blocks left out)."""
    out = {}
    bounds = starts + [len(csv_lines)]
    for k, a, b in zip(keys, bounds, bounds[1:]):
        if b > a:
            out[k] = (b"".join([x + b"\r\n" for x in csv_lines[a:b]]), b",\n".join(json_lines[a:b]))
    return out


def _splice(offs: list[int], size: int, entries: list, sep: bytes) -> tuple[list, list[int]]:
    """How a file is made again from the previous one (*size* bytes, blocks at *offs*: their starts and
    the last one's end): the bytes before the first block, then *entries* (an int: that previous block;
    bytes: a block made now) separated by *sep*, then the bytes after the last block. Returns the pieces
    (bytes, or ``(start, end)`` of the previous file; consecutive previous blocks are one range) and the
    new offsets (each entry's start, and the end of the last)."""
    n, ls = len(offs) - 1, len(sep)
    pieces: list = [(0, offs[0])]
    pos = offs[0]
    new_offs: list[int] = []
    j, m = 0, len(entries)
    while j < m:
        e = entries[j]
        if j:
            pieces.append(sep)
            pos += ls
        if type(e) is int:
            last = e
            while j + 1 < m and type(entries[j + 1]) is int and entries[j + 1] == last + 1:
                j += 1
                last += 1
            start, end = offs[e], (offs[last + 1] - ls if last + 1 < n else offs[n])
            shift = pos - start
            new_offs.extend(o + shift for o in offs[e:last + 1])
            pieces.append((start, end))
            pos += end - start
        else:
            new_offs.append(pos)
            pieces.append(e)
            pos += len(e)
        j += 1
    new_offs.append(pos)
    pieces.append((offs[n], size))
    merged: list = []  # adjacent ranges joined, empty pieces left out
    for p in pieces:
        if type(p) is tuple:
            if p[1] > p[0]:
                if merged and type(merged[-1]) is tuple and merged[-1][1] == p[0]:
                    merged[-1] = (merged[-1][0], p[1])
                else:
                    merged.append(p)
        elif p:
            merged.append(p)
    return merged, new_offs


def _shape(kind: str, fields: list[str]) -> tuple[bytes, bytes, bytes, bytes]:
    """A download's (bytes before the first row, bytes after the last, bytes before a block's first row
    but the first one's, a block's first bytes with ``%b`` for its key's value)."""
    if kind == "csv":
        return _header(fields) + b"\r\n", b"", b"\r\n", b"%b,"
    return b"[\n", b"\n]\n", b",\n", b"{" + _jstr(fields[0]).encode("utf-8").replace(b"%", b"%%") + b": %b, "


def _check(data, kind: str, fields: list[str], keys: list[str], offs: list[int], enc: _Encoded) -> None:
    """That the previous file *data* has the shape its layout says: its header, each block starting
    with a row of its key after a row's end, and its end (a layout that does not fit the file fails)."""
    head, end, before, prefix = _shape(kind, fields)
    col = 0 if kind == "csv" else 1
    if offs[0] != len(head) or data[:offs[0]] != head or data[offs[-1]:] != end:
        raise _Stale(f"a previous {kind} file does not start or end as recorded")
    for i, (k, o) in enumerate(zip(keys, offs)):
        p = prefix % enc[k][col]
        if data[o:o + len(p)] != p or (i and data[o - 2:o] != before):
            raise _Stale(f"a previous {kind} file has no block {k!r} at {o}")


def _spliced(prev: str, rel: str, meta: list, manifest: dict, enc: _Encoded, fields: list[str], layout: dict,
             kind: str, entries: list) -> tuple[list, str, list[int]]:
    """The file *rel* of the previous output (as the manifest and *meta* record it, with the shape of
    *layout*) made again as *entries* say (see :func:`_splice`): its pieces (ranges of the previous
    file as ``(path, offset, length)``), its SHA-256 (hex) and its new offsets."""
    row = manifest.get(rel)
    if not (isinstance(row, list) and len(row) == 3 and row[0] == meta[1] and row[1] == meta[0]):
        raise _Stale(f"{rel}: the manifest's row is not the state's")
    path = f"{prev}/{rel}"
    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        if st.st_size != row[1] or st.st_mtime_ns != row[2] or layout[kind][-1] > st.st_size or not st.st_size:
            raise _Stale(f"{rel} is not the file the manifest records")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            _check(m, kind, fields, layout["keys"], layout[kind], enc)
            pieces, offs = _splice(layout[kind], st.st_size, entries, _SEP[kind])
            h = hashlib.sha256()
            with memoryview(m) as view:
                for p in pieces:
                    h.update(view[p[0]:p[1]] if type(p) is tuple else p)
    return [(path, p[0], p[1] - p[0]) if type(p) is tuple else p for p in pieces], h.hexdigest(), offs


def _digest(state: dict) -> str:
    """SHA-256 of the state without its ``digest`` (a damaged state is not used)."""
    body = {k: v for k, v in state.items() if k != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _update(renderer, ds: model.Dataset, ix: Index, changed: set[tuple[str, str, str]],
            state: dict) -> tuple[list[dict], dict]:
    """The delta path of :func:`write` (raises :class:`_Stale` before writing anything when it cannot)."""
    prev, manifest = renderer.previous, renderer.old
    if prev is None or not _valid_state(state):
        raise _Stale("no previous output or no usable state")
    meta = {rel: list(m) for rel, m in state["files"].items()}
    enc = _Encoded()
    made: dict[str, tuple[list, list[str]]] = {}  # resource → (entries for _splice, new keys)
    # results: the blocks of the changed tasks, made again (a new task's inserted in order)
    lay = state["results"]
    tasks = sorted({k[0] for k in changed})
    index = {k: i for i, k in enumerate(lay["keys"])}
    if not index.keys() <= ix.by_task.keys() or not ix.by_task.keys() - index.keys() <= set(tasks):
        raise _Stale("the previous results' tasks are not this build's but the changed ones")
    keyset = set(changed)
    for t in tasks:  # a task not in the previous files has only changed rows
        if t not in index and any((g.task, g.target, g.department) not in keyset for g in ix.by_task[t]):
            raise _Stale(f"task {t!r} had results but no block in the previous files")
    blocks = _blocks(*result_lines(ds, ix, enc, tasks), tasks)
    order = sorted(set(index).union(blocks))
    entries = [blocks[k] if k in blocks else index[k] for k in order]
    keys = order
    if any(k in index and k not in blocks for k in tasks):
        raise _Stale("a changed task has no rows")
    made["results"] = (entries, keys)
    # enterprises: the chunks holding a changed target, made again from every inspected target in them
    lay = state["enterprises"]
    bounds = lay["keys"]
    chunks = sorted({max(0, bisect_right(bounds, k[1]) - 1) for k in changed})
    entries, keys = list(range(len(bounds))), list(bounds)
    for i in chunks:
        lo, hi = (bounds[i] if i else None), (bounds[i + 1] if i + 1 < len(bounds) else None)
        codes = sorted(c for c in ix.by_target if (lo is None or c >= lo) and (hi is None or c < hi))
        if not codes:
            raise _Stale("an enterprises chunk has no rows")
        csv_lines, json_lines = enterprise_lines(ix, enc, codes)
        entries[i] = (b"".join([x + b"\r\n" for x in csv_lines]), b",\n".join(json_lines))
        keys[i] = codes[0]
    made["enterprises"] = (entries, keys)
    out: dict[str, tuple[list, str]] = {}  # path → (pieces, sha256)
    layouts = {}
    fields = {name: list(f) for name, _, f in RESOURCES}
    for name in SPLICED:
        entries, keys = made[name]
        layouts[name] = {"keys": keys}
        for col, kind in enumerate(("csv", "json")):
            rel = f"data/{name}.{kind}"
            es = [e[col] if type(e) is tuple else e for e in entries]
            pieces, sha256, layouts[name][kind] = _spliced(prev, rel, meta[rel], manifest, enc, fields[name],
                                                           state[name], kind, es)
            out[rel] = pieces, sha256
    for rel in meta:  # the files kept as they are: the manifest must record what the state does
        row = manifest.get(rel)
        if rel not in out and not (isinstance(row, list) and row[:2] == [meta[rel][1], meta[rel][0]]):
            raise _Stale(f"{rel}: the manifest's row is not the state's")
    # nothing is written before this point
    for name, _, f in RESOURCES:
        lines = None
        for col, kind in enumerate(("csv", "json")):
            rel = f"data/{name}.{kind}"
            if rel in out:
                pieces, sha256 = out.pop(rel)
                renderer.spliced(rel, pieces, sha256)
                size = sum(len(p) if type(p) is not tuple else p[2] for p in pieces)
            elif renderer.keep(rel):
                continue
            else:  # not in the previous output as recorded (items, tasks): made again
                if lines is None:
                    lines = item_lines(ds, enc) if name == "items" else task_lines(ds, enc)
                data = _csv(list(f), list(lines[0])) if kind == "csv" else _json(list(lines[1]))
                renderer.file(rel, data)
                size, sha256 = len(data), hashlib.sha256(data).hexdigest()
            meta[rel] = [size, renderer.files[rel][0]] + ([sha256] if kind == "csv" else [])
    renderer.file("data/datapackage.json", _package(ds, {n: (meta[f"data/{n}.csv"][0], meta[f"data/{n}.csv"][2])
                                                         for n, _, _ in RESOURCES}))
    new_state = {"version": STATE_VERSION, "files": meta, **layouts}
    new_state["digest"] = _digest(new_state)
    return _listing(meta), new_state


def write(renderer, ds: model.Dataset, ix: Index, changed: set[tuple[str, str, str]] | None = None,
          state: dict | None = None) -> tuple[list[dict], dict]:
    """Write every download through *renderer* (a :class:`.render.Renderer`); returns the downloads
    page's listing and the state for the next build (see the module docstring).

    In a delta build (*changed*: the (task, target, department) keys of the changed result rows;
    *state*: the previous build's) the files are updated from the previous output when it is as
    *state* and the manifest describe it; otherwise (and on any mismatch) made whole by :func:`files`."""
    if changed is not None and state:
        try:
            return _update(renderer, ds, ix, changed, state)
        except (_Stale, OSError):
            pass
    out = files(ds, ix)
    meta = {}
    for rel, data in out.items():
        if rel in out.sha256:  # a CSV file: its digest is known (the descriptor's), not hashed again
            renderer.spliced(rel, [data], out.sha256[rel])
        else:
            renderer.file(rel, data)
        if rel != "data/datapackage.json":
            meta[rel] = [len(data), renderer.files[rel][0]] + ([out.sha256[rel]] if rel.endswith(".csv") else [])
    if not all(out.layouts.values()):  # no rows to splice into
        return _listing(meta), {}
    new_state = {"version": STATE_VERSION, "files": meta, **out.layouts}
    new_state["digest"] = _digest(new_state)
    return _listing(meta), new_state


def _listing(meta: dict[str, list]) -> list[dict]:
    """The downloads page's rows, from each file's [bytes, key, sha256 (CSV)]."""
    return [{"title": title, "csv": f"data/{name}.csv", "json": f"data/{name}.json",
             "csv_size": _size(meta[f"data/{name}.csv"][0]), "json_size": _size(meta[f"data/{name}.json"][0]),
             "sha256": meta[f"data/{name}.csv"][2]}
            for name, title, _ in RESOURCES]


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n / 1024 / 1024:.1f} MiB"
