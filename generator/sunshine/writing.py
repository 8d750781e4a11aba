"""Writers for a data directory: model records → the files of ``docs/data-format.md``.

The inverse of :mod:`sunshine.loading`, used by ``sunshine demo-data`` (:mod:`sunshine.demo`) and
``sunshine import`` (:mod:`sunshine.importing`). Output is deterministic: the same records give the
same bytes (UTF-8 without BOM, ``\\n`` line ends, YAML keys in the order of the spec, set-valued fields
sorted). Whole directories and single files are written atomically (temporary sibling, ``fsync``,
``rename``), so a failed run leaves the previous state untouched.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from fractions import Fraction
from typing import Any

import yaml

from . import model
from .vocabulary import TargetFlag, Vocab

TARGET_COLUMNS = ("code", "name", "kind", "division", "industries", "status", "flags", "credit_class", "established")
INSPECTOR_COLUMNS = (
    "id",
    "department",
    "name",
    "person_type",
    "certificate_no",
    "certificate_valid_until",
    "qualifications",
    "expertise",
    "status",
    "conflicts",
    "capacity",
)
RESULT_COLUMNS = (
    "task",
    "target",
    "department",
    "item",
    "codes",
    "sub_codes",
    "note",
    "inspection_end",
    "entered",
    "published",
    "approver_role",
    "version",
    "correction_reason",
)

# Entries of a data directory that ``sunshine demo-data --force`` keeps: they are produced by the
# ledger and key tooling, never by the generator, and a signed ledger must not vanish by accident.
PRESERVED_ENTRIES = ("ledger", "demo-keys")


# --------------------------------------------------------------------------- scalar formatting


def format_ratio(r: Fraction) -> str:
    """``Fraction(1, 20)`` → ``"5%"``; ratios that are not whole percents → ``"1/200"``."""
    pct = r * 100
    if pct.denominator == 1:
        return f"{pct.numerator}%"
    return f"{r.numerator}/{r.denominator}"


def format_date(d: date | None) -> str:
    return "" if d is None else d.isoformat()


def format_list(values: Iterable[Any]) -> str:
    """A ``;``-separated CSV cell."""
    return ";".join(str(v) for v in values)


_FLAG_ORDER = {m: i for i, m in enumerate(TargetFlag)}
_flag_cells: dict[frozenset, str] = {}


def _flags_cell(flags: frozenset) -> str:
    """Flags in vocabulary order (memoised: a directory holds few distinct combinations)."""
    cell = _flag_cells.get(flags)
    if cell is None:
        cell = _flag_cells[flags] = format_list(sorted(flags, key=_FLAG_ORDER.__getitem__))
    return cell


# --------------------------------------------------------------------------- CSV rows


def target_row(t: model.Target) -> tuple[str, ...]:
    return (
        t.code,
        t.name,
        t.kind.value,
        t.division,
        t.industries[0] if len(t.industries) == 1 else format_list(t.industries),
        t.status.value,
        _flags_cell(t.flags),
        "" if t.credit_class is None else t.credit_class.value,
        format_date(t.established),
    )


def inspector_row(i: model.Inspector) -> tuple[str, ...]:
    return (
        i.id,
        i.department,
        i.name,
        i.person_type.value,
        i.certificate_no,
        format_date(i.certificate_valid_until),
        format_list(sorted(i.qualifications)),
        format_list(sorted(i.expertise)),
        i.status.value,
        format_list(sorted(i.conflicts)),
        str(i.capacity),
    )


def result_rows(r: model.Result) -> Iterator[tuple[str, ...]]:
    """One row per item result (``docs/data-format.md``, results)."""
    for ir in r.items:
        yield (
            r.task,
            r.target,
            r.department,
            ir.item,
            format_list(ir.codes),
            format_list(ir.sub_codes),
            ir.note,
            format_date(r.inspection_end),
            format_date(r.entered),
            format_date(r.published),
            r.approver_role.value,
            str(r.version),
            r.correction_reason,
        )


def write_csv(path: str, header: tuple[str, ...], rows: Iterable[tuple[str, ...]], *, chunk: int = 50_000) -> int:
    """Write a CSV file (UTF-8, no BOM, ``\\n``) in chunks; return the number of data rows."""
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        batch: list[tuple[str, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= chunk:
                w.writerows(batch)
                count += len(batch)
                batch.clear()
        w.writerows(batch)
        count += len(batch)
        fh.flush()
        os.fsync(fh.fileno())
    return count


def csv_text(header: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


# --------------------------------------------------------------------------- YAML documents


class _Quoted(str):
    """A string always written in double quotes (ids such as "2025-01", division codes)."""


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # every entry spelled out, no &anchors
        return True


def _represent_quoted(dumper: yaml.SafeDumper, s: _Quoted) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(s), style='"')


class _Block(dict):
    """A mapping always written in block style (long values such as the site footer)."""


def _represent_block(dumper: yaml.SafeDumper, d: _Block) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", d.items(), flow_style=False)


_Dumper.add_representer(_Quoted, _represent_quoted)
_Dumper.add_representer(_Block, _represent_block)


def dump_yaml(doc: Any, *, header: str = "") -> str:
    """Deterministic YAML: spec key order, flow style for leaf collections, Unicode kept."""
    body = yaml.dump(
        doc,
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=None,
        width=200,
    )
    return header + body


def _keys(values: Iterable[Vocab]) -> list[str]:
    return [v.value for v in values]


def jurisdiction_doc(j: model.Jurisdiction) -> dict:
    s = j.settings
    settings: dict[str, Any] = {"publish_within_workdays": s.publish_within_workdays}
    if s.entry_within_workdays is not None:
        settings["entry_within_workdays"] = s.entry_within_workdays
    settings.update(
        max_checks_per_target_per_year=s.max_checks_per_target_per_year,
        plan_deadline=_Quoted(s.plan_deadline),
        joint_share_target=format_ratio(s.joint_share_target),
        credit_use_target=format_ratio(s.credit_use_target),
        min_officers_per_group=s.min_officers_per_group,
    )
    site = {k: getattr(j.site, k) for k in ("host", "organiser", "address", "phone", "icp", "police_record", "website_code")}
    return {
        "id": j.id,
        "name": j.name,
        "division_code": _Quoted(j.division_code),
        "origin": j.origin,
        "office": j.office,
        "sample": j.sample,
        "settings": settings,
        "site": _Block((k, v) for k, v in site.items() if v),
        "departments": [{"id": d.id, "name": d.name, "short_name": d.short_name} for d in j.departments],
    }


def item_doc(it: model.Item) -> dict:
    doc: dict[str, Any] = {
        "id": it.id,
        "department": it.department,
        "name": it.name,
        "class": it.item_class.value,
        "subjects": list(it.subjects),
        "target_kinds": _keys(it.target_kinds),
        "content": it.content,
        "legal_basis": it.legal_basis,
        "methods": _keys(it.methods),
    }
    if it.ratio_cap is not None:
        doc["ratio_cap"] = format_ratio(it.ratio_cap)
    if it.frequency:
        doc["frequency"] = it.frequency
    return doc


def items_doc(items: model.ItemList) -> dict:
    return {
        "versions": [
            {"version": v.version, "published": v.published, "note": v.note, "items": [item_doc(i) for i in v.items]}
            for v in items.versions
        ]
    }


def _scope_doc(s: model.Scope) -> dict:
    doc: dict[str, Any] = {}
    if s.kinds:
        doc["kinds"] = _keys(s.kinds)
    if s.divisions:
        doc["divisions"] = [_Quoted(d) for d in s.divisions]
    if s.industries:
        doc["industries"] = list(s.industries)
    doc["statuses"] = _keys(s.statuses)
    return doc


def _stratum_doc(s: model.Stratum) -> dict:
    doc: dict[str, Any] = {"id": s.id, "label": s.label}
    if s.credit_classes:
        doc["credit_classes"] = _keys(s.credit_classes)
    if s.flags:
        doc["flags"] = _keys(s.flags)
    doc["ratio"] = format_ratio(s.ratio)
    if s.minimum:
        doc["minimum"] = s.minimum
    return doc


def task_doc(t: model.Task) -> dict:
    doc: dict[str, Any] = {
        "id": _Quoted(t.id),
        "name": t.name,
        "items": list(t.items),
        "lead": t.lead,
        "participants": list(t.participants),
        "scope": _scope_doc(t.scope),
        "strata": [_stratum_doc(s) for s in t.strata],
        "notice": t.notice.value,
        "team": {
            "min_officers": t.team.min_officers,
            "per_department": t.team.per_department,
            "experts": t.team.experts,
            "qualifications": list(t.team.qualifications),
        },
        "draw_date": t.draw_date,
        "start": t.start,
        "end": t.end,
    }
    if t.description:
        doc["description"] = t.description
    return doc


def plan_doc(p: model.Plan) -> dict:
    return {
        "year": p.year,
        "title": p.title,
        "versions": [
            {
                "version": v.version,
                "filed": v.filed,
                "published": v.published,
                "note": v.note,
                "tasks": [task_doc(t) for t in v.tasks],
            }
            for v in p.versions
        ],
    }


# --------------------------------------------------------------------------- atomic writes


def write_text(path: str, text: str) -> None:
    """Write a text file (UTF-8, ``\\n``) and fsync it (the caller renames into place)."""
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def replace_file_atomically(path: str, write: Callable[[str], Any]) -> None:
    """Call ``write(tmp_path)`` for a sibling temporary file, then rename it over *path*.

    On any failure the temporary file is removed and *path* is left as it was.
    """
    tmp = f"{path}.tmp"
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    fsync_dir(os.path.dirname(os.path.abspath(path)))


def fsync_dir(path: str) -> None:
    """fsync a directory so that renames inside it are durable."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def is_nonempty_dir(path: str) -> bool:
    return os.path.isdir(path) and bool(os.listdir(path))


