"""``sunshine validate [DIR]``: load and check a data directory, reporting every problem at once."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter

from .. import loading, model
from ..errors import EXIT_FAILED, EXIT_OK
from ..vocabulary import TargetKind


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "validate",
        help="load and check a data directory (every problem at once)",
        description=(
            "Load a data directory (format: docs/data-format.md) and check the rules of the "
            "双随机、一公开 policy documents that can be checked on data alone. Prints a summary, then "
            "every error and warning with file, line or entry, and field. Exit status 1 when there is "
            "an error, 0 otherwise (warnings alone do not fail)."
        ),
    )
    p.add_argument("dir", nargs="?", default="data", metavar="DIR", help="the data directory (default: data)")
    p.add_argument("--json", action="store_true", help="print a machine-readable JSON report on stdout instead")
    p.add_argument("--quiet", "-q", action="store_true", help="print only the errors (no summary, no warnings)")
    p.set_defaults(func=run)


def counts(ds: model.Dataset) -> dict:
    """The figures of the summary (also in the JSON report)."""
    kinds = Counter(t.kind for t in ds.targets)
    tasks = ds.tasks()
    return {
        "departments": len(ds.jurisdiction.departments),
        "item_list_versions": len(ds.items.versions),
        "items": len(ds.items.current.items) if ds.items.versions else 0,
        "targets": len(ds.targets),
        "targets_by_kind": {k.value: kinds[k] for k in TargetKind if kinds[k]},
        "inspectors": len(ds.inspectors),
        "plans": [p.year for p in ds.plans],
        "tasks": len(tasks),
        "joint_tasks": sum(1 for t in tasks if t.joint),
        "results": len(ds.results),
        "corrections": sum(1 for r in ds.results if r.version > 1),
    }


def _problem_json(p) -> dict:
    return {"severity": p.severity, "file": p.file, "location": p.location, "field": p.field, "message": p.message}


def run(args: argparse.Namespace) -> int:
    v = loading.validate_directory(args.dir)
    errors, warnings = v.errors, v.warnings
    if args.json:
        report = {
            "path": v.path,
            "ok": not errors,
            "errors": len(errors),
            "warnings": len(warnings),
            "counts": counts(v.dataset) if v.dataset is not None else None,
            "problems": [_problem_json(p) for p in v.problems],
        }
        json.dump(report, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return EXIT_FAILED if errors else EXIT_OK
    out = sys.stdout
    if not args.quiet:
        if v.dataset is not None:
            _summary(v.dataset, v.path, out)
        else:
            print(f"数据目录 {v.path}: not loaded (fix the errors below; rule checks run once every file parses)", file=out)
        print(f"错误 errors: {len(errors)}, 警告 warnings: {len(warnings)}", file=out)
    for p in errors:
        print(f"error: {p}", file=out)
    if not args.quiet:
        for p in warnings:
            print(f"warning: {p}", file=out)
    if errors and not args.quiet:
        print("hint: each line names the file, the line or entry and the field; the format is in docs/data-format.md", file=out)
    return EXIT_FAILED if errors else EXIT_OK


def _summary(ds: model.Dataset, path: str, out) -> None:
    c = counts(ds)
    j = ds.jurisdiction
    sample = " (示例数据 sample data, fictional)" if j.sample else ""
    print(f"数据目录 {path}: {j.name}{sample}", file=out)
    rows = [
        ("部门 departments", f"{c['departments']}"),
        ("抽查事项 items", f"{c['items']} (清单版本 list versions: {c['item_list_versions']})"),
        (
            "检查对象 targets",
            f"{c['targets']:,}"
            + (
                " (" + ", ".join(f"{TargetKind(k).label} {k} {n:,}" for k, n in c["targets_by_kind"].items()) + ")"
                if c["targets_by_kind"]
                else ""
            ),
        ),
        ("执法检查人员 inspectors", f"{c['inspectors']:,}"),
        ("抽查计划 plans", f"{len(c['plans'])}" + (f" ({', '.join(map(str, c['plans']))})" if c["plans"] else "")),
        ("抽查任务 tasks", f"{c['tasks']} (联合 joint: {c['joint_tasks']})"),
        ("检查结果 results", f"{c['results']:,} (更正 corrections: {c['corrections']})"),
    ]
    width = max(_display_width(k) for k, _ in rows)
    for k, val in rows:
        print(f"  {k}{' ' * (width - _display_width(k))}  {val}", file=out)


def _display_width(s: str) -> int:
    return sum(2 if "\u2e80" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" else 1 for ch in s)