def write_directory_atomically(out: str, fill: Callable[[str], Any], *, force: bool) -> Any:
    """Build a data directory with ``fill(tmp_dir)`` in ``<out>.tmp``, then move it to *out*.

    *out* must not exist or be empty unless *force*; with *force* it is replaced, except the
    entries in :data:`PRESERVED_ENTRIES` (the ledger and demo keys), which are moved into the new
    directory. A failure inside *fill* leaves *out* untouched and removes the temporary directory.
    Returns what *fill* returns. Raises :class:`FileExistsError` for a non-empty *out* without *force*.
    """
    out = os.path.abspath(out)
    if os.path.exists(out) and not os.path.isdir(out):
        raise NotADirectoryError(out)
    if is_nonempty_dir(out) and not force:
        raise FileExistsError(out)
    tmp = out + ".tmp"
    if os.path.exists(tmp):  # leftover of an interrupted run: ours by name
        shutil.rmtree(tmp)
    os.makedirs(tmp)
    try:
        result = fill(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_dir(tmp)
    if os.path.isdir(out):
        for name in PRESERVED_ENTRIES:
            src = os.path.join(out, name)
            if os.path.exists(src) and not os.path.exists(os.path.join(tmp, name)):
                os.rename(src, os.path.join(tmp, name))
        old = out + ".old"
        if os.path.exists(old):
            shutil.rmtree(old)
        os.rename(out, old)
        os.rename(tmp, out)
        shutil.rmtree(old)
    else:
        os.rename(tmp, out)
    fsync_dir(os.path.dirname(out))
    return result
